//! The kernel's [`Interpreter`]: `%` magic cells go to the [`MagicRegistry`]
//! (with every lab registered); any other cell goes to [`CellInterpreter::run_code_cell`].

use crate::interpreter::{Completions, ExecutionError, Interpreter, Interrupter, Outputs};
use crate::magic::{is_magic_cell, MagicRegistry};
use crate::rust_cells::{RustCells, RustCellsConfig};
use jupyter_protocol::{CodeMirrorMode, HelpLink, IsCompleteReplyStatus, LanguageInfo, Media};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Runs the cells of a notebook using this kernel.
pub struct CellInterpreter {
    magics: MagicRegistry,
    rust: RustCells,
}

impl CellInterpreter {
    /// An interpreter with every lab's magics registered.
    pub fn new() -> Self {
        let mut magics = MagicRegistry::new();
        crate::labs::register_all(&mut magics);
        let rust = RustCells::new(RustCellsConfig::new(crate::journal::mlsys_home()));
        CellInterpreter { magics, rust }
    }

    /// Runs a cell that is not a magic cell.
    fn run_code_cell(
        &mut self,
        code: &str,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError> {
        self.rust.execute(code, outputs)
    }
}

impl Interpreter for CellInterpreter {
    fn language_info(&self) -> LanguageInfo {
        LanguageInfo {
            name: "rust".into(),
            version: env!("CARGO_PKG_RUST_VERSION").into(),
            mimetype: Some("text/rust".into()),
            file_extension: Some(".rs".into()),
            pygments_lexer: Some("rust".into()),
            codemirror_mode: Some(CodeMirrorMode::Simple("rust".into())),
            nbconvert_exporter: Some("script".into()),
        }
    }

    fn banner(&self) -> String {
        format!(
            "MLSys Lab kernel {} — run %help to list the lab magics.",
            env!("CARGO_PKG_VERSION")
        )
    }

    fn help_links(&self) -> Vec<HelpLink> {
        vec![HelpLink {
            text: "Jupyter messaging protocol".into(),
            url: "https://jupyter-client.readthedocs.io/en/latest/messaging.html".into(),
        }]
    }

    fn execute(&mut self, code: &str, outputs: &Outputs) -> Result<Option<Media>, ExecutionError> {
        if is_magic_cell(code) {
            self.magics.run_cell(code, outputs)
        } else if code.trim().is_empty() {
            Ok(None)
        } else {
            self.run_code_cell(code, outputs)
        }
    }

    fn is_complete(&self, code: &str) -> IsCompleteReplyStatus {
        if is_magic_cell(code) {
            magic_cell_status(code)
        } else if code.trim().is_empty() {
            IsCompleteReplyStatus::Complete
        } else {
            IsCompleteReplyStatus::Unknown
        }
    }

    fn complete(&self, code: &str, cursor_pos: usize) -> Completions {
        self.magics.complete(code, cursor_pos)
    }

    fn inspect(&self, code: &str, cursor_pos: usize) -> Option<Media> {
        self.magics.inspect(code, cursor_pos)
    }

    fn comm_open(
        &mut self,
        comm_id: &str,
        target_name: &str,
        _data: &Map<String, Value>,
        _outputs: &Outputs,
    ) -> bool {
        if self.magics.comm_open(comm_id, target_name) {
            return true;
        }
        tracing::info!(comm_id, target_name, "no comm target of that name");
        false
    }

    fn comm_msg(&mut self, comm_id: &str, data: &Map<String, Value>, outputs: &Outputs) {
        if !self.magics.comm_msg(comm_id, data, outputs) {
            tracing::info!(comm_id, "message for an unknown comm ignored");
        }
    }

    fn comm_close(&mut self, comm_id: &str) {
        if !self.magics.comm_close(comm_id) {
            tracing::info!(comm_id, "close of an unknown comm ignored");
        }
    }

    fn comms(&self) -> Vec<(String, String)> {
        self.magics.comms()
    }

    fn interrupter(&self) -> Interrupter {
        let rust = self.rust.interrupter();
        Arc::new(move || {
            tracing::info!("interrupt requested; magics run to completion");
            rust();
        })
    }

    fn shutdown(&mut self, restart: bool) {
        tracing::info!(restart, "interpreter shutting down");
        self.rust.shutdown();
    }
}

/// A magic cell is complete when every non-blank line is a magic, invalid otherwise.
fn magic_cell_status(code: &str) -> IsCompleteReplyStatus {
    let all_magic = code
        .lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('%'));
    if all_magic {
        IsCompleteReplyStatus::Complete
    } else {
        IsCompleteReplyStatus::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Dispatch, completion and inspection run end to end in tests/protocol.rs
    // (with MLSYS_HOME in a temp dir, since the labs persist there).
    #[test]
    fn a_magic_cell_is_complete_only_when_every_line_is_a_magic() {
        assert_eq!(
            magic_cell_status("%help\n\n  %lsmagic"),
            IsCompleteReplyStatus::Complete
        );
        assert_eq!(
            magic_cell_status("%help\nlet x = 1;"),
            IsCompleteReplyStatus::Invalid
        );
    }
}
