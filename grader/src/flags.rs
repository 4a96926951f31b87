//! Flags: what marks a scored submission for the instructor's decision. A
//! flagged submission is scored all the same; `show`, `stats` and the CSV and
//! JSON exports list its flags.

use serde::Serialize;

/// The submission disagrees with the witness (a changed, missing, invented or
/// reordered event); it is scored on what the witness received.
pub const WITNESS_MISMATCH: &str = "witness_mismatch";
/// The witness received one of the student's event ids again with other
/// content (kept as evidence; the first counts).
pub const WITNESS_CONFLICT: &str = "witness_conflict";
/// The course uses the witness, but none of this student's work reached it.
pub const UNWITNESSED: &str = "unwitnessed";
/// An event id of the submission appears under another student too.
pub const SHARED_EVENTS: &str = "shared_events";
/// A prediction lock did not reach the witness before its act's first run
/// (it does not count), or reached it later than the grace after that run was
/// made (the order could not be witnessed).
pub const LOCK_ORDER_UNWITNESSED: &str = "lock_order_unwitnessed";
/// A witnessed event breaks the lab's rules where the service received it
/// (it is left out).
pub const WITNESS_REFUSED: &str = "witness_refused";
/// Student and time are the file's own (ingested with `--unverified`, or by a
/// grader older than the checks of owner and time).
pub const UNVERIFIED: &str = "unverified";

/// One flag of a scored submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// A stable code (the constants here, or a lab's own).
    pub flag: String,
    /// Why, for the instructor.
    pub detail: String,
}

impl Flag {
    /// A flag `code` with `detail`.
    pub fn new(code: &str, detail: impl Into<String>) -> Flag {
        Flag {
            flag: code.to_string(),
            detail: detail.into(),
        }
    }
}
