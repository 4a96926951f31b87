//! `mlsys-rust-cells`: the worker process that runs the kernel's Rust cells
//! through evcxr, so the kernel itself never links evcxr. Its evcxr modules
//! live here, in the binary, not in the kernel's library: linked into the
//! library, they pulled rust-analyzer into the kernel's binary (95 MB instead
//! of 33 MB), though the kernel never calls them.
//!
//! The kernel starts it on the first Rust cell and talks to it over stdin and
//! stdout ([`protocol`]). A thread reads stdin: `Interrupt` acts at once on the
//! running cell, `Execute` is queued for the main thread, `Shutdown` or a
//! closed stdin (the kernel is gone) stops the running cell and ends the worker.

mod engine;
mod failure;
mod model_source;
mod prelude;
mod processes;
mod replies;
mod session;
mod toolchain;

use clap::Parser;
use engine::RunControl;
use mlsys_kernel::logging;
use mlsys_kernel::rust_cells::protocol::{self, Request};
use replies::Replies;
use session::{Session, SessionConfig};
use std::sync::{mpsc, Arc};

/// Runs Rust cells for the mlsys kernel (started by the kernel, not by hand).
#[derive(Parser)]
#[command(name = "mlsys-rust-cells", version)]
struct Cli {
    #[command(flatten)]
    session: SessionConfig,
}

fn main() {
    // First: when evcxr re-executes this binary as its child process (which runs
    // Rust cells) or as its rustc wrapper, this call never returns.
    evcxr::runtime_hook();
    let cli = Cli::parse();
    logging::init();
    let control = Arc::new(RunControl::default());
    let (cells, queued) = mpsc::channel();
    let reader_control = Arc::clone(&control);
    std::thread::Builder::new()
        .name("requests".into())
        .spawn(move || read_requests(&reader_control, &cells))
        .expect("cannot start the request reader thread");
    let mut session = Session::new(cli.session, control);
    let replies = Replies::to_kernel();
    for code in queued {
        let outcome = session.execute(&code, &replies);
        replies.send(&outcome);
    }
    session.shutdown();
    // A start of Rust left running by an interrupt may still compile.
    processes::kill_descendants();
}

/// Reads the kernel's requests until `Shutdown` or end of input, then stops
/// the running cell; dropping `cells` ends the main loop.
fn read_requests(control: &RunControl, cells: &mpsc::Sender<String>) {
    protocol::receive(std::io::stdin().lock(), |request| match request {
        Request::Execute { code } => cells.send(code).is_ok(),
        Request::Interrupt => {
            control.interrupt();
            true
        }
        Request::Shutdown => false,
    });
    control.interrupt();
}
