//! An exchange directory written by hostile students, ingested by the real
//! binary into a real SQLite file: FIFOs, symbolic links, oversized files,
//! names with terminal escapes, and a database that fails mid-ingest. Nothing
//! hangs, nothing outside the exchange is read, every problem is reported.

mod common;

use common::*;
use mlsys_grader::db::Db;
use mlsys_grader::labs::data_storage::SCORER;
use mlsys_grader::source::{Source, DEFAULT_MAX_BYTES, KEPT_OF_TOO_LARGE};
use mlsys_grader::synth::write_class;
use rusqlite::Connection;
use rustix::fs::{mknodat, FileType, Mode, CWD};
use std::io::Read;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the grader binary on `db` with `args`; a run longer than `limit` is
/// killed and fails the test as a hang. Returns (exit code, stdout, stderr).
fn run_within(db: &Path, args: &[&str], limit: Duration) -> (i32, String, String) {
    let mut child = Command::new(grader_bin())
        .arg("--db")
        .arg(db)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("mlsys-grader {args:?} hung: killed after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code().unwrap_or(-1),
        out.join().unwrap(),
        err.join().unwrap(),
    )
}

fn ingest(ws: &Workspace) -> (i32, String, String) {
    run_within(
        &ws.db_path(),
        &["ingest", "--unverified", ws.inbox().to_str().unwrap()],
        Duration::from_secs(60),
    )
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn good(ws: &Workspace, student: &str) {
    ws.put(&play(student, before_due(48), &Script::all_correct()));
}

#[test]
fn a_fifo_named_like_a_submission_is_reported_and_does_not_hang_ingest() {
    let ws = Workspace::new();
    good(&ws, "ada");
    let fifo = ws.inbox().join("v2_04-mallory-0.json");
    mknodat(CWD, &fifo, FileType::Fifo, Mode::from_raw_mode(0o666), 0).unwrap();
    let (code, out, err) = ingest(&ws);
    assert_eq!(code, 1, "an unreadable file is exit status 1: {err}");
    assert_eq!(
        out.trim(),
        "ingested 1, duplicates 0, quarantined 0 (2 files read, 1 unreadable)"
    );
    assert!(
        err.contains(&format!(
            "cannot read {}: a FIFO, not a regular file: not read",
            fifo.display()
        )),
        "{err}"
    );
}

#[test]
fn a_symbolic_link_to_a_private_file_is_not_followed() {
    let ws = Workspace::new();
    good(&ws, "ada");
    let secret = ws.dir.path().join("secret.json");
    std::fs::write(&secret, b"{\"token\": \"the instructor's secret\"}").unwrap();
    std::fs::set_permissions(&secret, PermissionsExt::from_mode(0o600)).unwrap();
    let link = ws.inbox().join("v2_04-mallory-1.json");
    symlink(&secret, &link).unwrap();
    let (code, out, err) = ingest(&ws);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out.trim(),
        "ingested 1, duplicates 0, quarantined 0 (2 files read, 1 unreadable)"
    );
    assert!(
        err.contains(&format!(
            "cannot read {}: a symbolic link: not followed",
            link.display()
        )),
        "{err}"
    );
    assert_eq!(count(&ws.db_path(), "SELECT COUNT(*) FROM quarantine"), 0);
}

#[test]
fn a_directory_swapped_for_a_link_after_listing_is_not_followed() {
    // Between the listing and the read a student replaces a subdirectory of
    // the exchange with a link to a directory they may not read.
    let ws = Workspace::new();
    let private = ws.dir.path().join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::write(private.join("x.json"), b"{\"secret\": 1}").unwrap();
    symlink(&private, ws.inbox().join("sub")).unwrap();
    let source = Source::Below {
        top: ws.inbox(),
        path: "sub/x.json".into(),
    };
    let error = source.read(DEFAULT_MAX_BYTES).unwrap_err();
    assert_eq!(
        error.to_string(),
        "a directory on the way is a symbolic link: not followed"
    );
    // The same file reached without a link is read, with its owner and ctime.
    let direct = Source::Below {
        top: ws.dir.path().to_path_buf(),
        path: "private/x.json".into(),
    };
    let entry = direct.read(DEFAULT_MAX_BYTES).unwrap();
    assert_eq!(entry.bytes, b"{\"secret\": 1}");
    let facts = entry.file.unwrap();
    let meta = std::fs::metadata(private.join("x.json")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        (
            facts.uid,
            facts.ctime_secs,
            i64::from(facts.ctime_nanos),
            facts.size
        ),
        (meta.uid(), meta.ctime(), meta.ctime_nsec(), 13)
    );
}

