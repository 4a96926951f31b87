//! Lab v2_04, "The Data Gravity Trap", playable through magics.
//!
//! The lab's state is the model's [`Session`], held by a [`Recorder`]: every
//! student action becomes an [`EventKind`] recorded through it (checked by the
//! model's rules, journaled, then committed), so a refused or unrecordable
//! action changes nothing. A new kernel replays the journal.

pub mod answers;
pub mod args;
pub mod live;
pub mod render;
pub mod specs;

use crate::interpreter::{ExecutionError, Outputs};
use crate::lab::{KernelLab, LabMagics, LabRecord};
use crate::magic::MagicSpec;
use crate::recorder::{RecordError, Recorder};
use crate::render::palette::Tone;
use crate::render::{callout, table};
use crate::widgets::{OwnedWidgets, WidgetId};
use answers::Kind;
use args::Command;
use jupyter_protocol::Media;
use mlsys_model::content::CalloutKind;
use mlsys_model::labs::data_storage::content::{context_callout, is_correct};
use mlsys_model::labs::data_storage::narrative;
use mlsys_model::labs::data_storage::status::status_footer;
use mlsys_model::labs::data_storage::{Report, RunInputs, Session, LAB, LAB_ID, LAB_TITLE};
use mlsys_model::record::{EventKind, RunSource};
use mlsys_model::rules::SessionError;
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

/// A report as the instruments show it: the cards displayed first, then the
/// chart (carrying the report JSON) returned.
fn instrument_view(report: &Report, outputs: &Outputs) -> Media {
    let shown = render::instrument(report);
    outputs.display(shown.cards);
    shown.chart
}

/// The lab's magics and the student's session.
pub struct DataStorageLab {
    recorder: Recorder<Session>,
    specs: Vec<MagicSpec>,
    live: live::LivePanels,
    answers: answers::AnswerPanels,
}

impl DataStorageLab {
    /// Resumes the session from the journal under `home` (see [`Recorder::open`]).
    pub fn open(home: &Path) -> Self {
        DataStorageLab {
            recorder: Recorder::open(home),
            specs: specs::specs(),
            live: Default::default(),
            answers: Default::default(),
        }
    }

    /// The session as recorded.
    fn session(&self) -> &Session {
        self.recorder.session()
    }

    fn dispatch(
        &mut self,
        command: Command,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
    ) -> Result<Media, ExecutionError> {
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
            Command::Predict(act, choice) => {
                self.question(Kind::Prediction, act, choice, w, outputs)
            }
            Command::Io(inputs) => self.run_instrument(RunInputs::Act1(inputs), outputs),
            Command::Mds(inputs) => self.run_instrument(RunInputs::Act2(inputs), outputs),
            Command::Reveal(act) => self.reveal(act),
            Command::Reflect(act, choice) => {
                self.question(Kind::Reflection, act, choice, w, outputs)
            }
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

    /// `%predict` / `%reflect`: the question as a panel, or the magic form's answer.
    fn question(
        &mut self,
        kind: Kind,
        act: Act,
        choice: Option<Choice>,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
    ) -> Result<Media, ExecutionError> {
        match choice {
            None => Ok(self.open_question(kind, act, w, outputs)),
            Some(choice) => Ok(callout(&self.answer(kind, act, choice, w, outputs)?)),
        }
    }

    fn run_instrument(
        &mut self,
        run: RunInputs,
        outputs: &Outputs,
    ) -> Result<Media, ExecutionError> {
        self.record_event(run_event(&run, RunSource::Magic)?)?;
        Ok(instrument_view(&run.evaluate(), outputs))
    }

    /// Records `kind`; a refusal for want of a locked prediction tells the
    /// student how to lock it.
    fn record_event(&mut self, kind: EventKind) -> Result<(), ExecutionError> {
        self.recorder.record(kind).map_err(|error| match error {
            RecordError::Refused(SessionError::PredictionNotLocked { act }) => {
                ExecutionError::new("LabError", lock_first(act))
            }
            other => other.into(),
        })
    }

    fn reveal(&mut self, act: Act) -> Result<Media, ExecutionError> {
        if !self.session().revealed.contains(&act) {
            self.record_event(EventKind::Revealed { act })?;
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

    /// `%status`: the seed's status footer (context, predictions, Act I's
    /// utilization and effective bandwidth, the MDS state, the workers), then
    /// the lab's progress, one row each.
    fn status(&self) -> Media {
        let s = self.session();
        let mut rows: Vec<(String, String, Tone)> = status_footer(s)
            .items()
            .into_iter()
            .map(|item| {
                let tone = match item.tone {
                    None => Tone::Blue,
                    Some(CalloutKind::Info) => Tone::Grey,
                    Some(CalloutKind::Success) => Tone::Green,
                    Some(CalloutKind::Warn) => Tone::Orange,
                    Some(CalloutKind::Danger) => Tone::Red,
                };
                (item.label.to_string(), item.value, tone)
            })
            .collect();
        for act in Act::ALL {
            let t = act.title();
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

/// Why an act's instrument or reveal refuses before its prediction, and what to do.
fn lock_first(act: Act) -> String {
    format!(
        "{} prediction is not locked yet: pick your answer in the question of `%predict {act}` \
         and click Lock (or type `%predict {act}` followed by your letter, A–D), then run this \
         cell again",
        act.title()
    )
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
            _ => self.dispatch(command, widgets, outputs),
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
        if self.is_question_widget(id) {
            self.answer_update(id, state, widgets, outputs);
        } else {
            self.live_update(id, state, widgets, outputs);
        }
    }

    fn widget_event(
        &mut self,
        id: &WidgetId,
        content: &Value,
        widgets: &mut OwnedWidgets,
        outputs: &Outputs,
    ) {
        if self.is_question_widget(id) {
            self.answer_event(id, content, widgets, outputs);
        } else {
            tracing::info!(comm_id = id.0, %content, "event of a widget without a button ignored");
        }
    }

    fn record(&mut self) -> &mut dyn LabRecord {
        &mut self.recorder
    }
}

#[cfg(test)]
mod tests;
