//! What a hand-in of lab v2_04 holds: the checklist of what is still missing
//! from a session, and the check a submission must pass (its log replays under
//! the lab's rules and its design is the one the log saved; see
//! [`crate::lab::replay_submission`]).

use super::session::instrument_magic;
use super::Session;
use crate::choice::Act;
use crate::record::Submission;
pub use crate::rules::SubmissionError;
use serde::Serialize;
use std::fmt;

/// A step of the lab the session has not done yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "missing", rename_all = "snake_case")]
pub enum Missing {
    /// The act's prediction is not locked.
    Prediction {
        /// The act.
        act: Act,
    },
    /// The act's instrument never ran.
    Run {
        /// The act.
        act: Act,
    },
    /// The act's reveal was not shown.
    Reveal {
        /// The act.
        act: Act,
    },
    /// The act's reflection is not answered.
    Reflection {
        /// The act.
        act: Act,
    },
    /// No design was saved to the ledger.
    DesignNotSaved,
    /// The saved design differs from the current settings.
    DesignOutdated,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Prediction { act } => write!(
                f,
                "no {} prediction yet (%predict {act} A|B|C|D)",
                act.title()
            ),
            Missing::Run { act } => write!(
                f,
                "no {} instrument run yet ({})",
                act.title(),
                instrument_magic(*act)
            ),
            Missing::Reveal { act } => {
                write!(f, "{} reveal not shown yet (%reveal {act})", act.title())
            }
            Missing::Reflection { act } => write!(
                f,
                "no {} reflection answer yet (%reflect {act} A|B|C|D)",
                act.title()
            ),
            Missing::DesignNotSaved => f.write_str("design not saved to the ledger (%ledger save)"),
            Missing::DesignOutdated => f.write_str(
                "the saved design is older than your latest settings (%ledger save again)",
            ),
        }
    }
}

/// Everything the session has not done yet, in lab order; empty when complete.
pub fn missing(session: &Session) -> Vec<Missing> {
    let mut missing = Vec::new();
    for act in Act::ALL {
        if !session.predictions.contains_key(&act) {
            missing.push(Missing::Prediction { act });
        }
        if session.last_run(act).is_none() {
            missing.push(Missing::Run { act });
        }
        if !session.revealed.contains(&act) {
            missing.push(Missing::Reveal { act });
        }
        if !session.reflections.contains_key(&act) {
            missing.push(Missing::Reflection { act });
        }
    }
    match &session.saved_design {
        None => missing.push(Missing::DesignNotSaved),
        Some(saved) if *saved != session.design() => missing.push(Missing::DesignOutdated),
        Some(_) => {}
    }
    missing
}

/// Replays a submission's log under the lab's rules and checks its design
/// against the log; returns the session it rebuilds.
pub fn replay_submission(submission: &Submission) -> Result<Session, SubmissionError> {
    crate::lab::replay_submission(submission)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choice::Choice;
    use crate::labs::data_storage::{ReplayError, LAB_ID};
    use crate::record::{Event, EventKind, SUBMISSION_SCHEMA_VERSION};
    use chrono::DateTime;
    use serde_json::json;
    use uuid::Uuid;

    fn event(kind: EventKind) -> Event {
        Event {
            id: Uuid::now_v7(),
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            lab: LAB_ID.into(),
            kernel_version: "0.1.0".into(),
            kind,
        }
    }

    fn full_log() -> Vec<EventKind> {
        let mut log = Vec::new();
        for (act, inputs) in [
            (
                Act::Act1,
                json!({"context":"distributed_fs","workers":8,"batch":64,"pattern":"prefetch","osts":24}),
            ),
            (
                Act::Act2,
                json!({"context":"distributed_fs","gpus":512,"workers_per_gpu":4,"layout":"shards","mds":2}),
            ),
        ] {
            log.push(EventKind::PredictionLocked {
                act,
                choice: Choice::B,
            });
            log.push(EventKind::InstrumentRun {
                act,
                inputs,
                source: Default::default(),
            });
            log.push(EventKind::Revealed { act });
            log.push(EventKind::ReflectionAnswered {
                act,
                choice: Choice::C,
            });
        }
        log
    }

    #[test]
    fn lists_what_is_missing_in_lab_order() {
        let mut session = Session::default();
        let all = missing(&session);
        assert_eq!(all.len(), 9);
        assert_eq!(all[0], Missing::Prediction { act: Act::Act1 });
        assert_eq!(all[4], Missing::Prediction { act: Act::Act2 });
        assert_eq!(all[8], Missing::DesignNotSaved);
        assert!(all[4].to_string().contains("Act II prediction"));
        for kind in full_log() {
            session.apply(&kind).unwrap();
        }
        assert_eq!(missing(&session), [Missing::DesignNotSaved]);
        let design = session.design().to_map();
        session
            .apply(&EventKind::DesignSaved {
                chapter: LAB_ID.into(),
                design,
            })
            .unwrap();
        assert!(missing(&session).is_empty());
        session
            .apply(&EventKind::ContextSet {
                context: "nvme".into(),
            })
            .unwrap();
        assert_eq!(missing(&session), [Missing::DesignOutdated]);
    }

    #[test]
    fn a_submission_replays_and_its_design_must_match_its_log() {
        let mut log: Vec<Event> = full_log().into_iter().map(event).collect();
        let replayed = Session::replay(&log).unwrap();
        let design = replayed.design().to_map();
        log.push(event(EventKind::DesignSaved {
            chapter: LAB_ID.into(),
            design: design.clone(),
        }));
        let mut submission = Submission {
            schema_version: SUBMISSION_SCHEMA_VERSION,
            id: Uuid::now_v7(),
            lab: LAB_ID.into(),
            student: "ada".into(),
            created_at: DateTime::from_timestamp(1_700_000_100, 0).unwrap(),
            kernel_version: "0.1.0".into(),
            events: log,
            design: Some(design),
        };
        let session = replay_submission(&submission).unwrap();
        assert_eq!(session.runs.len(), 2);
        assert!(missing(&session).is_empty());

        let mut other = submission.clone();
        other.design.as_mut().unwrap()["gpu_count"] = json!(8);
        assert_eq!(
            replay_submission(&other),
            Err(SubmissionError::DesignMismatch)
        );
        let mut other = submission.clone();
        other.design = None;
        assert_eq!(
            replay_submission(&other),
            Err(SubmissionError::DesignMismatch)
        );
        let mut other = submission.clone();
        other.schema_version = 99;
        assert_eq!(replay_submission(&other), Err(SubmissionError::Schema(99)));
        submission.events.swap(0, 1);
        assert!(matches!(
            replay_submission(&submission),
            Err(SubmissionError::Replay(ReplayError { index: 0, .. }))
        ));
    }
}
