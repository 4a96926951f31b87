//! Scripted students scored against the built-in rubric, with the expected
//! points worked out by hand from `grader/rubric.toml` (per act: prediction
//! locked 1, prediction correct 2, exploration 2 (full at 3 configurations),
//! reflection 2, challenge 3; design saved 2, consistent 3; total 25; 10% per
//! started day late after a 15-minute grace).

mod common;

use chrono::Duration;
use common::*;
use mlsys_grader::db::Db;
use mlsys_grader::export::grade_rows;
use mlsys_grader::grading::score_all;
use mlsys_grader::labs::data_storage::synth::Recorder;
use mlsys_grader::labs::data_storage::DEFAULT_RUBRIC;
use mlsys_grader::labs::Scorers;
use mlsys_grader::rubric::Rubric;
use mlsys_model::labs::data_storage::{Context, DatasetLayout};
use mlsys_model::record::EventKind;
use mlsys_model::{Act, Choice};
use std::collections::BTreeMap;

#[derive(Debug, PartialEq)]
struct Grade {
    act1: f64,
    act2: f64,
    design: f64,
    penalty: f64,
    total: f64,
    status: String,
}

fn grade(act1: f64, act2: f64, design: f64, penalty: f64, total: f64, status: &str) -> Grade {
    Grade {
        act1,
        act2,
        design,
        penalty,
        total,
        status: status.to_string(),
    }
}

fn wrong_answers() -> Script {
    Script {
        predictions: [Choice::A, Choice::C],
        reflections: [Choice::C, Choice::D],
        ..Script::all_correct()
    }
}

/// Writes the class's submissions; returns the workspace.
fn class() -> Workspace {
    let ws = Workspace::new();
    // ada: everything right, on time.
    ws.put(&play("ada", before_due(48), &Script::all_correct()));
    // bob: wrong predictions and reflections.
    ws.put(&play("bob", before_due(48), &wrong_answers()));
    // cyd: never reaches either target (random reads only; individual files
    // saturate the MDS at 4,096 GPUs even with 8 MDS; shards only at 1,024 GPUs).
    let never = Script {
        io_runs: vec![io_starved(1), io_starved(4), io_starved(8)],
        mds_runs: vec![
            mds(DatasetLayout::Individual, 4096, 1),
            mds(DatasetLayout::Individual, 4096, 8),
            mds(DatasetLayout::Shards, 1024, 1),
        ],
        ..Script::all_correct()
    };
    ws.put(&play("cyd", before_due(48), &never));
    // dee: runs %io before locking a prediction: quarantined, no valid submission.
    let mut dee = Recorder::new("dee", before_due(40));
    dee.context(Context::DistributedFs).unwrap();
    dee.record_unchecked(EventKind::InstrumentRun {
        act: Act::Act1,
        inputs: serde_json::to_value(io_healthy()).unwrap(),
        source: Default::default(),
    });
    dee.predict(Act::Act1, Choice::B).unwrap();
    ws.put(&dee.submit());
    // eli: everything right, 1 day and 1 hour late: 2 started days, 20% off.
    ws.put(&play(
        "eli",
        common::due() + Duration::hours(25) - Duration::minutes(10),
        &Script::all_correct(),
    ));
    // fay: wrong answers on time (17), everything right 30 minutes late (1 day, 10% off: 22.5).
    ws.put(&play("fay", before_due(48), &wrong_answers()));
    ws.put(&play(
        "fay",
        common::due() + Duration::minutes(20),
        &Script::all_correct(),
    ));
    // gus: one distinct %io configuration, two distinct %mds ones (2 × 1/3, 2 × 2/3).
    let narrow = Script {
        io_runs: vec![io_healthy(), io_healthy()],
        mds_runs: vec![
            mds(DatasetLayout::Shards, 4096, 1),
            mds(DatasetLayout::Shards, 4096, 1),
            mds(DatasetLayout::Individual, 4096, 1),
        ],
        ..Script::all_correct()
    };
    ws.put(&play("gus", before_due(48), &narrow));
    // hal: saves the design before any %mds run: it records seed defaults.
    let mut hal = Recorder::new("hal", before_due(30));
    hal.context(Context::DistributedFs).unwrap();
    hal.predict(Act::Act1, Choice::B).unwrap();
    for run in [io_starved(1), io_starved(4), io_healthy()] {
        hal.io(run).unwrap();
    }
    hal.reveal(Act::Act1).unwrap();
    hal.reflect(Act::Act1, Choice::B).unwrap();
    hal.predict(Act::Act2, Choice::B).unwrap();
    hal.save_design().unwrap();
    for run in Script::all_correct().mds_runs {
        hal.mds(run).unwrap();
    }
    hal.reveal(Act::Act2).unwrap();
    hal.reflect(Act::Act2, Choice::B).unwrap();
    ws.put(&hal.submit());
    // ivy: a valid submission, then a later one that breaks the lock (quarantined).
    ws.put(&play("ivy", before_due(72), &Script::all_correct()));
    let mut ivy = Recorder::new("ivy", before_due(24));
    ivy.predict(Act::Act1, Choice::B).unwrap();
    ivy.record_unchecked(EventKind::ReflectionAnswered {
        act: Act::Act1,
        choice: Choice::B,
    });
    ivy.record_unchecked(EventKind::ReflectionAnswered {
        act: Act::Act1,
        choice: Choice::C,
    });
    ws.put(&ivy.submit());
    // jon: 10 minutes after the due date, inside the 15-minute grace.
    ws.put(&play(
        "jon",
        common::due() + Duration::minutes(10) - Duration::minutes(7),
        &Script::all_correct(),
    ));
    ws
}

