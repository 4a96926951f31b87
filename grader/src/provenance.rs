//! Who handed a submission in and when, from what the student cannot set.
//!
//! A submission the service received is the authenticated Hub user's, at the
//! service's receive time. An exchange file is its owner's: the owner's uid is
//! named by the system's user database (or the instructor's `--users` map),
//! and must be the student the file names; its time is its status-change time
//! (ctime) as ingest first reads it, which no user can move back. Files
//! collected by other means (`ingest --unverified`) keep the student and time
//! they state, and are flagged `unverified`.

use crate::error::GraderError;
use crate::rejection::{Reason, Rejected, Rejection};
use crate::source::FileFacts;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use nix::unistd::{Uid, User};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// How far a file's ctime may be ahead of ingest's clock (a file server's
/// clock a little ahead); later is out of range.
const CLOCK_SKEW_SECS: i64 = 300;

/// How ingest treats the owner and times of the files it reads.
#[derive(Debug, Clone)]
pub enum FileTrust {
    /// A file must be owned by the student it names; its time is its ctime.
    Verify(Users),
    /// The files were collected by other means: student and time are the
    /// file's own (`--unverified`).
    Unverified,
}

/// Names of user ids: the system's user database (each uid looked up once per
/// run: it may be a directory service), or the instructor's map.
#[derive(Debug, Clone, Default)]
pub struct Users {
    map: Option<HashMap<u32, String>>,
    looked_up: Arc<Mutex<HashMap<u32, Option<String>>>>,
}

impl Users {
    /// The system's user database (`getpwuid`).
    pub fn system() -> Users {
        Users::default()
    }

    /// The map in `path`: one `<unix user or uid> <student>` per line (`#`
    /// starts a comment). Only the map is used: a uid it does not name owns
    /// nobody's work.
    pub fn from_file(path: &Path) -> Result<Users, GraderError> {
        let text = std::fs::read_to_string(path).map_err(GraderError::io(path))?;
        let bad = |number: usize, why: String| {
            GraderError::Precondition(format!("{}:{}: {why}", path.display(), number + 1))
        };
        let mut map = HashMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let [unix, student] = line.split_whitespace().collect::<Vec<_>>()[..] else {
                return Err(bad(
                    number,
                    format!("expected `<unix user or uid> <student>`, got `{line}`"),
                ));
            };
            let uid = match unix.parse::<u32>() {
                Ok(uid) => uid,
                Err(_) => match User::from_name(unix) {
                    Ok(Some(user)) => user.uid.as_raw(),
                    _ => return Err(bad(number, format!("no Unix user {unix:?} on this system"))),
                },
            };
            if let Some(before) = map.insert(uid, student.to_string()) {
                return Err(bad(
                    number,
                    format!("uid {uid} is mapped twice ({before}, {student})"),
                ));
            }
        }
        Ok(Users {
            map: Some(map),
            looked_up: Arc::default(),
        })
    }

    /// The name of `uid`, if it has one.
    pub fn name_of(&self, uid: u32) -> Option<String> {
        match &self.map {
            Some(map) => map.get(&uid).cloned(),
            None => self
                .looked_up
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(uid)
                .or_insert_with(|| {
                    User::from_uid(Uid::from_raw(uid))
                        .ok()
                        .flatten()
                        .map(|u| u.name)
                })
                .clone(),
        }
    }
}

/// Where a stored submission's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Received by the service: its receive time, under the Hub user.
    Service,
    /// An exchange file of its owner, at its status-change time.
    File {
        /// The ctime as ingest first read it.
        ctime: DateTime<Utc>,
    },
    /// Its own `created_at` and `student` (ingested with `--unverified`, or by
    /// a grader older than these checks).
    Unverified,
}

impl Provenance {
    /// The code stored in `submissions.time_source`.
    pub fn code(self) -> &'static str {
        match self {
            Provenance::Service => SERVICE,
            Provenance::File { .. } => FILE,
            Provenance::Unverified => UNVERIFIED,
        }
    }
}

/// `time_source` of a submission the service received.
pub const SERVICE: &str = "service";
/// `time_source` of an exchange file judged by its ctime.
pub const FILE: &str = "file";
/// `time_source` of a submission judged by its own `created_at`.
pub const UNVERIFIED: &str = "unverified";

/// Checks that the owner of the file a submission was read from is the
/// student it names (`claimed`, when it could be read): a file another user
/// owns is rejected as `identity_mismatch`, naming both, and its rejection
/// names the owner as its student, so it never touches the claimed student's
/// record. Stdin and `--unverified` have no owner to check.
pub fn check_owner(
    trust: &FileTrust,
    file: Option<&FileFacts>,
    claimed: Option<&str>,
) -> Result<(), Rejected> {
    let (FileTrust::Verify(users), Some(file), Some(claimed)) = (trust, file, claimed) else {
        return Ok(());
    };
    let owner = users.name_of(file.uid);
    if owner.as_deref() == Some(claimed) {
        return Ok(());
    }
    let who = match &owner {
        Some(name) => format!("{name} (uid {})", file.uid),
        None => format!("uid {}, which has no user name", file.uid),
    };
    Err(Rejected {
        rejection: Rejection::new(
            Reason::IdentityMismatch,
            format!("the file is owned by {who}, not by {claimed}, the student it names"),
        ),
        student: owner,
        submission_id: None,
    })
}

/// The time an accepted submission made at `created_at` is judged by, read
/// from `file` (none: standard input) at `now` by ingest's clock; an
/// `untrusted_time` rejection when there is none or it is out of range.
pub fn judge_time(
    trust: &FileTrust,
    file: Option<&FileFacts>,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Provenance, Rejection> {
    let untrusted = |detail: String| Rejection::new(Reason::UntrustedTime, detail);
    match (trust, file) {
        (FileTrust::Unverified, _) => {
            if (2000..=9999).contains(&created_at.year()) {
                Ok(Provenance::Unverified)
            } else {
                Err(untrusted(format!(
                    "its created_at ({created_at}) is out of range (years 2000 to 9999)"
                )))
            }
        }
        (FileTrust::Verify(_), None) => Err(untrusted(
            "read from standard input: no file owner or status-change time vouches for it; \
             ingest the file itself (or pass --unverified)"
                .into(),
        )),
        (FileTrust::Verify(_), Some(file)) => {
            let ctime = Utc
                .timestamp_opt(file.ctime_secs, file.ctime_nanos)
                .single()
                .filter(|t| {
                    t.year() >= 2000 && *t <= now + chrono::Duration::seconds(CLOCK_SKEW_SECS)
                });
            ctime
                .map(|ctime| Provenance::File { ctime })
                .ok_or_else(|| {
                    untrusted(format!(
                        "its status-change time ({} s after the epoch) is out of range (from 2000 \
                     to ingest's clock, {now})",
                        file.ctime_secs
                    ))
                })
        }
    }
}
