//! `export`: one row per student, as plain CSV, a Canvas gradebook CSV, or JSON.

use crate::db::Db;
use crate::error::GraderError;
use crate::rubric::Rubric;
use crate::score::Item;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One row per student: per-act, design, penalty and total scores.
    Csv,
    /// A Canvas gradebook import: one assignment column with the total.
    Canvas,
    /// Every student with every rubric item and its reason.
    Json,
}

/// One student's grade as stored by `score`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradeRow {
    /// The student's login.
    pub student: String,
    /// `on_time`, `late` or `no_valid_submission`.
    pub status: String,
    /// The counting submission.
    pub submission_id: Option<String>,
    /// When it was made.
    pub submitted_at: Option<String>,
    /// Started days late.
    pub late_days: u32,
    /// Act I points.
    pub act1: f64,
    /// Act II points.
    pub act2: f64,
    /// Design points.
    pub design: f64,
    /// Points before the late penalty.
    pub raw_total: f64,
    /// Points taken off for lateness.
    pub penalty: f64,
    /// The grade.
    pub total: f64,
    /// Points possible.
    pub max_total: f64,
    /// Every rubric item (JSON export only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Item>>,
}

/// Reads every student's grade, sorted by student; `with_items` adds the rubric items.
pub fn grade_rows(db: &Db, with_items: bool) -> Result<Vec<GradeRow>, GraderError> {
    let mut statement = db
        .conn
        .prepare(
            "SELECT g.student, g.status, g.submission_id, s.created_at, g.late_days, g.act1, \
             g.act2, g.design, g.raw_total, g.penalty, g.total, g.max_total, \
             CASE WHEN ?1 THEN sc.items END \
             FROM grades g \
             LEFT JOIN submissions s ON s.id = g.submission_id \
             LEFT JOIN submission_scores sc ON sc.submission_id = g.submission_id \
             ORDER BY g.student",
        )
        .map_err(db.err())?;
    let rows = statement
        .query_map([with_items], |r| {
            let items: Option<String> = r.get(12)?;
            Ok(GradeRow {
                student: r.get(0)?,
                status: r.get(1)?,
                submission_id: r.get(2)?,
                submitted_at: r.get(3)?,
                late_days: r.get(4)?,
                act1: r.get(5)?,
                act2: r.get(6)?,
                design: r.get(7)?,
                raw_total: r.get(8)?,
                penalty: r.get(9)?,
                total: r.get(10)?,
                max_total: r.get(11)?,
                items: with_items.then(|| {
                    items
                        .and_then(|t| serde_json::from_str(&t).ok())
                        .unwrap_or_default()
                }),
            })
        })
        .map_err(db.err())?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db.err())
}

/// Writes the grades in `format` to `out`.
pub fn write_grades(
    format: Format,
    rows: &[GradeRow],
    rubric: &Rubric,
    out: &mut dyn Write,
) -> Result<(), GraderError> {
    let export_err = |e: &dyn std::fmt::Display| GraderError::Export(e.to_string());
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "student",
                "status",
                "submission_id",
                "submitted_at",
                "late_days",
                "act1",
                "act2",
                "design",
                "raw_total",
                "late_penalty",
                "total",
                "max_total",
            ])
            .map_err(|e| export_err(&e))?;
            for r in rows {
                w.write_record([
                    r.student.as_str(),
                    &r.status,
                    r.submission_id.as_deref().unwrap_or(""),
                    r.submitted_at.as_deref().unwrap_or(""),
                    &r.late_days.to_string(),
                    &points(r.act1),
                    &points(r.act2),
                    &points(r.design),
                    &points(r.raw_total),
                    &points(r.penalty),
                    &points(r.total),
                    &points(r.max_total),
                ])
                .map_err(|e| export_err(&e))?;
            }
            w.flush().map_err(|e| export_err(&e))
        }
        Format::Canvas => {
            let assignment = &rubric.assignment;
            let column = match assignment.canvas_id {
                Some(id) => format!("{} ({id})", assignment.title),
                None => assignment.title.clone(),
            };
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "Student",
                "ID",
                "SIS User ID",
                "SIS Login ID",
                "Section",
                &column,
            ])
            .map_err(|e| export_err(&e))?;
            w.write_record([
                "    Points Possible",
                "",
                "",
                "",
                "",
                &points(rubric.max_total()),
            ])
            .map_err(|e| export_err(&e))?;
            for r in rows {
                w.write_record([
                    r.student.as_str(),
                    "",
                    "",
                    &r.student,
                    &assignment.section,
                    &points(r.total),
                ])
                .map_err(|e| export_err(&e))?;
            }
            w.flush().map_err(|e| export_err(&e))
        }
        Format::Json => {
            #[derive(Serialize)]
            struct Export<'a> {
                lab: &'a str,
                assignment: &'a str,
                canvas_id: Option<u64>,
                max_total: f64,
                students: &'a [GradeRow],
            }
            let export = Export {
                lab: &rubric.lab,
                assignment: &rubric.assignment.title,
                canvas_id: rubric.assignment.canvas_id,
                max_total: rubric.max_total(),
                students: rows,
            };
            serde_json::to_writer_pretty(&mut *out, &export).map_err(|e| export_err(&e))?;
            out.write_all(b"\n").map_err(|e| export_err(&e))
        }
    }
}

/// Points as the gradebook shows them: two decimals.
pub fn points(x: f64) -> String {
    format!("{x:.2}")
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), GraderError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        if let Ok(dir) = std::fs::File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        GraderError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    })
}
