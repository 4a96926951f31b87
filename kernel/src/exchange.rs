//! Hands a [`Submission`] in: writes it to the exchange directory
//! (`$MLSYS_EXCHANGE`, default `$MLSYS_HOME/outbox/`) as
//! `<lab>-<student>-<uuid>.json`.
//!
//! The exchange may be a shared course folder, so the kernel creates nothing
//! outside it and never overwrites a file: the submission is written to a
//! hidden temp file in the exchange, synced, then hard-linked to its final
//! name (which fails if the name exists) and the temp name removed.
//!
//! The file's mode is set, whatever the student's umask: in a course exchange
//! readable by the grader (`0644`; `0640` when the directory is setgid, so its
//! group, the grader's, reads it and other students cannot), in the student's
//! own outbox private (`0600`).

use mlsys_model::receipt::SubmissionSummary;
use mlsys_model::record::Submission;
use mlsys_model::Labs;
use sha2::{Digest, Sha256};
use std::fs::{OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Longest student id kept in a file name.
const MAX_ID_LEN: usize = 64;

/// Why a submission could not be handed in.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// A configured exchange directory does not exist.
    #[error("the exchange directory {0} (MLSYS_EXCHANGE) does not exist; ask course staff where to hand in")]
    Missing(PathBuf),
    /// The file system refused.
    #[error("cannot write the submission to {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// Where submissions go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    dir: PathBuf,
    /// Whether the kernel may create `dir` (only its own default outbox).
    create: bool,
}

/// A submission on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The submission's file.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// The file's size in bytes.
    pub bytes: usize,
}

impl Exchange {
    /// `$MLSYS_EXCHANGE` if set (it must exist), else `home/outbox` (created if needed).
    pub fn from_env(home: &Path) -> Self {
        match std::env::var_os("MLSYS_EXCHANGE") {
            Some(dir) if !dir.is_empty() => Exchange {
                dir: PathBuf::from(dir),
                create: false,
            },
            _ => Exchange::outbox(home),
        }
    }

    /// The default outbox under `home`.
    pub fn outbox(home: &Path) -> Self {
        Exchange {
            dir: home.join("outbox"),
            create: true,
        }
    }

    /// Writes `submission` as a new file; never replaces an existing one.
    pub fn deliver(&self, submission: &Submission) -> Result<Delivered, ExchangeError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ExchangeError::Io { path, source }
        };
        if self.create {
            std::fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))?;
        } else if !self.dir.is_dir() {
            return Err(ExchangeError::Missing(self.dir.clone()));
        }
        let name = format!(
            "{}-{}-{}.json",
            submission.lab,
            file_safe(&submission.student),
            submission.id
        );
        let path = self.dir.join(&name);
        let bytes = submission_bytes(submission);
        let mode = self.file_mode().map_err(io_err(&self.dir))?;
        publish(&self.dir, &name, &bytes, mode).map_err(io_err(&path))?;
        Ok(Delivered {
            path,
            sha256: sha256_hex(&bytes),
            bytes: bytes.len(),
        })
    }
}

impl Exchange {
    /// The mode of a submission file here: private in the student's own
    /// outbox; in a course exchange readable by the grader, through the
    /// directory's group when it is setgid, else by all (the exchange itself
    /// cannot be listed, and names hold a random id).
    fn file_mode(&self) -> io::Result<u32> {
        if self.create {
            return Ok(0o600);
        }
        let setgid = std::fs::metadata(&self.dir)?.permissions().mode() & 0o2000 != 0;
        Ok(if setgid { 0o640 } else { 0o644 })
    }
}

/// A submission as handed in (to the exchange or the grader service): pretty
/// JSON and a final newline.
pub fn submission_bytes(submission: &Submission) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(submission).expect("submissions serialize");
    bytes.push(b'\n');
    bytes
}

