//! The schema, and the upgrades of databases written by older graders.
//! `PRAGMA user_version` records the schema version: a new database gets the
//! current schema at once, an older one is upgraded step by step, in place.

use crate::error::GraderError;
use crate::score::Item;
use mlsys_model::record::Submission;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::Path;

/// What ingest stores (since version 3 quarantined bytes are compressed and
/// found by source; version 4 adds the columns [`TRUSTED_TIMES`] adds).
const INTAKE_TABLES: &str = r#"
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
        facts          TEXT NOT NULL,        -- JSON, as the lab's scorer stores it
        raw_lz4        BLOB NOT NULL,        -- the JSON exactly as read, LZ4 (size-prepended);
                                             -- `mlsys-grader raw ID` prints it
        received_at    TEXT,                 -- the time lateness is judged by (version 4):
                                             -- the service's receive time, or the file's
                                             -- ctime as ingest first read it; NULL: created_at
        time_source    TEXT NOT NULL DEFAULT 'unverified', -- service, file or unverified
        event_ids      BLOB NOT NULL DEFAULT x'' -- the log's event ids, 16 bytes each
    ) STRICT;
    CREATE INDEX submissions_by_student ON submissions (student, created_at);

    CREATE TABLE answers (
        submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
        question      TEXT NOT NULL,         -- the lab's question id
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
        source         TEXT NOT NULL,        -- a path, or `service:USER` for the service
        quarantined_at TEXT NOT NULL,
        raw_lz4        BLOB NOT NULL         -- the bytes as received (of a `too_large` file,
                                             -- its first 4 KiB), LZ4 (size-prepended)
    ) STRICT;
    CREATE INDEX quarantine_by_student ON quarantine (student);
    CREATE INDEX quarantine_by_source ON quarantine (source);
"#;

