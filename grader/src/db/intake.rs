//! Storing submissions: accepted ones with their facts and answers, rejected
//! ones in quarantine with their raw bytes (compressed, within a quota when
//! one is set); a batch in one transaction.

use super::Db;
use crate::encode::rfc3339;
use crate::error::GraderError;
use crate::provenance::Provenance;
use crate::rejection::{Reason, Rejected, Rejection};
use mlsys_model::Choice;
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::HashSet;

/// The columns of an accepted submission, and its answers.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    /// Its id.
    pub id: String,
    /// The student.
    pub student: String,
    /// The lab.
    pub lab: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// The kernel that made it.
    pub kernel_version: String,
    /// Its schema version.
    pub schema_version: u32,
    /// Events in its log.
    pub event_count: usize,
    /// What scoring needs, as its lab's scorer stores it.
    pub facts: String,
    /// Its answers: question id and letter.
    pub answers: Vec<(String, Choice)>,
    /// The raw bytes, LZ4-compressed (size-prepended block).
    pub raw_lz4: Vec<u8>,
    /// Whom and which time to believe.
    pub provenance: Provenance,
    /// Its log's event ids, 16 bytes each, in order.
    pub event_ids: Vec<u8>,
}

/// One submission read and validated, ready to be stored.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Where it came from (a path, `<stdin>`, `service:USER`).
    pub source: String,
    /// Its bytes when rejected (an accepted one carries them compressed).
    pub raw: Vec<u8>,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Accepted, or why not.
    pub outcome: Result<NewSubmission, Rejected>,
}

/// What became of one submission given to [`Db::store`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Stored now, under this submission id.
    Ingested(String),
    /// Already stored with the same bytes, under this submission id.
    Duplicate(String),
    /// Quarantined now.
    Quarantined(Rejection),
    /// These bytes were quarantined before.
    QuarantinedBefore(Rejection),
    /// Rejected, and not kept: its source is over its [`QuarantineQuota`].
    OverQuota(Rejection),
}

/// How much one source may keep in quarantine. The service names each
/// student's hand-ins `service:USER`, so for it this is per student.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuarantineQuota {
    /// Quarantine records.
    pub records: u64,
    /// Bytes stored (compressed).
    pub bytes: u64,
}

impl Db {
    /// Stores a batch of submissions (or their quarantine records, each
    /// source within `quota` when there is one) in one transaction, a group
    /// commit; says what became of each, in order. `now` is when they were
    /// received.
    pub fn store(
        &mut self,
        batch: Vec<Incoming>,
        now: &str,
        quota: Option<QuarantineQuota>,
    ) -> Result<Vec<Stored>, GraderError> {
        let path = self.path.clone();
        let tx = self.write()?;
        let stored = batch
            .into_iter()
            .map(|incoming| store_one(&tx, incoming, now, quota))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(GraderError::db(&path))?;
        tx.commit().map_err(GraderError::db(&path))?;
        Ok(stored)
    }

    /// The SHA-256 of every submission stored or quarantined: files with these
    /// bytes are duplicates, known without parsing them again.
    pub fn known_digests(&self) -> Result<HashSet<String>, GraderError> {
        let digests = self.rows(
            "SELECT sha256 FROM submissions UNION ALL SELECT sha256 FROM quarantine",
            [],
            |r| r.get(0),
        )?;
        Ok(digests.into_iter().collect())
    }

    /// The exact bytes submission `id` was ingested from, if it is stored.
    pub fn raw_bytes(&self, id: &str) -> Result<Option<Vec<u8>>, GraderError> {
        self.decompressed(
            "SELECT raw_lz4 FROM submissions WHERE id = ?1",
            id,
            &format!("submission {id}"),
        )
    }

    /// The bytes quarantined with SHA-256 `sha256` (of a `too_large` file,
    /// its first part), if any.
    pub fn quarantined_bytes(&self, sha256: &str) -> Result<Option<Vec<u8>>, GraderError> {
        self.decompressed(
            "SELECT raw_lz4 FROM quarantine WHERE sha256 = ?1",
            sha256,
            &format!("quarantined {sha256}"),
        )
    }

