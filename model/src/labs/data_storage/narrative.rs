//! The lab's narrative numbers and the texts built from them: the scenario
//! figures each act's story quotes, the reveals, the Act II failure-state
//! callouts, the formula panel of a run and the MathPeek equations.
//!
//! Every number is computed here from the constants and the act models, never
//! typed in. Texts are plain text or Markdown; renderers add the looks.

use super::act1::{self, IoInputs, IoOutputs, ReadPattern};
use super::act2::{self, DatasetLayout, MdsInputs, MdsOutputs};
use super::constants::*;
use super::content::{prediction, Callout, CalloutKind};
use super::context::Context;
use super::design::ANSWER;
use super::figures::{act1_figures, act2_figures};
use super::report::{Report, RunInputs};
use crate::choice::{Act, Choice};
use crate::format::{fmt_kilo, fmt_thousands, plural, thousands};

/// The reveal of `act` for a student who predicted `predicted`, quoting `latest`,
/// the student's latest run of that act.
pub fn reveal(act: Act, predicted: Choice, latest: &Report) -> Callout {
    let said = prediction(act).option(predicted).to_string();
    let (kind, title) = if predicted == ANSWER {
        (
            CalloutKind::Success,
            format!("Correct. You predicted {predicted}: {said}."),
        )
    } else {
        (
            CalloutKind::Warn,
            format!("Not quite. You predicted {predicted}: {said}."),
        )
    };
    let body = match (act, latest) {
        (Act::Act1, Report::Act1 { inputs, outputs }) => act1_reveal(predicted, inputs, outputs),
        (Act::Act2, Report::Act2 { inputs, outputs }) => act2_reveal(predicted, inputs, outputs),
        _ => String::new(),
    };
    let key = if predicted == ANSWER {
        String::new()
    } else {
        format!("\n\n**Correct answer: {ANSWER} — {}.**", short_key(act))
    };
    Callout::new(kind, title, format!("{body}{key}"))
}

fn short_key(act: Act) -> &'static str {
    match act {
        Act::Act1 => "the access pattern does not match Lustre",
        Act::Act2 => "the metadata server becomes the bottleneck",
    }
}

fn act1_run_line(i: &IoInputs, o: &IoOutputs) -> String {
    format!(
        "Your latest run ({}) gives **{:.1}% GPU utilization** ({}).",
        RunInputs::Act1(*i).settings().join(", "),
        o.gpu_util_pct,
        o.status.label()
    )
}

fn act1_reveal(predicted: Choice, i: &IoInputs, o: &IoOutputs) -> String {
    let f = act1_figures();
    let run = act1_run_line(i, o);
    match predicted {
        Choice::A => format!(
            "The numbers refute this at once: {gpus} GPUs need only ~{demand:.2} GB/s in total \
             while Lustre provides {lustre:.0} GB/s, a {margin:.0}× margin; the cluster runs at \
             ~{load:.1}% of its capacity. {run} The root cause is the *read pattern*: random 4K \
             reads from individual files deliver only ~{random:.0}% of peak bandwidth. Raise \
             `--workers` and switch `--pattern` to sequential or prefetch to watch utilization \
             climb.",
            gpus = f.gpus,
            demand = f.total_demand_gbs,
            lustre = f.lustre_bw_gbs,
            margin = f.margin.floor(),
            load = f.storage_load_pct,
            random = f.random_efficiency_pct,
        ),
        Choice::B => format!(
            "{run} In the default scenario (1 worker, random reads) the model gives \
             ~{default:.1}%: starved. The cluster runs at ~{load:.1}% of its capacity, so the \
             bottleneck is not aggregate bandwidth but the *access pattern*. Every sample needs \
             its own file open, seek and read; {gpus} GPUs × {workers} = {streams} independent \
             random I/O streams hit the Lustre namespace, and each random 4K read delivers only \
             ~{random:.0}% of peak bandwidth. The fix is **not more hardware**: read sequentially \
             (e.g. WebDataset tar shards) and use 4–8 workers per GPU.",
            default = f.default_util_pct,
            load = f.storage_load_pct,
            gpus = f.gpus,
            workers = plural(i.workers, "worker"),
            streams = thousands(f64::from(f.gpus * i.workers)),
            random = f.random_efficiency_pct,
        ),
        Choice::C => format!(
            "InfiniBand HDR-200 carries {port:.0} GB/s per port. One port per OST node gives the \
             {osts}-node cluster {fabric:.0} GB/s of fabric (the analyzer conservatively models \
             {ports:.0} ports, {modelled:.0} GB/s), either way far more than the ~{demand:.2} GB/s \
             the GPUs consume. The network is not saturated. {run} The bottleneck is the access \
             pattern itself: small random reads through many file handles serialize I/O that \
             Lustre could serve as fast sequential streams.",
            port = IB_HDR200_BW_GBS,
            osts = f.osts,
            fabric = f.fabric_per_ost_port_gbs,
            ports = IB_FABRIC_PORTS,
            modelled = f.modelled_fabric_gbs,
            demand = f.total_demand_gbs,
        ),
        Choice::D => format!(
            "Utilization this low is not normal. A properly configured pipeline keeps GPUs \
             75–90% busy during training. In the analyzer, 4 workers with the prefetch pipeline \
             raise utilization to {fix:.0}% on the same storage hardware. {run} This is a \
             configuration failure, not a hardware limit.",
            fix = f.prefetch_fix_util_pct,
        ),
    }
}

