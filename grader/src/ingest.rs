//! `ingest`: validate submissions in parallel, store them in group commits
//! (each transaction holds whole submissions only).
//!
//! Idempotent: a submission id already stored with the same bytes is a
//! duplicate; the same bytes already quarantined are a duplicate too. Nothing
//! is ever dropped: what fails validation goes to the quarantine table with its
//! raw bytes and the reason.
//!
//! [`write_groups`] is the one group-commit writer: `ingest` runs it on files,
//! the service on what students post.

use crate::db::intake::{Incoming, NewSubmission, Stored};
use crate::db::Db;
use crate::encode::{printable, rfc3339, sha256_hex};
use crate::error::GraderError;
use crate::labs::Scorers;
use crate::progress::Progress;
use crate::provenance::{check_owner, judge_time, FileTrust, Provenance};
use crate::rejection::{Reason, Rejected, Rejection};
use crate::source::{Entry, Source, KEPT_OF_TOO_LARGE};
use crate::validate::{validate, Accepted};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::mpsc::{sync_channel, Receiver};

/// How many files are validated in parallel before their results are written.
const CHUNK: usize = 256;

/// At most this many submissions share one transaction (group commit).
pub const GROUP: usize = 256;

/// What one `ingest` run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Submissions read.
    pub files: usize,
    /// New submissions stored.
    pub ingested: usize,
    /// Already stored (or already quarantined) with the same bytes.
    pub duplicates: usize,
    /// Newly quarantined.
    pub quarantined: usize,
    /// Files that could not be read (nothing was stored for them).
    pub unreadable: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ingested {}, duplicates {}, quarantined {} ({} files read",
            self.ingested, self.duplicates, self.quarantined, self.files
        )?;
        if self.unreadable > 0 {
            write!(f, ", {} unreadable", self.unreadable)?;
        }
        f.write_str(")")
    }
}

/// What the writer is told of one source besides what to store.
enum Note {
    /// Read and checked; stored under this source name.
    Checked(String),
    /// These exact bytes are already stored or quarantined.
    Known,
    /// Could not be read.
    Unreadable {
        source: String,
        error: std::io::Error,
    },
}

/// Reads (at most `limit` bytes of each), validates and stores every
/// source, checking each file's owner and time as `trust` says; messages
/// about quarantined or unreadable files go to `progress`, with names and
/// causes escaped for the terminal.
///
/// Any error ends it: a database error stops the writer, which drops the
/// queue so the reader thread stops too, and is returned; so is a panic of the
/// reader (nothing is ever waited on forever, nothing is dropped unsaid).
pub fn ingest(
    db: &mut Db,
    scorers: &Scorers,
    sources: Vec<Source>,
    trust: &FileTrust,
    limit: usize,
    progress: &Progress,
) -> Result<Summary, GraderError> {
    let mut summary = Summary::default();
    let now = Utc::now();
    let ingested_at = rfc3339(now);
    let known = db.known_digests()?;
    let scorers = scorers.clone();
    let trust = trust.clone();
    let (sender, receiver) = sync_channel(CHUNK * 2);
    let producer = std::thread::spawn(move || {
        for chunk in sources.chunks(CHUNK) {
            let prepared: Vec<_> = chunk
                .par_iter()
                .map(|s| prepare(s, &known, &scorers, &trust, limit, now))
                .collect();
            for job in prepared {
                if sender.send(job).is_err() {
                    return; // the writer stopped on an error
                }
            }
        }
    });
    let written = write_groups(
        &receiver,
        |batch| db.store(batch, &ingested_at, None),
        |note, stored| {
            summary.files += 1;
            progress.inc();
            match (note, stored) {
                (Note::Unreadable { source, error }, _) => {
                    summary.unreadable += 1;
                    progress.println(&format!(
                        "cannot read {}: {}",
                        printable(&source),
                        printable(&error.to_string())
                    ));
                }
                (Note::Checked(source), Some(Stored::Quarantined(rejection))) => {
                    summary.quarantined += 1;
                    progress.println(&format!(
                        "quarantined {}: {}",
                        printable(&source),
                        printable(&rejection.to_string())
                    ));
                }
                (Note::Checked(_), Some(Stored::Ingested(_))) => summary.ingested += 1,
                _ => summary.duplicates += 1,
            }
        },
        |_, error| ControlFlow::Break(error),
    );
    // The queue is closed before the reader is waited for: on a database error
    // its next send fails and it returns.
    drop(receiver);
    let read = producer.join();
    written?;
    read.map_err(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        GraderError::Precondition(format!(
            "ingest stopped: reading the submissions failed ({why}); \
             {} were stored, run it again to continue",
            summary.ingested
        ))
    })?;
    Ok(summary)
}

