//! One instrument run of the lab, as the JSON every component exchanges:
//! `{"act": "act1"|"act2", "inputs": {...}, "outputs": {...}}`.

use super::{act1, act2, IoInputs, IoOutputs, MdsInputs, MdsOutputs};
use crate::choice::Act;
use crate::input_error::InputError;
use serde::{Deserialize, Serialize};

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
// Act II's outputs hold two 32-point curves inline (≈ 0.6 KB); a report is built
// once per run, so a box would only add an allocation to every evaluation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    }
}
