//! The Pipe's grading: three items of its one act (prediction locked,
//! prediction correct, exploration of distinct widths), scored from what its
//! audit stores, behind the grader's `LabScorer`.

use crate::model::{PipeSession, ANSWER, LAB, QUESTION, WIDTH};
use chrono::{DateTime, Utc};
use mlsys_grader::flags::{Flag, LOCK_ORDER_UNWITNESSED, WITNESS_REFUSED};
use mlsys_grader::labs::{Audited, LabQuestion, LabRubric, LabScorer, Witnessed};
use mlsys_grader::rejection::Rejection;
use mlsys_grader::rubric::{LabSections, Rubric};
use mlsys_grader::score::Item;
use mlsys_grader::synth::{Recorder, Rng};
use mlsys_grader::witness::{lock_order, LockOrder, WitnessRules, WitnessedEvent};
use mlsys_model::content::Question;
use mlsys_model::lab::{replay_submission, Lab, LabSession};
use mlsys_model::record::{EventKind, Submission};
use mlsys_model::{Act, Choice};
use serde::{Deserialize, Serialize};

/// The Pipe's built-in rubric: 5 points.
pub const PIPE_RUBRIC: &str = r#"# Scoring rubric for the Pipe (a lab of the test tree).
lab = "t_pipe"

[assignment]
title = "The Pipe"

[deadline]
due = 2026-12-14T23:59:00Z
late_penalty_percent_per_day = 10.0

[act1]
prediction_locked = 1.0
prediction_correct = 2.0
exploration = 2.0
full_credit_widths = 2
"#;

/// What scoring needs of a Pipe session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipeFacts {
    /// The locked prediction.
    pub prediction: Option<Choice>,
    /// Every run's width, in order.
    pub widths: Vec<u32>,
}

/// The Pipe's rubric sections.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PipeRubric {
    /// Its one act.
    pub act1: PipeAct,
}

/// The points of the Pipe's act.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipeAct {
    /// For a locked prediction.
    pub prediction_locked: f64,
    /// For the right prediction.
    pub prediction_correct: f64,
    /// For exploring distinct widths.
    pub exploration: f64,
    /// Distinct widths for full exploration credit.
    pub full_credit_widths: u32,
}

impl LabSections for PipeRubric {
    const SECTIONS: &'static [&'static str] = &["act1"];
}

impl LabRubric for PipeRubric {
    fn check(&self) -> Result<(), String> {
        let a = &self.act1;
        for (key, points) in [
            ("act1.prediction_locked", a.prediction_locked),
            ("act1.prediction_correct", a.prediction_correct),
            ("act1.exploration", a.exploration),
        ] {
            if !(points.is_finite() && points >= 0.0) {
                return Err(format!("{key} must be a number ≥ 0, got {points}"));
            }
        }
        if a.full_credit_widths == 0 {
            return Err("act1.full_credit_widths must be ≥ 1".into());
        }
        Ok(())
    }

    fn item_ids(&self) -> Vec<String> {
        ["prediction_locked", "prediction_correct", "exploration"]
            .map(|name| format!("act1.{name}"))
            .to_vec()
    }

    fn max_total(&self) -> f64 {
        self.act1.prediction_locked + self.act1.prediction_correct + self.act1.exploration
    }

    fn score(&self, facts: &str) -> Result<Vec<Item>, String> {
        let facts: PipeFacts = serde_json::from_str(facts).map_err(|e| e.to_string())?;
        let a = &self.act1;
        let locked = match facts.prediction {
            Some(choice) => Item::full(
                "act1.prediction_locked",
                a.prediction_locked,
                format!("prediction {choice} locked"),
            ),
            None => Item::none("act1.prediction_locked", a.prediction_locked, "none locked"),
        };
        let correct = match facts.prediction {
            Some(ANSWER) => Item::full("act1.prediction_correct", a.prediction_correct, "right"),
            other => Item::none(
                "act1.prediction_correct",
                a.prediction_correct,
                format!("{other:?} is not the answer"),
            ),
        };
        let mut widths = facts.widths.clone();
        widths.sort_unstable();
        widths.dedup();
        let share = (widths.len() as f64 / f64::from(a.full_credit_widths)).min(1.0);
        let exploration = Item {
            id: "act1.exploration".into(),
            points: a.exploration * share,
            max: a.exploration,
            reason: format!("{} distinct widths", widths.len()),
        };
        Ok(vec![locked, correct, exploration])
    }
}

