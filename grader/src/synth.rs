//! Submissions made the way the kernel makes them, without a kernel: a
//! [`Recorder`] applies each event to a lab's session under the lab's rules
//! before logging it (as the kernel does) and hands in a [`Submission`] like
//! `%submit`.
//!
//! Tests script students with it; `mlsys-grader synth` writes a synthetic class
//! of a lab (each lab's scorer makes its synthetic students) for benchmarks and
//! for trying the grader out.

use crate::labs::LabScorer;
use chrono::{DateTime, Duration, Utc};
use mlsys_model::lab::LabSession;
use mlsys_model::record::{Event, EventKind, Submission, SUBMISSION_SCHEMA_VERSION};
use mlsys_model::rules::SessionError;
use mlsys_model::{Act, Choice};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The kernel version synthetic events carry.
pub const SYNTH_KERNEL_VERSION: &str = "synth";

/// A student's session of the lab whose rules are `S`, recorded one event at a time.
#[derive(Debug, Clone)]
pub struct Recorder<S: LabSession> {
    student: String,
    clock: DateTime<Utc>,
    step: Duration,
    events: Vec<Event>,
    session: S,
}

impl<S: LabSession> Recorder<S> {
    /// A new session for `student` whose first event happens at `start`; each
    /// later event happens 30 s after the previous one.
    pub fn new(student: &str, start: DateTime<Utc>) -> Self {
        Recorder {
            student: student.to_string(),
            clock: start,
            step: Duration::seconds(30),
            events: Vec::new(),
            session: S::default(),
        }
    }

    /// Applies `kind` under the lab's rules and logs it, as the kernel does;
    /// a refused event is not logged.
    pub fn record(&mut self, kind: EventKind) -> Result<&mut Self, SessionError> {
        self.session.apply(&kind)?;
        self.push(kind);
        Ok(self)
    }

    /// Logs `kind` without checking it: for making submissions that break the rules.
    pub fn record_unchecked(&mut self, kind: EventKind) -> &mut Self {
        let _ = self.session.apply(&kind);
        self.push(kind);
        self
    }

    fn push(&mut self, kind: EventKind) {
        self.events.push(Event {
            id: Uuid::now_v7(),
            at: self.clock,
            lab: S::LAB_ID.to_string(),
            kernel_version: SYNTH_KERNEL_VERSION.to_string(),
            kind,
        });
        self.clock += self.step;
    }

    /// Moves the clock to `at` (for submissions made on a given day).
    pub fn set_clock(&mut self, at: DateTime<Utc>) -> &mut Self {
        self.clock = at;
        self
    }

    /// `%predict act choice`.
    pub fn predict(&mut self, act: Act, choice: Choice) -> Result<&mut Self, SessionError> {
        self.record(EventKind::PredictionLocked { act, choice })
    }

    /// A run of `act`'s instrument with these inputs (as the lab's run JSON names them).
    pub fn run(&mut self, act: Act, inputs: serde_json::Value) -> Result<&mut Self, SessionError> {
        self.record(EventKind::InstrumentRun {
            act,
            inputs,
            source: Default::default(),
        })
    }

    /// `%reveal act`.
    pub fn reveal(&mut self, act: Act) -> Result<&mut Self, SessionError> {
        self.record(EventKind::Revealed { act })
    }

    /// `%reflect act choice`.
    pub fn reflect(&mut self, act: Act, choice: Choice) -> Result<&mut Self, SessionError> {
        self.record(EventKind::ReflectionAnswered { act, choice })
    }

    /// `%ledger save`: the design the current settings give.
    pub fn save_design(&mut self) -> Result<&mut Self, SessionError> {
        let design = self.session.design();
        self.record(EventKind::DesignSaved {
            chapter: S::LAB_ID.to_string(),
            design,
        })
    }

    /// `%submit`: the submission of everything so far (then logs the `submitted` event).
    pub fn submit(&mut self) -> Submission {
        let submission = Submission {
            schema_version: SUBMISSION_SCHEMA_VERSION,
            id: Uuid::now_v7(),
            lab: S::LAB_ID.to_string(),
            student: self.student.clone(),
            created_at: self.clock,
            kernel_version: SYNTH_KERNEL_VERSION.to_string(),
            events: self.events.clone(),
            design: self.session.saved_design(),
        };
        self.push(EventKind::Submitted {
            submission_id: submission.id,
        });
        submission
    }

    /// The session so far.
    pub fn session(&self) -> &S {
        &self.session
    }
}

/// The file name `%submit` gives a submission.
pub fn file_name(submission: &Submission) -> String {
    format!(
        "{}-{}-{}.json",
        submission.lab, submission.student, submission.id
    )
}

/// Writes `submission` as the kernel does (pretty JSON, trailing newline) into `dir`.
pub fn write(dir: &Path, submission: &Submission) -> std::io::Result<PathBuf> {
    let path = dir.join(file_name(submission));
    let mut bytes = serde_json::to_vec_pretty(submission).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// A small deterministic generator (SplitMix64): the same seed, the same class.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items`, each as likely.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// One of the values of `range`, each as likely.
    pub fn stepped(&mut self, range: mlsys_model::input_error::SteppedRange) -> i64 {
        let values: Vec<u32> = range.values().collect();
        i64::from(self.pick(&values))
    }

    /// A letter: `key` with probability `correct_percent`, else another one.
    pub fn choice(&mut self, key: Choice, correct_percent: u64) -> Choice {
        if self.chance(correct_percent) {
            key
        } else {
            let others: Vec<Choice> = Choice::ALL.into_iter().filter(|c| *c != key).collect();
            self.pick(&others)
        }
    }
}

/// Writes a synthetic class of `scorer`'s lab: `submissions` files from
/// `students` students (each submitting one or more times over the week
/// before `due`, a few after it), about `events` events each, into `dir`.
/// Returns the paths written.
pub fn write_class(
    scorer: &dyn LabScorer,
    dir: &Path,
    submissions: usize,
    students: usize,
    events: usize,
    due: DateTime<Utc>,
    seed: u64,
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng::new(seed);
    let students = students.clamp(1, submissions.max(1));
    (0..submissions)
        .map(|i| {
            let student = format!("student{:05}", i % students);
            let hours_before_due = rng.below(24 * 7) as i64 - 6;
            let start = due - Duration::hours(hours_before_due) - Duration::minutes(60);
            let submission = scorer.synthetic(&student, start, events, &mut rng);
            write(dir, &submission)
        })
        .collect()
}
