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
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 2000;

fn stored_count(db: &std::path::Path) -> i64 {
    let Ok(conn) = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return 0;
    };
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))
        .unwrap_or(0)
}

#[test]
fn a_killed_ingest_resumes_without_loss_or_duplicates() {
    let ws = Workspace::new();
    let files = write_class(&SCORER, &ws.inbox(), FILES, 500, 50, due(), 7).unwrap();
    let db = ws.db_path();

    let mut child = Command::new(grader_bin())
        .arg("--db")
        .arg(&db)
        .args(["ingest", "--unverified"])
        .arg(ws.inbox())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a part (but not all) is stored.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = 0;
    while seen < 50 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        seen = stored_count(&db);
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "the ingest finished before it could be killed"
    );
    let before = stored_count(&db);
    assert!(
        before > 0 && (before as usize) < FILES,
        "killed after {before} of {FILES}"
    );

    let (code, out, err) = run_grader(
        &db,
        &["ingest", "--unverified", ws.inbox().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let fresh = FILES - before as usize;
    assert_eq!(
        out.trim(),
        format!("ingested {fresh}, duplicates {before}, quarantined 0 ({FILES} files read)")
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
    assert_eq!(quarantined, 0);

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
