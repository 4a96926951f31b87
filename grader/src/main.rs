//! `mlsys-grader`: see `mlsys-grader --help`.

use clap::Parser;
use mlsys_grader::cli::{run, Cli};
use mlsys_grader::labs::Scorers;

fn main() {
    let cli = Cli::parse();
    let code = match run(cli, &Scorers::builtin()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("mlsys-grader: error: {error}");
            2
        }
    };
    std::process::exit(code);
}