/// What `score` stores, per lab (version 2).
const SCORE_TABLES: &str = r#"
    CREATE TABLE scoring (
        lab           TEXT PRIMARY KEY,      -- the latest `score` run of each lab
        scored_at     TEXT NOT NULL,
        rubric_source TEXT NOT NULL,
        rubric_sha256 TEXT NOT NULL,
        rubric_toml   TEXT NOT NULL,
        submissions   INTEGER NOT NULL       -- how many were scored
    ) STRICT;

    CREATE TABLE submission_scores (
        submission_id TEXT PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
        raw_total     REAL NOT NULL,
        late_days     INTEGER NOT NULL,
        penalty       REAL NOT NULL,
        total         REAL NOT NULL
    ) STRICT;

    CREATE TABLE score_items (
        submission_id TEXT NOT NULL
                      REFERENCES submission_scores (submission_id) ON DELETE CASCADE,
        position      INTEGER NOT NULL,      -- the item's place in its lab's list
        lab           TEXT NOT NULL,
        item          TEXT NOT NULL,         -- `<group>.<name>`; exports total each group
        points        REAL NOT NULL,
        max           REAL NOT NULL,
        reason        TEXT NOT NULL,
        PRIMARY KEY (submission_id, position)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE grades (
        lab           TEXT NOT NULL,
        student       TEXT NOT NULL,
        submission_id TEXT REFERENCES submissions (id) ON DELETE SET NULL,
        raw_total     REAL NOT NULL,
        late_days     INTEGER NOT NULL,
        penalty       REAL NOT NULL,
        total         REAL NOT NULL,
        max_total     REAL NOT NULL,
        status        TEXT NOT NULL,         -- on_time, late, no_valid_submission
        PRIMARY KEY (lab, student)
    ) STRICT;
"#;

/// The columns version 4 adds to `submissions`, as `ALTER TABLE` adds them
/// (a new database gets them in [`INTAKE_TABLES`]).
const TRUSTED_TIMES: &str = r#"
    ALTER TABLE submissions ADD COLUMN received_at TEXT;
    ALTER TABLE submissions ADD COLUMN time_source TEXT NOT NULL DEFAULT 'unverified';
    ALTER TABLE submissions ADD COLUMN event_ids BLOB NOT NULL DEFAULT x'';
"#;

/// The witness and the flags of scored submissions (version 4).
const WITNESS_TABLES: &str = r#"
    CREATE TABLE witnessed_events (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT, -- the order the service received them
        student     TEXT NOT NULL,           -- the authenticated Hub user
        lab         TEXT NOT NULL,
        event_id    TEXT NOT NULL,
        batch       INTEGER NOT NULL,        -- one per request: the seq of its first new event
        received_at TEXT NOT NULL,           -- the service's clock
        sha256      TEXT NOT NULL,           -- of `event`
        event       TEXT NOT NULL,           -- the event as the service read it (JSON)
        conflict    INTEGER NOT NULL         -- 1: an id already witnessed with other content
    ) STRICT;
    CREATE UNIQUE INDEX witnessed_once ON witnessed_events (student, event_id, sha256);
    CREATE INDEX witnessed_by_lab ON witnessed_events (lab, student, seq);
    CREATE TRIGGER witnessed_events_are_kept BEFORE UPDATE ON witnessed_events
        BEGIN SELECT RAISE(ABORT, 'witnessed events are append-only'); END;
    CREATE TRIGGER witnessed_events_are_never_deleted BEFORE DELETE ON witnessed_events
        BEGIN SELECT RAISE(ABORT, 'witnessed events are append-only'); END;

    CREATE TABLE submission_flags (
        submission_id TEXT NOT NULL
                      REFERENCES submission_scores (submission_id) ON DELETE CASCADE,
        position      INTEGER NOT NULL,
        flag          TEXT NOT NULL,         -- a stable code, e.g. witness_mismatch
        detail        TEXT NOT NULL,         -- for the instructor's decision
        PRIMARY KEY (submission_id, position)
    ) STRICT, WITHOUT ROWID;
"#;

/// An upgrade from one schema version to the next.
type Upgrade = fn(&Transaction, &Path) -> Result<(), GraderError>;

/// `UPGRADES[i]` brings version `i + 1` to `i + 2`.
const UPGRADES: &[Upgrade] = &[
    scores_as_items,
    quarantine_compressed,
    witness_and_trusted_times,
];

/// The schema version this grader writes.
pub const SCHEMA_VERSION: i64 = UPGRADES.len() as i64 + 1;

/// Creates the schema of a new database, or upgrades an older one one version
/// at a time, each in its own transaction; the version is re-read under the
/// write lock, so two graders opening a database at once migrate it once.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), GraderError> {
    let err = || GraderError::db(path);
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err())?;
        let current: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(err())?;
        if current > SCHEMA_VERSION {
            return Err(GraderError::SchemaTooNew {
                path: path.to_path_buf(),
                found: current,
                known: SCHEMA_VERSION,
            });
        }
        let next = match current {
            SCHEMA_VERSION => return tx.commit().map_err(err()),
            0 => {
                tx.execute_batch(INTAKE_TABLES).map_err(err())?;
                tx.execute_batch(SCORE_TABLES).map_err(err())?;
                tx.execute_batch(WITNESS_TABLES).map_err(err())?;
                SCHEMA_VERSION
            }
            _ => {
                UPGRADES[current as usize - 1](&tx, path)?;
                current + 1
            }
        };
        tx.pragma_update(None, "user_version", next)
            .map_err(err())?;
        tx.commit().map_err(err())?;
    }
}

