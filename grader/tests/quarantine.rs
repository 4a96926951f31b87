//! Hand-made bad submissions: each lands in quarantine with its reason, raw
//! bytes kept; good ones are stored; re-ingesting changes nothing.

mod common;

use common::*;
use mlsys_grader::labs::data_storage::synth::Recorder;
use mlsys_model::labs::data_storage::Context;
use mlsys_model::record::{EventKind, Submission};
use mlsys_model::{Act, Choice};
use serde_json::{json, Value};

fn good(student: &str) -> Submission {
    play(student, before_due(48), &Script::all_correct())
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap()
}

fn edited(student: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value = serde_json::to_value(good(student)).unwrap();
    edit(&mut value);
    bytes(&value)
}

/// Index of the first event of `type` in the all-correct script.
fn index_of(value: &Value, kind: &str) -> usize {
    value["events"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["type"] == kind)
        .unwrap()
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    reason: &'static str,
    detail: &'static str,
}

fn cases() -> Vec<Case> {
    let good_bytes = serde_json::to_vec_pretty(&good("trunc")).unwrap();
    let mut run_before_lock = Recorder::new("eve", before_due(30));
    run_before_lock.context(Context::DistributedFs).unwrap();
    run_before_lock.record_unchecked(EventKind::InstrumentRun {
        act: Act::Act1,
        inputs: serde_json::to_value(io_healthy()).unwrap(),
        source: Default::default(),
    });
    let run_before_lock = serde_json::to_vec_pretty(&run_before_lock.submit()).unwrap();
    let mut relock = Recorder::new("mallory", before_due(30));
    relock.predict(Act::Act1, Choice::A).unwrap();
    relock.record_unchecked(EventKind::PredictionLocked {
        act: Act::Act1,
        choice: Choice::B,
    });
    let relock = serde_json::to_vec_pretty(&relock.submit()).unwrap();
    vec![
        Case {
            name: "truncated",
            bytes: good_bytes[..good_bytes.len() / 2].to_vec(),
            reason: "malformed_json",
            detail: "truncated",
        },
        Case {
            name: "empty",
            bytes: b"\n".to_vec(),
            reason: "malformed_json",
            detail: "empty",
        },
        Case {
            name: "not-json",
            bytes: b"schema_version: 1\n".to_vec(),
            reason: "malformed_json",
            detail: "not valid JSON",
        },
        Case {
            name: "schema-2",
            bytes: edited("sam", |v| v["schema_version"] = json!(2)),
            reason: "unknown_schema_version",
            detail: "schema version 2",
        },
        Case {
            name: "schema-3-other-shape",
            bytes: bytes(&json!({"schema_version": 3, "student": "tom", "payload": []})),
            reason: "unknown_schema_version",
            detail: "schema version 3",
        },
        Case {
            name: "not-a-submission",
            bytes: bytes(&json!({"schema_version": 1, "student": "una"})),
            reason: "invalid_submission",
            detail: "missing field",
        },
        Case {
            name: "wrong-lab",
            bytes: edited("lab", |v| v["lab"] = json!("v2_05")),
            reason: "wrong_lab",
            detail: "v2_05",
        },
        Case {
            name: "event-of-another-lab",
            bytes: edited("evlab", |v| v["events"][3]["lab"] = json!("v2_03")),
            reason: "wrong_lab",
            detail: "event 3",
        },
        Case {
            name: "out-of-order",
            bytes: edited("clock", |v| {
                let earlier = v["events"][0]["at"].clone();
                v["events"][5]["at"] = earlier;
            }),
            reason: "events_out_of_order",
            detail: "event 5",
        },
        Case {
            name: "created-before-events",
            bytes: edited("early", |v| v["created_at"] = v["events"][0]["at"].clone()),
            reason: "events_out_of_order",
            detail: "before its last event",
        },
        Case {
            name: "duplicate-event-id",
            bytes: edited("dupev", |v| {
                v["events"][4]["id"] = v["events"][3]["id"].clone()
            }),
            reason: "duplicate_event",
            detail: "event 4",
        },
        Case {
            name: "run-before-prediction",
            bytes: run_before_lock,
            reason: "lock_violated",
            detail: "prediction is not locked",
        },
        Case {
            name: "second-prediction",
            bytes: relock,
            reason: "lock_violated",
            detail: "already locked as A",
        },
        Case {
            name: "inputs-out-of-range",
            bytes: edited("wide", |v| {
                let i = index_of(v, "instrument_run");
                v["events"][i]["inputs"]["workers"] = json!(99);
            }),
            reason: "invalid_inputs",
            detail: "workers",
        },
        Case {
            name: "tampered-design-numbers",
            bytes: edited("tamper", |v| {
                let i = index_of(v, "design_saved");
                v["events"][i]["design"]["io_throughput_gbs"] = json!(999.0);
                v["design"]["io_throughput_gbs"] = json!(999.0);
            }),
            reason: "tampered_numbers",
            detail: "io_throughput_gbs is 999.0, the runs give 302.64",
        },
        Case {
            name: "tampered-handed-in-design",
            bytes: edited("swap", |v| v["design"]["mds_saturated"] = json!(true)),
            reason: "tampered_numbers",
            detail: "does not match the design saved",
        },
        Case {
            name: "formula-student",
            bytes: edited("x", |v| v["student"] = json!("=HYPERLINK(\"x\")")),
            reason: "invalid_student",
            detail: "not a login",
        },
    ]
}