    /// The LZ4 blob `sql` selects for `key`, decompressed; `what` names it in
    /// the error when it is damaged.
    fn decompressed(
        &self,
        sql: &str,
        key: &str,
        what: &str,
    ) -> Result<Option<Vec<u8>>, GraderError> {
        let stored: Option<Vec<u8>> = self
            .conn
            .query_row(sql, [key], |r| r.get(0))
            .optional()
            .map_err(self.err())?;
        stored
            .map(|lz4| {
                lz4_flex::decompress_size_prepended(&lz4).map_err(|e| {
                    GraderError::Precondition(format!("{what}: stored bytes are damaged ({e})"))
                })
            })
            .transpose()
    }
}

fn store_one(
    tx: &Transaction,
    incoming: Incoming,
    now: &str,
    quota: Option<QuarantineQuota>,
) -> rusqlite::Result<Stored> {
    let Incoming {
        source,
        raw,
        sha256,
        outcome,
    } = incoming;
    let row = match outcome {
        Ok(row) => row,
        Err(rejected) => return quarantine(tx, &source, &raw, &sha256, rejected, now, quota),
    };
    let existing: Option<(String, String)> = tx
        .prepare_cached("SELECT sha256, source FROM submissions WHERE id = ?1")?
        .query_row([&row.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match existing {
        Some((sha, _)) if sha == sha256 => return Ok(Stored::Duplicate(row.id)),
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
                submission_id: Some(row.id.clone()),
            };
            let plain =
                lz4_flex::decompress_size_prepended(&row.raw_lz4).unwrap_or_else(|_| raw.to_vec());
            return Ok(
                match quarantine(tx, &source, &plain, &sha256, rejected, now, quota)? {
                    Stored::QuarantinedBefore(_) => Stored::QuarantinedBefore(Rejection::new(
                        Reason::IdConflict,
                        format!(
                            "submission {} was already handed in with different content",
                            row.id
                        ),
                    )),
                    stored => stored,
                },
            );
        }
        None => {}
    }
    let received_at = match row.provenance {
        Provenance::Service => Some(now.to_string()),
        Provenance::File { ctime } => Some(rfc3339(ctime)),
        Provenance::Unverified => None,
    };
    tx.prepare_cached(
        "INSERT INTO submissions (id, student, lab, created_at, kernel_version, schema_version, \
         event_count, sha256, source, ingested_at, facts, raw_lz4, received_at, time_source, \
         event_ids) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
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
        row.raw_lz4,
        received_at,
        row.provenance.code(),
        row.event_ids
    ])?;
    let mut insert_answer = tx.prepare_cached(
        "INSERT INTO answers (submission_id, question, choice) VALUES (?1, ?2, ?3)",
    )?;
    for (question, choice) in &row.answers {
        insert_answer.execute(params![row.id, question, choice.letter()])?;
    }
    Ok(Stored::Ingested(row.id))
}

/// Keeps `raw` (compressed) in quarantine, unless these bytes are there
/// already or `source` would go over `quota`.
fn quarantine(
    tx: &Transaction,
    source: &str,
    raw: &[u8],
    sha256: &str,
    rejected: Rejected,
    now: &str,
    quota: Option<QuarantineQuota>,
) -> rusqlite::Result<Stored> {
    let known = tx
        .prepare_cached("SELECT 1 FROM quarantine WHERE sha256 = ?1")?
        .exists([sha256])?;
    if known {
        return Ok(Stored::QuarantinedBefore(rejected.rejection));
    }
    let raw_lz4 = lz4_flex::compress_prepend_size(raw);
    if let Some(quota) = quota {
        let (records, bytes): (u64, u64) = tx
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(SUM(length(raw_lz4)), 0) FROM quarantine \
                 WHERE source = ?1",
            )?
            .query_row([source], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if records >= quota.records || bytes + raw_lz4.len() as u64 > quota.bytes {
            return Ok(Stored::OverQuota(rejected.rejection));
        }
    }
    tx.prepare_cached(
        "INSERT INTO quarantine (sha256, reason, detail, student, submission_id, source, \
         quarantined_at, raw_lz4) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        sha256,
        rejected.rejection.reason.code(),
        rejected.rejection.detail,
        rejected.student,
        rejected.submission_id,
        source,
        now,
        raw_lz4
    ])?;
    Ok(Stored::Quarantined(rejected.rejection))
}
