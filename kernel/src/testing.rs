//! Fixtures for the unit tests of lab-neutral code: "tally", a fake lab whose
//! one instrument adds a positive number, with a magic (`%tally N [--live]`)
//! and a live slider; and temporary homes (the test client's [`TempDir`]).

use crate::interpreter::{ExecutionError, Outputs};
use crate::lab::{KernelLab, LabMagics, LabRecord};
use crate::magic::{plain, MagicSpec};
use crate::recorder::Recorder;
use crate::widgets::models::IntSlider;
use crate::widgets::{OwnedWidgets, WidgetId};
use jupyter_protocol::Media;
use mlsys_model::lab::{replay_submission, Checked};
use mlsys_model::ledger::Design;
use mlsys_model::record::{EventKind, RunSource, Submission};
use mlsys_model::rules::{SessionError, SubmissionError};
use mlsys_model::{Act, InputError, Lab, LabSession};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::path::Path;

pub use mlsys_kernel_client::TempDir;

/// The fake lab's session: the sum of its runs, the design saved, submissions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TallySession {
    /// The sum of every run.
    pub total: u64,
    /// Runs made.
    pub runs: u32,
    /// The design saved last.
    pub saved: Option<Design>,
    /// Submissions made.
    pub submissions: u32,
}

/// A run of the tally's instrument adding `n` (refused unless `n > 0`).
pub fn tally(n: i64) -> EventKind {
    tally_from(n, RunSource::Magic)
}

fn tally_from(n: i64, source: RunSource) -> EventKind {
    EventKind::InstrumentRun {
        act: Act::ALL[0],
        inputs: json!({ "add": n }),
        source,
    }
}

impl LabSession for TallySession {
    const LAB_ID: &'static str = "t_tally";

    fn apply(&mut self, kind: &EventKind) -> Result<(), SessionError> {
        match kind {
            EventKind::InstrumentRun { inputs, .. } => {
                let add = inputs["add"]
                    .as_u64()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| InputError::new("add", &inputs["add"], "a positive integer"))?;
                self.total += add;
                self.runs += 1;
            }
            EventKind::DesignSaved { design, .. } => self.saved = Some(design.clone()),
            EventKind::Submitted { .. } => self.submissions += 1,
            _ => {}
        }
        Ok(())
    }

    fn missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if self.runs == 0 {
            missing.push("no tally yet (%tally N)".to_string());
        }
        if self.saved.is_none() {
            missing.push("design not saved (%ledger save)".to_string());
        }
        missing
    }

    fn design(&self) -> Design {
        json!({ "total": self.total })
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    fn saved_design(&self) -> Option<Design> {
        self.saved.clone()
    }
}

/// The fake lab's descriptor.
pub struct Tally;

/// The descriptor to register.
pub static TALLY: Tally = Tally;

impl Lab for Tally {
    fn id(&self) -> &'static str {
        TallySession::LAB_ID
    }

    fn title(&self) -> &'static str {
        "Tally"
    }

    fn acts(&self) -> &'static [Act] {
        &Act::ALL
    }

    fn report_mime(&self) -> &'static str {
        "application/vnd.mlsys.t-tally.report.v1+json"
    }

    fn evaluate(&self, run: &Value) -> Result<Value, String> {
        let mut session = TallySession::default();
        session
            .apply(&tally(run["add"].as_i64().unwrap_or(0)))
            .map_err(|e| e.to_string())?;
        Ok(json!({ "total": session.total }))
    }

    fn check(&self, submission: &Submission) -> Result<Checked, SubmissionError> {
        replay_submission::<TallySession>(submission).map(|s| Checked::of(&s))
    }
}

/// The fake lab's kernel side.
pub struct TallyKernel;

/// The kernel side to register.
pub static TALLY_KERNEL: TallyKernel = TallyKernel;

impl KernelLab for TallyKernel {
    fn model(&self) -> &'static dyn Lab {
        &TALLY
    }

    fn open(&self, home: &Path) -> Box<dyn LabMagics> {
        Box::new(TallyLab::open(home))
    }

    fn render_report(&self, report: &Value, _outputs: &Outputs) -> Option<Media> {
        let total = report["total"].as_u64()?;
        Some(plain(format!("total {total}")))
    }
}

/// The fake lab's magics: `%tally N` records a run; `%tally N --live` also
/// opens a slider whose moves are runs.
pub struct TallyLab {
    recorder: Recorder<TallySession>,
    specs: Vec<MagicSpec>,
}

impl TallyLab {
    /// The lab, resumed from its journal under `home`.
    pub fn open(home: &Path) -> TallyLab {
        TallyLab {
            recorder: Recorder::open(home),
            specs: vec![MagicSpec {
                name: "tally",
                usage: "%tally N [--live]",
                summary: "Add N to the tally.",
                doc: Cow::Borrowed("Adds N (a positive integer) to the tally."),
                hints: &["--live"],
            }],
        }
    }
}

impl LabMagics for TallyLab {
    fn specs(&self) -> &[MagicSpec] {
        &self.specs
    }

    fn run(
        &mut self,
        _name: &str,
        args: &str,
        widgets: &mut OwnedWidgets,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError> {
        let live = args.contains("--live");
        let n: i64 = args
            .split_whitespace()
            .find(|w| *w != "--live")
            .unwrap_or("")
            .parse()
            .map_err(|_| ExecutionError::new("UsageError", "%tally needs a number"))?;
        self.recorder.record(tally(n))?;
        if live {
            let slider = IntSlider {
                value: n,
                min: 1,
                max: 9,
                step: 1,
                description: "add".into(),
                continuous_update: false,
                dom: Default::default(),
            };
            widgets.open(&slider, outputs);
        }
        Ok(Some(plain(format!(
            "total {}",
            self.recorder.session().total
        ))))
    }

    fn widget_update(
        &mut self,
        id: &WidgetId,
        state: Map<String, Value>,
        widgets: &mut OwnedWidgets,
        outputs: &Outputs,
    ) {
        let n = state.get("value").and_then(Value::as_i64).unwrap_or(0);
        match self.recorder.record(tally_from(n, RunSource::Widget)) {
            Ok(()) => widgets.accept(id, state, outputs),
            Err(_) => widgets.reject(id, state.keys(), outputs),
        }
    }

    fn record(&mut self) -> &mut dyn LabRecord {
        &mut self.recorder
    }
}

/// Reads one HTTP request off a test server's connection: its
/// `Authorization` header and body, and the connection to answer on.
pub fn read_request(stream: std::net::TcpStream) -> (String, Vec<u8>, std::net::TcpStream) {
    use std::io::{BufRead, BufReader, Read};
    let mut reader = BufReader::new(stream);
    let (mut auth, mut length) = (String::new(), 0usize);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("authorization:") {
            auth = line["authorization:".len()..].trim().to_string();
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    (auth, body, reader.into_inner())
}
