//! A lab as every lab-neutral component sees it.
//!
//! A lab implements two traits. [`LabSession`] is its typed state and rules:
//! the kernel applies each event to it before recording it, and any replay of a
//! log (kernel restart, `check-submission`, the grader) goes through the same
//! rules. [`Lab`] is the lab's object-safe descriptor: id, title, acts, its
//! report type, and the checks that need no knowledge of the session's type.
//! [`Labs`] is a registry of descriptors, looked up by id or report mime type.
//! [`LabReport`] marks a lab's typed report, so code generic over reports
//! (the Rust cells' display hook) publishes each under its lab's mime type.
//! Nothing outside `labs/` names a particular lab.

use crate::choice::Act;
use crate::content::Callout;
use crate::ledger::Design;
use crate::record::{Event, EventKind, Submission, SUBMISSION_SCHEMA_VERSION};
use crate::rules::{ReplayError, SessionError, SubmissionError};
use serde::Serialize;
use serde_json::Value;

/// A lab's session: the student's state, rebuilt from the event log under the
/// lab's rules.
pub trait LabSession: Clone + Default + PartialEq + Serialize + Send + 'static {
    /// The id of the lab whose rules these are.
    const LAB_ID: &'static str;

    /// Checks `kind` against the lab's rules and applies it; on error nothing changes.
    fn apply(&mut self, kind: &EventKind) -> Result<(), SessionError>;

    /// What the student has not done yet, in lab order, each a sentence naming
    /// the magic that does it; empty when the lab is complete.
    fn missing(&self) -> Vec<String>;

    /// The design the ledger would record now, from the current settings.
    fn design(&self) -> Design;

    /// The design last saved to the ledger, if any.
    fn saved_design(&self) -> Option<Design>;

    /// Whether `handed_in` is the design this session saved last (a lab with
    /// typed designs compares them typed, so `1` and `1.0` are one number).
    fn saved_design_is(&self, handed_in: Option<&Design>) -> bool {
        self.saved_design().as_ref() == handed_in
    }

    /// What the student takes away, shown after a hand-in (`None`: nothing
    /// beyond the receipt).
    fn closing_summary(&self) -> Option<Callout> {
        None
    }

    /// Rebuilds a session from a log; fails at the first event that breaks a
    /// rule or belongs to another lab.
    fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<Self, ReplayError> {
        let mut session = Self::default();
        for (index, event) in events.into_iter().enumerate() {
            let result = if event.lab == Self::LAB_ID {
                session.apply(&event.kind)
            } else {
                Err(SessionError::WrongLab {
                    found: event.lab.clone(),
                    expected: Self::LAB_ID,
                })
            };
            result.map_err(|error| ReplayError { index, error })?;
        }
        Ok(session)
    }
}

/// Replays a submission's log under the rules of `S` and checks its schema,
/// its lab and its design against the log; returns the session it rebuilds.
pub fn replay_submission<S: LabSession>(submission: &Submission) -> Result<S, SubmissionError> {
    if submission.schema_version != SUBMISSION_SCHEMA_VERSION {
        return Err(SubmissionError::Schema(submission.schema_version));
    }
    if submission.lab != S::LAB_ID {
        return Err(SubmissionError::WrongLab {
            found: submission.lab.clone(),
            expected: S::LAB_ID,
        });
    }
    let session = S::replay(&submission.events)?;
    if !session.saved_design_is(submission.design.as_ref()) {
        return Err(SubmissionError::DesignMismatch);
    }
    Ok(session)
}

/// What a valid submission rebuilds, in lab-neutral terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checked {
    /// The replayed session, as the lab serializes it.
    pub session: Value,
    /// What is still missing (see [`LabSession::missing`]).
    pub missing: Vec<String>,
}

impl Checked {
    /// The lab-neutral view of a replayed session.
    pub fn of<S: LabSession>(session: &S) -> Checked {
        Checked {
            session: serde_json::to_value(session).unwrap_or(Value::Null),
            missing: session.missing(),
        }
    }
}

/// A lab's typed instrument report: serialized, it is the report JSON the lab
/// publishes under [`LabReport::MIME_TYPE`] (the lab's [`Lab::report_mime`]).
pub trait LabReport: Serialize {
    /// The mime type the report is published under.
    const MIME_TYPE: &'static str;
}

/// A lab's descriptor: what lab-neutral code may ask of any lab.
pub trait Lab: Send + Sync + 'static {
    /// The stable id (ledger chapter, and `lab` of every event and submission).
    fn id(&self) -> &'static str;

    /// The title students read.
    fn title(&self) -> &'static str;

    /// The lab's acts, in order.
    fn acts(&self) -> &'static [Act];

    /// The mime type of the lab's instrument reports.
    fn report_mime(&self) -> &'static str;

    /// Evaluates one run (`{"act": …, "inputs": {…}}`) and returns its report
    /// JSON, exactly as the lab publishes it; the error names the bad field.
    fn evaluate(&self, run: &Value) -> Result<Value, String>;

    /// Checks a submission of this lab (schema, lab, log replayed under the
    /// lab's rules, design) and returns what it rebuilds.
    fn check(&self, submission: &Submission) -> Result<Checked, SubmissionError>;
}

/// The labs a build knows, by id.
#[derive(Clone, Default)]
pub struct Labs {
    labs: Vec<&'static dyn Lab>,
}

impl Labs {
    /// A registry of `labs`.
    ///
    /// # Panics
    /// If two labs share an id or a report mime type: a build error, not a
    /// student's.
    pub fn new(labs: impl IntoIterator<Item = &'static dyn Lab>) -> Self {
        let mut registry = Labs::default();
        for lab in labs {
            registry.register(lab);
        }
        registry
    }

    /// Adds a lab (see [`Labs::new`] for the panics).
    pub fn register(&mut self, lab: &'static dyn Lab) {
        assert!(
            self.get(lab.id()).is_none(),
            "two labs have the id {}",
            lab.id()
        );
        assert!(
            self.by_report_mime(lab.report_mime()).is_none(),
            "two labs publish reports as {}",
            lab.report_mime()
        );
        self.labs.push(lab);
    }

    /// The lab with `id`.
    pub fn get(&self, id: &str) -> Option<&'static dyn Lab> {
        self.labs.iter().copied().find(|lab| lab.id() == id)
    }

    /// The lab whose reports have `mime` type.
    pub fn by_report_mime(&self, mime: &str) -> Option<&'static dyn Lab> {
        self.labs
            .iter()
            .copied()
            .find(|lab| lab.report_mime() == mime)
    }

    /// Every lab, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &'static dyn Lab> + '_ {
        self.labs.iter().copied()
    }

    /// Checks a submission with the lab it names.
    pub fn check(&self, submission: &Submission) -> Result<Checked, SubmissionError> {
        match self.get(&submission.lab) {
            Some(lab) => lab.check(submission),
            None => Err(SubmissionError::UnknownLab(submission.lab.clone())),
        }
    }
}
