//! The kernel's [`Interpreter`]: `%` magic cells go to the [`MagicRegistry`]
//! (with every lab it serves registered); any other cell goes to
//! [`CellInterpreter::run_code_cell`]. It owns the kernel's one
//! [`WidgetManager`]: the labs open their widgets on it, and each front-end
//! change of a widget is routed to the lab that opened it.

use crate::interpreter::{Completions, ExecutionError, Interpreter, Interrupter, Outputs};
use crate::lab::KernelLabs;
use crate::magic::is_magic_cell;
use crate::registry::MagicRegistry;
use crate::rust_cells::{report_renderers, RustCells, RustCellsConfig};
use crate::rust_completeness;
use crate::widgets::{Received, WidgetManager};
use jupyter_protocol::{
    CodeMirrorMode, HelpLink, IsCompleteReply, IsCompleteReplyStatus, LanguageInfo, Media,
};
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

/// Runs the cells of a notebook using this kernel.
pub struct CellInterpreter {
    magics: MagicRegistry,
    widgets: WidgetManager,
    rust: RustCells,
}

impl CellInterpreter {
    /// An interpreter serving `labs`, each resumed from its journal under
    /// `home` (the per-student `$MLSYS_HOME`).
    pub fn new(labs: &KernelLabs, home: &Path) -> Self {
        let mut magics = MagicRegistry::default();
        for lab in labs.iter() {
            let model = lab.model();
            magics.register(model.id(), model.title(), lab.open(home));
        }
        let config = RustCellsConfig::new(home.to_path_buf(), report_renderers(labs));
        CellInterpreter::with(magics, RustCells::new(config))
    }

    fn with(magics: MagicRegistry, rust: RustCells) -> Self {
        CellInterpreter {
            magics,
            widgets: WidgetManager::default(),
            rust,
        }
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
            self.magics.run_cell(code, &mut self.widgets, outputs)
        } else if code.trim().is_empty() {
            Ok(None)
        } else {
            self.run_code_cell(code, outputs)
        }
    }

    fn is_complete(&self, code: &str) -> IsCompleteReply {
        if is_magic_cell(code) {
            IsCompleteReply::new(magic_cell_status(code), String::new())
        } else {
            rust_completeness::is_complete(code)
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
        if self.widgets.comm_open(comm_id, target_name) {
            return true;
        }
        tracing::info!(comm_id, target_name, "no comm target of that name");
        false
    }

    fn comm_msg(&mut self, comm_id: &str, data: &Map<String, Value>, outputs: &Outputs) {
        match self.widgets.receive(comm_id, data, outputs) {
            Received::NotMine => tracing::info!(comm_id, "message for an unknown comm ignored"),
            Received::Handled => {}
            Received::Update { owner, id, state } => {
                if !self
                    .magics
                    .widget_update(owner, &id, state, &mut self.widgets, outputs)
                {
                    tracing::warn!(comm_id, owner, "update of a widget whose lab is gone");
                }
            }
            Received::Event { owner, id, content } => {
                if !self
                    .magics
                    .widget_event(owner, &id, &content, &mut self.widgets, outputs)
                {
                    tracing::warn!(comm_id, owner, "event of a widget whose lab is gone");
                }
            }
        }
    }

    fn comm_close(&mut self, comm_id: &str) {
        if !self.widgets.forget(comm_id) {
            tracing::info!(comm_id, "close of an unknown comm ignored");
        }
    }

    fn comms(&self) -> Vec<(String, String)> {
        self.widgets.comms()
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
        self.magics.flush_witnesses(WITNESS_AT_SHUTDOWN);
        self.rust.shutdown();
    }
}

/// How long shutdown waits for the labs' witnesses (within the server's
/// shutdown grace).
const WITNESS_AT_SHUTDOWN: std::time::Duration = std::time::Duration::from_secs(2);

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
    use crate::interpreter::Output;
    use crate::rust_cells::ReportRenderers;
    use crate::testing::{TallyLab, TallySession, TempDir};
    use crate::widgets::CONTROL_TARGET;
    use mlsys_model::LabSession;
    use serde_json::json;
    use std::sync::mpsc;

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

    fn data(value: serde_json::Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    /// The `comm_msg`s sent, as `(comm_id, data)`.
    fn comm_msgs(rx: &mpsc::Receiver<Output>) -> Vec<(String, Map<String, Value>)> {
        rx.try_iter()
            .filter_map(|o| match o {
                Output::CommMsg { comm_id, data } => Some((comm_id, data)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn two_labs_widgets_share_one_manager_and_each_update_reaches_its_owner() {
        let home = TempDir::new("interpreter");
        let mut magics = MagicRegistry::default();
        for id in ["t_one", "t_two"] {
            let lab = TallyLab::open(&home.path().join(id));
            magics.register(id, "Tally", Box::new(lab));
        }
        let config = RustCellsConfig::new(home.path().to_path_buf(), ReportRenderers::new());
        let mut interpreter = CellInterpreter::with(magics, RustCells::new(config));
        let (tx, rx) = mpsc::channel();
        let out = Outputs::new(tx);
        interpreter.execute("%tally 1 --live", &out).unwrap();
        interpreter
            .execute("%lab t_two\n%tally 2 --live", &out)
            .unwrap();
        let opened: Vec<String> = rx
            .try_iter()
            .filter_map(|o| match o {
                Output::CommOpen { comm_id, .. } => Some(comm_id),
                _ => None,
            })
            .collect();
        let [one, two] = &opened[..] else {
            panic!("{opened:?}")
        };

        assert!(interpreter.comm_open("ctl", CONTROL_TARGET, &Map::new(), &out));
        interpreter.comm_msg("ctl", &data(json!({"method": "request_states"})), &out);
        let sent = comm_msgs(&rx);
        let states = sent[0].1["states"].as_object().unwrap();
        assert_eq!(states.len(), 2, "one request_states answers for every lab");
        assert_eq!(states[one]["value"], 1);
        assert_eq!(states[two]["value"], 2);

        for (comm, value) in [(one, 5), (two, 7)] {
            let update = json!({"method": "update", "state": {"value": value}});
            interpreter.comm_msg(comm, &data(update), &out);
            let sent = comm_msgs(&rx);
            assert_eq!(sent[0].0, *comm);
            assert_eq!(sent[0].1["method"], "echo_update");
        }
        for (id, total) in [("t_one", 6), ("t_two", 9)] {
            let resumed = crate::recorder::Recorder::<TallySession>::open(&home.path().join(id));
            assert_eq!(resumed.session().total, total, "{id}");
            let events = resumed.journal().unwrap().events().unwrap();
            let last = serde_json::to_value(&events.last().unwrap().kind).unwrap();
            assert_eq!(last["source"], "widget", "{id}");
            assert_eq!(events[0].lab, TallySession::LAB_ID);
        }
        assert_eq!(interpreter.comms().len(), 3);
    }
}
