//! `mlsys-kernel`: the Jupyter kernel of the mlsys labs.

mod cell_interpreter;
mod exchange;
mod grader_client;
mod install;
mod interpreter;
mod journal;
mod labs;
mod ledger_file;
mod logging;
mod magic;
mod rust_cells;
mod server;
mod widgets;

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
    },
    /// Check a submission file against the lab model and print its replayed state as JSON.
    CheckSubmission {
        /// The submission file (`v2_04-<student>-<uuid>.json`).
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    let outcome = match cli.command {
        Command::Install(args) => install::install(&args)
            .map(|dir| println!("Installed kernelspec in {}", dir.display()))
            .map_err(|e| e.to_string()),
        Command::Run { connection_file } => {
            let interpreter = Box::new(cell_interpreter::CellInterpreter::new());
            server::run(&connection_file, interpreter).map_err(|e| e.to_string())
        }
        Command::Evaluate { run } => {
            labs::data_storage::evaluate_json(&run).map(|report| println!("{report}"))
        }
        Command::CheckSubmission { file } => {
            exchange::check_submission_file(&file).map(|summary| println!("{summary:#}"))
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mlsys-kernel: {message}");
            ExitCode::FAILURE
        }
    }
}
