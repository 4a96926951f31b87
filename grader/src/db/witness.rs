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
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

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

/// One request's events for [`Db::witness_all`]: who sent them, and when the
/// service received them.
#[derive(Debug, Clone, Copy)]
pub struct WitnessRequest<'a> {
    /// The Hub user.
    pub student: &'a str,
    /// The events, in the order sent.
    pub events: &'a [Event],
    /// The service's receive time.
    pub now: DateTime<Utc>,
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
        let request = WitnessRequest {
            student,
            events,
            now,
        };
        Ok(self.witness_all(&[request])?.remove(0))
    }

    /// Stores each request of `requests` in order, as [`Db::witness`] would
    /// one after another (each its own batch number), in one transaction: a
    /// group commit, one sync for all. Either all are stored or none.
    pub fn witness_all(
        &mut self,
        requests: &[WitnessRequest<'_>],
    ) -> Result<Vec<WitnessedBatch>, GraderError> {
        let path = self.path.clone();
        let err = || GraderError::db(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err())?;
        let done = requests
            .iter()
            .map(|request| store_request(&tx, request))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(err())?;
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

/// Stores one request's events in `tx`; its batch number is the next row's
/// sequence number (so requests stored together still get one each).
fn store_request(
    tx: &Transaction<'_>,
    request: &WitnessRequest<'_>,
) -> rusqlite::Result<WitnessedBatch> {
    let WitnessRequest {
        student,
        events,
        now,
    } = *request;
    let received_at = rfc3339(now);
    let batch: i64 = tx.query_row(
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence \
         WHERE name = 'witnessed_events'), 0) + 1",
        [],
        |r| r.get(0),
    )?;
    let mut known = tx.prepare_cached(
        "SELECT MAX(sha256 = ?3) FROM witnessed_events \
         WHERE student = ?1 AND event_id = ?2",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO witnessed_events (student, lab, event_id, batch, received_at, \
         sha256, event, conflict) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut done = WitnessedBatch::default();
    for event in events {
        let (text, digest) = canonical(event);
        let id = event.id.to_string();
        let seen: Option<bool> = known
            .query_row(params![student, id, digest], |r| r.get(0))
            .optional()?
            .flatten();
        match seen {
            Some(true) => done.duplicates += 1,
            seen => {
                let conflict = seen == Some(false);
                insert.execute(params![
                    student,
                    event.lab,
                    id,
                    batch,
                    received_at,
                    digest,
                    text,
                    conflict
                ])?;
                if conflict {
                    done.conflicts += 1;
                } else {
                    done.stored += 1;
                }
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lab id (the witness does not read it).
    const LAB: &str = "t_lab";
    use mlsys_model::{Act, Choice};
    use uuid::Uuid;

    fn lock(choice: Choice) -> Event {
        Event {
            id: Uuid::nil(),
            at: "2026-12-01T10:00:00Z".parse().unwrap(),
            lab: LAB.into(),
            kernel_version: "test".into(),
            kind: mlsys_model::record::EventKind::PredictionLocked {
                act: Act::ALL[0],
                choice,
            },
        }
    }

    #[test]
    fn a_resent_event_is_stored_once_and_other_content_under_its_id_is_kept_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("g.sqlite")).unwrap();
        let first: DateTime<Utc> = "2026-12-01T10:00:01Z".parse().unwrap();
        let later: DateTime<Utc> = "2026-12-02T10:00:00Z".parse().unwrap();
        let stored = db.witness("ada", &[lock(Choice::A)], first).unwrap();
        assert_eq!(
            (stored.stored, stored.duplicates, stored.conflicts),
            (1, 0, 0)
        );
        let again = db.witness("ada", &[lock(Choice::A)], later).unwrap();
        assert_eq!((again.stored, again.duplicates, again.conflicts), (0, 1, 0));
        let changed = db.witness("ada", &[lock(Choice::B)], later).unwrap();
        assert_eq!(
            (changed.stored, changed.duplicates, changed.conflicts),
            (0, 0, 1)
        );
        // Another student's event of the same id is theirs, not a conflict.
        let bob = db.witness("bob", &[lock(Choice::B)], later).unwrap();
        assert_eq!((bob.stored, bob.conflicts), (1, 0));

        let rows = db.witnessed_of_lab(LAB).unwrap();
        let ada: Vec<_> = rows.iter().filter(|r| r.student == "ada").collect();
        assert_eq!(ada.len(), 2);
        assert!(!ada[0].conflict && ada[0].received_at == rfc3339(first));
        assert!(
            ada[0].event.contains("\"choice\":\"A\""),
            "{}",
            ada[0].event
        );
        assert!(ada[1].conflict && ada[1].event.contains("\"choice\":\"B\""));
        assert!(
            ada[0].batch < ada[1].batch,
            "requests are numbered in receive order"
        );
    }

    #[test]
    fn witnessed_events_can_be_neither_changed_nor_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("g.sqlite")).unwrap();
        db.witness("ada", &[lock(Choice::A)], Utc::now()).unwrap();
        for sql in [
            "UPDATE witnessed_events SET event = '{}'",
            "DELETE FROM witnessed_events",
        ] {
            let error = db.conn.execute(sql, []).unwrap_err();
            assert!(error.to_string().contains("append-only"), "{error}");
        }
        assert_eq!(db.witnessed_count("ada").unwrap(), 1);
    }

    /// `n` distinct events (ids 1..=n from `from`).
    fn events(from: u128, n: u128) -> Vec<Event> {
        (from..from + n)
            .map(|i| Event {
                id: Uuid::from_u128(i),
                ..lock(Choice::A)
            })
            .collect()
    }

    #[test]
    fn requests_stored_together_count_and_number_each_as_if_stored_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("g.sqlite")).unwrap();
        let (ada, grace) = (events(1, 7), events(100, 4));
        let mut edited = ada[..3].to_vec();
        edited[2].kind = lock(Choice::B).kind;
        let now: DateTime<Utc> = "2026-12-01T10:00:01Z".parse().unwrap();
        let request = |student, events| WitnessRequest {
            student,
            events,
            now,
        };
        let done = db
            .witness_all(&[
                request("ada", &ada[..5]),
                request("grace", &grace),
                // Sent again in the same group: two known, one changed, two new.
                request("ada", &[&edited[..], &ada[5..7]].concat()),
            ])
            .unwrap();
        let counts: Vec<(u32, u32, u32)> = done
            .iter()
            .map(|d| (d.stored, d.duplicates, d.conflicts))
            .collect();
        assert_eq!(counts, [(5, 0, 0), (4, 0, 0), (2, 2, 1)], "{done:?}");
        let batches: Vec<(String, i64, i64)> = db
            .conn
            .prepare(
                "SELECT student, batch, COUNT(*) FROM witnessed_events \
                 GROUP BY batch ORDER BY batch",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // Each request its own batch number: the seq of its first new event.
        assert_eq!(
            batches,
            [
                ("ada".to_string(), 1, 5),
                ("grace".to_string(), 6, 4),
                ("ada".to_string(), 10, 3),
            ]
        );
    }
}
