//! The Pipe's model: a pipe of `width` lanes moves `width × 10` GB/s; the
//! question asks what doubling the width does (answer B: doubles throughput).

use mlsys_model::input_error::SteppedRange;
use mlsys_model::lab::{replay_submission, Checked, Lab, LabSession};
use mlsys_model::ledger::Design;
use mlsys_model::record::{EventKind, Submission};
use mlsys_model::rules::{SessionError, SubmissionError};
use mlsys_model::{Act, Choice};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The lab's id.
pub const LAB_ID: &str = "t_pipe";
/// The lab's title.
pub const LAB_TITLE: &str = "The Pipe";
/// The mime type of its reports.
pub const REPORT_MIME: &str = "application/vnd.mlsys.t-pipe.report.v1+json";
/// The instrument's only input: lanes, 1 to 8.
pub const WIDTH: SteppedRange = SteppedRange {
    min: 1,
    max: 8,
    step: 1,
};
/// GB/s per lane.
pub const LANE_GBS: f64 = 10.0;
/// The key of the one question.
pub const ANSWER: Choice = Choice::B;
/// The one question: its prompt and options.
pub const QUESTION: (&str, [&str; 4]) = (
    "What does doubling the pipe's width do to its throughput?",
    ["Nothing", "Doubles it", "Halves it", "Squares it"],
);

/// One run of the instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipeInputs {
    /// Lanes.
    pub width: u32,
}

impl PipeInputs {
    /// Validates `{"width": n}`.
    pub fn from_json(inputs: &Value) -> Result<Self, mlsys_model::InputError> {
        let fields = mlsys_model::json_input::InputFields::new(inputs, &["width"])?;
        Ok(PipeInputs {
            width: fields.stepped("width", WIDTH)?,
        })
    }

    /// The report JSON: `{"act": "act1", "inputs": …, "outputs": {"throughput_gbs": …}}`.
    pub fn report(&self) -> Value {
        json!({
            "act": "act1",
            "inputs": self,
            "outputs": { "throughput_gbs": f64::from(self.width) * LANE_GBS },
        })
    }
}

/// The student's state in the Pipe.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PipeSession {
    /// The locked prediction.
    pub prediction: Option<Choice>,
    /// Every run, in order.
    pub runs: Vec<PipeInputs>,
    /// The design saved last.
    pub saved: Option<Design>,
}

impl LabSession for PipeSession {
    const LAB_ID: &'static str = LAB_ID;

    fn apply(&mut self, kind: &EventKind) -> Result<(), SessionError> {
        let only_act = |act: Act| {
            if act == Act::Act1 {
                Ok(())
            } else {
                Err(SessionError::NoSuchAct { act, lab: LAB_ID })
            }
        };
        match kind {
            EventKind::PredictionLocked { act, choice } => {
                only_act(*act)?;
                if let Some(locked) = self.prediction {
                    return Err(SessionError::PredictionAlreadyLocked { act: *act, locked });
                }
                self.prediction = Some(*choice);
            }
            EventKind::InstrumentRun { act, inputs, .. } => {
                only_act(*act)?;
                let run = PipeInputs::from_json(inputs)?;
                if self.prediction.is_none() {
                    return Err(SessionError::PredictionNotLocked { act: *act });
                }
                self.runs.push(run);
            }
            EventKind::DesignSaved { design, .. } => self.saved = Some(design.clone()),
            EventKind::Submitted { .. } | EventKind::ContextSet { .. } => {}
            EventKind::Revealed { act } | EventKind::ReflectionAnswered { act, .. } => {
                only_act(*act)?
            }
        }
        Ok(())
    }

    fn missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if self.prediction.is_none() {
            missing.push("no prediction yet (%predict act1 A|B|C|D)".to_string());
        }
        if self.runs.is_empty() {
            missing.push("no pipe run yet (%pipe)".to_string());
        }
        missing
    }

    fn design(&self) -> Design {
        let width = self.runs.last().map_or(WIDTH.min, |r| r.width);
        json!({ "width": width })
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    fn saved_design(&self) -> Option<Design> {
        self.saved.clone()
    }
}

/// The Pipe's descriptor.
pub struct Pipe;

/// The descriptor to register.
pub static LAB: Pipe = Pipe;

impl Lab for Pipe {
    fn id(&self) -> &'static str {
        LAB_ID
    }

    fn title(&self) -> &'static str {
        LAB_TITLE
    }

    fn acts(&self) -> &'static [Act] {
        &[Act::Act1]
    }

    fn report_mime(&self) -> &'static str {
        REPORT_MIME
    }

    fn evaluate(&self, run: &Value) -> Result<Value, String> {
        if run.get("act").and_then(Value::as_str) != Some("act1") {
            return Err(format!("{LAB_ID} has one act, act1"));
        }
        let inputs = run.get("inputs").unwrap_or(&Value::Null);
        PipeInputs::from_json(inputs)
            .map(|i| i.report())
            .map_err(|e| e.to_string())
    }

    fn check(&self, submission: &Submission) -> Result<Checked, SubmissionError> {
        replay_submission::<PipeSession>(submission).map(|s| Checked::of(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlsys_model::labs;

    #[test]
    fn the_pipe_registers_beside_the_course_labs_and_keeps_its_own_rules() {
        let mut registry = labs::builtin();
        registry.register(&LAB);
        assert_eq!(registry.get(LAB_ID).map(|l| l.title()), Some(LAB_TITLE));
        assert_eq!(
            registry.by_report_mime(REPORT_MIME).map(|l| l.id()),
            Some(LAB_ID)
        );
        let report = LAB
            .evaluate(&json!({"act": "act1", "inputs": {"width": 3}}))
            .unwrap();
        assert_eq!(report["outputs"]["throughput_gbs"], 30.0);
        assert!(LAB
            .evaluate(&json!({"act": "act1", "inputs": {"width": 9}}))
            .unwrap_err()
            .contains("width must be an integer between 1 and 8"));
        let mut session = PipeSession::default();
        let run = EventKind::InstrumentRun {
            act: Act::Act1,
            inputs: json!({"width": 2}),
            source: Default::default(),
        };
        assert_eq!(
            session.apply(&run),
            Err(SessionError::PredictionNotLocked { act: Act::Act1 })
        );
        let act2 = EventKind::PredictionLocked {
            act: Act::Act2,
            choice: Choice::B,
        };
        assert!(matches!(
            session.apply(&act2),
            Err(SessionError::NoSuchAct { .. })
        ));
    }
}
