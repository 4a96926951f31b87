//! Replays a submission under the lab's rules and checks everything in it that
//! the kernel derived rather than the student chose: the event order, and every
//! number of each saved design against its recomputation from the runs.

use chrono::{DateTime, Utc};
use mlsys_model::labs::data_storage::{
    LedgerDesign, ReplayError, Session, SessionError, SubmissionError, LAB_ID,
};
use mlsys_model::record::{EventKind, Submission, SUBMISSION_SCHEMA_VERSION};
use mlsys_model::Act;
use std::collections::HashSet;
use std::fmt;

/// Why a submission cannot be accepted: a stable code for the quarantine table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Not JSON, or cut off.
    MalformedJson,
    /// JSON, but a schema version this grader does not read.
    UnknownSchemaVersion,
    /// JSON of the right version, but not shaped like a submission.
    InvalidSubmission,
    /// The student name is empty or not a plain login.
    InvalidStudent,
    /// Made for (or containing events of) another lab.
    WrongLab,
    /// An event is dated before the one it follows, or after the submission.
    EventsOutOfOrder,
    /// Two events share an id.
    DuplicateEvent,
    /// The log breaks a lock rule the kernel enforces (a run before its act's
    /// prediction, a second prediction or reflection answer, a reveal before a run).
    LockViolated,
    /// An instrument run or design has inputs outside the lab's ranges.
    InvalidInputs,
    /// A number the kernel computed differs from its recomputation, or the
    /// design handed in is not the one the log saved.
    TamperedNumbers,
    /// The submission id was already ingested with different content.
    IdConflict,
}

impl Reason {
    /// Every reason, in the order `stats` and the docs list them.
    pub const ALL: [Reason; 11] = [
        Reason::MalformedJson,
        Reason::UnknownSchemaVersion,
        Reason::InvalidSubmission,
        Reason::InvalidStudent,
        Reason::WrongLab,
        Reason::EventsOutOfOrder,
        Reason::DuplicateEvent,
        Reason::LockViolated,
        Reason::InvalidInputs,
        Reason::TamperedNumbers,
        Reason::IdConflict,
    ];

