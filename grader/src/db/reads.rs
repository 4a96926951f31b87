//! What the reports read: grades and their items (`export`, `show`), a
//! student's submissions and quarantined files (`show`, the service), the
//! class's answers and scores (`stats`).

use super::Db;
use crate::error::GraderError;
use crate::flags::Flag;
use crate::score::Item;
use rusqlite::Row;
use std::collections::BTreeMap;

/// One student's grade in a lab.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeRecord {
    /// The lab.
    pub lab: String,
    /// The student's login.
    pub student: String,
    /// `on_time`, `late` or `no_valid_submission`.
    pub status: String,
    /// The counting submission.
    pub submission_id: Option<String>,
    /// When it was handed in: the time lateness is judged by.
    pub submitted_at: Option<String>,
    /// Started days late.
    pub late_days: u32,
    /// Points before the late penalty.
    pub raw_total: f64,
    /// Points taken off for lateness.
    pub penalty: f64,
    /// The grade.
    pub total: f64,
    /// Points possible.
    pub max_total: f64,
}

/// A stored submission (without its bytes), with its score if scored.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionRecord {
    /// Its id.
    pub id: String,
    /// The student.
    pub student: String,
    /// The lab.
    pub lab: String,
    /// When it was made, as it says.
    pub created_at: String,
    /// When it was stored.
    pub ingested_at: String,
    /// The verified time it is judged by (the service's receive time or the
    /// file's ctime), if any.
    pub received_at: Option<String>,
    /// `service`, `file` or `unverified`.
    pub time_source: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Events in its log.
    pub events: i64,
    /// The kernel that made it.
    pub kernel_version: String,
    /// Where it was read from.
    pub source: String,
    /// Its total, when scored.
    pub total: Option<f64>,
    /// Its started days late, when scored.
    pub late_days: Option<u32>,
}

/// A quarantined file.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineRecord {
    /// Where it was read from.
    pub source: String,
    /// The reason code.
    pub reason: String,
    /// The precise cause.
    pub detail: String,
    /// When it was quarantined.
    pub quarantined_at: String,
    /// Its submission id, when it could be read.
    pub submission_id: Option<String>,
    /// SHA-256 of its bytes.
    pub sha256: String,
}

const GRADE_COLUMNS: &str = "SELECT g.lab, g.student, g.status, g.submission_id, \
     COALESCE(s.received_at, s.created_at), \
     g.late_days, g.raw_total, g.penalty, g.total, g.max_total \
     FROM grades g LEFT JOIN submissions s ON s.id = g.submission_id";

fn grade(r: &Row) -> rusqlite::Result<GradeRecord> {
    Ok(GradeRecord {
        lab: r.get(0)?,
        student: r.get(1)?,
        status: r.get(2)?,
        submission_id: r.get(3)?,
        submitted_at: r.get(4)?,
        late_days: r.get(5)?,
        raw_total: r.get(6)?,
        penalty: r.get(7)?,
        total: r.get(8)?,
        max_total: r.get(9)?,
    })
}

const SUBMISSION_COLUMNS: &str = "SELECT s.id, s.student, s.lab, s.created_at, s.ingested_at, \
     s.sha256, s.event_count, s.kernel_version, s.source, sc.total, sc.late_days, \
     s.received_at, s.time_source \
     FROM submissions s LEFT JOIN submission_scores sc ON sc.submission_id = s.id";

fn submission(r: &Row) -> rusqlite::Result<SubmissionRecord> {
    Ok(SubmissionRecord {
        id: r.get(0)?,
        student: r.get(1)?,
        lab: r.get(2)?,
        created_at: r.get(3)?,
        ingested_at: r.get(4)?,
        sha256: r.get(5)?,
        events: r.get(6)?,
        kernel_version: r.get(7)?,
        source: r.get(8)?,
        total: r.get(9)?,
        late_days: r.get(10)?,
        received_at: r.get(11)?,
        time_source: r.get(12)?,
    })
}

fn flag(r: &Row, first: usize) -> rusqlite::Result<Flag> {
    Ok(Flag {
        flag: r.get(first)?,
        detail: r.get(first + 1)?,
    })
}

fn item(r: &Row, first: usize) -> rusqlite::Result<Item> {
    Ok(Item {
        id: r.get(first)?,
        points: r.get(first + 1)?,
        max: r.get(first + 2)?,
        reason: r.get(first + 3)?,
    })
}

impl Db {
    /// Every grade of `lab`, by student.
    pub fn grades(&self, lab: &str) -> Result<Vec<GradeRecord>, GraderError> {
        let sql = format!("{GRADE_COLUMNS} WHERE g.lab = ?1 ORDER BY g.student");
        self.rows(&sql, [lab], grade)
    }

    /// One student's grades, by lab.
    pub fn grades_of(&self, student: &str) -> Result<Vec<GradeRecord>, GraderError> {
        let sql = format!("{GRADE_COLUMNS} WHERE g.student = ?1 ORDER BY g.lab");
        self.rows(&sql, [student], grade)
    }

