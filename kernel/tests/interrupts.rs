//! Interrupts, shutdown and restart while Rust cells start, compile or spin:
//! a real kernel, its real Rust-cells worker and evcxr, over real ZeroMQ.
//!
//! Nothing is timed: each case is told by what the cell reports (an interrupt
//! that waited for the start or the compile to finish would report a value,
//! or a lost process), and the waits only guard against a hang.
//!
//! Starting evcxr compiles the model (tens of seconds), so one test walks
//! through every case on one kernel, in an order where the worker starts
//! once: an interrupt while Rust starts (the queued cells are aborted, as
//! `stop_on_error` asks), an interrupt while a cell compiles (the queued cell
//! of a `stop_on_error: false` request runs), a restart while a cell spins,
//! and a shutdown while the restarted kernel's Rust starts.

mod common;

use common::{TempDir, TestKernel, KERNEL};
use jupyter_protocol::{
    ExecuteReply, ExecuteRequest, InterruptRequest, JupyterMessage, JupyterMessageContent,
    ReplyStatus, ShutdownRequest,
};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The longest evcxr's start may take (it compiles the model and its dependencies).
const START: Duration = Duration::from_secs(600);

/// The longest anything else may take on a loaded machine: streaming a line, an
/// interrupted cell ending, a stopped kernel and its worker exiting. A guard
/// against hanging only; nothing is timed.
const GENEROUS: Duration = Duration::from_secs(120);

/// A cell whose compilation takes minutes (rustc evaluates the constant).
const SLOW_TO_COMPILE: &str = "#[allow(long_running_const_eval)]
const SUM: u64 = {
    let (mut i, mut sum) = (0u64, 0u64);
    while i < 100_000_000 { sum = sum.wrapping_add(i); i += 1; }
    sum
};
SUM";

/// A kernel and the outcomes of its cells, read as they come (cells can take
/// longer than the test client's waits).
struct Cells {
    kernel: TestKernel,
    iopub: HashMap<String, Vec<JupyterMessage>>,
    replies: HashMap<String, ExecuteReply>,
}

/// What one cell did.
struct Outcome {
    reply: ExecuteReply,
    iopub: Vec<JupyterMessage>,
}

impl Outcome {
    fn result(&self) -> String {
        let shown = self.iopub.iter().find_map(|m| match &m.content {
            JupyterMessageContent::ExecuteResult(r) => Some(format!("{:?}", r.data.content)),
            _ => None,
        });
        shown.unwrap_or_default()
    }
}

impl Cells {
    /// Sends a cell; returns its request id.
    async fn send(&mut self, code: &str, stop_on_error: bool) -> String {
        let request = ExecuteRequest {
            stop_on_error,
            ..ExecuteRequest::new(code.to_string())
        };
        self.kernel.send_shell(request).await
    }

