//! The MathPeeks: each act's governing equations filled in with a run's
//! numbers, and a "Where this model simplifies" panel of statements that are
//! true for that run.

use super::act1::{self, IoInputs, ReadPattern};
use super::act2::{self, DatasetLayout, MdsInputs};
use super::briefing::Section;
use super::constants::*;
use super::context::Context;
use super::figures::{act1_figures, act2_figures};
use super::limits::{io_limits, mds_limits, IoFactor};
use super::narrative::formula_panel;
use super::report::Report;
use crate::format::{fmt_kilo, fmt_thousands, plural, thousands};

/// A MathPeek: the governing equations of an act, filled with a run's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MathPeek {
    /// The heading.
    pub title: &'static str,
    /// The body, Markdown with `$$…$$` equations, ending with the simplifications panel.
    pub markdown: String,
    /// Where the model simplifies, for this run (also the last section of `markdown`).
    pub simplifications: Vec<Simplification>,
}

/// One way the model departs from a real system, stated for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simplification {
    /// A short bold lead ("Prefetching hides reading entirely.").
    pub title: &'static str,
    /// The statement with the run's figures (Markdown).
    pub text: String,
}

/// The heading of the simplifications panel.
pub const SIMPLIFICATIONS_TITLE: &str = "Where this model simplifies";

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
    let (title, equations) = match report {
        Report::Act1 { .. } => (
            "The governing equations — I/O throughput and prefetch depth",
            act1_mathpeek(report),
        ),
        Report::Act2 { .. } => (
            "The governing equations — metadata rate and data gravity at scale",
            act2_mathpeek(report),
        ),
    };
    let simplifications = simplifications(report);
    let mut markdown =
        format!("{equations}\n\n**{SIMPLIFICATIONS_TITLE}** (for your latest run)\n");
    for s in &simplifications {
        markdown.push_str(&format!("\n- **{}** {}", s.title, s.text));
    }
    MathPeek {
        title,
        markdown,
        simplifications,
    }
}

/// Where the model simplifies, stated for `report`'s run: only statements true for it.
pub fn simplifications(report: &Report) -> Vec<Simplification> {
    match report {
        Report::Act1 { inputs, outputs } => act1_simplifications(inputs, outputs),
        Report::Act2 { inputs, outputs } => act2_simplifications(inputs, outputs),
    }
}

