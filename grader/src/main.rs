//! `mlsys-grader`: see `mlsys-grader --help`.

use clap::Parser;
use mlsys_grader::cli::{run, Cli};

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("mlsys-grader: error: {error}");
            2
        }
    };
    std::process::exit(code);
}
