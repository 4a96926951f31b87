//! The typed answers of a hand-in, shared by the kernel and the grader: what
//! the grader service replies to a submission, the summary of a checked
//! submission that `%submit`'s receipt and `check-submission` show, and the
//! witness's wire messages (a batch of events and its receipt).

use crate::lab::Checked;
use crate::record::{Event, Submission};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// What the service did with a submission it accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Stored now.
    Stored,
    /// Already stored with these bytes.
    Duplicate,
}

/// The grader service's answer to an accepted submission. The fields are in
/// alphabetical order: the JSON is byte for byte what the service sent when it
/// built the receipt as a JSON object (whose keys serde_json sorts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceReceipt {
    /// The name in the payload, when it differed from the Hub's.
    #[serde(default)]
    pub payload_student: Option<String>,
    /// SHA-256 of the bytes the service stored.
    pub sha256: String,
    /// Stored now, or already had.
    pub status: ReceiptStatus,
    /// The Hub user it is stored under.
    pub student: String,
    /// The submission's id.
    pub submission_id: String,
}

/// A checked submission as the student and the instructor read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionSummary {
    /// The submission's id.
    pub submission_id: Uuid,
    /// The lab.
    pub lab: String,
    /// The student it names.
    pub student: String,
    /// When the kernel made it.
    pub created_at: DateTime<Utc>,
    /// Events in its log.
    pub events: usize,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// What is still missing.
    pub missing: Vec<String>,
    /// The replayed session, as the lab serializes it.
    pub session: Value,
}

impl SubmissionSummary {
    /// The summary of `submission`, whose bytes hash to `sha256`, and of what
    /// checking it rebuilt.
    pub fn of(submission: &Submission, sha256: String, checked: Checked) -> Self {
        SubmissionSummary {
            submission_id: submission.id,
            lab: submission.lab.clone(),
            student: submission.student.clone(),
            created_at: submission.created_at,
            events: submission.events.len(),
            sha256,
            missing: checked.missing,
            session: checked.session,
        }
    }
}

/// Which way a hand-in went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandInVia {
    /// Stored by the course's grader service.
    Service,
    /// Written to the exchange directory.
    Exchange,
}

/// `%submit`'s receipt: the checked submission and where it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandInReceipt {
    /// The submission as checked.
    #[serde(flatten)]
    pub summary: SubmissionSummary,
    /// Service or exchange.
    pub via: HandInVia,
    /// Which service or directory, and why, in a sentence.
    pub via_detail: String,
    /// Where it is stored (a URL or a path).
    pub stored_at: String,
    /// The exchange file, when it went to the exchange.
    pub file: Option<String>,
    /// Size of the submission in bytes.
    pub bytes: u64,
}

/// Lab events the kernel sends to the grader service's witness
/// (`POST /api/witness`) as it records them, in the order recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WitnessBatch {
    /// The events, in journal order.
    pub events: Vec<Event>,
}

/// The witness's answer to a [`WitnessBatch`]: every event of it is now
/// stored under `student` (the Hub user), the new ones received at
/// `received_at` by the service's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessReceipt {
    /// The Hub user the events are stored under.
    pub student: String,
    /// When the service received the batch (its clock).
    pub received_at: DateTime<Utc>,
    /// Events stored now.
    pub stored: u32,
    /// Events it already had, with the same content.
    pub duplicates: u32,
    /// Events it already had under the same id with other content: kept as
    /// evidence beside the first, never instead of it.
    pub conflicts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_receipt_is_the_json_the_service_always_sent() {
        let receipt = ServiceReceipt {
            status: ReceiptStatus::Stored,
            submission_id: "019a".into(),
            student: "ada".into(),
            sha256: "ab".into(),
            payload_student: None,
        };
        assert_eq!(
            serde_json::to_string(&receipt).unwrap(),
            r#"{"payload_student":null,"sha256":"ab","status":"stored","student":"ada","submission_id":"019a"}"#
        );
        let duplicate = r#"{"status":"duplicate","submission_id":"1","student":"b","sha256":"c"}"#;
        let read: ServiceReceipt = serde_json::from_str(duplicate).unwrap();
        assert_eq!(read.status, ReceiptStatus::Duplicate);
        assert_eq!(read.payload_student, None);
    }
}
