//! Lab v2_04, "The Data Gravity Trap", playable through magics.
//!
//! The lab's state is the model's [`Session`]. Every student action becomes an
//! [`EventKind`]: it is applied to a copy of the session (the model enforces the
//! lock rules), recorded in the journal, and only then committed, so a refused
//! or unrecordable action changes nothing. A new kernel replays the journal.

pub mod args;
pub mod handin;
pub mod live;
pub mod render;

use crate::interpreter::{ExecutionError, Outputs};
use crate::journal::{mlsys_home, Journal};
use crate::magic::{MagicSet, MagicSpec};
use args::Command;
use jupyter_protocol::Media;
use mlsys_model::labs::data_storage::content::{
    self, context_callout, is_correct, Callout, CalloutKind,
};
use mlsys_model::labs::data_storage::narrative;
use mlsys_model::labs::data_storage::{Report, RunInputs, Session, LAB_ID, LAB_TITLE};
use mlsys_model::record::{EventKind, RunSource};
use mlsys_model::{Act, Choice};
use render::palette::Tone;
use serde_json::{Map, Value};
use std::path::Path;

const SPECS: &[MagicSpec] = &[
    MagicSpec {
        name: "context",
        usage: "%context [nvme|distributed_fs]",
        summary: "Show or set the storage context of both acts.",
        doc: "Without an argument, shows the current deployment context. With one, sets it:\n  \
              nvme            one node reading 4 local NVMe drives (28 GB/s)\n  \
              distributed_fs  a Lustre/GPFS cluster of OST nodes with a metadata server (default)\n\
              Later %io and %mds runs use the context.",
        hints: &["nvme", "distributed_fs", "--help"],
    },
    MagicSpec {
        name: "predict",
        usage: "%predict act1|act2 [A-D]",
        summary: "Show an act's prediction question, or lock your answer.",
        doc: "%predict act1 shows the question and its options. %predict act1 B locks answer B.\n\
              A locked prediction cannot be changed. Each act's instrument (%io, %mds) unlocks\n\
              once its prediction is locked.",
        hints: &["act1", "act2", "A", "B", "C", "D", "--help"],
    },
    MagicSpec {
        name: "io",
        usage: "%io [--workers N] [--batch N] [--pattern sequential|random|prefetch] [--osts N] [--live]",
        summary: "Act I: run the I/O bottleneck analyzer.",
        doc: "Models 128 H100s reading training data. Options (omitted ones keep their last value):\n  \
              --workers N   data loader workers per GPU, 1 to 16 (default 1)\n  \
              --batch N     batch size in samples, a multiple of 32 from 32 to 512 (default 64)\n  \
              --pattern P   sequential, random or prefetch (default random)\n  \
              --osts N      active Lustre OST nodes, a multiple of 4 from 4 to 48 (default 24)\n\
              Shows GPU utilization, I/O wait, prefetch depth and storage utilization, the\n\
              utilization-vs-workers chart and the formulas. Needs %predict act1 first.\n  \
              --live        live sliders and buttons (Jupyter widgets); each settled change is a run.",
        hints: &["--workers", "--batch", "--pattern", "--osts", "sequential", "random", "prefetch", "--live", "--help"],
    },
    MagicSpec {
        name: "mds",
        usage: "%mds [--gpus N] [--workers N] [--layout shards|individual|object_store] [--mds N] [--live]",
        summary: "Act II: run the distributed storage designer.",
        doc: "Models a cluster's bandwidth and metadata demand. Options (omitted ones keep their last value):\n  \
              --gpus N      GPU count, a multiple of 128 from 128 to 4096 (default 512)\n  \
              --workers N   data workers per GPU, 1 to 16 (default 4)\n  \
              --layout L    shards, individual or object_store (default individual)\n  \
              --mds N       metadata server nodes, 1 to 8 (default 1)\n\
              Shows metadata demand against MDS capacity, bandwidth headroom, the demand-vs-scale\n\
              chart, the formulas and the failure state. Needs %predict act2 first.\n  \
              --live        live sliders and buttons (Jupyter widgets); each settled change is a run.",
        hints: &["--gpus", "--workers", "--layout", "--mds", "shards", "individual", "object_store", "--live", "--help"],
    },
    MagicSpec {
        name: "reveal",
        usage: "%reveal act1|act2",
        summary: "Compare your prediction with what the instrument showed.",
        doc: "Shows the reveal for your locked prediction, with the numbers of your latest run.\n\
              Needs the act's prediction and at least one run of its instrument.",
        hints: &["act1", "act2", "--help"],
    },
    MagicSpec {
        name: "reflect",
        usage: "%reflect act1|act2 [A-D]",
        summary: "Show an act's reflection question, or answer it.",
        doc: "%reflect act1 shows the question. %reflect act1 B answers it and shows the feedback.\n\
              The first answer counts.",
        hints: &["act1", "act2", "A", "B", "C", "D", "--help"],
    },
    MagicSpec {
        name: "mathpeek",
        usage: "%mathpeek act1|act2",
        summary: "Show an act's governing equations with your numbers.",
        doc: "The equations behind the act's instrument, filled in with your latest run\n\
              (the current settings before any run), plus the worked examples.",
        hints: &["act1", "act2", "--help"],
    },
    MagicSpec {
        name: "status",
        usage: "%status",
        summary: "Where you are in the lab.",
        doc: "Lists the context, both predictions, runs, reveals and reflections, and where\n\
              your progress is saved.",
        hints: &["--help"],
    },
    handin::LEDGER,
    handin::SUBMIT,
];

