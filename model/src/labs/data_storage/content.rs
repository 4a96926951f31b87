//! The lab's words as data: deployment contexts, the act introductions, both
//! prediction questions and both reflection questions with their options, the
//! answer key and the feedback for every option.
//!
//! Texts are plain text or Markdown (no HTML). Every number in them is computed
//! from the lab's constants or model through [`super::figures`].

use super::act1::{self, IoInputs, ReadPattern};
use super::act2::{self, DatasetLayout};
use super::constants::*;
use super::context::Context;
use super::design::ANSWER;
use super::figures::{act1_figures, act2_figures};
use crate::choice::{Act, Choice};
pub use crate::content::{Callout, CalloutKind, Question};
use crate::format::{fmt_thousands, plural};

/// Whether `choice` is the key of every question of this lab (B).
pub fn is_correct(choice: Choice) -> bool {
    choice == ANSWER
}

/// What the deployment context means for the lab, in the seed's words where
/// they are true of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextInfo {
    /// The context's label.
    pub label: &'static str,
    /// The option's one-line description.
    pub option: String,
    /// Its storage bandwidth, with the arithmetic.
    pub bandwidth: String,
    /// Its architecture note.
    pub architecture: String,
    /// What each act does with the context.
    pub acts: String,
}

/// The description of `context`.
pub fn context_info(context: Context) -> ContextInfo {
    let f = act1_figures();
    match context {
        Context::Nvme => ContextInfo {
            label: context.label(),
            option: format!(
                "NVMe: one node, {NVME_DRIVES_PER_NODE} drives at {NVME_SEQ_BW_GBS:.0} GB/s each"
            ),
            bandwidth: format!(
                "{NVME_DRIVES_PER_NODE} × NVMe = {NVME_NODE_BW_GBS:.0} GB/s local storage bandwidth per node"
            ),
            architecture: "Local drives: no network fabric between storage and GPUs".to_string(),
            acts: format!(
                "In Act I the analyzer still feeds {gpus} GPUs, all from this node's \
                 {nvme:.0} GB/s and with no fabric factor: no setting gets past \
                 {best:.1}% utilization, and the OST slider plays no part. In Act II the designer \
                 supplies {nvme:.0} GB/s for any GPU count, and still counts every file access \
                 against the metadata-server capacity of the MDS slider, as on Lustre.",
                gpus = f.gpus,
                nvme = NVME_NODE_BW_GBS,
                best = f.nvme_best_util_pct,
            ),
        },
        Context::DistributedFs => ContextInfo {
            label: context.label(),
            option: "Distributed FS: a Lustre/GPFS cluster of OST nodes".to_string(),
            bandwidth: format!(
                "{osts} OST nodes × {LUSTRE_OST_BW_GBS:.0} GB/s = {lustre:.0} GB/s aggregate Lustre bandwidth",
                osts = f.osts,
                lustre = f.lustre_bw_gbs,
            ),
            architecture: format!(
                "A metadata server (MDS) coordinates all namespace operations, and the GPUs \
                 reach the OSTs through an IB fabric of {ports:.0} × {port:.0} GB/s = \
                 {fabric:.0} GB/s",
                ports = IB_FABRIC_PORTS,
                port = IB_HDR200_BW_GBS,
                fabric = f.modelled_fabric_gbs,
            ),
            acts: format!(
                "Act I's analyzer starts from these {osts} OSTs (`--osts` changes them); from \
                 {from} OSTs up the {fabric:.0} GB/s fabric, not the OSTs, caps what reaches the \
                 GPUs. Act II's design has {act2_osts} OSTs, {supply} GB/s.",
                osts = f.osts,
                from = f.fabric_binds_from_osts,
                fabric = f.modelled_fabric_gbs,
                act2_osts = ACT2_OST_COUNT,
                supply = fmt_thousands(act2::bw_supply_gbs(Context::DistributedFs) as u64),
            ),
        },
    }
}

/// The callout shown when the context is set or shown.
pub fn context_callout(context: Context) -> Callout {
    let info = context_info(context);
    Callout::new(
        CalloutKind::Info,
        format!("Context: {}", info.label),
        format!(
            "Storage bandwidth: {}. Architecture note: {}. {}",
            info.bandwidth, info.architecture, info.acts
        ),
    )
}

