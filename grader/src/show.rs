//! `show STUDENT`: one student's grade, submissions, scores with reasons, and
//! quarantined files.

use crate::db::Db;
use crate::error::GraderError;
use crate::export::points;
use crate::score::Item;
use rusqlite::OptionalExtension;
use std::fmt::Write;

/// A student's grade row.
struct Grade {
    submission_id: Option<String>,
    act1: f64,
    act2: f64,
    design: f64,
    raw_total: f64,
    penalty: f64,
    total: f64,
    max_total: f64,
    late_days: u32,
    status: String,
}

/// One stored submission with its score, if scored.
struct Submitted {
    id: String,
    created_at: String,
    source: String,
    events: i64,
    total: Option<f64>,
    late_days: Option<u32>,
    items: Option<String>,
}

/// One quarantined file.
struct Quarantined {
    source: String,
    reason: String,
    detail: String,
    at: String,
    submission_id: Option<String>,
}

/// The report on `student` as text; an unknown student is an error naming them.
pub fn report(db: &Db, student: &str) -> Result<String, GraderError> {
    let grade = db
        .conn
        .query_row(
            "SELECT submission_id, act1, act2, design, raw_total, penalty, total, max_total, \
             late_days, status FROM grades WHERE student = ?1",
            [student],
            |r| {
                Ok(Grade {
                    submission_id: r.get(0)?,
                    act1: r.get(1)?,
                    act2: r.get(2)?,
                    design: r.get(3)?,
                    raw_total: r.get(4)?,
                    penalty: r.get(5)?,
                    total: r.get(6)?,
                    max_total: r.get(7)?,
                    late_days: r.get(8)?,
                    status: r.get(9)?,
                })
            },
        )
        .optional()
        .map_err(db.err())?;
    let submissions = db
        .conn
        .prepare(
            "SELECT s.id, s.created_at, s.source, s.event_count, sc.total, sc.late_days, sc.items \
             FROM submissions s LEFT JOIN submission_scores sc ON sc.submission_id = s.id \
             WHERE s.student = ?1 ORDER BY s.created_at, s.id",
        )
        .and_then(|mut statement| {
            statement
                .query_map([student], |r| {
                    Ok(Submitted {
                        id: r.get(0)?,
                        created_at: r.get(1)?,
                        source: r.get(2)?,
                        events: r.get(3)?,
                        total: r.get(4)?,
                        late_days: r.get(5)?,
                        items: r.get(6)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db.err())?;
    let quarantined = db
        .conn
        .prepare(
            "SELECT source, reason, detail, quarantined_at, submission_id FROM quarantine \
             WHERE student = ?1 ORDER BY quarantined_at, id",
        )
        .and_then(|mut statement| {
            statement
                .query_map([student], |r| {
                    Ok(Quarantined {
                        source: r.get(0)?,
                        reason: r.get(1)?,
                        detail: r.get(2)?,
                        at: r.get(3)?,
                        submission_id: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db.err())?;
    if grade.is_none() && submissions.is_empty() && quarantined.is_empty() {
        return Err(GraderError::Precondition(format!(
            "no student {student:?} in {}",
            db.path().display()
        )));
    }

    let mut out = String::new();
    match &grade {
        Some(g) => {
            let _ = writeln!(
                out,
                "{student}: {} / {}  ({}; Act I {}, Act II {}, design {}, before penalty {}, \
                 late {} day(s), penalty {})",
                points(g.total),
                points(g.max_total),
                g.status,
                points(g.act1),
                points(g.act2),
                points(g.design),
                points(g.raw_total),
                g.late_days,
                points(g.penalty)
            );
        }
        None => {
            let _ = writeln!(out, "{student}: not graded yet (run `mlsys-grader score`)");
        }
    }
    let counting = grade.as_ref().and_then(|g| g.submission_id.as_deref());
    let _ = writeln!(out, "\nSubmissions ({}):", submissions.len());
    for s in &submissions {
        let counts = counting == Some(s.id.as_str());
        let marker = if counts { "counts" } else { "      " };
        let score = match (s.total, s.late_days) {
            (Some(t), Some(0)) => format!("{} on time", points(t)),
            (Some(t), Some(late)) => format!("{} ({late} day(s) late)", points(t)),
            _ => "not scored".to_string(),
        };
        let _ = writeln!(
            out,
            "  {marker} {}  {}  {} events  {score}  {}",
            s.id, s.created_at, s.events, s.source
        );
        if counts {
            let items: Vec<Item> = s
                .items
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default();
            for item in items {
                let _ = writeln!(
                    out,
                    "           {:<26} {:>5} / {:<5} {}",
                    item.id,
                    points(item.points),
                    points(item.max),
                    item.reason
                );
            }
        }
    }
    let _ = writeln!(out, "\nQuarantined ({}):", quarantined.len());
    for q in &quarantined {
        let id = q.submission_id.as_deref().unwrap_or("-");
        let _ = writeln!(
            out,
            "  {}  {}  {} (submission {id})\n      {}",
            q.at, q.reason, q.source, q.detail
        );
    }
    Ok(out)
}