/// The lab's magics and the student's session.
pub struct DataStorageLab {
    session: Session,
    journal: Option<Journal>,
    notice: Option<Callout>,
    live: live::LivePanels,
}

impl DataStorageLab {
    /// Resumes the student's session from the journal under `$MLSYS_HOME`.
    pub fn new() -> Self {
        Self::open(&mlsys_home())
    }

    /// Resumes the session from the journal under `home`. Without a usable
    /// journal the lab runs in memory and says so once.
    pub fn open(home: &Path) -> Self {
        match Journal::open(home, LAB_ID) {
            Ok((journal, events)) => match Session::replay(&events) {
                Ok(session) => DataStorageLab {
                    session,
                    journal: Some(journal),
                    notice: None,
                    live: Default::default(),
                },
                Err(error) => DataStorageLab {
                    session: Session::replay(&events[..error.index]).unwrap_or_default(),
                    journal: Some(journal),
                    notice: Some(Callout::new(
                        CalloutKind::Warn,
                        "Part of your saved lab progress could not be restored.",
                        format!(
                            "Restored the first {} events; event {error}. Later events are kept in the file but ignored.",
                            error.index
                        ),
                    )),
                    live: Default::default(),
                },
            },
            Err(error) => DataStorageLab {
                session: Session::default(),
                journal: None,
                notice: Some(Callout::new(
                    CalloutKind::Warn,
                    "Your lab progress will not be saved.",
                    format!("{error}. The lab works, but only in this kernel's memory."),
                )),
                live: Default::default(),
            },
        }
    }

    /// Applies `kind` to a copy of the session, records it, then commits it.
    fn record(&mut self, kind: EventKind) -> Result<(), ExecutionError> {
        let mut next = self.session.clone();
        next.apply(&kind)
            .map_err(|e| ExecutionError::new("LabError", e.to_string()))?;
        if let Some(journal) = &mut self.journal {
            journal.record(kind).map_err(|e| {
                ExecutionError::new("JournalError", format!("{e}; nothing was changed"))
            })?;
        }
        self.session = next;
        Ok(())
    }

    fn dispatch(
        &mut self,
        name: &str,
        command: Command,
        outputs: &Outputs,
    ) -> Result<Media, ExecutionError> {
        match command {
            Command::Help => Ok(help_text(
                SPECS.iter().find(|s| s.name == name).unwrap_or(&SPECS[0]),
            )),
            Command::Context(context) => {
                if let Some(context) = context {
                    if context != self.session.context {
                        self.record(EventKind::ContextSet {
                            context: context.id().to_string(),
                        })?;
                    }
                }
                Ok(render::callout(&context_callout(self.session.context)))
            }
            Command::Predict(act, choice) => self.predict(act, choice),
            Command::Io(inputs) => self.run_instrument(RunInputs::Act1(inputs), outputs),
            Command::Mds(inputs) => self.run_instrument(RunInputs::Act2(inputs), outputs),
            Command::Reveal(act) => self.reveal(act),
            Command::Reflect(act, choice) => self.reflect(act, choice),
            Command::MathPeek(act) => {
                let report = self
                    .session
                    .last_report(act)
                    .unwrap_or_else(|| self.current_run(act).evaluate());
                Ok(render::mathpeek(&narrative::mathpeek(&report)))
            }
            Command::Status => Ok(self.status()),
        }
    }

    fn current_run(&self, act: Act) -> RunInputs {
        match act {
            Act::Act1 => RunInputs::Act1(self.session.io),
            Act::Act2 => RunInputs::Act2(self.session.mds),
        }
    }

