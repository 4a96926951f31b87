//! The command line of a kernel binary, over the labs it serves: `run` (what
//! Jupyter calls), `install` (the kernelspec), `evaluate` (one run of a lab's
//! model) and `check-submission` (a submission checked by the lab it names).

use crate::cell_interpreter::CellInterpreter;
use crate::lab::KernelLabs;
use crate::{exchange, install, journal, logging, server};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// The Jupyter kernel of the mlsys labs (kernelspec `mlsys`).
#[derive(Parser)]
#[command(name = "mlsys-kernel", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install the `mlsys` kernelspec so Jupyter can start this kernel.
    Install(install::InstallArgs),
    /// Run the kernel on the sockets of a Jupyter connection file (what Jupyter calls).
    Run {
        /// The connection file Jupyter wrote for this kernel.
        connection_file: PathBuf,
    },
    /// Evaluate one lab run (`{"act": …, "inputs": {…}}`) and print its report JSON.
    Evaluate {
        /// The run JSON, as the lab's report carries it.
        run: String,
        /// The lab whose model runs it (default: the first lab of this kernel).
        #[arg(long, value_name = "ID")]
        lab: Option<String>,
    },
    /// Check a submission file with the lab it names and print its replayed state as JSON.
    CheckSubmission {
        /// The submission file (`<lab>-<student>-<uuid>.json`).
        file: PathBuf,
    },
}

/// Runs the command line of a kernel serving `labs`.
pub fn main(labs: KernelLabs) -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    let outcome = match cli.command {
        Command::Install(args) => install::install(&args)
            .map(|dir| println!("Installed kernelspec in {}", dir.display()))
            .map_err(|e| e.to_string()),
        Command::Run { connection_file } => {
            let interpreter = CellInterpreter::new(&labs, &journal::mlsys_home());
            server::run(&connection_file, Box::new(interpreter)).map_err(|e| e.to_string())
        }
        Command::Evaluate { run, lab } => {
            evaluate(&labs, lab.as_deref(), &run).map(|report| println!("{report}"))
        }
        Command::CheckSubmission { file } => exchange::check_submission_file(&file, labs.models())
            .map(|summary| {
                // As a JSON value, so the keys print sorted, as they always have.
                let summary = serde_json::to_value(summary).unwrap_or_default();
                println!("{summary:#}")
            }),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mlsys-kernel: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Evaluates `run` (JSON text) with the model of lab `id`, or of the first lab.
fn evaluate(labs: &KernelLabs, id: Option<&str>, run: &str) -> Result<String, String> {
    let models = labs.models();
    let lab = match id {
        Some(id) => models.get(id).ok_or_else(|| {
            let ids: Vec<&str> = models.iter().map(|lab| lab.id()).collect();
            format!("no lab {id} in this kernel; its labs: {}", ids.join(", "))
        })?,
        None => models.iter().next().ok_or("this kernel serves no lab")?,
    };
    let run = serde_json::from_str(run).map_err(|e| format!("invalid run JSON: {e}"))?;
    lab.evaluate(&run).map(|report| report.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::KernelLab;
    use crate::testing::TALLY_KERNEL;

    #[test]
    fn evaluate_runs_the_model_of_the_lab_named_or_else_the_first() {
        let labs = KernelLabs::new([&TALLY_KERNEL as &dyn KernelLab]);
        let run = r#"{"add": 2}"#;
        assert_eq!(evaluate(&labs, None, run), Ok(r#"{"total":2}"#.to_string()));
        assert_eq!(
            evaluate(&labs, Some("t_tally"), run),
            evaluate(&labs, None, run)
        );
        let unknown = evaluate(&labs, Some("t_other"), run).unwrap_err();
        assert_eq!(unknown, "no lab t_other in this kernel; its labs: t_tally");
        let bad = evaluate(&labs, None, "{").unwrap_err();
        assert!(bad.starts_with("invalid run JSON: "), "{bad}");
        let refused = evaluate(&labs, None, r#"{"add": 0}"#).unwrap_err();
        assert!(
            refused.contains("add must be a positive integer"),
            "{refused}"
        );
        let none = evaluate(&KernelLabs::default(), None, run).unwrap_err();
        assert_eq!(none, "this kernel serves no lab");
    }
}
