//! The command line itself: help on every command, the built-in rubric, and the
//! database's schema version, WAL mode and foreign keys.

mod common;

use common::*;
use mlsys_grader::db::{Db, SCHEMA_VERSION};
use mlsys_grader::error::GraderError;
use mlsys_grader::labs::data_storage::{DEFAULT_RUBRIC, SCORER};
use mlsys_grader::labs::Scorers;
use mlsys_grader::rubric::Rubric;

#[test]
fn every_command_has_help() {
    let ws = Workspace::new();
    for command in [
        "ingest", "score", "export", "stats", "show", "rubric", "synth",
    ] {
        let (code, out, err) = run_grader(&ws.db_path(), &[command, "--help"]);
        assert_eq!(code, 0, "{command}: {err}");
        assert!(out.contains("Usage: mlsys-grader"), "{command}: {out}");
    }
    let (code, _, err) = run_grader(&ws.db_path(), &["export", "--format", "xls"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values: csv, canvas, json"), "{err}");
}

#[test]
fn the_printed_rubric_is_the_built_in_one_and_parses() {
    let ws = Workspace::new();
    let (code, out, _) = run_grader(&ws.db_path(), &["rubric"]);
    assert_eq!(code, 0);
    assert_eq!(out, DEFAULT_RUBRIC);
    let rubric = Rubric::parse(&Scorers::builtin(), &out, "printed").unwrap();
    assert_eq!(
        format!("{rubric:?}"),
        format!("{:?}", Rubric::builtin(&SCORER))
    );
    assert_eq!(rubric.max_total(), 25.0);
}

#[test]
fn a_bad_rubric_is_one_clear_error_and_changes_nothing() {
    let ws = Workspace::new();
    ws.put(&play("ada", before_due(48), &Script::all_correct()));
    let db = ws.db_path();
    run_grader(
        &db,
        &["ingest", "--unverified", ws.inbox().to_str().unwrap()],
    );
    let bad = ws.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        DEFAULT_RUBRIC.replace("prediction_correct = 2.0", "prediction_correct = -1.0"),
    )
    .unwrap();
    let (code, _, err) = run_grader(&db, &["score", "--rubric", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("act1.prediction_correct must be a number ≥ 0, got -1"),
        "{err}"
    );
    let graded: i64 = ws
        .open()
        .conn
        .query_row("SELECT COUNT(*) FROM grades", [], |r| r.get(0))
        .unwrap();
    assert_eq!(graded, 0);
}

#[test]
fn the_database_is_versioned_wal_with_foreign_keys() {
    let ws = Workspace::new();
    let db = ws.open();
    let version: i64 = db
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = db
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = db
        .conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    // A score for a submission that does not exist is refused.
    let orphan = db.conn.execute(
        "INSERT INTO submission_scores VALUES ('nope', 0, 0, 0, 0)",
        [],
    );
    assert!(orphan.is_err());
    drop(db);
    // Reopening migrates nothing; a newer schema is refused with a clear error.
    Db::open(&ws.db_path()).unwrap();
    rusqlite::Connection::open(ws.db_path())
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    match Db::open(&ws.db_path()) {
        Err(GraderError::SchemaTooNew { found, known, .. }) => {
            assert_eq!((found, known), (SCHEMA_VERSION + 1, SCHEMA_VERSION))
        }
        other => panic!("expected SchemaTooNew, got {:?}", other.err()),
    }
}

#[test]
fn raw_prints_a_submission_exactly_as_ingested() {
    let ws = Workspace::new();
    let submission = play("ada", before_due(48), &Script::all_correct());
    let path = ws.put(&submission);
    let db = ws.db_path();
    run_grader(&db, &["ingest", "--unverified", path.to_str().unwrap()]);
    let output = std::process::Command::new(grader_bin())
        .arg("--db")
        .arg(&db)
        .args(["raw", &submission.id.to_string()])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout, std::fs::read(&path).unwrap());
    let stored: i64 = ws
        .open()
        .conn
        .query_row("SELECT length(raw_lz4) FROM submissions", [], |r| r.get(0))
        .unwrap();
    assert!(
        (stored as usize) < output.stdout.len() / 3,
        "compressed: {stored} bytes"
    );
    let (code, _, err) = run_grader(&db, &["raw", "00000000-0000-0000-0000-000000000000"]);
    assert_eq!(code, 2);
    assert!(err.contains("no submission 00000000"), "{err}");
}
