//! The grader's store: its SQLite database, and every query the grader makes.
//! Nothing outside this module writes SQL.
//!
//! [`migrations`] holds the schema; [`intake`] stores submissions and
//! quarantined files; [`scores`] stores and reads what `score` computes;
//! [`reads`] serves the reports (`export`, `show`, `stats`, the service).

mod migrations;

pub mod intake;
pub mod reads;
pub mod scores;
pub mod witness;

use crate::error::GraderError;
use rusqlite::{Connection, Params, Row};
use std::path::{Path, PathBuf};

pub use migrations::SCHEMA_VERSION;

/// An open grader database.
pub struct Db {
    /// The connection (foreign keys on, WAL journal).
    pub conn: Connection,
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and migrates it to
    /// [`SCHEMA_VERSION`]. Refuses a database written by a newer grader.
    pub fn open(path: &Path) -> Result<Db, GraderError> {
        let err = GraderError::db(path);
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(GraderError::db(path))?;
        // WAL: readers never block the writer; NORMAL sync is crash-safe in WAL
        // (a killed process loses at most uncommitted transactions).
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(GraderError::db(path))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(GraderError::db(path))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(GraderError::db(path))?;
        // Fewer, larger checkpoints (each one fsyncs) and reads through mmap:
        // ingest writes hundreds of MB of raw submissions.
        conn.pragma_update(None, "wal_autocheckpoint", 16_384)
            .map_err(GraderError::db(path))?;
        conn.pragma_update(None, "mmap_size", 1_i64 << 30)
            .map_err(GraderError::db(path))?;
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(GraderError::db(path))?;
        migrations::migrate(&mut conn, path)?;
        Ok(Db {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing database; a missing file is an error, not a new database.
    pub fn open_existing(path: &Path) -> Result<Db, GraderError> {
        if !path.exists() {
            return Err(GraderError::Precondition(format!(
                "no grader database at {}: run `mlsys-grader ingest` first (or pass --db)",
                path.display()
            )));
        }
        Db::open(path)
    }

    /// Syncs every commit to disk before it returns (the service acknowledges
    /// a submission only once it is on disk).
    pub fn sync_every_commit(&self) -> Result<(), GraderError> {
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(self.err())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Maps a SQLite error to a [`GraderError`] naming this database.
    pub fn err(&self) -> impl FnOnce(rusqlite::Error) -> GraderError + '_ {
        GraderError::db(&self.path)
    }

    /// Every row `sql` gives, mapped by `map`.
    fn rows<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, GraderError> {
        let mut statement = self.conn.prepare(sql).map_err(self.err())?;
        let rows = statement.query_map(params, map).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The one number `sql` gives.
    fn count(&self, sql: &str, params: impl Params) -> Result<i64, GraderError> {
        self.conn
            .query_row(sql, params, |r| r.get(0))
            .map_err(self.err())
    }
}
