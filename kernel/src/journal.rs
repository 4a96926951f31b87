//! The session journal: every lab event appended to
//! `$MLSYS_HOME/labs/<lab>/events.jsonl` and flushed to disk as it happens,
//! so a restarted kernel resumes where the student was.

use chrono::Utc;
use mlsys_model::record::{Event, EventKind};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
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
///
/// Every append and the repair on open hold an exclusive advisory lock on the
/// file, so two kernels of the same student never interleave their lines.
#[derive(Debug)]
pub struct Journal {
    lab: String,
    home: PathBuf,
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens (creating if needed) the journal of `lab` under `home`, returning it
    /// and the events already recorded.
    ///
    /// A torn last line (a crash mid-write, so never acknowledged) is copied to
    /// `events.jsonl.torn-<timestamp>` and cut off, so the next append starts on
    /// a line of its own. Complete lines that do not parse are skipped.
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
        let journal = Journal {
            lab: lab.to_string(),
            home: home.to_path_buf(),
            path,
            file,
        };
        journal.file.lock().map_err(|e| journal.io_err(e))?;
        let events = journal.repair_and_read();
        let unlocked = journal.file.unlock();
        let events = events?;
        unlocked.map_err(|e| journal.io_err(e))?;
        Ok((journal, events))
    }

    /// Reads the file; cuts off a torn tail after saving its bytes aside.
    fn repair_and_read(&self) -> Result<Vec<Event>, JournalError> {
        let bytes = std::fs::read(&self.path).map_err(|e| self.io_err(e))?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < bytes.len() {
            self.set_torn_tail_aside(&bytes[complete..])?;
            self.file
                .set_len(complete as u64)
                .and_then(|()| self.file.sync_all())
                .map_err(|e| self.io_err(e))?;
        }
        Ok(parse_lines(&bytes[..complete], &self.path))
    }

    fn set_torn_tail_aside(&self, torn: &[u8]) -> Result<(), JournalError> {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let aside = self
            .path
            .with_file_name(format!("events.jsonl.torn-{stamp}"));
        tracing::warn!(
            "journal {} ended in a torn line ({} bytes, never acknowledged); saved it to {}",
            self.path.display(),
            torn.len(),
            aside.display()
        );
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&aside)
            .and_then(|mut f| f.write_all(torn).and_then(|()| f.sync_all()))
            .map_err(|source| JournalError::Io {
                path: aside,
                source,
            })
    }

    /// Every event on disk now, in order (including those other kernels of the
    /// same student appended).
    pub fn events(&self) -> Result<Vec<Event>, JournalError> {
        self.file.lock_shared().map_err(|e| self.io_err(e))?;
        let bytes = std::fs::read(&self.path);
        let unlocked = self.file.unlock();
        let bytes = bytes.map_err(|e| self.io_err(e))?;
        unlocked.map_err(|e| self.io_err(e))?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        Ok(parse_lines(&bytes[..complete], &self.path))
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
        self.file.lock().map_err(|e| self.io_err(e))?;
        let written = self.append_line(&line);
        let unlocked = self.file.unlock();
        written.and(unlocked).map_err(|e| self.io_err(e))?;
        Ok(event)
    }

    /// Appends `line` (under the lock) and syncs it. A torn tail another
    /// process left is ended first, so the line stays whole; a failed write
    /// (a full disk) is cut back off, so no partial line stays behind.
    fn append_line(&mut self, line: &str) -> io::Result<()> {
        let len = self.file.metadata()?.len();
        let mut last = [b'\n'];
        if len > 0 {
            self.file.read_exact_at(&mut last, len - 1)?;
        }
        let start = if last[0] == b'\n' { "" } else { "\n" };
        let written = self
            .file
            .write_all(format!("{start}{line}").as_bytes())
            .and_then(|()| self.file.sync_data());
        if written.is_err() {
            let _ = self.file.set_len(len);
        }
        written
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `MLSYS_HOME` this journal lives under.
    pub fn home(&self) -> &Path {
        &self.home
    }

    fn io_err(&self, source: io::Error) -> JournalError {
        JournalError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// Parses complete journal lines; a line that does not parse is skipped with a warning.
fn parse_lines(bytes: &[u8], path: &Path) -> Vec<Event> {
    let mut events = Vec::new();
    for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Event>(line) {
            Ok(event) => events.push(event),
            Err(error) => tracing::warn!(
                "skipping line {} of {}: not an event ({error})",
                number + 1,
                path.display()
            ),
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lab id no lab has: the journal does not care which lab it logs.
    const LAB: &str = "t_lab";

    fn temp_home() -> PathBuf {
        std::env::temp_dir().join(format!("mlsys-journal-{}", Uuid::now_v7()))
    }

    fn context(id: &str) -> EventKind {
        EventKind::ContextSet {
            context: id.to_string(),
        }
    }

    #[test]
    fn a_torn_tail_is_set_aside_and_the_next_append_starts_a_fresh_line() {
        let home = temp_home();
        let (mut journal, events) = Journal::open(&home, LAB).unwrap();
        assert!(events.is_empty());
        assert_eq!(journal.home(), home);
        let first = journal.record(context("first")).unwrap();
        let path = journal.path().to_path_buf();
        drop(journal);
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\": \"torn")
            .unwrap();

        let (mut journal, events) = Journal::open(&home, LAB).unwrap();
        assert_eq!(events, vec![first.clone()]);
        let second = journal.record(context("second")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text
            .lines()
            .all(|l| serde_json::from_str::<Event>(l).is_ok()));
        assert_eq!(
            journal.events().unwrap(),
            vec![first.clone(), second.clone()]
        );

        let torn: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("events.jsonl.torn-"))
            .collect();
        assert_eq!(torn.len(), 1);
        assert_eq!(std::fs::read(&torn[0]).unwrap(), b"{\"id\": \"torn");
        let (_, events) = Journal::open(&home, LAB).unwrap();
        assert_eq!(events, vec![first, second]);
        std::fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn a_torn_tail_left_while_open_is_ended_before_the_next_append() {
        let home = temp_home();
        let (mut journal, _) = Journal::open(&home, LAB).unwrap();
        let first = journal.record(context("first")).unwrap();
        OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap()
            .write_all(b"{\"torn by another kernel")
            .unwrap();
        let second = journal.record(context("second")).unwrap();
        assert_eq!(journal.events().unwrap(), vec![first, second]);
        std::fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn complete_lines_that_do_not_parse_are_skipped() {
        let home = temp_home();
        let (mut journal, _) = Journal::open(&home, LAB).unwrap();
        let path = journal.path().to_path_buf();
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"not json\n\n")
            .unwrap();
        let event = journal.record(context("first")).unwrap();
        let (_, events) = Journal::open(&home, LAB).unwrap();
        assert_eq!(events, vec![event]);
        std::fs::remove_dir_all(home).unwrap();
    }
}
