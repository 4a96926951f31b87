//! Grades a student cannot game by editing a file: exchange files owned by
//! real Unix users (`useradd`; the tests run as root), lateness by the file's
//! ctime rather than its stated `created_at`, and scoring against what the
//! grader service witnessed, with the flags the instructor sees.

mod common;

use chrono::{Duration, Utc};
use common::*;
use mlsys_grader::labs::data_storage::DEFAULT_RUBRIC;
use mlsys_model::record::{EventKind, Submission};
use mlsys_model::Choice;
use std::os::unix::fs::chown;
use std::path::Path;
use std::process::Command;

/// A real Unix user named `name` (created once; concurrent tests may race to
/// create it); returns its uid.
fn unix_user(name: &str) -> u32 {
    let _ = Command::new("useradd")
        .args(["--no-create-home", "--shell", "/usr/sbin/nologin", name])
        .output()
        .expect("useradd runs (the tests run as root)");
    let out = Command::new("id").args(["-u", name]).output().unwrap();
    assert!(out.status.success(), "no user {name}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Writes `submission` into the inbox owned by `uid`, readable by all.
fn put_owned(ws: &Workspace, submission: &Submission, uid: u32) -> std::path::PathBuf {
    let path = ws.put(submission);
    chown(&path, Some(uid), None).unwrap();
    path
}

/// A rubric like the built-in one, due `due`.
fn rubric_due(due: chrono::DateTime<Utc>) -> String {
    let line = "due = 2026-12-14T23:59:00Z";
    assert!(DEFAULT_RUBRIC.contains(line));
    DEFAULT_RUBRIC.replace(line, &format!("due = {}", due.format("%Y-%m-%dT%H:%M:%SZ")))
}

fn write_rubric(ws: &Workspace, text: &str) -> String {
    let path = ws.dir.path().join("rubric.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The CSV export row of `student`, as fields by header.
fn csv_row(db: &Path, student: &str) -> std::collections::BTreeMap<String, String> {
    let (code, csv, err) = run_grader(db, &["export", "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[0] == student)
        .map(|r| {
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_else(|| panic!("no row for {student}: {csv}"))
}

/// Sets every `key` anywhere in `value` to `to`.
fn set_everywhere(value: &mut serde_json::Value, key: &str, to: serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == key {
                    *v = to.clone();
                } else {
                    set_everywhere(v, key, to.clone());
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                set_everywhere(v, key, to.clone());
            }
        }
        _ => {}
    }
}

#[test]
fn a_file_planted_by_another_unix_user_is_quarantined_and_never_changes_the_students_grade() {
    let ada = unix_user("i14ada");
    let eve = unix_user("i14eve");
    let ws = Workspace::new();
    let due = Utc::now() + Duration::days(2);
    let rubric = write_rubric(&ws, &rubric_due(due));
    let db = ws.db_path();
    // ada's own work, all correct, handed in now (before the deadline).
    put_owned(
        &ws,
        &play(
            "i14ada",
            Utc::now() - Duration::hours(3),
            &Script::all_correct(),
        ),
        ada,
    );
    let inbox = ws.inbox();
    let (code, out, err) = run_grader(&db, &["ingest", inbox.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("ingested 1, duplicates 0, quarantined 0"),
        "{out}"
    );
    assert_eq!(run_grader(&db, &["score", "--rubric", &rubric]).0, 0);
    let before = csv_row(&db, "i14ada");
    assert_eq!(before["total"], "25.00");

    // eve plants a later, all-wrong file claiming to be ada's.
    let wrong = Script {
        predictions: [Choice::A, Choice::C],
        reflections: [Choice::C, Choice::D],
        ..Script::all_correct()
    };
    put_owned(
        &ws,
        &play("i14ada", Utc::now() - Duration::hours(1), &wrong),
        eve,
    );
    let (code, out, err) = run_grader(&db, &["ingest", inbox.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("ingested 0, duplicates 1, quarantined 1"),
        "{out}"
    );
    assert!(
        err.contains(&format!(
            "identity_mismatch: the file is owned by i14eve (uid {eve}), not by i14ada, the student it names"
        )),
        "{err}"
    );
    assert_eq!(run_grader(&db, &["score", "--rubric", &rubric]).0, 0);
    let after = csv_row(&db, "i14ada");
    assert_eq!(
        after, before,
        "the planted file changes nothing of ada's grade"
    );
    // The quarantine record is eve's, not ada's.
    let (_, ada_shown, _) = run_grader(&db, &["show", "i14ada"]);
    assert!(!ada_shown.contains("identity_mismatch"), "{ada_shown}");
    let (_, eve_shown, _) = run_grader(&db, &["show", "i14eve"]);
    assert!(eve_shown.contains("identity_mismatch"), "{eve_shown}");
}

#[test]
fn an_instructors_users_map_names_file_owners_where_unix_names_differ() {
    let ws = Workspace::new();
    let db = ws.db_path();
    // The test runs as root, which owns the file: the map says root is kim.
    ws.put(&play("kim", before_due(3), &Script::all_correct()));
    let map = ws.dir.path().join("users.txt");
    std::fs::write(&map, "# unix user, hub name\nroot kim\n").unwrap();
    let inbox = ws.inbox();
    let (code, out, err) = run_grader(
        &db,
        &[
            "ingest",
            "--users",
            map.to_str().unwrap(),
            inbox.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("ingested 1, duplicates 0, quarantined 0"),
        "{out}"
    );

    // Without the map, root is not kim.
    let other = Workspace::new();
    other.put(&play("kim", before_due(3), &Script::all_correct()));
    let (code, out, err) = run_grader(
        &other.db_path(),
        &["ingest", other.inbox().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("quarantined 1"), "{out}");
    assert!(
        err.contains("identity_mismatch: the file is owned by root (uid 0), not by kim"),
        "{err}"
    );
}

#[test]
fn a_backdated_created_at_is_judged_by_the_files_ctime() {
    let lee = unix_user("i14lee");
    let ws = Workspace::new();
    // Due two days ago; lee's log says it was made three days ago, and the
    // file's modification time is set back too (a student can do both).
    let due = Utc::now() - Duration::days(2);
    let rubric = write_rubric(&ws, &rubric_due(due));
    let path = put_owned(
        &ws,
        &play("i14lee", due - Duration::days(1), &Script::all_correct()),
        lee,
    );
    let set_back = Command::new("touch")
        .args(["-m", "-d", "2020-01-01T00:00:00Z"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(set_back.success());
    let db = ws.db_path();
    let (code, _, err) = run_grader(&db, &["ingest", ws.inbox().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(run_grader(&db, &["score", "--rubric", &rubric]).0, 0);
    let row = csv_row(&db, "i14lee");
    assert_eq!(row["status"], "late", "{row:?}");
    assert_eq!(row["late_days"], "2", "{row:?}");
    let (_, shown, _) = run_grader(&db, &["show", "i14lee"]);
    assert!(
        shown.contains("(the file's status-change time)"),
        "show says what time judged it: {shown}"
    );

    // The same file's own claim would have been on time.
    let unverified = ws.dir.path().join("unverified.sqlite");
    let (code, _, err) = run_grader(
        &unverified,
        &["ingest", "--unverified", ws.inbox().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        run_grader(&unverified, &["score", "--rubric", &rubric]).0,
        0
    );
    let row = csv_row(&unverified, "i14lee");
    assert_eq!(row["status"], "on_time", "{row:?}");
    assert_eq!(row["flags"], "unverified", "{row:?}");
}

#[test]
fn a_submission_edited_after_the_witness_is_scored_on_what_was_witnessed_and_flagged() {
    let ws = Workspace::new();
    let honest_wrong = Script {
        predictions: [Choice::A, Choice::B],
        ..Script::all_correct()
    };
    let witnessed = play("ada", before_due(30), &honest_wrong);
    // What the service received as ada worked (at ~the events' own times).
    {
        let mut db = ws.open();
        for event in &witnessed.events {
            db.witness(
                "ada",
                std::slice::from_ref(event),
                event.at + Duration::milliseconds(5),
            )
            .unwrap();
        }
    }
    // ada then edits her log: the Act I prediction becomes the key (B).
    let mut edited = witnessed.clone();
    let changed = edited
        .events
        .iter_mut()
        .find_map(|e| match &mut e.kind {
            EventKind::PredictionLocked { choice, .. } if *choice == Choice::A => {
                *choice = Choice::B;
                Some(e.id)
            }
            _ => None,
        })
        .unwrap();
    // ... and the saved design's record of it, as a careful student would.
    let mut json = serde_json::to_value(&edited).unwrap();
    set_everywhere(&mut json, "act1_correct", serde_json::json!(true));
    set_everywhere(&mut json, "act1_prediction", serde_json::json!("B"));
    let edited: Submission = serde_json::from_value(json).unwrap();
    ws.put(&edited);
    let db = ws.db_path();
    let (code, out, err) = run_grader(
        &db,
        &["ingest", "--unverified", ws.inbox().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ingested 1"), "{out} {err}");
    assert_eq!(run_grader(&db, &["score"]).0, 0);
    let row = csv_row(&db, "ada");
    // Act I's prediction is wrong as witnessed: 2 points fewer than the edit claims.
    assert_eq!(row["total"], "23.00", "{row:?}");
    assert!(row["flags"].contains("witness_mismatch"), "{row:?}");
    let (_, shown, _) = run_grader(&db, &["show", "ada"]);
    assert!(shown.contains("witness_mismatch"), "{shown}");
    assert!(
        shown.contains(&changed.to_string()) && shown.contains("choice (witnessed \"A\")"),
        "show names the first disagreeing event: {shown}"
    );

    // With the witness off, the edited log would have earned full marks.
    let off = DEFAULT_RUBRIC.replace("witness = \"preferred\"", "witness = \"off\"");
    let rubric = write_rubric(&ws, &off);
    assert_eq!(run_grader(&db, &["score", "--rubric", &rubric]).0, 0);
    assert_eq!(csv_row(&db, "ada")["total"], "25.00");
}

#[test]
fn a_copied_log_flags_both_students_submissions() {
    let ws = Workspace::new();
    let original = play("ada", before_due(30), &Script::all_correct());
    let copy = Submission {
        id: uuid::Uuid::now_v7(),
        student: "bob".into(),
        ..original.clone()
    };
    ws.put(&original);
    ws.put(&copy);
    let db = ws.db_path();
    let (code, _, err) = run_grader(
        &db,
        &["ingest", "--unverified", ws.inbox().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(run_grader(&db, &["score"]).0, 0);
    for (student, other) in [("ada", "bob"), ("bob", "ada")] {
        let row = csv_row(&db, student);
        assert!(row["flags"].contains("shared_events"), "{row:?}");
        let (_, shown, _) = run_grader(&db, &["show", student]);
        assert!(
            shown.contains("shared_events")
                && shown.contains(&format!("also appear under {other}")),
            "{shown}"
        );
    }
}

#[test]
fn when_the_witness_is_required_unwitnessed_work_earns_nothing_and_is_flagged() {
    let ws = Workspace::new();
    let witnessed = play("ada", before_due(30), &Script::all_correct());
    let unwitnessed = play("bob", before_due(30), &Script::all_correct());
    {
        let mut db = ws.open();
        for event in &witnessed.events {
            db.witness(
                "ada",
                std::slice::from_ref(event),
                event.at + Duration::seconds(1),
            )
            .unwrap();
        }
    }
    ws.put(&witnessed);
    ws.put(&unwitnessed);
    let db = ws.db_path();
    let (code, _, err) = run_grader(
        &db,
        &["ingest", "--unverified", ws.inbox().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let required = DEFAULT_RUBRIC.replace("witness = \"preferred\"", "witness = \"required\"");
    let rubric = write_rubric(&ws, &required);
    assert_eq!(run_grader(&db, &["score", "--rubric", &rubric]).0, 0);
    let ada = csv_row(&db, "ada");
    assert_eq!(ada["total"], "25.00", "{ada:?}");
    let bob = csv_row(&db, "bob");
    assert_eq!(bob["total"], "0.00", "{bob:?}");
    assert!(bob["flags"].contains("unwitnessed"), "{bob:?}");
}
