//! Why a submission cannot be accepted: a stable reason code for the
//! quarantine table and the precise cause.

use mlsys_model::rules::{ReplayError, SessionError, SubmissionError};
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
    /// An exchange file whose owner is not the student it names.
    IdentityMismatch,
    /// No time the student cannot set vouches for the submission (read from
    /// standard input), or that time is out of range: never on time.
    UntrustedTime,
    /// Over the size limit: only its first bytes were read (and kept).
    TooLarge,
}

impl Reason {
    /// Every reason, in the order `stats` and the docs list them.
    pub const ALL: [Reason; 14] = [
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
        Reason::TooLarge,
        Reason::IdentityMismatch,
        Reason::UntrustedTime,
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
            Reason::TooLarge => "too_large",
            Reason::IdentityMismatch => "identity_mismatch",
            Reason::UntrustedTime => "untrusted_time",
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

impl From<SubmissionError> for Rejection {
    /// The reason a lab's rules give, worded by the model.
    fn from(error: SubmissionError) -> Self {
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