/// A choice of a selector (read pattern, dataset layout) as students read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionText {
    /// The short label ("Sequential").
    pub label: &'static str,
    /// What the option means in the model, with its figures.
    pub description: String,
}

/// The read pattern as the seed's dropdown describes it, with the model's figures.
pub fn pattern_text(pattern: ReadPattern) -> OptionText {
    let pct = pattern.pattern_factor() * 100.0;
    match pattern {
        ReadPattern::Sequential => OptionText {
            label: "Sequential",
            description: format!(
                "large chunks, Lustre-optimal: {pct:.0}% of peak bandwidth, the highest of the three"
            ),
        },
        ReadPattern::Random => OptionText {
            label: "Random",
            description: format!("small 4K reads, worst case: {pct:.0}% of peak bandwidth"),
        },
        ReadPattern::Prefetch => OptionText {
            label: "Prefetch pipeline",
            description: format!(
                "async, overlapped with compute: {pct:.0}% of peak bandwidth, and reading hidden \
                 behind up to {MAX_OVERLAPPED_BATCHES} batches of compute"
            ),
        },
    }
}

/// The dataset layout as the seed's dropdown describes it, with the model's figures.
pub fn layout_text(layout: DatasetLayout) -> OptionText {
    let opens = layout.files_open_per_sec_per_worker();
    let pressure = layout.metadata_pressure_factor() * 100.0;
    match layout {
        DatasetLayout::Shards => OptionText {
            label: "Sequential shards",
            description: format!(
                "large files read sequentially: each worker opens {opens:.1} files per second, and \
                 {pressure:.0}% of those accesses reach the metadata server"
            ),
        },
        DatasetLayout::Individual => OptionText {
            label: "Individual files",
            description: format!(
                "one file per sample: each worker opens {opens:.0} files per second, every one \
                 through the metadata server"
            ),
        },
        DatasetLayout::ObjectStore => OptionText {
            label: "Object store",
            description: format!(
                "no POSIX namespace, objects addressed by key: {opens:.0} requests per second per \
                 worker, none through a metadata server"
            ),
        },
    }
}

/// An act's opening: its title, time budget, the situation and the stakeholder's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActIntro {
    /// The act's title.
    pub title: &'static str,
    /// Its time budget.
    pub minutes: &'static str,
    /// The situation in two sentences.
    pub situation: String,
    /// Who writes in.
    pub sender: &'static str,
    /// What they write.
    pub message: String,
}

/// The opening of `act`.
pub fn act_intro(act: Act) -> ActIntro {
    match act {
        Act::Act1 => {
            let f = act1_figures();
            ActIntro {
                title: "The I/O Bottleneck",
                minutes: "12–15 minutes",
                situation: format!(
                    "Your platform has {gpus} H100 GPUs and a {osts}-node Lustre cluster with \
                     {lustre:.0} GB/s of aggregate bandwidth, yet GPU utilization is about {util:.0}%. \
                     Commit to a diagnosis before you touch the analyzer.",
                    gpus = f.gpus,
                    osts = f.osts,
                    lustre = f.lustre_bw_gbs,
                    util = f.default_util_pct,
                ),
                sender: "Training Platform Lead",
                message: format!(
                    "We have {gpus} H100s, each able to consume {hbm} GB/s from HBM. Our training \
                     data sits on a {osts}-node Lustre cluster: each OST node has {drives} NVMe SSDs \
                     at {nvme:.0} GB/s, so {ost:.0} GB/s per node and {lustre:.0} GB/s in aggregate. \
                     During data loading our GPUs sit at about {util:.0}% utilization. The \
                     infrastructure team says Lustre is healthy and nowhere near saturated. We are \
                     about to ask for budget for another 256 GPUs. Should we?",
                    gpus = f.gpus,
                    hbm = fmt_thousands(f.hbm_bw_gbs as u64),
                    osts = f.osts,
                    drives = NVME_DRIVES_PER_NODE,
                    nvme = NVME_SEQ_BW_GBS,
                    ost = LUSTRE_OST_BW_GBS,
                    lustre = f.lustre_bw_gbs,
                    util = f.default_util_pct,
                ),
            }
        }
        Act::Act2 => {
            let f = act2_figures();
            ActIntro {
                title: "Distributed Storage Architecture",
                minutes: "20–25 minutes",
                situation: format!(
                    "The pipeline is fixed. Now design the storage layer of a {gpus}-GPU cluster. \
                     The bandwidth arithmetic looks fine; at this scale a different limit appears, \
                     one that buying hardware does not move.",
                    gpus = fmt_thousands(u64::from(f.gpus)),
                ),
                sender: "Infrastructure CTO",
                message: format!(
                    "We are building a new {gpus}-GPU training cluster: {osts} Lustre OST nodes, an \
                     InfiniBand fabric, compute and storage separated. Aggregate bandwidth is \
                     {osts} × {ost:.0} GB/s = {supply} GB/s. At {per_gpu:.0} MB/s per GPU we need \
                     only {demand:.0} GB/s, a {margin:.0}× safety margin. The storage team says the \
                     design is sound, and it must carry the next three years of growth. What are we \
                     missing?",
                    gpus = fmt_thousands(u64::from(f.gpus)),
                    osts = ACT2_OST_COUNT,
                    ost = LUSTRE_OST_BW_GBS,
                    supply = fmt_thousands(f.outputs.bw_supply_gbs as u64),
                    per_gpu = BW_DEMAND_PER_GPU_GBS * 1000.0,
                    demand = f.outputs.bw_demand_gbs,
                    margin = f.bw_margin.floor(),
                ),
            }
        }
    }
}

