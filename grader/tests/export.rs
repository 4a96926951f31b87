//! `export` in its three formats, read back as an importer would.

mod common;

use common::*;
use mlsys_model::Choice;

fn scored_class() -> Workspace {
    let ws = Workspace::new();
    ws.put(&play("ada", before_due(48), &Script::all_correct()));
    let wrong = Script {
        predictions: [Choice::A, Choice::C],
        reflections: [Choice::C, Choice::D],
        ..Script::all_correct()
    };
    // A login with a comma and a quote: the CSV must quote it.
    ws.put(&play("o'neil, k", before_due(30), &wrong));
    ws.put_raw(
        "broken.json",
        b"{\"schema_version\": 1, \"student\": \"zed\", ",
    );
    ws.put_raw(
        "zed.json",
        br#"{"schema_version": 1, "student": "zed", "id": "not-a-uuid"}"#,
    );
    let db = ws.db_path();
    let inbox = ws.inbox();
    assert_eq!(
        run_grader(&db, &["ingest", "--unverified", inbox.to_str().unwrap()]).0,
        0
    );
    let (code, out, err) = run_grader(&db, &["score"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "scored 2 submissions of 3 students (0 late, 1 with no valid submission); mean 21.00 / 25"
    );
    ws
}

#[test]
fn csv_has_one_quoted_row_per_student() {
    let ws = scored_class();
    let out_file = ws.dir.path().join("grades.csv");
    let (code, out, err) = run_grader(
        &ws.db_path(),
        &[
            "export",
            "--format",
            "csv",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let text = std::fs::read_to_string(&out_file).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "student",
            "status",
            "submission_id",
            "submitted_at",
            "late_days",
            "act1",
            "act2",
            "design",
            "raw_total",
            "late_penalty",
            "total",
            "max_total",
            "flags"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][0], "ada");
    assert_eq!(
        &rows[0][4..],
        [
            "0",
            "10.00",
            "10.00",
            "5.00",
            "25.00",
            "0.00",
            "25.00",
            "25.00",
            "unverified"
        ]
    );
    assert_eq!(rows[1][0], "o'neil, k");
    assert_eq!(rows[1][10], "17.00");
    assert!(text.contains("\"o'neil, k\""), "{text}");
    assert_eq!(
        rows[2],
        [
            "zed",
            "no_valid_submission",
            "",
            "",
            "0",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "25.00",
            ""
        ]
    );
}

#[test]
fn canvas_export_passes_the_gradebook_importer_rules() {
    let ws = scored_class();
    let rubric = ws.dir.path().join("rubric.toml");
    let text = mlsys_grader::labs::data_storage::DEFAULT_RUBRIC
        .replace("# canvas_id = 12345", "canvas_id = 4711")
        .replace("section = \"\"", "section = \"Sec A\"");
    std::fs::write(&rubric, text).unwrap();
    let db = ws.db_path();
    assert_eq!(
        run_grader(&db, &["score", "--rubric", rubric.to_str().unwrap()]).0,
        0
    );
    let (code, out, err) = run_grader(&db, &["export", "--format", "canvas"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("canvas_id"), "{err}");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(out.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    // Header: Student, ID, …, Section last of the student columns, "Title (id)".
    assert_eq!(
        rows[0],
        [
            "Student",
            "ID",
            "SIS User ID",
            "SIS Login ID",
            "Section",
            "Lab 04: The Data Gravity Trap (4711)"
        ]
    );
    assert!(rows[0].len() > 3 && rows[0][0].contains("Student") && rows[0][1].contains("ID"));
    assert_eq!(rows[1], ["    Points Possible", "", "", "", "", "25.00"]);
    assert_eq!(rows[2], ["ada", "", "", "ada", "Sec A", "25.00"]);
    assert_eq!(
        rows[3],
        ["o'neil, k", "", "", "o'neil, k", "Sec A", "17.00"]
    );
    assert_eq!(rows[4], ["zed", "", "", "zed", "Sec A", "0.00"]);
    assert_eq!(rows.len(), 5);
    // The importer's assignment-column pattern: /\A(.*)\s\((\d+)\)\z/.
    let column = &rows[0][5];
    let open = column.rfind(" (").unwrap();
    assert_eq!(&column[open + 2..column.len() - 1], "4711");
    assert!(column.ends_with(')'));
}

#[test]
fn json_export_carries_every_item_and_reason() {
    let ws = scored_class();
    let (code, out, err) = run_grader(&ws.db_path(), &["export", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["max_total"], 25.0);
    let students = json["students"].as_array().unwrap();
    assert_eq!(students.len(), 3);
    let ada = &students[0];
    assert_eq!(ada["student"], "ada");
    let items = ada["items"].as_array().unwrap();
    assert_eq!(items.len(), 12);
    let sum: f64 = items.iter().map(|i| i["points"].as_f64().unwrap()).sum();
    assert_eq!(sum, 25.0);
    assert_eq!(items[4]["id"], "act1.challenge");
    assert!(items[4]["reason"]
        .as_str()
        .unwrap()
        .contains("reached 100.0% GPU utilization"));
}

#[test]
fn export_needs_scores_and_warns_when_they_are_stale() {
    let ws = Workspace::new();
    ws.put(&play("ada", before_due(48), &Script::all_correct()));
    let db = ws.db_path();
    let (code, _, err) = run_grader(&db, &["export", "--format", "csv"]);
    assert_eq!(code, 2);
    assert!(err.contains("no grader database"), "{err}");
    let inbox = ws.inbox();
    run_grader(&db, &["ingest", "--unverified", inbox.to_str().unwrap()]);
    let (code, _, err) = run_grader(&db, &["export", "--format", "csv"]);
    assert_eq!(code, 2);
    assert!(err.contains("run `mlsys-grader score` first"), "{err}");
    run_grader(&db, &["score"]);
    let (_, _, err) = run_grader(&db, &["export", "--format", "csv"]);
    assert!(!err.contains("warning"), "{err}");
    ws.put(&play("bob", before_due(20), &Script::all_correct()));
    run_grader(&db, &["ingest", "--unverified", inbox.to_str().unwrap()]);
    let (code, out, err) = run_grader(&db, &["export", "--format", "csv"]);
    assert_eq!(code, 0);
    assert!(
        err.contains("warning: submissions were ingested after the last `score`"),
        "{err}"
    );
    assert_eq!(
        out.lines().count(),
        2,
        "bob is not graded until the next score"
    );
}

#[test]
fn stats_count_the_class_answers() {
    let ws = scored_class();
    let (code, out, err) = run_grader(&ws.db_path(), &["stats"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Answers of the 2 counting submissions"),
        "{out}"
    );
    // Act I prediction: ada B, o'neil A.
    let act1 = out.split("Act I prediction").nth(1).unwrap();
    let lines: Vec<&str> = act1.lines().skip(1).take(5).collect();
    assert!(
        lines[0].trim_start().starts_with("A      1  50.0%"),
        "{lines:?}"
    );
    assert!(
        lines[1].trim_start().starts_with("*B      1  50.0%"),
        "{lines:?}"
    );
    assert!(
        lines[2].trim_start().starts_with("C      0   0.0%"),
        "{lines:?}"
    );
    assert!(
        out.contains(
            "Scores of 3 students (out of 25.00): mean 14.00, median 17.00, min 0.00, max 25.00"
        ),
        "{out}"
    );
    assert!(out.contains("Quarantined files: 2"), "{out}");
    assert!(out.contains("malformed_json"), "{out}");
    assert!(out.contains("invalid_submission"), "{out}");
}
