//! The evcxr context on a thread of its own. evcxr's API blocks (it runs
//! cargo and waits on its child process), so the context lives on the
//! `rust-cells` thread; the caller streams the child's stdout/stderr to the
//! kernel ([`Replies`]) while it waits for the result.

use crate::replies::Replies;
use crate::{failure, processes};
use crossbeam_channel::{never, select, Receiver, Sender};
use evcxr::{CommandContext, EvalContextOutputs};
use mlsys_kernel::rust_cells::protocol::{Failure, Shown};
use std::process::Child;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Reply = Result<Shown, Failure>;

/// Whether a cell runs (and evcxr's process); shared with the interrupter.
pub struct RunControl {
    state: Mutex<RunState>,
    /// One message per interrupt, for what cannot be killed (evcxr's start).
    interrupts: (Sender<()>, Receiver<()>),
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl {
            state: Mutex::default(),
            interrupts: crossbeam_channel::unbounded(),
        }
    }
}

#[derive(Default)]
struct RunState {
    running: bool,
    interrupted: Option<Interruption>,
    process: Option<Arc<Mutex<Child>>>,
}

/// How an interrupt stopped the running cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Interruption {
    /// Its compilation was killed; evcxr's process, and the variables in it,
    /// live on.
    Compile,
    /// evcxr's process was killed, which loses the variables.
    Process,
}

impl RunControl {
    /// Stops the running cell, whether Rust is starting for it, it compiles
    /// or it runs (see [`processes::interrupt`]); does nothing between cells.
    pub fn interrupt(&self) {
        let mut state = lock(&self.state);
        if !state.running {
            return;
        }
        // A held lock means evcxr is reaping or replacing its process.
        let process = state.process.as_ref().and_then(|p| p.try_lock().ok());
        let runner = process.map(|child| child.id() as i32);
        let how = match processes::interrupt(runner) {
            processes::Stopped::Compile => Interruption::Compile,
            processes::Stopped::Everything => Interruption::Process,
        };
        state.interrupted = state.interrupted.max(Some(how));
        let _ = self.interrupts.0.send(());
    }

    /// A cell begins (with the start of Rust, if it needs one).
    pub fn begin(&self) {
        let mut state = lock(&self.state);
        state.running = true;
        state.interrupted = None;
        self.interrupts.1.try_iter().for_each(drop);
    }

    /// The cell has ended.
    pub fn end(&self) {
        lock(&self.state).running = false;
    }

    /// How the running cell was interrupted, if it was.
    pub fn interrupted(&self) -> Option<Interruption> {
        lock(&self.state).interrupted
    }

    fn set_process(&self, process: Option<Arc<Mutex<Child>>>) {
        lock(&self.state).process = process;
    }

    /// The process id of evcxr's process, if it runs and is not being replaced.
    fn runner(&self) -> Option<u32> {
        let state = lock(&self.state);
        let process = state.process.as_ref()?.try_lock().ok()?;
        Some(process.id())
    }

    fn kill(&self) {
        if let Some(process) = &lock(&self.state).process {
            if let Ok(mut child) = process.lock() {
                let _ = child.kill();
            }
        }
    }

