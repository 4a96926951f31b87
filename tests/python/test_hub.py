"""The grader as a JupyterHub service, against a real JupyterHub (6.1.1) with
configurable-http-proxy, all on loopback, started and stopped here.

Hub users: students `ada` and `grace`, instructor `prof` (in the `instructors` group). The Hub
is configured by deploy/jupyterhub_config.py (DummyAuthenticator, SimpleLocalProcessSpawner)
plus a test driver service with the admin role. Each student's single-user server is started
through the Hub API; the lab notebook's cells run in an `mlsys` kernel of that server (over
the server's websocket API), so `%submit` sees exactly the environment the Hub gives it:
JUPYTERHUB_API_TOKEN of the server, MLSYS_GRADER_URL from the spawner environment."""

import asyncio
import csv
import datetime
import getpass
import io
import json
import os
import secrets
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from hub_support import ROOT, call, call_json, free_port, grader_binary, synth, wait_until

RECEIPT = "application/vnd.mlsys.receipt.v1+json"
STUDENTS = ("ada", "grace")
# Students of the witness tests (Hub users too; they work the lab only in those tests).
WITNESSED = ("lin", "max")
INSTRUCTOR = "prof"
LAB = [
    "%context distributed_fs",
    "%predict act1 B",
    "%io --workers 4",
    "%io --pattern prefetch --workers 8",
    "%reveal act1",
    "%reflect act1 B",
    "%predict act2 B",
    "%mds --gpus 4096 --workers 8",
    "%mds --layout shards --mds 2",
    "%reveal act2",
    "%reflect act2 C",
    "%ledger save",
    "%submit",
]


# `mlsys-grader serve` flags of the test Hub's service: short waits, so the tests of them are
# quick; every test request comes from one client (this process, through the Hub's proxy), so
# its budget of refused tokens is raised.
GRADER_FLAGS = {"identity-ttl": 2, "hub-timeout": 3, "header-timeout": 3, "busy-wait-ms": 1000,
                "auth-failures-burst": 1000}