    /// Reads iopub until a message of request `id` satisfies `done`.
    async fn until(&mut self, id: &str, within: Duration, done: impl Fn(&JupyterMessage) -> bool) {
        let deadline = Instant::now() + within;
        loop {
            if self
                .iopub
                .get(id)
                .is_some_and(|seen| seen.iter().any(&done))
            {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let message = tokio::time::timeout(left, self.kernel.iopub.read())
                .await
                .unwrap_or_else(|_| panic!("{id}: not within {within:?}: {:?}", self.iopub.get(id)))
                .expect("iopub read");
            let parent = message.parent_header.as_ref().map(|h| h.msg_id.clone());
            self.iopub
                .entry(parent.unwrap_or_default())
                .or_default()
                .push(message);
        }
    }

    /// Waits for the text `text` on a stream of request `id`.
    async fn printed(&mut self, id: &str, text: &str, within: Duration) {
        self.until(id, within, |m| {
            matches!(&m.content, JupyterMessageContent::StreamContent(s) if s.text.contains(text))
        })
        .await;
    }

    /// The reply and iopub messages of request `id`, once it is idle.
    async fn outcome(&mut self, id: &str, within: Duration) -> Outcome {
        let started = Instant::now();
        self.until(id, within, |m| {
            matches!(&m.content, JupyterMessageContent::Status(s)
                if s.execution_state == jupyter_protocol::ExecutionState::Idle)
        })
        .await;
        while !self.replies.contains_key(id) {
            let left = within.saturating_sub(started.elapsed());
            let reply = tokio::time::timeout(left, self.kernel.shell.read())
                .await
                .unwrap_or_else(|_| panic!("no reply to {id} within {within:?}"))
                .expect("shell read");
            let JupyterMessageContent::ExecuteReply(content) = reply.content else {
                panic!("expected an execute_reply: {reply:?}");
            };
            let parent = reply.parent_header.map(|h| h.msg_id).unwrap_or_default();
            self.replies.insert(parent, content);
        }
        Outcome {
            reply: self.replies.remove(id).unwrap(),
            iopub: self.iopub.remove(id).unwrap_or_default(),
        }
    }

    async fn interrupt(&mut self) {
        let reply = self.kernel.control_request(InterruptRequest {}).await;
        assert_eq!(reply.message_type(), "interrupt_reply");
    }

    /// Asks the kernel to shut down (or restart) and checks that it, and its
    /// Rust-cells worker, exit promptly.
    async fn shut_down(mut self, restart: bool) {
        let worker = worker_pid(&self.kernel);
        let asked = Instant::now();
        let reply = self
            .kernel
            .control_request(ShutdownRequest { restart })
            .await;
        assert_eq!(reply.message_type(), "shutdown_reply");
        let exited = tokio::time::timeout(GENEROUS, self.kernel.child.wait()).await;
        let status = exited.expect("the kernel exits promptly").unwrap();
        assert!(status.success(), "{status}");
        while running(worker) {
            assert!(
                asked.elapsed() < GENEROUS,
                "the Rust-cells worker {worker} still runs {GENEROUS:?} after the shutdown"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The kernel's Rust-cells worker process.
fn worker_pid(kernel: &TestKernel) -> u32 {
    let kernel = kernel.child.id().expect("the kernel runs");
    let workers: Vec<u32> = children(kernel)
        .into_iter()
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .is_ok_and(|exe| exe.file_name().is_some_and(|n| n == "mlsys-rust-cells"))
        })
        .collect();
    let [worker] = workers[..] else {
        panic!("one worker, not {workers:?}");
    };
    worker
}

/// The child processes of `pid`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Whether some descendant of `pid` is named `name`.
fn runs_below(pid: u32, name: &str) -> bool {
    let mut todo = children(pid);
    while let Some(child) = todo.pop() {
        let comm = std::fs::read_to_string(format!("/proc/{child}/comm")).unwrap_or_default();
        if comm.trim() == name {
            return true;
        }
        todo.extend(children(child));
    }
    false
}

/// Whether `pid` is a live process (a zombie has exited too).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

async fn start(home: &Path) -> Cells {
    Cells {
        kernel: TestKernel::start_in(KERNEL, home).await,
        iopub: HashMap::new(),
        replies: HashMap::new(),
    }
}

#[test]
fn interrupts_stop_rust_cells_that_start_compile_or_spin_and_shutdown_leaves_no_worker() {
    // evcxr's compile cache is the Python tests' (see tests/python/test_rust_cells.py),
    // so whichever runs first warms it for the other. Set before any thread starts.
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/rust-cells-test-cache");
    std::env::set_var("XDG_CACHE_HOME", cache);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(walk_through());
}

async fn walk_through() {
    let home = TempDir::new("interrupts");
    let mut cells = start(home.path()).await;

    // 1. Interrupted while Rust starts: the cell fails, saying so; the cells
    // queued behind it are aborted (stop_on_error), a magic among them.
    let first = cells.send("let kept = 1;", true).await;
    let queued = [
        cells.send("2 + 2", true).await,
        cells.send("%help", true).await,
    ];
    cells.printed(&first, "Starting Rust", GENEROUS).await;
    cells.interrupt().await;
    let interrupted = cells.outcome(&first, START).await;
    assert_eq!(interrupted.reply.status, ReplyStatus::Error);
    let error = interrupted.reply.error.as_ref().expect("an error reply");
    assert_eq!(error.ename, "Interrupted");
    assert!(error.evalue.contains("still starting"), "{}", error.evalue);
    for id in &queued {
        let aborted = cells.outcome(id, GENEROUS).await;
        assert_eq!(aborted.reply.status, ReplyStatus::Aborted, "{id}");
    }
    // The next Rust cell starts Rust and runs.
    let next = cells.send("let kept = 2;\nkept * 21", true).await;
    let ran = cells.outcome(&next, START).await;
    assert_eq!(ran.reply.status, ReplyStatus::Ok, "{:?}", ran.reply);
    assert_eq!(ran.result(), "[Plain(\"42\")]");

    // 2. Interrupted while compiling (a compile of minutes): the cell fails,
    // having run nothing; the cell queued behind a `stop_on_error: false` request runs,
    // and the variables of earlier cells are kept.
    let compiling = cells.send(SLOW_TO_COMPILE, false).await;
    let after = cells.send("5 + 5", true).await;
    let worker = worker_pid(&cells.kernel);
    let deadline = Instant::now() + START;
    while !runs_below(worker, "rustc") {
        assert!(Instant::now() < deadline, "rustc never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cells.interrupt().await;
    let interrupted = cells.outcome(&compiling, START).await;
    let error = interrupted.reply.error.as_ref().expect("an error reply");
    assert_eq!(error.ename, "Interrupted");
    assert!(
        error.evalue.contains("while it compiled"),
        "{}",
        error.evalue
    );
    let ran = cells.outcome(&after, START).await;
    assert_eq!(ran.reply.status, ReplyStatus::Ok, "{:?}", ran.reply);
    assert_eq!(ran.result(), "[Plain(\"10\")]");
    let kept = cells.send("kept", true).await;
    assert_eq!(cells.outcome(&kept, START).await.result(), "[Plain(\"2\")]");

    // 3. A restart while a cell spins: the kernel and its worker exit.
    let spinning = cells.send("println!(\"spinning\");\nloop {}", true).await;
    cells.printed(&spinning, "spinning", GENEROUS).await;
    cells.shut_down(true).await;

    // 4. The restarted kernel, shut down while its Rust starts: it and its
    // worker exit (the worker does not go on compiling).
    let mut cells = start(home.path()).await;
    let starting = cells.send("1 + 1", true).await;
    cells.printed(&starting, "Starting Rust", GENEROUS).await;
    cells.shut_down(false).await;
}
