//! The lab-neutral rules of an event log: why an event cannot be applied to a
//! lab's session, why a log does not replay, and why a submission is not a
//! valid hand-in. Every lab's session returns these errors, so the kernel and
//! the grader treat every lab alike.

use crate::choice::{Act, Choice};
use crate::input_error::InputError;
use crate::record::SUBMISSION_SCHEMA_VERSION;

/// Why an event cannot be applied to a lab's session; on error nothing changes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    /// An input was out of range or unknown.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The act's prediction is already locked.
    #[error("{} prediction is already locked as {locked}; it cannot be changed", act.title())]
    PredictionAlreadyLocked {
        /// The act.
        act: Act,
        /// The locked answer.
        locked: Choice,
    },
    /// The act's reflection was already answered.
    #[error("{} reflection was already answered {locked}; the first answer counts", act.title())]
    ReflectionAlreadyAnswered {
        /// The act.
        act: Act,
        /// The first answer.
        locked: Choice,
    },
    /// The instrument or reveal needs the act's prediction first.
    #[error("{} prediction is not locked yet: lock it with %predict {act} A|B|C|D first", act.title())]
    PredictionNotLocked {
        /// The act.
        act: Act,
    },
    /// The reveal needs a run of the act's instrument first.
    #[error("{} has no instrument run yet: run {instrument} first", act.title())]
    NoRunYet {
        /// The act.
        act: Act,
        /// The magic that runs the act's instrument (e.g. `%io`).
        instrument: &'static str,
    },
    /// The lab has no such act.
    #[error("{} is not an act of lab {lab}", act.title())]
    NoSuchAct {
        /// The act named.
        act: Act,
        /// The lab.
        lab: &'static str,
    },
    /// The event belongs to another lab.
    #[error("event belongs to lab {found}, not {expected}")]
    WrongLab {
        /// The event's lab.
        found: String,
        /// The lab replaying it.
        expected: &'static str,
    },
}

impl SessionError {
    /// Whether the error breaks a lock rule (as opposed to a bad input or lab).
    pub fn is_lock_rule(&self) -> bool {
        matches!(
            self,
            SessionError::PredictionAlreadyLocked { .. }
                | SessionError::ReflectionAlreadyAnswered { .. }
                | SessionError::PredictionNotLocked { .. }
                | SessionError::NoRunYet { .. }
        )
    }
}

/// A log that breaks a rule: which event, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("event {index}: {error}")]
pub struct ReplayError {
    /// Position of the offending event in the log.
    pub index: usize,
    /// The rule it broke.
    pub error: SessionError,
}

/// Why a submission is not a valid hand-in of its lab.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubmissionError {
    /// Written by a schema this crate does not read.
    #[error(
        "submission schema version {0} is not supported (expected {SUBMISSION_SCHEMA_VERSION})"
    )]
    Schema(u32),
    /// Made for another lab.
    #[error("submission is for lab {found}, not {expected}")]
    WrongLab {
        /// The submission's lab.
        found: String,
        /// The lab checking it.
        expected: &'static str,
    },
    /// Made for a lab this build does not know.
    #[error("submission is for lab {0}, which this build does not know")]
    UnknownLab(String),
    /// Its event log breaks the lab's rules.
    #[error("its event log does not replay: {0}")]
    Replay(#[from] ReplayError),
    /// Its design is not the one its log saved last.
    #[error("its design does not match the design saved in its event log")]
    DesignMismatch,
}
