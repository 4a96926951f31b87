//! `score`: recompute and score every stored submission against a rubric, then
//! pick each student's counting submission by the rubric's policy.
//!
//! Results replace the previous scoring in one transaction, so `export` never
//! sees half a scoring run.

use crate::audit::rfc3339;
use crate::db::Db;
use crate::error::GraderError;
use crate::facts::Facts;
use crate::ingest::{hex, parse_time};
use crate::rubric::{CountingPolicy, Rubric};
use crate::score::{round2, score, Item, SubmissionScore};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Submissions scored per parallel batch.
const CHUNK: usize = 1024;

/// A grade's status.
pub mod status {
    /// The counting submission was on time.
    pub const ON_TIME: &str = "on_time";
    /// The counting submission was late.
    pub const LATE: &str = "late";
    /// Only quarantined submissions.
    pub const NO_VALID_SUBMISSION: &str = "no_valid_submission";
}

/// What one `score` run did.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSummary {
    /// Submissions scored.
    pub submissions: usize,
    /// Students graded (including those with only quarantined submissions).
    pub students: usize,
    /// Students whose counting submission is late.
    pub late: usize,
    /// Students with no valid submission.
    pub no_valid: usize,
    /// Mean total over students with a valid submission.
    pub mean: f64,
    /// Points possible.
    pub max_total: f64,
}

impl std::fmt::Display for ScoreSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "scored {} submissions of {} students ({} late, {} with no valid submission); mean {:.2} / {}",
            self.submissions, self.students, self.late, self.no_valid, self.mean, self.max_total
        )
    }
}

/// One scored submission.
struct Scored {
    id: String,
    student: String,
    created_at: DateTime<Utc>,
    score: SubmissionScore,
    /// `score.items` as stored (serialized on the scoring threads).
    items_json: String,
}

/// Scores every submission in the database and stores the grades.
pub fn score_all(
    db: &mut Db,
    rubric: &Rubric,
    rubric_text: &str,
    rubric_origin: &str,
) -> Result<ScoreSummary, GraderError> {
    let scored = score_submissions(db, rubric)?;
    let mut by_student: BTreeMap<&str, Vec<&Scored>> = BTreeMap::new();
    for s in &scored {
        by_student.entry(&s.student).or_default().push(s);
    }
    let counted: BTreeMap<&str, &Scored> = by_student
        .iter()
        .filter_map(|(student, candidates)| Some((*student, counting(candidates, rubric)?)))
        .collect();
    let quarantined_only = quarantined_students(db)?;
    let max_total = round2(rubric.max_total());
    let path = db.path().to_path_buf();
    let err = || GraderError::db(&path);
    let tx = db.conn.transaction().map_err(err())?;
    tx.execute_batch("DELETE FROM grades; DELETE FROM submission_scores;")
        .map_err(err())?;
    {
        let mut insert_score = tx
            .prepare(
                "INSERT INTO submission_scores (submission_id, act1, act2, design, raw_total, \
                 late_days, penalty, total, items) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(err())?;
        for s in &scored {
            let c = &s.score;
            insert_score
                .execute(params![
                    s.id,
                    c.act1,
                    c.act2,
                    c.design,
                    c.raw_total,
                    c.late_days,
                    c.penalty,
                    c.total,
                    s.items_json
                ])
                .map_err(err())?;
        }
        let mut insert_grade = tx
            .prepare(
                "INSERT INTO grades (student, submission_id, act1, act2, design, raw_total, \
                 late_days, penalty, total, max_total, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(err())?;
        for (student, counting) in &counted {
            let c = &counting.score;
            let state = if c.late_days > 0 {
                status::LATE
            } else {
                status::ON_TIME
            };
            insert_grade
                .execute(params![
                    student,
                    counting.id,
                    c.act1,
                    c.act2,
                    c.design,
                    c.raw_total,
                    c.late_days,
                    c.penalty,
                    c.total,
                    max_total,
                    state
                ])
                .map_err(err())?;
        }
        for student in quarantined_only
            .iter()
            .filter(|s| !by_student.contains_key(s.as_str()))
        {
            insert_grade
                .execute(params![
                    student,
                    None::<String>,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0,
                    0.0,
                    0.0,
                    max_total,
                    status::NO_VALID_SUBMISSION
                ])
                .map_err(err())?;
        }
    }
    tx.execute(
        "INSERT OR REPLACE INTO scoring (id, scored_at, rubric_source, rubric_sha256, rubric_toml, submissions) \
         VALUES (1, ?1, ?2, ?3, ?4, ?5)",
        params![
            rfc3339(Utc::now()),
            rubric_origin,
            hex(&Sha256::digest(rubric_text.as_bytes())),
            rubric_text,
            scored.len() as i64
        ],
    )
    .map_err(err())?;
    tx.commit().map_err(err())?;

    let graded: Vec<&Scored> = counted.values().copied().collect();
    let no_valid = quarantined_only
        .iter()
        .filter(|s| !by_student.contains_key(s.as_str()))
        .count();
    let mean = if graded.is_empty() {
        0.0
    } else {
        graded.iter().map(|s| s.score.total).sum::<f64>() / graded.len() as f64
    };
    Ok(ScoreSummary {
        submissions: scored.len(),
        students: graded.len() + no_valid,
        late: graded.iter().filter(|s| s.score.late_days > 0).count(),
        no_valid,
        mean,
        max_total,
    })
}

/// The submission that counts for a student, by the rubric's policy.
fn counting<'a>(candidates: &[&'a Scored], rubric: &Rubric) -> Option<&'a Scored> {
    let latest = |list: &mut dyn Iterator<Item = &&'a Scored>| {
        list.max_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)))
            .copied()
    };
    let any = latest(&mut candidates.iter())?;
    Some(match rubric.deadline.policy {
        CountingPolicy::Latest => any,
        CountingPolicy::LatestBeforeDue => {
            latest(&mut candidates.iter().filter(|s| s.score.late_days == 0)).unwrap_or(any)
        }
        CountingPolicy::Best => candidates
            .iter()
            .max_by(|a, b| {
                a.score
                    .total
                    .total_cmp(&b.score.total)
                    .then((a.created_at, &a.id).cmp(&(b.created_at, &b.id)))
            })
            .copied()
            .unwrap_or(any),
    })
}

