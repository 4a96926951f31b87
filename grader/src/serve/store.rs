//! The service's view of the grader database: a connection for reads, and one
//! for writes used by two writer threads: one stores whatever submissions are
//! waiting in one transaction (a group commit: one sync for many) once the
//! callers' threads have validated them, the other likewise whatever witnessed
//! batches are waiting. Every commit is synced before the
//! service answers (see [`Db::open`]); a write another process keeps busy
//! longer than the busy wait is refused as [`NotStored::Busy`], to be retried.

use crate::db::intake::{Incoming, QuarantineQuota, Stored};
use crate::db::witness::{WitnessRequest, WitnessedBatch};
use crate::db::Db;
use crate::encode::{rfc3339, sha256_hex};
use crate::error::GraderError;
use crate::export::{grade_rows, write_atomically, write_grades, Format};
use crate::grading::{score_all, scored_lab, stale_warning};
use crate::ingest::{check_one, write_groups, GROUP};
use crate::labs::Scorers;
use crate::rubric::Rubric;
use chrono::{DateTime, Utc};
use mlsys_model::receipt::WitnessReceipt;
use mlsys_model::record::Event;
use serde_json::{json, Value};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Why a submission was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotStored {
    /// Another writer (`mlsys-grader ingest` or `score`) kept the database
    /// busy for longer than the busy wait: nothing was written; try again.
    Busy,
    /// Storing failed; nothing was written.
    Failed(String),
}

/// Each connection's page cache, in KiB, without mmap: the service runs for
/// weeks, and after a class's hand-ins a 64 MiB cache on each of its two
/// connections was most of its memory (or, with a small cache, the mapped
/// database file was).
const CACHE_KIB: u32 = 8 << 10;

/// Where the writer sends what became of a submission.
type Reply = Sender<Result<Stored, NotStored>>;

/// A witnessed batch for the witness writer: who sent it, when it was
/// received, and where to send what became of it.
type WitnessJob = (
    String,
    Vec<Event>,
    DateTime<Utc>,
    Sender<Result<WitnessedBatch, NotStored>>,
);

/// How the service's store is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// What one student may keep in quarantine.
    pub quota: QuarantineQuota,
    /// How long a write waits for another writer.
    pub busy_wait: Duration,
}

impl Default for StoreLimits {
    /// 100 records and 8 MiB (compressed) of quarantine per student; 5 s.
    fn default() -> Self {
        StoreLimits {
            quota: QuarantineQuota {
                records: 100,
                bytes: 8 << 20,
            },
            busy_wait: Duration::from_secs(5),
        }
    }
}

/// The database, its writer thread and the scores-released flag.
pub struct Store {
    reader: Mutex<Db>,
    writer: Arc<Mutex<Db>>,
    jobs: Mutex<Sender<(Option<Incoming>, Reply)>>,
    witness_jobs: Mutex<Sender<WitnessJob>>,
    released_flag: PathBuf,
    rubric: Option<PathBuf>,
    scorers: Scorers,
}

