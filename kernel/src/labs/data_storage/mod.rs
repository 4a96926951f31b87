//! Lab v2_04, "The Data Gravity Trap", playable through magics.
//!
//! The lab's state is the model's [`Session`], held by a [`Recorder`]: every
//! student action becomes an [`EventKind`] recorded through it (checked by the
//! model's rules, journaled, then committed), so a refused or unrecordable
//! action changes nothing. A new kernel replays the journal.

pub mod args;
pub mod live;
pub mod render;
pub mod specs;

use crate::interpreter::{ExecutionError, Outputs};
use crate::lab::{KernelLab, LabMagics, LabRecord};
use crate::magic::MagicSpec;
use crate::recorder::Recorder;
use crate::render::palette::Tone;
use crate::render::{self as shared, callout, table};
use crate::widgets::{OwnedWidgets, WidgetId};
use args::Command;
use jupyter_protocol::Media;
use mlsys_model::content::{Callout, CalloutKind};
use mlsys_model::labs::data_storage::content::{self, context_callout, is_correct};
use mlsys_model::labs::data_storage::narrative;
use mlsys_model::labs::data_storage::session::instrument_magic;
use mlsys_model::labs::data_storage::{Report, RunInputs, Session, LAB, LAB_ID, LAB_TITLE};
use mlsys_model::record::{EventKind, RunSource};
use mlsys_model::{Act, Choice, Lab};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::Path;

/// The lab's kernel side.
pub struct DataStorageKernel;

/// The lab's kernel side, for registries.
pub static KERNEL_LAB: DataStorageKernel = DataStorageKernel;

impl KernelLab for DataStorageKernel {
    fn model(&self) -> &'static dyn Lab {
        &LAB
    }

    fn open(&self, home: &Path) -> Box<dyn LabMagics> {
        Box::new(DataStorageLab::open(home))
    }

    fn render_report(&self, report: &Value, outputs: &Outputs) -> Option<Media> {
        let report = Report::deserialize(report).ok()?;
        Some(instrument_view(&report, outputs))
    }
}

/// A report as the instruments show it: the chart as a display of its own,
/// the four-mimetype bundle returned.
fn instrument_view(report: &Report, outputs: &Outputs) -> Media {
    let shown = render::instrument(report);
    outputs.display(shown.chart);
    shown.bundle
}

/// The lab's magics and the student's session.
pub struct DataStorageLab {
    recorder: Recorder<Session>,
    specs: Vec<MagicSpec>,
    live: live::LivePanels,
}

impl DataStorageLab {
    /// Resumes the session from the journal under `home` (see [`Recorder::open`]).
    pub fn open(home: &Path) -> Self {
        DataStorageLab {
            recorder: Recorder::open(home),
            specs: specs::specs(),
            live: Default::default(),
        }
    }

    /// The session as recorded.
    fn session(&self) -> &Session {
        self.recorder.session()
    }

    fn dispatch(&mut self, command: Command, outputs: &Outputs) -> Result<Media, ExecutionError> {
        match command {
            Command::Context(context) => {
                if let Some(context) = context {
                    if context != self.session().context {
                        self.recorder.record(EventKind::ContextSet {
                            context: context.id().to_string(),
                        })?;
                    }
                }
                Ok(callout(&context_callout(self.session().context)))
            }
            Command::Predict(act, choice) => self.predict(act, choice),
            Command::Io(inputs) => self.run_instrument(RunInputs::Act1(inputs), outputs),
            Command::Mds(inputs) => self.run_instrument(RunInputs::Act2(inputs), outputs),
            Command::Reveal(act) => self.reveal(act),
            Command::Reflect(act, choice) => self.reflect(act, choice),
            Command::MathPeek(act) => {
                let report = self
                    .session()
                    .last_report(act)
                    .unwrap_or_else(|| self.current_run(act).evaluate());
                Ok(render::mathpeek(&narrative::mathpeek(&report)))
            }
            Command::Status => Ok(self.status()),
        }
    }

    fn current_run(&self, act: Act) -> RunInputs {
        match act {
            Act::Act1 => RunInputs::Act1(self.session().io),
            Act::Act2 => RunInputs::Act2(self.session().mds),
        }
    }

