"""The grader service (started directly, tokens checked by a loopback stand-in for the Hub's
REST API) against floods and crashes: random tokens, rejected bodies, too many connections,
`mlsys-grader ingest` writing at the same time, and a SIGKILL right after an acknowledgement."""

import json
import random
import signal
import socket
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hub_support import FakeHub, Service, call, call_json, grader_binary, synth


def db_bytes(db: Path) -> int:
    """The database's size on disk, with its WAL."""
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())


def submit_retrying(url: str, token: str, body: bytes, deadline: float):
    """POSTs until the service takes it, waiting as a 503's Retry-After says (as %submit does)."""
    while True:
        status, raw, headers = call("POST", url, token, body, timeout=60)
        if status != 503 or time.monotonic() > deadline:
            return status, json.loads(raw)
        headers = {name.lower(): value for name, value in headers.items()}
        time.sleep(float(headers.get("retry-after", "1")) / 4)


def test_random_tokens_do_not_become_hub_api_calls(tmp_path) -> None:
    hub = FakeHub({"tok-ada": ("ada", [])})
    service = Service(tmp_path / "grades.sqlite", hub.api_url, tmp_path / "service.log",
                      "--auth-failures-burst", "10", "--auth-failures-per-minute", "6")
    try:
        whoami = f"{service.url}/api/whoami"
        assert call_json("GET", whoami, "tok-ada")[0] == 200  # known, and now cached
        before = hub.calls
        statuses = [call_json("GET", whoami, f"random-{i:03d}")[0] for i in range(200)]
        assert hub.calls - before <= 11, f"{hub.calls - before} Hub API calls for 200 random tokens"
        assert statuses[:10] == [403] * 10 and set(statuses[11:]) == {429}, statuses
        status, raw, headers = call("GET", whoami, "random-again")
        error = json.loads(raw)
        assert status == 429 and error["error"] == "too_many_failures", error
        assert int({k.lower(): v for k, v in headers.items()}["retry-after"]) >= 1
        # A token the service already knows still works from that client.
        assert call_json("GET", whoami, "tok-ada") == (200, {"name": "ada", "instructor": False})
    finally:
        service.stop()
        hub.close()


def test_a_flood_of_rejected_hand_ins_is_capped_per_student(tmp_path) -> None:
    """30 distinct 2 MiB bodies that are no submission: the first few are kept (compressed) in
    the sender's quarantine, the rest refused with the reason, and the database stays small."""
    db = tmp_path / "grades.sqlite"
    hub = FakeHub({"tok-eve": ("eve", []), "tok-ada": ("ada", [])})
    service = Service(db, hub.api_url, tmp_path / "service.log")
    try:
        size = db_bytes(db)
        rng = random.Random(5)
        answers = []
        for _ in range(30):
            noise = rng.randbytes(2 << 20)  # does not compress
            status, raw, _ = call("POST", f"{service.url}/api/submissions", "tok-eve", noise)
            answers.append((status, json.loads(raw)))
        assert {status for status, _ in answers} == {422}
        assert all(a["reason"] == "malformed_json" for _, a in answers), answers[0]
        kept = [a for _, a in answers if a["quarantined"]]
        refused = [a for _, a in answers if not a["quarantined"]]
        assert len(kept) == 3 and len(refused) == 27, (len(kept), len(refused))
        assert "quarantine is full" in refused[0]["quota"]
        grown = db_bytes(db) - size
        assert grown < 12 << 20, f"the database grew by {grown / 2**20:.0f} MiB"
        status, record = call_json("GET", f"{service.url}/api/students/eve", "tok-eve")
        assert status == 200 and len(record["quarantined"]) == 3
        # Another student's rejected hand-in is still kept.
        status, raw, _ = call("POST", f"{service.url}/api/submissions", "tok-ada", b"{")
        assert status == 422 and json.loads(raw)["quarantined"] is True
    finally:
        service.stop()
        hub.close()


def test_connections_over_the_cap_wait_for_a_free_one(tmp_path) -> None:
    hub = FakeHub({})
    service = Service(tmp_path / "grades.sqlite", hub.api_url, tmp_path / "service.log",
                      "--max-connections", "20", "--header-timeout", "30")
    held = []
    try:
        for _ in range(20):
            held.append(socket.create_connection(("127.0.0.1", service.port), timeout=5))
        time.sleep(0.5)  # all accepted
        waiting = socket.create_connection(("127.0.0.1", service.port), timeout=5)
        held.append(waiting)
        waiting.sendall(b"GET /services/mlsys-grader/health HTTP/1.1\r\nHost: x\r\n\r\n")
        waiting.settimeout(1.5)
        try:
            early = waiting.recv(65536)
        except socket.timeout:
            early = b""
        assert early == b"", f"served beyond the cap: {early[:40]!r}"
        held[0].close()  # a slot frees up: the waiting connection is served
        waiting.settimeout(10)
        assert waiting.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        for sock in held:
            sock.close()
        service.stop()
        hub.close()


def test_ingest_and_hand_ins_at_once_both_finish_with_everything_stored_once(tmp_path) -> None:
    db = tmp_path / "grades.sqlite"
    exchange = synth(tmp_path / "exchange", 3000, 600)
    handed_in = synth(tmp_path / "service", 400, 50)
    tokens = {f"tok-{i:02d}": (f"user{i:02d}", []) for i in range(50)}
    hub = FakeHub(tokens)
    service = Service(db, hub.api_url, tmp_path / "service.log", "--busy-wait-ms", "500",
                      "--rate-burst", "1000")
    try:
        ingest = subprocess.Popen(
            [str(grader_binary()), "--db", str(db), "ingest", "--unverified",
             str(tmp_path / "exchange")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        jobs = [(f"tok-{i % 50:02d}", path.read_bytes()) for i, path in enumerate(handed_in)]
        with ThreadPoolExecutor(max_workers=32) as pool:
            answers = list(pool.map(
                lambda job: submit_retrying(f"{service.url}/api/submissions", *job, deadline),
                jobs))
        out, err = ingest.communicate(timeout=300)
        assert ingest.returncode == 0, err
        assert out.strip() == "ingested 3000, duplicates 0, quarantined 0 (3000 files read)"
        assert [status for status, _ in answers] == [201] * len(jobs), answers[:3]
        with sqlite3.connect(db) as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM submissions")]
        assert len(ids) == len(set(ids)) == len(exchange) + len(handed_in)
        assert {a["submission_id"] for _, a in answers} <= set(ids)
    finally:
        service.stop()
        hub.close()


def test_an_acknowledged_hand_in_survives_a_sigkill_right_after(tmp_path) -> None:
    db = tmp_path / "grades.sqlite"
    files = synth(tmp_path / "synth", 10, 10)
    hub = FakeHub({"tok": ("ada", [])})
    acknowledged = []
    try:
        for path in files:
            service = Service(db, hub.api_url, tmp_path / "service.log")
            status, raw, _ = call("POST", f"{service.url}/api/submissions", "tok", path.read_bytes())
            service.proc.send_signal(signal.SIGKILL)  # at once, after the 201 is read
            service.proc.wait()
            service.log.close()
            assert status == 201, raw
            acknowledged.append(json.loads(raw)["submission_id"])
            with sqlite3.connect(db) as conn:
                stored = {row[0] for row in conn.execute("SELECT id FROM submissions")}
            assert set(acknowledged) <= stored
    finally:
        hub.close()