def descendants(pid: int) -> list:
    """Every process below `pid` (from /proc), children first."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Hub:
    """A JupyterHub process with the course config, and handles to its APIs (tools/bench-hub
    starts one too, with its own students and service flags)."""

    def __init__(self, tmp: Path, students=STUDENTS + WITNESSED, grader_flags=GRADER_FLAGS):
        chp = subprocess.run([str(ROOT / "tools" / "setup-hubtools")], check=True,
                             capture_output=True, text=True).stdout.strip()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.base}/hub/api"
        self.grader = f"{self.base}/services/mlsys-grader"
        self.driver_token = secrets.token_hex(16)
        self.course = tmp / "course"
        self.grader_port = free_port()
        self.grader_direct = f"http://127.0.0.1:{self.grader_port}/services/mlsys-grader"
        self.grader_db = self.course / "grader" / "grades.sqlite"
        self.password = secrets.token_hex(8)  # every user's, at the Hub's login page
        overlay = tmp / "hub_test_config.py"
        overlay.write_text(
            "c = get_config()\n"
            f"load_subconfig({str(ROOT / 'deploy' / 'jupyterhub_config.py')!r})\n"
            "c.JupyterHub.services = c.JupyterHub.services + "
            f"[{{'name': 'test-driver', 'api_token': {self.driver_token!r}}}]\n"
            "c.JupyterHub.load_roles = c.JupyterHub.load_roles + "
            "[{'name': 'admin', 'services': ['test-driver']}]\n"
        )
        venv_bin = Path(sys.executable).parent
        env = dict(
            os.environ,
            PATH=f"{venv_bin}:{os.environ.get('PATH', '')}",
            MLSYS_AUTH="dummy",
            MLSYS_DUMMY_PASSWORD=self.password,
            MLSYS_SPAWNER="simple",
            MLSYS_COURSE_DIR=str(self.course),
            MLSYS_HUB_PORT=str(self.port),
            MLSYS_HUB_API_PORT=str(free_port()),
            MLSYS_PROXY_API_PORT=str(free_port()),
            MLSYS_GRADER_PORT=str(self.grader_port),
            MLSYS_GRADER_BIN=str(grader_binary()),
            MLSYS_CHP=chp,
            MLSYS_STUDENTS=",".join(students),
            MLSYS_INSTRUCTORS=INSTRUCTOR,
            MLSYS_JUPYTER_PATH=os.environ.get("JUPYTER_PATH", ""),
            # The service as the Hub's own user (no dedicated user on a test machine), with
            # short timeouts so the tests of them are quick.
            MLSYS_GRADER_USER=getpass.getuser(),
            MLSYS_GRADER_ARGS=" ".join(f"--{flag} {value}" for flag, value in grader_flags.items()),
        )
        for name in ("JUPYTERHUB_API_TOKEN", "MLSYS_GRADER_URL", "MLSYS_EXCHANGE", "MLSYS_HOME"):
            env.pop(name, None)
        self.log_path = tmp / "jupyterhub.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(venv_bin / "jupyterhub"), "-f", str(overlay)],
            cwd=tmp, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: self.alive() and call("GET", f"{self.grader}/health")[0] == 200,
                       180, "JupyterHub and the grader service")
        except AssertionError:
            self.stop()
            raise AssertionError(self.tail())

    def alive(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"jupyterhub exited:\n{self.tail()}")
        return True

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def admin(self, method: str, path: str, payload=None):
        return call_json(method, f"{self.api}{path}", self.driver_token, payload)

    def token_for(self, user: str, **request) -> str:
        return self.token_model(user, **request)["token"]

    def token_model(self, user: str, **request) -> dict:
        """A new token of `user` (with `scopes=[...]` if given): the Hub's token model."""
        request = {"note": "test", "expires_in": 3600, **request}
        status, body = self.admin("POST", f"/users/{user}/tokens", request)
        assert status in (200, 201), body
        return body

    def start_server(self, user: str) -> None:
        status, body = self.admin("POST", f"/users/{user}/server")
        assert status in (201, 202), body

        def ready():
            _, model = self.admin("GET", f"/users/{user}")
            server = model.get("servers", {}).get("")
            return server and server.get("ready")

        wait_until(ready, 180, f"{user}'s server", interval=0.5)

    def service_pid(self) -> int:
        [pid] = [p for p in descendants(self.proc.pid) if " serve " in cmdline(p) + " "
                 and "mlsys-grader" in cmdline(p)]
        return pid

    def stop(self) -> None:
        tree = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in tree:  # anything the Hub left behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory, mlsys_kernelspec):
    hub = Hub(tmp_path_factory.mktemp("hub"))
    yield hub
    hub.stop()
    print(f"--- end of the JupyterHub log ---\n{hub.tail()}")  # shown when a test failed


async def run_cells(base: str, user: str, token: str, cells: list) -> list:
    """Runs `cells` in a new `mlsys` kernel of `user`'s server; returns each cell's outputs."""
    server = f"{base}/user/{user}"
    status, kernel = call_json("POST", f"{server}/api/kernels", token, {"name": "mlsys"})
    assert status == 201, kernel
    ws_url = f"ws{server[4:]}/api/kernels/{kernel['id']}/channels"
    socket = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}))
    session = uuid.uuid4().hex
    results = []
    try:
        for code in cells:
            msg_id = uuid.uuid4().hex
            socket.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": session,
                           "username": user, "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
            }))
            outputs, replied, idle = [], None, False
            while replied is None or not idle:
                raw = await asyncio.wait_for(socket.read_message(), 120)
                assert raw is not None, "the kernel websocket closed"
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["header"]["msg_type"]
                if kind == "execute_reply":
                    replied = msg["content"]
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
                elif kind in ("display_data", "execute_result", "stream", "error"):
                    outputs.append(dict(msg["content"], output_type=kind))
            assert replied["status"] == "ok", (code, replied, outputs)
            results.append(outputs)
    finally:
        socket.close()
        call("DELETE", f"{server}/api/kernels/{kernel['id']}", token)
    return results


