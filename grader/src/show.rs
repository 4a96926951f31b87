//! `show STUDENT`: one student's grade, submissions, scores with reasons, and
//! quarantined files.

use crate::db::Db;
use crate::error::GraderError;
use crate::export::points;
use crate::score::Item;
use std::fmt::Write;

/// The report on `student` as text; an unknown student is an error naming them.
pub fn report(db: &Db, student: &str) -> Result<String, GraderError> {
    let mut out = String::new();
    let grade: Option<(
        Option<String>,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        u32,
        String,
    )> = db
        .conn
        .query_row(
            "SELECT submission_id, act1, act2, design, raw_total, penalty, total, max_total, \
             late_days, status FROM grades WHERE student = ?1",
            [student],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            },
        )
        .map_or_else(
            |e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            },
            |v| Ok(Some(v)),
        )
        .map_err(db.err())?;
    let counting = grade.as_ref().and_then(|g| g.0.clone());
    match &grade {
        Some((_, a1, a2, d, raw, penalty, total, max, late, status)) => {
            let _ = writeln!(
                out,
                "{student}: {} / {}  ({status}; Act I {}, Act II {}, design {}, before penalty {}, \
                 late {late} day(s), penalty {})",
                points(*total), points(*max), points(*a1), points(*a2), points(*d), points(*raw),
                points(*penalty)
            );
        }
        None => {
            let _ = writeln!(out, "{student}: not graded yet (run `mlsys-grader score`)");
        }
    }

    let mut statement = db
        .conn
        .prepare(
            "SELECT s.id, s.created_at, s.source, s.event_count, sc.total, sc.late_days, sc.items \
             FROM submissions s LEFT JOIN submission_scores sc ON sc.submission_id = s.id \
             WHERE s.student = ?1 ORDER BY s.created_at, s.id",
        )
        .map_err(db.err())?;
    let submissions: Vec<(
        String,
        String,
        String,
        i64,
        Option<f64>,
        Option<u32>,
        Option<String>,
    )> = statement
        .query_map([student], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .map_err(db.err())?
        .collect::<Result<_, _>>()
        .map_err(db.err())?;

    let mut statement = db
        .conn
        .prepare(
            "SELECT source, reason, detail, quarantined_at, submission_id FROM quarantine \
             WHERE student = ?1 ORDER BY quarantined_at, id",
        )
        .map_err(db.err())?;
    let quarantined: Vec<(String, String, String, String, Option<String>)> = statement
        .query_map([student], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .map_err(db.err())?
        .collect::<Result<_, _>>()
        .map_err(db.err())?;

    if grade.is_none() && submissions.is_empty() && quarantined.is_empty() {
        return Err(GraderError::Precondition(format!(
            "no student {student:?} in {}",
            db.path().display()
        )));
    }

    let _ = writeln!(out, "\nSubmissions ({}):", submissions.len());
    for (id, created_at, source, events, total, late, items) in &submissions {
        let marker = if counting.as_deref() == Some(id.as_str()) {
            "counts"
        } else {
            "      "
        };
        let score = match (total, late) {
            (Some(t), Some(0)) => format!("{} on time", points(*t)),
            (Some(t), Some(l)) => format!("{} ({l} day(s) late)", points(*t)),
            _ => "not scored".to_string(),
        };
        let _ = writeln!(
            out,
            "  {marker} {id}  {created_at}  {events} events  {score}  {source}"
        );
        if counting.as_deref() == Some(id.as_str()) {
            let items: Vec<Item> = items
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
    for (source, reason, detail, at, id) in &quarantined {
        let id = id.as_deref().unwrap_or("-");
        let _ = writeln!(
            out,
            "  {at}  {reason}  {source} (submission {id})\n      {detail}"
        );
    }
    Ok(out)
}
