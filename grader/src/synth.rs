//! Submissions made the way the kernel makes them, without a kernel: a
//! [`Recorder`] applies each event to a [`Session`] under the lab's rules before
//! logging it (as the kernel does) and hands in a [`Submission`] like `%submit`.
//!
//! Tests script students with it; `mlsys-grader synth` writes a synthetic class
//! for benchmarks and for trying the grader out.

use chrono::{DateTime, Duration, Utc};
use mlsys_model::labs::data_storage::constants::{
    BATCH, GPUS, MDS_NODES, OSTS, WORKERS, WORKERS_PER_GPU,
};
use mlsys_model::labs::data_storage::{
    Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern, Session, SessionError, LAB_ID,
};
use mlsys_model::record::{Event, EventKind, Submission, SUBMISSION_SCHEMA_VERSION};
use mlsys_model::{Act, Choice};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The kernel version synthetic events carry.
pub const SYNTH_KERNEL_VERSION: &str = "synth";

/// A student's session being recorded, one event at a time.
#[derive(Debug, Clone)]
pub struct Recorder {
    student: String,
    clock: DateTime<Utc>,
    step: Duration,
    events: Vec<Event>,
    session: Session,
}

impl Recorder {
    /// A new session for `student` whose first event happens at `start`; each
    /// later event happens 30 s after the previous one.
    pub fn new(student: &str, start: DateTime<Utc>) -> Self {
        Recorder {
            student: student.to_string(),
            clock: start,
            step: Duration::seconds(30),
            events: Vec::new(),
            session: Session::default(),
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
            lab: LAB_ID.to_string(),
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

    /// `%context`.
    pub fn context(&mut self, context: Context) -> Result<&mut Self, SessionError> {
        self.record(EventKind::ContextSet {
            context: context.id().to_string(),
        })
    }

    /// `%predict act choice`.
    pub fn predict(&mut self, act: Act, choice: Choice) -> Result<&mut Self, SessionError> {
        self.record(EventKind::PredictionLocked { act, choice })
    }

    /// `%io` with these inputs.
    pub fn io(&mut self, inputs: IoInputs) -> Result<&mut Self, SessionError> {
        self.run(Act::Act1, serde_json::to_value(inputs).unwrap_or_default())
    }

    /// `%mds` with these inputs.
    pub fn mds(&mut self, inputs: MdsInputs) -> Result<&mut Self, SessionError> {
        self.run(Act::Act2, serde_json::to_value(inputs).unwrap_or_default())
    }

    fn run(&mut self, act: Act, inputs: serde_json::Value) -> Result<&mut Self, SessionError> {
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
        let design = self.session.design().to_map();
        self.record(EventKind::DesignSaved {
            chapter: LAB_ID.to_string(),
            design,
        })
    }

    /// `%submit`: the submission of everything so far (then logs the `submitted` event).
    pub fn submit(&mut self) -> Submission {
        let submission = Submission {
            schema_version: SUBMISSION_SCHEMA_VERSION,
            id: Uuid::now_v7(),
            lab: LAB_ID.to_string(),
            student: self.student.clone(),
            created_at: self.clock,
            kernel_version: SYNTH_KERNEL_VERSION.to_string(),
            events: self.events.clone(),
            design: self.session.saved_design.as_ref().map(|d| d.to_map()),
        };
        self.push(EventKind::Submitted {
            submission_id: submission.id,
        });
        submission
    }

    /// The session so far.
    pub fn session(&self) -> &Session {
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

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn stepped(&mut self, range: mlsys_model::input_error::SteppedRange) -> i64 {
        let values: Vec<u32> = range.values().collect();
        i64::from(self.pick(&values))
    }

    /// A letter, B (the key) with probability `correct_percent`.
    pub fn choice(&mut self, correct_percent: u64) -> Choice {
        if self.chance(correct_percent) {
            Choice::B
        } else {
            self.pick(&[Choice::A, Choice::C, Choice::D])
        }
    }
}

/// One synthetic session of about `events` events, starting at `start`.
pub fn synthetic_session(
    student: &str,
    start: DateTime<Utc>,
    events: usize,
    rng: &mut Rng,
) -> Submission {
    let mut r = Recorder::new(student, start);
    let runs = events.saturating_sub(9).max(2);
    let context = if rng.chance(85) {
        Context::DistributedFs
    } else {
        Context::Nvme
    };
    let _ = r.context(context);
    for (act, share) in [(Act::Act1, runs / 2), (Act::Act2, runs - runs / 2)] {
        let _ = r.predict(act, rng.choice(55));
        for _ in 0..share {
            let _ = match act {
                Act::Act1 => r.io(random_io(context, rng)),
                Act::Act2 => r.mds(random_mds(context, rng)),
            };
        }
        let _ = r.reveal(act);
        if rng.chance(90) {
            let _ = r.reflect(act, rng.choice(70));
        }
    }
    if rng.chance(85) {
        let _ = r.save_design();
    }
    r.submit()
}

fn random_io(context: Context, rng: &mut Rng) -> IoInputs {
    let pattern = rng.pick(&ReadPattern::ALL);
    IoInputs::new(
        context,
        rng.stepped(WORKERS),
        rng.stepped(BATCH),
        pattern,
        rng.stepped(OSTS),
    )
    .unwrap_or_default()
}

fn random_mds(context: Context, rng: &mut Rng) -> MdsInputs {
    let layout = rng.pick(&DatasetLayout::ALL);
    MdsInputs::new(
        context,
        rng.stepped(GPUS),
        rng.stepped(WORKERS_PER_GPU),
        layout,
        rng.stepped(MDS_NODES),
    )
    .unwrap_or_default()
}

/// Writes a synthetic class: `submissions` files from `students` students
/// (each submitting one or more times over the week before `due`, a few after
/// it), about `events` events each, into `dir`. Returns the paths written.
pub fn write_class(
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
            let submission = synthetic_session(&student, start, events, &mut rng);
            write(dir, &submission)
        })
        .collect()
}
