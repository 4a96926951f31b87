//! The Pipe plugs into the grader through its registration hook alone:
//! registered next to the course's labs, Pipe submissions are ingested into a
//! real SQLite file together with a course lab's, scored by the Pipe's own
//! scorer and exported with the Pipe's own columns and items. Without it
//! registered, a Pipe submission is quarantined as `wrong_lab`.

use chrono::{DateTime, Utc};
use mlsys_grader::db::Db;
use mlsys_grader::export::{grade_rows, write_grades, Format};
use mlsys_grader::grading::score_all;
use mlsys_grader::ingest::ingest;
use mlsys_grader::labs::{Audited, LabQuestion, LabScorer, Scorers, Witnessed};
use mlsys_grader::progress::Progress;
use mlsys_grader::provenance::FileTrust;
use mlsys_grader::rejection::Rejection;
use mlsys_grader::rubric::Rubric;
use mlsys_grader::source::{Source, DEFAULT_MAX_BYTES};
use mlsys_grader::synth::{write, Recorder, Rng};
use mlsys_grader::witness::{WitnessRules, WitnessedEvent};
use mlsys_model::record::{EventKind, Submission};
use mlsys_model::{Act, Choice, Lab};
use mlsys_plugin_lab::grader::{PIPE_RUBRIC, SCORER};
use mlsys_plugin_lab::model::{PipeSession, LAB_ID};
use serde_json::json;
use std::path::{Path, PathBuf};

fn start() -> DateTime<Utc> {
    "2026-12-10T09:00:00Z".parse().unwrap()
}

/// A student of the Pipe: locks `prediction`, runs the pipe at each width,
/// saves the design, submits. Every event passes the Pipe's rules.
fn pipe_student(student: &str, prediction: Choice, widths: &[u32]) -> Submission {
    let mut r = Recorder::<PipeSession>::new(student, start());
    r.predict(Act::Act1, prediction).unwrap();
    for width in widths {
        r.run(Act::Act1, json!({ "width": width })).unwrap();
    }
    r.save_design().unwrap();
    r.submit()
}

/// The Pipe and the course's labs.
fn with_pipe() -> Scorers {
    let mut scorers = Scorers::builtin();
    scorers.register(&SCORER);
    scorers
}

/// Writes the submissions into `dir` as the kernel would and ingests them into `db`.
fn ingest_all(db: &Path, dir: &Path, scorers: &Scorers, submissions: &[Submission]) -> String {
    let paths: Vec<PathBuf> = submissions.iter().map(|s| write(dir, s).unwrap()).collect();
    let mut db = Db::open(db).unwrap();
    let sources = paths.into_iter().map(Source::File).collect();
    let summary = ingest(
        &mut db,
        scorers,
        sources,
        &FileTrust::Unverified,
        DEFAULT_MAX_BYTES,
        &Progress::new(0, "test"),
    )
    .unwrap();
    summary.to_string()
}

