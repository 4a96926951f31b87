//! The design ledger on disk (`$MLSYS_HOME/ledger.json`), safe against crashes,
//! concurrent notebooks and corrupt files.
//!
//! Every read-modify-write holds an exclusive advisory lock on
//! `ledger.json.lock`, and every write goes to a temp file in the same
//! directory that is synced and renamed over the ledger (then the directory
//! is synced). A ledger that cannot be parsed is renamed to
//! `ledger.json.corrupt-<timestamp>`; nothing is ever deleted.

use chrono::Utc;
use mlsys_model::ledger::Ledger;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use uuid::Uuid;

const LEDGER_NAME: &str = "ledger.json";
const TEMP_PREFIX: &str = ".ledger.json.tmp-";

/// Why the ledger could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the design ledger {path}: {source}")]
pub struct LedgerFileError {
    /// The file involved.
    pub path: PathBuf,
    /// The cause.
    pub source: io::Error,
}

/// A ledger as read from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The ledger (empty when there was none, or it was corrupt).
    pub ledger: Ledger,
    /// Where an unreadable ledger was moved, if it was.
    pub moved_aside: Option<PathBuf>,
}

/// The ledger file of one `MLSYS_HOME`.
#[derive(Debug, Clone)]
pub struct LedgerFile {
    dir: PathBuf,
    path: PathBuf,
}

/// An exclusive lock on the ledger, released on drop.
struct LedgerLock(File);

impl Drop for LedgerLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl LedgerFile {
    /// The ledger under `home` (`home/ledger.json`).
    pub fn in_home(home: &Path) -> Self {
        LedgerFile {
            dir: home.to_path_buf(),
            path: home.join(LEDGER_NAME),
        }
    }

    /// The ledger's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the ledger; a missing file is an empty ledger, an unreadable one
    /// is moved aside (and reported in [`Loaded::moved_aside`]).
    pub fn load(&self) -> Result<Loaded, LedgerFileError> {
        let _lock = self.lock()?;
        self.read_or_set_aside()
    }

    /// Applies `change` to the ledger and writes it atomically, all under the
    /// lock; returns the ledger written.
    pub fn update(&self, change: impl FnOnce(&mut Ledger)) -> Result<Loaded, LedgerFileError> {
        let _lock = self.lock()?;
        self.remove_stale_temp_files();
        let mut loaded = self.read_or_set_aside()?;
        change(&mut loaded.ledger);
        self.write_atomically(&loaded.ledger)?;
        Ok(loaded)
    }

    fn err(&self, path: &Path) -> impl FnOnce(io::Error) -> LedgerFileError {
        let path = path.to_path_buf();
        move |source| LedgerFileError { path, source }
    }

    fn lock(&self) -> Result<LedgerLock, LedgerFileError> {
        let lock_path = self.dir.join(format!("{LEDGER_NAME}.lock"));
        std::fs::create_dir_all(&self.dir).map_err(self.err(&self.dir))?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(self.err(&lock_path))?;
        file.lock().map_err(self.err(&lock_path))?;
        Ok(LedgerLock(file))
    }