def receipt_of(outputs: list) -> dict:
    [receipt] = [o["data"][RECEIPT] for o in outputs if RECEIPT in o.get("data", {})]
    return receipt


def test_students_submit_through_the_hub_and_the_instructor_exports_them(hub) -> None:
    tokens = {user: hub.token_for(user) for user in (*STUDENTS, INSTRUCTOR)}
    receipts = {}
    for user in STUDENTS:
        hub.start_server(user)
        outputs = asyncio.run(run_cells(hub.base, user, tokens[user], LAB))
        receipts[user] = receipt_of(outputs[-1])
        text = "".join(o.get("data", {}).get("text/plain", "") for o in outputs[-1])
        assert f"via        grader service {hub.grader}/api/submissions (as {user})" in text, text
    for user, receipt in receipts.items():
        assert receipt["via"] == "service" and receipt["student"] == user, receipt
        assert receipt["file"] is None and receipt["stored_at"] == f"{hub.grader}/api/submissions"
        assert receipt["missing"] == []
    # Nothing went to the exchange directory: the service took both.
    assert list((hub.course / "exchange").iterdir()) == []

    # The instructor scores and exports: both students under their Hub names.
    prof = tokens[INSTRUCTOR]
    status, scored = call_json("POST", f"{hub.grader}/api/score", prof)
    assert status == 200 and "scored 2 submissions of 2 students" in scored["summary"], scored
    status, raw, headers = call("GET", f"{hub.grader}/api/export?format=csv", prof)
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert sorted(r["student"] for r in rows) == sorted(STUDENTS), rows
    assert {r["submission_id"] for r in rows} == {r["submission_id"] for r in receipts.values()}
    for fmt in ("canvas", "json"):
        status, body, _ = call("GET", f"{hub.grader}/api/export?format={fmt}", prof)
        assert status == 200 and b"grace" in body, (fmt, body[:300])
    status, raw, _ = call("GET", f"{hub.grader}/api/stats", prof)
    assert status == 200 and raw

    # Each student reads their own record; another's is forbidden; scores wait for release.
    ada, grace = tokens["ada"], tokens["grace"]
    status, own = call_json("GET", f"{hub.grader}/api/students/ada", ada)
    assert status == 200 and [s["submission_id"] for s in own["submissions"]] == [
        receipts["ada"]["submission_id"]]
    assert "grade" not in own and own["scores_released"] is False
    assert call_json("GET", f"{hub.grader}/api/students/grace", ada)[0] == 403
    assert call_json("GET", f"{hub.grader}/api/students/ada", grace)[0] == 403
    assert call_json("PUT", f"{hub.grader}/api/release", ada, {"released": True})[0] == 403
    assert call_json("PUT", f"{hub.grader}/api/release", prof, {"released": True})[0] == 200
    status, own = call_json("GET", f"{hub.grader}/api/students/ada", ada)
    assert status == 200 and own["grade"]["student"] == "ada", own
    assert own["grade"]["submission_id"] == receipts["ada"]["submission_id"]

    # Students cannot list, score or export; a forged token is refused; no token is 401.
    for method, path in (("GET", "/api/submissions"), ("POST", "/api/score"),
                         ("GET", "/api/export?format=csv"), ("GET", "/api/stats")):
        assert call_json(method, f"{hub.grader}{path}", ada)[0] == 403, path
    forged = secrets.token_hex(16)
    status, body = call_json("GET", f"{hub.grader}/api/students/ada", forged)
    assert status == 403 and body["error"] == "bad_token", body
    status, body = call_json("POST", f"{hub.grader}/api/submissions", forged, {"student": "ada"})
    assert status == 403
    status, body, headers = call("GET", f"{hub.grader}/api/whoami")
    assert status == 401 and headers.get("www-authenticate") == "token"
    assert call_json("GET", f"{hub.grader}/api/whoami", prof) == (
        200, {"name": INSTRUCTOR, "instructor": True})

    # A payload naming someone else is stored under the sender's Hub name.
    [spoof] = synth(hub.course / "spoof", 1, 1)
    claimed = json.loads(spoof.read_text())
    claimed["student"] = "grace"
    status, receipt = call_json("POST", f"{hub.grader}/api/submissions", ada, claimed)
    assert status == 201 and receipt["student"] == "ada" and receipt["payload_student"] == "grace"
    status, own = call_json("GET", f"{hub.grader}/api/students/grace", grace)
    assert claimed["id"] not in [s["submission_id"] for s in own["submissions"]]

    # A bad payload: a JSON error, and a quarantine entry in the sender's record.
    status, body, _ = call("POST", f"{hub.grader}/api/submissions", grace, b'{"schema_version": 1,')
    error = json.loads(body)
    assert status == 422 and error["reason"] == "malformed_json" and error["quarantined"], error
    status, own = call_json("GET", f"{hub.grader}/api/students/grace", grace)
    assert [q["reason"] for q in own["quarantined"]] == ["malformed_json"], own
    status, body, _ = call("POST", f"{hub.grader}/api/submissions", grace, b"x" * (3 << 20))
    assert status == 413 and json.loads(body)["error"] == "too_large"


