//! `mlsys-grader`: see `mlsys-grader --help`.

use clap::Parser;
use mlsys_grader::cli::{run, Cli};
use mlsys_grader::encode::printable;
use mlsys_grader::labs::Scorers;
use rustix::fs::Mode;

fn main() {
    // Everything the grader creates (its database, exports, the release flag)
    // is its user's alone.
    rustix::process::umask(Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    let code = match run(cli, &Scorers::builtin()) {
        Ok(code) => code,
        Err(error) => {
            // Line by line: a message may span lines (a rubric's TOML error).
            let message = error.to_string();
            let lines: Vec<_> = message.split('\n').map(printable).collect();
            eprintln!("mlsys-grader: error: {}", lines.join("\n"));
            2
        }
    };
    std::process::exit(code);
}