/// What became of a submission the service received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// Stored, already stored, quarantined, or refused over the quota.
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
        limits: StoreLimits,
    ) -> Result<Store, GraderError> {
        let writer = Db::open(path)?;
        writer.set_busy_wait(limits.busy_wait)?;
        writer.limit_memory(CACHE_KIB)?;
        let reader = Db::open(path)?;
        reader.set_busy_wait(limits.busy_wait)?;
        reader.limit_memory(CACHE_KIB)?;
        let mut flag = path.as_os_str().to_owned();
        flag.push(".released");
        let writer = Arc::new(Mutex::new(writer));
        let (sender, jobs) = channel();
        let writer_db = writer.clone();
        std::thread::Builder::new()
            .name("grader-writer".into())
            .spawn(move || {
                write_groups(
                    &jobs,
                    |batch| lock(&writer_db).store(batch, &rfc3339(Utc::now()), Some(limits.quota)),
                    |reply: Reply, stored| {
                        let _ = reply.send(
                            stored.ok_or_else(|| NotStored::Failed("nothing to store".into())),
                        );
                    },
                    |replies, error| {
                        let why = not_stored(&error, replies.len(), "submissions");
                        for reply in replies {
                            let _ = reply.send(Err(why.clone()));
                        }
                        ControlFlow::Continue(())
                    },
                )
            })
            .map_err(GraderError::io(path))?;
        let (witness_sender, witness_jobs) = channel();
        let writer_db = writer.clone();
        std::thread::Builder::new()
            .name("grader-witness".into())
            .spawn(move || write_witnessed(&witness_jobs, &writer_db))
            .map_err(GraderError::io(path))?;
        Ok(Store {
            reader: Mutex::new(reader),
            writer,
            jobs: Mutex::new(sender),
            witness_jobs: Mutex::new(witness_sender),
            released_flag: PathBuf::from(flag),
            rubric,
            scorers,
        })
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        lock(&self.reader)
    }

    /// Stores `raw` as `user`'s submission and returns once it is committed:
    /// the payload's `student` is replaced by the Hub's name before validation,
    /// so nothing is stored under another name. Blocks.
    pub fn submit(&self, user: &str, raw: &[u8]) -> Result<Received, NotStored> {
        let (bytes, payload_student) = restamp(raw, user);
        let sha256 = sha256_hex(&bytes);
        let incoming = check_one(&self.scorers, &format!("service:{user}"), bytes);
        let (reply, outcome) = channel();
        let gone = || NotStored::Failed("the database writer stopped".into());
        lock(&self.jobs)
            .send((Some(incoming), reply))
            .map_err(|_| gone())?;
        let outcome = outcome.recv().map_err(|_| gone())??;
        Ok(Received {
            outcome,
            sha256,
            payload_student,
        })
    }

    /// Stores `events` as witnessed from `user` now (see `Db::witness`), with
    /// the other batches waiting then (see `Db::witness_all`); returns once
    /// they are committed. Blocks.
    pub fn witness(&self, user: &str, events: &[Event]) -> Result<WitnessReceipt, NotStored> {
        let now = Utc::now();
        let (reply, outcome) = channel();
        let gone = || NotStored::Failed("the witness writer stopped".into());
        lock(&self.witness_jobs)
            .send((user.to_string(), events.to_vec(), now, reply))
            .map_err(|_| gone())?;
        let done = outcome.recv().map_err(|_| gone())??;
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
        let summary = score_all(
            &mut lock(&self.writer),
            &self.scorers,
            &rubric,
            &text,
            &origin,
        )?;
        Ok(summary.to_string())
    }

    /// Scores everything with the rubric `text` (named `origin` in errors and
    /// in the database), checked first: a bad rubric scores nothing.
    pub fn score_with(&self, text: &str, origin: &str) -> Result<String, GraderError> {
        let rubric = Rubric::parse(&self.scorers, text, origin)?;
        let summary = score_all(
            &mut lock(&self.writer),
            &self.scorers,
            &rubric,
            text,
            origin,
        )?;
        Ok(summary.to_string())
    }

    /// Runs `read` on the reading connection.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Db) -> Result<T, GraderError>,
    ) -> Result<T, GraderError> {
        read(&self.db())
    }

    /// The labs this service scores.
    pub fn scorers(&self) -> &Scorers {
        &self.scorers
    }

    /// The rubric `score` uses when none is uploaded, parsed.
    pub fn configured_rubric(&self) -> Result<Rubric, GraderError> {
        Ok(Rubric::load(&self.scorers, self.rubric.as_deref())?.0)
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

/// The witness writer: stores the batches waiting (at least one, at most
/// [`GROUP`]) in one transaction, and answers each; runs until the store is
/// dropped.
fn write_witnessed(jobs: &Receiver<WitnessJob>, writer: &Mutex<Db>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let requests: Vec<WitnessRequest> = group
            .iter()
            .map(|(student, events, now, _)| WitnessRequest {
                student,
                events,
                now: *now,
            })
            .collect();
        match lock(writer).witness_all(&requests) {
            Ok(done) => {
                for ((.., reply), done) in group.into_iter().zip(done) {
                    let _ = reply.send(Ok(done));
                }
            }
            Err(error) => {
                let why = not_stored(&error, group.len(), "witnessed batches");
                for (.., reply) in group {
                    let _ = reply.send(Err(why.clone()));
                }
            }
        }
    }
}

