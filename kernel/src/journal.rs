//! The session journal: every lab event appended to
//! `$MLSYS_HOME/labs/<lab>/events.jsonl` and flushed to disk as it happens,
//! so a restarted kernel resumes where the student was.
//!
//! Several kernels of one student may share a journal (two notebooks of the
//! same lab). Every append is a [`Transaction`]: under the file's exclusive
//! lock it first reads what the others appended since this kernel last read,
//! so the caller checks its event against the whole journal, and the event is
//! stamped under the lock, never earlier than the event before it.

use chrono::{DateTime, Utc};
use mlsys_model::record::{Event, EventKind};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
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
/// file, so two kernels of the same student never interleave their lines, and
/// each append sees every event before it.
#[derive(Debug)]
pub struct Journal {
    lab: String,
    home: PathBuf,
    path: PathBuf,
    file: File,
    /// Bytes read so far: always the end of a complete line.
    read_to: u64,
    /// Events read or appended so far.
    len: usize,
    /// The time of the last event read or appended.
    last_at: Option<DateTime<Utc>>,
}

/// An append in progress: holds the journal's exclusive lock (released when
/// dropped) and what other kernels appended since this one last read.
#[must_use = "a transaction appends nothing until `append` is called"]
pub struct Transaction<'j> {
    journal: &'j mut Journal,
    news: News,
}

/// What a read under the lock found.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum News {
    /// Nothing new.
    #[default]
    Nothing,
    /// Events appended by other kernels, in order.
    Appended(Vec<Event>),
    /// The file shrank (it was edited or replaced): every event it holds now.
    Rewritten(Vec<Event>),
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
        let path = Journal::path_in(home, lab);
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
        let mut journal = Journal {
            lab: lab.to_string(),
            home: home.to_path_buf(),
            path,
            file,
            read_to: 0,
            len: 0,
            last_at: None,
        };
        journal.file.lock().map_err(|e| journal.io_err(e))?;
        let events = journal.repair_and_read();
        let unlocked = journal.file.unlock();
        let events = events?;
        unlocked.map_err(|e| journal.io_err(e))?;
        Ok((journal, events))
    }

    /// Where the journal of `lab` under `home` is.
    pub fn path_in(home: &Path, lab: &str) -> PathBuf {
        home.join("labs").join(lab).join("events.jsonl")
    }

    /// Reads the file; cuts off a torn tail after saving its bytes aside.
    fn repair_and_read(&mut self) -> Result<Vec<Event>, JournalError> {
        let bytes = std::fs::read(&self.path).map_err(|e| self.io_err(e))?;
        let complete = complete_lines(&bytes);
        if complete < bytes.len() {
            self.set_torn_tail_aside(&bytes[complete..])?;
            self.file
                .set_len(complete as u64)
                .and_then(|()| self.file.sync_all())
                .map_err(|e| self.io_err(e))?;
        }
        let events = parse_lines(&bytes[..complete], &self.path);
        self.read_to = complete as u64;
        self.note_read(&events);
        Ok(events)
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
        Ok(parse_lines(&bytes[..complete_lines(&bytes)], &self.path))
    }

    /// Takes the journal's exclusive lock and reads what other kernels
    /// appended since this one last read (see [`Transaction`]).
    pub fn begin(&mut self) -> Result<Transaction<'_>, JournalError> {
        self.file.lock().map_err(|e| self.io_err(e))?;
        match self.read_news() {
            Ok(news) => Ok(Transaction {
                journal: self,
                news,
            }),
            Err(error) => {
                let _ = self.file.unlock();
                Err(self.io_err(error))
            }
        }
    }

    /// Stamps `kind`, appends it and syncs it to disk before returning it (a
    /// [`Transaction`] whose news is ignored).
    pub fn record(&mut self, kind: EventKind) -> Result<Event, JournalError> {
        self.begin()?.append(kind)
    }

    /// The complete lines appended after `read_to` (call with the lock held).
    fn read_news(&mut self) -> io::Result<News> {
        let len = self.file.metadata()?.len();
        if len == self.read_to {
            return Ok(News::Nothing);
        }
        let mut reader = &self.file;
        let rewritten = len < self.read_to;
        let start = if rewritten { 0 } else { self.read_to };
        reader.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        reader.take(len - start).read_to_end(&mut bytes)?;
        let complete = complete_lines(&bytes);
        let events = parse_lines(&bytes[..complete], &self.path);
        self.read_to = start + complete as u64;
        if rewritten {
            self.len = 0;
            self.last_at = None;
        }
        self.note_read(&events);
        Ok(match (rewritten, events.is_empty()) {
            (true, _) => News::Rewritten(events),
            (false, true) => News::Nothing,
            (false, false) => News::Appended(events),
        })
    }

    fn note_read(&mut self, events: &[Event]) {
        self.len += events.len();
        if let Some(last) = events.last() {
            self.last_at = Some(last.at);
        }
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
        match written {
            Ok(()) => {
                self.read_to = len + (start.len() + line.len()) as u64;
                Ok(())
            }
            Err(error) => {
                let _ = self.file.set_len(len);
                Err(error)
            }
        }
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `MLSYS_HOME` this journal lives under.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// How many events this kernel has read or appended (the journal's events
    /// as of its last read).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the journal held no event at its last read.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn io_err(&self, source: io::Error) -> JournalError {
        JournalError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

impl Transaction<'_> {
    /// What other kernels appended since this kernel last read.
    pub fn news(&self) -> &News {
        &self.news
    }

    /// Stamps `kind` (UUID v7; now, but never earlier than the last event;
    /// lab; kernel version), appends it, syncs it, and releases the lock.
    pub fn append(self, kind: EventKind) -> Result<Event, JournalError> {
        let now = Utc::now();
        let event = Event {
            id: Uuid::now_v7(),
            at: self.journal.last_at.map_or(now, |last| last.max(now)),
            lab: self.journal.lab.clone(),
            kernel_version: KERNEL_VERSION.to_string(),
            kind,
        };
        let mut line = serde_json::to_string(&event).expect("events serialize");
        line.push('\n');
        self.journal
            .append_line(&line)
            .map_err(|e| self.journal.io_err(e))?;
        self.journal.len += 1;
        self.journal.last_at = Some(event.at);
        Ok(event)
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if let Err(error) = self.journal.file.unlock() {
            tracing::warn!("cannot unlock {}: {error}", self.journal.path.display());
        }
    }
}

