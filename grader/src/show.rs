//! `show STUDENT`: one student's grades, submissions (with the time each is
//! judged by, and its flags), scores with reasons, and quarantined files.

use crate::db::reads::GradeRecord;
use crate::db::Db;
use crate::encode::printable;
use crate::error::GraderError;
use crate::export::points;
use crate::labs::Scorers;
use crate::provenance;
use crate::rubric::Rubric;
use crate::score::group_totals;
use mlsys_model::Act;
use std::fmt::Write;

/// The report on `student` as text; an unknown student is an error naming
/// them. Names, sources and causes, which students can choose, are printed
/// with control characters escaped.
pub fn report(db: &Db, scorers: &Scorers, student: &str) -> Result<String, GraderError> {
    let grades = db.grades_of(student)?;
    let submissions = db.submissions_of(student)?;
    let quarantined = db.quarantined_of(student, None)?;
    if grades.is_empty() && submissions.is_empty() && quarantined.is_empty() {
        return Err(GraderError::Precondition(format!(
            "no student {student:?} in {}",
            db.path().display()
        )));
    }

    let shown = printable(student);
    let mut out = String::new();
    let name_labs = db.scored_labs()?.len() > 1;
    for grade in &grades {
        let name = if name_labs {
            format!("{shown} ({})", grade.lab)
        } else {
            shown.to_string()
        };
        let _ = writeln!(out, "{name}: {}", grade_line(db, scorers, grade)?);
    }
    if grades.is_empty() {
        let _ = writeln!(out, "{shown}: not graded yet (run `mlsys-grader score`)");
    }
    let counting: Vec<&str> = grades
        .iter()
        .filter_map(|g| g.submission_id.as_deref())
        .collect();
    let _ = writeln!(out, "\nSubmissions ({}):", submissions.len());
    for s in &submissions {
        let counts = counting.contains(&s.id.as_str());
        let marker = if counts { "counts" } else { "      " };
        let score = match (s.total, s.late_days) {
            (Some(t), Some(0)) => format!("{} on time", points(t)),
            (Some(t), Some(late)) => format!("{} ({late} day(s) late)", points(t)),
            _ => "not scored".to_string(),
        };
        let _ = writeln!(
            out,
            "  {marker} {}  {}  {} events  {score}  {}",
            s.id,
            s.created_at,
            s.events,
            printable(&s.source)
        );
        let clock = match s.time_source.as_str() {
            provenance::SERVICE => Some("the grader service's receive time"),
            provenance::FILE => Some("the file's status-change time"),
            _ => None,
        };
        if let (Some(clock), Some(at)) = (clock, &s.received_at) {
            let _ = writeln!(out, "           handed in {at} ({clock})");
        }
        for flag in db.flags_of(&s.id)? {
            let _ = writeln!(out, "           flag {}: {}", flag.flag, flag.detail);
        }
        if counts {
            for item in db.items_of(&s.id)? {
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
            "  {}  {}  {} (submission {})\n      {}",
            q.quarantined_at,
            q.reason,
            printable(&q.source),
            printable(id),
            printable(&q.detail)
        );
    }
    Ok(out)
}

/// A grade in words: total, status, each group's points (an act by its
/// title), and the late penalty.
fn grade_line(db: &Db, scorers: &Scorers, grade: &GradeRecord) -> Result<String, GraderError> {
    let rubric = Rubric::stored(db, scorers, &grade.lab)?;
    let groups = rubric.groups();
    let items = match &grade.submission_id {
        Some(id) => db.items_of(id)?,
        None => Vec::new(),
    };
    let parts: Vec<String> = groups
        .iter()
        .zip(group_totals(&items, groups))
        .map(|(group, total)| {
            let act = Act::ALL.into_iter().find(|act| act.id() == group);
            let title: &str = act.map_or(group, |act| act.title());
            format!("{title} {}", points(total))
        })
        .collect();
    Ok(format!(
        "{} / {}  ({}; {}, before penalty {}, late {} day(s), penalty {})",
        points(grade.total),
        points(grade.max_total),
        grade.status,
        parts.join(", "),
        points(grade.raw_total),
        grade.late_days,
        points(grade.penalty)
    ))
}
