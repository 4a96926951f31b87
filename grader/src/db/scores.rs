//! What `score` reads (each submission's stored facts) and writes (every
//! submission's items and totals, each student's grade, the rubric used), per lab.

use super::Db;
use crate::copies::EventIds;
use crate::error::GraderError;
use crate::flags::Flag;
use crate::score::{Item, SubmissionScore};
use rusqlite::{params, OptionalExtension, Transaction};

/// A stored submission as scoring reads it.
#[derive(Debug, Clone)]
pub struct StoredFacts {
    /// Its id.
    pub id: String,
    /// The student.
    pub student: String,
    /// When it was made (RFC 3339), as it says.
    pub created_at: String,
    /// What its lab's scorer stored for scoring.
    pub facts: String,
    /// The time it is judged by when one was verified: the service's receive
    /// time or the file's ctime (RFC 3339).
    pub received_at: Option<String>,
    /// `service`, `file` or `unverified`.
    pub time_source: String,
    /// Its raw bytes (LZ4), when asked for: its student has witnessed events.
    pub raw_lz4: Option<Vec<u8>>,
}

/// One student's grade in a lab, as `score` writes it.
#[derive(Debug, Clone)]
pub struct NewGrade<'a> {
    /// The student.
    pub student: &'a str,
    /// The counting submission and its score (none: no valid submission).
    pub counting: Option<(&'a str, &'a SubmissionScore)>,
    /// Points possible.
    pub max_total: f64,
    /// `on_time`, `late` or `no_valid_submission`.
    pub status: &'static str,
}

/// The rubric a `score` run used.
#[derive(Debug, Clone)]
pub struct UsedRubric<'a> {
    /// The lab it scores.
    pub lab: &'a str,
    /// Its text.
    pub text: &'a str,
    /// Where it came from (a path or `<built-in>`).
    pub origin: &'a str,
    /// SHA-256 of its text.
    pub sha256: &'a str,
}

/// Stores a scored submission's flags, in order.
fn insert_flags(tx: &Transaction, submission_id: &str, flags: &[Flag]) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO submission_flags (submission_id, position, flag, detail) \
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, flag) in flags.iter().enumerate() {
        insert.execute(params![
            submission_id,
            position as i64,
            flag.flag,
            flag.detail
        ])?;
    }
    Ok(())
}

/// Stores a scored submission's items, in order.
pub(super) fn insert_items(
    tx: &Transaction,
    submission_id: &str,
    lab: &str,
    items: &[Item],
) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO score_items (submission_id, position, lab, item, points, max, reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (position, item) in items.iter().enumerate() {
        insert.execute(params![
            submission_id,
            position as i64,
            lab,
            item.id,
            item.points,
            item.max,
            item.reason
        ])?;
    }
    Ok(())
}

/// How a lab's latest scoring compares with what was ingested since.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringState {
    /// When it ran.
    pub scored_at: String,
    /// How many submissions it scored.
    pub scored: i64,
    /// How many of the lab's submissions are stored now.
    pub stored: i64,
    /// When the latest of them was ingested.
    pub last_ingest: Option<String>,
    /// Files quarantined since.
    pub quarantined_since: i64,
}