/// What a failed group commit of `count` `what` tells each of their senders
/// (and the log).
fn not_stored(error: &GraderError, count: usize, what: &str) -> NotStored {
    if error.is_busy() {
        tracing::warn!("the database is busy: {count} {what} refused");
        NotStored::Busy
    } else {
        tracing::error!("storing {count} {what}: {error}");
        NotStored::Failed(error.to_string())
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
        store_with(StoreLimits::default())
    }

    fn store_with(limits: StoreLimits) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grades.sqlite");
        let store = Store::open(&path, None, Scorers::builtin(), limits).unwrap();
        (dir, store)
    }

    /// `len` bytes that do not compress.
    fn noise(rng: &mut Rng, len: usize) -> Vec<u8> {
        (0..len).map(|_| rng.next_u64() as u8).collect()
    }

    #[test]
    fn a_students_quarantine_is_compressed_and_capped_by_records_and_bytes() {
        let quota = QuarantineQuota {
            records: 5,
            bytes: 1 << 20,
        };
        let (dir, store) = store_with(StoreLimits {
            quota,
            ..StoreLimits::default()
        });
        let outcome = |received: Received| match received.outcome {
            Stored::Quarantined(_) => "kept",
            Stored::OverQuota(_) => "over",
            other => panic!("{other:?}"),
        };
        // 2 MiB of repetitive junk keeps a few KiB; the sixth is over the count.
        let junk: Vec<_> = (0..8)
            .map(|i| {
                let mut body = vec![b'x'; 2 << 20];
                body[0] = b'0' + i;
                outcome(store.submit("mallory", &body).unwrap())
            })
            .collect();
        assert_eq!(
            junk,
            ["kept"; 5]
                .iter()
                .chain(&["over"; 3])
                .copied()
                .collect::<Vec<_>>()
        );
        // Another student's quarantine is their own; noise does not compress,
        // so 300 KiB pieces fill a 1 MiB quota after three.
        let mut rng = Rng::new(3);
        let noisy: Vec<_> = (0..5)
            .map(|_| outcome(store.submit("eve", &noise(&mut rng, 300 << 10)).unwrap()))
            .collect();
        assert_eq!(noisy, ["kept", "kept", "kept", "over", "over"]);
        // Refused hand-ins leave nothing; what is kept is within the quotas.
        let db = Db::open(&dir.path().join("grades.sqlite")).unwrap();
        let kept: Vec<(String, i64, i64)> = db
            .conn
            .prepare(
                "SELECT source, COUNT(*), SUM(length(raw_lz4)) FROM quarantine GROUP BY source",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kept[0].0, "service:eve");
        assert_eq!(kept[0].1, 3);
        assert!(kept[0].2 <= 1 << 20, "{kept:?}");
        assert_eq!((kept[1].0.as_str(), kept[1].1), ("service:mallory", 5));
        assert!(kept[1].2 < 100 << 10, "2 MiB of x compresses: {kept:?}");
        // A student over the quota is still told why, and the bytes are readable.
        let record = store.student_record("mallory", false).unwrap();
        assert_eq!(record["quarantined"].as_array().unwrap().len(), 5);
        let sha = record["quarantined"][0]["sha256"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(db.quarantined_bytes(&sha).unwrap().unwrap().len(), 2 << 20);
    }

    #[test]
    fn a_write_another_process_keeps_busy_is_refused_as_busy_then_taken() {
        let (dir, store) = store_with(StoreLimits {
            busy_wait: std::time::Duration::from_millis(200),
            ..StoreLimits::default()
        });
        let scorer = Scorers::builtin().pick(None).unwrap();
        let submission = scorer.synthetic("ada", Utc::now(), 10, &mut Rng::new(2));
        let raw = serde_json::to_vec(&submission).unwrap();
        let other = rusqlite::Connection::open(dir.path().join("grades.sqlite")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        assert_eq!(store.submit("ada", &raw), Err(NotStored::Busy));
        other.execute_batch("COMMIT").unwrap();
        let received = store.submit("ada", &raw).unwrap();
        assert_eq!(
            received.outcome,
            Stored::Ingested(submission.id.to_string())
        );
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
    fn witnessed_batches_sent_at_once_are_each_stored_once_in_their_senders_order() {
        let (dir, store) = store();
        let scorer = Scorers::builtin().pick(None).unwrap();
        let class: Vec<(String, Vec<Event>)> = (0..16)
            .map(|i| {
                let name = format!("student{i:02}");
                let events = scorer
                    .synthetic(&name, Utc::now(), 24, &mut Rng::new(i))
                    .events;
                (name, events)
            })
            .collect();
        // The writer busy at first, so batches wait and are stored in groups.
        let held = lock(&store.writer);
        let receipts: Vec<Vec<(usize, WitnessReceipt)>> = std::thread::scope(|scope| {
            let senders: Vec<_> = class
                .iter()
                .map(|(name, events)| {
                    let store = &store;
                    scope.spawn(move || {
                        events
                            .chunks(4)
                            .map(|batch| (batch.len(), store.witness(name, batch).unwrap()))
                            .collect()
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(200));
            drop(held);
            senders.into_iter().map(|s| s.join().unwrap()).collect()
        });
        for ((name, _), receipts) in class.iter().zip(&receipts) {
            for (sent, receipt) in receipts {
                assert_eq!(&receipt.student, name);
                assert_eq!((receipt.stored, receipt.duplicates), (*sent as u32, 0));
            }
        }
        let db = Db::open(&dir.path().join("grades.sqlite")).unwrap();
        for (name, events) in &class {
            let stored: Vec<String> = db
                .conn
                .prepare("SELECT event_id FROM witnessed_events WHERE student = ?1 ORDER BY seq")
                .unwrap()
                .query_map([name], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let sent: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
            assert_eq!(stored, sent, "{name}");
        }
        let requests: i64 = db
            .conn
            .query_row(
                "SELECT COUNT(DISTINCT batch) FROM witnessed_events",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let sent: usize = receipts.iter().map(Vec::len).sum();
        assert_eq!(requests, sent as i64);
    }

    #[test]
    fn the_services_connections_keep_a_small_page_cache_and_map_nothing() {
        let (dir, store) = store();
        for db in [&*lock(&store.writer), &*store.db()] {
            assert_eq!(db.memory_limits().unwrap(), (i64::from(CACHE_KIB), 0));
        }
        // The command line keeps its large cache and mmap.
        let cli = Db::open(&dir.path().join("grades.sqlite")).unwrap();
        assert_eq!(cli.memory_limits().unwrap(), (65_536, 1 << 30));
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
