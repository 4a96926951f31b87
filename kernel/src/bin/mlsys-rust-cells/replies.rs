//! The worker's side of the channel to the kernel: replies as lines on stdout.

use mlsys_kernel::rust_cells::protocol::{self, Reply, StreamName};

/// Where a cell's output and its outcome go: the kernel, or nowhere (setup cells).
#[derive(Debug, Clone, Copy)]
pub struct Replies {
    quiet: bool,
}

impl Replies {
    /// Replies written to stdout for the kernel.
    pub fn to_kernel() -> Self {
        Replies { quiet: false }
    }

    /// Streams dropped: for the setup cells the student never wrote.
    pub fn quiet() -> Self {
        Replies { quiet: true }
    }

    /// Sends `reply` (a lost kernel is noticed by the stdin reader, not here).
    pub fn send(&self, reply: &Reply) {
        if self.quiet {
            return;
        }
        if let Err(error) = protocol::send(std::io::stdout().lock(), reply) {
            tracing::warn!(%error, "cannot reply to the kernel");
        }
    }

    /// Streams text to the cell's stdout.
    pub fn stdout(&self, text: impl Into<String>) {
        self.stream(StreamName::Stdout, text.into());
    }

    /// Streams text to the cell's stderr.
    pub fn stderr(&self, text: impl Into<String>) {
        self.stream(StreamName::Stderr, text.into());
    }

    fn stream(&self, name: StreamName, text: String) {
        self.send(&Reply::Stream { name, text });
    }
}