fn act2_run_line(i: &MdsInputs, o: &MdsOutputs) -> String {
    format!(
        "Your latest run ({}): {}K metadata ops/s against {}K capacity; bandwidth {:.1} of \
         {:.0} GB/s.",
        RunInputs::Act2(*i).settings().join(", "),
        fmt_kilo(o.ops_demand_per_s / 1000.0),
        thousands(f64::from(o.mds_capacity_per_s) / 1000.0),
        o.bw_demand_gbs,
        o.bw_supply_gbs
    )
}

fn act2_reveal(predicted: Choice, i: &MdsInputs, o: &MdsOutputs) -> String {
    let f = act2_figures();
    let s = &f.outputs;
    let run = act2_run_line(i, o);
    let gpus = thousands(f64::from(f.gpus));
    let connections = thousands(f64::from(f.inputs.total_workers()));
    let demand_k = fmt_kilo(s.ops_demand_per_s / 1000.0);
    let capacity_k = thousands(f64::from(s.mds_capacity_per_s) / 1000.0);
    match predicted {
        Choice::A => format!(
            "{gpus} GPUs × {per_gpu:.0} MB/s = {bw:.0} GB/s of demand against {supply} GB/s of \
             supply: a {margin:.0}× safety margin. The CTO's bandwidth arithmetic is right. But the \
             metadata server, with {capacity_k}K ops/s of capacity against {demand_k}K ops/s of \
             demand (a {overload:.0}× overload), fails first and catastrophically. More OST nodes \
             add bandwidth and do nothing for the MDS. {run}",
            per_gpu = BW_DEMAND_PER_GPU_GBS * 1000.0,
            bw = s.bw_demand_gbs,
            supply = thousands(s.bw_supply_gbs),
            margin = f.bw_margin.floor(),
            overload = f.overload.floor(),
        ),
        Choice::B => format!(
            "At {gpus} GPUs × {workers} workers = {connections} concurrent connections, all \
             opening files in the Lustre namespace: **{demand_k}K ops/s of demand** against \
             **{capacity_k}K ops/s of MDS capacity**, a {overload:.0}× overload. Bandwidth demand \
             meanwhile is {gpus} × {per_gpu:.0} MB/s = {bw:.0} GB/s, well within the {supply} GB/s \
             supply. The bandwidth margin the team computed is real; the metadata capacity nobody \
             measured is the constraint, and every added OST solves the wrong problem. {run}",
            workers = f.workers_per_gpu,
            overload = f.overload.floor(),
            per_gpu = BW_DEMAND_PER_GPU_GBS * 1000.0,
            bw = s.bw_demand_gbs,
            supply = thousands(s.bw_supply_gbs),
        ),
        Choice::C => format!(
            "For *bandwidth* this holds: more OSTs add aggregate throughput. But the Lustre \
             metadata server is a separate component that manages the namespace, and it does not \
             scale with the OST count. One MDS serves every namespace operation of the cluster; \
             at {gpus} GPUs × {workers} workers it faces {demand_k}K ops/s against {capacity_k}K. \
             No OST addition moves that ceiling. {run}",
            workers = f.workers_per_gpu,
        ),
        Choice::D => format!(
            "InfiniBand HDR-200 adds ~{latency:.0} µs of fabric latency, far below the \
             {compute:.0} ms compute time of a batch, and each {port:.0} GB/s IB port carries \
             hundreds of times a GPU's {per_gpu:.0} MB/s. The network is not the constraint. The \
             Lustre metadata server, serving every open and close of {connections} concurrent \
             workers, saturates at {capacity_k}K ops/s against {demand_k}K ops/s of demand. \
             Network latency is measurable but negligible; metadata throughput is the hard \
             ceiling. {run}",
            latency = IB_LATENCY_US,
            compute = COMPUTE_TIME_MS,
            port = IB_HDR200_BW_GBS,
            per_gpu = BW_DEMAND_PER_GPU_GBS * 1000.0,
        ),
    }
}

