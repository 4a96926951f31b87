//! `score`: recompute and score every stored submission of the rubric's lab,
//! then pick each student's counting submission by the rubric's policy.
//!
//! Results replace the lab's previous scoring in one transaction, so `export`
//! never sees half a scoring run; other labs' grades stay.

use crate::db::scores::{NewGrade, StoredFacts, UsedRubric};
use crate::db::Db;
use crate::encode::{parse_time, rfc3339, sha256_hex};
use crate::error::GraderError;
use crate::rubric::{CountingPolicy, Rubric};
use crate::score::{round2, score, SubmissionScore};
use crate::validate::check_student;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
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
}

/// Scores every submission of the rubric's lab and stores the grades.
pub fn score_all(
    db: &mut Db,
    rubric: &Rubric,
    rubric_text: &str,
    rubric_origin: &str,
) -> Result<ScoreSummary, GraderError> {
    let mut scored = Vec::new();
    db.facts_of_lab(&rubric.lab, CHUNK, |mut batch| {
        let done: Vec<Scored> = batch
            .par_drain(..)
            .map(|stored| score_one(stored, rubric))
            .collect();
        scored.extend(done);
    })?;
    let mut by_student: BTreeMap<&str, Vec<&Scored>> = BTreeMap::new();
    for s in &scored {
        by_student.entry(&s.student).or_default().push(s);
    }
    let counted: BTreeMap<&str, &Scored> = by_student
        .iter()
        .filter_map(|(student, candidates)| Some((*student, counting(candidates, rubric)?)))
        .collect();
    // Students named by a quarantined submission (when the name is a valid
    // login) who have no valid one get a grade of 0.
    let quarantined_only: Vec<String> = db
        .quarantined_students()?
        .into_iter()
        .filter(|s| check_student(s).is_ok() && !by_student.contains_key(s.as_str()))
        .collect();
    let max_total = round2(rubric.max_total());
    let mut grades: Vec<NewGrade> = counted
        .iter()
        .map(|(student, s)| NewGrade {
            student,
            counting: Some((&s.id, &s.score)),
            max_total,
            status: if s.score.late_days > 0 {
                status::LATE
            } else {
                status::ON_TIME
            },
        })
        .collect();
    grades.extend(quarantined_only.iter().map(|student| NewGrade {
        student,
        counting: None,
        max_total,
        status: status::NO_VALID_SUBMISSION,
    }));
    let scores: Vec<(&str, &SubmissionScore)> =
        scored.iter().map(|s| (s.id.as_str(), &s.score)).collect();
    let used = UsedRubric {
        lab: &rubric.lab,
        text: rubric_text,
        origin: rubric_origin,
        sha256: &sha256_hex(rubric_text.as_bytes()),
    };
    db.replace_scores(&used, &rfc3339(Utc::now()), &scores, &grades)?;

    let graded: Vec<&Scored> = counted.values().copied().collect();
    let no_valid = quarantined_only.len();
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

/// Scores one stored submission from its facts (results recomputed from the
/// run inputs).
fn score_one(stored: StoredFacts, rubric: &Rubric) -> Scored {
    let created_at = parse_time(&stored.created_at).unwrap_or_default();
    Scored {
        score: score(&stored.facts, created_at, rubric),
        id: stored.id,
        student: stored.student,
        created_at,
    }
}

/// The lab to report on: `requested`, else the lab scored last.
pub fn scored_lab(db: &Db, requested: Option<&str>) -> Result<String, GraderError> {
    match requested {
        Some(lab) => Ok(lab.to_string()),
        None => db.last_scored_lab()?.ok_or_else(no_scores),
    }
}

fn no_scores() -> GraderError {
    GraderError::Precondition("no scores yet: run `mlsys-grader score` first".into())
}

/// Whether `lab`'s scoring is older than the latest ingest (grades may be
/// missing submissions); an error before its first `score`.
pub fn stale_warning(db: &Db, lab: &str) -> Result<Option<String>, GraderError> {
    let state = db.scoring_state(lab)?.ok_or_else(no_scores)?;
    let stale = state.stored != state.scored
        || state.last_ingest.is_some_and(|t| t > state.scored_at)
        || state.quarantined_since > 0;
    Ok(stale.then(|| {
        format!(
            "warning: submissions were ingested after the last `score` ({}); \
             run `mlsys-grader score` again for current grades",
            state.scored_at
        )
    }))
}
