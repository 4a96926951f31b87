#!/usr/bin/env python3
"""The grader service's witness throughput: `mlsys-grader serve` (release build by default)
with a loopback Hub API, and CLIENTS threads each posting batches of lab events as one Hub
user (`POST /api/witness`, keep-alive), every event new. Prints events/s and the batch
round trip's p50/p99.

Usage: tools/bench-witness.py [--target target/release] [--clients 8] [--batch 32]
                               [--seconds 10]"""

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "python"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", default=str(ROOT / "target" / "release"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    os.environ["MLSYS_TARGET_DIR"] = args.target
    from hub_support import FakeHub, Service, synth

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        [sample] = synth(tmp / "synth", 1, 1)
        template = json.loads(sample.read_text())["events"]
        tokens = {f"tok{i}": (f"student{i}", []) for i in range(args.clients)}
        hub = FakeHub(tokens)
        service = Service(tmp / "grades.sqlite", hub.api_url, tmp / "service.log",
                          "--rate-burst", "1000000", "--rate-per-minute", "100000000")
        port = service.port
        stop = time.monotonic() + args.seconds
        counts, latencies, errors = [0] * args.clients, [], []

        def client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while time.monotonic() < stop:
                events = []
                for i in range(args.batch):
                    event = dict(template[i % len(template)], id=str(uuid.uuid4()))
                    events.append(event)
                body = json.dumps({"events": events}).encode()
                started = time.perf_counter()
                conn.request("POST", "/services/mlsys-grader/api/witness", body,
                             {"Authorization": f"token tok{n}",
                              "Content-Type": "application/json"})
                response = conn.getresponse()
                answer = response.read()
                latencies.append(time.perf_counter() - started)
                if response.status != 200:
                    errors.append((response.status, answer[:200]))
                    return
                counts[n] += json.loads(answer)["stored"]

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
        service.stop()
        hub.close()
        if errors:
            raise SystemExit(f"errors: {errors[:3]}")
        total = sum(counts)
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(f"witness: {total} events in {elapsed:.1f} s = {total / elapsed:,.0f} events/s "
              f"({args.clients} clients, {args.batch} events per request, "
              f"{len(latencies) / elapsed:,.0f} requests/s); request p50 "
              f"{statistics.median(latencies) * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
