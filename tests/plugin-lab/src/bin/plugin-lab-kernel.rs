//! `plugin-lab-kernel`: the real kernel serving the course's labs and the Pipe
//! (a test build: the Pipe is registered on top of the built-in labs).

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut labs = mlsys_kernel::labs::builtin();
    labs.register(&mlsys_plugin_lab::kernel::KERNEL_LAB);
    mlsys_kernel::cli::main(labs)
}
