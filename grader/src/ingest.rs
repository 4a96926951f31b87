//! `ingest`: validate submissions in parallel, store them in group commits
//! (each transaction holds whole submissions only).
//!
//! Idempotent: a submission id already stored with the same bytes is a
//! duplicate; the same bytes already quarantined are a duplicate too. Nothing
//! is ever dropped: what fails validation goes to the quarantine table with its
//! raw bytes and the reason.

use crate::audit::{rfc3339, Reason, Rejection};
use crate::db::Db;
use crate::error::GraderError;
use crate::facts::Facts;
use crate::progress::Progress;
use crate::source::Source;
use crate::validate::{validate, Accepted, Rejected};
use chrono::{DateTime, Utc};
use mlsys_model::Act;
use rayon::prelude::*;
use rusqlite::{params, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::mpsc::sync_channel;

/// How many files are validated in parallel before their results are written.
const CHUNK: usize = 256;

/// At most this many submissions share one transaction (group commit).
pub const GROUP: usize = 256;

/// What one `ingest` run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Submissions read.
    pub files: usize,
    /// New submissions stored.
    pub ingested: usize,
    /// Already stored (or already quarantined) with the same bytes.
    pub duplicates: usize,
    /// Newly quarantined.
    pub quarantined: usize,
    /// Files that could not be read (nothing was stored for them).
    pub unreadable: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ingested {}, duplicates {}, quarantined {} ({} files read",
            self.ingested, self.duplicates, self.quarantined, self.files
        )?;
        if self.unreadable > 0 {
            write!(f, ", {} unreadable", self.unreadable)?;
        }
        f.write_str(")")
    }
}

/// The columns of an accepted submission, and its answers.
struct Row {
    id: String,
    student: String,
    lab: String,
    created_at: String,
    kernel_version: String,
    schema_version: u32,
    event_count: usize,
    facts: String,
    answers: Vec<(String, &'static str)>,
    /// The raw bytes, LZ4-compressed (size-prepended block; see [`raw_bytes`]).
    raw_lz4: Vec<u8>,
}

/// One source, read and validated.
enum Prepared {
    /// Read and checked.
    Checked(Box<Checked>),
    /// Read, and these exact bytes are already stored or quarantined.
    Known,
    /// Could not be read.
    Unreadable {
        source: String,
        error: std::io::Error,
    },
}

/// Reads, validates and stores every source; messages about quarantined or
/// unreadable files go to `progress`.
pub fn ingest(
    db: &mut Db,
    sources: Vec<Source>,
    progress: &Progress,
) -> Result<Summary, GraderError> {
    let mut summary = Summary::default();
    let ingested_at = rfc3339(Utc::now());
    let known = known_digests(db)?;
    let (sender, receiver) = sync_channel::<Prepared>(CHUNK * 2);
    let producer = std::thread::spawn(move || {
        for chunk in sources.chunks(CHUNK) {
            let prepared: Vec<Prepared> = chunk.par_iter().map(|s| prepare(s, &known)).collect();
            for item in prepared {
                if sender.send(item).is_err() {
                    return; // the writer stopped on an error
                }
            }
        }
    });
    let result = (|| {
        // Group commit: each transaction holds whole submissions only, up to
        // GROUP of them, and commits as soon as no validated one is waiting.
        while let Ok(first) = receiver.recv() {
            let path = db.path().to_path_buf();
            let tx = db.conn.transaction().map_err(GraderError::db(&path))?;
            let mut next = Some(first);
            let mut in_group = 0;
            while let Some(item) = next.take() {
                summary.files += 1;
                progress.inc();
                handle(&tx, item, &ingested_at, &mut summary, progress)
                    .map_err(GraderError::db(&path))?;
                in_group += 1;
                if in_group < GROUP {
                    next = receiver.try_recv().ok();
                }
            }
            tx.commit().map_err(GraderError::db(&path))?;
        }
        Ok(())
    })();
    // On a database error the receiver is dropped above, so the producer stops.
    let _ = producer.join();
    result.map(|()| summary)
}

/// What happened to one submission given to [`store_checked`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneOutcome {
    /// Stored now, under this submission id.
    Ingested(String),
    /// Already stored with the same bytes, under this submission id.
    Duplicate(String),
    /// Rejected (now or before): quarantined with this reason.
    Quarantined(Rejection),
}

/// One submission held in memory (e.g. received over HTTP), validated and
/// ready for [`store_checked`].
pub struct Checked {
    source: String,
    raw: Vec<u8>,
    sha256: String,
    outcome: Result<Row, Rejected>,
}