def test_a_killed_service_is_restarted_and_loses_no_acknowledged_submission(hub) -> None:
    token, prof = hub.token_for("grace"), hub.token_for(INSTRUCTOR)
    files = synth(hub.course / "restart", 24, 6)
    acknowledged, refused, killed_at = {}, 0, None
    old_pid = hub.service_pid()
    for i, path in enumerate(files):
        if i == 8:
            os.kill(old_pid, signal.SIGKILL)
            killed_at = time.monotonic()
        body = path.read_bytes()
        while True:  # resend the same bytes until the service answers (as %submit retries)
            status, raw, _ = call("POST", f"{hub.grader}/api/submissions", token, body, timeout=10)
            if status in (200, 201):
                receipt = json.loads(raw)
                acknowledged[receipt["submission_id"]] = receipt["sha256"]
                break
            refused += 1
            # The Hub polls its services every 30 s (plus jitter) and restarts a dead one.
            assert time.monotonic() - (killed_at or time.monotonic()) < 150, (status, raw[:200])
            time.sleep(0.5)
    new_pid = hub.service_pid()
    assert new_pid != old_pid and refused > 0, "the service was not restarted by the Hub"
    assert len(acknowledged) == len(files)
    status, listing = call_json("GET", f"{hub.grader}/api/submissions", prof)
    assert status == 200
    stored = [(s["submission_id"], s["sha256"]) for s in listing["submissions"] if s["student"] == "grace"]
    for sid, sha in acknowledged.items():
        assert stored.count((sid, sha)) == 1, sid
    print(f"\nhub-restart: {refused} requests refused while the Hub restarted the service "
          f"({time.monotonic() - killed_at:.1f} s after SIGKILL to the last submission)")


def local_hand_in(hub: Hub, user: str, token: str, home: str) -> dict:
    """Works a little of the lab in an `mlsys` kernel of this process, handing in to the Hub's
    grader service with `token` (exchange: the course's), under umask 077; returns the receipt."""
    env = dict(MLSYS_GRADER_URL=hub.grader, JUPYTERHUB_API_TOKEN=token, JUPYTERHUB_USER=user,
               MLSYS_EXCHANGE=str(hub.course / "exchange"), MLSYS_HOME=str(hub.course / home))
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in ("%predict act1 A", "%submit")]
    old, umask = os.environ.copy(), os.umask(0o077)
    os.environ.update(env)
    try:
        NotebookClient(nb, kernel_name="mlsys", timeout=120).execute()
    finally:
        os.umask(umask)
        os.environ.clear()
        os.environ.update(old)
    return receipt_of(nb.cells[-1].outputs)


