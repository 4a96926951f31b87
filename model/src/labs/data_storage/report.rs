//! One instrument run of the lab, as the JSON every component exchanges:
//! `{"act": "act1"|"act2", "inputs": {...}, "outputs": {...}, "limits": {...}}`.
//!
//! `limits` (what binds the run, [`super::limits`]) was added to the v1 report:
//! it is always written, and ignored when a report is read, because it is
//! derived from the inputs and outputs: [`Report::limits`] recomputes it, so a
//! v1 report without the field reads as before and an edited one changes nothing.

use super::limits::{io_limits, mds_limits, IoLimits, Limits, MdsLimits};
use super::{act1, act2, Context, IoInputs, IoOutputs, MdsInputs, MdsOutputs};
use crate::choice::Act;
use crate::format::{fmt_thousands, plural};
use crate::input_error::InputError;
use crate::lab::LabReport;
use serde::{Deserialize, Serialize, Serializer};

/// The inputs of one instrument run, tagged by act: `{"act": …, "inputs": {…}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "act", content = "inputs", rename_all = "snake_case")]
pub enum RunInputs {
    /// An Act I (I/O analyzer) run.
    Act1(IoInputs),
    /// An Act II (storage designer) run.
    Act2(MdsInputs),
}

impl RunInputs {
    /// The act this run belongs to.
    pub fn act(&self) -> Act {
        match self {
            RunInputs::Act1(_) => Act::Act1,
            RunInputs::Act2(_) => Act::Act2,
        }
    }

    /// Validates untyped inputs for `act` (as recorded in an event); the error names the bad field.
    pub fn from_json(act: Act, inputs: &serde_json::Value) -> Result<Self, InputError> {
        Ok(match act {
            Act::Act1 => RunInputs::Act1(IoInputs::from_json(inputs)?),
            Act::Act2 => RunInputs::Act2(MdsInputs::from_json(inputs)?),
        })
    }

    /// The run's settings as students read them, one phrase each (joined by
    /// the caller): `1 worker/GPU`, `batch 64`, `random reads`, `24 OSTs`.
    pub fn settings(&self) -> Vec<String> {
        match self {
            RunInputs::Act1(i) => vec![
                format!("{}/GPU", plural(i.workers, "worker")),
                format!("batch {}", i.batch),
                format!("{} reads", i.pattern),
                match i.context {
                    Context::Nvme => "local NVMe".to_string(),
                    Context::DistributedFs => format!("{} OSTs", i.osts),
                },
            ],
            RunInputs::Act2(i) => vec![
                format!(
                    "{} GPUs × {}",
                    fmt_thousands(u64::from(i.gpus)),
                    plural(i.workers_per_gpu, "worker")
                ),
                i.layout.ledger_name().replace('_', " "),
                format!("{} MDS", i.mds),
                i.context.label().to_string(),
            ],
        }
    }

    /// The run in one terse line, as grade reasons quote it:
    /// `distributed_fs, 1 workers, batch 64, random reads, 24 OSTs`.
    pub fn summary(&self) -> String {
        match self {
            RunInputs::Act1(i) => format!(
                "{}, {} workers, batch {}, {} reads, {} OSTs",
                i.context, i.workers, i.batch, i.pattern, i.osts
            ),
            RunInputs::Act2(i) => format!(
                "{}, {} workers per GPU, {}, {} MDS",
                i.context, i.workers_per_gpu, i.layout, i.mds
            ),
        }
    }

    /// Runs the act's model.
    pub fn evaluate(&self) -> Report {
        match *self {
            RunInputs::Act1(inputs) => Report::Act1 {
                inputs,
                outputs: act1::evaluate(&inputs),
            },
            RunInputs::Act2(inputs) => Report::Act2 {
                inputs,
                outputs: act2::evaluate(&inputs),
            },
        }
    }
}

/// A run with its results: the `application/vnd.mlsys.report.v1+json` payload.
/// Serialized with its [`Limits`] as an added `limits` field (see the module doc).
// Act II's outputs hold two 32-point curves inline (≈ 0.6 KB); a report is built
// once per run, so a box would only add an allocation to every evaluation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "act", rename_all = "snake_case")]
pub enum Report {
    /// An Act I run.
    Act1 {
        /// What the student set.
        inputs: IoInputs,
        /// What the model computed.
        outputs: IoOutputs,
    },
    /// An Act II run.
    Act2 {
        /// What the student set.
        inputs: MdsInputs,
        /// What the model computed.
        outputs: MdsOutputs,
    },
}