/// Validates one submission held in memory; `source` says where it came from.
/// Needs no database, so many can be checked at once.
pub fn check_one(source: &str, raw: Vec<u8>) -> Checked {
    let sha256 = hex(&Sha256::digest(&raw));
    check_hashed(source, raw, sha256)
}

/// Validates bytes whose SHA-256 is known.
fn check_hashed(source: &str, raw: Vec<u8>, sha256: String) -> Checked {
    let outcome = validate(&raw).map(|accepted| row_of(accepted, &raw));
    // An accepted submission travels to the writer compressed only; the plain
    // bytes are kept for a quarantine record.
    let raw = if outcome.is_ok() { Vec::new() } else { raw };
    Checked {
        source: source.to_string(),
        raw,
        sha256,
        outcome,
    }
}

/// Stores checked submissions (or their quarantine records) in one
/// transaction, a group commit; says what became of each, in order.
pub fn store_checked(db: &mut Db, batch: Vec<Checked>) -> Result<Vec<OneOutcome>, GraderError> {
    let path = db.path().to_path_buf();
    let now = rfc3339(Utc::now());
    let tx = db.conn.transaction().map_err(GraderError::db(&path))?;
    let outcomes = batch
        .into_iter()
        .map(|checked| store_one(&tx, checked, &now))
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(GraderError::db(&path))?;
    tx.commit().map_err(GraderError::db(&path))?;
    Ok(outcomes)
}

fn store_one(tx: &Transaction, checked: Checked, now: &str) -> rusqlite::Result<OneOutcome> {
    let Checked {
        source,
        raw,
        sha256,
        outcome,
    } = checked;
    let (id, rejected) = match &outcome {
        Ok(row) => (row.id.clone(), None),
        Err(rejected) => (String::new(), Some(rejected.rejection.clone())),
    };
    Ok(match write(tx, &source, &raw, &sha256, outcome, now)? {
        Stored::Ingested => OneOutcome::Ingested(id),
        Stored::Quarantined(rejection) => OneOutcome::Quarantined(rejection),
        Stored::Duplicate => match rejected {
            Some(rejection) => OneOutcome::Quarantined(rejection),
            None if stored_with(tx, &id, &sha256)? => OneOutcome::Duplicate(id),
            None => OneOutcome::Quarantined(Rejection::new(
                Reason::IdConflict,
                format!("submission {id} was already handed in with different content"),
            )),
        },
    })
}

/// Whether submission `id` is stored with exactly these bytes.
fn stored_with(tx: &Transaction, id: &str, sha256: &str) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT 1 FROM submissions WHERE id = ?1 AND sha256 = ?2",
        [id, sha256],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

/// The SHA-256 of every submission stored or quarantined: files with these
/// bytes are duplicates, known without parsing them again.
fn known_digests(db: &Db) -> Result<HashSet<String>, GraderError> {
    let mut statement = db
        .conn
        .prepare("SELECT sha256 FROM submissions UNION ALL SELECT sha256 FROM quarantine")
        .map_err(db.err())?;
    let digests = statement
        .query_map([], |r| r.get(0))
        .map_err(db.err())?
        .collect::<Result<_, _>>()
        .map_err(db.err())?;
    Ok(digests)
}

fn prepare(source: &Source, known: &HashSet<String>) -> Prepared {
    let name = source.name();
    let raw = match source.read() {
        Ok(raw) => raw,
        Err(error) => {
            return Prepared::Unreadable {
                source: name,
                error,
            }
        }
    };
    let sha256 = hex(&Sha256::digest(&raw));
    if known.contains(&sha256) {
        return Prepared::Known;
    }
    Prepared::Checked(Box::new(check_hashed(&name, raw, sha256)))
}

fn row_of(accepted: Accepted, raw: &[u8]) -> Row {
    let Accepted { submission, audit } = accepted;
    let mut answers = Vec::new();
    for act in Act::ALL {
        if let Some(choice) = audit.session.predictions.get(&act) {
            answers.push((format!("{act}.prediction"), choice.letter()));
        }
        if let Some(choice) = audit.session.reflections.get(&act) {
            answers.push((format!("{act}.reflection"), choice.letter()));
        }
    }
    Row {
        id: submission.id.to_string(),
        student: submission.student,
        lab: submission.lab,
        created_at: rfc3339(submission.created_at),
        kernel_version: submission.kernel_version,
        schema_version: submission.schema_version,
        event_count: submission.events.len(),
        facts: serde_json::to_string(&Facts::of(&audit)).unwrap_or_default(),
        answers,
        raw_lz4: lz4_flex::compress_prepend_size(raw),
    }
}

