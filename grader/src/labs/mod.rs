//! The grader's per-lab code: one module per lab implementing [`LabScorer`],
//! and [`Scorers`], the registry of the labs a build grades.
//!
//! A lab's module holds everything the grader knows of that lab: the audit
//! checks beyond its model's rules, the facts stored for scoring, its rubric
//! sections and scoring rules, its questions and its synthetic students.
//! Everything else in the grader is lab-neutral: it dispatches by
//! `submission.lab` and works with rubric items `<group>.<name>`, whatever
//! the lab (an act's items share the act's id as their group).

pub mod data_storage;

use crate::error::GraderError;
use crate::flags::Flag;
use crate::rejection::Rejection;
use crate::rubric::Rubric;
use crate::score::Item;
use crate::synth::Rng;
use crate::witness::{WitnessRules, WitnessedEvent};
use chrono::{DateTime, Utc};
use mlsys_model::content::Question;
use mlsys_model::record::Submission;
use mlsys_model::rules::SubmissionError;
use mlsys_model::{Choice, Lab};
use std::fmt::Debug;

/// What the grader asks of a lab.
pub trait LabScorer: Send + Sync + 'static {
    /// The lab, as its model describes it.
    fn lab(&self) -> &'static dyn Lab;

    /// Replays a submission of this lab under the lab's rules and runs the
    /// lab's own checks of what the kernel derived; returns what is stored for
    /// scoring. The envelope (schema, student, event ids and order, lab) is
    /// checked before.
    fn audit(&self, submission: &Submission) -> Result<Audited, Rejection>;

    /// What the witness received of a submission (`log`, in receive order;
    /// see [`crate::witness::judge`]) as facts for scoring, like [`LabScorer::audit`]
    /// of a log: the events are applied under the lab's rules in the order
    /// the service received them (one the rules refuse there is left out and
    /// flagged), a prediction counts only if its lock reached the service
    /// before the act's first run ([`crate::witness::lock_order`]), and the
    /// flags say what the instructor should know. An empty log earns nothing.
    fn witnessed(&self, log: &[&WitnessedEvent], rules: &WitnessRules) -> Witnessed;

    /// The built-in rubric (TOML; `mlsys-grader rubric` prints it).
    fn default_rubric(&self) -> &'static str;

    /// Reads a rubric of this lab: see [`crate::rubric::read`].
    fn rubric(&self, text: &str) -> Result<Rubric, toml::de::Error>;

    /// The multiple-choice questions, in lab order, as `stats` reports them.
    fn questions(&self) -> Vec<LabQuestion>;

    /// A synthetic student's submission of about `events` events whose first
    /// event happens at `start` (for `mlsys-grader synth`).
    fn synthetic(
        &self,
        student: &str,
        start: DateTime<Utc>,
        events: usize,
        rng: &mut Rng,
    ) -> Submission;
}

/// A lab's sections of a rubric, parsed: its items and how it scores them.
pub trait LabRubric: Debug + Send + Sync {
    /// Checks the values (points, thresholds); the error names the key as the
    /// rubric file spells it.
    fn check(&self) -> Result<(), String>;

    /// The id of every item [`LabRubric::score`] gives, in order.
    fn item_ids(&self) -> Vec<String>;

    /// All the points there are.
    fn max_total(&self) -> f64;

    /// Scores a submission from its stored facts (see [`Audited::facts`]);
    /// the error says why the facts cannot be read.
    fn score(&self, facts: &str) -> Result<Vec<Item>, String>;
}

/// What an audited submission leaves for scoring and statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Audited {
    /// Everything scoring needs, as the lab serializes it (JSON): scoring
    /// reads only this, never the event log again.
    pub facts: String,
    /// The answers to the lab's questions: question id and letter.
    pub answers: Vec<(String, Choice)>,
}

/// The facts of a witnessed log, and its flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Witnessed {
    /// What scoring reads, as [`LabScorer::audit`] gives it.
    pub audited: Audited,
    /// What the instructor should know (a lock order not witnessed, …).
    pub flags: Vec<Flag>,
}

/// One of a lab's multiple-choice questions.
#[derive(Debug, Clone, PartialEq)]
pub struct LabQuestion {
    /// The id answers are stored under (e.g. an act's `prediction`).
    pub id: String,
    /// How `stats` heads it.
    pub title: String,
    /// The question and its options.
    pub question: Question,
    /// The right answer.
    pub key: Choice,
}

/// The labs a grader build scores, in registration order (the first is the
/// default of `rubric`, `score` and `synth`).
#[derive(Clone)]
pub struct Scorers {
    scorers: Vec<&'static dyn LabScorer>,
}

impl Scorers {
    /// The course's labs.
    pub fn builtin() -> Scorers {
        Scorers {
            scorers: vec![&data_storage::SCORER],
        }
    }

    /// Adds a lab (a test build adds its own).
    ///
    /// # Panics
    /// If a lab with the same id is registered: a build error, not a student's.
    pub fn register(&mut self, scorer: &'static dyn LabScorer) {
        let id = scorer.lab().id();
        assert!(self.get(id).is_none(), "two scorers for lab {id}");
        self.scorers.push(scorer);
    }

    /// The scorer of lab `id`.
    pub fn get(&self, id: &str) -> Option<&'static dyn LabScorer> {
        self.scorers.iter().copied().find(|s| s.lab().id() == id)
    }

    /// The scorer of lab `id`, or of the first lab when `id` is `None`.
    pub fn pick(&self, id: Option<&str>) -> Result<&'static dyn LabScorer, GraderError> {
        match id {
            None => Ok(self.scorers[0]),
            Some(id) => self.get(id).ok_or_else(|| {
                GraderError::Precondition(format!(
                    "no lab {id:?}: this grader scores {}",
                    self.ids()
                ))
            }),
        }
    }

    /// The ids, comma-separated (for messages).
    pub fn ids(&self) -> String {
        let ids: Vec<&str> = self.scorers.iter().map(|s| s.lab().id()).collect();
        ids.join(", ")
    }

    /// Why a submission of lab `found` cannot be read by this build.
    pub fn unknown(&self, found: &str) -> SubmissionError {
        match self.scorers.as_slice() {
            [only] => SubmissionError::WrongLab {
                found: found.to_string(),
                expected: only.lab().id(),
            },
            _ => SubmissionError::UnknownLab(found.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_of_another_build_is_named_in_the_error() {
        let scorers = Scorers::builtin();
        let only = scorers.pick(None).unwrap().lab().id();
        assert_eq!(
            scorers.unknown("x_9").to_string(),
            format!("submission is for lab x_9, not {only}")
        );
        let mut two = scorers.clone();
        two.scorers.push(scorers.scorers[0]);
        assert_eq!(
            two.unknown("x_9").to_string(),
            "submission is for lab x_9, which this build does not know"
        );
        let unknown = scorers.pick(Some("x_9")).err().unwrap().to_string();
        assert!(unknown.starts_with("no lab \"x_9\": this grader scores "));
    }

    #[test]
    #[should_panic(expected = "two scorers for lab")]
    fn a_lab_is_registered_once() {
        let mut scorers = Scorers::builtin();
        scorers.register(Scorers::builtin().scorers[0]);
    }
}