/// What the Pipe stores of `facts` for scoring.
fn audited(facts: &PipeFacts) -> Audited {
    Audited {
        facts: serde_json::to_string(facts).unwrap_or_default(),
        answers: facts
            .prediction
            .map(|choice| ("act1.prediction".to_string(), choice))
            .into_iter()
            .collect(),
    }
}

/// The Pipe's scorer.
pub struct PipeScorer;

/// The scorer to register.
pub static SCORER: PipeScorer = PipeScorer;

impl LabScorer for PipeScorer {
    fn lab(&self) -> &'static dyn Lab {
        &LAB
    }

    fn audit(&self, submission: &Submission) -> Result<Audited, Rejection> {
        let session = replay_submission::<PipeSession>(submission).map_err(Rejection::from)?;
        let facts = PipeFacts {
            prediction: session.prediction,
            widths: session.runs.iter().map(|run| run.width).collect(),
        };
        Ok(audited(&facts))
    }

    fn witnessed(&self, log: &[&WitnessedEvent], rules: &WitnessRules) -> Witnessed {
        let mut session = PipeSession::default();
        let mut flags = Vec::new();
        let mut lock = None;
        for (at, witnessed) in log.iter().enumerate() {
            let event = &witnessed.event;
            let applied = if event.lab == LAB.id() {
                session.apply(&event.kind).map_err(|e| e.to_string())
            } else {
                Err(format!("it is of lab {}", event.lab))
            };
            match applied {
                Ok(()) => {
                    if matches!(event.kind, EventKind::PredictionLocked { .. }) {
                        lock = Some(at);
                    }
                }
                Err(error) => flags.push(Flag::new(
                    WITNESS_REFUSED,
                    format!("the witnessed event {} is left out: {error}", event.id),
                )),
            }
        }
        let counts = match lock.map(|at| lock_order(log, at, Act::Act1, rules.lock_grace)) {
            None | Some(LockOrder::Witnessed) => true,
            Some(LockOrder::Late { .. }) => !rules.required,
            Some(LockOrder::NotBefore) => false,
        };
        if !counts {
            flags.push(Flag::new(
                LOCK_ORDER_UNWITNESSED,
                "Act I: the lock did not reach the service before the first run",
            ));
        }
        let facts = PipeFacts {
            prediction: session.prediction.filter(|_| counts),
            widths: session.runs.iter().map(|run| run.width).collect(),
        };
        Witnessed {
            audited: audited(&facts),
            flags,
        }
    }

    fn default_rubric(&self) -> &'static str {
        PIPE_RUBRIC
    }

    fn rubric(&self, text: &str) -> Result<Rubric, toml::de::Error> {
        mlsys_grader::rubric::read::<PipeRubric>(text)
    }

    fn questions(&self) -> Vec<LabQuestion> {
        let (prompt, options) = QUESTION;
        vec![LabQuestion {
            id: "act1.prediction".into(),
            title: "Act I prediction".into(),
            question: Question {
                prompt: prompt.into(),
                options: options.map(String::from),
            },
            key: ANSWER,
        }]
    }

    fn synthetic(
        &self,
        student: &str,
        start: DateTime<Utc>,
        events: usize,
        rng: &mut Rng,
    ) -> Submission {
        let mut r = Recorder::<PipeSession>::new(student, start);
        let _ = r.predict(Act::Act1, rng.choice(ANSWER, 50));
        for _ in 1..events.max(2) {
            let width = rng.stepped(WIDTH);
            let _ = r.run(Act::Act1, serde_json::json!({ "width": width }));
        }
        r.submit()
    }
}
