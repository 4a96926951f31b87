//! Shared test support: scripted students, a temp database, the binary.
#![allow(dead_code)] // each test file uses a different part

use chrono::{DateTime, Duration, Utc};
use mlsys_grader::db::Db;
use mlsys_grader::ingest::{ingest, Summary};
use mlsys_grader::labs::data_storage::synth::Recorder;
use mlsys_grader::labs::Scorers;
use mlsys_grader::progress::Progress;
use mlsys_grader::provenance::FileTrust;
use mlsys_grader::source::{Source, DEFAULT_MAX_BYTES};
use mlsys_grader::synth::write;
use mlsys_model::labs::data_storage::{Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern};
use mlsys_model::record::Submission;
use mlsys_model::{Act, Choice};
use std::path::{Path, PathBuf};

/// The due date of the built-in rubric.
pub fn due() -> DateTime<Utc> {
    "2026-12-14T23:59:00Z".parse().unwrap()
}

/// A time `hours` before the built-in due date.
pub fn before_due(hours: i64) -> DateTime<Utc> {
    due() - Duration::hours(hours)
}

/// Act I: the seed's starved default (random reads, 1 worker): about 1% GPU utilization.
pub fn io_starved(workers: i64) -> IoInputs {
    IoInputs::new(Context::DistributedFs, workers, 64, ReadPattern::Random, 24).unwrap()
}

/// Act I: prefetch with 8 workers on 48 OSTs: 100% GPU utilization (hand-computed:
/// 1344 GB/s × 0.78 × 0.97 × 400/1344 = 302.64 GB/s; 2.36 GB/s per GPU; 105.7 ms per
/// 0.25 GB batch, hidden by 4 × 50 ms of prefetched compute, so no wait).
pub fn io_healthy() -> IoInputs {
    IoInputs::new(Context::DistributedFs, 8, 64, ReadPattern::Prefetch, 48).unwrap()
}

/// Act II at 4,096 GPUs × 8 workers: individual files saturate one MDS
/// (4,915,200 ops/s > 50,000); shards do not (393.2 ops/s).
pub fn mds(layout: DatasetLayout, gpus: i64, mds: i64) -> MdsInputs {
    MdsInputs::new(Context::DistributedFs, gpus, 8, layout, mds).unwrap()
}

/// How a scripted student answers and what they run.
pub struct Script {
    pub predictions: [Choice; 2],
    pub reflections: [Choice; 2],
    pub io_runs: Vec<IoInputs>,
    pub mds_runs: Vec<MdsInputs>,
    pub save_design: bool,
}

impl Script {
    /// Everything right: both keys, the Act I target reached, a sound Act II
    /// design at 4,096 GPUs, 3 distinct configurations per act, design saved.
    pub fn all_correct() -> Self {
        Script {
            predictions: [Choice::B, Choice::B],
            reflections: [Choice::B, Choice::B],
            io_runs: vec![io_starved(1), io_starved(4), io_healthy()],
            mds_runs: vec![
                mds(DatasetLayout::Individual, 4096, 1),
                mds(DatasetLayout::Individual, 4096, 8),
                mds(DatasetLayout::Shards, 4096, 1),
            ],
            save_design: true,
        }
    }
}

/// Plays `script` for `student`, starting at `start`, and submits.
pub fn play(student: &str, start: DateTime<Utc>, script: &Script) -> Submission {
    let mut r = Recorder::new(student, start);
    r.context(Context::DistributedFs).unwrap();
    r.predict(Act::Act1, script.predictions[0]).unwrap();
    for run in &script.io_runs {
        r.io(*run).unwrap();
    }
    if !script.io_runs.is_empty() {
        r.reveal(Act::Act1).unwrap();
    }
    r.reflect(Act::Act1, script.reflections[0]).unwrap();
    r.predict(Act::Act2, script.predictions[1]).unwrap();
    for run in &script.mds_runs {
        r.mds(*run).unwrap();
    }
    if !script.mds_runs.is_empty() {
        r.reveal(Act::Act2).unwrap();
    }
    r.reflect(Act::Act2, script.reflections[1]).unwrap();
    if script.save_design {
        r.save_design().unwrap();
    }
    r.submit()
}

/// A temp dir with a database path and a directory for submission files.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("in")).unwrap();
        Workspace { dir }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("grades.sqlite")
    }

    pub fn inbox(&self) -> PathBuf {
        self.dir.path().join("in")
    }

    pub fn open(&self) -> Db {
        Db::open(&self.db_path()).unwrap()
    }

    /// Writes a submission as the kernel does; returns its path.
    pub fn put(&self, submission: &Submission) -> PathBuf {
        write(&self.inbox(), submission).unwrap()
    }

    /// Writes raw bytes as `name` in the inbox.
    pub fn put_raw(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.inbox().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Ingests `paths` through the library (the test writes every student's
    /// file itself, so they are ingested `--unverified`).
    pub fn ingest(&self, paths: &[PathBuf]) -> Summary {
        let mut db = self.open();
        let sources = paths.iter().cloned().map(Source::File).collect();
        ingest(
            &mut db,
            &Scorers::builtin(),
            sources,
            &FileTrust::Unverified,
            DEFAULT_MAX_BYTES,
            &Progress::new(0, "test"),
        )
        .unwrap()
    }
}

/// The grader binary built for this test run.
pub fn grader_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_mlsys-grader"))
}

/// Runs the grader binary with `args` against `db`; returns (exit code, stdout, stderr).
pub fn run_grader(db: &Path, args: &[&str]) -> (i32, String, String) {
    run_grader_in(Path::new("."), db, args)
}

/// Runs the grader binary in directory `dir` (relative paths are read from
/// there) with `args` against `db`; returns (exit code, stdout, stderr).
pub fn run_grader_in(dir: &Path, db: &Path, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(grader_bin())
        .current_dir(dir)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