/// The failure-state callout the Act II designer shows under a run.
pub fn act2_callout(i: &MdsInputs, o: &MdsOutputs) -> Callout {
    let demand_k = fmt_kilo(o.ops_demand_per_s / 1000.0);
    let capacity_k = thousands(f64::from(o.mds_capacity_per_s) / 1000.0);
    if i.layout == DatasetLayout::ObjectStore {
        return Callout::new(
            CalloutKind::Success,
            "An object store bypasses the MDS bottleneck entirely.",
            "Content-addressed object stores (S3, GCS, Azure Blob) have no POSIX namespace and \
             no metadata server. Each object is reached by a globally unique key: no directory \
             traversal, no file locking, no inode table. This is the main architectural reason \
             object stores dominate production training pipelines at scale. Bandwidth stays the \
             same, but the scaling ceiling disappears. Try `--layout individual` to see the \
             bottleneck come back.",
        );
    }
    if o.mds_saturated {
        let opens_ratio = DatasetLayout::Individual.files_open_per_sec_per_worker()
            / DatasetLayout::Shards.files_open_per_sec_per_worker();
        return Callout::new(
            CalloutKind::Danger,
            "Metadata server saturation. This cluster cannot run in this configuration.",
            format!(
                "Demand: **{demand_k}K ops/s**; MDS capacity: **{capacity_k}K ops/s** ({mds}).\n\n\
                 **{connections} concurrent connections** ({gpus} GPUs × {workers}) all send \
                 file-open requests to the same metadata service. The Lustre MDS coordinates \
                 every namespace operation: the bandwidth is fine, but every file access needs an \
                 MDS round trip for the inode lookup. To fix it: add {extra} more MDS nodes ({need} \
                 in all), switch to sequential shards (`--layout shards`, {ratio:.0}× fewer file \
                 opens), or move to object storage (`--layout object_store`).",
                mds = plural(i.mds, "MDS node"),
                connections = thousands(f64::from(i.total_workers())),
                gpus = thousands(f64::from(i.gpus)),
                workers = plural(i.workers_per_gpu, "worker"),
                extra = o.needed_mds.saturating_sub(i.mds),
                need = o.needed_mds,
                ratio = opens_ratio,
            ),
        );
    }
    let bandwidth = if o.bw_saturated {
        format!(
            "Bandwidth demand of {:.1} GB/s also exceeds the {:.0} GB/s supply.",
            o.bw_demand_gbs, o.bw_supply_gbs
        )
    } else {
        format!(
            "Bandwidth demand of {:.1} GB/s is well within the {:.0} GB/s supply.",
            o.bw_demand_gbs, o.bw_supply_gbs
        )
    };
    if o.mds_util_pct > MDS_WARN_UTIL_PCT {
        return Callout::new(
            CalloutKind::Warn,
            format!(
                "MDS approaching saturation: {:.0}% utilization.",
                o.mds_util_pct
            ),
            format!(
                "At {gpus} GPUs with {layout}, metadata operations use more than {warn:.0}% of \
                 MDS capacity. Doubling the GPU count would saturate the MDS long before \
                 bandwidth matters. The decision: switch to sequential shards now, or provision \
                 the {need} needed for twice the GPUs ahead of growth. {bandwidth}",
                gpus = thousands(f64::from(i.gpus)),
                layout = i.layout.ledger_name().replace('_', " "),
                warn = MDS_WARN_UTIL_PCT,
                need = plural(
                    (2.0 * o.ops_demand_per_s / f64::from(MDS_OPS_PER_NODE)).ceil() as u32,
                    "MDS node"
                ),
            ),
        );
    }
    let (kind, title) = if o.bw_saturated {
        (
            CalloutKind::Warn,
            "The metadata server copes, but bandwidth does not.",
        )
    } else {
        (
            CalloutKind::Success,
            "The architecture is currently feasible.",
        )
    };
    Callout::new(
        kind,
        title,
        format!(
            "MDS utilization: {util:.0}% ({demand_k}K of {capacity_k}K ops/s). {bandwidth} Push \
             to `--gpus 4096 --workers 8 --layout individual` to see the metadata bottleneck \
             emerge: the bandwidth will still be fine, the MDS will not.",
            util = o.mds_util_pct,
        ),
    )
}