/// The prediction question of `act`.
pub fn prediction(act: Act) -> Question {
    match act {
        Act::Act1 => {
            let f = act1_figures();
            let util = f.default_util_pct.round();
            Question {
                prompt: format!(
                    "GPU utilization is about {util:.0}% despite a {:.0} GB/s Lustre cluster. \
                     The most likely root cause is:",
                    f.lustre_bw_gbs
                ),
                options: [
                    format!(
                        "The Lustre cluster is saturated — {:.0} GB/s is not enough for {} GPUs",
                        f.lustre_bw_gbs, f.gpus
                    ),
                    "Small random reads — the access pattern does not match Lustre's \
                     sequential throughput profile"
                        .to_string(),
                    "Network bandwidth between the Lustre nodes and the GPU compute nodes is \
                     saturated"
                        .to_string(),
                    format!(
                        "{util:.0}% utilization is normal — data loading always accounts for \
                         {:.0}% of training time",
                        100.0 - util
                    ),
                ],
            }
        }
        Act::Act2 => {
            let f = act2_figures();
            Question {
                prompt: format!(
                    "A {}-GPU cluster with {} GB/s of aggregate Lustre bandwidth. What fails first?",
                    fmt_thousands(u64::from(f.gpus)),
                    fmt_thousands(f.outputs.bw_supply_gbs as u64)
                ),
                options: [
                    format!(
                        "The Lustre cluster hits bandwidth saturation immediately at {} GPUs",
                        fmt_thousands(u64::from(f.gpus))
                    ),
                    format!(
                        "At {} GPUs with {} workers each, the metadata server (MDS) becomes the \
                         bottleneck",
                        fmt_thousands(u64::from(f.gpus)),
                        f.workers_per_gpu
                    ),
                    "Storage is always sufficient — just add OST nodes as demand grows".to_string(),
                    "Separating compute from storage adds unacceptable latency (> 1 ms per read)"
                        .to_string(),
                ],
            }
        }
    }
}

/// The reflection question of `act`.
pub fn reflection(act: Act) -> Question {
    let options = |o: [&str; 4]| o.map(str::to_string);
    match act {
        Act::Act1 => Question {
            prompt: "What is the primary fix for small random reads on a distributed file system?"
                .to_string(),
            options: options([
                "Buy faster NVMe SSDs for each Lustre OST node",
                "Pre-shuffle and pack the data into large sequential shards (WebDataset / TFDS format)",
                "Add more DataLoader processes to use more RAM cache",
                "Replace the file system with a database for faster indexed lookups",
            ]),
        },
        Act::Act2 => Question {
            prompt: "Why is object storage (S3/GCS) often preferred over POSIX file systems for \
                     training data at scale?"
                .to_string(),
            options: options([
                "Object stores are faster for sequential reads than POSIX file systems",
                "Object stores remove the metadata bottleneck — objects are addressed by key, \
                 with no directory traversal",
                "POSIX file systems cannot store files larger than 4 GB",
                "Object stores accept more concurrent connections per storage node than POSIX",
            ]),
        },
    }
}

