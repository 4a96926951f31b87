//! The lab's narrative texts built from the model: the reveals, what limits a
//! run ([`what_binds`]), the Act II failure-state callouts and the formula
//! panel of a run. The MathPeeks live in [`super::mathpeek`].
//!
//! Every number is computed here from the constants, the act models and
//! [`super::limits`], never typed in; every claim is one the model makes true
//! for the run it describes (the tests check them over the whole input grid).
//! Texts are plain text or Markdown; renderers add the looks.

use super::act1::{self, IoInputs, IoOutputs, ReadPattern};
use super::act2::{self, DatasetLayout, MdsInputs, MdsOutputs, RecommendationKind};
use super::constants::*;
use super::content::{prediction, prefetch_fix_phrase, Callout, CalloutKind};
use super::design::ANSWER;
use super::figures::{act1_figures, act2_figures};
use super::limits::{io_limits, mds_limits, IoFactor, IoLimits, MdsBinding, MdsLimits};
use super::report::{Report, RunInputs};
use crate::choice::{Act, Choice};
use crate::format::{fmt_kilo, fmt_thousands, plural, separated, thousands};

pub use super::mathpeek::{ideal_read, mathpeek, IdealRead, MathPeek};

/// The reveal of `act` for a student who predicted `predicted`, quoting `latest`,
/// the student's latest run of that act, and what binds it.
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
        Act::Act1 => "access pattern mismatch",
        Act::Act2 => "metadata server becomes the bottleneck",
    }
}