#[test]
fn each_bad_fixture_lands_in_quarantine_with_its_reason() {
    let ws = Workspace::new();
    let cases = cases();
    let mut paths: Vec<_> = cases
        .iter()
        .map(|c| ws.put_raw(&format!("{}.json", c.name), &c.bytes))
        .collect();
    let ok = good("ada");
    paths.push(ws.put(&ok));

    let summary = ws.ingest(&paths);
    assert_eq!(
        (summary.ingested, summary.duplicates, summary.quarantined),
        (1, 0, cases.len())
    );

    let db = ws.open();
    for case in &cases {
        let source = ws.inbox().join(format!("{}.json", case.name));
        let (reason, detail, sha256): (String, String, String) = db
            .conn
            .query_row(
                "SELECT reason, detail, sha256 FROM quarantine WHERE source = ?1",
                [source.display().to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap_or_else(|e| panic!("{} not quarantined: {e}", case.name));
        let raw = db.quarantined_bytes(&sha256).unwrap().unwrap();
        assert_eq!(reason, case.reason, "{}: {detail}", case.name);
        assert!(
            detail.contains(case.detail),
            "{}: detail {detail:?} lacks {:?}",
            case.name,
            case.detail
        );
        assert_eq!(raw, case.bytes, "{}: raw bytes kept", case.name);
    }
    let stored: String = db
        .conn
        .query_row("SELECT student FROM submissions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, "ada");

    // Again, plus a copy of the good file under another name: nothing changes.
    let copy = ws.put_raw(
        "copy-of-ada.json",
        &std::fs::read(&paths[paths.len() - 1]).unwrap(),
    );
    paths.push(copy);
    let again = ws.ingest(&paths);
    assert_eq!(
        (again.ingested, again.duplicates, again.quarantined),
        (0, cases.len() + 2, 0)
    );
    let counts: (i64, i64, i64) = db
        .conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM submissions), (SELECT COUNT(*) FROM quarantine), \
             (SELECT COUNT(*) FROM answers)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(counts, (1, cases.len() as i64, 4));
}

#[test]
fn a_reused_submission_id_with_other_content_is_an_id_conflict() {
    let ws = Workspace::new();
    let original = good("ada");
    let first = ws.put(&original);
    let mut altered = serde_json::to_value(&original).unwrap();
    altered["created_at"] = json!("2026-12-14T20:00:00Z");
    let second = ws.put_raw("altered.json", &bytes(&altered));
    let summary = ws.ingest(&[first.clone(), second]);
    assert_eq!((summary.ingested, summary.quarantined), (1, 1));
    let db = ws.open();
    let (reason, detail, id, sha256): (String, String, String, String) = db
        .conn
        .query_row(
            "SELECT reason, detail, submission_id, sha256 FROM quarantine",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let raw = db.quarantined_bytes(&sha256).unwrap().unwrap();
    assert_eq!(
        raw,
        bytes(&altered),
        "the conflicting file's bytes are kept"
    );
    assert_eq!(reason, "id_conflict");
    assert_eq!(id, original.id.to_string());
    assert!(detail.contains(&first.display().to_string()), "{detail}");
}

#[test]
fn the_cli_summarizes_quarantines_and_reports_unreadable_paths() {
    let ws = Workspace::new();
    ws.put(&good("ada"));
    ws.put_raw("broken.json", b"{\"schema_version\": 1,");
    ws.put_raw(".hidden.json.part", b"ignored: hidden files are skipped");
    ws.put_raw("notes.txt", b"ignored: not *.json");
    let db = ws.db_path();
    let inbox = ws.inbox().display().to_string();
    let (code, out, err) = run_grader(&db, &["ingest", "--unverified", &inbox]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "ingested 1, duplicates 0, quarantined 1 (2 files read)"
    );
    assert!(
        err.contains("broken.json: malformed_json: truncated"),
        "{err}"
    );

    let missing = ws.dir.path().join("missing.json").display().to_string();
    let (code, out, err) = run_grader(&db, &["ingest", "--unverified", &inbox, &missing]);
    assert_eq!(code, 1);
    assert_eq!(
        out.trim(),
        "ingested 0, duplicates 2, quarantined 0 (3 files read, 1 unreadable)"
    );
    assert!(
        err.contains("cannot read") && err.contains("missing.json"),
        "{err}"
    );
}

#[test]
fn stdin_is_one_submission() {
    let ws = Workspace::new();
    let submission = good("stdin-student");
    let mut child = std::process::Command::new(grader_bin())
        .arg("--db")
        .arg(ws.db_path())
        .args(["ingest", "--unverified", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(&submission).unwrap())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ingested 1,"));
    let source: String = ws
        .open()
        .conn
        .query_row("SELECT source FROM submissions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(source, "<stdin>");
}