/// Scores every stored submission, in parallel batches.
fn score_submissions(db: &Db, rubric: &Rubric) -> Result<Vec<Scored>, GraderError> {
    let mut statement = db
        .conn
        .prepare("SELECT id, student, created_at, facts FROM submissions ORDER BY id")
        .map_err(db.err())?;
    let mut rows = statement.query([]).map_err(db.err())?;
    let mut scored = Vec::new();
    let mut batch: Vec<(String, String, String, String)> = Vec::with_capacity(CHUNK);
    loop {
        let row = rows.next().map_err(db.err())?;
        if let Some(row) = row {
            batch.push((
                row.get(0).map_err(db.err())?,
                row.get(1).map_err(db.err())?,
                row.get(2).map_err(db.err())?,
                row.get(3).map_err(db.err())?,
            ));
        }
        if batch.len() == CHUNK || (row.is_none() && !batch.is_empty()) {
            let done: Vec<Scored> = batch
                .par_drain(..)
                .map(|(id, student, created_at, raw)| {
                    score_one(id, student, &created_at, &raw, rubric)
                })
                .collect();
            scored.extend(done);
        }
        if row.is_none() {
            break;
        }
    }
    Ok(scored)
}

/// Scores one stored submission from its facts (results recomputed from the
/// run inputs). Facts that cannot be read score 0 with the reason.
fn score_one(
    id: String,
    student: String,
    created_at: &str,
    facts: &str,
    rubric: &Rubric,
) -> Scored {
    let created_at = parse_time(created_at).unwrap_or_default();
    let score = match serde_json::from_str::<Facts>(facts) {
        Ok(facts) => score(&facts, created_at, rubric),
        Err(e) => invalid_score(
            &format!("its stored facts cannot be read ({e}); ingest it again"),
            rubric,
        ),
    };
    let items_json = serde_json::to_string(&score.items).unwrap_or_else(|_| "[]".into());
    Scored {
        id,
        student,
        created_at,
        score,
        items_json,
    }
}

fn invalid_score(reason: &str, rubric: &Rubric) -> SubmissionScore {
    SubmissionScore {
        items: vec![Item {
            id: "validation".into(),
            points: 0.0,
            max: rubric.max_total(),
            reason: reason.to_string(),
        }],
        act1: 0.0,
        act2: 0.0,
        design: 0.0,
        raw_total: 0.0,
        late_days: 0,
        penalty: 0.0,
        total: 0.0,
    }
}

/// Students named by a quarantined submission (when the name is a valid login).
fn quarantined_students(db: &Db) -> Result<Vec<String>, GraderError> {
    let mut statement = db
        .conn
        .prepare("SELECT DISTINCT student FROM quarantine WHERE student IS NOT NULL")
        .map_err(db.err())?;
    let students = statement
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(db.err())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db.err())?;
    Ok(students
        .into_iter()
        .filter(|s| crate::validate::check_student(s).is_ok())
        .collect())
}

/// Whether scoring is older than the latest ingest (grades may be missing submissions).
pub fn stale_warning(db: &Db) -> Result<Option<String>, GraderError> {
    let scored: Option<(String, i64)> = db
        .conn
        .query_row(
            "SELECT scored_at, submissions FROM scoring WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db.err())?;
    let Some((scored_at, scored_count)) = scored else {
        return Err(GraderError::Precondition(
            "no scores yet: run `mlsys-grader score` first".into(),
        ));
    };
    let (count, last_ingest): (i64, Option<String>) = db
        .conn
        .query_row(
            "SELECT COUNT(*), MAX(ingested_at) FROM submissions",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(db.err())?;
    let newer_quarantine: i64 = db
        .conn
        .query_row(
            "SELECT COUNT(*) FROM quarantine WHERE quarantined_at > ?1",
            [&scored_at],
            |r| r.get(0),
        )
        .map_err(db.err())?;
    let stale =
        count != scored_count || last_ingest.is_some_and(|t| t > scored_at) || newer_quarantine > 0;
    Ok(stale.then(|| {
        format!(
            "warning: submissions were ingested after the last `score` ({scored_at}); \
             run `mlsys-grader score` again for current grades"
        )
    }))
}