/// The formula panel under a run: the model's equations with the run's numbers (plain text).
pub fn formula_panel(report: &Report) -> String {
    match report {
        Report::Act1 { inputs, outputs } => act1_formulas(inputs, outputs),
        Report::Act2 { inputs, outputs } => act2_formulas(inputs, outputs),
    }
}

fn act1_formulas(i: &IoInputs, o: &IoOutputs) -> String {
    let base = act1::base_storage_bw_gbs(i.context, i.osts);
    let wait_rule = if i.pattern == ReadPattern::Prefetch {
        format!(
            "max(0, t_io − t_compute × min(depth, {MAX_OVERLAPPED_BATCHES})) = max(0, {:.1} − {:.1} × {})",
            o.t_io_ms,
            COMPUTE_TIME_MS,
            o.prefetch_depth.min(MAX_OVERLAPPED_BATCHES)
        )
    } else {
        format!(
            "max(0, t_io − t_compute) = max(0, {:.1} − {:.1})",
            o.t_io_ms, COMPUTE_TIME_MS
        )
    };
    format!(
        "Effective BW = Storage_BW × pattern_factor × worker_factor × network_overhead\n\
         \x20            = {base:.0} GB/s × {pf:.2} × {wf:.2} × {net:.2}\n\
         \x20            = {eff:.1} GB/s\n\
         Per-GPU BW   = Effective_BW / GPU_count\n\
         \x20            = {eff:.1} GB/s / {gpus}\n\
         \x20            = {pg:.4} GB/s = {pg_mb:.1} MB/s\n\
         I/O time     = batch_bytes / per_GPU_BW\n\
         \x20            = {batch_mb:.1} MB / {pg_mb:.1} MB/s\n\
         \x20            = {tio:.1} ms\n\
         I/O wait     = {wait_rule}\n\
         \x20            = {wait:.1} ms\n\
         GPU util     = t_compute / (t_compute + t_io_wait)\n\
         \x20            = {compute:.1} ms / ({compute:.1} + {wait:.1}) ms\n\
         \x20            = {util:.1}%",
        pf = o.pattern_factor,
        wf = o.worker_factor,
        net = o.network_overhead,
        eff = o.effective_bw_gbs,
        gpus = ACT1_GPU_COUNT,
        pg = o.per_gpu_bw_gbs,
        pg_mb = o.per_gpu_bw_gbs * 1024.0,
        batch_mb = o.batch_gb * 1024.0,
        tio = o.t_io_ms,
        wait = o.t_wait_ms,
        compute = COMPUTE_TIME_MS,
        util = o.gpu_util_pct,
    )
}

fn act2_formulas(i: &MdsInputs, o: &MdsOutputs) -> String {
    let capacity_k = f64::from(o.mds_capacity_per_s) / 1000.0;
    format!(
        "Metadata ops/s = GPU_count × workers_per_GPU × files_per_s_per_worker\n\
         \x20                × metadata_ops_per_file × pressure_factor\n\
         \x20              = {gpus} × {workers} × {files:.1} × {ops:.0} × {pressure:.2}\n\
         \x20              = {demand} ops/s = {demand_k}K ops/s\n\
         MDS capacity   = MDS_nodes × ops_per_MDS_node\n\
         \x20              = {mds} × {per_node}\n\
         \x20              = {capacity} ops/s = {capacity_k:.0}K ops/s\n\
         MDS util       = demand / capacity = {demand_k}K / {capacity_k:.0}K = {util:.0}%{capped}\n\
         Bandwidth      = GPU_count × {per_gpu:.0} MB/s = {gpus} × {per_gpu_gb:.2} GB/s = {bw:.1} GB/s\n\
         Headroom       = (supply − demand) / supply = {headroom:.0}% of {supply:.0} GB/s",
        gpus = i.gpus,
        workers = i.workers_per_gpu,
        files = i.layout.files_open_per_sec_per_worker(),
        ops = METADATA_OPS_PER_FILE_ACCESS,
        pressure = i.layout.metadata_pressure_factor(),
        demand = thousands(o.ops_demand_per_s),
        demand_k = fmt_kilo(o.ops_demand_per_s / 1000.0),
        mds = i.mds,
        per_node = fmt_thousands(u64::from(MDS_OPS_PER_NODE)),
        capacity = fmt_thousands(u64::from(o.mds_capacity_per_s)),
        util = o.mds_util_pct,
        capped = if o.mds_util_pct >= MDS_UTIL_CAP_PCT {
            " (capped)"
        } else {
            ""
        },
        per_gpu = BW_DEMAND_PER_GPU_GBS * 1000.0,
        per_gpu_gb = BW_DEMAND_PER_GPU_GBS,
        bw = o.bw_demand_gbs,
        headroom = o.bw_headroom_pct,
        supply = o.bw_supply_gbs,
    )
}

