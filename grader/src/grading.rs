//! `score`: recompute and score every stored submission of the rubric's lab,
//! then pick each student's counting submission by the rubric's policy.
//!
//! A submission is judged late by the time its student cannot set (the
//! service's receive time, or the exchange file's ctime), and, where the
//! grader service witnessed the student's work and the rubric's `[integrity]`
//! uses the witness, scored on what the witness received
//! ([`crate::witness`]). Flags mark it for the instructor: disagreement with
//! the witness, event ids shared with another student ([`crate::copies`]),
//! an unverified time.
//!
//! Results replace the lab's previous scoring in one transaction, so `export`
//! never sees half a scoring run; other labs' grades stay.

use crate::copies::shared_events;
use crate::db::scores::{NewGrade, StoredFacts, UsedRubric};
use crate::db::Db;
use crate::encode::{parse_time, rfc3339, sha256_hex};
use crate::error::GraderError;
use crate::flags::{self, Flag};
use crate::labs::{LabScorer, Scorers};
use crate::provenance::UNVERIFIED;
use crate::rubric::{CountingPolicy, Rubric, WitnessMode};
use crate::score::{round2, score, SubmissionScore};
use crate::validate::check_student;
use crate::witness::{judge, logs, WitnessLog};
use chrono::{DateTime, Utc};
use mlsys_model::record::Submission;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};

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
    /// The time it is judged by (none could be read: never on time).
    handed_in: Option<DateTime<Utc>>,
    score: SubmissionScore,
}

/// What scoring a lab knows beyond each submission.
struct Context<'a> {
    rubric: &'a Rubric,
    scorer: &'static dyn LabScorer,
    /// Each student's witnessed log, when the rubric uses the witness.
    witnessed: BTreeMap<String, WitnessLog>,
    /// `shared_events` flags, by submission id.
    shared: HashMap<String, Flag>,
}

/// Scores every submission of the rubric's lab (one of `scorers`) and stores
/// the grades.
pub fn score_all(
    db: &mut Db,
    scorers: &Scorers,
    rubric: &Rubric,
    rubric_text: &str,
    rubric_origin: &str,
) -> Result<ScoreSummary, GraderError> {
    let lab = &rubric.lab;
    let all_witnessed = logs(db.witnessed_of_lab(lab)?);
    let shared = shared_events(&db.event_ids_of_lab(lab)?, &all_witnessed);
    let uses_witness = rubric.integrity.witness != WitnessMode::Off;
    let context = Context {
        rubric,
        scorer: scorers.pick(Some(lab))?,
        witnessed: if uses_witness {
            all_witnessed
        } else {
            BTreeMap::new()
        },
        shared,
    };
    let mut scored = Vec::new();
    db.facts_of_lab(lab, CHUNK, uses_witness, |mut batch| {
        let done: Vec<Scored> = batch
            .par_drain(..)
            .map(|stored| score_one(stored, &context))
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
        list.max_by(|a, b| (a.handed_in, &a.id).cmp(&(b.handed_in, &b.id)))
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
                    .then((a.handed_in, &a.id).cmp(&(b.handed_in, &b.id)))
            })
            .copied()
            .unwrap_or(any),
    })
}

/// Scores one stored submission: on its facts, or on what the witness
/// received of it; late by the time its student cannot set.
fn score_one(stored: StoredFacts, context: &Context) -> Scored {
    let handed_in = match stored.received_at.as_deref() {
        Some(verified) => parse_time(verified),
        None => parse_time(&stored.created_at),
    };
    let mut flags = Vec::new();
    if stored.time_source == UNVERIFIED {
        flags.push(Flag::new(
            flags::UNVERIFIED,
            "its student and time are the file's own: its owner and status-change time were \
             not checked",
        ));
    }
    let facts = witnessed_facts(&stored, handed_in, context, &mut flags);
    flags.extend(context.shared.get(&stored.id).cloned());
    let mut score = score(
        facts.as_deref().unwrap_or(&stored.facts),
        handed_in,
        context.rubric,
    );
    score.flags = flags;
    Scored {
        score,
        id: stored.id,
        student: stored.student,
        handed_in,
    }
}

/// The facts the witness gives a submission (adding its flags to `flags`);
/// `None` when it is scored on its own facts (the witness is off, or has
/// none of the student's work and is not required).
fn witnessed_facts(
    stored: &StoredFacts,
    handed_in: Option<DateTime<Utc>>,
    context: &Context,
    flags: &mut Vec<Flag>,
) -> Option<String> {
    let integrity = &context.rubric.integrity;
    let rules = integrity.rules();
    let log = match (integrity.witness, context.witnessed.get(&stored.student)) {
        (WitnessMode::Off, _) => return None,
        (mode, None) => {
            let course_is_witnessed = !context.witnessed.is_empty();
            if mode == WitnessMode::Required || course_is_witnessed {
                flags.push(Flag::new(
                    flags::UNWITNESSED,
                    "none of the student's work reached the grader service's witness",
                ));
            }
            return (mode == WitnessMode::Required)
                .then(|| context.scorer.witnessed(&[], &rules).audited.facts);
        }
        (_, Some(log)) => log,
    };
    let events = stored
        .raw_lz4
        .as_deref()
        .and_then(|lz4| lz4_flex::decompress_size_prepended(lz4).ok())
        .and_then(|raw| serde_json::from_slice::<Submission>(&raw).ok())
        .map(|submission| submission.events)
        .unwrap_or_default();
    let judgement = judge(&events, log, handed_in);
    if let Some(mismatch) = judgement.mismatch {
        flags.push(Flag::new(flags::WITNESS_MISMATCH, mismatch));
    }
    if let Some(conflict) = log.conflicts.first() {
        flags.push(Flag::new(
            flags::WITNESS_CONFLICT,
            format!(
                "the witness received event {} again with other content at {} (the first counts)",
                conflict.event.id,
                rfc3339(conflict.received_at)
            ),
        ));
    }
    let witnessed = context.scorer.witnessed(&judgement.scored, &rules);
    flags.extend(witnessed.flags);
    Some(witnessed.audited.facts)
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