fn export(db: &Db, scorers: &Scorers, lab: &str, format: Format) -> String {
    let rubric = Rubric::stored(db, scorers, lab).unwrap();
    let rows = grade_rows(db, &rubric, format == Format::Json).unwrap();
    let mut bytes = Vec::new();
    write_grades(format, &rows, &rubric, &mut bytes).unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn the_pipe_is_ingested_scored_by_its_scorer_and_exported_beside_the_course_lab() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("grades.sqlite");
    let scorers = with_pipe();
    let course = Scorers::builtin().pick(None).unwrap();
    let course_lab = course.lab().id();
    // A run before the prediction breaks the Pipe's lock rule.
    let mut eve = Recorder::<PipeSession>::new("eve", start());
    eve.record_unchecked(EventKind::InstrumentRun {
        act: Act::Act1,
        inputs: json!({ "width": 2 }),
        source: Default::default(),
    });
    let submissions = [
        pipe_student("ada", Choice::B, &[1, 2, 2]),
        pipe_student("bob", Choice::A, &[3]),
        eve.submit(),
        course.synthetic("cyd", start(), 20, &mut Rng::new(3)),
    ];
    let summary = ingest_all(&db_path, dir.path(), &scorers, &submissions);
    assert_eq!(
        summary,
        "ingested 3, duplicates 0, quarantined 1 (4 files read)"
    );
    let mut db = Db::open(&db_path).unwrap();
    let (reason, detail): (String, String) = db
        .conn
        .query_row("SELECT reason, detail FROM quarantine", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(reason, "lock_violated");
    assert!(detail.contains("event 0"), "{detail}");

    // The course lab scored with its built-in rubric, then the Pipe with its own.
    let builtin = Rubric::builtin(course);
    score_all(
        &mut db,
        &scorers,
        &builtin,
        course.default_rubric(),
        "<built-in>",
    )
    .unwrap();
    let rubric = Rubric::parse(&scorers, PIPE_RUBRIC, "pipe.toml").unwrap();
    let summary = score_all(&mut db, &scorers, &rubric, PIPE_RUBRIC, "pipe.toml").unwrap();
    assert_eq!(
        summary.to_string(),
        "scored 2 submissions of 3 students (0 late, 1 with no valid submission); mean 3.50 / 5"
    );

    // ada: locked 1 + correct 2 + 2 distinct widths of 2 → 2 = 5; bob: 1 + 0 + 1 = 2.
    let csv = export(&db, &scorers, LAB_ID, Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "student,status,submission_id,submitted_at,late_days,act1,raw_total,late_penalty,total,max_total,flags"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].starts_with("ada,on_time,"), "{csv}");
    assert!(
        lines[1].ends_with(",0,5.00,5.00,0.00,5.00,5.00,unverified"),
        "{csv}"
    );
    assert!(
        lines[2].ends_with(",0,2.00,2.00,0.00,2.00,5.00,unverified"),
        "{csv}"
    );
    assert_eq!(
        lines[3],
        "eve,no_valid_submission,,,0,0.00,0.00,0.00,0.00,5.00,"
    );

    let json: serde_json::Value =
        serde_json::from_str(&export(&db, &scorers, LAB_ID, Format::Json)).unwrap();
    assert_eq!(json["lab"], LAB_ID);
    assert_eq!(json["assignment"], "The Pipe");
    let ada = &json["students"][0];
    assert_eq!(
        (ada["student"].as_str(), ada["act1"].as_f64()),
        (Some("ada"), Some(5.0))
    );
    let items: Vec<(&str, f64)> = ada["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["points"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        items,
        [
            ("act1.prediction_locked", 1.0),
            ("act1.prediction_correct", 2.0),
            ("act1.exploration", 2.0)
        ]
    );
    assert_eq!(
        json["students"][1]["items"][2]["reason"],
        "1 distinct widths"
    );

    // The course lab's grades are untouched by the Pipe's scoring: cyd, under
    // the course lab's own columns (and eve: a quarantined file names no lab
    // the grader trusts, so a student with only quarantined files gets a
    // no_valid_submission grade in every lab scored).
    let course_csv = export(&db, &scorers, course_lab, Format::Csv);
    assert!(
        course_csv.starts_with("student,status,submission_id,submitted_at,late_days,act1,act2,"),
        "{course_csv}"
    );
    let students: Vec<&str> = course_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(students, ["cyd", "eve"]);

    // `stats` and `show` of the Pipe speak of its own question and items.
    let stats = mlsys_grader::stats::report(&db, &scorers, LAB_ID).unwrap();
    assert!(
        stats.contains("Act I prediction: What does doubling the pipe's width do"),
        "{stats}"
    );
    assert!(stats.contains("  *B      1  50.0%  Doubles it"), "{stats}");
    assert!(stats.contains("act1.exploration"), "{stats}");
    let show = mlsys_grader::show::report(&db, &scorers, "ada").unwrap();
    assert!(
        show.starts_with(&format!(
            "ada ({LAB_ID}): 5.00 / 5.00  (on_time; Act I 5.00,"
        )),
        "{show}"
    );
    assert!(show.contains("act1.prediction_correct"), "{show}");
}

