//! Schema migrations, applied in order; `PRAGMA user_version` records how many ran.

use crate::error::GraderError;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// Each migration brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: submissions, quarantine, answers, scores and grades.
    r#"
    CREATE TABLE submissions (
        id             TEXT PRIMARY KEY,     -- the submission's UUID
        student        TEXT NOT NULL,
        lab            TEXT NOT NULL,
        created_at     TEXT NOT NULL,        -- RFC 3339 UTC, fixed width: sorts as time
        kernel_version TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        event_count    INTEGER NOT NULL,
        sha256         TEXT NOT NULL,        -- of the raw bytes
        source         TEXT NOT NULL,        -- the file it was read from
        ingested_at    TEXT NOT NULL,
        facts          TEXT NOT NULL,        -- JSON: answers, run inputs, saved design
        raw_lz4        BLOB NOT NULL         -- the JSON exactly as read, LZ4 (size-prepended);
                                             -- `mlsys-grader raw ID` prints it
    ) STRICT;
    CREATE INDEX submissions_by_student ON submissions (student, created_at);

    CREATE TABLE answers (
        submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
        question      TEXT NOT NULL,         -- e.g. act1.prediction
        choice        TEXT NOT NULL CHECK (choice IN ('A', 'B', 'C', 'D')),
        PRIMARY KEY (submission_id, question)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE quarantine (
        id             INTEGER PRIMARY KEY,
        sha256         TEXT NOT NULL UNIQUE, -- the same bytes are quarantined once
        reason         TEXT NOT NULL,        -- a stable code, e.g. lock_violated
        detail         TEXT NOT NULL,        -- the precise cause
        student        TEXT,                 -- when it could be read
        submission_id  TEXT,                 -- when it could be read
        source         TEXT NOT NULL,
        quarantined_at TEXT NOT NULL,
        raw            BLOB NOT NULL
    ) STRICT;
    CREATE INDEX quarantine_by_student ON quarantine (student);

    CREATE TABLE scoring (
        id            INTEGER PRIMARY KEY CHECK (id = 1), -- the latest `score` run
        scored_at     TEXT NOT NULL,
        rubric_source TEXT NOT NULL,
        rubric_sha256 TEXT NOT NULL,
        rubric_toml   TEXT NOT NULL,
        submissions   INTEGER NOT NULL       -- how many were scored
    ) STRICT;

    CREATE TABLE submission_scores (
        submission_id TEXT PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
        act1          REAL NOT NULL,
        act2          REAL NOT NULL,
        design        REAL NOT NULL,
        raw_total     REAL NOT NULL,
        late_days     INTEGER NOT NULL,
        penalty       REAL NOT NULL,
        total         REAL NOT NULL,
        items         TEXT NOT NULL          -- JSON: every rubric item with points and reason
    ) STRICT;

    CREATE TABLE grades (
        student       TEXT PRIMARY KEY,
        submission_id TEXT REFERENCES submissions (id) ON DELETE SET NULL,
        act1          REAL NOT NULL,
        act2          REAL NOT NULL,
        design        REAL NOT NULL,
        raw_total     REAL NOT NULL,
        late_days     INTEGER NOT NULL,
        penalty       REAL NOT NULL,
        total         REAL NOT NULL,
        max_total     REAL NOT NULL,
        status        TEXT NOT NULL          -- on_time, late, no_valid_submission
    ) STRICT;
    "#,
];

/// The schema version this grader writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies every migration the database has not had, each in its own
/// transaction; the version is re-read under the write lock, so two graders
/// opening a new database at once migrate it once.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), GraderError> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(GraderError::db(path))?;
        let current: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(GraderError::db(path))?;
        if current > SCHEMA_VERSION {
            return Err(GraderError::SchemaTooNew {
                path: path.to_path_buf(),
                found: current,
                known: SCHEMA_VERSION,
            });
        }
        let Some(sql) = MIGRATIONS.get(current as usize) else {
            return tx.commit().map_err(GraderError::db(path));
        };
        tx.execute_batch(sql).map_err(GraderError::db(path))?;
        tx.pragma_update(None, "user_version", current + 1)
            .map_err(GraderError::db(path))?;
        tx.commit().map_err(GraderError::db(path))?;
    }
}