/// The feedback for answering the reflection of `act` with `choice`.
pub fn reflection_feedback(act: Act, choice: Choice) -> Callout {
    let (kind, title) = if is_correct(choice) {
        (CalloutKind::Success, "Correct.".to_string())
    } else {
        (
            CalloutKind::Warn,
            format!("Not the best answer. The correct answer is {ANSWER}."),
        )
    };
    let body = match act {
        Act::Act1 => act1_reflection_body(choice),
        Act::Act2 => act2_reflection_body(choice),
    };
    Callout::new(kind, title, body)
}

fn act1_reflection_body(choice: Choice) -> String {
    let f = act1_figures();
    let l = &f.default_limits;
    match choice {
        Choice::A => format!(
            "The drives are not the bottleneck. Each OST node already serves {ost:.0} GB/s \
             ({drives} × {nvme:.0} GB/s NVMe), and from {from} OSTs up the analyzer's {fabric:.0} GB/s \
             fabric, not the drives, caps what reaches the GPUs: faster drives raise the storage \
             peak as more OSTs do, and at {osts} OSTs that changes nothing. With random reads the \
             drives pass only {random:.0}% of their peak anyway. The limit is the access pattern; \
             the fix is B, sequential shards.",
            ost = LUSTRE_OST_BW_GBS,
            drives = NVME_DRIVES_PER_NODE,
            nvme = NVME_SEQ_BW_GBS,
            from = f.fabric_binds_from_osts,
            fabric = f.modelled_fabric_gbs,
            osts = f.osts,
            random = f.random_efficiency_pct,
        ),
        Choice::B => format!(
            "Packing data into large sequential shards (WebDataset `.tar` archives, TFRecord, \
             Parquet) turns random access into sequential streaming: in the analyzer the read \
             pattern's efficiency rises from {random:.0}% to {seq:.0}% of peak, {gain:.1}× more \
             bandwidth from the same hardware. The hardware was never the problem; the access \
             pattern was. Shards are where the fix starts: sequential reads still need workers \
             ({s1:.0}% utilization with one worker per GPU, {s8:.0}% with eight), and at batch \
             {batch}, where the GPUs would read {demand:.0} GB/s through a {fabric:.0} GB/s fabric, \
             reading must also overlap with compute, as the prefetch pipeline does ({pf}).",
            random = f.random_efficiency_pct,
            seq = f.sequential_efficiency_pct,
            gain = f.sequential_efficiency_pct / f.random_efficiency_pct,
            s1 = f.sequential_util_pct[0],
            s8 = f.sequential_util_pct[2],
            batch = f.batch,
            demand = l.demand_total_gbs,
            fabric = f.modelled_fabric_gbs,
            pf = prefetch_fix_phrase(),
        ),
        Choice::C => format!(
            "More DataLoader processes do raise throughput in the analyzer: from 1 to {max} \
             workers the worker factor grows from {w1:.2} to {wmax:.3}, {gain:.1}× more effective \
             bandwidth. But every worker still issues small random reads at {random:.0}% \
             efficiency: with {max} workers and random reads utilization stays at {r16:.1}% \
             ({osts} OSTs, batch {batch}), starved. The analyzer has no RAM cache for extra \
             processes to fill. The access pattern's {pattern_gain:.1}× is the bigger lever; the \
             fix is B: pack the data into sequential shards so every worker reads large \
             contiguous chunks.",
            max = WORKERS.max,
            w1 = act1::worker_factor(WORKERS.min),
            wmax = act1::worker_factor(WORKERS.max),
            gain = act1::worker_factor(WORKERS.max) / act1::worker_factor(WORKERS.min),
            random = f.random_efficiency_pct,
            r16 = f.random_16_workers_util_pct,
            osts = f.osts,
            batch = f.batch,
            pattern_gain = f.sequential_efficiency_pct / f.random_efficiency_pct,
        ),
        Choice::D => "A database adds indexing, transactions and write-ahead logging, all of \
             which cost latency and throughput for the purely sequential reads training needs. \
             Databases are built for transactional random read/write workloads; training needs \
             high-throughput streaming, which a file system holding sequential shards serves \
             better than any database engine. The fix is B."
            .to_string(),
    }
}

