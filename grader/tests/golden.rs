//! The grader's outputs stay byte for byte what the release of schema version 1
//! wrote (`tests/fixtures/v1/`, see its README): its command-line output for
//! a fresh ingest of the same class, and everything it reads back from the
//! database that release wrote, which the grader upgrades in place on open.

mod common;

use common::run_grader_in;
use mlsys_grader::db::{Db, SCHEMA_VERSION};
use mlsys_grader::export::Format;
use mlsys_grader::labs::Scorers;
use mlsys_grader::serve::store::{Store, StoreLimits};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// The students whose `show` output is kept.
const SHOWN: [&str; 5] = ["student00000", "student00004", "student00011", "zoe", "yan"];

/// When that release quarantined the bad files of the class (one ingest run).
const FIXTURE_QUARANTINED_AT: &str = "2026-12-03T06:58:19.720505Z";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

/// Which outputs a check compares with.
#[derive(Clone, Copy, PartialEq)]
enum Golden {
    /// What the schema-1 release printed (`golden/`): never rewritten; what an
    /// upgraded database must read back, stored score reasons included.
    Old,
    /// What this build prints for a fresh ingest (`current/`): the old outputs
    /// with the lab's texts as they are now (the questions' wording follows the
    /// seed since issue 16). `MLSYS_UPDATE_GOLDEN=1` rewrites these files; their
    /// diff against `golden/` must show only deliberate text changes.
    Current,
}

