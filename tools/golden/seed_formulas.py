#!/usr/bin/env python3
"""Golden values for `mlsys-model`, computed with the seed notebook's own arithmetic.

The two functions below are the seed's "ACT I: INSTRUMENTS" and "ACT II: INSTRUMENTS"
cells (seed/000_44078214c0171c9c.txt, a verbatim copy of ../shared/seed/), copied statement
for statement in the same order of floating-point operations. The only changes: widget
`.value`s became parameters, plotting/HTML code is left out, and `import math` is added (the
seed's Act II cell calls `math.ceil` without receiving `math`, a NameError).
`seed_lines.py` checks exactly that, line by line, against the seed copy: edit a formula here
and `make golden-check` fails, naming the line.

Writes model/tests/golden/seed_points.json. Every float is written as its Python
`repr` inside a JSON string, so the Rust test parses it with `str::parse::<f64>`
(correctly rounded) and compares bit for bit. Standard library only:

    python3 tools/golden/seed_formulas.py            # rewrite the JSON
    python3 tools/golden/seed_formulas.py --check    # exit 1 if the JSON is stale
"""

import json
import math
import struct
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "model" / "tests" / "golden" / "seed_points.json"


def act1(context, workers, batch, pattern, osts):
    """The seed's Act I instrument cell; returns every figure it computes."""
    # ── Hardware constants ───────────────────────────────────────────────────
    _H100_BW_GBS = 3350.0
    _NVME_SEQ_BW_GBS = 7.0
    _NVME_RAND_BW_GBS = 0.5
    _LUSTRE_OST_BW_GBS = 28.0
    _IB_HDR200_BW_GBS = 25.0
    # ── Workload parameters ──────────────────────────────────────────────────
    _GPU_COUNT = 128
    _SAMPLE_SIZE_MB = 4.0
    _COMPUTE_TIME_MS = 50.0
    # ── Context-dependent base bandwidth ─────────────────────────────────────
    _ctx = context
    if _ctx == "nvme":
        _base_storage_bw = 28.0
        _network_overhead = 1.0
    else:
        _base_storage_bw = osts * _LUSTRE_OST_BW_GBS
        _network_overhead = min(1.0, (_IB_HDR200_BW_GBS * 16) / _base_storage_bw)
    # ── Read pattern factor ──────────────────────────────────────────────────
    _pattern_factor = {
        "sequential": 0.85,
        "random": 0.07,
        "prefetch": 0.78,
    }[pattern]
    # ── Worker scaling ───────────────────────────────────────────────────────
    _workers = workers
    if _workers == 1:
        _worker_factor = 0.25
    elif _workers <= 4:
        _worker_factor = 0.25 + (_workers - 1) * 0.20
    elif _workers <= 8:
        _worker_factor = 0.85 + (_workers - 4) * 0.03
    else:
        _worker_factor = min(0.97 + (_workers - 8) * 0.002, 1.0)
    # ── Prefetch queue depth ─────────────────────────────────────────────────
    _overlap_factor = {"sequential": 2.0, "random": 0.5, "prefetch": 4.0}[pattern]
    _prefetch_depth = max(1, int(_workers * _overlap_factor))
    # ── Effective I/O bandwidth per GPU ──────────────────────────────────────
    _effective_storage_bw = _base_storage_bw * _pattern_factor * _worker_factor * _network_overhead
    _per_gpu_bw = _effective_storage_bw / _GPU_COUNT
    # ── Batch load time and GPU utilization ──────────────────────────────────
    _batch_gb = (batch * _SAMPLE_SIZE_MB) / 1024.0
    _t_io_ms = (_batch_gb / _per_gpu_bw) * 1000.0 if _per_gpu_bw > 0 else 9999.0
    if pattern == "prefetch":
        _t_wait_ms = max(0.0, _t_io_ms - _COMPUTE_TIME_MS * min(_prefetch_depth, 4))
    else:
        _t_wait_ms = max(0.0, _t_io_ms - _COMPUTE_TIME_MS)
    _t_total_ms = _COMPUTE_TIME_MS + _t_wait_ms
    _gpu_util = min((_COMPUTE_TIME_MS / _t_total_ms) * 100.0, 100.0) if _t_total_ms > 0 else 0.0
    # ── Color coding ─────────────────────────────────────────────────────────
    if _gpu_util >= 80:
        _util_label = "Healthy"
    elif _gpu_util >= 50:
        _util_label = "Degraded"
    else:
        _util_label = "Starved"
    # ── GPU utilization vs num_workers curve ─────────────────────────────────
    _worker_range = list(range(1, 17))
    _util_curve = []
    for _w in _worker_range:
        if _w == 1:
            _wf = 0.25
        elif _w <= 4:
            _wf = 0.25 + (_w - 1) * 0.20
        elif _w <= 8:
            _wf = 0.85 + (_w - 4) * 0.03
        else:
            _wf = min(0.97 + (_w - 8) * 0.002, 1.0)
        _eff_bw_w = _base_storage_bw * _pattern_factor * _wf * _network_overhead
        _per_gpu_bw_w = _eff_bw_w / _GPU_COUNT
        _t_io_w = (_batch_gb / _per_gpu_bw_w) * 1000.0 if _per_gpu_bw_w > 0 else 9999.0
        _ov_f = {"sequential": 2.0, "random": 0.5, "prefetch": 4.0}[pattern]
        _pd_w = max(1, int(_w * _ov_f))
        if pattern == "prefetch":
            _tw = max(0.0, _t_io_w - _COMPUTE_TIME_MS * min(_pd_w, 4))
        else:
            _tw = max(0.0, _t_io_w - _COMPUTE_TIME_MS)
        _tt = _COMPUTE_TIME_MS + _tw
        _u = min((_COMPUTE_TIME_MS / _tt) * 100.0, 100.0) if _tt > 0 else 0.0
        _util_curve.append(_u)
    # ── Metric cards ─────────────────────────────────────────────────────────
    _lustre_util_pct = (_effective_storage_bw / (_base_storage_bw + 0.001)) * 100.0
    outputs = {
        "gpu_util_pct": _gpu_util,
        "status": _util_label.lower(),
        "effective_bw_gbs": _effective_storage_bw,
        "per_gpu_bw_gbs": _per_gpu_bw,
        "batch_gb": _batch_gb,
        "t_io_ms": _t_io_ms,
        "t_wait_ms": _t_wait_ms,
        "prefetch_depth": _prefetch_depth,
        "pattern_factor": _pattern_factor,
        "worker_factor": _worker_factor,
        "network_overhead": _network_overhead,
        "storage_util_pct": _lustre_util_pct,
        "util_curve": _util_curve,
    }
    # The ledger cell: "io_throughput_gbs": round(float(_effective_storage_bw), 2)
    ledger = {"io_throughput_gbs": round(float(_effective_storage_bw), 2)}
    return outputs, ledger


