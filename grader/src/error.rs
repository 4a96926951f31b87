//! The grader's one error type: what went wrong, in words an instructor can act on.

use std::path::PathBuf;

/// Why a grader command failed. Bad submissions are not errors: they are quarantined.
#[derive(Debug, thiserror::Error)]
pub enum GraderError {
    /// The database could not be opened, migrated, read or written.
    #[error("database {path}: {source}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The database was written by a newer grader.
    #[error("database {path} has schema version {found}; this grader knows up to {known}: upgrade mlsys-grader")]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest version this grader migrates to.
        known: i64,
    },
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The rubric is not valid TOML or breaks a rule.
    #[error("rubric {path}: {message}")]
    Rubric {
        /// The rubric file (or `<built-in>`).
        path: String,
        /// What is wrong, with its location.
        message: String,
    },
    /// The command needs something done first (e.g. `score` before `export`).
    #[error("{0}")]
    Precondition(String),
    /// Writing an export failed.
    #[error("export: {0}")]
    Export(String),
}

impl GraderError {
    /// Wraps a SQLite error for the database at `path`.
    pub fn db(path: &std::path::Path) -> impl FnOnce(rusqlite::Error) -> GraderError + '_ {
        move |source| GraderError::Database {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether this is a database another writer kept busy (or locked) for
    /// longer than the busy wait: worth retrying later, not a fault.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            GraderError::Database {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            )
        )
    }

    /// Wraps an I/O error for `path`.
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> GraderError + '_ {
        move |source| GraderError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