/// The group-commit writer, for `ingest` and the service alike: takes every
/// job waiting (at least one, at most [`GROUP`]) and stores their submissions
/// with `store` in one transaction. Then `answer` gets each job's `R` and what
/// became of its submission (`None` for a job with nothing to store), in
/// order; or, when the transaction failed, `failed` gets them all with the
/// error and says whether to go on. Runs until `jobs` closes; returns the
/// error `failed` stopped at.
pub fn write_groups<R>(
    jobs: &Receiver<(Option<Incoming>, R)>,
    mut store: impl FnMut(Vec<Incoming>) -> Result<Vec<Stored>, GraderError>,
    mut answer: impl FnMut(R, Option<Stored>),
    mut failed: impl FnMut(Vec<R>, GraderError) -> ControlFlow<GraderError>,
) -> Result<(), GraderError> {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let (incoming, replies): (Vec<Option<Incoming>>, Vec<R>) = group.into_iter().unzip();
        let stores: Vec<bool> = incoming.iter().map(Option::is_some).collect();
        match store(incoming.into_iter().flatten().collect()) {
            Ok(stored) => {
                let mut stored = stored.into_iter();
                for (reply, stores) in replies.into_iter().zip(stores) {
                    answer(reply, if stores { stored.next() } else { None });
                }
            }
            Err(error) => {
                if let ControlFlow::Break(error) = failed(replies, error) {
                    return Err(error);
                }
            }
        }
    }
    Ok(())
}

/// Validates one submission the service received; `source` says from whom.
/// Its time is the service's receive time. Needs no database, so many can be
/// checked at once.
pub fn check_one(scorers: &Scorers, source: &str, raw: Vec<u8>) -> Incoming {
    let sha256 = sha256_hex(&raw);
    let outcome = validate(&raw, scorers).map(|a| row_of(a, &raw, Provenance::Service));
    incoming(source, raw, sha256, outcome)
}

/// Validates a submission read from a file (or stdin), then its owner and its
/// time as `trust` says, at `now` by ingest's clock.
fn check_entry(
    scorers: &Scorers,
    source: &str,
    entry: Entry,
    sha256: String,
    trust: &FileTrust,
    now: DateTime<Utc>,
) -> Incoming {
    let validated = validate(&entry.bytes, scorers);
    let (claimed, id) = match &validated {
        Ok(a) => (Some(a.submission.student.clone()), Some(a.submission.id)),
        Err(r) => (r.student.clone(), None),
    };
    let file = entry.file.as_ref();
    let outcome = match check_owner(trust, file, claimed.as_deref()) {
        Err(mismatch) => Err(Rejected {
            submission_id: id
                .map(|id| id.to_string())
                .or(validated.err().and_then(|r| r.submission_id)),
            ..mismatch
        }),
        Ok(()) => validated.and_then(|accepted| {
            let submission = &accepted.submission;
            match judge_time(trust, file, submission.created_at, now) {
                Ok(provenance) => Ok(row_of(accepted, &entry.bytes, provenance)),
                Err(rejection) => Err(Rejected {
                    rejection,
                    student: Some(submission.student.clone()),
                    submission_id: Some(submission.id.to_string()),
                }),
            }
        }),
    };
    incoming(source, entry.bytes, sha256, outcome)
}

/// A checked submission for the writer: an accepted one travels compressed
/// only; the plain bytes are kept for a quarantine record.
fn incoming(
    source: &str,
    raw: Vec<u8>,
    sha256: String,
    outcome: Result<NewSubmission, Rejected>,
) -> Incoming {
    let raw = if outcome.is_ok() { Vec::new() } else { raw };
    Incoming {
        source: source.to_string(),
        raw,
        sha256,
        outcome,
    }
}

/// Reads and validates one source (unless its bytes are `known`); one over
/// `limit` is quarantined as `too_large` with the part that was read.
fn prepare(
    source: &Source,
    known: &HashSet<String>,
    scorers: &Scorers,
    trust: &FileTrust,
    limit: usize,
    now: DateTime<Utc>,
) -> (Option<Incoming>, Note) {
    let name = source.name();
    let entry = match source.read(limit) {
        Ok(entry) => entry,
        Err(error) => {
            return (
                None,
                Note::Unreadable {
                    source: name,
                    error,
                },
            )
        }
    };
    let sha256 = sha256_hex(&entry.bytes);
    if known.contains(&sha256) {
        return (None, Note::Known);
    }
    let incoming = match entry.too_large {
        Some(size) => Incoming {
            source: name.clone(),
            raw: entry.bytes,
            sha256,
            outcome: Err(Rejected {
                rejection: Rejection::new(
                    Reason::TooLarge,
                    format!(
                        "{size} bytes, over the limit of {limit}; only the first {KEPT_OF_TOO_LARGE} \
                         were read and are kept"
                    ),
                ),
                student: None,
                submission_id: None,
            }),
        },
        None => check_entry(scorers, &name, entry, sha256, trust, now),
    };
    (Some(incoming), Note::Checked(name))
}

fn row_of(accepted: Accepted, raw: &[u8], provenance: Provenance) -> NewSubmission {
    let Accepted {
        submission,
        audited,
    } = accepted;
    let event_ids = submission
        .events
        .iter()
        .flat_map(|e| e.id.into_bytes())
        .collect();
    NewSubmission {
        id: submission.id.to_string(),
        student: submission.student,
        lab: submission.lab,
        created_at: rfc3339(submission.created_at),
        kernel_version: submission.kernel_version,
        schema_version: submission.schema_version,
        event_count: submission.events.len(),
        facts: audited.facts,
        answers: audited.answers,
        raw_lz4: lz4_flex::compress_prepend_size(raw),
        provenance,
        event_ids,
    }
}