def act2(context, gpus, workers_per_gpu, layout, mds):
    """The seed's Act II instrument cell; returns every figure it computes."""
    # ── Hardware constants ───────────────────────────────────────────────────
    _H100_BW_GBS_II = 3350.0
    _NVME_SEQ_BW_II = 7.0
    _LUSTRE_OST_BW_II = 28.0
    _OST_COUNT = 48
    _TOTAL_LUSTRE_BW = _OST_COUNT * _LUSTRE_OST_BW_II
    # ── Metadata server capacity model ───────────────────────────────────────
    _MDS_OPS_PER_NODE = 50_000
    _METADATA_OPS_PER_FILE_ACCESS = 3.0
    # ── Dataset organization factor ──────────────────────────────────────────
    _dataset_type = layout
    if _dataset_type == "shards":
        _files_open_per_sec_per_worker = 0.2
        _metadata_pressure_factor = 0.02
    elif _dataset_type == "individual":
        _files_open_per_sec_per_worker = 50.0
        _metadata_pressure_factor = 1.0
    else:
        _files_open_per_sec_per_worker = 50.0
        _metadata_pressure_factor = 0.0
    # ── Total metadata operations per second ─────────────────────────────────
    _total_workers = gpus * workers_per_gpu
    _ops_per_sec_demand = (
        _total_workers
        * _files_open_per_sec_per_worker
        * _METADATA_OPS_PER_FILE_ACCESS
        * _metadata_pressure_factor
    )
    # ── MDS capacity and saturation ──────────────────────────────────────────
    _mds_capacity = mds * _MDS_OPS_PER_NODE
    _mds_saturated = (_dataset_type != "object_store") and (_ops_per_sec_demand > _mds_capacity)
    _ops_k = _ops_per_sec_demand / 1000
    _mds_capacity_k = _mds_capacity / 1000
    _mds_util_pct = min((_ops_per_sec_demand / _mds_capacity) * 100.0, 200.0) if _mds_capacity > 0 else 0.0
    # ── Bandwidth demand vs supply ───────────────────────────────────────────
    _bw_demand_gbs = gpus * 0.08
    _ctx_ii = context
    if _ctx_ii == "nvme":
        _bw_supply_gbs = 28.0
    else:
        _bw_supply_gbs = _TOTAL_LUSTRE_BW
    _bw_headroom_pct = ((_bw_supply_gbs - _bw_demand_gbs) / _bw_supply_gbs) * 100.0
    _bw_saturated = _bw_demand_gbs > _bw_supply_gbs
    # ── Needed MDS nodes to handle demand ────────────────────────────────────
    _needed_mds = max(1, int(math.ceil(_ops_per_sec_demand / _MDS_OPS_PER_NODE))) if _dataset_type != "object_store" else 1
    # ── Architecture recommendation ──────────────────────────────────────────
    if _dataset_type == "object_store":
        _recommendation = "Object store — no MDS. Scales to any GPU count."
    elif _mds_saturated:
        _recommendation = f"Add {_needed_mds - mds} more MDS nodes or migrate to object store."
    elif _mds_util_pct > 60:
        _recommendation = "MDS approaching capacity. Switch to sequential shards or pre-provision additional MDS."
    else:
        _recommendation = "Architecture is sound at current scale. Monitor MDS utilization as GPU count grows."
    # ── Chart: demand vs supply (bandwidth and metadata) ─────────────────────
    _gpu_range = list(range(128, 4097, 128))
    _bw_demand_curve = [g * 0.08 for g in _gpu_range]
    _ops_demand_curve = [
        (g * workers_per_gpu * _files_open_per_sec_per_worker
         * _METADATA_OPS_PER_FILE_ACCESS * _metadata_pressure_factor) / 1000
        for g in _gpu_range
    ]
    # The model's `ops_demand_curve` is in ops/s (like `ops_demand_per_s`): the seed's
    # parenthesized product before its `/ 1000`. Same operations, same order.
    _ops_demand_curve_per_s = [
        (g * workers_per_gpu * _files_open_per_sec_per_worker
         * _METADATA_OPS_PER_FILE_ACCESS * _metadata_pressure_factor)
        for g in _gpu_range
    ]
    outputs = {
        "ops_demand_per_s": _ops_per_sec_demand,
        "mds_capacity_per_s": _mds_capacity,
        "mds_util_pct": _mds_util_pct,
        "mds_saturated": _mds_saturated,
        "needed_mds": _needed_mds,
        "bw_demand_gbs": _bw_demand_gbs,
        "bw_supply_gbs": _bw_supply_gbs,
        "bw_headroom_pct": _bw_headroom_pct,
        "bw_saturated": _bw_saturated,
        "recommendation": _recommendation,
        "bw_demand_curve": _bw_demand_curve,
        "ops_demand_curve": _ops_demand_curve_per_s,
    }
    seed_only = {
        "ops_k": _ops_k,
        "mds_capacity_k": _mds_capacity_k,
        "ops_demand_curve_k": _ops_demand_curve,
    }
    # The ledger cell: "act2_result": round(float(_ops_k), 1)
    ledger = {"act2_result": round(float(_ops_k), 1)}
    return outputs, seed_only, ledger


