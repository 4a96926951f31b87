//! `kill -9` during a large ingest, then a rerun: the database is consistent,
//! nothing is missing, nothing is doubled. A real child process, a real SIGKILL,
//! a real SQLite file.

mod common;

use common::*;
use mlsys_grader::encode::sha256_hex;
use mlsys_grader::labs::data_storage::SCORER;
use mlsys_grader::synth::write_class;
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const FILES: usize = 2000;

/// A file that is not JSON, named to sort right after the first 100 students'
/// files (400 of the 2,000): ingest reports it on stderr once the group
/// holding it is committed, which marks where the test kills the ingest.
const MARKER: &str = "v2_04-student00099_broken.json";

/// Tries before giving up on killing an ingest before it finishes.
const ATTEMPTS: usize = 5;

fn stored_count(db: &Path) -> i64 {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))
        .unwrap()
}

/// Ingests `inbox` into a fresh `db` and SIGKILLs the ingest as soon as it
/// reports the marker file quarantined (so every file sorted before it is
/// committed); returns how many submissions were stored, or `None` when the
/// ingest had stored everything or exited before the signal landed.
fn ingest_killed_after_marker(db: &Path, inbox: &Path) -> Option<i64> {
    for file in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{file}", db.display()));
    }
    let mut child = Command::new(grader_bin())
        .arg("--db")
        .arg(db)
        .args(["ingest", "--unverified"])
        .arg(inbox)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let marker = inbox.join(MARKER);
    assert!(
        line.starts_with(&format!("quarantined {}: ", marker.display())),
        "the first line on stderr names the marker: {line:?}"
    );
    child.kill().unwrap(); // SIGKILL (a no-op if it has exited)
    let status = child.wait().unwrap();
    let stored = stored_count(db);
    (status.signal() == Some(9) && (stored as usize) < FILES).then_some(stored)
}

#[test]
fn a_killed_ingest_resumes_without_loss_or_duplicates() {
    let ws = Workspace::new();
    let files = write_class(&SCORER, &ws.inbox(), FILES, 500, 50, due(), 7).unwrap();
    let marker = ws.put_raw(MARKER, b"{\"schema_version\": 1,");
    let before_marker = files.iter().filter(|f| **f < marker).count();
    assert_eq!(before_marker, 400);
    let db = ws.db_path();

    let before = (0..ATTEMPTS)
        .find_map(|_| ingest_killed_after_marker(&db, &ws.inbox()))
        .unwrap_or_else(|| panic!("the ingest outran its kill {ATTEMPTS} times"));
    assert!(
        before as usize >= before_marker,
        "killed after {before} of {FILES}: every file before the marker is stored"
    );

    let (code, out, err) = run_grader(
        &db,
        &["ingest", "--unverified", ws.inbox().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let fresh = FILES - before as usize;
    let files_read = FILES + 1;
    assert_eq!(
        out.trim(),
        format!(
            "ingested {fresh}, duplicates {}, quarantined 0 ({files_read} files read)",
            before + 1
        ),
        "the marker was quarantined once, before the kill"
    );

    let conn = Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let orphans: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(orphans, 0);
    let quarantined: i64 = conn
        .query_row("SELECT COUNT(*) FROM quarantine", [], |r| r.get(0))
        .unwrap();
    assert_eq!(quarantined, 1, "the marker");

    // Exactly one row per file, with the file's bytes and every answer it holds.
    let mut statement = conn
        .prepare(
            "SELECT s.source, s.sha256, s.id, (SELECT COUNT(*) FROM answers a WHERE a.submission_id = s.id) \
             FROM submissions s",
        )
        .unwrap();
    let rows: BTreeMap<String, (String, String, i64)> = statement
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), FILES);
    let grader_db = mlsys_grader::db::Db::open(&db).unwrap();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let (sha, id, answers) = &rows[&path.display().to_string()];
        assert_eq!(*sha, sha256_hex(&bytes));
        assert_eq!(grader_db.raw_bytes(id).unwrap().unwrap(), bytes);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let expected = value["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "prediction_locked" || e["type"] == "reflection_answered")
            .count();
        assert_eq!(*answers, expected as i64, "{}", path.display());
    }
}