/// A MathPeek: the governing equations of an act, filled with a run's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MathPeek {
    /// The heading.
    pub title: &'static str,
    /// The body, Markdown with `$$…$$` equations.
    pub markdown: String,
}

/// One read pattern under ideal scaling (every worker and the fabric at full speed):
/// the seed's "random vs. sequential" comparison, with the model's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdealRead {
    /// Aggregate bandwidth, GB/s.
    pub aggregate_gbs: f64,
    /// Each GPU's share, GB/s.
    pub per_gpu_gbs: f64,
    /// Time to read one default batch, ms.
    pub t_io_ms: f64,
    /// GPU utilization, %.
    pub gpu_util_pct: f64,
}

/// Reads the default batch with `pattern` from the default Lustre cluster, with
/// the worker and network factors at 1.
pub fn ideal_read(pattern: ReadPattern) -> IdealRead {
    let defaults = IoInputs::default();
    let aggregate_gbs =
        act1::base_storage_bw_gbs(Context::DistributedFs, defaults.osts) * pattern.pattern_factor();
    let per_gpu_gbs = aggregate_gbs / f64::from(ACT1_GPU_COUNT);
    let batch_gb = f64::from(defaults.batch) * SAMPLE_SIZE_MB / 1024.0;
    let t_io_ms = batch_gb / per_gpu_gbs * 1000.0;
    let t_wait_ms = (t_io_ms - COMPUTE_TIME_MS).max(0.0);
    IdealRead {
        aggregate_gbs,
        per_gpu_gbs,
        t_io_ms,
        gpu_util_pct: COMPUTE_TIME_MS / (COMPUTE_TIME_MS + t_wait_ms) * 100.0,
    }
}

/// The MathPeek of `report`'s act, with its numbers.
pub fn mathpeek(report: &Report) -> MathPeek {
    match report {
        Report::Act1 { .. } => MathPeek {
            title: "The governing equations — I/O throughput and prefetch depth",
            markdown: act1_mathpeek(report),
        },
        Report::Act2 { .. } => MathPeek {
            title: "The governing equations — metadata rate and data gravity at scale",
            markdown: act2_mathpeek(report),
        },
    }
}