fn act1_simplifications(i: &IoInputs, o: &act1::IoOutputs) -> Vec<Simplification> {
    let l = io_limits(i, o);
    let mut out = Vec::new();
    let simple = |title, text| Simplification { title, text };
    if i.pattern == ReadPattern::Prefetch {
        if l.exceeds_sustainable {
            out.push(simple(
                "Prefetching hides reading entirely.",
                format!(
                    "The model subtracts {steps} of compute ({hidden:.0} ms) from each batch's \
                     {t_io:.1} ms of reading, so the GPUs show {util:.1}% busy. In steady state a \
                     GPU cannot consume data faster than storage delivers it: {supply} MB/s per \
                     GPU against the {demand} MB/s it reads sustains at most {sust:.1}%.",
                    steps = plural(l.overlapped_batches, "step"),
                    hidden = l.hidden_ms,
                    t_io = l.t_io_ms,
                    util = o.gpu_util_pct,
                    supply = thousands(l.supply_per_gpu_gbs * 1024.0),
                    demand = thousands(l.demand_per_gpu_gbs * 1024.0),
                    sust = l.sustainable_util_pct,
                ),
            ));
        }
        if o.prefetch_depth > MAX_OVERLAPPED_BATCHES {
            out.push(simple(
                "The prefetch queue is capped.",
                format!(
                    "The queue holds {depth} batches ({workers} × {overlap:.0}), but the model \
                     counts at most {maxd} steps of compute as overlapped.",
                    depth = o.prefetch_depth,
                    workers = plural(i.workers, "worker"),
                    overlap = i.pattern.overlap_factor(),
                    maxd = MAX_OVERLAPPED_BATCHES,
                ),
            ));
        }
    } else {
        out.push(simple(
            "One step of overlap, whatever the queue.",
            format!(
                "For {pattern} reads the model always overlaps exactly one {compute:.0} ms step \
                 with reading ($t_{{wait}} = t_{{IO}} - {compute:.0}$); the Prefetch Queue card's \
                 {depth} ({workers} × {overlap}) plays no part.",
                pattern = i.pattern,
                compute = COMPUTE_TIME_MS,
                depth = plural(o.prefetch_depth, "batch"),
                workers = plural(i.workers, "worker"),
                overlap = i.pattern.overlap_factor(),
            ),
        ));
    }
    out.push(simple(
        "Worker scaling is a fixed curve.",
        format!(
            "{workers} {count} {wf:.3}: {w1:.2} for one, +0.20 per worker up to 4, +0.03 up to 8, \
             +0.002 beyond, the same for every pattern, batch size and storage, with no CPU \
             cores or decode cost in the model.",
            workers = plural(i.workers, "worker"),
            count = if i.workers == 1 { "counts" } else { "count" },
            wf = o.worker_factor,
            w1 = act1::worker_factor(1),
        ),
    ));
    match l.fabric_gbs {
        Some(fabric) if o.network_overhead < 1.0 => out.push(simple(
            "The fabric is a ratio cap.",
            format!(
                "The model multiplies every read by {n:.3} ({fabric:.0} of {storage} GB/s), \
                 though this run moves only {eff:.1} GB/s through the {fabric:.0} GB/s fabric: it \
                 caps the peak, not the traffic, and has no latency or congestion term.",
                n = o.network_overhead,
                storage = thousands(l.storage_gbs),
                eff = l.effective_gbs,
            ),
        )),
        Some(fabric) => out.push(simple(
            "The fabric costs nothing here.",
            format!(
                "With {storage:.0} GB/s of storage below the fabric's {fabric:.0} GB/s the \
                 network factor is 1; the model has no latency or congestion term.",
                storage = l.storage_gbs,
            ),
        )),
        None => out.push(simple(
            "One node feeds all the GPUs.",
            format!(
                "On local NVMe the model keeps Act I's {gpus} GPUs and gives them this node's \
                 {storage:.0} GB/s together, with no fabric factor; the OST slider plays no part.",
                gpus = ACT1_GPU_COUNT,
                storage = l.storage_gbs,
            ),
        )),
    }
    out.push(simple(
        "A read pattern is a fixed efficiency.",
        format!(
            "{pattern} reads pass {pf:.0}% of peak bandwidth whatever the batch size, file size \
             or worker count.",
            pattern = capital(i.pattern.id()),
            pf = l.factor(IoFactor::Pattern).multiplier * 100.0,
        ),
    ));
    out.push(simple(
        "Compute time ignores the batch size.",
        format!(
            "Every batch takes {compute:.0} ms of compute, whatever its size: a batch of {batch} × \
             {sample:.0} MB must arrive every {compute:.0} ms ({demand} MB/s per GPU), so smaller \
             batches look better in this model than they would on a real GPU.",
            compute = COMPUTE_TIME_MS,
            batch = i.batch,
            sample = SAMPLE_SIZE_MB,
            demand = thousands(l.demand_per_gpu_gbs * 1024.0),
        ),
    ));
    out
}

