//! `export`: one row per student of a lab, as plain CSV, a Canvas gradebook
//! CSV, or JSON. Per-group columns (an act's points, …) come from the lab's
//! item ids.

use crate::db::Db;
use crate::error::GraderError;
use crate::flags::Flag;
use crate::rubric::Rubric;
use crate::score::{group_totals, Item};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::HashMap;
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
#[derive(Debug, Clone, PartialEq)]
pub struct GradeRow {
    /// The student's login.
    pub student: String,
    /// `on_time`, `late` or `no_valid_submission`.
    pub status: String,
    /// The counting submission.
    pub submission_id: Option<String>,
    /// When it was handed in (the time lateness is judged by).
    pub submitted_at: Option<String>,
    /// Started days late.
    pub late_days: u32,
    /// Each item group's points (e.g. per act), in the lab's order.
    pub groups: Vec<(String, f64)>,
    /// Points before the late penalty.
    pub raw_total: f64,
    /// Points taken off for lateness.
    pub penalty: f64,
    /// The grade.
    pub total: f64,
    /// Points possible.
    pub max_total: f64,
    /// Every rubric item (JSON export only).
    pub items: Option<Vec<Item>>,
    /// The counting submission's flags, when any row of the export has some
    /// (the `flags` column).
    pub flags: Option<Vec<Flag>>,
}

impl Serialize for GradeRow {
    /// The fields in order, each group's points under the group's id.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("student", &self.student)?;
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("submission_id", &self.submission_id)?;
        map.serialize_entry("submitted_at", &self.submitted_at)?;
        map.serialize_entry("late_days", &self.late_days)?;
        for (group, points) in &self.groups {
            map.serialize_entry(group, points)?;
        }
        map.serialize_entry("raw_total", &self.raw_total)?;
        map.serialize_entry("penalty", &self.penalty)?;
        map.serialize_entry("total", &self.total)?;
        map.serialize_entry("max_total", &self.max_total)?;
        if let Some(items) = &self.items {
            map.serialize_entry("items", items)?;
        }
        if let Some(flags) = &self.flags {
            map.serialize_entry("flags", flags)?;
        }
        map.end()
    }
}

/// Reads every student's grade in the rubric's lab, sorted by student;
/// `with_items` adds the rubric items. Flags are listed when any counting
/// submission has some.
pub fn grade_rows(
    db: &Db,
    rubric: &Rubric,
    with_items: bool,
) -> Result<Vec<GradeRow>, GraderError> {
    let groups = rubric.groups();
    let mut items: HashMap<String, Vec<Item>> = HashMap::new();
    for (submission, item) in db.counting_items(&rubric.lab)? {
        items.entry(submission).or_default().push(item);
    }
    let listed = db.counting_flags(&rubric.lab)?;
    let any_flags = !listed.is_empty();
    let mut flags: HashMap<String, Vec<Flag>> = HashMap::new();
    for (submission, flag) in listed {
        flags.entry(submission).or_default().push(flag);
    }
    let rows = db.grades(&rubric.lab)?.into_iter().map(|grade| {
        let own_flags = grade
            .submission_id
            .as_ref()
            .and_then(|id| flags.remove(id))
            .unwrap_or_default();
        let mine = grade
            .submission_id
            .as_ref()
            .and_then(|id| items.remove(id))
            .unwrap_or_default();
        let totals = group_totals(&mine, groups);
        GradeRow {
            student: grade.student,
            status: grade.status,
            submission_id: grade.submission_id,
            submitted_at: grade.submitted_at,
            late_days: grade.late_days,
            groups: groups.iter().cloned().zip(totals).collect(),
            raw_total: grade.raw_total,
            penalty: grade.penalty,
            total: grade.total,
            max_total: grade.max_total,
            items: with_items.then_some(mine),
            flags: any_flags.then_some(own_flags),
        }
    });
    Ok(rows.collect())
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
            let groups = rubric.groups();
            let mut header = vec![
                "student",
                "status",
                "submission_id",
                "submitted_at",
                "late_days",
            ];
            header.extend(groups.iter().map(String::as_str));
            header.extend(["raw_total", "late_penalty", "total", "max_total"]);
            let with_flags = rows.iter().any(|r| r.flags.is_some());
            if with_flags {
                header.push("flags");
            }
            w.write_record(&header).map_err(|e| export_err(&e))?;
            for r in rows {
                let mut record = vec![
                    r.student.clone(),
                    r.status.clone(),
                    r.submission_id.clone().unwrap_or_default(),
                    r.submitted_at.clone().unwrap_or_default(),
                    r.late_days.to_string(),
                ];
                record.extend(r.groups.iter().map(|(_, p)| points(*p)));
                record.extend([r.raw_total, r.penalty, r.total, r.max_total].map(points));
                if with_flags {
                    let codes: Vec<&str> =
                        r.flags.iter().flatten().map(|f| f.flag.as_str()).collect();
                    record.push(codes.join(" "));
                }
                w.write_record(&record).map_err(|e| export_err(&e))?;
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