CONTEXTS = ["nvme", "distributed_fs"]
PATTERNS = ["sequential", "random", "prefetch"]
LAYOUTS = ["shards", "individual", "object_store"]
WORKERS = list(range(1, 17))
BATCHES = list(range(32, 513, 32))
OSTS = list(range(4, 49, 4))
GPUS = list(range(128, 4097, 128))
MDS = list(range(1, 9))


def act1_points():
    """Defaults, every slider boundary for every context × pattern, branch edges, interior points."""
    default = {"context": "distributed_fs", "workers": 1, "batch": 64, "pattern": "random", "osts": 24}
    points = [default]
    for context in CONTEXTS:
        for pattern in PATTERNS:
            base = dict(default, context=context, pattern=pattern)
            points.append(base)
            for field, values in (("workers", (1, 16)), ("batch", (32, 512)), ("osts", (4, 48))):
                for value in values:
                    points.append(dict(base, **{field: value}))
    # Worker-factor branch edges (1|2, 4|5, 8|9) and prefetch-depth cap, on Lustre.
    for pattern in PATTERNS:
        for workers in (2, 4, 5, 8, 9):
            points.append(dict(default, pattern=pattern, workers=workers))
    # Network factor just below / at / above 1 (fabric 400 GB/s vs 12, 16 OSTs × 28).
    for osts in (12, 16, 20):
        points.append(dict(default, pattern="sequential", workers=8, osts=osts))
    # Interior points, including the seed's "4 workers with a prefetch pipeline".
    points += [
        dict(default, workers=4, pattern="prefetch"),
        {"context": "distributed_fs", "workers": 7, "batch": 224, "pattern": "sequential", "osts": 36},
        {"context": "distributed_fs", "workers": 11, "batch": 416, "pattern": "prefetch", "osts": 8},
        {"context": "nvme", "workers": 3, "batch": 160, "pattern": "prefetch", "osts": 44},
        {"context": "nvme", "workers": 13, "batch": 96, "pattern": "random", "osts": 4},
    ]
    return dedup(points)


