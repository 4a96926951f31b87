//! The student's record: events as they happen, and the submission that hands them in.
//!
//! These types are shared by every lab. The kernel writes them, the grader reads
//! them; a lab validates their payloads (context, instrument inputs) itself.

use crate::choice::{Act, Choice};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The submission schema this crate reads and writes.
pub const SUBMISSION_SCHEMA_VERSION: u32 = 1;

/// One thing the student did, stamped with who, when and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id (UUID v7, time-ordered).
    pub id: Uuid,
    /// When it happened (UTC).
    pub at: DateTime<Utc>,
    /// The lab's id (e.g. `v2_04`).
    pub lab: String,
    /// The kernel version that recorded it.
    pub kernel_version: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened, with its payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The deployment context was set (a lab-defined id).
    ContextSet {
        /// The context id.
        context: String,
    },
    /// An act's prediction was locked.
    PredictionLocked {
        /// The act.
        act: Act,
        /// The locked answer.
        choice: Choice,
    },
    /// An instrument ran with these inputs; outputs are derived from them.
    InstrumentRun {
        /// The act whose instrument ran.
        act: Act,
        /// The inputs, as the lab's run JSON names them.
        inputs: serde_json::Value,
        /// Where the run came from.
        #[serde(default)]
        source: RunSource,
    },
    /// The reveal of an act was shown.
    Revealed {
        /// The act.
        act: Act,
    },
    /// A reflection question was answered (first answer counts).
    ReflectionAnswered {
        /// The act.
        act: Act,
        /// The answer.
        choice: Choice,
    },
    /// The design was saved to the ledger.
    DesignSaved {
        /// The ledger chapter.
        chapter: String,
        /// The design, with the lab's ledger keys.
        design: serde_json::Map<String, serde_json::Value>,
    },
    /// A submission was made.
    Submitted {
        /// The submission's id.
        submission_id: Uuid,
    },
}

/// Which front of the kernel made an instrument run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunSource {
    /// A magic (`%io`, `%mds`).
    #[default]
    Magic,
    /// A live widget.
    Widget,
}

/// A student's hand-in: the full event log and the saved design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Schema version ([`SUBMISSION_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Unique id of this submission.
    pub id: Uuid,
    /// The lab's id.
    pub lab: String,
    /// The student (JupyterHub user, else the OS user).
    pub student: String,
    /// When it was made (UTC).
    pub created_at: DateTime<Utc>,
    /// The kernel version that made it.
    pub kernel_version: String,
    /// Every event of the session, in order.
    pub events: Vec<Event>,
    /// The lab's design as saved in the ledger, if it was.
    pub design: Option<serde_json::Map<String, serde_json::Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_is_flat_and_round_trips() {
        let event = Event {
            id: Uuid::nil(),
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            lab: "lab_x".into(),
            kernel_version: "0.1.0".into(),
            kind: EventKind::PredictionLocked {
                act: Act::Act1,
                choice: Choice::B,
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "prediction_locked");
        assert_eq!(json["act"], "act1");
        assert_eq!(json["choice"], "B");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }
}
