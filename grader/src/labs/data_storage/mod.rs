//! Grading lab v2_04, "The Data Gravity Trap": its audit (design numbers
//! recomputed, design saved after the runs), the facts it stores, its rubric
//! sections and scoring rules, its questions and its synthetic students.

pub mod audit;
pub mod facts;
pub mod rubric;
pub mod score;
pub mod synth;
pub mod witnessed;

use super::{Audited, LabQuestion, LabScorer, Witnessed};
use crate::rejection::Rejection;
use crate::rubric::Rubric;
use crate::synth::Rng;
use crate::witness::{WitnessRules, WitnessedEvent};
use chrono::{DateTime, Utc};
use facts::Facts;
use mlsys_model::lab::Lab;
use mlsys_model::labs::data_storage::content::{prediction, reflection};
use mlsys_model::labs::data_storage::design::ANSWER;
use mlsys_model::labs::data_storage::LAB;
use mlsys_model::record::Submission;
use mlsys_model::Act;
pub use rubric::DEFAULT_RUBRIC;

/// The lab's scorer.
pub struct DataStorageScorer;

/// The scorer to register.
pub static SCORER: DataStorageScorer = DataStorageScorer;

impl LabScorer for DataStorageScorer {
    fn lab(&self) -> &'static dyn Lab {
        &LAB
    }

    fn audit(&self, submission: &Submission) -> Result<Audited, Rejection> {
        let replayed = audit::replay(submission)?;
        let facts = Facts::of(&replayed.session, replayed.design_saved_after_runs);
        Ok(Audited {
            facts: serde_json::to_string(&facts).unwrap_or_default(),
            answers: facts.answers(),
        })
    }

    fn witnessed(&self, log: &[&WitnessedEvent], rules: &WitnessRules) -> Witnessed {
        witnessed::witnessed(log, rules)
    }

    fn default_rubric(&self) -> &'static str {
        DEFAULT_RUBRIC
    }

    fn rubric(&self, text: &str) -> Result<Rubric, toml::de::Error> {
        crate::rubric::read::<rubric::DataStorageRubric>(text)
    }

    fn questions(&self) -> Vec<LabQuestion> {
        Act::ALL
            .into_iter()
            .flat_map(|act| {
                [
                    ("prediction", prediction(act)),
                    ("reflection", reflection(act)),
                ]
                .map(|(kind, question)| LabQuestion {
                    id: format!("{act}.{kind}"),
                    title: format!("{} {kind}", act.title()),
                    question,
                    key: ANSWER,
                })
            })
            .collect()
    }

    fn synthetic(
        &self,
        student: &str,
        start: DateTime<Utc>,
        events: usize,
        rng: &mut Rng,
    ) -> Submission {
        synth::synthetic_session(student, start, events, rng)
    }
}