#[test]
fn without_the_pipe_registered_its_submission_is_quarantined_as_wrong_lab() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("grades.sqlite");
    let builtin = Scorers::builtin();
    let summary = ingest_all(
        &db_path,
        dir.path(),
        &builtin,
        &[pipe_student("ada", Choice::B, &[1])],
    );
    assert_eq!(
        summary,
        "ingested 0, duplicates 0, quarantined 1 (1 files read)"
    );
    let (reason, detail): (String, String) = Db::open(&db_path)
        .unwrap()
        .conn
        .query_row("SELECT reason, detail FROM quarantine", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(reason, "wrong_lab");
    assert_eq!(
        detail,
        format!(
            "submission is for lab {LAB_ID}, not {}",
            builtin.pick(None).unwrap().lab().id()
        )
    );
    // Nor does this build read the Pipe's rubric.
    let error = Rubric::parse(&builtin, PIPE_RUBRIC, "pipe.toml")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "rubric pipe.toml: lab is \"{LAB_ID}\"; this grader scores "
        )),
        "{error}"
    );
}

#[test]
fn the_pipes_rubric_is_read_by_its_scorer_with_mistakes_named() {
    let scorers = with_pipe();
    let error = |text: String| {
        Rubric::parse(&scorers, &text, "pipe.toml")
            .unwrap_err()
            .to_string()
    };
    let negative = error(PIPE_RUBRIC.replace("exploration = 2.0", "exploration = -2.0"));
    assert!(
        negative.ends_with("act1.exploration must be a number ≥ 0, got -2"),
        "{negative}"
    );
    let section = error(PIPE_RUBRIC.replace("[act1]", "[act2]"));
    assert!(
        section.contains(
            "unknown field `act2`, expected one of `lab`, `assignment`, `deadline`, `act1`"
        ),
        "{section}"
    );
    let key = error(PIPE_RUBRIC.replace("full_credit_widths", "widths"));
    assert!(key.contains("unknown field `widths`"), "{key}");
    let rubric = Rubric::parse(&scorers, PIPE_RUBRIC, "pipe.toml").unwrap();
    assert_eq!(rubric.max_total(), 5.0);
    assert_eq!(rubric.groups(), ["act1"]);
}

/// The Pipe's scorer, except that it panics on a student named `crash`: a
/// bug in a lab's code, which must not pass for a finished ingest.
struct Crashing;

static CRASHING: Crashing = Crashing;

impl LabScorer for Crashing {
    fn lab(&self) -> &'static dyn Lab {
        SCORER.lab()
    }

    fn audit(&self, submission: &Submission) -> Result<Audited, Rejection> {
        assert_ne!(submission.student, "crash", "a bug in the lab's audit");
        SCORER.audit(submission)
    }

    fn witnessed(&self, log: &[&WitnessedEvent], rules: &WitnessRules) -> Witnessed {
        SCORER.witnessed(log, rules)
    }

    fn default_rubric(&self) -> &'static str {
        SCORER.default_rubric()
    }

    fn rubric(&self, text: &str) -> Result<Rubric, toml::de::Error> {
        SCORER.rubric(text)
    }

    fn questions(&self) -> Vec<LabQuestion> {
        SCORER.questions()
    }

    fn synthetic(
        &self,
        student: &str,
        start: DateTime<Utc>,
        events: usize,
        rng: &mut Rng,
    ) -> Submission {
        SCORER.synthetic(student, start, events, rng)
    }
}

#[test]
fn a_lab_scorer_that_panics_ends_ingest_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("grades.sqlite");
    let mut scorers = Scorers::builtin();
    scorers.register(&CRASHING);
    let submissions = [
        pipe_student("ada", Choice::B, &[1, 2]),
        pipe_student("crash", Choice::B, &[1]),
    ];
    let paths: Vec<PathBuf> = submissions
        .iter()
        .map(|s| write(dir.path(), s).unwrap())
        .collect();
    let mut db = Db::open(&db_path).unwrap();
    let sources = paths.into_iter().map(Source::File).collect();
    let result = ingest(
        &mut db,
        &scorers,
        sources,
        &FileTrust::Unverified,
        DEFAULT_MAX_BYTES,
        &Progress::new(0, "test"),
    );
    let error = result.unwrap_err().to_string();
    assert!(
        error.starts_with("ingest stopped: reading the submissions failed (")
            && error.contains("a bug in the lab's audit"),
        "{error}"
    );
}