def act2_points():
    """Defaults, every slider boundary for every context × layout, the seed's scenarios, interior points."""
    default = {"context": "distributed_fs", "gpus": 512, "workers_per_gpu": 4, "layout": "individual", "mds": 1}
    points = [default]
    for context in CONTEXTS:
        for layout in LAYOUTS:
            base = dict(default, context=context, layout=layout)
            points.append(base)
            for field, values in (("gpus", (128, 4096)), ("workers_per_gpu", (1, 16)), ("mds", (1, 8))):
                for value in values:
                    points.append(dict(base, **{field: value}))
    # The seed's reveal and MathPeek scenarios: 4096 GPUs × 8 workers.
    for layout in LAYOUTS:
        points.append(dict(default, gpus=4096, workers_per_gpu=8, layout=layout))
    # Sound (38.4%), approaching (76.8%), saturated; bandwidth saturated on NVMe.
    points += [
        dict(default, gpus=128, workers_per_gpu=2, mds=2),
        dict(default, gpus=128, workers_per_gpu=2),
        dict(default, gpus=128, workers_per_gpu=1),
        dict(default, gpus=256, workers_per_gpu=2),
        dict(default, gpus=3072, workers_per_gpu=13, mds=7),
        {"context": "nvme", "gpus": 384, "workers_per_gpu": 16, "layout": "individual", "mds": 8},
        {"context": "nvme", "gpus": 2944, "workers_per_gpu": 5, "layout": "shards", "mds": 3},
        {"context": "distributed_fs", "gpus": 1664, "workers_per_gpu": 9, "layout": "shards", "mds": 5},
    ]
    return dedup(points)


def dedup(points):
    seen, out = set(), []
    for point in points:
        key = tuple(sorted(point.items()))
        if key not in seen:
            seen.add(key)
            out.append(point)
    return out