fn act1_mathpeek(report: &Report) -> String {
    let f = act1_figures();
    let seq = ideal_read(ReadPattern::Sequential);
    let rnd = ideal_read(ReadPattern::Random);
    let defaults = IoInputs::default();
    let batch_mb = f64::from(defaults.batch) * SAMPLE_SIZE_MB;
    format!(
        "**I/O throughput model**\n\n\
         $$\\text{{Effective BW}} = BW_{{storage}} \\times f_{{pattern}} \\times f_{{workers}} \\times f_{{network}}$$\n\n\
         - **BW_storage**: peak sequential storage bandwidth (OSTs × {ost:.0} GB/s on Lustre, {nvme:.0} GB/s on local NVMe)\n\
         - **f_pattern**: read-pattern efficiency: sequential {fs:.2}, random {fr:.2}, prefetch {fp:.2}\n\
         - **f_workers**: worker scaling, near-linear for 1–4 workers, diminishing beyond 8\n\
         - **f_network**: the IB fabric's share of storage bandwidth ({ports:.0} ports × {port:.0} GB/s), at most 1\n\n\
         **GPU utilization**\n\n\
         $$\\eta_{{GPU}} = \\frac{{t_{{compute}}}}{{t_{{compute}} + t_{{IO\\ wait}}}}$$\n\n\
         With the prefetch pipeline:\n\n\
         $$t_{{IO\\ wait}} = \\max\\left(0,\\ t_{{IO}} - t_{{compute}} \\times \\min(d_{{prefetch}}, {maxd})\\right)$$\n\n\
         where $d_{{prefetch}}$ is the number of batches loaded ahead asynchronously.\n\n\
         **Your latest run**\n\n```\n{panel}\n```\n\n\
         **Random vs. sequential, with perfect worker scaling and fabric** ({osts} OSTs, {gpus} GPUs, batch {batch} × {sample:.0} MB = {batch_mb:.0} MB):\n\n```\n\
         Sequential: {lustre:.0} GB/s × {fs:.2} = {seq_agg:.1} GB/s aggregate → {seq_pg:.2} GB/s per GPU\n\
         Random:     {lustre:.0} GB/s × {fr:.2} = {rnd_agg:.1} GB/s aggregate → {rnd_pg:.3} GB/s per GPU\n\
         Batch load, sequential: {batch_mb:.0} MB / {seq_mbs:.0} MB/s ≈ {seq_t:.0} ms → GPU util ≈ {seq_u:.0}%\n\
         Batch load, random:     {batch_mb:.0} MB / {rnd_mbs:.0} MB/s ≈ {rnd_t:.0} ms → GPU util ≈ {rnd_u:.1}%\n\
         ```\n\n\
         Even with ideal workers and fabric, random reads starve the GPUs. The default scenario's single \
         worker and {modelled:.0} GB/s fabric push utilization further down, to ≈{default:.1}%.\n\n\
         **WebDataset sequential-read benchmark**: individual JPEG files read at random reach ~70 MB/s \
         per node; WebDataset `.tar` shards read sequentially reach ~2.8 GB/s per node, 40× more.",
        ost = LUSTRE_OST_BW_GBS,
        nvme = NVME_NODE_BW_GBS,
        fs = ReadPattern::Sequential.pattern_factor(),
        fr = ReadPattern::Random.pattern_factor(),
        fp = ReadPattern::Prefetch.pattern_factor(),
        ports = IB_FABRIC_PORTS,
        port = IB_HDR200_BW_GBS,
        maxd = MAX_OVERLAPPED_BATCHES,
        panel = formula_panel(report),
        osts = f.osts,
        gpus = f.gpus,
        batch = defaults.batch,
        sample = SAMPLE_SIZE_MB,
        lustre = f.lustre_bw_gbs,
        seq_agg = seq.aggregate_gbs,
        seq_pg = seq.per_gpu_gbs,
        rnd_agg = rnd.aggregate_gbs,
        rnd_pg = rnd.per_gpu_gbs,
        seq_mbs = seq.per_gpu_gbs * 1024.0,
        rnd_mbs = rnd.per_gpu_gbs * 1024.0,
        seq_t = seq.t_io_ms,
        rnd_t = rnd.t_io_ms,
        seq_u = seq.gpu_util_pct,
        rnd_u = rnd.gpu_util_pct,
        modelled = f.modelled_fabric_gbs,
        default = f.default_util_pct,
    )
}

/// Data-gravity example: data set size, GB.
const GRAVITY_DATASET_GB: f64 = 100_000.0;
/// Data-gravity example: WAN link, GB/s (100 Gbps).
const GRAVITY_LINK_GBS: f64 = 12.5;
/// Data-gravity example: S3 egress price, $/GB.
const GRAVITY_EGRESS_USD_PER_GB: f64 = 0.09;
/// Data-gravity example: GPUs of the training job.
const GRAVITY_GPUS: f64 = 512.0;
/// Data-gravity example: H100 spot price, $/GPU-hour.
const GRAVITY_USD_PER_GPU_HOUR: f64 = 3.50;
/// Data-gravity example: job length, hours.
const GRAVITY_HOURS: f64 = 24.0;

