#!/usr/bin/env python3
"""Benchmarks live-instrument slider updates on the mlsys kernel, through jupyter_client.

Opens `%io --live`, then sends --updates `comm_msg` updates of the workers slider exactly as
JupyterLab does (each a different settled value). Reports:

* kernel-side time from the update reaching the lab to the new chart being sent (the kernel's
  `live_timing` debug events), p50/p99 in microseconds, against the 100 us p50 target;
* client round trip, send -> new cards HTML received and send -> idle, p50/p99 in ms;
* the baseline in the same run: a `request_state` round trip (no model work, no journal
  write), and the ratio of the update round trip to it.

Usage: tools/bench-widgets.py --kernel target/release/mlsys-kernel [--updates 500]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def percentile(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def until_idle(kc, msg_id: str, on_message=None) -> list:
    """iopub messages parented to msg_id up to its idle status."""
    seen = []
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append(msg)
        if on_message:
            on_message(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return seen


def execute(kc, code: str) -> list:
    msg_id = kc.execute(code)
    return until_idle(kc, msg_id)


def send_comm(kc, comm_id: str, data: dict) -> str:
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def timed(kc, comm_id: str, data: dict, watch: str):
    """(seconds until a comm_msg to `watch` arrived, seconds until idle)."""
    t0 = time.perf_counter()
    marks = {}

    def on_message(msg):
        if (
            msg["msg_type"] == "comm_msg"
            and msg["content"]["comm_id"] == watch
            and "watch" not in marks
        ):
            marks["watch"] = time.perf_counter() - t0

    until_idle(kc, send_comm(kc, comm_id, data), on_message)
    return marks.get("watch"), time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", type=Path, required=True)
    parser.add_argument("--updates", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlsys-bench-widgets-"))
    try:
        prefix = work / "prefix"
        subprocess.run(
            [str(args.kernel), "install", "--prefix", str(prefix)],
            check=True,
            capture_output=True,
        )
        os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
        from jupyter_client.manager import KernelManager  # after JUPYTER_PATH is set

        env = dict(os.environ, MLSYS_HOME=str(work / "home"), MLSYS_KERNEL_LOG="live_timing=debug")
        log_path = work / "kernel.log"
        with open(log_path, "w") as log:
            km = KernelManager(kernel_name="mlsys")
            km.start_kernel(env=env, stderr=log)
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=60)
            execute(kc, "%predict act1 B")
            opened = {
                m["content"]["comm_id"]: m["content"]["data"]["state"]
                for m in execute(kc, "%io --live")
                if m["msg_type"] == "comm_open"
            }
            slider = next(
                i for i, s in opened.items()
                if s["_model_name"] == "IntSliderModel" and s["description"] == "Workers per GPU"
            )
            cards = next(
                i for i, s in opened.items()
                if s["_model_name"] == "HTMLModel" and "GPU Utilization" in s["value"]
            )
            to_cards, to_idle, baseline = [], [], []
            for n in range(args.updates):
                value = 2 + n % 15  # 2..16, never the previous value
                update = {"method": "update", "state": {"value": value}, "buffer_paths": []}
                seen, idle = timed(kc, slider, update, cards)
                to_cards.append(seen)
                to_idle.append(idle)
                _, idle = timed(kc, slider, {"method": "request_state"}, slider)
                baseline.append(idle)
            kc.stop_channels()
            km.shutdown_kernel(now=False)
        plain_log = re.sub(r"\x1b\[[0-9;]*m", "", log_path.read_text())
        kernel_ns = [
            int(m.group(1)) for m in re.finditer(r"live update sent nanos=(\d+)", plain_log)
        ]
        if len(kernel_ns) != args.updates:
            raise SystemExit(
                f"expected {args.updates} timing events, found {len(kernel_ns)}:\n{plain_log[:2000]}"
            )
        us = [n / 1000 for n in kernel_ns]
        ms = lambda xs: [x * 1000 for x in xs]  # noqa: E731
        p50_kernel = statistics.median(us)
        print(f"live slider updates: {args.updates} (kernel {args.kernel})")
        print(
            f"  kernel-side update -> new chart sent: p50 {p50_kernel:.1f} us, "
            f"p99 {percentile(us, 0.99):.1f} us (target p50 <= 100 us: "
            f"{'met' if p50_kernel <= 100 else 'NOT met'})"
        )
        for label, values in [
            ("client send -> new cards received", ms(to_cards)),
            ("client send -> idle (incl. journal fsync)", ms(to_idle)),
            ("baseline request_state send -> idle", ms(baseline)),
        ]:
            print(
                f"  {label}: p50 {statistics.median(values):.3f} ms, "
                f"p99 {percentile(values, 0.99):.3f} ms"
            )
        print(
            "  ratio update->cards / request_state round trip (p50): "
            f"{statistics.median(to_cards) / statistics.median(baseline):.2f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