    /// The code stored in the quarantine table.
    pub fn code(self) -> &'static str {
        match self {
            Reason::MalformedJson => "malformed_json",
            Reason::UnknownSchemaVersion => "unknown_schema_version",
            Reason::InvalidSubmission => "invalid_submission",
            Reason::InvalidStudent => "invalid_student",
            Reason::WrongLab => "wrong_lab",
            Reason::EventsOutOfOrder => "events_out_of_order",
            Reason::DuplicateEvent => "duplicate_event",
            Reason::LockViolated => "lock_violated",
            Reason::InvalidInputs => "invalid_inputs",
            Reason::TamperedNumbers => "tampered_numbers",
            Reason::IdConflict => "id_conflict",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rejected submission: the reason code and the precise cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The reason code.
    pub reason: Reason,
    /// What exactly is wrong, naming the event or field.
    pub detail: String,
}

impl Rejection {
    /// A rejection for `reason` with `detail`.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Rejection {
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}

/// A submission that passed every check: the session its log rebuilds and what
/// scoring needs to know about its saved design.
#[derive(Debug, Clone)]
pub struct Audit {
    /// The session after the whole log.
    pub session: Session,
    /// For the last saved design: whether both acts had run when it was saved
    /// (so it records the student's own configurations, not the seed defaults).
    pub design_saved_after_runs: Option<bool>,
}

/// Checks a parsed submission; the first problem found rejects it.
///
/// One pass over the log does what the model's `replay_submission` does
/// (schema, lab, every event applied under the lab's rules, the handed-in
/// design equal to the one saved last, worded by the model's errors) and, at
/// each saved design, compares its numbers with the model's recomputation.
pub fn audit(submission: &Submission) -> Result<Audit, Rejection> {
    check_time_order(submission)?;
    if submission.schema_version != SUBMISSION_SCHEMA_VERSION {
        return Err(rejection_of(SubmissionError::Schema(
            submission.schema_version,
        )));
    }
    if submission.lab != LAB_ID {
        return Err(rejection_of(SubmissionError::WrongLab {
            found: submission.lab.clone(),
            expected: LAB_ID,
        }));
    }
    let mut session = Session::default();
    let mut design_saved_after_runs = None;
    for (index, event) in submission.events.iter().enumerate() {
        let replay_error =
            |error| rejection_of(SubmissionError::Replay(ReplayError { index, error }));
        if event.lab != LAB_ID {
            return Err(replay_error(SessionError::WrongLab {
                found: event.lab.clone(),
                expected: LAB_ID,
            }));
        }
        session.apply(&event.kind).map_err(replay_error)?;
        if let (EventKind::DesignSaved { .. }, Some(saved)) = (&event.kind, &session.saved_design) {
            // Saving changes no setting: the design the runs give is the current one.
            if let Some(difference) = first_difference(saved, &session.design()) {
                return Err(Rejection::new(
                    Reason::TamperedNumbers,
                    format!("event {index} (design_saved): {difference}"),
                ));
            }
            design_saved_after_runs =
                Some(Act::ALL.iter().all(|act| session.last_run(*act).is_some()));
        }
    }
    let handed_in = match &submission.design {
        Some(map) => Some(
            LedgerDesign::from_map(map)
                .map_err(|_| rejection_of(SubmissionError::DesignMismatch))?,
        ),
        None => None,
    };
    if handed_in != session.saved_design {
        return Err(rejection_of(SubmissionError::DesignMismatch));
    }
    Ok(Audit {
        session,
        design_saved_after_runs,
    })
}

fn check_time_order(submission: &Submission) -> Result<(), Rejection> {
    let mut ids = HashSet::with_capacity(submission.events.len());
    let mut previous: Option<DateTime<Utc>> = None;
    for (index, event) in submission.events.iter().enumerate() {
        if !ids.insert(event.id) {
            return Err(Rejection::new(
                Reason::DuplicateEvent,
                format!("event {index} repeats event id {}", event.id),
            ));
        }
        if let Some(before) = previous.filter(|before| event.at < *before) {
            return Err(Rejection::new(
                Reason::EventsOutOfOrder,
                format!(
                    "event {index} ({}) is dated {}, before the event it follows ({})",
                    kind_name(&event.kind),
                    rfc3339(event.at),
                    rfc3339(before)
                ),
            ));
        }
        previous = Some(event.at);
    }
    if let Some(last) = previous.filter(|last| submission.created_at < *last) {
        return Err(Rejection::new(
            Reason::EventsOutOfOrder,
            format!(
                "the submission is dated {}, before its last event ({})",
                rfc3339(submission.created_at),
                rfc3339(last)
            ),
        ));
    }
    Ok(())
}

fn rejection_of(error: SubmissionError) -> Rejection {
    let detail = error.to_string();
    let reason = match &error {
        SubmissionError::Schema(_) => Reason::UnknownSchemaVersion,
        SubmissionError::WrongLab { .. } | SubmissionError::UnknownLab(_) => Reason::WrongLab,
        SubmissionError::DesignMismatch => Reason::TamperedNumbers,
        SubmissionError::Replay(ReplayError { error, .. }) => match error {
            SessionError::Input(_) => Reason::InvalidInputs,
            SessionError::WrongLab { .. } | SessionError::NoSuchAct { .. } => Reason::WrongLab,
            SessionError::PredictionAlreadyLocked { .. }
            | SessionError::ReflectionAlreadyAnswered { .. }
            | SessionError::PredictionNotLocked { .. }
            | SessionError::NoRunYet { .. } => Reason::LockViolated,
        },
    };
    Rejection::new(reason, detail)
}

/// The first ledger key whose saved value is not the recomputed one.
fn first_difference(saved: &LedgerDesign, expected: &LedgerDesign) -> Option<String> {
    let saved = saved.to_map();
    for (key, want) in expected.to_map() {
        let got = saved.get(&key).cloned().unwrap_or_default();
        let same = match (got.as_f64(), want.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            _ => got == want,
        };
        if !same {
            return Some(format!("{key} is {got}, the runs give {want}"));
        }
    }
    None
}

/// The event type as the JSON names it.
pub fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::ContextSet { .. } => "context_set",
        EventKind::PredictionLocked { .. } => "prediction_locked",
        EventKind::InstrumentRun { .. } => "instrument_run",
        EventKind::Revealed { .. } => "revealed",
        EventKind::ReflectionAnswered { .. } => "reflection_answered",
        EventKind::DesignSaved { .. } => "design_saved",
        EventKind::Submitted { .. } => "submitted",
    }
}

/// A UTC time as RFC 3339 with fixed-width microseconds (sorts as text).
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{synthetic_session, Rng};
    use mlsys_model::labs::data_storage::replay_submission;

    #[test]
    fn accepts_what_the_models_replay_accepts_and_rebuilds_the_same_session() {
        let mut rng = Rng::new(11);
        let start = "2026-12-01T10:00:00Z".parse().unwrap();
        for i in 0..40 {
            let submission = synthetic_session(&format!("s{i}"), start, 10 + i, &mut rng);
            let model = replay_submission(&submission).unwrap();
            let audited = audit(&submission).unwrap();
            assert_eq!(audited.session, model);
            assert_eq!(
                audited.design_saved_after_runs.is_some(),
                model.saved_design.is_some()
            );
        }
    }
}