/// Ingests the class (two of its files are quarantined) and scores it.
fn ingest_and_score(ws: &Workspace, rubric_text: &str) -> Db {
    let out = ingest(ws);
    assert!(out.contains("quarantined 2"), "{out}");
    scored(ws, rubric_text)
}

/// Ingests the workspace's files with the binary; returns its summary line.
fn ingest(ws: &Workspace) -> String {
    let inbox = ws.inbox();
    let (code, out, err) = run_grader(
        &ws.db_path(),
        &["ingest", "--unverified", inbox.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    out
}

/// Scores what is stored with the rubric `rubric_text`.
fn scored(ws: &Workspace, rubric_text: &str) -> Db {
    let mut db = ws.open();
    let rubric = Rubric::parse(&Scorers::builtin(), rubric_text, "test").unwrap();
    score_all(&mut db, &Scorers::builtin(), &rubric, rubric_text, "test").unwrap();
    db
}

/// The built-in rubric with the deadline line `from` replaced by `to`.
fn with_deadline(from: &str, to: &str) -> String {
    assert!(DEFAULT_RUBRIC.contains(from), "{from}");
    DEFAULT_RUBRIC.replace(from, to)
}

fn grades(db: &Db) -> BTreeMap<String, Grade> {
    let rubric = Rubric::stored(db, &Scorers::builtin(), "v2_04").unwrap();
    grade_rows(db, &rubric, false)
        .unwrap()
        .into_iter()
        .map(|r| {
            let groups: Vec<(&str, f64)> = r.groups.iter().map(|(g, p)| (g.as_str(), *p)).collect();
            let [("act1", act1), ("act2", act2), ("design", design)] = groups[..] else {
                panic!("columns {groups:?}");
            };
            let g = grade(act1, act2, design, r.penalty, r.total, &r.status);
            (r.student, g)
        })
        .collect()
}

#[test]
fn scripted_students_score_as_hand_computed() {
    let ws = class();
    let db = ingest_and_score(&ws, DEFAULT_RUBRIC);
    let got = grades(&db);
    let expected: BTreeMap<String, Grade> = [
        ("ada", grade(10.0, 10.0, 5.0, 0.0, 25.0, "on_time")),
        ("bob", grade(6.0, 6.0, 5.0, 0.0, 17.0, "on_time")),
        ("cyd", grade(7.0, 7.0, 5.0, 0.0, 19.0, "on_time")),
        ("dee", grade(0.0, 0.0, 0.0, 0.0, 0.0, "no_valid_submission")),
        ("eli", grade(10.0, 10.0, 5.0, 5.0, 20.0, "late")),
        ("fay", grade(6.0, 6.0, 5.0, 0.0, 17.0, "on_time")),
        ("gus", grade(8.67, 9.33, 5.0, 0.0, 23.0, "on_time")),
        ("hal", grade(10.0, 10.0, 2.0, 0.0, 22.0, "on_time")),
        ("ivy", grade(10.0, 10.0, 5.0, 0.0, 25.0, "on_time")),
        ("jon", grade(10.0, 10.0, 5.0, 0.0, 25.0, "on_time")),
    ]
    .into_iter()
    .map(|(s, g)| (s.to_string(), g))
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn reasons_name_what_was_missed() {
    let ws = class();
    let _db = ingest_and_score(&ws, DEFAULT_RUBRIC);
    let (code, out, err) = run_grader(&ws.db_path(), &["show", "cyd"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("cyd: 19.00 / 25.00  (on_time;"), "{out}");
    assert!(
        out.contains("no %io run on distributed_fs reached 80% GPU utilization; best 4.2%"),
        "{out}"
    );
    assert!(
        out.contains(
            "all 2 %mds designs on distributed_fs at ≥ 2048 GPUs saturate the metadata servers"
        ),
        "{out}"
    );
    let (_, out, _) = run_grader(&ws.db_path(), &["show", "bob"]);
    assert!(
        out.contains("prediction A (\"The Lustre cluster is saturated"),
        "{out}"
    );
    let (_, out, _) = run_grader(&ws.db_path(), &["show", "hal"]);
    assert!(out.contains("saved before both instruments ran"), "{out}");
    let (_, out, _) = run_grader(&ws.db_path(), &["show", "ivy"]);
    assert!(
        out.contains("Quarantined (1):") && out.contains("lock_violated"),
        "{out}"
    );
    assert!(out.contains("reflection was already answered B"), "{out}");
    let (code, _, err) = run_grader(&ws.db_path(), &["show", "nobody"]);
    assert_eq!(code, 2);
    assert!(err.contains("no student \"nobody\""), "{err}");
}

#[test]
fn each_counting_policy_picks_a_submission_no_other_policy_picks() {
    // kim submits five times; every policy counts a different one.
    let ws = Workspace::new();
    let never = Script {
        io_runs: vec![io_starved(1), io_starved(4), io_starved(8)],
        ..Script::all_correct()
    };
    // On time, 22 points (no Act I challenge), then on time, 17 (wrong answers):
    // the latest on time is the lower of the two.
    ws.put(&play("kim", before_due(72), &never));
    ws.put(&play("kim", before_due(48), &wrong_answers()));
    // 25 points 20 minutes late: 1 started day, 10% off, 22.5: the best after the penalty.
    ws.put(&play(
        "kim",
        common::due() + Duration::minutes(20),
        &Script::all_correct(),
    ));
    // 17 points 25 hours late: 2 started days, 20% off, 13.6.
    ws.put(&play(
        "kim",
        common::due() + Duration::hours(25),
        &wrong_answers(),
    ));
    // 25 points 3 days and an hour late, the latest: 4 started days, 40% off, 15.
    // Its raw 25 ties the best's, so a "best" that ignored the penalty would pick it.
    ws.put(&play(
        "kim",
        common::due() + Duration::days(3) + Duration::hours(1),
        &Script::all_correct(),
    ));
    assert!(ingest(&ws).contains("ingested 5, duplicates 0, quarantined 0"));
    for (policy, expected) in [
        (
            "latest_before_due",
            grade(6.0, 6.0, 5.0, 0.0, 17.0, "on_time"),
        ),
        ("latest", grade(10.0, 10.0, 5.0, 10.0, 15.0, "late")),
        ("best", grade(10.0, 10.0, 5.0, 2.5, 22.5, "late")),
    ] {
        let rubric = with_deadline(
            "policy = \"latest_before_due\"",
            &format!("policy = \"{policy}\""),
        );
        let db = scored(&ws, &rubric);
        assert_eq!(grades(&db)["kim"], expected, "{policy}");
    }
}

#[test]
fn a_late_penalty_never_takes_more_than_the_points_earned() {
    // 40% per started day: 1 day late takes 40%; 3 days (120%) take everything, no more.
    let ws = Workspace::new();
    for (student, late) in [("lee", Duration::hours(2)), ("max", Duration::hours(49))] {
        ws.put(&play(student, common::due() + late, &Script::all_correct()));
    }
    ingest(&ws);
    let rubric = with_deadline(
        "late_penalty_percent_per_day = 10.0",
        "late_penalty_percent_per_day = 40.0",
    );
    let got = grades(&scored(&ws, &rubric));
    assert_eq!(got["lee"], grade(10.0, 10.0, 5.0, 10.0, 15.0, "late"));
    assert_eq!(got["max"], grade(10.0, 10.0, 5.0, 25.0, 0.0, "late"));
    let (code, csv, err) = run_grader(&ws.db_path(), &["export", "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    let max = csv.lines().find(|l| l.starts_with("max,")).unwrap();
    assert!(
        max.ends_with(",25.00,25.00,0.00,25.00,unverified"),
        "raw, penalty, total, max, flags: {max}"
    );
}

#[test]
fn a_changed_rubric_rescores_without_reingesting() {
    let ws = class();
    let mut db = ingest_and_score(&ws, DEFAULT_RUBRIC);
    let text = DEFAULT_RUBRIC
        .replace("min_gpu_util_pct = 80.0", "min_gpu_util_pct = 3.0")
        .replace(
            "late_penalty_percent_per_day = 10.0",
            "late_penalty_percent_per_day = 50.0",
        );
    let rubric = Rubric::parse(&Scorers::builtin(), &text, "lenient").unwrap();
    score_all(&mut db, &Scorers::builtin(), &rubric, &text, "lenient").unwrap();
    let got = grades(&db);
    // cyd's best %io run (4.2%) now reaches the 3% target: +3.
    assert_eq!(got["cyd"].total, 22.0);
    // eli: 2 days × 50% = 100% off.
    assert_eq!((got["eli"].penalty, got["eli"].total), (25.0, 0.0));
}