fn act2_simplifications(i: &MdsInputs, o: &act2::MdsOutputs) -> Vec<Simplification> {
    let l = mds_limits(i, o);
    let mut out = Vec::new();
    let simple = |title, text| Simplification { title, text };
    let opens = i.layout.files_open_per_sec_per_worker();
    match i.layout {
        DatasetLayout::ObjectStore => out.push(simple(
            "An object store has no metadata limit at all.",
            "Its pressure factor is 0: the model sends no request to any metadata service and \
             puts no request-rate ceiling in its place."
                .to_string(),
        )),
        DatasetLayout::Shards | DatasetLayout::Individual => {
            out.push(simple(
                "Every file access costs the same metadata work.",
                format!(
                    "{ops:.0} operations (open + stat + close) per access, and each worker opens \
                     {opens} files per second whatever the GPU's speed or the sample size.",
                    ops = METADATA_OPS_PER_FILE_ACCESS,
                    opens = if opens < 1.0 {
                        format!("{opens:.1}")
                    } else {
                        format!("{opens:.0}")
                    },
                ),
            ));
            if i.layout == DatasetLayout::Shards {
                out.push(simple(
                    "Shards send a fixed share of their opens to the MDS.",
                    format!(
                        "The pressure factor {p:.2} passes {p_pct:.0}% of the {opens:.1} opens per \
                         second per worker (already {ratio:.0}× fewer than individual files' \
                         {ind:.0}) to the metadata server.",
                        p = i.layout.metadata_pressure_factor(),
                        p_pct = i.layout.metadata_pressure_factor() * 100.0,
                        ratio = DatasetLayout::Individual.files_open_per_sec_per_worker() / opens,
                        ind = DatasetLayout::Individual.files_open_per_sec_per_worker(),
                    ),
                ));
            }
            out.push(simple(
                "MDS capacity adds up linearly.",
                format!(
                    "{mds} {serve} {mds_n} × {per_node} ops/s, with no coordination cost \
                     between nodes{needed}.",
                    mds = plural(i.mds, "MDS node"),
                    serve = if i.mds == 1 { "serves" } else { "serve" },
                    mds_n = i.mds,
                    per_node = fmt_thousands(u64::from(MDS_OPS_PER_NODE)),
                    needed = if l.needed_mds > MDS_NODES.max {
                        format!(
                            "; the {} nodes this design needs assume the same, beyond the \
                             designer's {}",
                            l.needed_mds, MDS_NODES.max
                        )
                    } else {
                        String::new()
                    },
                ),
            ));
        }
    }
    if o.mds_util_pct >= MDS_UTIL_CAP_PCT && l.metadata_load_pct > MDS_UTIL_CAP_PCT {
        out.push(simple(
            "Utilization stops at 200%.",
            format!(
                "The MDS utilization figure is capped at {cap:.0}%; the demand is {load} of \
                 capacity.",
                cap = MDS_UTIL_CAP_PCT,
                load = format_args!("{}%", thousands(l.metadata_load_pct)),
            ),
        ));
    }
    let act1_demand = super::limits::demand_per_gpu_gbs(IoInputs::default().batch);
    out.push(simple(
        "Bandwidth demand is a fixed 80 MB/s per GPU.",
        format!(
            "{per_gpu:.0} MB/s per GPU whatever the workers or layout, not Act I's arithmetic, \
             where a batch of {batch} × {sample:.0} MB every {compute:.0} ms is {act1:.1} GB/s per \
             GPU.",
            per_gpu = BW_DEMAND_PER_GPU_GBS * 1000.0,
            batch = IoInputs::default().batch,
            sample = SAMPLE_SIZE_MB,
            compute = COMPUTE_TIME_MS,
            act1 = act1_demand,
        ),
    ));
    out.push(match i.context {
        Context::Nvme => simple(
            "One node supplies every GPU count.",
            format!(
                "On NVMe the designer gives any number of GPUs this node's {supply:.0} GB/s, and \
                 keeps the MDS model of a Lustre cluster.",
                supply = o.bw_supply_gbs,
            ),
        ),
        Context::DistributedFs => simple(
            "The OST count is fixed.",
            format!(
                "The supply is {osts} OSTs × {ost:.0} GB/s = {supply} GB/s for any GPU count; the \
                 designer has no OST slider and no fabric term.",
                osts = ACT2_OST_COUNT,
                ost = LUSTRE_OST_BW_GBS,
                supply = fmt_thousands(o.bw_supply_gbs as u64),
            ),
        ),
    });
    out
}