    fn read_or_set_aside(&self) -> Result<Loaded, LedgerFileError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Loaded {
                    ledger: Ledger::default(),
                    moved_aside: None,
                })
            }
            Err(e) => return Err(self.err(&self.path)(e)),
        };
        match serde_json::from_slice::<Ledger>(&bytes) {
            Ok(ledger) => Ok(Loaded {
                ledger,
                moved_aside: None,
            }),
            Err(error) => {
                let aside = self.set_aside()?;
                tracing::warn!(
                    "design ledger {} is not readable ({error}); moved it to {}",
                    self.path.display(),
                    aside.display()
                );
                Ok(Loaded {
                    ledger: Ledger::default(),
                    moved_aside: Some(aside),
                })
            }
        }
    }

    /// Renames the ledger to a `corrupt-<timestamp>` name no file has yet.
    fn set_aside(&self) -> Result<PathBuf, LedgerFileError> {
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut aside = self.dir.join(format!("{LEDGER_NAME}.corrupt-{stamp}"));
        let mut n = 1;
        while aside.exists() {
            n += 1;
            aside = self.dir.join(format!("{LEDGER_NAME}.corrupt-{stamp}-{n}"));
        }
        std::fs::rename(&self.path, &aside).map_err(self.err(&self.path))?;
        sync_dir(&self.dir).map_err(self.err(&self.dir))?;
        Ok(aside)
    }

    fn write_atomically(&self, ledger: &Ledger) -> Result<(), LedgerFileError> {
        let mut json = serde_json::to_string_pretty(ledger).expect("ledgers serialize");
        json.push('\n');
        let temp = self.dir.join(format!("{TEMP_PREFIX}{}", Uuid::new_v4()));
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .and_then(|mut f| f.write_all(json.as_bytes()).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&temp, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(self.err(&self.path)(e));
        }
        sync_dir(&self.dir).map_err(self.err(&self.dir))
    }

    /// Removes temp files a crashed writer left (never renamed, so never part
    /// of the ledger). Only called under the lock, when no writer is active.
    fn remove_stale_temp_files(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Syncs a directory, so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Journal;
    use mlsys_model::ledger::{ChapterId, Design};
    use mlsys_model::record::EventKind;
    use serde_json::json;
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    /// A chapter id no lab has: the ledger file does not care whose chapter it keeps.
    const CHAPTER: &str = "t_chapter";

    fn temp_home() -> PathBuf {
        std::env::temp_dir().join(format!("mlsys-ledger-{}", Uuid::now_v7()))
    }

    fn design(n: i64) -> Design {
        json!({ "gpu_count": n }).as_object().unwrap().clone()
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The child half of the process tests: when [`spawn_child`] started this
    /// test binary (`CHILD_HOME` is set), appends an event and saves chapter
    /// `<CHILD_TAG>` (or, with `CHILD_SAVES`, chapters `<tag>-<n>`) in a tight
    /// loop, printing an ACK line once each is durable, and returns `true`.
    /// In the parent it does nothing and returns `false`.
    fn child_half() -> bool {
        let Some(home) = std::env::var_os(CHILD_HOME).map(PathBuf::from) else {
            return false;
        };
        let tag = std::env::var(CHILD_TAG).unwrap();
        let saves: Option<i64> = std::env::var(CHILD_SAVES).ok().map(|n| n.parse().unwrap());
        let (mut journal, _) = Journal::open(&home, CHAPTER).unwrap();
        let file = LedgerFile::in_home(&home);
        let mut out = io::stdout().lock();
        for n in 0..saves.unwrap_or(i64::MAX) {
            if saves.is_none() {
                let event = journal
                    .record(EventKind::ContextSet {
                        context: "nvme".into(),
                    })
                    .unwrap();
                writeln!(out, "ACK event {}", event.id).unwrap();
                out.flush().unwrap();
            }
            let chapter = match saves {
                Some(_) => format!("{tag}-{n}"),
                None => tag.clone(),
            };
            file.update(|l| l.save_design(&chapter, design(n), format!("{n}")))
                .unwrap();
            writeln!(out, "ACK saved {chapter} {n}").unwrap();
            out.flush().unwrap();
        }
        true
    }

    const CHILD_HOME: &str = "MLSYS_TEST_CHILD_HOME";
    const CHILD_TAG: &str = "MLSYS_TEST_CHILD_TAG";
    const CHILD_SAVES: &str = "MLSYS_TEST_CHILD_SAVES";

    /// Runs the calling test again in a child process, as [`child_half`].
    fn spawn_child(home: &Path, tag: &str, saves: Option<usize>) -> std::process::Child {
        // libtest runs each test on a thread named after it.
        let test = std::thread::current().name().unwrap().to_string();
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_HOME, home)
            .env(CHILD_TAG, tag)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(saves) = saves {
            command.env(CHILD_SAVES, saves.to_string());
        }
        command.spawn().unwrap()
    }

    /// What a child acknowledged: event ids, and the last value saved per chapter.
    #[derive(Default)]
    struct Acks {
        events: Vec<Uuid>,
        saved: std::collections::BTreeMap<String, i64>,
        count: usize,
    }

    impl Acks {
        /// Reads one line of child output (libtest may print its own text first).
        fn take(&mut self, line: &str) {
            let Some(start) = line.find("ACK ") else {
                return;
            };
            let words: Vec<&str> = line[start..].split_whitespace().collect();
            match words.as_slice() {
                ["ACK", "event", id] => self.events.push(id.parse().unwrap()),
                ["ACK", "saved", chapter, n] => {
                    self.saved.insert(chapter.to_string(), n.parse().unwrap());
                }
                _ => return,
            }
            self.count += 1;
        }
    }

    #[test]
    fn kill_9_in_a_tight_save_loop_never_loses_an_acknowledged_write() {
        if child_half() {
            return;
        }
        const KILLS: u64 = 100;
        let home = temp_home();
        let mut acks = Acks::default();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for kill in 0..KILLS {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let wait_for = 1 + (seed >> 33) as usize % 12;
            let pause = Duration::from_micros((seed >> 13) % 3000);
            let mut child = spawn_child(&home, &format!("k{kill}"), None);
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let before = acks.count;
            while acks.count - before < wait_for {
                match lines.next() {
                    Some(line) => acks.take(&line.unwrap()),
                    None => panic!("child {kill} ended before it was killed"),
                }
            }
            std::thread::sleep(pause);
            child.kill().unwrap();
            let status = child.wait().unwrap();
            assert_eq!(status.signal(), Some(9), "child {kill}: {status}");
            for line in lines {
                acks.take(&line.unwrap());
            }

            let bytes = std::fs::read(home.join("ledger.json")).unwrap();
            let ledger: Ledger = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("after kill {kill} the ledger does not parse: {e}"));
            for (chapter, n) in &acks.saved {
                let saved = ledger.design(chapter).unwrap_or_else(|| {
                    panic!("after kill {kill}: acknowledged chapter {chapter} lost")
                });
                assert!(saved["gpu_count"].as_i64().unwrap() >= *n, "{chapter}");
            }
        }
        let (_, events) = Journal::open(&home, CHAPTER).unwrap();
        let on_disk: std::collections::HashSet<Uuid> = events.iter().map(|e| e.id).collect();
        assert!(acks.events.len() >= KILLS as usize);
        for id in &acks.events {
            assert!(on_disk.contains(id), "acknowledged event {id} lost");
        }
        let journal =
            std::fs::read_to_string(home.join("labs").join(CHAPTER).join("events.jsonl")).unwrap();
        assert!(journal.ends_with('\n'));
        assert_eq!(
            journal.lines().count(),
            events.len(),
            "every line is an event"
        );
        assert_eq!(LedgerFile::in_home(&home).load().unwrap().moved_aside, None);
        eprintln!(
            "kill -9: {KILLS} kills; {} acknowledged events and {} acknowledged saves, all on disk",
            acks.events.len(),
            acks.count - acks.events.len()
        );
        std::fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn two_processes_saving_at_once_lose_nothing() {
        if child_half() {
            return;
        }
        const SAVES: usize = 40;
        let home = temp_home();
        let children: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|tag| spawn_child(&home, tag, Some(SAVES)))
            .collect();
        for mut child in children {
            let mut acks = Acks::default();
            for line in BufReader::new(child.stdout.take().unwrap()).lines() {
                acks.take(&line.unwrap());
            }
            assert!(child.wait().unwrap().success());
            assert_eq!(acks.count, SAVES);
        }
        let ledger = LedgerFile::in_home(&home).load().unwrap().ledger;
        assert_eq!(ledger.history.len(), 2 * SAVES);
        for tag in ["a", "b"] {
            for n in 0..SAVES {
                let design = ledger.design(&format!("{tag}-{n}")).unwrap();
                assert_eq!(design["gpu_count"], n as i64);
            }
        }
        std::fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn saves_replace_the_chapter_and_leave_no_temp_files() {
        let home = temp_home();
        let file = LedgerFile::in_home(&home);
        assert_eq!(file.load().unwrap().ledger, Ledger::default());
        for n in 0..3 {
            file.update(|l| l.save_design(CHAPTER, design(n), format!("t{n}")))
                .unwrap();
        }
        let ledger = file.load().unwrap().ledger;
        assert_eq!(ledger.history.len(), 1);
        assert_eq!(ledger.design(CHAPTER), Some(&design(2)));
        assert_eq!(files_in(&home), ["ledger.json", "ledger.json.lock"]);
        std::fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn corrupt_ledgers_are_moved_aside_and_a_new_one_works() {
        for (case, bytes) in [
            (
                "truncated",
                &b"{\"track\": null, \"current_chapter\": \"t_chapter\", \"hist"[..],
            ),
            ("not json", &b"\x00\x01 garbage"[..]),
            ("empty", &b""[..]),
            (
                "wrong shape: history",
                &br#"{"history": {"t_chapter": 3}}"#[..],
            ),
            ("wrong shape: array", &b"[1, 2, 3]"[..]),
            (
                "wrong shape: entry",
                &br#"{"history": [{"chapter": "t_chapter"}]}"#[..],
            ),
        ] {
            let home = temp_home();
            std::fs::create_dir_all(&home).unwrap();
            std::fs::write(home.join("ledger.json"), bytes).unwrap();
            let file = LedgerFile::in_home(&home);
            let loaded = file.load().unwrap();
            let aside = loaded.moved_aside.expect(case);
            assert_eq!(loaded.ledger, Ledger::default(), "{case}");
            assert_eq!(std::fs::read(&aside).unwrap(), bytes, "{case}");
            assert!(aside
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ledger.json.corrupt-"));

            std::fs::write(home.join("ledger.json"), bytes).unwrap();
            let saved = file
                .update(|l| l.save_design(CHAPTER, design(7), "t".into()))
                .unwrap();
            let second = saved.moved_aside.expect(case);
            assert_ne!(second, aside, "{case}: never overwrite an earlier copy");
            assert_eq!(std::fs::read(&second).unwrap(), bytes, "{case}");
            let again = file.load().unwrap();
            assert_eq!(again.moved_aside, None, "{case}");
            assert_eq!(again.ledger.design(CHAPTER), Some(&design(7)), "{case}");
            std::fs::remove_dir_all(home).unwrap();
        }
    }

    #[test]
    fn seed_python_ledgers_are_read_and_extended() {
        let home = temp_home();
        std::fs::create_dir_all(&home).unwrap();
        let file = LedgerFile::in_home(&home);

        std::fs::write(
            file.path(),
            include_str!("../tests/fixtures/seed_ledger_fresh.json"),
        )
        .unwrap();
        let loaded = file.load().unwrap();
        assert_eq!(loaded.moved_aside, None);
        assert_eq!(loaded.ledger.current_chapter, ChapterId::Number(0));
        let saved = file
            .update(|l| l.save_design(CHAPTER, design(1), "t1".into()))
            .unwrap();
        assert_eq!(saved.ledger.history.len(), 1);

        let fixture = include_str!("../tests/fixtures/seed_ledger_rerun.json");
        std::fs::write(file.path(), fixture).unwrap();
        let before: serde_json::Value = serde_json::from_str(fixture).unwrap();
        let chapter = |at: usize| before["history"][at]["chapter"].as_str().unwrap();
        // The seed saved its second chapter three times over; one save collapses them.
        let repeated = chapter(1);
        assert_eq!((chapter(2), chapter(3)), (repeated, repeated));
        file.update(|l| l.save_design(repeated, design(9), "t2".into()))
            .unwrap();
        let after: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
        let chapters: Vec<&str> = after["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["chapter"].as_str().unwrap())
            .collect();
        assert_eq!(chapters, [chapter(0), repeated, chapter(4)]);
        assert_eq!(after["history"][0], before["history"][0]);
        assert_eq!(after["history"][1]["design"], json!({"gpu_count": 9}));
        assert_eq!(after["history"][2], before["history"][4]);
        assert_eq!(after["track"], before["track"]);
        assert_eq!(after["current_chapter"], repeated);
        assert_eq!(after["last_updated"], "t2");
        std::fs::remove_dir_all(home).unwrap();
    }
}
