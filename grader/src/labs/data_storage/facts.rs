//! What scoring needs of a validated submission, stored with it at ingest so
//! `score` never re-reads the whole event log: the answers, every instrument
//! run's inputs (results are recomputed from them at scoring time) and the
//! saved design.

use mlsys_model::labs::data_storage::{LedgerDesign, RunInputs, Session};
use mlsys_model::{Act, Choice};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The scoring-relevant part of a replayed session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// Locked predictions.
    pub predictions: BTreeMap<Act, Choice>,
    /// First reflection answers.
    pub reflections: BTreeMap<Act, Choice>,
    /// Every instrument run's inputs, in order.
    pub runs: Vec<RunInputs>,
    /// The design saved last, if any.
    pub saved_design: Option<LedgerDesign>,
    /// Whether both acts had run when that design was saved.
    pub design_saved_after_runs: Option<bool>,
}

impl Facts {
    /// The facts of an audited session (see [`super::audit::Replayed`]).
    pub fn of(session: &Session, design_saved_after_runs: Option<bool>) -> Facts {
        Facts {
            predictions: session.predictions.clone(),
            reflections: session.reflections.clone(),
            runs: session.runs.clone(),
            saved_design: session.saved_design.clone(),
            design_saved_after_runs,
        }
    }

    /// A session holding these facts (for the model's session queries).
    pub fn session(&self) -> Session {
        Session {
            predictions: self.predictions.clone(),
            reflections: self.reflections.clone(),
            runs: self.runs.clone(),
            saved_design: self.saved_design.clone(),
            ..Session::default()
        }
    }

    /// The answers, as the grader stores them: `act1.prediction` and so on.
    pub fn answers(&self) -> Vec<(String, Choice)> {
        let mut answers = Vec::new();
        for act in Act::ALL {
            if let Some(choice) = self.predictions.get(&act) {
                answers.push((format!("{act}.prediction"), *choice));
            }
            if let Some(choice) = self.reflections.get(&act) {
                answers.push((format!("{act}.reflection"), *choice));
            }
        }
        answers
    }
}
