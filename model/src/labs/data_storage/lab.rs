//! Lab v2_04 as the lab-neutral [`Lab`] descriptor.

use super::{replay_submission, Report, RunInputs, LAB_ID, LAB_TITLE};
use crate::choice::Act;
use crate::lab::{Checked, Lab};
use crate::record::Submission;
use crate::rules::SubmissionError;
use serde::Deserialize;
use serde_json::Value;

/// "The Data Gravity Trap" (data storage for ML training).
pub struct DataStorage;

/// The lab's descriptor, for registries.
pub static LAB: DataStorage = DataStorage;

impl Lab for DataStorage {
    fn id(&self) -> &'static str {
        LAB_ID
    }

    fn title(&self) -> &'static str {
        LAB_TITLE
    }

    fn acts(&self) -> &'static [Act] {
        &Act::ALL
    }

    fn report_mime(&self) -> &'static str {
        Report::MIME_TYPE
    }

    fn evaluate(&self, run: &Value) -> Result<Value, String> {
        let run = RunInputs::deserialize(run).map_err(|e| format!("invalid run JSON: {e}"))?;
        serde_json::to_value(run.evaluate()).map_err(|e| e.to_string())
    }

    fn check(&self, submission: &Submission) -> Result<Checked, SubmissionError> {
        replay_submission(submission).map(|session| Checked::of(&session))
    }
}
