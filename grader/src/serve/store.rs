//! The service's view of the grader database: one connection (synchronous =
//! FULL, so an acknowledged submission is on disk), used from blocking threads.
//! Submissions are validated on the callers' threads, then one writer thread
//! stores whatever is waiting in one transaction (a group commit: one sync for
//! many submissions).

use crate::db::intake::{Incoming, Stored};
use crate::db::Db;
use crate::encode::{rfc3339, sha256_hex};
use crate::error::GraderError;
use crate::export::{grade_rows, write_atomically, write_grades, Format};
use crate::grading::{score_all, scored_lab, stale_warning};
use crate::ingest::{check_one, write_groups};
use crate::labs::Scorers;
use crate::rubric::Rubric;
use chrono::Utc;
use mlsys_model::receipt::WitnessReceipt;
use mlsys_model::record::Event;
use serde_json::{json, Value};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

/// Where the writer sends what became of a submission.
type Reply = Sender<Result<Stored, String>>;

/// The database, its writer thread and the scores-released flag.
pub struct Store {
    db: Arc<Mutex<Db>>,
    writer: Mutex<Sender<(Option<Incoming>, Reply)>>,
    released_flag: PathBuf,
    rubric: Option<PathBuf>,
    scorers: Scorers,
}

/// What became of a submission the service received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// Stored, already stored, or quarantined.
    pub outcome: Stored,
    /// SHA-256 of the bytes stored.
    pub sha256: String,
    /// The name in the payload, when it differed from the Hub's.
    pub payload_student: Option<String>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` for the labs of
    /// `scorers`; scores are released while the file `<path>.released` exists.
    pub fn open(
        path: &Path,
        rubric: Option<PathBuf>,
        scorers: Scorers,
    ) -> Result<Store, GraderError> {
        let db = Db::open(path)?;
        db.sync_every_commit()?;
        let mut flag = path.as_os_str().to_owned();
        flag.push(".released");
        let db = Arc::new(Mutex::new(db));
        let (sender, jobs) = channel();
        let writer_db = db.clone();
        std::thread::Builder::new()
            .name("grader-writer".into())
            .spawn(move || {
                write_groups(
                    &jobs,
                    |batch| lock(&writer_db).store(batch, &rfc3339(Utc::now())),
                    |reply: Reply, stored| {
                        let _ = reply.send(stored.ok_or_else(|| "nothing to store".to_string()));
                    },
                    |replies, error| {
                        tracing::error!("storing {} submissions: {error}", replies.len());
                        for reply in replies {
                            let _ = reply.send(Err(error.to_string()));
                        }
                        ControlFlow::Continue(())
                    },
                )
            })
            .map_err(GraderError::io(path))?;
        Ok(Store {
            db,
            writer: Mutex::new(sender),
            released_flag: PathBuf::from(flag),
            rubric,
            scorers,
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
        let sha256 = sha256_hex(&bytes);
        let incoming = check_one(&self.scorers, &format!("service:{user}"), bytes);
        let (reply, outcome) = channel();
        let gone = || GraderError::Precondition("the database writer stopped".into());
        lock(&self.writer)
            .send((Some(incoming), reply))
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

    /// Stores `events` as witnessed from `user` now (see `Db::witness`);
    /// returns once they are committed.
    pub fn witness(&self, user: &str, events: &[Event]) -> Result<WitnessReceipt, GraderError> {
        let now = Utc::now();
        let done = self.db().witness(user, events, now)?;
        Ok(WitnessReceipt {
            student: user.to_string(),
            received_at: now,
            stored: done.stored,
            duplicates: done.duplicates,
            conflicts: done.conflicts,
        })
    }

    /// Whether this service grades lab `lab`.
    pub fn grades(&self, lab: &str) -> bool {
        self.scorers.get(lab).is_some()
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

    /// One student's submissions and quarantined hand-ins, with the grade in
    /// the lab scored last and per-submission scores when `with_scores`.
    pub fn student_record(&self, student: &str, with_scores: bool) -> Result<Value, GraderError> {
        let db = self.db();
        let mut submissions: Vec<Value> = Vec::new();
        for s in db.submissions_of(student)? {
            let mut row = json!({
                "submission_id": s.id,
                "created_at": s.created_at,
                "received_at": s.ingested_at,
                "sha256": s.sha256,
                "events": s.events,
                "kernel_version": s.kernel_version,
            });
            if with_scores {
                row["total"] = json!(s.total);
                let flags = db.flags_of(&s.id)?;
                if !flags.is_empty() {
                    row["flags"] = json!(flags);
                }
            }
            submissions.push(row);
        }
        let quarantined: Vec<Value> = db
            .quarantined_of(student, Some(&format!("service:{student}")))?
            .into_iter()
            .map(|q| {
                json!({
                    "reason": q.reason,
                    "detail": q.detail,
                    "received_at": q.quarantined_at,
                    "sha256": q.sha256,
                })
            })
            .collect();
        let mut record = json!({
            "student": student,
            "submissions": submissions,
            "quarantined": quarantined,
            "scores_released": self.released(),
        });
        if with_scores {
            let grade = match db.last_scored_lab()? {
                Some(lab) => {
                    let rubric = Rubric::stored(&db, &self.scorers, &lab)?;
                    grade_rows(&db, &rubric, true)?
                        .into_iter()
                        .find(|row| row.student == student)
                }
                None => None,
            };
            record["grade"] = json!(grade);
        }
        Ok(record)
    }

    /// Every stored submission (without its bytes) and the quarantine count.
    pub fn list(&self) -> Result<Value, GraderError> {
        let db = self.db();
        let submissions: Vec<Value> = db
            .all_submissions()?
            .into_iter()
            .map(|s| {
                json!({
                    "submission_id": s.id,
                    "student": s.student,
                    "created_at": s.created_at,
                    "received_at": s.ingested_at,
                    "sha256": s.sha256,
                    "events": s.events,
                    "source": s.source,
                })
            })
            .collect();
        let quarantined = db.quarantine_count()?;
        Ok(json!({ "submissions": submissions, "quarantined": quarantined }))
    }

    /// Scores everything with the configured rubric; returns the summary line.
    pub fn score(&self) -> Result<String, GraderError> {
        let (rubric, text, origin) = Rubric::load(&self.scorers, self.rubric.as_deref())?;
        let summary = score_all(&mut self.db(), &self.scorers, &rubric, &text, &origin)?;
        Ok(summary.to_string())
    }

    /// The grades of the lab scored last in `format`, and a warning when
    /// scoring is older than the latest submission.
    pub fn export(&self, format: Format) -> Result<(Vec<u8>, Option<String>), GraderError> {
        let db = self.db();
        let lab = scored_lab(&db, None)?;
        let warning = stale_warning(&db, &lab)?;
        let rubric = Rubric::stored(&db, &self.scorers, &lab)?;
        let rows = grade_rows(&db, &rubric, format == Format::Json)?;
        let mut bytes = Vec::new();
        write_grades(format, &rows, &rubric, &mut bytes)?;
        Ok((bytes, warning))
    }

    /// The `stats` report of the lab scored last, after the staleness warning if any.
    pub fn stats(&self) -> Result<String, GraderError> {
        let db = self.db();
        let lab = scored_lab(&db, None)?;
        let warning = stale_warning(&db, &lab)?;
        let report = crate::stats::report(&db, &self.scorers, &lab)?;
        Ok(match warning {
            Some(w) => format!("{w}\n{report}"),
            None => report,
        })
    }

    /// How many submissions are stored (for `health`).
    pub fn count(&self) -> Result<i64, GraderError> {
        self.db().submission_count()
    }
}

/// Locks `mutex`, even if a thread panicked holding it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
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
    use crate::synth::Rng;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grades.sqlite");
        let store = Store::open(&path, None, Scorers::builtin()).unwrap();
        (dir, store)
    }

    #[test]
    fn a_submission_is_stored_once_under_the_hub_name() {
        let (_dir, store) = store();
        let scorer = Scorers::builtin().pick(None).unwrap();
        let submission = scorer.synthetic("mallory", Utc::now(), 20, &mut Rng::new(7));
        let raw = serde_json::to_vec(&submission).unwrap();
        let first = store.submit("ada", &raw).unwrap();
        assert_eq!(first.outcome, Stored::Ingested(submission.id.to_string()));
        assert_eq!(first.payload_student.as_deref(), Some("mallory"));
        let again = store.submit("ada", &raw).unwrap();
        assert_eq!(again.outcome, Stored::Duplicate(submission.id.to_string()));
        assert_eq!(again.sha256, first.sha256);
        let record = store.student_record("ada", false).unwrap();
        assert_eq!(record["submissions"].as_array().unwrap().len(), 1);
        assert!(record.get("grade").is_none());
        let mallory = store.student_record("mallory", true).unwrap();
        assert!(mallory["submissions"].as_array().unwrap().is_empty());
        // The same id from another user is different content: quarantined, not overwritten.
        let stolen = store.submit("grace", &raw).unwrap();
        assert!(
            matches!(stolen.outcome, Stored::Quarantined(ref r) if r.reason.code() == "id_conflict")
        );
        assert_eq!(store.count().unwrap(), 1);
    }

    #[test]
    fn bad_bytes_are_quarantined_in_the_senders_record() {
        let (_dir, store) = store();
        let received = store.submit("grace", b"{ not json").unwrap();
        assert!(
            matches!(received.outcome, Stored::Quarantined(ref r) if r.reason.code() == "malformed_json")
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