    fn process_exited(&self) -> bool {
        let state = lock(&self.state);
        let Some(process) = &state.process else {
            return false;
        };
        let exited = match process.try_lock() {
            Ok(mut child) => matches!(child.try_wait(), Ok(Some(_))),
            Err(_) => false,
        };
        exited
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Request {
    code: String,
    reply: Sender<Reply>,
}

/// A running evcxr context.
pub struct Engine {
    requests: Option<mpsc::Sender<Request>>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    control: Arc<RunControl>,
    worker: Option<JoinHandle<()>>,
}

impl Engine {
    /// Creates the context on a new thread (evcxr compiles a first, empty cell).
    ///
    /// An interrupt ends the wait at once: most of evcxr's start (rust-analyzer
    /// loading the standard library) happens in this process and cannot be
    /// killed, so it goes on to the end on its thread, which then drops it.
    pub fn start(control: Arc<RunControl>) -> Result<Engine, Failure> {
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let (requests, request_rx) = mpsc::channel::<Request>();
        let worker_control = Arc::clone(&control);
        let worker = std::thread::Builder::new()
            .name("rust-cells".into())
            .spawn(move || serve(worker_control, ready_tx, request_rx))
            .map_err(|e| start_failed(&e.to_string()))?;
        let ready = select! {
            recv(ready_rx) -> ready => ready,
            recv(control.interrupts.1) -> _ => return Err(failure::start_interrupted()),
        };
        match ready {
            Ok(Ok(EvalContextOutputs { stdout, stderr })) => Ok(Engine {
                requests: Some(requests),
                stdout,
                stderr,
                control,
                worker: Some(worker),
            }),
            Ok(Err(message)) => {
                let _ = worker.join();
                Err(start_failed(&message))
            }
            Err(_) => {
                let _ = worker.join();
                Err(start_failed(
                    "the Rust context thread stopped while starting",
                ))
            }
        }
    }

    /// Runs `code`, streaming its stdout/stderr lines to `outputs` as they come.
    ///
    /// An `Err` from the outer result means the context itself is gone.
    pub fn execute(&mut self, code: &str, outputs: &Replies) -> Result<Reply, Failure> {
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
        let request = Request {
            code: code.to_owned(),
            reply: reply_tx,
        };
        let sent = self.requests.as_ref().map(|r| r.send(request));
        if !matches!(sent, Some(Ok(()))) {
            return Err(context_gone());
        }
        let (mut stdout, mut stderr) = (self.stdout.clone(), self.stderr.clone());
        loop {
            select! {
                recv(stdout) -> line => match line {
                    Ok(line) => outputs.stdout(joined(line, &stdout)),
                    Err(_) => stdout = never(),
                },
                recv(stderr) -> line => match line {
                    Ok(line) => outputs.stderr(joined(line, &stderr)),
                    Err(_) => stderr = never(),
                },
                recv(reply_rx) -> reply => {
                    // evcxr returns only once we have taken every stdout line; take
                    // what is queued so it precedes the result.
                    flush(&stdout, |text| outputs.stdout(text));
                    settle(&stderr, self.control.runner(), |text| outputs.stderr(text));
                    return reply.map_err(|_| context_gone());
                }
            }
        }
    }

    /// Kills the child process, stops the thread and removes evcxr's temporary crate.
    pub fn shutdown(&mut self) {
        self.control.kill();
        self.requests.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        self.control.set_process(None);
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The `rust-cells` thread: owns the context, runs requests one at a time.
fn serve(
    control: Arc<RunControl>,
    ready: Sender<Result<EvalContextOutputs, String>>,
    requests: mpsc::Receiver<Request>,
) {
    let (mut context, outputs) = match CommandContext::new() {
        Ok(created) => created,
        Err(error) => {
            let _ = ready.send(Err(error.to_string()));
            return;
        }
    };
    if ready.send(Ok(outputs)).is_err() {
        return; // interrupted while starting: the context is dropped
    }
    control.set_process(Some(context.process_handle()));
    for Request { code, reply } in requests {
        let reply_value = match control.interrupted() {
            // Interrupted before this step began (while Rust starts, or just
            // before the cell).
            Some(how) => Err(failure::interrupted(how)),
            None => context
                .execute(&code)
                .map(|outputs| outputs.content_by_mime_type)
                .map_err(|error| failure::to_failure(error, &code, control.interrupted())),
        };
        if control.interrupted().is_some() && control.process_exited() {
            // The interrupt killed evcxr's process outside a cell, which evcxr
            // has not noticed: a cell reaching the dead process makes it start
            // a new one (its `:restart` would keep the lost variables' records).
            let _ = context.execute("()");
        }
        let _ = reply.send(reply_value);
    }
}

/// `first` and every line already queued behind it, newline-terminated.
fn joined(first: String, more: &Receiver<String>) -> String {
    let mut text = first;
    text.push('\n');
    for line in more.try_iter() {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn flush(lines: &Receiver<String>, mut send: impl FnMut(String)) {
    if let Ok(first) = lines.try_recv() {
        send(joined(first, lines));
    }
}

/// How long a cell's last stderr lines are waited for at the most.
const SETTLE_LIMIT: Duration = Duration::from_secs(2);
/// How long a line evcxr's reader has taken off an empty pipe may take to arrive.
const LAST_LINE: Duration = Duration::from_millis(5);

/// Takes what the cell wrote to stderr before its result is sent. evcxr reads
/// the stderr of its process (`runner`) on a thread of its own with no mark
/// where a cell's output ends (stdout has one), so lines are taken until that
/// pipe is empty and the reader has passed on its last line; without the pipe,
/// what is queued.
fn settle(lines: &Receiver<String>, runner: Option<u32>, mut send: impl FnMut(String)) {
    let Some(pipe) = runner.and_then(processes::stderr_pipe) else {
        return flush(lines, send);
    };
    let deadline = Instant::now() + SETTLE_LIMIT;
    loop {
        let unread = processes::unread(&pipe).unwrap_or(0);
        let wait = if unread > 0 { SETTLE_LIMIT } else { LAST_LINE };
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(wait.min(left)) {
            Ok(line) => send(joined(line, lines)),
            Err(_) if unread == 0 || left.is_zero() => return,
            Err(_) => {}
        }
    }
}

fn start_failed(message: &str) -> Failure {
    let mut error = Failure::new(
        "RustStartFailed",
        "could not start the Rust context for Rust cells",
    );
    error.traceback.extend(message.lines().map(str::to_owned));
    error
}

fn context_gone() -> Failure {
    Failure::new(
        "RustContextLost",
        "the Rust context stopped unexpectedly; the next Rust cell starts a new one \
         (variables and functions from earlier Rust cells are gone)",
    )
}