/// 1 → 2: scores as items (one row per rubric item, in `score_items`) instead
/// of fixed per-act columns and a JSON list; `scoring` and `grades` per lab.
/// The lab of version 1's one scoring run is the `lab` of its rubric.
fn scores_as_items(tx: &Transaction, path: &Path) -> Result<(), GraderError> {
    let err = || GraderError::db(path);
    let rubric: Option<String> = tx
        .query_row("SELECT rubric_toml FROM scoring", [], |r| r.get(0))
        .optional()
        .map_err(err())?;
    let lab = match rubric {
        Some(text) => text
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| t.get("lab")?.as_str().map(str::to_string))
            .ok_or_else(|| {
                GraderError::Precondition(format!(
                    "{}: the stored rubric names no lab; cannot upgrade the database",
                    path.display()
                ))
            })?,
        None => String::new(),
    };
    tx.execute_batch(
        "ALTER TABLE scoring RENAME TO old_scoring;
         ALTER TABLE submission_scores RENAME TO old_submission_scores;
         ALTER TABLE grades RENAME TO old_grades;",
    )
    .map_err(err())?;
    tx.execute_batch(SCORE_TABLES).map_err(err())?;
    tx.execute(
        "INSERT INTO scoring SELECT ?1, scored_at, rubric_source, rubric_sha256, rubric_toml, \
         submissions FROM old_scoring",
        [&lab],
    )
    .map_err(err())?;
    tx.execute_batch(
        "INSERT INTO submission_scores SELECT submission_id, raw_total, late_days, penalty, total \
         FROM old_submission_scores;",
    )
    .map_err(err())?;
    tx.execute(
        "INSERT INTO grades SELECT ?1, student, submission_id, raw_total, late_days, penalty, \
         total, max_total, status FROM old_grades",
        [&lab],
    )
    .map_err(err())?;
    // Items were a JSON list; numbers are read by serde_json, as written.
    {
        let mut read = tx
            .prepare(
                "SELECT sc.submission_id, s.lab, sc.items FROM old_submission_scores sc \
                 JOIN submissions s ON s.id = sc.submission_id",
            )
            .map_err(err())?;
        let mut rows = read.query([]).map_err(err())?;
        while let Some(row) = rows.next().map_err(err())? {
            let id: String = row.get(0).map_err(err())?;
            let lab: String = row.get(1).map_err(err())?;
            let items: String = row.get(2).map_err(err())?;
            let items: Vec<Item> = serde_json::from_str(&items).unwrap_or_default();
            super::scores::insert_items(tx, &id, &lab, &items).map_err(err())?;
        }
    }
    tx.execute_batch(
        "DROP TABLE old_grades; DROP TABLE old_submission_scores; DROP TABLE old_scoring;",
    )
    .map_err(err())
}

/// 2 → 3: quarantined bytes LZ4-compressed (`raw` becomes `raw_lz4`), and an
/// index by source (the service's per-student quota counts by it).
fn quarantine_compressed(tx: &Transaction, path: &Path) -> Result<(), GraderError> {
    let err = || GraderError::db(path);
    tx.execute_batch(
        "ALTER TABLE quarantine RENAME COLUMN raw TO raw_lz4;
         CREATE INDEX quarantine_by_source ON quarantine (source);",
    )
    .map_err(err())?;
    let rows: Vec<(i64, Vec<u8>)> = {
        let mut read = tx
            .prepare("SELECT id, raw_lz4 FROM quarantine")
            .map_err(err())?;
        let rows = read
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err())?;
        rows.collect::<Result<_, _>>().map_err(err())?
    };
    let mut write = tx
        .prepare("UPDATE quarantine SET raw_lz4 = ?2 WHERE id = ?1")
        .map_err(err())?;
    for (id, raw) in rows {
        write
            .execute(rusqlite::params![id, lz4_flex::compress_prepend_size(&raw)])
            .map_err(err())?;
    }
    Ok(())
}

/// 3 → 4: the times lateness is judged by (a submission the service received
/// was received at its `ingested_at`; an exchange file's ctime was never read,
/// so it stays judged by its own `created_at`, as `unverified`), each log's
/// event ids (read from the stored bytes), the witness and the flags.
fn witness_and_trusted_times(tx: &Transaction, path: &Path) -> Result<(), GraderError> {
    let err = || GraderError::db(path);
    tx.execute_batch(TRUSTED_TIMES).map_err(err())?;
    tx.execute_batch(WITNESS_TABLES).map_err(err())?;
    tx.execute(
        "UPDATE submissions SET time_source = ?1, received_at = ingested_at \
         WHERE source LIKE 'service:%'",
        [crate::provenance::SERVICE],
    )
    .map_err(err())?;
    let mut read = tx
        .prepare("SELECT id, raw_lz4 FROM submissions")
        .map_err(err())?;
    let mut write = tx
        .prepare("UPDATE submissions SET event_ids = ?2 WHERE id = ?1")
        .map_err(err())?;
    let mut rows = read.query([]).map_err(err())?;
    while let Some(row) = rows.next().map_err(err())? {
        let id: String = row.get(0).map_err(err())?;
        let raw: Vec<u8> = row.get(1).map_err(err())?;
        let ids: Vec<u8> = lz4_flex::decompress_size_prepended(&raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Submission>(&bytes).ok())
            .map(|s| s.events.iter().flat_map(|e| e.id.into_bytes()).collect())
            .unwrap_or_default();
        write.execute(rusqlite::params![id, ids]).map_err(err())?;
    }
    Ok(())
}
