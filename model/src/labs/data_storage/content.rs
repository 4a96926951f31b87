//! The lab's words as data: deployment contexts, the act introductions, both
//! prediction questions and both reflection questions with their options, the
//! answer key and the feedback for every option.
//!
//! Texts are plain text or Markdown (no HTML). Every number in them is computed
//! from the lab's constants or model through [`super::figures`].

use super::constants::*;
use super::context::Context;
use super::design::ANSWER;
use super::figures::{act1_figures, act2_figures};
use crate::choice::{Act, Choice};
pub use crate::content::{Callout, CalloutKind, Question};
use crate::format::fmt_thousands;

/// Whether `choice` is the key of every question of this lab (B).
pub fn is_correct(choice: Choice) -> bool {
    choice == ANSWER
}

/// What the deployment context means for the lab, in the seed's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextInfo {
    /// The context's label.
    pub label: &'static str,
    /// The option's one-line description.
    pub option: String,
    /// Its storage bandwidth, with the arithmetic.
    pub bandwidth: String,
    /// Its architecture note.
    pub architecture: &'static str,
}

/// The description of `context`.
pub fn context_info(context: Context) -> ContextInfo {
    match context {
        Context::Nvme => ContextInfo {
            label: context.label(),
            option: format!(
                "NVMe: one node, {NVME_DRIVES_PER_NODE} drives at {NVME_SEQ_BW_GBS:.0} GB/s each"
            ),
            bandwidth: format!(
                "{NVME_DRIVES_PER_NODE} × NVMe = {NVME_NODE_BW_GBS:.0} GB/s local storage bandwidth per node"
            ),
            architecture: "No metadata server overhead — direct kernel I/O",
        },
        Context::DistributedFs => ContextInfo {
            label: context.label(),
            option: "Distributed FS: a Lustre/GPFS cluster of OST nodes".to_string(),
            bandwidth: format!(
                "{DEFAULT_OSTS} OST nodes × {LUSTRE_OST_BW_GBS:.0} GB/s = {:.0} GB/s aggregate Lustre bandwidth",
                f64::from(DEFAULT_OSTS) * LUSTRE_OST_BW_GBS
            ),
            architecture: "A metadata server (MDS) coordinates all namespace operations",
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
            "Storage bandwidth: {}. Architecture note: {}. Both acts use these parameters.",
            info.bandwidth, info.architecture
        ),
    )
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
    match choice {
        Choice::A => format!(
            "The SSDs are not the bottleneck. Each OST node already delivers {ost:.0} GB/s \
             ({drives} × {nvme:.0} GB/s NVMe), far more than the ~{per_gpu:.0} MB/s per GPU the \
             workload needs. Faster SSDs raise a ceiling nobody is touching. The limit is in \
             software: the access pattern issues random I/O that cannot use sequential bandwidth. \
             The fix is B, sequential shards.",
            ost = LUSTRE_OST_BW_GBS,
            drives = NVME_DRIVES_PER_NODE,
            nvme = NVME_SEQ_BW_GBS,
            per_gpu = f.demand_per_gpu_mbs,
        ),
        Choice::B => format!(
            "Packing data into large sequential shards (WebDataset `.tar` archives, TFRecord, \
             Parquet) turns random access into sequential streaming, and the cluster's \
             {lustre:.0} GB/s is genuinely available to sequential reads. The hardware was never \
             the problem; the access pattern was. One worker per GPU can stream one large file \
             instead of opening thousands of small ones. This is the standard production fix for \
             I/O-bound distributed training.",
            lustre = f.lustre_bw_gbs,
        ),
        Choice::C => "More DataLoader processes issue more concurrent requests, but each is \
             still a small random read from a different file. They multiply the IOPS and the \
             metadata load on Lustre without raising useful throughput. The fragmented access \
             pattern stays. The fix is B: pack the data into sequential shards so every worker \
             reads large contiguous chunks."
            .to_string(),
        Choice::D => "A database adds indexing, transactions and write-ahead logging, all of \
             which cost latency and throughput for the purely sequential reads training needs. \
             Databases are built for transactional random read/write workloads; training needs \
             high-throughput streaming, which a file system holding sequential shards serves \
             better than any database engine. The fix is B."
            .to_string(),
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
            .contains("~80 MB/s per GPU"));
    }
}
