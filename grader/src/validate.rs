//! From raw bytes to an accepted submission, or a precise rejection.

use crate::audit::{audit, Audit, Reason, Rejection};
use mlsys_model::record::{Submission, SUBMISSION_SCHEMA_VERSION};
use serde_json::error::Category;

/// A submission that passed every check.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The submission as handed in.
    pub submission: Submission,
    /// Its replayed session and design facts.
    pub audit: Audit,
}

/// A rejected submission, with whatever could be read of who and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Why.
    pub rejection: Rejection,
    /// The student, when the JSON names one.
    pub student: Option<String>,
    /// The submission id, when the JSON has one.
    pub submission_id: Option<String>,
}

/// Validates one submission file's bytes.
pub fn validate(raw: &[u8]) -> Result<Accepted, Rejected> {
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
    match audit(&submission) {
        Ok(audit) => Ok(Accepted { submission, audit }),
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