fn golden_in(which: Golden, name: &str) -> String {
    let dir = match which {
        Golden::Old => "golden",
        Golden::Current => "current",
    };
    let path = fixtures().join(dir).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn golden(name: &str) -> String {
    golden_in(Golden::Old, name)
}

/// Checks `actual` against golden file `name` of `which`.
fn assert_golden(which: Golden, actual: &str, name: &str, what: &str) {
    if which == Golden::Current && std::env::var_os("MLSYS_UPDATE_GOLDEN").is_some() {
        std::fs::write(fixtures().join("current").join(name), actual).unwrap();
        return;
    }
    assert_eq!(actual, golden_in(which, name), "{what}");
}

/// Runs the grader in the fixtures directory (so sources are named `class/…`
/// as in the fixtures) against `db`; returns (exit code, stdout, stderr).
fn grader(db: &Path, args: &[&str]) -> (i32, String, String) {
    run_grader_in(&fixtures(), db, args)
}

/// Runs a command that must succeed and checks stdout and stderr against
/// `<name>` and `<name>.err` of `which`; `edit` is applied to stdout first.
fn check(which: Golden, db: &Path, args: &[&str], name: &str, edit: &dyn Fn(String) -> String) {
    let (code, out, err) = grader(db, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    assert_golden(which, &edit(out), name, &format!("stdout of {args:?}"));
    let err_name = format!("{name}.err");
    assert_golden(which, &err, &err_name, &format!("stderr of {args:?}"));
}

/// Checks every read-only output: exports, stats, and `show` of the kept
/// students. `stats` prints the questions from the lab model, so it is always
/// compared with the current wording.
fn check_reports(which: Golden, db: &Path, edit: &dyn Fn(String) -> String) {
    for (format, name) in [("csv", "export.csv"), ("canvas", "export.canvas")] {
        check(which, db, &["export", "--format", format], name, &|s| s);
    }
    check(
        which,
        db,
        &["export", "--format", "json"],
        "export.json",
        &|s| s,
    );
    check(Golden::Current, db, &["stats"], "stats.out", &|s| s);
    for student in SHOWN {
        let (code, out, err) = grader(db, &["show", student]);
        assert_eq!(code, 0, "show {student}: {err}");
        assert_golden(which, &edit(out), &format!("show-{student}.out"), student);
    }
}

fn no_edit(text: String) -> String {
    text
}

/// A copy of the old release's database in a fresh directory, readable by
/// its owner only (as the grader keeps it; else it warns).
fn old_database() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("grades.sqlite");
    std::fs::copy(fixtures().join("grades-v1.sqlite"), &db).unwrap();
    std::fs::set_permissions(&db, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    (dir, db)
}

fn user_version(db: &Path) -> i64 {
    Connection::open(db)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn a_fresh_ingest_of_the_fixture_class_prints_what_the_old_release_printed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("grades.sqlite");
    let (code, out, err) = grader(&db, &["ingest", "--unverified", "class"]);
    assert_eq!(code, 0, "{err}");
    assert_golden(Golden::Current, &out, "ingest.out", "stdout of ingest");
    assert_golden(Golden::Current, &err, "ingest.out.err", "stderr of ingest");
    check(Golden::Current, &db, &["score"], "score.out", &no_edit);
    check(Golden::Current, &db, &["rubric"], "rubric.out", &no_edit);
    // `show` prints when each file was quarantined: this run's time, not the fixture's.
    let quarantined_at: String = Connection::open(&db)
        .unwrap()
        .query_row("SELECT DISTINCT quarantined_at FROM quarantine", [], |r| {
            r.get(0)
        })
        .unwrap();
    check_reports(Golden::Current, &db, &|text| {
        text.replace(&quarantined_at, FIXTURE_QUARANTINED_AT)
    });
    // What ingest stores is what the old release stored, column for column
    // (quarantined bytes are compressed since schema version 3: compared as read).
    let stored = |db: &Path, raw: &str, decode: fn(&[u8]) -> Vec<u8>| -> Vec<String> {
        let conn = Connection::open(db).unwrap();
        let mut rows = Vec::new();
        for (sql, blob) in [
            (
                "SELECT id, student, lab, created_at, kernel_version, schema_version, \
                 event_count, sha256, source, facts, hex(raw_lz4) FROM submissions ORDER BY id"
                    .to_string(),
                None,
            ),
            (
                "SELECT submission_id, question, choice, '', '', '', '', '', '', '', '' \
                 FROM answers ORDER BY submission_id, question"
                    .to_string(),
                None,
            ),
            (
                format!(
                    "SELECT sha256, reason, detail, student, submission_id, source, {raw}, \
                     '', '', '', '' FROM quarantine ORDER BY sha256"
                ),
                Some(6),
            ),
        ] {
            let mut statement = conn.prepare(&sql).unwrap();
            let found = statement
                .query_map([], |r| {
                    (0..11)
                        .map(|i| {
                            let value = match blob {
                                Some(b) if b == i => rusqlite::types::Value::Text(hex(&decode(
                                    &r.get::<_, Vec<u8>>(i)?,
                                ))),
                                _ => r.get::<_, rusqlite::types::Value>(i)?,
                            };
                            Ok(format!("{value:?}"))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap();
            rows.extend(found.map(|row| row.unwrap().join("|")));
        }
        rows
    };
    let (_old_dir, old) = old_database();
    assert_eq!(
        stored(&db, "raw_lz4", |lz4| lz4_flex::decompress_size_prepended(
            lz4
        )
        .unwrap()),
        stored(&old, "raw", <[u8]>::to_vec)
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[test]
fn the_old_release_database_is_upgraded_in_place_and_reads_the_same() {
    let (_dir, db) = old_database();
    assert_eq!(user_version(&db), 1);
    check_reports(Golden::Old, &db, &no_edit);
    assert_eq!(user_version(&db), SCHEMA_VERSION);
    // Re-scoring the upgraded database gives the same grades (with the reasons
    // in the lab's current words).
    check(Golden::Old, &db, &["score"], "score.out", &no_edit);
    check_reports(Golden::Current, &db, &no_edit);
    // The stored submissions are the files' exact bytes, and all of them are known.
    let first = "01a23ab2-6557-7177-b779-78e381779ef1";
    let (code, raw, _) = grader(&db, &["raw", first]);
    assert_eq!(code, 0);
    assert_eq!(
        raw.as_bytes(),
        std::fs::read(fixtures().join("class/copy-of-first.json")).unwrap()
    );
    let (code, out, _) = grader(&db, &["ingest", "class"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        "ingested 0, duplicates 40, quarantined 0 (40 files read)"
    );
}

#[test]
fn the_service_answers_from_the_old_release_database_as_before() {
    let (_dir, db) = old_database();
    let store = Store::open(&db, None, Scorers::builtin(), StoreLimits::default()).unwrap();
    for (student, with_scores) in [
        ("student00000", true),
        ("student00000", false),
        ("student00004", true),
        ("zoe", true),
        ("nobody", true),
    ] {
        let record = store.student_record(student, with_scores).unwrap();
        assert_golden(
            Golden::Old,
            &serde_json::to_string(&record).unwrap(),
            &format!("service-student-{student}-{with_scores}.json"),
            student,
        );
    }
    assert_golden(
        Golden::Old,
        &serde_json::to_string(&store.list().unwrap()).unwrap(),
        "service-list.json",
        "service list",
    );
    for (format, name) in [
        (Format::Csv, "export.csv"),
        (Format::Canvas, "export.canvas"),
        (Format::Json, "export.json"),
    ] {
        let (bytes, warning) = store.export(format).unwrap();
        assert_eq!(warning, None);
        assert_golden(Golden::Old, &String::from_utf8(bytes).unwrap(), name, name);
    }
    let stats = store.stats().unwrap();
    assert_golden(Golden::Current, &stats, "stats.out", "service stats");
}

/// Every table with its columns, keys and kind, and every index.
fn schema(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let query = |sql: &str| -> Vec<String> {
        let mut statement = conn.prepare(sql).unwrap();
        let count = statement.column_count();
        statement
            .query_map([], |r| {
                let cells = (0..count)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(cells.join(" "))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    [
        "SELECT t.name, t.type, t.ncol, t.wr, t.strict FROM pragma_table_list t \
         WHERE t.schema = 'main' ORDER BY t.name",
        "SELECT m.name, c.* FROM sqlite_master m, pragma_table_info(m.name) c \
         WHERE m.type = 'table' ORDER BY m.name, c.cid",
        "SELECT m.name, f.* FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
         WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
        "SELECT m.name, i.name, i.\"unique\", i.origin FROM sqlite_master m, \
         pragma_index_list(m.name) i WHERE m.type = 'table' ORDER BY m.name, i.name",
    ]
    .into_iter()
    .flat_map(query)
    .collect()
}

#[test]
fn an_upgraded_database_has_the_schema_of_a_new_one() {
    let (_dir, old) = old_database();
    let before = schema(&old);
    Db::open(&old).unwrap();
    let upgraded = schema(&old);
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new.sqlite");
    Db::open(&new).unwrap();
    assert_eq!(upgraded, schema(&new));
    assert_ne!(before, upgraded, "the old schema differs");
    let items: i64 = Connection::open(&old)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM score_items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(items, 30 * 12, "every item of the 30 scored submissions");
}

#[test]
fn a_bad_rubric_is_refused_with_the_old_release_message_to_the_byte() {
    #[derive(serde::Deserialize)]
    struct Case {
        from: String,
        to: String,
        stderr: String,
    }
    let cases: Vec<Case> = serde_json::from_str(&golden("rubric-errors.json")).unwrap();
    assert_eq!(cases.len(), 21);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("grades.sqlite");
    let builtin = golden("rubric.out");
    for case in cases {
        assert!(builtin.contains(&case.from), "{}", case.from);
        std::fs::write(
            dir.path().join("bad.toml"),
            builtin.replace(&case.from, &case.to),
        )
        .unwrap();
        let (code, _, err) = run_grader_in(dir.path(), &db, &["score", "--rubric", "bad.toml"]);
        assert_eq!((code, err), (2, case.stderr), "{} → {}", case.from, case.to);
    }
}
