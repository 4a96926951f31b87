//! `mlsys-kernel`: the Jupyter kernel of the mlsys labs, serving the course's labs.

use std::process::ExitCode;

fn main() -> ExitCode {
    mlsys_kernel::cli::main(mlsys_kernel::labs::builtin())
}