/// Writes `bytes` to `dir/name` with `mode`, atomically where the file
/// system allows hard links, and never over an existing file.
fn publish(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> io::Result<()> {
    let final_path = dir.join(name);
    let temp = dir.join(format!(".{name}.part"));
    write_new(&temp, bytes, mode)?;
    let linked = std::fs::hard_link(&temp, &final_path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
        // No hard links here (some shared file systems): still create-new.
        Err(_) => write_new(&final_path, bytes, mode)?,
    }
    crate::ledger_file::sync_dir(dir)
}

/// Creates `path` (failing if it exists) with exactly `mode` (the umask
/// aside), writes `bytes` and syncs them.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode & 0o600)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(mode))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Reads a submission file and checks it with the lab it names among `labs`
/// (types, schema, lab, replay of its log, design); returns its summary with
/// the replayed session (what `mlsys-kernel check-submission FILE` prints).
pub fn check_submission_file(path: &Path, labs: &Labs) -> Result<SubmissionSummary, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let submission: Submission = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is not a submission: {e}", path.display()))?;
    let checked = labs
        .check(&submission)
        .map_err(|e| format!("{} is not a valid submission: {e}", path.display()))?;
    Ok(SubmissionSummary::of(
        &submission,
        sha256_hex(&bytes),
        checked,
    ))
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The student: `JUPYTERHUB_USER`, else the OS user (`USER`, `LOGNAME`), else `unknown`.
pub fn student_id() -> String {
    ["JUPYTERHUB_USER", "USER", "LOGNAME"]
        .iter()
        .filter_map(std::env::var_os)
        .map(|v| v.to_string_lossy().trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// A student id made safe for a file name: ASCII letters, digits, `.`, `_`
/// and `-` kept, anything else `_`, no leading dot, at most 64 characters.
pub fn file_safe(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_ID_LEN)
        .collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        "unknown".to_string()
    } else {
        safe.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TallySession, TALLY};
    use chrono::Utc;
    use mlsys_model::record::SUBMISSION_SCHEMA_VERSION;
    use mlsys_model::LabSession;
    use uuid::Uuid;

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("mlsys-exchange-{}", Uuid::now_v7()))
    }

    fn submission(student: &str) -> Submission {
        Submission {
            schema_version: SUBMISSION_SCHEMA_VERSION,
            id: Uuid::now_v7(),
            lab: TallySession::LAB_ID.into(),
            student: student.into(),
            created_at: Utc::now(),
            kernel_version: "0.1.0".into(),
            events: Vec::new(),
            design: None,
        }
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_safe("ada"), "ada");
        assert_eq!(file_safe("ada.l@uni.edu"), "ada.l_uni.edu");
        assert_eq!(file_safe("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_safe("..."), "unknown");
        assert_eq!(file_safe(""), "unknown");
        assert_eq!(file_safe("名前"), "__");
        assert_eq!(file_safe(&"x".repeat(200)).len(), MAX_ID_LEN);
        assert_eq!(sha256_hex(b"abc").len(), 64);
        assert!(sha256_hex(b"abc").starts_with("ba7816bf"));
    }

    #[test]
    fn delivers_new_files_only_and_leaves_nothing_else() {
        let home = temp_dir();
        let outbox = Exchange::outbox(&home);
        let sub = submission("../ada");
        let delivered = outbox.deliver(&sub).unwrap();
        assert_eq!(delivered.path.parent(), Some(home.join("outbox").as_path()));
        let name = delivered.path.file_name().unwrap().to_string_lossy();
        assert_eq!(name, format!("t_tally-_ada-{}.json", sub.id));
        let bytes = std::fs::read(&delivered.path).unwrap();
        assert_eq!(sha256_hex(&bytes), delivered.sha256);
        assert_eq!(bytes.len(), delivered.bytes);
        let back: Submission = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, sub);

        std::fs::write(&delivered.path, b"the grader's copy").unwrap();
        assert!(matches!(
            outbox.deliver(&sub),
            Err(ExchangeError::Io { .. })
        ));
        assert_eq!(
            std::fs::read(&delivered.path).unwrap(),
            b"the grader's copy"
        );
        assert_eq!(std::fs::read_dir(home.join("outbox")).unwrap().count(), 1);
        std::fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn check_submission_replays_the_file_with_its_lab_and_rejects_bad_ones() {
        let home = temp_dir();
        let labs = Labs::new([&TALLY as &dyn mlsys_model::Lab]);
        let delivered = Exchange::outbox(&home).deliver(&submission("ada")).unwrap();
        let summary = check_submission_file(&delivered.path, &labs).unwrap();
        assert_eq!(summary.student, "ada");
        assert_eq!(summary.lab, TallySession::LAB_ID);
        assert_eq!(summary.sha256, delivered.sha256);
        assert_eq!(summary.events, 0);
        assert_eq!(summary.missing, TallySession::default().missing());
        assert_eq!(summary.session["total"], 0);

        let bad = home.join("bad.json");
        for (contents, expected) in [
            (&b"{"[..], "is not a submission"),
            (&br#"{"schema_version": 1}"#[..], "is not a submission"),
        ] {
            std::fs::write(&bad, contents).unwrap();
            let error = check_submission_file(&bad, &labs).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
        let mut other_lab = submission("ada");
        other_lab.lab = "t_other".into();
        std::fs::write(&bad, serde_json::to_vec(&other_lab).unwrap()).unwrap();
        let error = check_submission_file(&bad, &labs).unwrap_err();
        assert!(
            error.contains("lab t_other, which this build does not know"),
            "{error}"
        );
        assert!(check_submission_file(&home.join("absent.json"), &labs).is_err());
        std::fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn files_get_the_mode_of_where_they_go_whatever_the_umask() {
        let dir = temp_dir();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
        let own = Exchange::outbox(&dir).deliver(&submission("ada")).unwrap();
        assert_eq!(
            mode(&own.path),
            0o600,
            "the student's own outbox is private"
        );
        for (dir_mode, file_mode) in [(0o1733, 0o644), (0o3773, 0o640)] {
            let shared = dir.join(format!("exchange-{dir_mode:o}"));
            std::fs::create_dir(&shared).unwrap();
            std::fs::set_permissions(&shared, Permissions::from_mode(dir_mode)).unwrap();
            let exchange = Exchange {
                dir: shared,
                create: false,
            };
            let delivered = exchange.deliver(&submission("ada")).unwrap();
            assert_eq!(
                mode(&delivered.path),
                file_mode,
                "in a {dir_mode:o} exchange"
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_configured_exchange_must_exist() {
        let dir = temp_dir();
        let shared = Exchange {
            dir: dir.join("exchange"),
            create: false,
        };
        assert!(matches!(
            shared.deliver(&submission("ada")),
            Err(ExchangeError::Missing(_))
        ));
        assert!(!dir.exists(), "nothing is created outside the exchange");
    }

    #[test]
    fn without_hard_links_the_file_is_still_created_new() {
        let dir = temp_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.json");
        write_new(&path, b"one", 0o644).unwrap();
        assert_eq!(
            write_new(&path, b"two", 0o644).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
