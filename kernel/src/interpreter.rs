//! The one narrow interface between the protocol server and everything that
//! runs code (magics, Rust cells, widgets), as in xeus.
//!
//! The server owns the sockets, signing, parenting, execution counts and the
//! single iopub writer. An [`Interpreter`] owns session state. It runs on one
//! executor thread, is called synchronously, and sends side outputs through
//! [`Outputs`]; the server turns each [`Output`] into an iopub message parented
//! to the request being handled. Nothing here names a lab.

use jupyter_protocol::{HelpLink, IsCompleteReply, LanguageInfo, Media, Stdio};
use serde_json::{Map, Value};
use std::sync::mpsc;
use std::sync::Arc;

/// A side output of a request, published on iopub by the server.
#[derive(Debug, Clone)]
pub enum Output {
    /// Text on stdout or stderr.
    Stream {
        /// Which stream.
        name: Stdio,
        /// The text.
        text: String,
    },
    /// A `display_data` (or `update_display_data` when `update` and a `display_id` is set).
    Display {
        /// The mime bundle.
        data: Media,
        /// An id to update this display later.
        display_id: Option<String>,
        /// Whether this replaces the display with `display_id`.
        update: bool,
    },
    /// Open a comm from the kernel side.
    CommOpen {
        /// The comm id.
        comm_id: String,
        /// The comm target (e.g. `jupyter.widget`).
        target_name: String,
        /// The open message's data.
        data: Map<String, Value>,
        /// The message metadata (the widget protocol puts its version here).
        metadata: Map<String, Value>,
    },
    /// A message on an open comm.
    CommMsg {
        /// The comm id.
        comm_id: String,
        /// The message's data.
        data: Map<String, Value>,
    },
    /// Close a comm from the kernel side.
    CommClose {
        /// The comm id.
        comm_id: String,
    },
    /// Not shown: the server acknowledges on the sender once every earlier
    /// output is queued on iopub (see [`Outputs::flush`]).
    Flush(mpsc::Sender<()>),
}

/// The sending end for side outputs, handed to the interpreter with each request.
#[derive(Debug, Clone)]
pub struct Outputs(mpsc::Sender<Output>);

impl Outputs {
    /// Wraps a channel the server drains.
    pub fn new(sender: mpsc::Sender<Output>) -> Self {
        Outputs(sender)
    }

    /// Sends an output; a server that has gone away drops it silently.
    pub fn send(&self, output: Output) {
        let _ = self.0.send(output);
    }

    /// Writes text to stdout (only Rust cells do).
    pub fn stdout(&self, text: impl Into<String>) {
        self.send(Output::Stream {
            name: Stdio::Stdout,
            text: text.into(),
        });
    }

    /// Writes text to stderr.
    pub fn stderr(&self, text: impl Into<String>) {
        self.send(Output::Stream {
            name: Stdio::Stderr,
            text: text.into(),
        });
    }

    /// Blocks until every output sent before is queued on iopub; `false` if
    /// the server has gone away.
    pub fn flush(&self) -> bool {
        let (ack, acknowledged) = mpsc::channel();
        self.send(Output::Flush(ack));
        acknowledged.recv().is_ok()
    }

    /// Shows a mime bundle.
    pub fn display(&self, data: Media) {
        self.send(Output::Display {
            data,
            display_id: None,
            update: false,
        });
    }
}

/// A failed request, shown to the user as an `error` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ename}: {evalue}")]
pub struct ExecutionError {
    /// The error's name (e.g. `UsageError`, `CompileError`).
    pub ename: String,
    /// The one-line message.
    pub evalue: String,
    /// Readable lines, shown in place of a stack trace.
    pub traceback: Vec<String>,
}

impl ExecutionError {
    /// An error whose traceback is its own one-line message.
    pub fn new(ename: impl Into<String>, evalue: impl Into<String>) -> Self {
        let ename = ename.into();
        let evalue = evalue.into();
        let traceback = vec![format!("{ename}: {evalue}")];
        ExecutionError {
            ename,
            evalue,
            traceback,
        }
    }
}

/// Completion candidates for the text before the cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completions {
    /// Candidate replacements.
    pub matches: Vec<String>,
    /// Start of the replaced range (in characters).
    pub cursor_start: usize,
    /// End of the replaced range (in characters).
    pub cursor_end: usize,
}

/// Stops the running request; callable from the control thread at any time.
pub type Interrupter = Arc<dyn Fn() + Send + Sync>;

/// What the protocol server asks of the code-running side.
pub trait Interpreter: Send + 'static {
    /// The language this kernel runs (for `kernel_info_reply`).
    fn language_info(&self) -> LanguageInfo;

    /// The banner shown by front ends.
    fn banner(&self) -> String;

    /// Links for the front end's help menu.
    fn help_links(&self) -> Vec<HelpLink>;

    /// Runs one cell. `Ok(Some(media))` becomes the `execute_result`.
    fn execute(&mut self, code: &str, outputs: &Outputs) -> Result<Option<Media>, ExecutionError>;

    /// Whether `code` is ready to run, and the indent of its next line if not.
    fn is_complete(&self, code: &str) -> IsCompleteReply;

    /// Completions at `cursor_pos` (in characters).
    fn complete(&self, code: &str, cursor_pos: usize) -> Completions;

    /// Documentation for what is under the cursor, if anything.
    fn inspect(&self, code: &str, cursor_pos: usize) -> Option<Media>;

    /// The front end opened a comm; `false` if no target of that name exists.
    fn comm_open(
        &mut self,
        comm_id: &str,
        target_name: &str,
        data: &Map<String, Value>,
        outputs: &Outputs,
    ) -> bool;

    /// A message arrived on a comm.
    fn comm_msg(&mut self, comm_id: &str, data: &Map<String, Value>, outputs: &Outputs);

    /// The front end closed a comm.
    fn comm_close(&mut self, comm_id: &str);

    /// Open comms as `(comm_id, target_name)`, for `comm_info_reply`.
    fn comms(&self) -> Vec<(String, String)>;

    /// A handle the control thread uses to interrupt a running request.
    fn interrupter(&self) -> Interrupter;

    /// Called before the kernel shuts down or restarts.
    fn shutdown(&mut self, restart: bool);
}