def encode(value):
    """Floats as their repr in a string (exact round trip); lists element-wise; the rest as is."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


class Fnv64:
    """FNV-1a, 64 bit, over the little-endian bytes of each figure (float bits, ints as u64)."""

    def __init__(self):
        self.h = 0xCBF29CE484222325

    def bytes(self, data):
        for b in data:
            self.h ^= b
            self.h = (self.h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF

    def f64(self, x):
        self.bytes(struct.pack("<d", x))

    def u64(self, n):
        self.bytes(struct.pack("<Q", n))


def grid_digests():
    """FNV-1a digests of every numeric output over the full input grid of each act.

    Order: context (nvme, distributed_fs) › slider/enum nesting as in the loops below;
    per point the outputs in the order of `act1`/`act2` above, curves element-wise,
    booleans and ints as u64, status/recommendation left out (checked at the points).
    """
    h1 = Fnv64()
    for context in CONTEXTS:
        for workers in WORKERS:
            for batch in BATCHES:
                for pattern in PATTERNS:
                    for osts in OSTS:
                        o, _ = act1(context, workers, batch, pattern, osts)
                        for key in ("gpu_util_pct", "effective_bw_gbs", "per_gpu_bw_gbs", "batch_gb",
                                    "t_io_ms", "t_wait_ms"):
                            h1.f64(o[key])
                        h1.u64(o["prefetch_depth"])
                        for key in ("pattern_factor", "worker_factor", "network_overhead", "storage_util_pct"):
                            h1.f64(o[key])
                        for u in o["util_curve"]:
                            h1.f64(u)
    h2 = Fnv64()
    for context in CONTEXTS:
        for gpus in GPUS:
            for workers_per_gpu in WORKERS:
                for layout in LAYOUTS:
                    for mds in MDS:
                        o, _, _ = act2(context, gpus, workers_per_gpu, layout, mds)
                        h2.f64(o["ops_demand_per_s"])
                        h2.u64(o["mds_capacity_per_s"])
                        h2.f64(o["mds_util_pct"])
                        h2.u64(int(o["mds_saturated"]))
                        h2.u64(o["needed_mds"])
                        for key in ("bw_demand_gbs", "bw_supply_gbs", "bw_headroom_pct"):
                            h2.f64(o[key])
                        h2.u64(int(o["bw_saturated"]))
                        for x in o["bw_demand_curve"] + o["ops_demand_curve"]:
                            h2.f64(x)
    return {"act1": f"{h1.h:016x}", "act2": f"{h2.h:016x}"}


def ledger_rounding():
    """Every distinct value the ledger rounds, over the full grid: [x, digits, round(x, digits)]."""
    rows, seen = [], set()
    for context in CONTEXTS:
        for workers in WORKERS:
            for pattern in PATTERNS:
                for osts in OSTS:
                    o, ledger = act1(context, workers, 64, pattern, osts)
                    x = o["effective_bw_gbs"]
                    if (x, 2) not in seen:
                        seen.add((x, 2))
                        rows.append([repr(x), 2, repr(ledger["io_throughput_gbs"])])
    for gpus in GPUS:
        for workers_per_gpu in WORKERS:
            for layout in LAYOUTS:
                _, seed_only, ledger = act2("distributed_fs", gpus, workers_per_gpu, layout, 1)
                x = seed_only["ops_k"]
                if (x, 1) not in seen:
                    seen.add((x, 1))
                    rows.append([repr(x), 1, repr(ledger["act2_result"])])
    return rows


def build():
    act1_rows = []
    for p in act1_points():
        outputs, ledger = act1(p["context"], p["workers"], p["batch"], p["pattern"], p["osts"])
        act1_rows.append({"inputs": p, "outputs": encode(outputs), "ledger": encode(ledger)})
    act2_rows = []
    for p in act2_points():
        outputs, seed_only, ledger = act2(p["context"], p["gpus"], p["workers_per_gpu"], p["layout"], p["mds"])
        act2_rows.append({
            "inputs": p,
            "outputs": encode(outputs),
            "seed_only": encode(seed_only),
            "ledger": encode(ledger),
        })
    return {
        "about": "Seed formulas evaluated by tools/golden/seed_formulas.py; floats are Python reprs.",
        "python": sys.version.split()[0],
        "act1": act1_rows,
        "act2": act2_rows,
        "grid_digest": grid_digests(),
        "ledger_rounding": ledger_rounding(),
    }


def main():
    text = json.dumps(build(), indent=1, ensure_ascii=False) + "\n"
    # The Python version is informational; --check ignores it.
    if "--check" in sys.argv[1:]:
        def strip(t):
            return "\n".join(line for line in t.splitlines() if '"python":' not in line)
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if strip(current) != strip(text):
            print(f"{OUT} is stale; rerun {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    data = json.loads(text)
    print(f"wrote {OUT}: act1 {len(data['act1'])} points, act2 {len(data['act2'])} points, "
          f"{len(data['ledger_rounding'])} rounding rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
