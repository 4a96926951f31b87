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
pub mod web;
pub mod witness;

use crate::error::GraderError;
use rusqlite::{Connection, Params, Row, Transaction, TransactionBehavior};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use migrations::SCHEMA_VERSION;

/// How long a command waits for another writer (the service, another
/// command) to finish before it gives up.
pub const BUSY_WAIT: Duration = Duration::from_secs(60);

/// An open grader database.
pub struct Db {
    /// The connection (foreign keys on, WAL journal, every commit synced).
    pub conn: Connection,
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed, readable by its owner only) the database at
    /// `path` and migrates it to [`SCHEMA_VERSION`]; a writer that finds the
    /// database busy waits up to [`BUSY_WAIT`]. Refuses a database written by
    /// a newer grader.
    ///
    /// Durability: every commit (submissions, quarantine records, a scoring
    /// run) is synced to disk before it returns (`synchronous=FULL` in WAL
    /// mode), so what the service acknowledged or ingest counted survives a
    /// killed process and a power loss alike.
    pub fn open(path: &Path) -> Result<Db, GraderError> {
        create_private(path)?;
        let err = GraderError::db(path);
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(BUSY_WAIT)
            .map_err(GraderError::db(path))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(GraderError::db(path))?;
        conn.pragma_update(None, "synchronous", "FULL")
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

    /// How long a write waits for another writer before it fails as busy
    /// (see [`GraderError::is_busy`]).
    pub fn set_busy_wait(&self, wait: Duration) -> Result<(), GraderError> {
        self.conn.busy_timeout(wait).map_err(self.err())
    }

    /// Bounds this connection's memory for a long-running process: a page
    /// cache of at most `cache_kib` KiB (64 MiB from [`Db::open`], for
    /// ingest's batch writes) and no mmap (mapped pages of the database file
    /// count as the process's memory, up to the file's size).
    pub fn limit_memory(&self, cache_kib: u32) -> Result<(), GraderError> {
        self.conn
            .pragma_update(None, "cache_size", -i64::from(cache_kib))
            .map_err(self.err())?;
        self.conn
            .pragma_update(None, "mmap_size", 0)
            .map_err(self.err())
    }

    /// The page cache's limit in KiB and the mmap size in bytes.
    pub fn memory_limits(&self) -> Result<(i64, i64), GraderError> {
        let pragma = |name| {
            self.conn
                .pragma_query_value(None, name, |r| r.get::<_, i64>(0))
                .map_err(self.err())
        };
        // A negative cache size is in KiB; a positive one in pages.
        let cache = pragma("cache_size")?;
        let page = pragma("page_size")?;
        let cache_kib = if cache < 0 {
            -cache
        } else {
            cache * page / 1024
        };
        Ok((cache_kib, pragma("mmap_size")?))
    }

    /// A write transaction that takes the write lock at once (`BEGIN
    /// IMMEDIATE`), waiting for another writer as the busy wait allows: a
    /// deferred one that read first would fail at once when another writer
    /// committed in between.
    fn write(&mut self) -> Result<Transaction<'_>, GraderError> {
        let path = self.path.clone();
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(GraderError::db(&path))
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

/// Creates an empty database file readable and writable by its owner only
/// (SQLite gives its `-wal` and `-shm` files the same mode), unless it exists.
fn create_private(path: &Path) -> Result<(), GraderError> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(GraderError::io(path)(e)),
        _ => Ok(()),
    }
}

/// Warnings about who may use the database at `path`: when users other than
/// its owner can read or write it (or its `-wal` or `-shm` file), the grades
/// and every student's submissions are theirs; when it belongs to another user
/// than the one running the grader, files SQLite creates next to it would be
/// this user's and private, so its owner (the service) could not open it.
pub fn access_warnings(path: &Path) -> Vec<String> {
    let mut warnings = Vec::new();
    let exposed: Vec<String> = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let mode = std::fs::metadata(&name).ok()?.permissions().mode() & 0o777;
            (mode & 0o077 != 0).then(|| format!("{} (mode {mode:03o})", Path::new(&name).display()))
        })
        .collect();
    if !exposed.is_empty() {
        warnings.push(format!(
            "warning: other users can read the grader database: {}; run `chmod 600` on it \
             and `chmod 700` on its directory",
            exposed.join(", ")
        ));
    }
    let owner = std::fs::metadata(path).ok().map(|m| m.uid());
    let me = rustix::process::geteuid().as_raw();
    if let Some(owner) = owner.filter(|&owner| owner != me) {
        warnings.push(format!(
            "warning: {} belongs to user id {owner}, not to you (user id {me}): run the grader \
             as its owner (e.g. `sudo -u mlsys-grader mlsys-grader ...`), or the service may \
             not open the files SQLite creates next to it",
            path.display()
        ));
    }
    warnings
}
