"""Load on the grader service: 200 concurrent submissions from 50 users (tokens checked
against a fake Hub API on loopback). Every one is acknowledged and stored exactly once.
Throughput and p99 latency are printed (run with -s to see them), not asserted."""

import json
import sqlite3
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from hub_support import FakeHub, Service, call, call_json, synth

USERS = 50
SUBMISSIONS = 200


def test_200_concurrent_submissions_from_50_users_are_each_stored_once(tmp_path) -> None:
    files = synth(tmp_path / "synth", SUBMISSIONS, USERS)
    assert len(files) == SUBMISSIONS
    tokens = {f"tok-{i:02d}": (f"user{i:02d}", []) for i in range(USERS)}
    tokens["tok-prof"] = ("prof", ["instructors"])
    hub = FakeHub(tokens)
    service = Service(tmp_path / "grades.sqlite", hub.api_url, tmp_path / "service.log")
    try:
        jobs = [(f"tok-{i % USERS:02d}", f.read_bytes()) for i, f in enumerate(files)]

        def submit(job):
            token, body = job
            start = time.perf_counter()
            status, raw, _ = call("POST", f"{service.url}/api/submissions", token, body, timeout=60)
            return status, json.loads(raw), time.perf_counter() - start

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=SUBMISSIONS) as pool:
            results = list(pool.map(submit, jobs))
        elapsed = time.perf_counter() - started

        statuses = [status for status, _, _ in results]
        assert statuses == [201] * SUBMISSIONS, [r for r in results if r[0] != 201][:3]
        ids = [receipt["submission_id"] for _, receipt, _ in results]
        assert len(set(ids)) == SUBMISSIONS
        for (token, _), (_, receipt, _) in zip(jobs, results):
            assert receipt["student"] == tokens[token][0]

        # Stored exactly once each, under the Hub's names; a resubmission is a duplicate.
        with sqlite3.connect(tmp_path / "grades.sqlite") as db:
            rows = db.execute("SELECT id, student FROM submissions").fetchall()
        assert sorted(i for i, _ in rows) == sorted(ids)
        assert {s for _, s in rows} == {name for name, _ in tokens.values()} - {"prof"}
        status, again = call_json("POST", f"{service.url}/api/submissions", jobs[0][0],
                                  json.loads(jobs[0][1]))
        assert status == 200 and again["status"] == "duplicate", again
        status, listing = call_json("GET", f"{service.url}/api/submissions", "tok-prof")
        assert status == 200 and len(listing["submissions"]) == SUBMISSIONS

        latencies = sorted(latency for _, _, latency in results)
        p99 = latencies[int(0.99 * (len(latencies) - 1))]
        print(
            f"\nhub-load: {SUBMISSIONS} submissions from {USERS} users in {elapsed:.2f} s: "
            f"{SUBMISSIONS / elapsed:.0f} submissions/s, p50 "
            f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"{hub.calls} Hub API calls"
        )
    finally:
        service.stop()
        hub.close()


def test_a_user_over_the_rate_limit_gets_429_and_others_do_not(tmp_path) -> None:
    hub = FakeHub({"tok-a": ("ada", []), "tok-b": ("bob", [])})
    service = Service(tmp_path / "grades.sqlite", hub.api_url, tmp_path / "service.log",
                      "--rate-burst", "3", "--rate-per-minute", "1")
    try:
        whoami = f"{service.url}/api/whoami"
        assert [call_json("GET", whoami, "tok-a")[0] for _ in range(3)] == [200] * 3
        status, body = call_json("GET", whoami, "tok-a")
        assert status == 429 and body["error"] == "rate_limited", body
        assert 0 < body["retry_after_seconds"] <= 60
        assert call_json("GET", whoami, "tok-b")[0] == 200
    finally:
        service.stop()
        hub.close()


def test_every_documented_endpoint_is_served_and_asks_for_a_token(tmp_path) -> None:
    import yaml

    from hub_support import ROOT

    spec = yaml.safe_load((ROOT / "deploy" / "openapi.yaml").read_text())
    hub = FakeHub({})
    service = Service(tmp_path / "grades.sqlite", hub.api_url, tmp_path / "service.log")
    try:
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                status, body, _ = call(method.upper(), service.url + path.replace("{student}", "ada"),
                                       body=b"{}" if method in ("post", "put") else None)
                expected = 200 if operation.get("security") == [] else 401
                assert status == expected, (method, path, status, body)
        assert call("GET", f"{service.url}/api/nothing")[0] == 404
    finally:
        service.stop()
        hub.close()
