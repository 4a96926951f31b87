#!/usr/bin/env python3
"""Benchmarks the mlsys kernel against ipykernel in the same run, through jupyter_client.

For each kernel: cold start (process start until kernel_info_reply), execute round trip
(execute_request until both execute_reply and the idle status) p50/p99 over --executes runs
of a trivial cell (`%help` vs `1+1`), and idle RSS. Prints both, the ratios and the targets
(start <= 1/20 of ipykernel's, p50 round trip <= 1/3, idle RSS <= 8 MiB).

Usage: tools/bench-kernel.py --kernel target/release/mlsys-kernel [--executes 1000] [--starts 5]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

MIB = 1024 * 1024


@dataclass
class Result:
    name: str
    start_ms: float
    p50_ms: float
    p99_ms: float
    rss_mib: float
    anon_mib: float


def anon_rss(pid: int) -> float:
    """The anonymous (heap, stacks) part of RSS, from /proc (Linux); NaN elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return float("nan")


def percentile(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def start_kernel(manager_cls, kernel_name: str):
    """Starts a kernel; returns (manager, client, seconds until kernel_info_reply)."""
    km = manager_cls(kernel_name=kernel_name)
    t0 = time.perf_counter()
    km.start_kernel(stderr=subprocess.DEVNULL)
    kc = km.client()
    kc.start_channels()
    msg_id = kc.kernel_info()
    while True:
        reply = kc.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    elapsed = time.perf_counter() - t0
    return km, kc, elapsed


def stop(km, kc) -> None:
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def round_trip(kc, code: str) -> float:
    """Seconds from sending execute_request to having both its reply and its idle status."""
    t0 = time.perf_counter()
    msg_id = kc.execute(code, store_history=True)
    replied = idle = False
    while not (replied and idle):
        if not replied:
            reply = kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"{code!r} failed: {reply['content']}")
                replied = True
            continue
        msg = kc.get_iopub_msg(timeout=30)
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "status"
            and msg["content"]["execution_state"] == "idle"
        ):
            idle = True
    return time.perf_counter() - t0


def drain_iopub(kc) -> None:
    while True:
        try:
            kc.get_iopub_msg(timeout=0.2)
        except Exception:  # queue.Empty
            return


def bench(manager_cls, name: str, kernel_name: str, code: str, starts: int, executes: int) -> Result:
    start_times = []
    for _ in range(starts):
        km, kc, elapsed = start_kernel(manager_cls, kernel_name)
        start_times.append(elapsed)
        stop(km, kc)
    km, kc, _ = start_kernel(manager_cls, kernel_name)
    try:
        drain_iopub(kc)
        for _ in range(20):  # warm-up
            round_trip(kc, code)
        trips = [round_trip(kc, code) for _ in range(executes)]
        drain_iopub(kc)
        time.sleep(1.0)  # let the kernel settle before reading its idle RSS
        pid = km.provisioner.process.pid
        rss = psutil.Process(pid).memory_info().rss
        anon = anon_rss(pid)
    finally:
        stop(km, kc)
    return Result(
        name=name,
        start_ms=statistics.median(start_times) * 1000,
        p50_ms=percentile(trips, 0.50) * 1000,
        p99_ms=percentile(trips, 0.99) * 1000,
        rss_mib=rss / MIB,
        anon_mib=anon / MIB,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", required=True, type=Path, help="the mlsys-kernel binary")
    parser.add_argument("--executes", type=int, default=1000, help="round trips per kernel (>= 500)")
    parser.add_argument("--starts", type=int, default=5, help="cold starts per kernel (median)")
    args = parser.parse_args()
    if args.executes < 500:
        parser.error("--executes must be at least 500")

    scratch = Path(tempfile.mkdtemp(prefix="mlsys-bench-"))
    try:
        prefix = scratch / "prefix"
        subprocess.run([str(args.kernel), "install", "--prefix", str(prefix)], check=True,
                       stdout=subprocess.DEVNULL)
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            filter(None, [str(prefix / "share" / "jupyter"), os.environ.get("JUPYTER_PATH")])
        )
        os.environ["MLSYS_HOME"] = str(scratch / "home")
        from jupyter_client.manager import KernelManager  # after JUPYTER_PATH is set

        ours = bench(KernelManager, "mlsys-kernel", "mlsys", "%help", args.starts, args.executes)
        base = bench(KernelManager, "ipykernel", "python3", "1+1", args.starts, args.executes)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"kernel benchmark: {args.starts} cold starts (median), {args.executes} executes each\n")
    print(f"{'':14}{'start (ms)':>12}{'p50 (ms)':>11}{'p99 (ms)':>11}{'idle RSS (MiB)':>16}"
          f"{'of it anon':>12}")
    for r in (ours, base):
        print(f"{r.name:14}{r.start_ms:12.1f}{r.p50_ms:11.3f}{r.p99_ms:11.3f}{r.rss_mib:16.1f}"
              f"{r.anon_mib:12.1f}")
    start_ratio = ours.start_ms / base.start_ms
    p50_ratio = ours.p50_ms / base.p50_ms
    p99_ratio = ours.p99_ms / base.p99_ms
    rss_ratio = ours.rss_mib / base.rss_mib
    print(f"{'ratio':14}{start_ratio:12.3f}{p50_ratio:11.3f}{p99_ratio:11.3f}{rss_ratio:16.3f}\n")
    checks = [
        ("cold start <= 1/20 of ipykernel", start_ratio <= 1 / 20),
        ("round trip p50 <= 1/3 of ipykernel", p50_ratio <= 1 / 3),
        ("idle RSS <= 8 MiB", ours.rss_mib <= 8),
    ]
    for label, ok in checks:
        print(f"  [{'met' if ok else 'MISSED'}] {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