/// Where one submission ended up.
enum Stored {
    Ingested,
    Duplicate,
    Quarantined(Rejection),
}

/// Stores one read source (or notes why it could not be read) in `tx`.
fn handle(
    tx: &Transaction,
    item: Prepared,
    now: &str,
    summary: &mut Summary,
    progress: &Progress,
) -> rusqlite::Result<()> {
    match item {
        Prepared::Unreadable { source, error } => {
            summary.unreadable += 1;
            progress.println(&format!("cannot read {source}: {error}"));
        }
        Prepared::Known => summary.duplicates += 1,
        Prepared::Checked(checked) => {
            let Checked {
                source,
                raw,
                sha256,
                outcome,
            } = *checked;
            match write(tx, &source, &raw, &sha256, outcome, now)? {
                Stored::Ingested => summary.ingested += 1,
                Stored::Duplicate => summary.duplicates += 1,
                Stored::Quarantined(rejection) => {
                    summary.quarantined += 1;
                    progress.println(&format!("quarantined {source}: {rejection}"));
                }
            }
        }
    }
    Ok(())
}

fn write(
    tx: &Transaction,
    source: &str,
    raw: &[u8],
    sha256: &str,
    outcome: Result<Row, Rejected>,
    now: &str,
) -> rusqlite::Result<Stored> {
    let row = match outcome {
        Ok(row) => row,
        Err(rejected) => return quarantine(tx, source, raw, sha256, rejected, now),
    };
    let existing: Option<(String, String)> = tx
        .prepare_cached("SELECT sha256, source FROM submissions WHERE id = ?1")?
        .query_row([&row.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match existing {
        Some((sha, _)) if sha == sha256 => return Ok(Stored::Duplicate),
        Some((_, first)) => {
            let rejected = Rejected {
                rejection: Rejection::new(
                    Reason::IdConflict,
                    format!(
                        "submission {} was already ingested from {first} with different content",
                        row.id
                    ),
                ),
                student: Some(row.student),
                submission_id: Some(row.id),
            };
            let plain =
                lz4_flex::decompress_size_prepended(&row.raw_lz4).unwrap_or_else(|_| raw.to_vec());
            return quarantine(tx, source, &plain, sha256, rejected, now);
        }
        None => {}
    }
    tx.prepare_cached(
        "INSERT INTO submissions (id, student, lab, created_at, kernel_version, schema_version, \
         event_count, sha256, source, ingested_at, facts, raw_lz4) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        row.id,
        row.student,
        row.lab,
        row.created_at,
        row.kernel_version,
        row.schema_version,
        row.event_count as i64,
        sha256,
        source,
        now,
        row.facts,
        row.raw_lz4
    ])?;
    let mut insert_answer = tx.prepare_cached(
        "INSERT INTO answers (submission_id, question, choice) VALUES (?1, ?2, ?3)",
    )?;
    for (question, choice) in &row.answers {
        insert_answer.execute(params![row.id, question, choice])?;
    }
    Ok(Stored::Ingested)
}

fn quarantine(
    tx: &Transaction,
    source: &str,
    raw: &[u8],
    sha256: &str,
    rejected: Rejected,
    now: &str,
) -> rusqlite::Result<Stored> {
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO quarantine (sha256, reason, detail, student, submission_id, \
             source, quarantined_at, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            sha256,
            rejected.rejection.reason.code(),
            rejected.rejection.detail,
            rejected.student,
            rejected.submission_id,
            source,
            now,
            raw
        ])?;
    Ok(if inserted == 0 {
        Stored::Duplicate
    } else {
        Stored::Quarantined(rejected.rejection)
    })
}

/// The exact bytes submission `id` was ingested from, if it is stored.
pub fn raw_bytes(db: &Db, id: &str) -> Result<Option<Vec<u8>>, GraderError> {
    let stored: Option<Vec<u8>> = db
        .conn
        .query_row("SELECT raw_lz4 FROM submissions WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db.err())?;
    stored
        .map(|lz4| {
            lz4_flex::decompress_size_prepended(&lz4).map_err(|e| {
                GraderError::Precondition(format!(
                    "submission {id}: stored bytes are damaged ({e})"
                ))
            })
        })
        .transpose()
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// When a submission was made, as stored.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
