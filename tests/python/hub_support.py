"""Helpers for the JupyterHub tests: free loopback ports, HTTP calls with a Hub token,
a fake Hub REST API, synthetic submissions, and the grader service as a subprocess."""

import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]


def target_dir() -> Path:
    return Path(os.environ.get("MLSYS_TARGET_DIR", ROOT / "target" / "debug"))


def grader_binary() -> Path:
    return target_dir() / "mlsys-grader"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# No proxy for loopback calls, whatever the environment says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(method: str, url: str, token: Optional[str] = None, body: Optional[bytes] = None,
         timeout: float = 30) -> Tuple[int, bytes, Dict[str, str]]:
    """One HTTP request; returns (status, body, headers) for any status."""
    request = urllib.request.Request(url, data=body, method=method)
    if token is not None:
        request.add_header("Authorization", f"token {token}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def call_json(method: str, url: str, token: Optional[str] = None, payload=None) -> Tuple[int, dict]:
    body = None if payload is None else json.dumps(payload).encode()
    status, raw, _ = call(method, url, token, body)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, {"raw": raw.decode(errors="replace")}


def wait_until(check, timeout: float, what: str, interval: float = 0.2):
    """Polls `check()` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except OSError as error:
            last = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


ACCESS = "access:services!service=mlsys-grader"


class FakeHub:
    """A loopback Hub REST API: `GET /hub/api/user` answers for known tokens (403 otherwise),
    each token with access to the grader service."""

    def __init__(self, users: Dict[str, Tuple[str, List[str]]]):
        self.users = users  # token -> (name, groups)
        self.calls = 0
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hub.calls += 1
                token = self.headers.get("Authorization", "").removeprefix("token ")
                known = hub.users.get(token)
                if self.path != "/hub/api/user" or known is None:
                    self.send_response(403)
                    self.end_headers()
                    return
                name, groups = known
                body = json.dumps({"name": name, "admin": False, "groups": groups,
                                   "scopes": [ACCESS]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 drops SYNs under load (1 s retransmits)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.api_url = f"http://127.0.0.1:{self.server.server_address[1]}/hub/api"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def synth(out: Path, submissions: int, students: int) -> List[Path]:
    """Valid synthetic submissions written by `mlsys-grader synth`."""
    subprocess.run(
        [str(grader_binary()), "synth", "--out", str(out), "--submissions", str(submissions),
         "--students", str(students), "--events", "20"],
        check=True, capture_output=True,
    )
    return sorted(out.rglob("*.json"))


class Service:
    """`mlsys-grader serve` started directly (no Hub), for the load test."""

    def __init__(self, db: Path, hub_api_url: str, log: Path, *extra: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/services/mlsys-grader"
        env = dict(os.environ, JUPYTERHUB_API_URL=hub_api_url,
                   JUPYTERHUB_SERVICE_URL=f"http://127.0.0.1:{self.port}",
                   JUPYTERHUB_SERVICE_PREFIX="/services/mlsys-grader/")
        env.pop("JUPYTERHUB_API_TOKEN", None)
        self.log = open(log, "wb")
        self.proc = subprocess.Popen([str(grader_binary()), "--db", str(db), "serve", *extra],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: call("GET", f"{self.url}/health")[0] == 200, 30, "the grader service")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
