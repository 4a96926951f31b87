//! The service's view of the grader database: one connection (synchronous =
//! FULL, so an acknowledged submission is on disk), used from blocking threads.
//! Submissions are validated on the callers' threads, then one writer thread
//! stores whatever is waiting in one transaction (a group commit: one sync for
//! many submissions).

use crate::cli::scoring_rubric;
use crate::db::Db;
use crate::error::GraderError;
use crate::export::{grade_rows, write_atomically, write_grades, Format};
use crate::grading::{score_all, stale_warning};
use crate::ingest::{check_one, hex, store_checked, Checked, OneOutcome};
use crate::rubric::Rubric;
use rusqlite::params;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

/// At most this many submissions share one transaction.
const GROUP: usize = 256;

/// A checked submission waiting for the writer, and where to send the outcome.
type Job = (Checked, Sender<Result<OneOutcome, String>>);

/// The database, its writer thread and the scores-released flag.
pub struct Store {
    db: Arc<Mutex<Db>>,
    writer: Mutex<Sender<Job>>,
    released_flag: PathBuf,
    rubric: Option<PathBuf>,
}

/// What became of a submission the service received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// Stored, already stored, or quarantined.
    pub outcome: OneOutcome,
    /// SHA-256 of the bytes stored.
    pub sha256: String,
    /// The name in the payload, when it differed from the Hub's.
    pub payload_student: Option<String>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`; scores are released
    /// while the file `<path>.released` exists.
    pub fn open(path: &Path, rubric: Option<PathBuf>) -> Result<Store, GraderError> {
        let db = Db::open(path)?;
        db.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(db.err())?;
        let mut flag = path.as_os_str().to_owned();
        flag.push(".released");
        let db = Arc::new(Mutex::new(db));
        let (sender, jobs) = channel::<Job>();
        let writer_db = db.clone();
        std::thread::Builder::new()
            .name("grader-writer".into())
            .spawn(move || write_groups(&writer_db, &jobs))
            .map_err(GraderError::io(path))?;
        Ok(Store {
            db,
            writer: Mutex::new(sender),
            released_flag: PathBuf::from(flag),
            rubric,
        })
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        lock(&self.db)
    }

    /// Stores `raw` as `user`'s submission and returns once it is committed:
    /// the payload's `student` is replaced by the Hub's name before validation,
    /// so nothing is stored under another name. Blocks.
    pub fn submit(&self, user: &str, raw: &[u8]) -> Result<Received, GraderError> {
        let (bytes, payload_student) = restamp(raw, user);
        let sha256 = hex(&Sha256::digest(&bytes));
        let checked = check_one(&format!("service:{user}"), bytes);
        let (reply, outcome) = channel();
        let gone = || GraderError::Precondition("the database writer stopped".into());
        lock(&self.writer)
            .send((checked, reply))
            .map_err(|_| gone())?;
        let outcome = outcome
            .recv()
            .map_err(|_| gone())?
            .map_err(GraderError::Precondition)?;
        Ok(Received {
            outcome,
            sha256,
            payload_student,
        })
    }

    /// Whether students may see their scores.
    pub fn released(&self) -> bool {
        self.released_flag.exists()
    }

    /// Releases (or withdraws) the scores.
    pub fn set_released(&self, released: bool) -> Result<(), GraderError> {
        if released {
            write_atomically(&self.released_flag, b"scores released\n")
        } else {
            match std::fs::remove_file(&self.released_flag) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(GraderError::io(&self.released_flag)(e))
                }
                _ => Ok(()),
            }
        }
    }

    /// One student's submissions and quarantined hand-ins, with grade and
    /// per-submission scores when `with_scores`.
    pub fn student_record(&self, student: &str, with_scores: bool) -> Result<Value, GraderError> {
        let db = self.db();
        let err = || GraderError::db(db.path());
        let mut statement = db
            .conn
            .prepare(
                "SELECT s.id, s.created_at, s.ingested_at, s.sha256, s.event_count, \
                 s.kernel_version, sc.total FROM submissions s \
                 LEFT JOIN submission_scores sc ON sc.submission_id = s.id \
                 WHERE s.student = ?1 ORDER BY s.created_at, s.id",
            )
            .map_err(err())?;
        let submissions = statement
            .query_map([student], |r| {
                let mut row = json!({
                    "submission_id": r.get::<_, String>(0)?,
                    "created_at": r.get::<_, String>(1)?,
                    "received_at": r.get::<_, String>(2)?,
                    "sha256": r.get::<_, String>(3)?,
                    "events": r.get::<_, i64>(4)?,
                    "kernel_version": r.get::<_, String>(5)?,
                });
                if with_scores {
                    row["total"] = json!(r.get::<_, Option<f64>>(6)?);
                }
                Ok(row)
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(err())?;
        let quarantined = db
            .conn
            .prepare(
                "SELECT reason, detail, quarantined_at, sha256 FROM quarantine \
                 WHERE student = ?1 OR source = ?2 ORDER BY quarantined_at",
            )
            .and_then(|mut s| {
                s.query_map(params![student, format!("service:{student}")], |r| {
                    Ok(json!({
                        "reason": r.get::<_, String>(0)?,
                        "detail": r.get::<_, String>(1)?,
                        "received_at": r.get::<_, String>(2)?,
                        "sha256": r.get::<_, String>(3)?,
                    }))
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(err())?;
        let mut record = json!({
            "student": student,
            "submissions": submissions,
            "quarantined": quarantined,
            "scores_released": self.released(),
        });
        if with_scores {
            let grade = grade_rows(&db, true)?
                .into_iter()
                .find(|row| row.student == student);
            record["grade"] = json!(grade);
        }
        Ok(record)
    }

    /// Every stored submission (without its bytes) and the quarantine count.
    pub fn list(&self) -> Result<Value, GraderError> {
        let db = self.db();
        let err = || GraderError::db(db.path());
        let submissions = db
            .conn
            .prepare(
                "SELECT id, student, created_at, ingested_at, sha256, event_count, source \
                 FROM submissions ORDER BY student, created_at, id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(json!({
                        "submission_id": r.get::<_, String>(0)?,
                        "student": r.get::<_, String>(1)?,
                        "created_at": r.get::<_, String>(2)?,
                        "received_at": r.get::<_, String>(3)?,
                        "sha256": r.get::<_, String>(4)?,
                        "events": r.get::<_, i64>(5)?,
                        "source": r.get::<_, String>(6)?,
                    }))
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(err())?;
        let quarantined: i64 = db
            .conn
            .query_row("SELECT COUNT(*) FROM quarantine", [], |r| r.get(0))
            .map_err(err())?;
        Ok(json!({ "submissions": submissions, "quarantined": quarantined }))
    }

    /// Scores everything with the configured rubric; returns the summary line.
    pub fn score(&self) -> Result<String, GraderError> {
        let (rubric, text, origin) = Rubric::load(self.rubric.as_deref())?;
        let summary = score_all(&mut self.db(), &rubric, &text, &origin)?;
        Ok(summary.to_string())
    }

    /// The grades in `format`, and a warning when scoring is older than the
    /// latest submission.
    pub fn export(&self, format: Format) -> Result<(Vec<u8>, Option<String>), GraderError> {
        let db = self.db();
        let warning = stale_warning(&db)?;
        let rubric = scoring_rubric(&db)?;
        let rows = grade_rows(&db, format == Format::Json)?;
        let mut bytes = Vec::new();
        write_grades(format, &rows, &rubric, &mut bytes)?;
        Ok((bytes, warning))
    }

    /// The `stats` report, after the staleness warning if any.
    pub fn stats(&self) -> Result<String, GraderError> {
        let db = self.db();
        let warning = stale_warning(&db)?;
        let report = crate::stats::report(&db)?;
        Ok(match warning {
            Some(w) => format!("{w}\n{report}"),
            None => report,
        })
    }

    /// How many submissions are stored (for `health`).
    pub fn count(&self) -> Result<i64, GraderError> {
        let db = self.db();
        db.conn
            .query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))
            .map_err(db.err())
    }
}

/// Locks `mutex`, even if a thread panicked holding it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The writer thread: stores every waiting submission (up to [`GROUP`]) in
/// one transaction, then answers each; ends when the store is dropped.
fn write_groups(db: &Mutex<Db>, jobs: &Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let (checked, replies): (Vec<Checked>, Vec<_>) = group.into_iter().unzip();
        match store_checked(&mut lock(db), checked) {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                tracing::error!("storing {} submissions: {error}", replies.len());
                for reply in replies {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
        }
    }
}

/// Puts the Hub's `user` in the payload's `student` field (when the payload is
/// a JSON object); returns the bytes to store and the payload's own name when
/// it differed.
fn restamp(raw: &[u8], user: &str) -> (Vec<u8>, Option<String>) {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(raw) else {
        return (raw.to_vec(), None);
    };
    let claimed = object
        .insert("student".into(), Value::String(user.into()))
        .and_then(|v| v.as_str().map(str::to_string))
        .filter(|claimed| claimed != user);
    let mut bytes =
        serde_json::to_vec_pretty(&Value::Object(object)).unwrap_or_else(|_| raw.to_vec());
    bytes.push(b'\n');
    (bytes, claimed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{synthetic_session, Rng};
    use chrono::Utc;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("grades.sqlite"), None).unwrap();
        (dir, store)
    }

    #[test]
    fn a_submission_is_stored_once_under_the_hub_name() {
        let (_dir, store) = store();
        let submission = synthetic_session("mallory", Utc::now(), 20, &mut Rng::new(7));
        let raw = serde_json::to_vec(&submission).unwrap();
        let first = store.submit("ada", &raw).unwrap();
        assert_eq!(
            first.outcome,
            OneOutcome::Ingested(submission.id.to_string())
        );
        assert_eq!(first.payload_student.as_deref(), Some("mallory"));
        let again = store.submit("ada", &raw).unwrap();
        assert_eq!(
            again.outcome,
            OneOutcome::Duplicate(submission.id.to_string())
        );
        assert_eq!(again.sha256, first.sha256);
        let record = store.student_record("ada", false).unwrap();
        assert_eq!(record["submissions"].as_array().unwrap().len(), 1);
        assert!(record.get("grade").is_none());
        let mallory = store.student_record("mallory", true).unwrap();
        assert!(mallory["submissions"].as_array().unwrap().is_empty());
        // The same id from another user is different content: quarantined, not overwritten.
        let stolen = store.submit("grace", &raw).unwrap();
        assert!(
            matches!(stolen.outcome, OneOutcome::Quarantined(ref r) if r.reason.code() == "id_conflict")
        );
        assert_eq!(store.count().unwrap(), 1);
    }

    #[test]
    fn bad_bytes_are_quarantined_in_the_senders_record() {
        let (_dir, store) = store();
        let received = store.submit("grace", b"{ not json").unwrap();
        assert!(
            matches!(received.outcome, OneOutcome::Quarantined(ref r) if r.reason.code() == "malformed_json")
        );
        let record = store.student_record("grace", false).unwrap();
        assert_eq!(record["quarantined"][0]["reason"], "malformed_json");
        assert_eq!(store.count().unwrap(), 0);
    }

    #[test]
    fn releasing_scores_is_a_flag_next_to_the_database() {
        let (_dir, store) = store();
        assert!(!store.released());
        store.set_released(true).unwrap();
        assert!(store.released());
        store.set_released(false).unwrap();
        store.set_released(false).unwrap();
        assert!(!store.released());
    }

    #[test]
    fn the_hub_name_replaces_the_payload_name() {
        let (bytes, claimed) = restamp(br#"{"student": "mallory", "x": 1.5}"#, "ada");
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["student"], "ada");
        assert_eq!(value["x"], 1.5);
        assert_eq!(claimed.as_deref(), Some("mallory"));
        assert_eq!(restamp(br#"{"student": "ada"}"#, "ada").1, None);
        assert_eq!(restamp(b"not json", "ada"), (b"not json".to_vec(), None));
    }
}
