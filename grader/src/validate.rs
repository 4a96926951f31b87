//! From raw bytes to an accepted submission, or a precise rejection.
//!
//! The envelope is checked here, the same for every lab: JSON, schema
//! version, student, event ids unique and events in time order. Then the
//! submission goes to the scorer of the lab it names (an unknown lab is
//! `wrong_lab`), which replays it under the lab's rules.

use crate::encode::rfc3339;
use crate::labs::{Audited, Scorers};
use crate::rejection::{Reason, Rejected, Rejection};
use chrono::{DateTime, Utc};
use mlsys_model::record::{EventKind, Submission, SUBMISSION_SCHEMA_VERSION};
use serde_json::error::Category;
use std::collections::HashSet;

/// A submission that passed every check.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The submission as handed in.
    pub submission: Submission,
    /// What its lab's audit leaves for scoring.
    pub audited: Audited,
}

/// Validates one submission file's bytes with the scorers of `scorers`.
pub fn validate(raw: &[u8], scorers: &Scorers) -> Result<Accepted, Rejected> {
    let submission: Submission = match serde_json::from_slice(raw) {
        Ok(submission) => submission,
        Err(error) => return Err(diagnose(raw, &error)),
    };
    let rejected = |rejection: Rejection| Rejected {
        rejection,
        student: Some(submission.student.clone()),
        submission_id: Some(submission.id.to_string()),
    };
    if submission.schema_version != SUBMISSION_SCHEMA_VERSION {
        return Err(rejected(schema_rejection(submission.schema_version)));
    }
    if let Err(detail) = check_student(&submission.student) {
        return Err(rejected(Rejection::new(Reason::InvalidStudent, detail)));
    }
    let audited = check_time_order(&submission).and_then(|()| match scorers.get(&submission.lab) {
        Some(scorer) => scorer.audit(&submission),
        None => Err(scorers.unknown(&submission.lab).into()),
    });
    match audited {
        Ok(audited) => Ok(Accepted {
            submission,
            audited,
        }),
        Err(rejection) => Err(rejected(rejection)),
    }
}

/// Why bytes that did not parse as a submission were rejected.
fn diagnose(raw: &[u8], error: &serde_json::Error) -> Rejected {
    let location = format!("line {}, column {}", error.line(), error.column());
    let malformed = |detail: String| Rejected {
        rejection: Rejection::new(Reason::MalformedJson, detail),
        student: None,
        submission_id: None,
    };
    match error.classify() {
        Category::Eof if raw.iter().all(u8::is_ascii_whitespace) => {
            malformed("the file is empty".to_string())
        }
        Category::Eof => malformed(format!("truncated: the JSON ends early at {location}")),
        Category::Syntax | Category::Io => malformed(format!("not valid JSON: {error}")),
        Category::Data => {
            let value: serde_json::Value = serde_json::from_slice(raw).unwrap_or_default();
            let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
            let (student, submission_id) = (text("student"), text("id"));
            let rejection = match value.get("schema_version").and_then(|v| v.as_u64()) {
                Some(version) if version != u64::from(SUBMISSION_SCHEMA_VERSION) => {
                    schema_rejection(version)
                }
                _ => Rejection::new(
                    Reason::InvalidSubmission,
                    format!("not a v{SUBMISSION_SCHEMA_VERSION} submission: {error}"),
                ),
            };
            Rejected {
                rejection,
                student,
                submission_id,
            }
        }
    }
}

fn schema_rejection(version: impl std::fmt::Display) -> Rejection {
    Rejection::new(
        Reason::UnknownSchemaVersion,
        format!("schema version {version}; this grader reads version {SUBMISSION_SCHEMA_VERSION}"),
    )
}

/// A student is a login as JupyterHub gives it: 1–128 characters, no control
/// characters, no surrounding spaces, starting with a letter or digit (so no
/// spreadsheet formula can hide in an export).
pub fn check_student(student: &str) -> Result<(), String> {
    let first_ok = student.chars().next().is_some_and(char::is_alphanumeric);
    if !first_ok
        || student.chars().count() > 128
        || student.trim_end() != student
        || student.chars().any(char::is_control)
    {
        return Err(format!(
            "student {student:?} is not a login (1–128 characters without control characters \
             or trailing spaces, starting with a letter or digit)"
        ));
    }
    Ok(())
}

/// Every event id is unique, and every event is dated no earlier than the one
/// before it and no later than the submission.
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