#[test]
fn an_oversized_file_is_quarantined_as_too_large_with_only_its_start_kept() {
    let ws = Workspace::new();
    good(&ws, "ada");
    // 64 MiB, sparse: cheap to make, and 32 times the limit.
    let big = ws.inbox().join("v2_04-mallory-2.json");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(64 << 20).unwrap();
    let (code, out, err) = ingest(&ws);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "ingested 1, duplicates 0, quarantined 1 (2 files read)"
    );
    let limit = DEFAULT_MAX_BYTES;
    let expected = format!(
        "quarantined {}: too_large: 67108864 bytes, over the limit of {limit}; only the first \
         {KEPT_OF_TOO_LARGE} were read and are kept",
        big.display()
    );
    assert!(err.contains(&expected), "{err}");
    let db = Db::open(&ws.db_path()).unwrap();
    let (reason, sha256): (String, String) = db
        .conn
        .query_row("SELECT reason, sha256 FROM quarantine", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(reason, "too_large");
    let kept = db.quarantined_bytes(&sha256).unwrap().unwrap();
    assert_eq!(kept, vec![0; KEPT_OF_TOO_LARGE]);
    // Ingesting again changes nothing; a lower limit (as the service's) applies too.
    let (code, out, _) = ingest(&ws);
    assert_eq!(
        (code, out.trim()),
        (0, "ingested 0, duplicates 2, quarantined 0 (2 files read)")
    );
    let small = ws.put_raw("v2_04-eve-3.json", &[b' '; 3000]);
    let (code, _, err) = run_within(
        &ws.db_path(),
        &[
            "ingest",
            "--unverified",
            "--max-kib",
            "2",
            small.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("too_large: 3000 bytes, over the limit of 2048"),
        "{err}"
    );
}

#[test]
fn names_and_details_are_printed_with_control_characters_escaped() {
    let ws = Workspace::new();
    // A name that would erase the line and print a fake summary.
    let name = "v2_04-x\u{1b}[2K\rall good\u{202e}.json";
    ws.put_raw(name, b"{\"student\": \"\x1b]0;pwned\x07\"");
    let (code, _, err) = ingest(&ws);
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains(['\u{1b}', '\r', '\u{7}', '\u{202e}']),
        "raw control characters: {err:?}"
    );
    assert!(
        err.contains("v2_04-x\\u{1b}[2K\\u{d}all good\\u{202e}.json: malformed_json"),
        "{err}"
    );
    // `show` prints the names and causes a student chose the same way.
    ws.put_raw(
        "v2_04-eve-\u{1b}[31m.json",
        b"{\"schema_version\": 1, \"student\": \"eve\", \"id\": \"\\u001b[2J\"}",
    );
    ingest(&ws);
    let (code, out, err) = run_within(&ws.db_path(), &["show", "eve"], Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("v2_04-eve-\\u{1b}[31m.json"), "{out}");
}

#[test]
fn a_database_failure_mid_ingest_ends_it_with_the_error_and_a_nonzero_exit() {
    // More files than the reader may queue (512), and the disk "fills up"
    // after 300 submissions: an injected failure inside SQLite itself.
    let ws = Workspace::new();
    write_class(&SCORER, &ws.inbox(), 2000, 500, 20, due(), 11).unwrap();
    drop(ws.open());
    Connection::open(ws.db_path())
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER disk_full AFTER INSERT ON submissions \
             WHEN (SELECT COUNT(*) FROM submissions) >= 300 \
             BEGIN SELECT RAISE(ABORT, 'database or disk is full (injected)'); END;",
        )
        .unwrap();
    let (code, out, err) = ingest(&ws);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("database or disk is full (injected)"),
        "the error is printed: {err}"
    );
    assert_eq!(out, "", "no summary after a failure");
    let stored = count(&ws.db_path(), "SELECT COUNT(*) FROM submissions");
    assert!(
        (1..300).contains(&stored),
        "whole groups before the failure stay stored: {stored}"
    );
}

#[test]
fn the_database_is_private_and_an_exposed_one_is_warned_about() {
    let ws = Workspace::new();
    good(&ws, "ada");
    let (code, _, err) = ingest(&ws);
    assert_eq!(code, 0, "{err}");
    // Open, so the -wal and -shm files exist (SQLite gives them the database's mode).
    let open = Db::open(&ws.db_path()).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", ws.db_path().display());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path}");
    }
    assert!(!err.contains("warning"), "{err}");
    drop(open);
    std::fs::set_permissions(ws.db_path(), PermissionsExt::from_mode(0o644)).unwrap();
    let (code, _, err) = run_within(&ws.db_path(), &["stats"], Duration::from_secs(60));
    assert_eq!(code, 2, "not scored yet");
    assert!(
        err.starts_with(&format!(
            "mlsys-grader: warning: other users can read the grader database: {} (mode 644)",
            ws.db_path().display()
        )),
        "{err}"
    );
    // A database of another user (the service's), opened as root: said.
    if rustix::process::geteuid().is_root() {
        std::os::unix::fs::chown(ws.db_path(), Some(65534), None).unwrap();
        let (_, _, err) = run_within(&ws.db_path(), &["stats"], Duration::from_secs(60));
        assert!(
            err.contains(
                "belongs to user id 65534, not to you (user id 0): run the grader as its owner"
            ),
            "{err}"
        );
    }
}
