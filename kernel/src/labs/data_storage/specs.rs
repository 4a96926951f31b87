//! How the lab's magics are called and documented. The ranges, defaults and
//! figures the help quotes come from the model, so the help is always true of it.

use crate::magic::MagicSpec;
use mlsys_model::input_error::SteppedRange;
use mlsys_model::labs::data_storage::constants::{
    ACT1_GPU_COUNT, BATCH, GPUS, MDS_NODES, NVME_DRIVES_PER_NODE, NVME_NODE_BW_GBS, OSTS, WORKERS,
    WORKERS_PER_GPU,
};
use mlsys_model::labs::data_storage::content::{layout_text, pattern_text, OptionText};
use mlsys_model::labs::data_storage::{Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern};
use std::borrow::Cow;

/// `sequential, random or prefetch`.
fn one_of(ids: impl IntoIterator<Item = &'static str>) -> String {
    let ids: Vec<&str> = ids.into_iter().collect();
    match ids.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// One line per option of a selector flag: its id, label and what it means in the model.
fn options(options: impl IntoIterator<Item = (&'static str, OptionText)>) -> String {
    options
        .into_iter()
        .map(|(id, o)| {
            format!(
                "\n                  {id:<13} {}: {}",
                o.label, o.description
            )
        })
        .collect()
}

/// `1 to 16 (default 1)`.
fn range(range: SteppedRange, default: u32) -> String {
    format!("{} (default {default})", range.span())
}

fn context_doc() -> String {
    let default = |context: Context| {
        if context == Context::default() {
            " (default)"
        } else {
            ""
        }
    };
    format!(
        "Without an argument, shows the current deployment context. With one, sets it:\n  \
         {nvme}            one node reading {NVME_DRIVES_PER_NODE} local NVMe drives ({NVME_NODE_BW_GBS:.0} GB/s){nvme_default}\n  \
         {dfs}  a Lustre/GPFS cluster of OST nodes with a metadata server{dfs_default}\n\
         Later %io and %mds runs use the context.",
        nvme = Context::Nvme.id(),
        nvme_default = default(Context::Nvme),
        dfs = Context::DistributedFs.id(),
        dfs_default = default(Context::DistributedFs),
    )
}

fn io_doc() -> String {
    let d = IoInputs::default();
    format!(
        "Models {ACT1_GPU_COUNT} H100s reading training data. Options (omitted ones keep their last value):\n  \
         --workers N   data loader workers per GPU, {workers}\n  \
         --batch N     batch size in samples, {batch}\n  \
         --pattern P   {patterns} (default {pattern}):{pattern_options}\n  \
         --osts N      active Lustre OST nodes, {osts}\n\
         Shows GPU utilization, I/O wait, prefetch depth and storage utilization, the\n\
         utilization-vs-workers chart and the formulas. Needs %predict act1 first.\n  \
         --live        live sliders and buttons (Jupyter widgets); each settled change is a run.",
        workers = range(WORKERS, d.workers),
        batch = range(BATCH, d.batch),
        patterns = one_of(ReadPattern::ALL.map(ReadPattern::id)),
        pattern = d.pattern.id(),
        pattern_options = options(ReadPattern::ALL.map(|p| (p.id(), pattern_text(p)))),
        osts = range(OSTS, d.osts),
    )
}

fn mds_doc() -> String {
    let d = MdsInputs::default();
    format!(
        "Models a cluster's bandwidth and metadata demand. Options (omitted ones keep their last value):\n  \
         --gpus N      GPU count, {gpus}\n  \
         --workers N   data workers per GPU, {workers}\n  \
         --layout L    {layouts} (default {layout}):{layout_options}\n  \
         --mds N       metadata server nodes, {mds}\n\
         Shows metadata demand against MDS capacity, bandwidth headroom, the demand-vs-scale\n\
         chart, the formulas and the failure state. Needs %predict act2 first.\n  \
         --live        live sliders and buttons (Jupyter widgets); each settled change is a run.",
        gpus = range(GPUS, d.gpus),
        workers = range(WORKERS_PER_GPU, d.workers_per_gpu),
        layouts = one_of(DatasetLayout::ALL.map(DatasetLayout::id)),
        layout = d.layout.id(),
        layout_options = options(DatasetLayout::ALL.map(|l| (l.id(), layout_text(l)))),
        mds = range(MDS_NODES, d.mds),
    )
}

/// The lab's magics (the registry adds `%ledger` and `%submit`).
pub fn specs() -> Vec<MagicSpec> {
    vec![
        MagicSpec {
            name: "context",
            usage: "%context [nvme|distributed_fs]",
            summary: "Show or set the storage context of both acts.",
            doc: Cow::Owned(context_doc()),
            hints: &["nvme", "distributed_fs", "--help"],
        },
        MagicSpec {
            name: "predict",
            usage: "%predict act1|act2 [A-D]",
            summary: "Show an act's prediction question, or lock your answer.",
            doc: Cow::Borrowed(
                "%predict act1 shows the act's briefing and its question: in JupyterLab pick an\n\
                 option and click Lock. From the keyboard, %predict act1 B locks answer B.\n\
                 A locked prediction cannot be changed. Each act's instrument (%io, %mds) unlocks\n\
                 once its prediction is locked.",
            ),
            hints: &["act1", "act2", "A", "B", "C", "D", "--help"],
        },
        MagicSpec {
            name: "io",
            usage: "%io [--workers N] [--batch N] [--pattern sequential|random|prefetch] [--osts N] [--live]",
            summary: "Act I: run the I/O bottleneck analyzer.",
            doc: Cow::Owned(io_doc()),
            hints: &["--workers", "--batch", "--pattern", "--osts", "sequential", "random", "prefetch", "--live", "--help"],
        },
        MagicSpec {
            name: "mds",
            usage: "%mds [--gpus N] [--workers N] [--layout shards|individual|object_store] [--mds N] [--live]",
            summary: "Act II: run the distributed storage designer.",
            doc: Cow::Owned(mds_doc()),
            hints: &["--gpus", "--workers", "--layout", "--mds", "shards", "individual", "object_store", "--live", "--help"],
        },
        MagicSpec {
            name: "reveal",
            usage: "%reveal act1|act2",
            summary: "Compare your prediction with what the instrument showed.",
            doc: Cow::Borrowed(
                "Shows the reveal for your locked prediction, with the numbers of your latest run.\n\
                 Needs the act's prediction and at least one run of its instrument.",
            ),
            hints: &["act1", "act2", "--help"],
        },
        MagicSpec {
            name: "reflect",
            usage: "%reflect act1|act2 [A-D]",
            summary: "Show an act's reflection question, or answer it.",
            doc: Cow::Borrowed(
                "%reflect act1 shows the question: in JupyterLab pick an option and click Answer.\n\
                 From the keyboard, %reflect act1 B answers B. Either way you get the feedback,\n\
                 and the first answer counts.",
            ),
            hints: &["act1", "act2", "A", "B", "C", "D", "--help"],
        },
        MagicSpec {
            name: "mathpeek",
            usage: "%mathpeek act1|act2",
            summary: "Show an act's governing equations with your numbers.",
            doc: Cow::Borrowed(
                "The equations behind the act's instrument, filled in with your latest run\n\
                 (the current settings before any run), plus the worked examples.",
            ),
            hints: &["act1", "act2", "--help"],
        },
        MagicSpec {
            name: "status",
            usage: "%status",
            summary: "Where you are in the lab.",
            doc: Cow::Borrowed(
                "The seed's status line (context, both predictions, Act I's GPU utilization and\n\
                 effective I/O bandwidth, the MDS state, the workers), then runs, reveals and\n\
                 reflections, and where your progress is saved.",
            ),
            hints: &["--help"],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str) -> String {
        specs()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap()
            .doc
            .into_owned()
    }

    #[test]
    fn the_help_quotes_the_models_ranges_and_defaults() {
        assert_eq!(
            doc("io"),
            "Models 128 H100s reading training data. Options (omitted ones keep their last value):\n  \
             --workers N   data loader workers per GPU, 1 to 16 (default 1)\n  \
             --batch N     batch size in samples, a multiple of 32 from 32 to 512 (default 64)\n  \
             --pattern P   sequential, random or prefetch (default random):\n                  \
             sequential    Sequential: large chunks, Lustre-optimal: 85% of peak bandwidth, the highest of the three\n                  \
             random        Random: small 4K reads, worst case: 7% of peak bandwidth\n                  \
             prefetch      Prefetch pipeline: async, overlapped with compute: 78% of peak bandwidth, and reading hidden behind up to 4 batches of compute\n  \
             --osts N      active Lustre OST nodes, a multiple of 4 from 4 to 48 (default 24)\n\
             Shows GPU utilization, I/O wait, prefetch depth and storage utilization, the\n\
             utilization-vs-workers chart and the formulas. Needs %predict act1 first.\n  \
             --live        live sliders and buttons (Jupyter widgets); each settled change is a run."
        );
        let layouts: String = DatasetLayout::ALL
            .iter()
            .map(|&l| {
                let t = layout_text(l);
                format!(
                    "\n                  {:<13} {}: {}",
                    l.id(),
                    t.label,
                    t.description
                )
            })
            .collect();
        assert!(layouts.contains("individual    Individual files: one file per sample"));
        assert_eq!(
            doc("mds"),
            format!("Models a cluster's bandwidth and metadata demand. Options (omitted ones keep their last value):\n  \
             --gpus N      GPU count, a multiple of 128 from 128 to 4096 (default 512)\n  \
             --workers N   data workers per GPU, 1 to 16 (default 4)\n  \
             --layout L    shards, individual or object_store (default individual):{layouts}\n  \
             --mds N       metadata server nodes, 1 to 8 (default 1)\n\
             Shows metadata demand against MDS capacity, bandwidth headroom, the demand-vs-scale\n\
             chart, the formulas and the failure state. Needs %predict act2 first.\n  \
             --live        live sliders and buttons (Jupyter widgets); each settled change is a run.")
        );
        assert_eq!(
            doc("context"),
            "Without an argument, shows the current deployment context. With one, sets it:\n  \
             nvme            one node reading 4 local NVMe drives (28 GB/s)\n  \
             distributed_fs  a Lustre/GPFS cluster of OST nodes with a metadata server (default)\n\
             Later %io and %mds runs use the context."
        );
        assert_eq!(one_of(["a"]), "a");
    }
}