    fn predict(&mut self, act: Act, choice: Option<Choice>) -> Result<Media, ExecutionError> {
        let question = content::prediction(act);
        let locked = self.session.predictions.get(&act).copied();
        match (choice, locked) {
            (None, None) => Ok(render::prediction(
                act,
                &question,
                None,
                &format!("Lock your answer with `%predict {act} A` (or B, C, D). It cannot be changed later."),
            )),
            (None, Some(locked)) => Ok(render::prediction(
                act,
                &question,
                Some(locked),
                &format!("Locked as {locked}. Run `{}` to test it.", instrument(act)),
            )),
            (Some(choice), Some(locked)) if choice != locked => Err(ExecutionError::new(
                "PredictionLocked",
                format!(
                    "{} prediction is already locked as {locked} ({}); it cannot be changed",
                    act.title(),
                    question.option(locked)
                ),
            )),
            (Some(choice), locked) => {
                if locked.is_none() {
                    self.record(EventKind::PredictionLocked { act, choice })?;
                }
                Ok(render::callout(&Callout::new(
                    CalloutKind::Info,
                    format!("Prediction locked: {choice}. {}", question.option(choice)),
                    format!(
                        "Now test your hypothesis with `{}` and see what moves the needle. \
                         `{} --help` lists the settings.",
                        instrument(act),
                        instrument(act)
                    ),
                )))
            }
        }
    }

    fn run_instrument(
        &mut self,
        run: RunInputs,
        outputs: &Outputs,
    ) -> Result<Media, ExecutionError> {
        let inputs = match run {
            RunInputs::Act1(io) => serde_json::to_value(io),
            RunInputs::Act2(mds) => serde_json::to_value(mds),
        }
        .map_err(|e| ExecutionError::new("LabError", e.to_string()))?;
        self.record(EventKind::InstrumentRun {
            act: run.act(),
            inputs,
            source: RunSource::Magic,
        })?;
        let shown = render::instrument(&run.evaluate());
        outputs.display(shown.chart);
        Ok(shown.bundle)
    }

    fn reveal(&mut self, act: Act) -> Result<Media, ExecutionError> {
        if !self.session.revealed.contains(&act) {
            self.record(EventKind::Revealed { act })?;
        }
        let (Some(&predicted), Some(report)) = (
            self.session.predictions.get(&act),
            self.session.last_report(act),
        ) else {
            return Err(ExecutionError::new(
                "LabError",
                format!("{} needs a locked prediction and a run", act.title()),
            ));
        };
        Ok(render::callout(&narrative::reveal(act, predicted, &report)))
    }

    fn reflect(&mut self, act: Act, choice: Option<Choice>) -> Result<Media, ExecutionError> {
        let question = content::reflection(act);
        let kicker = format!("{} · reflection", act.title());
        let answered = self.session.reflections.get(&act).copied();
        match (choice, answered) {
            (None, None) => Ok(render::question(
                &kicker,
                &question,
                None,
                &format!("Answer with `%reflect {act} A` (or B, C, D). Your first answer counts."),
            )),
            (None, Some(first)) => Ok(render::callout(&content::reflection_feedback(act, first))),
            (Some(choice), Some(first)) if choice != first => Err(ExecutionError::new(
                "ReflectionAnswered",
                format!(
                    "{} reflection was already answered {first}; the first answer counts",
                    act.title()
                ),
            )),
            (Some(choice), first) => {
                if first.is_none() {
                    self.record(EventKind::ReflectionAnswered { act, choice })?;
                }
                Ok(render::callout(&content::reflection_feedback(act, choice)))
            }
        }
    }