/// "Sequential" from "sequential".
fn capital(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn act1_mathpeek(report: &Report) -> String {
    let f = act1_figures();
    let seq = ideal_read(ReadPattern::Sequential);
    let rnd = ideal_read(ReadPattern::Random);
    let defaults = IoInputs::default();
    let batch_mb = f64::from(defaults.batch) * SAMPLE_SIZE_MB;
    format!(
        "**I/O Throughput Model** (from {source}):\n\n\
         $$\\text{{Effective BW}} = BW_{{storage}} \\times f_{{pattern}} \\times f_{{workers}} \\times f_{{network}}$$\n\n\
         Where:\n\n\
         - **BW_storage** — peak sequential storage bandwidth (OSTs × {ost:.0} GB/s for Lustre, {nvme:.0} GB/s for local NVMe)\n\
         - **f_pattern** — read pattern efficiency: sequential = {fs:.2}, random = {fr:.2}, prefetch = {fp:.2}\n\
         - **f_workers** — worker scaling factor (near-linear 1–4, sub-linear 4–8, diminishing returns beyond 8)\n\
         - **f_network** — the IB fabric's share of storage bandwidth, min(1, {ports:.0} ports × {port:.0} GB/s / BW_storage): 1 up to {below} OSTs, and from {from} OSTs up $BW_{{storage}} \\times f_{{network}}$ is the fabric's {modelled:.0} GB/s whatever the OST count (1 on local NVMe)\n\n\
         **GPU Utilization:**\n\n\
         $$\\eta_{{GPU}} = \\frac{{t_{{compute}}}}{{t_{{compute}} + t_{{IO\\ wait}}}}$$\n\n\
         With prefetch pipelining:\n\n\
         $$t_{{IO\\ wait}} = \\max\\left(0,\\ t_{{IO}} - t_{{compute}} \\times \\min(d_{{prefetch}}, {maxd})\\right)$$\n\n\
         Where $d_{{prefetch}}$ is the number of batches pre-loaded asynchronously. Sequential and random reads overlap one step: $t_{{IO\\ wait}} = \\max(0,\\ t_{{IO}} - t_{{compute}})$.\n\n\
         **Your latest run**\n\n```\n{panel}\n```\n\n\
         **Random vs. Sequential Bandwidth Gap**, with perfect worker scaling and fabric ({osts} OSTs, {gpus} GPUs, batch {batch} × {sample:.0} MB = {batch_mb:.0} MB):\n\n```\n\
         Sequential: {lustre:.0} GB/s × {fs:.2} = {seq_agg:.1} GB/s aggregate → {seq_pg:.2} GB/s per GPU\n\
         Random:     {lustre:.0} GB/s × {fr:.2} = {rnd_agg:.1} GB/s aggregate → {rnd_pg:.3} GB/s per GPU\n\
         Batch load, sequential: {batch_mb:.0} MB / {seq_mbs:.0} MB/s ≈ {seq_t:.0} ms → GPU util ≈ {seq_u:.0}%\n\
         Batch load, random:     {batch_mb:.0} MB / {rnd_mbs:.0} MB/s ≈ {rnd_t:.0} ms → GPU util ≈ {rnd_u:.1}%\n\
         ```\n\n\
         Even with ideal workers and fabric, random reads starve the GPUs. The analyzer's {modelled:.0} GB/s \
         fabric and worker curve lower both lines: sequential reads reach at most {smax:.0}% at batch {batch} \
         ({max} workers), and the default scenario's single worker with random reads ≈{default:.1}%.\n\n\
         **WebDataset Sequential Read Benchmark:**\n\n\
         - Individual JPEG files, random access: ~70 MB/s per node\n\
         - WebDataset `.tar` shards, sequential: ~2.8 GB/s per node (40× improvement; the model's pattern factors put the gap at {gap:.1}×)\n\
         - Source: NVIDIA DGX documentation, {source}",
        source = Section::PipelineArchitecture.reference(),
        below = f.fabric_binds_from_osts - OSTS.step,
        smax = f.sequential_best_util_pct,
        max = WORKERS.max,
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
        from = f.fabric_binds_from_osts,
        gap = ReadPattern::Sequential.pattern_factor() / ReadPattern::Random.pattern_factor(),
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
    let egress_usd = GRAVITY_DATASET_GB * GRAVITY_EGRESS_USD_PER_GB;
    let train_usd = GRAVITY_GPUS * GRAVITY_USD_PER_GPU_HOUR * GRAVITY_HOURS;
    format!(
        "**Metadata Operation Rate** (from {source}):\n\n\
         $$\\text{{MDS demand}} = N_{{GPU}} \\times W_{{GPU}} \\times f_{{open}} \\times m_{{ops}} \\times p_{{layout}}$$\n\n\
         Where:\n\n\
         - **N_GPU** — number of GPU accelerators\n\
         - **W_GPU** — data loader workers per GPU\n\
         - **f_open** — file opens per second per worker ({fi:.0} for individual files, {fsh:.1} for shards)\n\
         - **m_ops** — metadata operations per file access (open + stat + close = {mops:.0})\n\
         - **p_layout** — share of accesses that reach the MDS ({pi:.0} individual, {psh:.2} shards, 0 object store)\n\n\
         $$\\text{{MDS supply}} = N_{{MDS}} \\times {per_node}\\ \\text{{ops/s}}$$\n\n\
         **Your latest run**\n\n```\n{panel}\n```\n\n\
         **Example: {gpus} GPUs, {w} workers, individual files:**\n\n```\n\
         MDS demand = {gpus} × {w} × {fi:.0} ops/s × {mops:.0} × {pi:.0}\n\
         \x20          = {demand} ops/s ≈ {demand_k}K ops/s\n\
         MDS supply = 1 node × {cap_k}K ops/s = {cap_k}K ops/s\n\
         Saturation = {demand_k} / {cap_k} = {overload:.0}× overload → training stalls\n\
         ```\n\n\
         **Sequential shards fix (same GPUs):**\n\n```\n\
         f_open ≈ {fsh:.1} opens/s per worker ({shard_s:.0} s per shard), p_layout = {psh:.2}\n\
         MDS demand = {gpus} × {w} × {fsh:.1} × {mops:.0} × {psh:.2} = {sh_demand:.1} ops/s\n\
         MDS supply = 1 node × {cap_k}K ops/s = {cap_k}K ops/s\n\
         Utilization = {sh_util:.1}% ← within bounds\n\
         ```\n\n\
         **Object Store vs POSIX Comparison:**\n\n\
         | Property | Lustre (POSIX) | S3 / GCS (Object) |\n\
         |---|:-:|:-:|\n\
         | Metadata server | Required (MDS) | None |\n\
         | Namespace scalability | MDS-bound | Distributed hash |\n\
         | Sequential BW | {supply} GB/s ({osts} OSTs) | ~same per region |\n\
         | Random access IOPS | NVMe-bound | Tiered by class |\n\
         | Training suitability | Good (with shards) | Excellent (any pattern) |\n\n\
         **Data Gravity Implication:**\n\n\
         Once training data is in S3 (us-east-1), moving {tb:.0} TB to a local Lustre cluster:\n\n```\n\
         T_transfer = {gb} GB / {link:.1} GB/s (100 Gbps) = {secs} s ≈ {hours:.1} hours\n\
         Cost       = {gb} GB × ${egress:.2}/GB (S3 egress) = ${egress_cost}\n\
         ```\n\n\
         Compare to running the training job in us-east-1 for {hrs:.0} hours:\n\n```\n\
         Cost = {ngpu:.0} × H100 spot × ${rate:.2}/GPU-hr × {hrs:.0}h = ${train_cost}\n\
         ```\n\n\
         Data gravity decision: move compute to data if transfer cost + latency exceeds the cost of \
         provisioning compute near the data. Here the transfer costs {share:.0}% of the job and \
         takes {hours:.1} hours; the transfer cost grows with the data, and at {even_tb} TB it \
         would match the job.",
        source = Section::PipelineArchitecture.reference(),
        shard_s = 1.0 / sh.files_open_per_sec_per_worker(),
        share = egress_usd / train_usd * 100.0,
        even_tb = thousands(train_usd / GRAVITY_EGRESS_USD_PER_GB / 1000.0),
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
        egress_cost = thousands(egress_usd),
        ngpu = GRAVITY_GPUS,
        rate = GRAVITY_USD_PER_GPU_HOUR,
        hrs = GRAVITY_HOURS,
        train_cost = thousands(train_usd),
    )
}