    fn predict(&mut self, act: Act, choice: Option<Choice>) -> Result<Media, ExecutionError> {
        let question = content::prediction(act);
        let locked = self.session().predictions.get(&act).copied();
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
                &format!(
                    "Locked as {locked}. Run `{}` to test it.",
                    instrument_magic(act)
                ),
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
                    self.recorder
                        .record(EventKind::PredictionLocked { act, choice })?;
                }
                Ok(callout(&Callout::new(
                    CalloutKind::Info,
                    format!("Prediction locked: {choice}. {}", question.option(choice)),
                    format!(
                        "Now test your hypothesis with `{}` and see what moves the needle. \
                         `{} --help` lists the settings.",
                        instrument_magic(act),
                        instrument_magic(act)
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
        self.recorder.record(run_event(&run, RunSource::Magic)?)?;
        Ok(instrument_view(&run.evaluate(), outputs))
    }

    fn reveal(&mut self, act: Act) -> Result<Media, ExecutionError> {
        if !self.session().revealed.contains(&act) {
            self.recorder.record(EventKind::Revealed { act })?;
        }
        let (Some(&predicted), Some(report)) = (
            self.session().predictions.get(&act),
            self.session().last_report(act),
        ) else {
            return Err(ExecutionError::new(
                "LabError",
                format!("{} needs a locked prediction and a run", act.title()),
            ));
        };
        Ok(callout(&narrative::reveal(act, predicted, &report)))
    }

    fn reflect(&mut self, act: Act, choice: Option<Choice>) -> Result<Media, ExecutionError> {
        let question = content::reflection(act);
        let kicker = format!("{} · reflection", act.title());
        let answered = self.session().reflections.get(&act).copied();
        match (choice, answered) {
            (None, None) => Ok(shared::question(
                &kicker,
                &question,
                None,
                &format!("Answer with `%reflect {act} A` (or B, C, D). Your first answer counts."),
            )),
            (None, Some(first)) => Ok(callout(&content::reflection_feedback(act, first))),
            (Some(choice), Some(first)) if choice != first => Err(ExecutionError::new(
                "ReflectionAnswered",
                format!(
                    "{} reflection was already answered {first}; the first answer counts",
                    act.title()
                ),
            )),
            (Some(choice), first) => {
                if first.is_none() {
                    self.recorder
                        .record(EventKind::ReflectionAnswered { act, choice })?;
                }
                Ok(callout(&content::reflection_feedback(act, choice)))
            }
        }
    }

    fn status(&self) -> Media {
        let s = self.session();
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
            match self.recorder.journal() {
                Some(j) => j.path().display().to_string(),
                None => "memory only (the journal could not be opened)".to_string(),
            },
            if self.recorder.journal().is_some() {
                Tone::Blue
            } else {
                Tone::Orange
            },
        ));
        let (witness, tone) = self.recorder.witness_status().describe();
        rows.push(("Witnessed".to_string(), witness, tone));
        table(&format!("{LAB_TITLE} · lab {LAB_ID} · status"), &rows)
    }
}

/// The event recording `run` as made from `source`.
fn run_event(run: &RunInputs, source: RunSource) -> Result<EventKind, ExecutionError> {
    let inputs = match run {
        RunInputs::Act1(io) => serde_json::to_value(io),
        RunInputs::Act2(mds) => serde_json::to_value(mds),
    }
    .map_err(|e| ExecutionError::new("LabError", e.to_string()))?;
    Ok(EventKind::InstrumentRun {
        act: run.act(),
        inputs,
        source,
    })
}

impl LabMagics for DataStorageLab {
    fn specs(&self) -> &[MagicSpec] {
        &self.specs
    }

    fn run(
        &mut self,
        name: &str,
        args: &str,
        widgets: &mut OwnedWidgets,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError> {
        let (live, args) = match name {
            "io" | "mds" => live::take_live_flag(args),
            _ => (false, args.to_string()),
        };
        let command = args::parse(name, &args, &self.session().io, &self.session().mds)
            .map_err(|e| ExecutionError::new("UsageError", e))?;
        match command {
            Command::Io(inputs) if live => {
                self.open_live(RunInputs::Act1(inputs), widgets, outputs)
            }
            Command::Mds(inputs) if live => {
                self.open_live(RunInputs::Act2(inputs), widgets, outputs)
            }
            _ => self.dispatch(command, outputs),
        }
        .map(Some)
    }

    fn widget_update(
        &mut self,
        id: &WidgetId,
        state: Map<String, Value>,
        widgets: &mut OwnedWidgets,
        outputs: &Outputs,
    ) {
        self.live_update(id, state, widgets, outputs);
    }

    fn record(&mut self) -> &mut dyn LabRecord {
        &mut self.recorder
    }
}

#[cfg(test)]
mod tests;