    /// The items of every counting submission of `lab` with the submission's
    /// id, by student, each submission's in order.
    pub fn counting_items(&self, lab: &str) -> Result<Vec<(String, Item)>, GraderError> {
        self.rows(
            "SELECT i.submission_id, i.item, i.points, i.max, i.reason FROM grades g \
             JOIN score_items i ON i.submission_id = g.submission_id \
             WHERE g.lab = ?1 ORDER BY g.student, i.position",
            [lab],
            |r| Ok((r.get(0)?, item(r, 1)?)),
        )
    }

    /// The flags of every counting submission of `lab`, with the submission's id.
    pub fn counting_flags(&self, lab: &str) -> Result<Vec<(String, Flag)>, GraderError> {
        self.rows(
            "SELECT f.submission_id, f.flag, f.detail FROM grades g \
             JOIN submission_flags f ON f.submission_id = g.submission_id \
             WHERE g.lab = ?1 ORDER BY g.student, f.position",
            [lab],
            |r| Ok((r.get(0)?, flag(r, 1)?)),
        )
    }

    /// A submission's flags, in order (none when it is not scored).
    pub fn flags_of(&self, submission_id: &str) -> Result<Vec<Flag>, GraderError> {
        self.rows(
            "SELECT flag, detail FROM submission_flags WHERE submission_id = ?1 ORDER BY position",
            [submission_id],
            |r| flag(r, 0),
        )
    }

    /// How many of `lab`'s counting submissions are judged by each time
    /// source (`service`, `file`, `unverified`).
    pub fn counting_time_sources(&self, lab: &str) -> Result<Vec<(String, i64)>, GraderError> {
        self.rows(
            "SELECT s.time_source, COUNT(*) FROM grades g JOIN submissions s \
             ON s.id = g.submission_id WHERE g.lab = ?1 GROUP BY s.time_source",
            [lab],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// A submission's items, in order (none when it is not scored).
    pub fn items_of(&self, submission_id: &str) -> Result<Vec<Item>, GraderError> {
        self.rows(
            "SELECT item, points, max, reason FROM score_items WHERE submission_id = ?1 \
             ORDER BY position",
            [submission_id],
            |r| item(r, 0),
        )
    }

    /// One student's submissions, by time.
    pub fn submissions_of(&self, student: &str) -> Result<Vec<SubmissionRecord>, GraderError> {
        let sql = format!("{SUBMISSION_COLUMNS} WHERE s.student = ?1 ORDER BY s.created_at, s.id");
        self.rows(&sql, [student], submission)
    }

    /// Every submission, by student and time.
    pub fn all_submissions(&self) -> Result<Vec<SubmissionRecord>, GraderError> {
        let sql = format!("{SUBMISSION_COLUMNS} ORDER BY s.student, s.created_at, s.id");
        self.rows(&sql, [], submission)
    }

    /// The files quarantined under `student`'s name or read from `source`, by time.
    pub fn quarantined_of(
        &self,
        student: &str,
        source: Option<&str>,
    ) -> Result<Vec<QuarantineRecord>, GraderError> {
        self.rows(
            "SELECT source, reason, detail, quarantined_at, submission_id, sha256 \
             FROM quarantine WHERE student = ?1 OR source = ?2 ORDER BY quarantined_at, id",
            rusqlite::params![student, source],
            |r| {
                Ok(QuarantineRecord {
                    source: r.get(0)?,
                    reason: r.get(1)?,
                    detail: r.get(2)?,
                    quarantined_at: r.get(3)?,
                    submission_id: r.get(4)?,
                    sha256: r.get(5)?,
                })
            },
        )
    }

    /// How many submissions are stored.
    pub fn submission_count(&self) -> Result<i64, GraderError> {
        self.count("SELECT COUNT(*) FROM submissions", [])
    }

    /// How many files are quarantined.
    pub fn quarantine_count(&self) -> Result<i64, GraderError> {
        self.count("SELECT COUNT(*) FROM quarantine", [])
    }

    /// Quarantined files per reason code, the most frequent first.
    pub fn quarantine_counts(&self) -> Result<Vec<(String, i64)>, GraderError> {
        self.rows(
            "SELECT reason, COUNT(*) FROM quarantine GROUP BY reason \
             ORDER BY COUNT(*) DESC, reason",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// How many of `lab`'s grades have a counting submission.
    pub fn counting_count(&self, lab: &str) -> Result<i64, GraderError> {
        self.count(
            "SELECT COUNT(*) FROM grades WHERE lab = ?1 AND submission_id IS NOT NULL",
            [lab],
        )
    }

    /// How many of `lab`'s counting submissions gave each answer: by
    /// (question, letter).
    pub fn answer_counts(&self, lab: &str) -> Result<BTreeMap<(String, String), i64>, GraderError> {
        let counts = self.rows(
            "SELECT a.question, a.choice, COUNT(*) FROM answers a \
             JOIN grades g ON g.submission_id = a.submission_id \
             WHERE g.lab = ?1 GROUP BY a.question, a.choice",
            [lab],
            |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)),
        )?;
        Ok(counts.into_iter().collect())
    }

    /// Every grade's total and points possible in `lab`, lowest first.
    pub fn totals(&self, lab: &str) -> Result<Vec<(f64, f64)>, GraderError> {
        self.rows(
            "SELECT total, max_total FROM grades WHERE lab = ?1 ORDER BY total",
            [lab],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }
}
