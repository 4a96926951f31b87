//! The witness's store: lab events as the service received them, under the
//! authenticated Hub user, with the service's receive time. Append-only (the
//! table refuses updates and deletes): an event id received again with the
//! same content changes nothing, and with other content it is kept beside the
//! first as evidence, never instead of it.

use super::Db;
use crate::encode::{rfc3339, sha256_hex};
use crate::error::GraderError;
use chrono::{DateTime, Utc};
use mlsys_model::record::Event;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

/// What became of one batch of witnessed events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WitnessedBatch {
    /// Events stored now.
    pub stored: u32,
    /// Events already stored with the same content.
    pub duplicates: u32,
    /// Events whose id was stored with other content: kept as evidence.
    pub conflicts: u32,
}

/// One witnessed event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedRow {
    /// The Hub user who sent it.
    pub student: String,
    /// The request it came in (requests are numbered in receive order).
    pub batch: i64,
    /// When the service received it (RFC 3339).
    pub received_at: String,
    /// SHA-256 of `event`.
    pub sha256: String,
    /// The event (JSON).
    pub event: String,
    /// An id received before with other content.
    pub conflict: bool,
}

/// How a witnessed event is stored and compared: its JSON as this grader
/// writes it, and that text's SHA-256.
pub fn canonical(event: &Event) -> (String, String) {
    let text = serde_json::to_string(event).expect("events serialize");
    let digest = sha256_hex(text.as_bytes());
    (text, digest)
}

impl Db {
    /// Stores `events`, received from `student` at `now`, in one transaction
    /// (synced before it returns when the database syncs every commit).
    pub fn witness(
        &mut self,
        student: &str,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<WitnessedBatch, GraderError> {
        let path = self.path.clone();
        let err = || GraderError::db(&path);
        let received_at = rfc3339(now);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err())?;
        let batch: i64 = tx
            .query_row(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence \
                 WHERE name = 'witnessed_events'), 0) + 1",
                [],
                |r| r.get(0),
            )
            .map_err(err())?;
        let mut done = WitnessedBatch::default();
        {
            let mut known = tx
                .prepare_cached(
                    "SELECT MAX(sha256 = ?3) FROM witnessed_events \
                     WHERE student = ?1 AND event_id = ?2",
                )
                .map_err(err())?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO witnessed_events (student, lab, event_id, batch, received_at, \
                     sha256, event, conflict) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(err())?;
            for event in events {
                let (text, digest) = canonical(event);
                let id = event.id.to_string();
                let seen: Option<bool> = known
                    .query_row(params![student, id, digest], |r| r.get(0))
                    .optional()
                    .map_err(err())?
                    .flatten();
                match seen {
                    Some(true) => done.duplicates += 1,
                    seen => {
                        let conflict = seen == Some(false);
                        insert
                            .execute(params![
                                student,
                                event.lab,
                                id,
                                batch,
                                received_at,
                                digest,
                                text,
                                conflict
                            ])
                            .map_err(err())?;
                        if conflict {
                            done.conflicts += 1;
                        } else {
                            done.stored += 1;
                        }
                    }
                }
            }
        }
        tx.commit().map_err(err())?;
        Ok(done)
    }

    /// Every event witnessed for `lab`, by student, each student's in the
    /// order the service received them.
    pub fn witnessed_of_lab(&self, lab: &str) -> Result<Vec<WitnessedRow>, GraderError> {
        self.rows(
            "SELECT student, batch, received_at, sha256, event, conflict FROM witnessed_events \
             WHERE lab = ?1 ORDER BY student, seq",
            [lab],
            |r| {
                Ok(WitnessedRow {
                    student: r.get(0)?,
                    batch: r.get(1)?,
                    received_at: r.get(2)?,
                    sha256: r.get(3)?,
                    event: r.get(4)?,
                    conflict: r.get(5)?,
                })
            },
        )
    }

    /// How many events were witnessed of `student` (in every lab).
    pub fn witnessed_count(&self, student: &str) -> Result<i64, GraderError> {
        self.count(
            "SELECT COUNT(*) FROM witnessed_events WHERE student = ?1 AND conflict = 0",
            [student],
        )
    }
}