    fn status(&self) -> Media {
        let s = &self.session;
        let mut rows = vec![(
            "Context".to_string(),
            s.context.label().to_string(),
            Tone::Blue,
        )];
        for act in Act::ALL {
            let t = act.title();
            let (prediction, tone) = match s.predictions.get(&act) {
                Some(&c) if is_correct(c) => (format!("{c} (correct)"), Tone::Green),
                Some(&c) => (format!("{c} (not the key)"), Tone::Red),
                None => (format!("not locked — %predict {act}"), Tone::Grey),
            };
            rows.push((format!("{t} prediction"), prediction, tone));
            let runs = s.runs.iter().filter(|r| r.act() == act).count();
            let last = s.last_report(act).map(|r| match r {
                Report::Act1 { outputs, .. } => {
                    format!(", latest {:.1}% GPU utilization", outputs.gpu_util_pct)
                }
                Report::Act2 { outputs, .. } => format!(
                    ", latest {:.0}K ops/s vs {}K MDS capacity",
                    outputs.ops_demand_per_s / 1000.0,
                    outputs.mds_capacity_per_s / 1000
                ),
            });
            rows.push((
                format!("{t} runs"),
                format!(
                    "{runs} ({} distinct){}",
                    s.distinct_runs(act),
                    last.unwrap_or_default()
                ),
                if runs > 0 { Tone::Blue } else { Tone::Grey },
            ));
            let revealed = s.revealed.contains(&act);
            rows.push((
                format!("{t} reveal"),
                if revealed {
                    "shown".to_string()
                } else {
                    format!("not yet — %reveal {act}")
                },
                if revealed { Tone::Green } else { Tone::Grey },
            ));
            let (reflection, tone) = match s.reflections.get(&act) {
                Some(&c) if is_correct(c) => (format!("{c} (correct)"), Tone::Green),
                Some(&c) => (format!("{c} (not the key)"), Tone::Red),
                None => (format!("not answered — %reflect {act}"), Tone::Grey),
            };
            rows.push((format!("{t} reflection"), reflection, tone));
        }
        rows.push((
            "Design saved".to_string(),
            if s.saved_design.is_some() {
                "yes"
            } else {
                "not yet"
            }
            .to_string(),
            if s.saved_design.is_some() {
                Tone::Green
            } else {
                Tone::Grey
            },
        ));
        rows.push((
            "Progress saved in".to_string(),
            match &self.journal {
                Some(j) => j.path().display().to_string(),
                None => "memory only (the journal could not be opened)".to_string(),
            },
            if self.journal.is_some() {
                Tone::Blue
            } else {
                Tone::Orange
            },
        ));
        render::table(&format!("{LAB_TITLE} · lab {LAB_ID} · status"), &rows)
    }
}

impl Default for DataStorageLab {
    fn default() -> Self {
        Self::new()
    }
}

fn instrument(act: Act) -> &'static str {
    mlsys_model::labs::data_storage::session::instrument_magic(act)
}

fn help_text(spec: &MagicSpec) -> Media {
    Media::new(vec![jupyter_protocol::MediaType::Plain(format!(
        "{}\n\n{}\n\n{}",
        spec.usage, spec.summary, spec.doc
    ))])
}

impl MagicSet for DataStorageLab {
    fn specs(&self) -> &'static [MagicSpec] {
        SPECS
    }

    fn run(
        &mut self,
        name: &str,
        args: &str,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError> {
        if let Some(notice) = self.notice.take() {
            outputs.display(render::callout(&notice));
        }
        match name {
            "context" | "predict" | "io" | "mds" | "reveal" | "reflect" | "mathpeek" | "status" => {
                let (live, args) = match name {
                    "io" | "mds" => live::take_live_flag(args),
                    _ => (false, args.to_string()),
                };
                let command = args::parse(name, &args, &self.session.io, &self.session.mds)
                    .map_err(|e| ExecutionError::new("UsageError", e))?;
                match command {
                    Command::Io(inputs) if live => self.open_live(RunInputs::Act1(inputs), outputs),
                    Command::Mds(inputs) if live => {
                        self.open_live(RunInputs::Act2(inputs), outputs)
                    }
                    _ => self.dispatch(name, command, outputs),
                }
                .map(Some)
            }
            "ledger" => handin::ledger(args, &mut self.session, self.journal.as_mut(), outputs),
            "submit" => handin::submit(args, &mut self.session, self.journal.as_mut(), outputs),
            _ => Err(ExecutionError::new(
                "UsageError",
                format!("%{name} is not a magic of lab {LAB_ID}"),
            )),
        }
    }

    fn comm_open(&mut self, comm_id: &str, target_name: &str) -> bool {
        self.live.comm_open(comm_id, target_name)
    }

    fn comm_msg(&mut self, comm_id: &str, data: &Map<String, Value>, outputs: &Outputs) -> bool {
        self.live_comm_msg(comm_id, data, outputs)
    }

    fn comm_close(&mut self, comm_id: &str) -> bool {
        self.live.comm_close(comm_id)
    }

    fn comms(&self) -> Vec<(String, String)> {
        self.live.comms()
    }
}

/// Evaluates a run given as the run JSON (`{"act": …, "inputs": {…}}`) and
/// returns the report JSON, exactly as the lab's magics publish it.
pub fn evaluate_json(run: &str) -> Result<String, String> {
    let run: RunInputs = serde_json::from_str(run).map_err(|e| format!("invalid run JSON: {e}"))?;
    serde_json::to_string(&run.evaluate()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
