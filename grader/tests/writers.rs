//! Several writers on one database (the service and `mlsys-grader ingest`,
//! two ingests), and what is promised once the grader says a submission is
//! stored: real SQLite files, real threads, a real SIGKILL.

mod common;

use common::*;
use mlsys_grader::db::Db;
use mlsys_grader::ingest::check_one;
use mlsys_grader::labs::data_storage::SCORER;
use mlsys_grader::labs::{LabScorer, Scorers};
use mlsys_grader::synth::{write_class, Rng};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// `count` distinct valid submissions of students `<prefix>NNN`, as bytes.
fn class(prefix: &str, count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| {
            let submission =
                SCORER.synthetic(&format!("{prefix}{i:03}"), before_due(24), 12, &mut rng);
            serde_json::to_vec(&submission).unwrap()
        })
        .collect()
}

#[test]
fn two_writers_at_once_both_store_everything_once() {
    let ws = Workspace::new();
    drop(ws.open());
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .enumerate()
        .map(|(n, prefix)| {
            let path = ws.db_path();
            std::thread::spawn(move || {
                let scorers = Scorers::builtin();
                let mut db = Db::open(&path).unwrap();
                for (i, chunk) in class(prefix, 240, n as u64).chunks(2).enumerate() {
                    let batch = chunk
                        .iter()
                        .map(|raw| check_one(&scorers, &format!("{prefix}{i}"), raw.clone()))
                        .collect();
                    db.store(batch, "2026-12-01T00:00:00.000000Z", None)
                        .unwrap_or_else(|e| panic!("writer {prefix}, batch {i}: {e}"));
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let db = ws.open();
    let stored: i64 = db
        .conn
        .query_row("SELECT COUNT(DISTINCT id) FROM submissions", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, 480);
}

#[test]
fn every_commit_is_synced_to_disk_before_it_returns() {
    let ws = Workspace::new();
    let db = ws.open();
    let synchronous: i64 = db
        .conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(synchronous, 2, "FULL");
}

#[test]
fn a_quarantine_ingest_reported_survives_a_sigkill_right_after() {
    // The bad file sorts first, so it is reported after the first group
    // commit while hundreds of files are still to come; the report is the
    // acknowledgement, and the kill follows it at once.
    let ws = Workspace::new();
    write_class(&SCORER, &ws.inbox(), 1500, 300, 20, due(), 5).unwrap();
    let bad = ws.put_raw("0-broken.json", b"{\"schema_version\": 1,");
    let mut child = Command::new(grader_bin())
        .arg("--db")
        .arg(ws.db_path())
        .args(["ingest", "--unverified"])
        .arg(ws.inbox())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        line.starts_with(&format!("quarantined {}: malformed_json", bad.display())),
        "{line}"
    );
    let db = ws.open();
    let kept: i64 = db
        .conn
        .query_row(
            "SELECT COUNT(*) FROM quarantine WHERE source = ?1",
            [bad.display().to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1, "reported, so stored (exit: {status:?})");
}