fn act2_mathpeek(report: &Report) -> String {
    let f = act2_figures();
    let s = &f.outputs;
    let shards = act2::evaluate(&MdsInputs {
        layout: DatasetLayout::Shards,
        ..f.inputs
    });
    let individual = DatasetLayout::Individual;
    let sh = DatasetLayout::Shards;
    let transfer_s = GRAVITY_DATASET_GB / GRAVITY_LINK_GBS;
    format!(
        "**Metadata operation rate**\n\n\
         $$\\text{{MDS demand}} = N_{{GPU}} \\times W_{{GPU}} \\times f_{{open}} \\times m_{{ops}} \\times p_{{layout}}$$\n\n\
         - **N_GPU**: GPUs; **W_GPU**: data-loader workers per GPU\n\
         - **f_open**: file opens per second per worker ({fi:.0} for individual files, {fsh:.1} for shards)\n\
         - **m_ops**: metadata operations per file access (open + stat + close = {mops:.0})\n\
         - **p_layout**: share of accesses that reach the MDS ({pi:.0} individual, {psh:.2} shards, 0 object store)\n\n\
         $$\\text{{MDS supply}} = N_{{MDS}} \\times {per_node}\\ \\text{{ops/s}}$$\n\n\
         **Your latest run**\n\n```\n{panel}\n```\n\n\
         **Example: {gpus} GPUs, {w} workers, individual files, 1 MDS**\n\n```\n\
         MDS demand = {gpus} × {w} × {fi:.0} × {mops:.0} × {pi:.0} = {demand} ops/s ≈ {demand_k}K ops/s\n\
         MDS supply = 1 × {per_node} ops/s = {cap_k}K ops/s\n\
         Overload   = {demand_k}K / {cap_k}K = {overload:.0}× → training stalls\n\
         ```\n\n\
         **The sequential-shards fix (same GPUs and workers)**\n\n```\n\
         MDS demand = {gpus} × {w} × {fsh:.1} × {mops:.0} × {psh:.2} = {sh_demand:.1} ops/s\n\
         MDS supply = 1 × {per_node} ops/s = {cap_k}K ops/s\n\
         Utilization = {sh_util:.1}% ← well within bounds\n\
         ```\n\n\
         **Object store vs. POSIX**\n\n\
         | Property | Lustre (POSIX) | S3 / GCS (object) |\n\
         |---|:-:|:-:|\n\
         | Metadata server | Required (MDS) | None |\n\
         | Namespace scalability | MDS-bound | Distributed hash |\n\
         | Sequential bandwidth | {supply} GB/s ({osts} OSTs) | similar per region |\n\
         | Random-access IOPS | NVMe-bound | Tiered by class |\n\
         | Training suitability | Good (with shards) | Excellent (any pattern) |\n\n\
         **Data gravity**: once {tb:.0} TB of training data sit in one cloud region, moving it to a local cluster costs\n\n```\n\
         T_transfer = {gb} GB / {link:.1} GB/s (100 Gbps) = {secs} s ≈ {hours:.1} hours\n\
         Egress     = {gb} GB × ${egress:.2}/GB = ${egress_cost}\n\
         Training in that region instead: {ngpu:.0} H100 × ${rate:.2}/GPU-hour × {hrs:.0} h = ${train_cost}\n\
         ```\n\n\
         Move compute to the data when the transfer's cost and delay exceed the cost of provisioning compute \
         next to the data.",
        fi = individual.files_open_per_sec_per_worker(),
        fsh = sh.files_open_per_sec_per_worker(),
        mops = METADATA_OPS_PER_FILE_ACCESS,
        pi = individual.metadata_pressure_factor(),
        psh = sh.metadata_pressure_factor(),
        per_node = fmt_thousands(u64::from(MDS_OPS_PER_NODE)),
        panel = formula_panel(report),
        gpus = fmt_thousands(u64::from(f.gpus)),
        w = f.workers_per_gpu,
        demand = thousands(s.ops_demand_per_s),
        demand_k = fmt_kilo(s.ops_demand_per_s / 1000.0),
        cap_k = thousands(f64::from(s.mds_capacity_per_s) / 1000.0),
        overload = f.overload.floor(),
        sh_demand = shards.ops_demand_per_s,
        sh_util = shards.mds_util_pct,
        supply = thousands(s.bw_supply_gbs),
        osts = ACT2_OST_COUNT,
        tb = GRAVITY_DATASET_GB / 1000.0,
        gb = thousands(GRAVITY_DATASET_GB),
        link = GRAVITY_LINK_GBS,
        secs = thousands(transfer_s),
        hours = transfer_s / 3600.0,
        egress = GRAVITY_EGRESS_USD_PER_GB,
        egress_cost = thousands(GRAVITY_DATASET_GB * GRAVITY_EGRESS_USD_PER_GB),
        ngpu = GRAVITY_GPUS,
        rate = GRAVITY_USD_PER_GPU_HOUR,
        hrs = GRAVITY_HOURS,
        train_cost = thousands(GRAVITY_GPUS * GRAVITY_USD_PER_GPU_HOUR * GRAVITY_HOURS),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::data_storage::RunInputs;

    #[test]
    fn act1_figures_fix_the_seed() {
        let f = act1_figures();
        assert_eq!(f.lustre_bw_gbs, 672.0);
        assert!((f.total_demand_gbs - 10.24).abs() < 1e-9);
        assert_eq!(f.margin.floor(), 65.0);
        assert!((f.storage_load_pct - 1.5238).abs() < 1e-3);
        assert_eq!(f.fabric_per_ost_port_gbs, 600.0);
        assert!((f.default_util_pct - 1.09).abs() < 0.01);
        let seq = ideal_read(ReadPattern::Sequential);
        let rnd = ideal_read(ReadPattern::Random);
        assert!((seq.t_io_ms - 56.0).abs() < 0.1, "{}", seq.t_io_ms);
        assert!((rnd.t_io_ms - 680.3).abs() < 0.1, "{}", rnd.t_io_ms);
        assert!(
            (seq.gpu_util_pct - 89.3).abs() < 0.1,
            "{}",
            seq.gpu_util_pct
        );
    }

    #[test]
    fn act2_figures_and_shards_fix() {
        let f = act2_figures();
        assert_eq!(f.outputs.ops_demand_per_s, 4_915_200.0);
        assert_eq!(f.overload.floor(), 98.0);
        assert_eq!(f.bw_margin.floor(), 4.0);
        let md = mathpeek(&RunInputs::Act2(f.inputs).evaluate()).markdown;
        assert!(md.contains("= 4,915,200 ops/s ≈ 4,915K ops/s"), "{md}");
        assert!(md.contains("= 393.2 ops/s"), "{md}");
        assert!(md.contains("Utilization = 0.8%"), "{md}");
        assert!(md.contains("1,344 GB/s (48 OSTs)"), "{md}");
        assert!(md.contains("≈ 2.2 hours"), "{md}");
        assert!(md.contains("$43,008"), "{md}");
        assert!(!md.contains('<') || md.contains("← well"), "no HTML");
    }

    #[test]
    fn reveals_quote_the_latest_run_and_the_key() {
        let report = RunInputs::Act1(IoInputs::default()).evaluate();
        let r = reveal(Act::Act1, Choice::B, &report);
        assert_eq!(r.kind, CalloutKind::Success);
        assert!(
            r.body.contains(
                "Your latest run (1 worker/GPU, batch 64, random reads, 24 OSTs) gives \
                 **1.1% GPU utilization** (Starved)"
            ),
            "{}",
            r.body
        );
        assert!(r.body.contains("4–8 workers per GPU"));
        let r = reveal(Act::Act1, Choice::A, &report);
        assert!(r.body.contains("~10.24 GB/s"), "{}", r.body);
        assert!(r.body.contains("a 65× margin"));
        assert!(r.body.contains("~1.5% of its capacity"));
        assert!(r.body.contains("Correct answer: B"));
        assert!(reveal(Act::Act1, Choice::C, &report)
            .body
            .contains("600 GB/s of fabric"));
        assert!(reveal(Act::Act1, Choice::D, &report)
            .body
            .contains("75–90%"));
        let report = RunInputs::Act2(MdsInputs::default()).evaluate();
        let r = reveal(Act::Act2, Choice::D, &report);
        assert!(r.body.contains("25 GB/s IB port"), "{}", r.body);
        assert!(r.body.contains("50K ops/s against 4,915K"), "{}", r.body);
        assert!(
            r.body.contains(
                "Your latest run (512 GPUs × 4 workers, individual files, 1 MDS, Distributed FS \
                 — Lustre/GPFS): 307K metadata ops/s"
            ),
            "{}",
            r.body
        );
        assert!(reveal(Act::Act2, Choice::B, &report)
            .body
            .contains("a 98× overload"));
    }

    #[test]
    fn act2_callouts_cover_every_state() {
        let run = |gpus, workers, layout, mds, ctx| {
            let i = MdsInputs {
                context: ctx,
                gpus,
                workers_per_gpu: workers,
                layout,
                mds,
            };
            act2_callout(&i, &act2::evaluate(&i))
        };
        let ds = Context::DistributedFs;
        let c = run(4096, 8, DatasetLayout::Individual, 1, ds);
        assert_eq!(c.kind, CalloutKind::Danger);
        assert!(
            c.body.contains("add 98 more MDS nodes (99 in all)"),
            "{}",
            c.body
        );
        let c = run(128, 1, DatasetLayout::Shards, 1, ds);
        assert_eq!(c.kind, CalloutKind::Success);
        assert!(c
            .body
            .contains("Bandwidth demand of 10.2 GB/s is well within the 1344 GB/s"));
        assert!(!c.body.contains("{"), "{}", c.body);
        let c = run(1024, 16, DatasetLayout::Shards, 1, Context::Nvme);
        assert_eq!(c.kind, CalloutKind::Warn);
        assert!(c.body.contains("exceeds the 28 GB/s"), "{}", c.body);
        let c = run(128, 2, DatasetLayout::Individual, 1, ds);
        assert!(
            c.title.starts_with("MDS approaching saturation: 77%"),
            "{}",
            c.title
        );
        assert_eq!(
            run(128, 1, DatasetLayout::ObjectStore, 1, ds).kind,
            CalloutKind::Success
        );
    }
}
