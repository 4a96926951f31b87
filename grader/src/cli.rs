//! The command line: `mlsys-grader [--db PATH] <command>`.

use crate::db::Db;
use crate::encode::printable;
use crate::error::GraderError;
use crate::export::{grade_rows, write_atomically, write_grades, Format};
use crate::grading::{score_all, scored_lab, stale_warning};
use crate::ingest::ingest;
use crate::labs::Scorers;
use crate::progress::Progress;
use crate::provenance::{FileTrust, Users};
use crate::rubric::Rubric;
use crate::source::{collect, DEFAULT_MAX_BYTES};
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
    /// for one submission on stdin. Ingesting a file again changes nothing. Each
    /// file must be owned by the student it names, and is judged on time by its
    /// status-change time (ctime) as read now: ingest the exchange directory
    /// itself, not a copy.
    Ingest {
        /// Files, directories, or `-`.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Name file owners with this map (`<unix user or uid> <student>` per
        /// line) instead of the system's user database, where Unix names are
        /// not the students' names.
        #[arg(long, value_name = "FILE", conflicts_with = "unverified")]
        users: Option<PathBuf>,
        /// The files were collected by other means (their owners and times say
        /// nothing): take student and time from each file, and flag every
        /// submission `unverified`.
        #[arg(long)]
        unverified: bool,
        /// Largest submission read, in KiB (the service's `--max-body-kib`): a
        /// larger file is quarantined as `too_large` with its first 4 KiB.
        #[arg(long, default_value_t = DEFAULT_MAX_BYTES / 1024, value_name = "KIB")]
        max_kib: usize,
    },
    /// Score every submission of the rubric's lab and pick each student's counting one.
    Score {
        /// A rubric file (default: the first lab's built-in rubric; see `mlsys-grader rubric`).
        #[arg(long, value_name = "FILE")]
        rubric: Option<PathBuf>,
    },
    /// Export one row per student of a lab (uses the rubric of its last `score`).
    Export {
        /// csv (per-act scores), canvas (Canvas gradebook import) or json (with reasons).
        #[arg(long, value_enum)]
        format: Format,
        /// Write to FILE (atomically) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The lab (default: the lab scored last).
        #[arg(long, value_name = "ID")]
        lab: Option<String>,
    },
    /// Per question how many students chose each option; score distribution.
    Stats {
        /// The lab (default: the lab scored last).
        #[arg(long, value_name = "ID")]
        lab: Option<String>,
    },
    /// One student's submissions, scores with reasons, and quarantined files.
    Show {
        /// The student's login.
        student: String,
    },
    /// Print a lab's built-in rubric (copy it to make your own).
    Rubric {
        /// The lab (default: the first lab of this grader).
        #[arg(long, value_name = "ID")]
        lab: Option<String>,
    },
    /// Print a stored submission exactly as it was ingested (its raw bytes),
    /// or a quarantined file's bytes.
    Raw {
        /// The submission id (see `show STUDENT`), or the SHA-256 of a
        /// quarantined file (the service lists it in a student's record).
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
        /// The lab (default: the first lab of this grader).
        #[arg(long, value_name = "ID")]
        lab: Option<String>,
    },
}

/// Runs a parsed command line with the labs of `scorers`; returns the process
/// exit code.
pub fn run(cli: Cli, scorers: &Scorers) -> Result<i32, GraderError> {
    for warning in crate::db::access_warnings(&cli.db) {
        eprintln!("mlsys-grader: {}", printable(&warning));
    }
    let stdout = std::io::stdout();
    let out_err = |e: std::io::Error| GraderError::Io {
        path: PathBuf::from("<stdout>"),
        source: e,
    };
    match cli.command {
        Command::Ingest {
            paths,
            users,
            unverified,
            max_kib,
        } => {
            if max_kib == 0 {
                return Err(GraderError::Precondition(
                    "--max-kib must be positive".into(),
                ));
            }
            let trust = match (unverified, users) {
                (true, _) => FileTrust::Unverified,
                (false, Some(map)) => FileTrust::Verify(Users::from_file(&map)?),
                (false, None) => FileTrust::Verify(Users::system()),
            };
            let (sources, unlistable) = collect(&paths);
            for problem in &unlistable {
                eprintln!(
                    "cannot list {}: {}",
                    printable(&problem.path.display().to_string()),
                    problem.error
                );
            }
            let mut db = Db::open(&cli.db)?;
            let progress = Progress::new(sources.len() as u64, "ingest");
            let summary = ingest(&mut db, scorers, sources, &trust, max_kib * 1024, &progress);
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
            let (rubric, text, origin) = Rubric::load(scorers, rubric.as_deref())?;
            let mut db = Db::open_existing(&cli.db)?;
            let summary = score_all(&mut db, scorers, &rubric, &text, &origin)?;
            writeln!(stdout.lock(), "{summary}").map_err(out_err)?;
            Ok(0)
        }
        Command::Export { format, out, lab } => {
            let db = Db::open_existing(&cli.db)?;
            let lab = scored_lab(&db, lab.as_deref())?;
            if let Some(warning) = stale_warning(&db, &lab)? {
                eprintln!("{warning}");
            }
            let rubric = Rubric::stored(&db, scorers, &lab)?;
            let rows = grade_rows(&db, &rubric, format == Format::Json)?;
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
        Command::Stats { lab } => {
            let db = Db::open_existing(&cli.db)?;
            let lab = scored_lab(&db, lab.as_deref())?;
            if let Some(warning) = stale_warning(&db, &lab)? {
                eprintln!("{warning}");
            }
            let report = crate::stats::report(&db, scorers, &lab)?;
            write!(stdout.lock(), "{report}").map_err(out_err)?;
            Ok(0)
        }
        Command::Show { student } => {
            let db = Db::open_existing(&cli.db)?;
            let report = crate::show::report(&db, scorers, &student)?;
            write!(stdout.lock(), "{report}").map_err(out_err)?;
            Ok(0)
        }
        Command::Serve(args) => {
            let config = crate::serve::config::ServeConfig::resolve(cli.db, args)?;
            crate::serve::serve(config, scorers.clone())?;
            Ok(0)
        }
        Command::Raw { id } => {
            let db = Db::open_existing(&cli.db)?;
            let bytes = match db.raw_bytes(&id)? {
                Some(bytes) => bytes,
                None => db.quarantined_bytes(&id)?.ok_or_else(|| {
                    GraderError::Precondition(format!(
                        "no submission {id} (nor quarantined file) in {}",
                        cli.db.display()
                    ))
                })?,
            };
            stdout.lock().write_all(&bytes).map_err(out_err)?;
            Ok(0)
        }
        Command::Rubric { lab } => {
            let text = scorers.pick(lab.as_deref())?.default_rubric();
            write!(stdout.lock(), "{text}").map_err(out_err)?;
            Ok(0)
        }
        Command::Synth {
            out,
            submissions,
            students,
            events,
            due,
            seed,
            lab,
        } => {
            let scorer = scorers.pick(lab.as_deref())?;
            let written =
                crate::synth::write_class(scorer, &out, submissions, students, events, due, seed)
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
