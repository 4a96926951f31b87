//! What the service's pages read beyond the reports: who has started, the
//! facts of the counting submissions (for the lab's charts), when hand-ins
//! arrived, and the flags of scored submissions.
//!
//! A student has started once the witness received an event of theirs, or
//! anything of theirs reached the grader (a course without the witness).

use super::Db;
use crate::error::GraderError;
use rusqlite::OptionalExtension;

/// A flag of a scored submission, as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagRecord {
    /// The submission flagged.
    pub submission_id: String,
    /// The flag's stable code.
    pub flag: String,
    /// Why, for the instructor.
    pub detail: String,
}

impl Db {
    /// Every student who has started: whose events the witness received, or
    /// (without a witness) who handed in anything, valid or not; by name.
    pub fn started_students(&self) -> Result<Vec<String>, GraderError> {
        self.rows(
            "SELECT student FROM submissions \
             UNION SELECT student FROM quarantine WHERE student IS NOT NULL \
             UNION SELECT substr(source, 9) FROM quarantine WHERE source LIKE 'service:%' \
             UNION SELECT student FROM witnessed_events ORDER BY 1",
            [],
            |r| r.get(0),
        )
    }

    /// Every flag of `lab`'s scored submissions, by submission and position.
    pub fn flags_of_lab(&self, lab: &str) -> Result<Vec<FlagRecord>, GraderError> {
        self.flags_where("s.lab", lab)
    }

    /// Every flag of `student`'s scored submissions, in order.
    pub fn flags_of_student(&self, student: &str) -> Result<Vec<FlagRecord>, GraderError> {
        self.flags_where("s.student", student)
    }

    /// The flags of the submissions whose `column` is `value`.
    fn flags_where(&self, column: &str, value: &str) -> Result<Vec<FlagRecord>, GraderError> {
        let sql = format!(
            "SELECT f.submission_id, f.flag, f.detail FROM submission_flags f \
             JOIN submissions s ON s.id = f.submission_id WHERE {column} = ?1 \
             ORDER BY f.submission_id, f.position"
        );
        self.rows(&sql, [value], |r| {
            Ok(FlagRecord {
                submission_id: r.get(0)?,
                flag: r.get(1)?,
                detail: r.get(2)?,
            })
        })
    }

    /// The stored facts of `lab`'s counting submissions, by student.
    pub fn counting_facts(&self, lab: &str) -> Result<Vec<(String, String)>, GraderError> {
        self.rows(
            "SELECT g.student, s.facts FROM grades g JOIN submissions s ON s.id = g.submission_id \
             WHERE g.lab = ?1 ORDER BY g.student",
            [lab],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// When each hand-in was received (the service's clock for the
    /// service's), valid ones and quarantined ones, oldest first.
    pub fn received_times(&self) -> Result<Vec<String>, GraderError> {
        self.rows(
            "SELECT ingested_at FROM submissions \
             UNION ALL SELECT quarantined_at FROM quarantine ORDER BY 1",
            [],
            |r| r.get(0),
        )
    }

    /// How many quarantined files each student has (by the payload's name,
    /// or the Hub user who sent it), by student.
    pub fn quarantined_per_student(&self) -> Result<Vec<(String, i64)>, GraderError> {
        self.rows(
            "SELECT owner, COUNT(*) FROM (SELECT COALESCE(student, CASE WHEN source LIKE              'service:%' THEN substr(source, 9) END) AS owner FROM quarantine)              WHERE owner IS NOT NULL GROUP BY owner ORDER BY owner",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// The student a quarantined file (by SHA-256) is kept for: its payload's
    /// student, or the Hub user who sent it to the service.
    pub fn quarantined_owner(&self, sha256: &str) -> Result<Option<String>, GraderError> {
        self.conn
            .query_row(
                "SELECT COALESCE(student, CASE WHEN source LIKE 'service:%' \
                 THEN substr(source, 9) END) FROM quarantine WHERE sha256 = ?1 LIMIT 1",
                [sha256],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map_err(self.err())
            .map(Option::flatten)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_student_whose_events_were_witnessed_has_started() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("g.sqlite")).unwrap();
        assert!(db.started_students().unwrap().is_empty());
        db.conn
            .execute(
                "INSERT INTO witnessed_events (student, lab, event_id, batch, received_at, \
                 sha256, event, conflict) VALUES ('ada', 'x', 'e1', 1, 't', 'h', '{}', 0)",
                [],
            )
            .unwrap();
        assert_eq!(db.started_students().unwrap(), ["ada"]);
        assert!(db.flags_of_student("ada").unwrap().is_empty());
    }
}