/// "100% from 3 workers per GPU": the prefetch pipeline's result at the default batch and OSTs.
pub fn prefetch_fix_phrase() -> String {
    let f = act1_figures();
    match f.prefetch_healthy_from_workers {
        Some(w) => {
            let inputs = IoInputs {
                workers: w,
                pattern: ReadPattern::Prefetch,
                ..IoInputs::default()
            };
            format!(
                "{:.0}% from {} per GPU",
                act1::evaluate(&inputs).gpu_util_pct,
                plural(w, "worker")
            )
        }
        None => format!("{:.0}% with 4 workers per GPU", f.prefetch_fix_util_pct),
    }
}

fn act2_reflection_body(choice: Choice) -> String {
    match choice {
        Choice::A => "For large files, sequential bandwidth from S3 and from a well-configured \
             Lustre cluster is similar: both sustain hundreds of GB/s in aggregate. The advantage \
             of an object store is not raw throughput but the absence of a namespace coordinator. \
             A POSIX file system routes every namespace operation through one or a few MDS nodes; \
             an object store has no metadata server at all."
            .to_string(),
        Choice::B => "Object stores (S3, GCS, Azure Blob) address objects by globally unique \
             keys: no POSIX namespace, no inode table, no directory hierarchy, so no metadata \
             server to saturate. A GET is resolved through a distributed key-value index that \
             scales out without a coordination bottleneck. That is why large training pipelines \
             keep their data in object storage: not for higher sequential bandwidth (it is \
             similar), but because the namespace ceiling is gone. The data-gravity consequence: \
             if the data lives in one cloud region, the compute should run there too (see \
             `%mathpeek act2`)."
            .to_string(),
        Choice::C => "Modern POSIX file systems (Lustre, GPFS, ext4, XFS) hold files measured \
             in petabytes; file size is no limit for training. What limits POSIX at ML scale is \
             metadata coordination."
            .to_string(),
        Choice::D => "Tuned POSIX file systems (Lustre with many OSTs, GPFS with distributed \
             metadata) handle tens of thousands of concurrent connections. The issue is not how \
             many connections a node accepts but that every namespace operation serializes \
             through the MDS, while an object store sends each request straight to the storage \
             backend."
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_question_has_four_distinct_options_and_key_b() {
        for act in Act::ALL {
            for q in [prediction(act), reflection(act)] {
                let mut opts = q.options.to_vec();
                opts.sort();
                opts.dedup();
                assert_eq!(opts.len(), 4, "{q:?}");
                assert!(!q.prompt.is_empty());
            }
            assert!(is_correct(Choice::B));
            for c in Choice::ALL {
                let fb = reflection_feedback(act, c);
                assert_eq!(fb.kind == CalloutKind::Success, c == Choice::B);
                assert!(!fb.body.contains('<'), "no HTML: {}", fb.body);
            }
        }
    }

    #[test]
    fn numbers_in_the_story_come_from_the_model() {
        let q = prediction(Act::Act1);
        assert!(
            q.prompt.contains("about 1% despite a 672 GB/s"),
            "{}",
            q.prompt
        );
        assert!(q.options[3].contains("99%"), "{}", q.options[3]);
        let intro = act_intro(Act::Act2);
        assert!(intro.message.contains("1,344 GB/s"), "{}", intro.message);
        assert!(intro.message.contains("328 GB/s, a 4× safety margin"));
        assert_eq!(act_intro(Act::Act1).minutes, "12–15 minutes");
        let ctx = context_info(Context::DistributedFs);
        assert!(ctx
            .bandwidth
            .starts_with("24 OST nodes × 28 GB/s = 672 GB/s"));
        assert!(reflection_feedback(Act::Act1, Choice::A)
            .body
            .contains("from 16 OSTs up the analyzer's 400 GB/s fabric"));
        assert!(context_info(Context::Nvme)
            .acts
            .contains("no setting gets past 8.4% utilization"));
    }

    #[test]
    fn selector_options_describe_the_model() {
        assert_eq!(
            pattern_text(ReadPattern::Random).description,
            "small 4K reads, worst case: 7% of peak bandwidth"
        );
        assert_eq!(
            pattern_text(ReadPattern::Prefetch).label,
            "Prefetch pipeline"
        );
        assert!(layout_text(DatasetLayout::Shards)
            .description
            .contains("opens 0.2 files per second, and 2% of those"));
        assert!(layout_text(DatasetLayout::ObjectStore)
            .description
            .contains("none through a metadata server"));
    }
}
