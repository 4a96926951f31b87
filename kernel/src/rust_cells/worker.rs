//! The kernel's handle on its Rust-cells worker (`mlsys-rust-cells`, next to
//! the kernel's binary): spawns it, sends requests on its stdin, and a reader
//! thread passes its replies back as they arrive.

use super::protocol::{self, Failure, Reply, Request, Shown, StreamName};
use super::RustCellsConfig;
use crate::interpreter::{ExecutionError, Outputs};
use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The worker binary's name; it sits in the kernel binary's directory.
const WORKER_BINARY: &str = "mlsys-rust-cells";

/// How long a worker gets to stop evcxr and exit before it is killed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The running worker's stdin, shared with the interrupter (empty between workers).
pub type RequestLine = Arc<Mutex<Option<ChildStdin>>>;

/// A running worker process.
pub struct Worker {
    child: Child,
    line: RequestLine,
    replies: mpsc::Receiver<Reply>,
    reader: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker for `config`; its stdin goes into `line`.
    pub fn spawn(config: &RustCellsConfig, line: &RequestLine) -> Result<Worker, ExecutionError> {
        let binary = worker_binary()
            .map_err(|e| start_failed(&format!("cannot locate the kernel's binary: {e}")))?;
        let mut child = Command::new(&binary)
            .arg("--home")
            .arg(&config.home)
            .arg("--cache-mib")
            .arg(config.cache_mib.to_string())
            .arg("--opt-level")
            .arg(&config.opt_level)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| start_failed(&format!("cannot run {}: {e}", binary.display())))?;
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(start_failed("the worker's stdin/stdout were not piped"));
        };
        let (sender, replies) = mpsc::channel();
        let reader = std::thread::Builder::new()
            .name("rust-cells-replies".into())
            .spawn(move || {
                protocol::receive(BufReader::new(stdout), |reply| sender.send(reply).is_ok())
            });
        let reader = match reader {
            Ok(reader) => reader,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(start_failed(&e.to_string()));
            }
        };
        *lock(line) = Some(stdin);
        Ok(Worker {
            child,
            line: Arc::clone(line),
            replies,
            reader: Some(reader),
        })
    }

    /// Runs `code`, forwarding its streamed output to `outputs` in order.
    ///
    /// The outer `Err` means the worker is gone (the error says how it ended).
    pub fn execute(
        &mut self,
        code: &str,
        outputs: &Outputs,
    ) -> Result<Result<Option<Shown>, Failure>, ExecutionError> {
        let request = Request::Execute {
            code: code.to_owned(),
        };
        if !send(&self.line, &request) {
            return Err(self.lost());
        }
        for reply in self.replies.iter() {
            match reply {
                Reply::Stream {
                    name: StreamName::Stdout,
                    text,
                } => outputs.stdout(text),
                Reply::Stream {
                    name: StreamName::Stderr,
                    text,
                } => outputs.stderr(text),
                Reply::Done { result } => return Ok(Ok(result)),
                Reply::Failed(failure) => return Ok(Err(failure)),
            }
        }
        Err(self.lost())
    }

    /// How the worker ended, if it has (checked before a cell, without waiting).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Asks the worker to stop evcxr and exit; kills it if it has not within
    /// [`SHUTDOWN_GRACE`].
    pub fn shutdown(&mut self) {
        send(&self.line, &Request::Shutdown);
        lock(&self.line).take();
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.replies.recv_timeout(left) {
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    tracing::warn!("the Rust-cells worker did not stop in time; killing it");
                    let _ = self.child.kill();
                    break;
                }
            }
        }
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }

    /// The error for a worker that stopped mid-cell; reaps it.
    fn lost(&mut self) -> ExecutionError {
        lock(&self.line).take();
        let status = match self.child.wait() {
            Ok(status) => status.to_string(),
            Err(e) => e.to_string(),
        };
        ExecutionError::new(
            "RustContextLost",
            format!(
                "the Rust cells process stopped unexpectedly ({status}); the next Rust cell \
                 starts a new one (variables and functions from earlier Rust cells are gone)"
            ),
        )
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.reader.is_some() {
            self.shutdown();
        }
    }
}

/// Asks the running worker, if any, to stop its running cell.
pub fn interrupt(line: &RequestLine) {
    send(line, &Request::Interrupt);
}

/// Writes `request` to the worker's stdin; `false` when there is none or it is closed.
fn send(line: &RequestLine, request: &Request) -> bool {
    match lock(line).as_mut() {
        Some(stdin) => protocol::send(stdin, request).is_ok(),
        None => false,
    }
}

fn worker_binary() -> std::io::Result<PathBuf> {
    let kernel = std::env::current_exe()?;
    Ok(kernel.with_file_name(format!("{WORKER_BINARY}{}", std::env::consts::EXE_SUFFIX)))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn start_failed(message: &str) -> ExecutionError {
    let mut error = ExecutionError::new(
        "RustStartFailed",
        "could not start the Rust context for Rust cells",
    );
    error.traceback.extend(message.lines().map(str::to_owned));
    error
}

impl From<Failure> for ExecutionError {
    fn from(failure: Failure) -> Self {
        ExecutionError {
            ename: failure.ename,
            evalue: failure.evalue,
            traceback: failure.traceback,
        }
    }
}
