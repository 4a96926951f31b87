//! The session journal: every lab event appended to
//! `$MLSYS_HOME/labs/<lab>/events.jsonl` and flushed to disk as it happens,
//! so a restarted kernel resumes where the student was.

use chrono::Utc;
use mlsys_model::record::{Event, EventKind};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The kernel version stamped on every event.
pub const KERNEL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file system refused.
    #[error("cannot use the lab journal {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The directory for per-student files: `$MLSYS_HOME`, else `~/.mlsys`.
pub fn mlsys_home() -> PathBuf {
    match std::env::var_os("MLSYS_HOME") {
        Some(home) if !home.is_empty() => PathBuf::from(home),
        _ => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".mlsys"),
    }
}

/// An append-only, fsync'd log of one lab's events.
#[derive(Debug)]
pub struct Journal {
    lab: String,
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens (creating if needed) the journal of `lab` under `home`, returning it
    /// and the events already recorded. A torn last line (a crash mid-write) is
    /// skipped; it was never acknowledged.
    pub fn open(home: &Path, lab: &str) -> Result<(Journal, Vec<Event>), JournalError> {
        let dir = home.join("labs").join(lab);
        let path = dir.join("events.jsonl");
        let io_err = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io_err)?;
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io_err)?;
        let mut events = Vec::new();
        for line in BufReader::new(&file).lines() {
            let line = line.map_err(io_err)?;
            if let Ok(event) = serde_json::from_str::<Event>(&line) {
                events.push(event);
            }
        }
        let journal = Journal {
            lab: lab.to_string(),
            path,
            file,
        };
        Ok((journal, events))
    }

    /// Stamps `kind` (UUID v7, UTC now, lab, kernel version), appends it and
    /// syncs it to disk before returning it.
    pub fn record(&mut self, kind: EventKind) -> Result<Event, JournalError> {
        let event = Event {
            id: Uuid::now_v7(),
            at: Utc::now(),
            lab: self.lab.clone(),
            kernel_version: KERNEL_VERSION.to_string(),
            kind,
        };
        let mut line = serde_json::to_string(&event).expect("events serialize");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|source| JournalError::Io {
                path: self.path.clone(),
                source,
            })?;
        Ok(event)
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlsys_model::{Act, Choice};

    #[test]
    fn records_survive_reopen_and_torn_lines_are_skipped() {
        let home = std::env::temp_dir().join(format!("mlsys-journal-{}", Uuid::now_v7()));
        let (mut journal, events) = Journal::open(&home, "v2_04").unwrap();
        assert!(events.is_empty());
        let kind = EventKind::PredictionLocked {
            act: Act::Act1,
            choice: Choice::B,
        };
        let recorded = journal.record(kind).unwrap();
        let path = journal.path().to_path_buf();
        drop(journal);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\": \"torn")
            .unwrap();
        let (_, events) = Journal::open(&home, "v2_04").unwrap();
        assert_eq!(events, vec![recorded]);
        std::fs::remove_dir_all(home).unwrap();
    }
}