/// The length of the complete lines at the start of `bytes`.
pub fn complete_lines(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

/// Parses complete journal lines; a line that does not parse is skipped with a warning.
pub fn parse_lines(bytes: &[u8], path: &Path) -> Vec<Event> {
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

    #[test]
    fn an_append_reads_what_another_kernel_appended_and_is_never_dated_before_it() {
        let home = temp_home();
        let (mut mine, _) = Journal::open(&home, LAB).unwrap();
        let (mut theirs, _) = Journal::open(&home, LAB).unwrap();
        let first = mine.record(context("first")).unwrap();
        // The other kernel's clock runs an hour ahead.
        let ahead = Event {
            at: Utc::now() + chrono::Duration::hours(1),
            ..theirs.record(context("second")).unwrap()
        };
        let mut line = serde_json::to_string(&ahead).unwrap();
        line.push('\n');
        let text = std::fs::read_to_string(mine.path()).unwrap();
        let last_line = text.lines().last().unwrap().len() + 1;
        std::fs::write(
            mine.path(),
            format!("{}{line}", &text[..text.len() - last_line]),
        )
        .unwrap();

        let transaction = mine.begin().unwrap();
        assert_eq!(transaction.news(), &News::Appended(vec![ahead.clone()]));
        let third = transaction.append(context("third")).unwrap();
        assert_eq!(
            third.at, ahead.at,
            "stamped no earlier than the event before"
        );
        assert_eq!(mine.len(), 3);
        assert!(matches!(mine.begin().unwrap().news(), News::Nothing));
        assert_eq!(mine.events().unwrap(), vec![first, ahead, third]);
        std::fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn a_journal_that_shrank_is_read_again_from_its_start() {
        let home = temp_home();
        let (mut journal, _) = Journal::open(&home, LAB).unwrap();
        let first = journal.record(context("first")).unwrap();
        journal.record(context("second")).unwrap();
        let text = std::fs::read_to_string(journal.path()).unwrap();
        let first_line = text.lines().next().unwrap();
        std::fs::write(journal.path(), format!("{first_line}\n")).unwrap();
        let transaction = journal.begin().unwrap();
        assert_eq!(transaction.news(), &News::Rewritten(vec![first]));
        drop(transaction);
        assert_eq!(journal.len(), 1);
        std::fs::remove_dir_all(home).unwrap();
    }
}
