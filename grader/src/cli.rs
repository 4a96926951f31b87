//! The command line: `mlsys-grader [--db PATH] <command>`.

use crate::db::Db;
use crate::error::GraderError;
use crate::export::{grade_rows, write_atomically, write_grades, Format};
use crate::grading::{score_all, stale_warning};
use crate::ingest::ingest;
use crate::progress::Progress;
use crate::rubric::{Rubric, DEFAULT_RUBRIC};
use crate::source::collect;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// The instructor's grader for the mlsys labs: ingest submissions, score them
/// against a rubric, export grades.
#[derive(Debug, Parser)]
#[command(name = "mlsys-grader", version, about, long_about = None)]
pub struct Cli {
    /// The grader's SQLite database (created by `ingest` if missing).
    #[arg(
        long,
        global = true,
        default_value = "grades.sqlite",
        value_name = "PATH"
    )]
    pub db: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The grader's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate submissions and store them; bad ones go to quarantine with the reason.
    ///
    /// PATHs are submission files, directories (every *.json below them), or `-`
    /// for one submission on stdin. Ingesting a file again changes nothing.
    Ingest {
        /// Files, directories, or `-`.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Score every submission against the rubric and pick each student's counting one.
    Score {
        /// A rubric file (default: the built-in rubric; see `mlsys-grader rubric`).
        #[arg(long, value_name = "FILE")]
        rubric: Option<PathBuf>,
    },
    /// Export one row per student (uses the rubric of the last `score`).
    Export {
        /// csv (per-act scores), canvas (Canvas gradebook import) or json (with reasons).
        #[arg(long, value_enum)]
        format: Format,
        /// Write to FILE (atomically) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Per question how many students chose each option; score distribution.
    Stats,
    /// One student's submissions, scores with reasons, and quarantined files.
    Show {
        /// The student's login.
        student: String,
    },
    /// Print the built-in rubric (copy it to make your own).
    Rubric,
    /// Print a stored submission exactly as it was ingested (its raw bytes).
    Raw {
        /// The submission id (see `show STUDENT`).
        id: String,
    },
    /// Run as an HTTP service (a JupyterHub managed service): students submit
    /// with their Hub token; instructors list, score, export. See deploy/.
    Serve(crate::serve::config::ServeArgs),
    /// Write synthetic submissions (for benchmarks and trying the grader out).
    Synth {
        /// Directory to write into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Number of submission files.
        #[arg(long, default_value_t = 1000)]
        submissions: usize,
        /// Number of distinct students.
        #[arg(long, default_value_t = 250)]
        students: usize,
        /// Events per submission (about).
        #[arg(long, default_value_t = 50)]
        events: usize,
        /// Due date the submission times cluster before.
        #[arg(long, default_value = "2026-12-14T23:59:00Z")]
        due: DateTime<Utc>,
        /// Random seed.
        #[arg(long, default_value_t = 4)]
        seed: u64,
    },
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32, GraderError> {
    let stdout = std::io::stdout();
    let out_err = |e: std::io::Error| GraderError::Io {
        path: PathBuf::from("<stdout>"),
        source: e,
    };
    match cli.command {
        Command::Ingest { paths } => {
            let (sources, unlistable) = collect(&paths);
            for problem in &unlistable {
                eprintln!("cannot list {}: {}", problem.path.display(), problem.error);
            }
            let mut db = Db::open(&cli.db)?;
            let progress = Progress::new(sources.len() as u64, "ingest");
            let summary = ingest(&mut db, sources, &progress);
            progress.finish();
            let summary = summary?;
            writeln!(stdout.lock(), "{summary}").map_err(out_err)?;
            Ok(if summary.unreadable > 0 || !unlistable.is_empty() {
                1
            } else {
                0
            })
        }
        Command::Score { rubric } => {
            let (rubric, text, origin) = Rubric::load(rubric.as_deref())?;
            let mut db = Db::open_existing(&cli.db)?;
            let summary = score_all(&mut db, &rubric, &text, &origin)?;
            writeln!(stdout.lock(), "{summary}").map_err(out_err)?;
            Ok(0)
        }
        Command::Export { format, out } => {
            let db = Db::open_existing(&cli.db)?;
            if let Some(warning) = stale_warning(&db)? {
                eprintln!("{warning}");
            }
            let rubric = scoring_rubric(&db)?;
            let rows = grade_rows(&db, format == Format::Json)?;
            let mut bytes = Vec::new();
            write_grades(format, &rows, &rubric, &mut bytes)?;
            match out {
                Some(path) => write_atomically(&path, &bytes)?,
                None => stdout.lock().write_all(&bytes).map_err(out_err)?,
            }
            if format == Format::Canvas && rubric.assignment.canvas_id.is_none() {
                eprintln!(
                    "note: the rubric has no assignment.canvas_id, so Canvas will match the \
                     column by its exact title ({:?}) or offer it as a new assignment",
                    rubric.assignment.title
                );
            }
            Ok(0)
        }
        Command::Stats => {
            let db = Db::open_existing(&cli.db)?;
            if let Some(warning) = stale_warning(&db)? {
                eprintln!("{warning}");
            }
            write!(stdout.lock(), "{}", crate::stats::report(&db)?).map_err(out_err)?;
            Ok(0)
        }
        Command::Show { student } => {
            let db = Db::open_existing(&cli.db)?;
            write!(stdout.lock(), "{}", crate::show::report(&db, &student)?).map_err(out_err)?;
            Ok(0)
        }
        Command::Serve(args) => {
            crate::serve::serve(crate::serve::config::ServeConfig::resolve(cli.db, args)?)?;
            Ok(0)
        }
        Command::Raw { id } => {
            let db = Db::open_existing(&cli.db)?;
            let bytes = crate::ingest::raw_bytes(&db, &id)?.ok_or_else(|| {
                GraderError::Precondition(format!("no submission {id} in {}", cli.db.display()))
            })?;
            stdout.lock().write_all(&bytes).map_err(out_err)?;
            Ok(0)
        }
        Command::Rubric => {
            write!(stdout.lock(), "{DEFAULT_RUBRIC}").map_err(out_err)?;
            Ok(0)
        }
        Command::Synth {
            out,
            submissions,
            students,
            events,
            due,
            seed,
        } => {
            let written = crate::synth::write_class(&out, submissions, students, events, due, seed)
                .map_err(GraderError::io(&out))?;
            writeln!(
                stdout.lock(),
                "wrote {} submissions to {}",
                written.len(),
                out.display()
            )
            .map_err(out_err)?;
            Ok(0)
        }
    }
}

/// The rubric the last `score` used (stored with the scores).
pub fn scoring_rubric(db: &Db) -> Result<Rubric, GraderError> {
    let stored: Result<(String, String), _> = db.conn.query_row(
        "SELECT rubric_toml, rubric_source FROM scoring WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    match stored {
        Ok((text, origin)) => Rubric::parse(&text, &origin),
        Err(rusqlite::Error::QueryReturnedNoRows) => Err(GraderError::Precondition(
            "no scores yet: run `mlsys-grader score` first".into(),
        )),
        Err(e) => Err(GraderError::Database {
            path: db.path().to_path_buf(),
            source: e,
        }),
    }
}