impl Db {
    /// The stored facts of every submission of `lab`, by id, handed to `each`
    /// in batches of up to `size`; with `witnessed_raw`, the raw bytes of those
    /// whose student has witnessed events of the lab.
    pub fn facts_of_lab(
        &self,
        lab: &str,
        size: usize,
        witnessed_raw: bool,
        mut each: impl FnMut(Vec<StoredFacts>),
    ) -> Result<(), GraderError> {
        let raw = if witnessed_raw {
            "CASE WHEN EXISTS (SELECT 1 FROM witnessed_events w WHERE w.lab = s.lab \
             AND w.student = s.student) THEN s.raw_lz4 END"
        } else {
            "NULL"
        };
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT s.id, s.student, s.created_at, s.facts, s.received_at, s.time_source, \
                 {raw} FROM submissions s WHERE s.lab = ?1 ORDER BY s.id"
            ))
            .map_err(self.err())?;
        let mut rows = statement.query([lab]).map_err(self.err())?;
        let mut batch = Vec::with_capacity(size);
        while let Some(row) = rows.next().map_err(self.err())? {
            let facts = |row: &rusqlite::Row| {
                Ok(StoredFacts {
                    id: row.get(0)?,
                    student: row.get(1)?,
                    created_at: row.get(2)?,
                    facts: row.get(3)?,
                    received_at: row.get(4)?,
                    time_source: row.get(5)?,
                    raw_lz4: row.get(6)?,
                })
            };
            batch.push(facts(row).map_err(self.err())?);
            if batch.len() == size {
                each(std::mem::replace(&mut batch, Vec::with_capacity(size)));
            }
        }
        if !batch.is_empty() {
            each(batch);
        }
        Ok(())
    }

    /// Every stored submission of `lab` with its log's event ids.
    pub fn event_ids_of_lab(&self, lab: &str) -> Result<Vec<EventIds>, GraderError> {
        self.rows(
            "SELECT id, student, event_ids FROM submissions WHERE lab = ?1 ORDER BY id",
            [lab],
            |r| {
                Ok(EventIds {
                    submission_id: r.get(0)?,
                    student: r.get(1)?,
                    ids: r.get(2)?,
                })
            },
        )
    }

    /// Students named by a quarantined submission.
    pub fn quarantined_students(&self) -> Result<Vec<String>, GraderError> {
        self.rows(
            "SELECT DISTINCT student FROM quarantine WHERE student IS NOT NULL",
            [],
            |r| r.get(0),
        )
    }

    /// Replaces the scores and grades of `rubric.lab` in one transaction (so
    /// no reader sees half a scoring run): every scored submission's totals
    /// and items, every grade, and the rubric with the time and count.
    pub fn replace_scores(
        &mut self,
        rubric: &UsedRubric,
        scored_at: &str,
        scores: &[(&str, &SubmissionScore)],
        grades: &[NewGrade],
    ) -> Result<(), GraderError> {
        let path = self.path.clone();
        let err = || GraderError::db(&path);
        let lab = rubric.lab;
        let tx = self.write()?;
        tx.execute("DELETE FROM grades WHERE lab = ?1", [lab])
            .map_err(err())?;
        tx.execute("DELETE FROM score_items WHERE lab = ?1", [lab])
            .map_err(err())?;
        tx.execute(
            "DELETE FROM submission_scores WHERE submission_id IN \
             (SELECT id FROM submissions WHERE lab = ?1)",
            [lab],
        )
        .map_err(err())?;
        {
            let mut insert_score = tx
                .prepare(
                    "INSERT INTO submission_scores (submission_id, raw_total, late_days, penalty, \
                     total) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err())?;
            for (id, s) in scores {
                insert_score
                    .execute(params![id, s.raw_total, s.late_days, s.penalty, s.total])
                    .map_err(err())?;
                insert_items(&tx, id, lab, &s.items).map_err(err())?;
                insert_flags(&tx, id, &s.flags).map_err(err())?;
            }
            let mut insert_grade = tx
                .prepare(
                    "INSERT INTO grades (lab, student, submission_id, raw_total, late_days, \
                     penalty, total, max_total, status) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(err())?;
            for grade in grades {
                let (id, raw_total, late_days, penalty, total) = match grade.counting {
                    Some((id, s)) => (Some(id), s.raw_total, s.late_days, s.penalty, s.total),
                    None => (None, 0.0, 0, 0.0, 0.0),
                };
                insert_grade
                    .execute(params![
                        lab,
                        grade.student,
                        id,
                        raw_total,
                        late_days,
                        penalty,
                        total,
                        grade.max_total,
                        grade.status
                    ])
                    .map_err(err())?;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO scoring (lab, scored_at, rubric_source, rubric_sha256, \
             rubric_toml, submissions) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                lab,
                scored_at,
                rubric.origin,
                rubric.sha256,
                rubric.text,
                scores.len() as i64
            ],
        )
        .map_err(err())?;
        tx.commit().map_err(err())
    }

    /// The latest scoring of `lab` against what is stored now; `None` before
    /// the lab's first `score`.
    pub fn scoring_state(&self, lab: &str) -> Result<Option<ScoringState>, GraderError> {
        let scored: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT scored_at, submissions FROM scoring WHERE lab = ?1",
                [lab],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err())?;
        let Some((scored_at, scored)) = scored else {
            return Ok(None);
        };
        let (stored, last_ingest): (i64, Option<String>) = self
            .conn
            .query_row(
                "SELECT COUNT(*), MAX(ingested_at) FROM submissions WHERE lab = ?1",
                [lab],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(self.err())?;
        let quarantined_since: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM quarantine WHERE quarantined_at > ?1",
                [&scored_at],
                |r| r.get(0),
            )
            .map_err(self.err())?;
        Ok(Some(ScoringState {
            scored_at,
            scored,
            stored,
            last_ingest,
            quarantined_since,
        }))
    }

    /// The rubric text and origin the latest scoring of `lab` used.
    pub fn stored_rubric(&self, lab: &str) -> Result<Option<(String, String)>, GraderError> {
        self.conn
            .query_row(
                "SELECT rubric_toml, rubric_source FROM scoring WHERE lab = ?1",
                [lab],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err())
    }

    /// The lab scored most recently, if any was.
    pub fn last_scored_lab(&self) -> Result<Option<String>, GraderError> {
        self.conn
            .query_row(
                "SELECT lab FROM scoring ORDER BY scored_at DESC, lab LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// Every lab scored, by id.
    pub fn scored_labs(&self) -> Result<Vec<String>, GraderError> {
        self.rows("SELECT lab FROM scoring ORDER BY lab", [], |r| r.get(0))
    }
}