impl Report {
    /// The MIME type this report is published under.
    pub const MIME_TYPE: &'static str = "application/vnd.mlsys.report.v1+json";

    /// The inputs that produced this report.
    pub fn inputs(&self) -> RunInputs {
        match *self {
            Report::Act1 { inputs, .. } => RunInputs::Act1(inputs),
            Report::Act2 { inputs, .. } => RunInputs::Act2(inputs),
        }
    }

    /// The act this report belongs to.
    pub fn act(&self) -> Act {
        self.inputs().act()
    }

    /// What limits this run, computed from its inputs and outputs.
    pub fn limits(&self) -> Limits {
        match self {
            Report::Act1 { inputs, outputs } => Limits::Act1(io_limits(inputs, outputs)),
            Report::Act2 { inputs, outputs } => Limits::Act2(mds_limits(inputs, outputs)),
        }
    }
}

/// The report as written: the run, its results and its limits.
#[derive(Serialize)]
#[serde(tag = "act", rename_all = "snake_case")]
enum WrittenReport<'a> {
    Act1 {
        inputs: &'a IoInputs,
        outputs: &'a IoOutputs,
        limits: IoLimits,
    },
    Act2 {
        inputs: &'a MdsInputs,
        outputs: &'a MdsOutputs,
        limits: MdsLimits,
    },
}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Report::Act1 { inputs, outputs } => WrittenReport::Act1 {
                inputs,
                outputs,
                limits: io_limits(inputs, outputs),
            },
            Report::Act2 { inputs, outputs } => WrittenReport::Act2 {
                inputs,
                outputs,
                limits: mds_limits(inputs, outputs),
            },
        }
        .serialize(serializer)
    }
}

impl LabReport for Report {
    const MIME_TYPE: &'static str = Report::MIME_TYPE;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_json_has_the_agreed_shape() {
        let report = RunInputs::Act1(IoInputs::default()).evaluate();
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["act"], "act1");
        assert_eq!(json["inputs"]["pattern"], "random");
        assert_eq!(json["outputs"]["status"], "starved");
        assert_eq!(json["outputs"]["util_curve"].as_array().unwrap().len(), 16);
        let back: Report = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);

        let run: RunInputs = serde_json::from_str(
            r#"{"act":"act2","inputs":{"context":"nvme","gpus":256,"workers_per_gpu":2,"layout":"shards","mds":3}}"#,
        )
        .unwrap();
        let json = serde_json::to_value(run.evaluate()).unwrap();
        let keys: Vec<_> = json["outputs"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys.len(), 12, "{keys:?}");
        assert_eq!(json["limits"]["binding"], "neither");
    }

    #[test]
    fn reports_carry_their_limits_and_read_back_with_or_without_them() {
        let report = RunInputs::Act1(IoInputs::default()).evaluate();
        let mut json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["limits"]["binding"], "pattern");
        assert_eq!(json["limits"]["demand_total_gbs"], 640.0);
        // A v1 report written before the field existed.
        let v1 = serde_json::json!({
            "act": "act1",
            "inputs": json["inputs"].clone(),
            "outputs": json["outputs"].clone(),
        });
        let back: Report = serde_json::from_value(v1).unwrap();
        assert_eq!(back, report);
        // An edited `limits` is ignored: the limits are recomputed from the run.
        json["limits"]["binding"] = "fabric".into();
        let back: Report = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
        let Limits::Act1(limits) = back.limits() else {
            panic!("an Act I report has Act I limits")
        };
        assert_eq!(limits.binding, super::super::limits::IoFactor::Pattern);
    }

    #[test]
    fn settings_and_summary_describe_a_run_in_one_place() {
        let run = RunInputs::Act1(IoInputs::default());
        assert_eq!(
            run.settings().join(" · "),
            "1 worker/GPU · batch 64 · random reads · 24 OSTs"
        );
        assert_eq!(
            run.summary(),
            "distributed_fs, 1 workers, batch 64, random reads, 24 OSTs"
        );
        let run = RunInputs::Act2(MdsInputs::default());
        assert_eq!(
            run.settings().join(" · "),
            "512 GPUs × 4 workers · individual files · 1 MDS · Distributed FS — Lustre/GPFS"
        );
    }
}