/// `0.07` → `7%`, `0.595` → `60%`.
fn pct(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// A bandwidth in MB/s with thousands separators: `5,120 MB/s`.
fn mbs(gbs: f64) -> String {
    format!("{} MB/s", thousands(gbs * 1024.0))
}

/// What a factor stands for in this run: `random reads`, `1 worker per GPU`, …
fn factor_detail(factor: IoFactor, i: &IoInputs, l: &IoLimits) -> String {
    match (factor, l.fabric_gbs) {
        (IoFactor::Storage, Some(fabric)) => format!(
            "{} OSTs, {} of the fabric's {fabric:.0} GB/s",
            i.osts,
            thousands(l.storage_gbs)
        ),
        (IoFactor::Storage, None) => {
            format!("one node's {} GB/s of NVMe", thousands(l.storage_gbs))
        }
        (IoFactor::Pattern, _) => format!("{} reads", i.pattern),
        (IoFactor::Workers, _) => format!("{} per GPU", plural(i.workers, "worker")),
        (IoFactor::Fabric, fabric) => {
            format!(
                "{:.0} of {} GB/s",
                fabric.unwrap_or(0.0),
                thousands(l.storage_gbs)
            )
        }
    }
}

/// What caps the hardware, with its bandwidth: `the fabric's 400 GB/s`.
fn hardware_phrase(i: &IoInputs, l: &IoLimits) -> String {
    match l.fabric_gbs {
        Some(fabric) if l.more_osts_help => format!(
            "the {} OSTs' {} GB/s, below the {fabric:.0} GB/s fabric",
            i.osts,
            thousands(l.storage_gbs)
        ),
        Some(fabric) => format!(
            "the fabric's {fabric:.0} GB/s, below the {} OSTs' {} GB/s",
            i.osts,
            thousands(l.storage_gbs)
        ),
        None => format!(
            "one node's {} GB/s of NVMe for all {ACT1_GPU_COUNT} GPUs",
            thousands(l.storage_gbs)
        ),
    }
}

/// How reading and compute overlap in this run, one sentence.
fn overlap_sentence(i: &IoInputs, o: &IoOutputs, l: &IoLimits) -> String {
    let wait = if l.gpu_waits {
        format!("the GPU still waits {:.1} ms per step", o.t_wait_ms)
    } else {
        "the GPU never waits".to_string()
    };
    let mut text = match i.pattern {
        ReadPattern::Prefetch => format!(
            "Reading a batch takes {:.1} ms; the prefetch queue hides {:.0} ms of it behind {} of \
             compute, so {wait}.",
            l.t_io_ms,
            l.hidden_ms,
            plural(l.overlapped_batches, "step")
        ),
        ReadPattern::Sequential | ReadPattern::Random => format!(
            "Reading a batch takes {:.1} ms against a {:.0} ms compute step, so {wait}.",
            l.t_io_ms, COMPUTE_TIME_MS
        ),
    };
    if l.exceeds_sustainable {
        text.push_str(&format!(
            " In steady state storage sustains only {:.1}% of what the GPUs read; the model's \
             {:.1}% rests on that queue (see \"Where this model simplifies\" in `%mathpeek act1`).",
            l.sustainable_util_pct, o.gpu_util_pct
        ));
    }
    text
}

/// What binds an Act I run, in two or three sentences with its figures.
pub fn act1_binding_sentence(i: &IoInputs, o: &IoOutputs, l: &IoLimits) -> String {
    let share = format!(
        "each GPU gets {} of the {} it reads at batch {} ({:.1}%)",
        mbs(l.supply_per_gpu_gbs),
        mbs(l.demand_per_gpu_gbs),
        i.batch,
        l.supply_pct_of_demand
    );
    let what = if l.compute_bound {
        format!("Nothing on the I/O side binds it: {share}.")
    } else {
        match l.binding {
            IoFactor::Pattern | IoFactor::Workers => {
                let b = l.factor(l.binding);
                format!(
                    "What binds it: {} ({}) lets {} of the bandwidth through, costing {:.1} GB/s; \
                     {share}.",
                    l.binding.label(),
                    factor_detail(l.binding, i, l),
                    pct(b.multiplier),
                    b.cost_gbs,
                )
            }
            IoFactor::Storage | IoFactor::Fabric => format!(
                "What binds it: the hardware, {}, carries {:.1}% of the {} GB/s the GPUs read; \
                 {share}.",
                hardware_phrase(i, l),
                l.hardware_pct_of_demand,
                thousands(l.demand_total_gbs),
            ),
        }
    };
    format!("{what} {}", overlap_sentence(i, o, l))
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
    let d = &f.default_limits;
    let loss = |factor| 1.0 / d.factor(factor).multiplier;
    let run = format!(
        "{} {}",
        act1_run_line(i, o),
        act1_binding_sentence(i, o, &io_limits(i, o))
    );
    let body = match predicted {
        Choice::A => format!(
            "The numbers refute this: in the default scenario the cluster delivers {eff:.1} GB/s, \
             {used:.1}% of its {lustre:.0} GB/s peak. It is nearly idle, not saturated. What \
             loses the bandwidth is the *read pattern*: random 4K reads pass only {random:.0}% of \
             peak, a {rx:.1}× loss, more than one worker's {wx:.1}× or the fabric's {fx:.1}×. Raise \
             `--workers` and switch `--pattern` to sequential or prefetch to watch utilization \
             climb.",
            eff = f.default.effective_bw_gbs,
            used = f.default.storage_util_pct,
            lustre = f.lustre_bw_gbs,
            random = f.random_efficiency_pct,
            rx = loss(IoFactor::Pattern),
            wx = loss(IoFactor::Workers),
            fx = loss(IoFactor::Fabric),
        ),
        Choice::B => format!(
            "In the default scenario (1 worker, random reads, {osts} OSTs) the model gives \
             ~{default:.1}%: starved, while the cluster delivers {eff:.1} GB/s, {used:.1}% of its \
             peak. The bottleneck is not capacity but the *access pattern*: random 4K reads pass \
             {random:.0}% of peak bandwidth (a {rx:.1}× loss), one worker per GPU {w} ({wx:.1}×), \
             and the {fabric:.0} GB/s fabric {n} of the {lustre:.0} GB/s ({fx:.1}×). The fix is \
             **not more hardware**: from {from} OSTs up the fabric caps what reaches the GPUs, so \
             more OSTs change nothing. Read sequentially instead (e.g. WebDataset tar shards): \
             {s1:.0}% with one worker, {s4:.0}–{s8:.0}% with 4–8 workers, never above {smax:.0}% at \
             batch {batch}, where the GPUs would read {demand:.0} GB/s through the {fabric:.0} GB/s \
             fabric. Then overlap reading with compute: the prefetch pipeline reaches {pf}.",
            osts = f.osts,
            default = f.default_util_pct,
            eff = f.default.effective_bw_gbs,
            used = f.default.storage_util_pct,
            random = f.random_efficiency_pct,
            rx = loss(IoFactor::Pattern),
            w = pct(d.factor(IoFactor::Workers).multiplier),
            wx = loss(IoFactor::Workers),
            fabric = f.modelled_fabric_gbs,
            n = pct(d.factor(IoFactor::Fabric).multiplier),
            lustre = f.lustre_bw_gbs,
            fx = loss(IoFactor::Fabric),
            from = f.fabric_binds_from_osts,
            s1 = f.sequential_util_pct[0],
            s4 = f.sequential_util_pct[1],
            s8 = f.sequential_util_pct[2],
            smax = f.sequential_best_util_pct,
            batch = f.batch,
            demand = d.demand_total_gbs,
            pf = prefetch_fix_phrase(),
        ),
        Choice::C => format!(
            "InfiniBand HDR-200 carries {port:.0} GB/s per port. One port per OST node would give \
             the {osts}-node cluster {per_ost:.0} GB/s of fabric; the analyzer models {ports:.0} \
             ports, {fabric:.0} GB/s. In the default run the fabric carries {eff:.1} GB/s of that: \
             it is not saturated, so it is not why utilization is ~{default:.0}%. It is a real \
             ceiling, though: from {from} OSTs up the fabric, not the OSTs, caps what reaches the \
             GPUs (×{n:.2} at {osts} OSTs), and at batch {batch} the GPUs would read {demand:.0} \
             GB/s, more than it carries, which is why sequential reads stop at {smax:.0}%. What \
             starves the default run is the access pattern: random 4K reads pass {random:.0}% of \
             peak, a {rx:.1}× loss against the fabric's {fx:.1}×.",
            port = IB_HDR200_BW_GBS,
            osts = f.osts,
            per_ost = f.fabric_per_ost_port_gbs,
            ports = IB_FABRIC_PORTS,
            fabric = f.modelled_fabric_gbs,
            eff = f.default.effective_bw_gbs,
            default = f.default_util_pct,
            from = f.fabric_binds_from_osts,
            n = d.factor(IoFactor::Fabric).multiplier,
            batch = f.batch,
            demand = d.demand_total_gbs,
            smax = f.sequential_best_util_pct,
            random = f.random_efficiency_pct,
            rx = loss(IoFactor::Pattern),
            fx = loss(IoFactor::Fabric),
        ),
        Choice::D => format!(
            "Utilization this low is not normal. In the analyzer, 4 workers with the prefetch \
             pipeline raise utilization to {fix:.0}% on the same storage hardware, because the \
             model hides reading behind up to {maxd} steps of compute (see \"Where this model \
             simplifies\" in `%mathpeek act1`). This is a configuration failure, not a hardware \
             limit.",
            fix = f.prefetch_fix_util_pct,
            maxd = MAX_OVERLAPPED_BATCHES,
        ),
    };
    format!("{body}\n\n{run}")
}

fn act2_run_line(i: &MdsInputs, o: &MdsOutputs) -> String {
    format!(
        "Your latest run ({}): {}K metadata ops/s against {}K capacity; bandwidth {:.1} of \
         {} GB/s.",
        RunInputs::Act2(*i).settings().join(", "),
        fmt_kilo(o.ops_demand_per_s / 1000.0),
        thousands(f64::from(o.mds_capacity_per_s) / 1000.0),
        o.bw_demand_gbs,
        thousands(o.bw_supply_gbs)
    )
}

/// What binds an Act II design and what fails first as it grows, in two sentences.
pub fn act2_binding_sentence(i: &MdsInputs, o: &MdsOutputs, l: &MdsLimits) -> String {
    let metadata = if l.uses_mds {
        let needs = if l.needed_mds > i.mds && !l.mds_slider_suffices {
            format!(
                ", and it needs {} MDS nodes, more than the designer's {}",
                l.needed_mds, l.max_mds
            )
        } else if l.needed_mds > i.mds {
            format!(", and it needs {} MDS nodes", l.needed_mds)
        } else {
            String::new()
        };
        format!(
            "metadata at {} of the MDS capacity{needs}",
            load(l.metadata_load_pct)
        )
    } else {
        "no metadata server (an object store)".to_string()
    };
    let bandwidth = format!(
        "bandwidth at {} of the {} GB/s supply",
        load(l.bandwidth_load_pct),
        thousands(o.bw_supply_gbs)
    );
    let now = match l.binding {
        MdsBinding::Metadata => format!("What binds it: {metadata}; {bandwidth}."),
        MdsBinding::Bandwidth => format!("What binds it: {bandwidth}; {metadata}."),
        MdsBinding::Both => format!("Both bind: {metadata}; {bandwidth}."),
        MdsBinding::Neither => format!("Nothing binds it yet: {metadata}; {bandwidth}."),
    };
    format!("{now} {}", fails_first_sentence(l))
}

/// Which limit the design meets first as the GPU count grows (its other settings kept).
fn fails_first_sentence(l: &MdsLimits) -> String {
    let clause = |what: &str, gpus: Option<u32>| match gpus {
        Some(g) => format!("{what} saturates from {} GPUs", fmt_thousands(u64::from(g))),
        None => format!(
            "{what} never saturates up to {} GPUs",
            fmt_thousands(u64::from(GPUS.max))
        ),
    };
    let both = format!(
        "{}, {}",
        clause("metadata", l.metadata_fails_at_gpus),
        clause("bandwidth", l.bandwidth_fails_at_gpus)
    );
    let verdict = match l.fails_first {
        Some(MdsBinding::Metadata) => ": metadata fails first",
        Some(MdsBinding::Bandwidth) => ": bandwidth fails first",
        Some(_) => ": both at once",
        None => "",
    };
    format!("As the GPU count grows with these settings, {both}{verdict}.")
}

/// A load in percent, with two decimals below 1%: `614%`, `0.02%`, `under 0.01%`.
fn load(pct: f64) -> String {
    if pct > 0.0 && pct < 0.01 {
        "under 0.01%".to_string()
    } else if pct < 1.0 {
        format!("{pct:.2}%")
    } else {
        format!("{}%", separated(pct, 0))
    }
}

fn act2_reveal(predicted: Choice, i: &MdsInputs, o: &MdsOutputs) -> String {
    let f = act2_figures();
    let s = &f.outputs;
    let run = format!(
        "{} {}",
        act2_run_line(i, o),
        act2_binding_sentence(i, o, &mds_limits(i, o))
    );
    let gpus = thousands(f64::from(f.gpus));
    let connections = thousands(f64::from(f.inputs.total_workers()));
    let demand_k = fmt_kilo(s.ops_demand_per_s / 1000.0);
    let capacity_k = thousands(f64::from(s.mds_capacity_per_s) / 1000.0);
    let body = match predicted {
        Choice::A => format!(
            "{gpus} GPUs × {per_gpu:.0} MB/s = {bw:.0} GB/s demand against {supply} GB/s supply — \
             a {margin:.0}× safety margin. The bandwidth math the CTO computed is correct. But the \
             metadata server running at {capacity_k}K ops/s capacity against {demand_k}K ops/s \
             demand (a {overload:.0}× overload) fails first and catastrophically. Adding more OST \
             nodes improves bandwidth capacity but does nothing for the MDS bottleneck.",
            per_gpu = BW_DEMAND_PER_GPU_GBS * 1000.0,
            bw = s.bw_demand_gbs,
            supply = thousands(s.bw_supply_gbs),
            margin = f.bw_margin.floor(),
            overload = f.overload.floor(),
        ),
        Choice::B => format!(
            "At {gpus} GPUs × {workers} workers = {connections} concurrent connections, all \
             generating file-open requests against the Lustre namespace: **{demand_k}K ops/s \
             demand** against **{capacity_k}K ops/s MDS capacity** — a {overload:.0}× overload. \
             Meanwhile, bandwidth demand is {gpus} × {per_gpu:.0} MB/s = {bw:.0} GB/s — well \
             within the {supply} GB/s supply. The bandwidth safety margin the team computed is \
             real; the metadata capacity they never measured is the actual constraint. Every \
             add-OST investment solves the wrong problem.",
            workers = f.workers_per_gpu,
            overload = f.overload.floor(),
            per_gpu = BW_DEMAND_PER_GPU_GBS * 1000.0,
            bw = s.bw_demand_gbs,
            supply = thousands(s.bw_supply_gbs),
        ),
        Choice::C => "For *bandwidth*, this is correct — adding OSTs increases aggregate \
             throughput. But the Lustre Metadata Server (MDS) is a separate component that manages \
             the filesystem namespace. It does not scale with OST node count. A single MDS serves \
             all namespace operations for the entire cluster, and its throughput ceiling is a hard \
             constraint no OST addition can move."
            .to_string(),
        Choice::D => format!(
            "InfiniBand HDR-200 introduces ~{latency:.0} microseconds of fabric latency — far below \
             the {compute:.0} ms batch processing window. Each {port:.0} GB/s IB port carries \
             {ratio:.0}× a GPU's {per_gpu:.0} MB/s: the network fabric is not the constraint (the \
             designer has no network term at all). The Lustre metadata server, handling every \
             file-open and close operation for {connections} concurrent workers, saturates at \
             {capacity_k}K ops/s against a demand of {demand_k}K ops/s. Network latency is \
             measurable but negligible; metadata throughput is the hard ceiling.",
            latency = IB_LATENCY_US,
            compute = COMPUTE_TIME_MS,
            port = IB_HDR200_BW_GBS,
            ratio = (IB_HDR200_BW_GBS / BW_DEMAND_PER_GPU_GBS).floor(),
            per_gpu = BW_DEMAND_PER_GPU_GBS * 1000.0,
        ),
    };
    format!("{body}\n\n{run}")
}

/// "What limits this run": the limits of `report` with its figures, as an
/// information callout (Markdown bullets).
pub fn what_binds(report: &Report) -> Callout {
    match report {
        Report::Act1 { inputs, outputs } => act1_what_binds(inputs, outputs),
        Report::Act2 { inputs, outputs } => act2_what_binds(inputs, outputs),
    }
}

fn act1_what_binds(i: &IoInputs, o: &IoOutputs) -> Callout {
    let l = io_limits(i, o);
    let mut factors: Vec<_> = l.factors.iter().filter(|f| f.multiplier < 1.0).collect();
    factors.sort_by(|a, b| a.multiplier.total_cmp(&b.multiplier));
    let mut body = format!(
        "- **Effective bandwidth {:.1} GB/s**, {:.1}% of the storage's {} GB/s peak.\n",
        l.effective_gbs,
        o.storage_util_pct,
        thousands(l.storage_gbs)
    );
    for f in factors {
        let note = match f.factor {
            IoFactor::Fabric => "; more OSTs change nothing",
            IoFactor::Storage => "; more OSTs would add it",
            IoFactor::Pattern | IoFactor::Workers => "",
        };
        body.push_str(&format!(
            "- {} ({}): ×{:.3}, costs {:.1} GB/s{note}.\n",
            capitalized(f.factor.label()),
            factor_detail(f.factor, i, &l),
            f.multiplier,
            f.cost_gbs
        ));
    }
    body.push_str(&format!(
        "- **Demand**: each GPU reads {demand} at batch {batch} ({batch} × {sample:.0} MB every \
         {compute:.0} ms) and gets {supply}, {ratio:.1}% of it; all {gpus} GPUs get {eff:.1} of \
         the {total} GB/s they read.\n",
        demand = mbs(l.demand_per_gpu_gbs),
        batch = i.batch,
        sample = SAMPLE_SIZE_MB,
        compute = COMPUTE_TIME_MS,
        supply = mbs(l.supply_per_gpu_gbs),
        ratio = l.supply_pct_of_demand,
        gpus = ACT1_GPU_COUNT,
        eff = l.effective_gbs,
        total = thousands(l.demand_total_gbs),
    ));
    body.push_str(&format!(
        "- **Hardware ceiling**: {}, {:.1}% of what the GPUs read; no read pattern or worker \
         count passes more.\n",
        hardware_phrase(i, &l),
        l.hardware_pct_of_demand
    ));
    body.push_str(&format!("- {}", overlap_sentence(i, o, &l)));
    let title = if l.compute_bound {
        "Nothing on the I/O side limits this run".to_string()
    } else {
        format!(
            "What limits this run: {} ({} of what the GPUs need gets through it)",
            l.binding.label(),
            pct(l.binding_share)
        )
    };
    Callout::new(CalloutKind::Info, title, body)
}

fn act2_what_binds(i: &MdsInputs, o: &MdsOutputs) -> Callout {
    let l = mds_limits(i, o);
    let title = match l.binding {
        MdsBinding::Metadata => "What limits this design: the metadata server",
        MdsBinding::Bandwidth => "What limits this design: bandwidth",
        MdsBinding::Both => "What limits this design: metadata and bandwidth",
        MdsBinding::Neither => "Nothing limits this design yet",
    };
    let metadata = if l.uses_mds {
        let slider = if l.mds_slider_suffices {
            format!("{} would serve it", plural(l.needed_mds, "MDS node"))
        } else {
            format!(
                "it needs {} MDS nodes, more than the designer's {}",
                l.needed_mds, l.max_mds
            )
        };
        format!(
            "- **Metadata**: {}K ops/s against {}K ({}), {} of capacity; {slider}.\n",
            fmt_kilo(o.ops_demand_per_s / 1000.0),
            thousands(f64::from(o.mds_capacity_per_s) / 1000.0),
            plural(i.mds, "MDS node"),
            load(l.metadata_load_pct),
        )
    } else {
        "- **Metadata**: an object store sends no access to a metadata server.\n".to_string()
    };
    let body = format!(
        "{metadata}- **Bandwidth**: {:.1} GB/s against {} GB/s of supply, {}.\n- {}",
        o.bw_demand_gbs,
        thousands(o.bw_supply_gbs),
        load(l.bandwidth_load_pct),
        fails_first_sentence(&l)
    );
    let kind = match l.binding {
        MdsBinding::Neither => CalloutKind::Info,
        _ => CalloutKind::Warn,
    };
    Callout::new(kind, title, body)
}

fn capitalized(text: &str) -> String {
    let text = text.strip_prefix("the ").unwrap_or(text);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "Bandwidth demand of 41.0 GB/s is well within the 1,344 GB/s supply."
fn bandwidth_sentence(o: &MdsOutputs) -> String {
    if o.bw_saturated {
        format!(
            "Bandwidth demand of {:.1} GB/s also exceeds the {} GB/s supply.",
            o.bw_demand_gbs,
            thousands(o.bw_supply_gbs)
        )
    } else {
        format!(
            "Bandwidth demand of {:.1} GB/s is well within the {} GB/s supply.",
            o.bw_demand_gbs,
            thousands(o.bw_supply_gbs)
        )
    }
}

/// The failure-state callout the Act II designer shows under a run: the seed's
/// four states, each claim conditioned on what the model says for this design.
pub fn act2_callout(i: &MdsInputs, o: &MdsOutputs) -> Callout {
    let demand_k = fmt_kilo(o.ops_demand_per_s / 1000.0);
    let capacity_k = thousands(f64::from(o.mds_capacity_per_s) / 1000.0);
    if i.layout == DatasetLayout::ObjectStore {
        return object_store_callout(i, o);
    }
    if o.mds_saturated {
        let opens_ratio = DatasetLayout::Individual.files_open_per_sec_per_worker()
            / DatasetLayout::Shards.files_open_per_sec_per_worker();
        let shards = act2::evaluate(&MdsInputs {
            layout: DatasetLayout::Shards,
            ..*i
        });
        let bandwidth = if o.bw_saturated {
            format!(
                "and bandwidth fails too ({:.1} GB/s of demand against {} GB/s of supply);",
                o.bw_demand_gbs,
                thousands(o.bw_supply_gbs)
            )
        } else {
            format!(
                "even though the bandwidth is fine ({:.1} of {} GB/s),",
                o.bw_demand_gbs,
                thousands(o.bw_supply_gbs)
            )
        };
        let extra = o.needed_mds.saturating_sub(i.mds);
        let add = if o.needed_mds <= MDS_NODES.max {
            format!("add {extra} more MDS nodes ({} in all)", o.needed_mds)
        } else {
            format!(
                "add {extra} more MDS nodes ({} in all, more than the designer's {max}: \
                 `--mds {max}` serves {cap}K ops/s)",
                o.needed_mds,
                max = MDS_NODES.max,
                cap = thousands(f64::from(MDS_NODES.max * MDS_OPS_PER_NODE) / 1000.0),
            )
        };
        return Callout::new(
            CalloutKind::Danger,
            "Metadata server saturation. This cluster cannot function at this configuration.",
            format!(
                "Demand: **{demand_k}K ops/s** | MDS capacity: **{capacity_k}K ops/s** ({mds}).\n\n\
                 **{connections} concurrent connections** ({gpus} GPUs × {workers}) are all \
                 generating file-open requests to the same metadata service. The MDS is the \
                 coordination point for all namespace operations — {bandwidth} every file access \
                 requires an MDS round-trip for the inode lookup. To fix: {add}, switch to \
                 sequential shards (`--layout shards`: {ratio:.0}× fewer file opens, the MDS then \
                 at {shards_util}), or migrate to object storage entirely (`--layout \
                 object_store`).",
                mds = plural(i.mds, "MDS node"),
                connections = thousands(f64::from(i.total_workers())),
                gpus = thousands(f64::from(i.gpus)),
                workers = plural(i.workers_per_gpu, "worker"),
                ratio = opens_ratio,
                shards_util = load(shards.mds_util_pct),
            ),
        );
    }
    if o.mds_util_pct > MDS_WARN_UTIL_PCT {
        let doubled_bw = 2.0 * o.bw_demand_gbs;
        let double = if o.bw_saturated {
            "Doubling the GPU count will push this into saturation too.".to_string()
        } else if doubled_bw > o.bw_supply_gbs {
            format!(
                "Doubling the GPU count will push this into saturation, and bandwidth with it \
                 ({doubled_bw:.1} GB/s of demand against {} GB/s).",
                thousands(o.bw_supply_gbs)
            )
        } else {
            format!(
                "Doubling the GPU count will push this into saturation before bandwidth demand \
                 becomes significant ({doubled_bw:.1} of {} GB/s).",
                thousands(o.bw_supply_gbs)
            )
        };
        let watch = if o.bw_saturated {
            format!(
                "Bandwidth is a constraint too: {:.1} GB/s of demand already exceeds the {} GB/s \
                 supply.",
                o.bw_demand_gbs,
                thousands(o.bw_supply_gbs)
            )
        } else {
            "Bandwidth headroom is not the constraint to watch.".to_string()
        };
        return Callout::new(
            CalloutKind::Warn,
            format!(
                "MDS approaching saturation: {:.0}% utilization.",
                o.mds_util_pct
            ),
            format!(
                "At {gpus} GPUs with {layout}, metadata operations are consuming more than \
                 {warn:.0}% of MDS capacity. {double} The architectural decision: switch to \
                 sequential shards now, or provision {need} proactively (enough for twice the \
                 GPUs). {watch}",
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
        (CalloutKind::Success, "Architecture is currently feasible.")
    };
    let push_inputs = MdsInputs {
        gpus: GPUS.max,
        workers_per_gpu: 8,
        layout: DatasetLayout::Individual,
        ..*i
    };
    let push = act2::evaluate(&push_inputs);
    let outcome = format!(
        "{}K ops/s against {}K",
        fmt_kilo(push.ops_demand_per_s / 1000.0),
        thousands(f64::from(push.mds_capacity_per_s) / 1000.0)
    );
    let tail = if push.bw_saturated {
        format!(
            "The MDS will saturate ({outcome}), and on {} GB/s so will bandwidth ({:.1} GB/s).",
            thousands(push.bw_supply_gbs),
            push.bw_demand_gbs
        )
    } else {
        format!(
            "The bandwidth will still be fine ({:.1} of {} GB/s); the MDS will not \
             ({outcome}).",
            push.bw_demand_gbs,
            thousands(push.bw_supply_gbs)
        )
    };
    Callout::new(
        kind,
        title,
        format!(
            "MDS utilization: {util}. {bandwidth} Push the GPU count to {gpus} with individual \
             files and 8 workers (`--gpus {max} --workers 8 --layout individual`) to see the \
             metadata bottleneck emerge. {tail}",
            util = load(o.mds_util_pct),
            bandwidth = bandwidth_sentence(o),
            gpus = fmt_thousands(u64::from(GPUS.max)),
            max = GPUS.max,
        ),
    )
}

fn object_store_callout(i: &MdsInputs, o: &MdsOutputs) -> Callout {
    let individual = act2::evaluate(&MdsInputs {
        layout: DatasetLayout::Individual,
        ..*i
    });
    let bandwidth = if o.bw_saturated {
        format!(
            "The metadata ceiling disappears, but the bandwidth remains the same: {:.1} GB/s of \
             demand still exceeds the {} GB/s supply.",
            o.bw_demand_gbs,
            thousands(o.bw_supply_gbs)
        )
    } else {
        format!(
            "The bandwidth remains the same ({:.1} of {} GB/s), but the scaling ceiling \
             disappears.",
            o.bw_demand_gbs,
            thousands(o.bw_supply_gbs)
        )
    };
    let back = if individual.mds_saturated {
        format!(
            "to see the bottleneck re-emerge ({}K ops/s against {}K).",
            fmt_kilo(individual.ops_demand_per_s / 1000.0),
            thousands(f64::from(individual.mds_capacity_per_s) / 1000.0)
        )
    } else {
        format!(
            "to see the load the MDS would carry here: {} of its capacity, not yet saturated.",
            load(individual.mds_util_pct)
        )
    };
    Callout::new(
        if o.bw_saturated {
            CalloutKind::Warn
        } else {
            CalloutKind::Success
        },
        "Object store bypasses the MDS bottleneck entirely.",
        format!(
            "Object stores (S3, GCS, Azure Blob) have no POSIX namespace and no metadata server. \
             Each object is accessed by a globally unique key — no directory traversal, no file \
             locking, no inode table. This is the primary architectural reason object stores \
             dominate production ML training pipelines at scale. {bandwidth} Switch back to \
             individual files (`--layout individual`) {back}"
        ),
    )
}

/// What the designer recommends for a design. The seed's decision (the model's
/// `recommendation` output, kept bit for bit) ignores bandwidth; where that
/// makes its words false (on one NVMe node bandwidth runs out), the bandwidth
/// fact replaces or follows them.
pub fn recommendation(i: &MdsInputs, o: &MdsOutputs) -> String {
    let l = mds_limits(i, o);
    let short = format!(
        "{:.1} GB/s of bandwidth demand exceeds the {} GB/s supply",
        o.bw_demand_gbs,
        thousands(o.bw_supply_gbs)
    );
    match RecommendationKind::of(i.layout, o.mds_saturated, o.mds_util_pct) {
        RecommendationKind::ObjectStore => match l.bandwidth_fails_at_gpus {
            None => o.recommendation.clone(),
            Some(_) if o.bw_saturated => {
                format!("Object store — no MDS. But bandwidth sets the ceiling: {short}.")
            }
            Some(gpus) => format!(
                "Object store — no MDS. Bandwidth sets the ceiling instead: demand exceeds the \
                 {} GB/s supply from {} GPUs.",
                thousands(o.bw_supply_gbs),
                fmt_thousands(u64::from(gpus))
            ),
        },
        RecommendationKind::Sound if o.bw_saturated => {
            format!("The MDS copes at current scale, but {short}.")
        }
        _ if o.bw_saturated => format!("{} Bandwidth is short too: {short}.", o.recommendation),
        _ => o.recommendation.clone(),
    }
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
         Headroom       = (supply − demand) / supply = {headroom}% of {supply} GB/s",
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
        headroom = separated(o.bw_headroom_pct, 0),
        supply = thousands(o.bw_supply_gbs),
    )
}