def test_a_kernel_falls_back_to_the_exchange_when_the_service_refuses(hub) -> None:
    """A student whose token the service cannot verify still hands in, to the exchange,
    and the receipt says why; the file is readable by the grader whatever the umask."""
    receipt = local_hand_in(hub, "ada", "forged", "fallback-home")
    assert receipt["via"] == "exchange"
    assert "HTTP 403" in receipt["via_detail"] and "does not accept" in receipt["via_detail"]
    file = Path(receipt["file"])
    assert file.parent == hub.course / "exchange" and file.exists()
    assert stat.S_IMODE(file.stat().st_mode) == 0o644


def test_a_kernel_retries_503s_then_hands_in_to_the_exchange_while_the_hub_is_down(hub) -> None:
    token = hub.token_for("grace")  # not yet seen by the service
    os.kill(hub.proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        receipt = local_hand_in(hub, "grace", token, "hub-down-home")
        elapsed = time.monotonic() - started
    finally:
        os.kill(hub.proc.pid, signal.SIGCONT)
    assert receipt["via"] == "exchange", receipt
    detail = receipt["via_detail"]
    assert "HTTP 503" in detail and "cannot verify the token with JupyterHub" in detail, detail
    # Three attempts, each waiting for the Hub, with the service's Retry-After between them.
    assert elapsed > 3 * GRADER_FLAGS["hub-timeout"] + 2 * 2, elapsed
    assert Path(receipt["file"]).exists()


def test_a_kernel_retries_a_busy_service_and_hands_in_to_it(hub) -> None:
    token = hub.token_for("ada")
    busy_line = b"the database is busy"
    seen = hub.log_path.read_bytes().count(busy_line)
    holder = sqlite3.connect(hub.grader_db, timeout=10, isolation_level=None,
                             check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")

    def release_after_the_first_refusal():
        wait_until(lambda: hub.log_path.read_bytes().count(busy_line) > seen, 60,
                   "a hand-in refused as busy")
        holder.execute("ROLLBACK")

    releaser = threading.Thread(target=release_after_the_first_refusal)
    releaser.start()
    try:
        receipt = local_hand_in(hub, "ada", token, "busy-home")
    finally:
        releaser.join()
        holder.close()
    assert receipt["via"] == "service", receipt
    assert hub.log_path.read_bytes().count(busy_line) > seen


def lower_keys(headers: dict) -> dict:
    return {name.lower(): value for name, value in headers.items()}


def test_a_token_without_access_to_the_grader_service_is_refused(hub) -> None:
    """A token scoped to a user's server only (which code in that server can capture, e.g. when
    an instructor opens a student's server) is no identity for the grader, an instructor's
    neither; a token with the user's own scopes (which the config extends with the service) is."""
    for user in ("ada", INSTRUCTOR):
        server_only = hub.token_for(user, scopes=[f"access:servers!server={user}/"])
        status, body = call_json("GET", f"{hub.grader}/api/whoami", server_only)
        assert status == 403 and body["error"] == "no_access", body
        assert "access:services!service=mlsys-grader" in body["message"], body
    assert call_json("GET", f"{hub.grader}/api/whoami", hub.token_for(INSTRUCTOR)) == (
        200, {"name": INSTRUCTOR, "instructor": True})


def test_a_revoked_token_or_a_removed_instructor_loses_access_promptly(hub) -> None:
    ttl = GRADER_FLAGS["identity-ttl"]
    whoami = f"{hub.grader}/api/whoami"
    model = hub.token_model("ada")
    assert call_json("GET", whoami, model["token"])[0] == 200
    assert hub.admin("DELETE", f"/users/ada/tokens/{model['id']}")[0] == 204
    # A student's token is trusted for the identity TTL at most.
    wait_until(lambda: call_json("GET", whoami, model["token"])[0] == 403, ttl + 2,
               "the revoked token to be refused")
    # An instructor's rights are asked of the Hub at every request.
    prof = hub.token_for(INSTRUCTOR)
    listing = f"{hub.grader}/api/submissions"
    assert call_json("GET", listing, prof)[0] == 200
    assert hub.admin("DELETE", "/groups/instructors/users", {"users": [INSTRUCTOR]})[0] == 200
    try:
        status, body = call_json("GET", listing, prof)
        assert status == 403 and body["error"] == "not_instructor", body
        status, body = call_json("GET", f"{hub.grader}/api/students/ada", prof)
        assert status == 403 and body["error"] == "not_yours", body
    finally:
        assert hub.admin("POST", "/groups/instructors/users", {"users": [INSTRUCTOR]})[0] == 200
    assert call_json("GET", listing, prof)[0] == 200


def test_the_service_answers_503_with_retry_after_while_the_hub_api_is_down(hub) -> None:
    fresh = hub.token_for("grace")  # never sent: the service must ask the Hub
    whoami = f"{hub.grader}/api/whoami"
    os.kill(hub.proc.pid, signal.SIGSTOP)  # the Hub hangs; its proxy still routes
    try:
        started = time.monotonic()
        status, raw, headers = call("GET", whoami, fresh, timeout=30)
        elapsed = time.monotonic() - started
        error = json.loads(raw)
        assert status == 503 and error["error"] == "hub_unavailable", error
        assert int(lower_keys(headers)["retry-after"]) == error["retry_after_seconds"] >= 1
        assert elapsed < GRADER_FLAGS["hub-timeout"] + 3, elapsed
        assert call("GET", f"{hub.grader}/health")[0] == 200
    finally:
        os.kill(hub.proc.pid, signal.SIGCONT)
    wait_until(lambda: call_json("GET", whoami, fresh)[0] == 200, 30, "the Hub to answer again")


def test_a_hand_in_while_the_database_is_busy_is_answered_503_then_taken(hub) -> None:
    token = hub.token_for("grace")
    [path] = synth(hub.course / "busy", 1, 1)
    body = path.read_bytes()
    submissions = f"{hub.grader}/api/submissions"
    holder = sqlite3.connect(hub.grader_db, timeout=10, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as `mlsys-grader ingest` or `score` would
    try:
        status, raw, headers = call("POST", submissions, token, body)
        error = json.loads(raw)
        assert status == 503 and error["error"] == "busy", error
        assert int(lower_keys(headers)["retry-after"]) >= 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    status, raw, _ = call("POST", submissions, token, body)
    assert status == 201, raw


def closed_by_peer(sock: socket.socket, deadline: float) -> bool:
    """Reads until the peer closes (True) or the deadline passes (False)."""
    while True:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def test_slow_and_idle_connections_are_closed_and_health_still_answers(hub) -> None:
    """300 clients that never finish their headers (straight to the service's port, as anyone
    on the host can), and one that idles after a request."""
    limit = GRADER_FLAGS["header-timeout"]
    half_open = []
    try:
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", hub.grader_port), timeout=5)
            sock.sendall(b"POST /services/mlsys-grader/api/submissions HTTP/1.1\r\nHost: x\r\n")
            half_open.append(sock)
        opened = time.monotonic()
        idle = socket.create_connection(("127.0.0.1", hub.grader_port), timeout=5)
        half_open.append(idle)
        idle.sendall(b"GET /services/mlsys-grader/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(65536).startswith(b"HTTP/1.1 200")
        for url in (f"{hub.grader}/health", f"{hub.grader_direct}/health"):
            started = time.monotonic()
            assert call("GET", url, timeout=5)[0] == 200
            assert time.monotonic() - started < 2
        deadline = opened + limit + 10
        still_open = [s for s in half_open if not closed_by_peer(s, deadline)]
        assert not still_open, f"{len(still_open)} of {len(half_open)} connections still open"
    finally:
        for sock in half_open:
            sock.close()


def test_grades_cannot_be_read_by_other_users_and_the_exchange_not_listed(hub) -> None:
    mode = lambda path: stat.S_IMODE(os.stat(path).st_mode)  # noqa: E731
    assert mode(hub.course) == 0o711, oct(mode(hub.course))
    assert mode(hub.grader_db.parent) == 0o700, oct(mode(hub.grader_db.parent))
    files = [p for p in hub.grader_db.parent.iterdir() if p.name.startswith(hub.grader_db.name)]
    assert hub.grader_db in files
    for path in files:
        assert mode(path) & 0o077 == 0, (path, oct(mode(path)))
    # The service runs as the Hub's user here: the exchange is write-only for others.
    assert mode(hub.course / "exchange") == 0o1733


# --- The witness: what the service received as the student worked --------------------------


def journal_path(hub: Hub, user: str) -> Path:
    """The lab journal of `user`'s server (its $MLSYS_HOME is ~/.mlsys of the spawner's home)."""
    [path] = (hub.course / "homes" / user).glob("**/labs/v2_04/events.jsonl")
    return path


def journal_of(hub: Hub, user: str) -> list:
    return [json.loads(line) for line in journal_path(hub, user).read_text().splitlines()]


def witnessed(hub: Hub, user: str) -> list:
    """(event, conflict) of each event the service witnessed from `user`, in receive order."""
    db = sqlite3.connect(f"file:{hub.grader_db}?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute("SELECT event, conflict FROM witnessed_events WHERE student = ? "
                          "ORDER BY seq", (user,)).fetchall()
    finally:
        db.close()
    return [(json.loads(event), bool(conflict)) for event, conflict in rows]


def grader_cli(*args: str, db=None) -> str:
    out = subprocess.run([str(grader_binary()), "--db", str(db), *args], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, (args, out.stderr)
    return out.stdout


def set_everywhere(value, key: str, to) -> None:
    if isinstance(value, dict):
        for k in value:
            if k == key:
                value[k] = to
            else:
                set_everywhere(value[k], key, to)
    elif isinstance(value, list):
        for item in value:
            set_everywhere(item, key, to)


def backdated(at: str, days: int) -> str:
    when = datetime.datetime.fromisoformat(at.replace("Z", "+00:00")) - datetime.timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def total_with_witness_off(tmp: Path, submission: dict) -> str:
    """What `submission` scores as submitted (a fresh database, the witness off)."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "s.json").write_text(json.dumps(submission))
    db = tmp / "oracle.sqlite"
    rubric = grader_cli("rubric", db=db).replace('witness = "preferred"', 'witness = "off"')
    assert 'witness = "off"' in rubric
    (tmp / "rubric.toml").write_text(rubric)
    grader_cli("ingest", "--unverified", str(tmp / "s.json"), db=db)
    grader_cli("score", "--rubric", str(tmp / "rubric.toml"), db=db)
    [row] = list(csv.DictReader(io.StringIO(grader_cli("export", "--format", "csv", db=db))))
    return row["total"]


def service_row(hub: Hub, user: str) -> dict:
    prof = hub.token_for(INSTRUCTOR)
    status, scored = call_json("POST", f"{hub.grader}/api/score", prof)
    assert status == 200, scored
    status, raw, _ = call("GET", f"{hub.grader}/api/export?format=csv", prof)
    assert status == 200
    [row] = [r for r in csv.DictReader(io.StringIO(raw.decode())) if r["student"] == user]
    return row


def test_an_edited_log_is_graded_on_what_the_service_witnessed_and_show_names_the_mismatch(
        hub, tmp_path) -> None:
    user, token = "lin", hub.token_for("lin")
    hub.start_server(user)
    # lin works the lab honestly, with a wrong Act I prediction.
    work = [c.replace("%predict act1 B", "%predict act1 A") for c in LAB if c != "%submit"]
    asyncio.run(run_cells(hub.base, user, token, work))
    events = journal_of(hub, user)
    wait_until(lambda: len(witnessed(hub, user)) == len(events), 60, "lin's events witnessed")
    honest = [event for event, _ in witnessed(hub, user)]
    assert honest == events

    # Then edits the journal: the lock becomes the key, a run is invented, every time is set
    # two days back (the saved design's record of the prediction edited to match).
    edited = []
    for event in events:
        event = json.loads(json.dumps(event))
        event["at"] = backdated(event["at"], 2)
        if event["type"] == "prediction_locked" and event["act"] == "act1":
            event["choice"] = "B"
        set_everywhere(event, "act1_prediction", "B")
        set_everywhere(event, "act1_correct", True)
        edited.append(event)
        if event["type"] == "instrument_run" and not any(
                e["type"] == "instrument_run" for e in edited[:-1]):
            invented = json.loads(json.dumps(event))
            invented["id"] = str(uuid.uuid4())
            invented["inputs"]["workers"] = 16
            edited.append(invented)
    journal_path(hub, user).write_text("".join(json.dumps(e) + "\n" for e in edited))
    [outputs] = asyncio.run(run_cells(hub.base, user, token, ["%submit"]))
    receipt = receipt_of(outputs)
    assert receipt["via"] == "service", receipt

    # The service's export: the grade of the witnessed work, judged by the service's clock.
    row = service_row(hub, user)
    assert row["submission_id"] == receipt["submission_id"]
    stored = json.loads(subprocess.run(
        [str(grader_binary()), "--db", str(hub.grader_db), "raw", receipt["submission_id"]],
        capture_output=True, check=True).stdout)
    truth = dict(stored, events=honest,
                 design=[e for e in honest if e["type"] == "design_saved"][-1]["design"])
    expected = total_with_witness_off(tmp_path / "witnessed", truth)
    claimed = total_with_witness_off(tmp_path / "claimed", stored)
    assert row["total"] == expected and float(claimed) > float(expected), (row, expected, claimed)
    assert "witness_mismatch" in row["flags"], row
    assert row["submitted_at"][:10] == datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d"), row

    # What the instructor sees names the first disagreeing event.
    shown = grader_cli("show", user, db=hub.grader_db)
    first = events[0]
    assert f"flag witness_mismatch: event 0 ({first['type']}, {first['id']})" in shown, shown
    assert "(the grader service's receive time)" in shown, shown


def test_events_recorded_while_the_service_is_stopped_are_witnessed_late_in_order(hub) -> None:
    user, token = "max", hub.token_for("max")
    hub.start_server(user)
    asyncio.run(run_cells(hub.base, user, token, ["%context nvme"]))
    wait_until(lambda: len(witnessed(hub, user)) == 1, 60, "max's first event witnessed")

    service = hub.service_pid()
    os.kill(service, signal.SIGSTOP)
    try:
        started = time.monotonic()
        outputs = asyncio.run(run_cells(hub.base, user, token, [
            "%predict act1 B", "%io --workers 4", "%io --pattern prefetch --workers 8",
            "%status"]))
        worked = time.monotonic() - started
        status = "".join(o.get("data", {}).get("text/plain", "") for o in outputs[-1])
        assert "await the grader service's witness" in status, status
        # Magics do not wait for the service (the kernel's start and stop included).
        assert worked < 30, worked
        # Stopped for longer than the rubric's lock grace (30 s) after the runs were made.
        time.sleep(max(0.0, 35 - worked))
        assert len(witnessed(hub, user)) == 1
    finally:
        os.kill(service, signal.SIGCONT)

    # The next kernel sends what awaited the witness: late, in order, once each.
    outputs = asyncio.run(run_cells(hub.base, user, token, ["%status", "%submit"]))
    events = journal_of(hub, user)
    wait_until(lambda: len(witnessed(hub, user)) == len(events), 60, "max's events witnessed")
    got = witnessed(hub, user)
    assert [e for e, _ in got] == events, "in journal order, nothing lost or doubled"
    assert not any(conflict for _, conflict in got)

    row = service_row(hub, user)
    assert "lock_order_unwitnessed" in row["flags"], row
    shown = grader_cli("show", user, db=hub.grader_db)
    assert "the lock order could not be witnessed" in shown, shown
