//! The Pipe's kernel side: what a lab module under `kernel/src/labs/` would
//! be, living here in the test tree. Two magics, `%pipe [--width N] [--live]`
//! (the instrument, recorded through the lab's recorder) and `%predict act1
//! [A-D]` (its one question; v2_04 has a `%predict` too, and the kernel runs
//! the active lab's), a live panel (one `IntSlider`) on the kernel's shared
//! widget manager, and its reports rendered by their mime type. `%ledger` and
//! `%submit` come with the kernel.

use crate::model::{PipeInputs, PipeSession, LAB, LAB_ID, LAB_TITLE, QUESTION, WIDTH};
use jupyter_protocol::{Media, MediaType};
use mlsys_kernel::interpreter::{ExecutionError, Outputs};
use mlsys_kernel::lab::{KernelLab, LabMagics, LabRecord};
use mlsys_kernel::magic::MagicSpec;
use mlsys_kernel::recorder::Recorder;
use mlsys_kernel::render;
use mlsys_kernel::widgets::models::{Container, Direction, Dom, Html, IntSlider};
use mlsys_kernel::widgets::{OwnedWidgets, WidgetId};
use mlsys_model::content::{Callout, CalloutKind, Question};
use mlsys_model::record::{EventKind, RunSource};
use mlsys_model::{Act, Choice, Lab};
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::path::Path;

/// The Pipe's kernel side.
pub struct PipeKernel;

/// The Pipe's kernel side, to register next to the course's labs.
pub static KERNEL_LAB: PipeKernel = PipeKernel;

impl KernelLab for PipeKernel {
    fn model(&self) -> &'static dyn Lab {
        &LAB
    }

    fn open(&self, home: &Path) -> Box<dyn LabMagics> {
        Box::new(PipeLab {
            recorder: Recorder::open(home),
            specs: specs(),
            live: None,
        })
    }

    fn render_report(&self, report: &Value, _outputs: &Outputs) -> Option<Media> {
        let width = report["inputs"]["width"].as_u64()?;
        let throughput = report["outputs"]["throughput_gbs"].as_f64()?;
        let line = format!("{LAB_TITLE}: width {width} → {throughput:.0} GB/s");
        Some(Media::new(vec![
            MediaType::Html(format!("<b>{}</b>", render::html::escape(&line))),
            MediaType::Plain(line),
            MediaType::Other((LAB.report_mime().to_string(), report.clone())),
        ]))
    }
}

fn specs() -> Vec<MagicSpec> {
    vec![
        MagicSpec {
            name: "pipe",
            usage: "%pipe [--width N] [--live]",
            summary: "Run the pipe with N lanes.",
            doc: Cow::Owned(format!(
                "Moves data through a pipe of N lanes ({}; default: the last width). \
                 --live shows a slider; each settled move is a run. Needs %predict act1 first.",
                WIDTH.span()
            )),
            hints: &["--width", "--live"],
        },
        MagicSpec {
            name: "predict",
            usage: "%predict act1 [A-D]",
            summary: "Show the Pipe's question, or lock your answer.",
            doc: Cow::Borrowed("%predict act1 shows the question; %predict act1 B locks B."),
            hints: &["act1", "A", "B", "C", "D"],
        },
    ]
}

/// The live panel: the slider and the line showing the throughput.
struct Live {
    slider: WidgetId,
    shown: WidgetId,
}

/// The Pipe opened in a kernel.
struct PipeLab {
    recorder: Recorder<PipeSession>,
    specs: Vec<MagicSpec>,
    live: Option<Live>,
}

fn usage(message: impl Into<String>) -> ExecutionError {
    ExecutionError::new("UsageError", message)
}

fn run_event(inputs: PipeInputs, source: RunSource) -> EventKind {
    EventKind::InstrumentRun {
        act: Act::Act1,
        inputs: json!(inputs),
        source,
    }
}

impl PipeLab {
    fn width(&self) -> u32 {
        self.recorder
            .session()
            .runs
            .last()
            .map_or(WIDTH.min, |r| r.width)
    }

    fn pipe(
        &mut self,
        args: &str,
        widgets: &mut OwnedWidgets,
        outputs: &Outputs,
    ) -> Result<Media, ExecutionError> {
        let mut width = i64::from(self.width());
        let mut live = false;
        let mut words = args.split_whitespace();
        while let Some(word) = words.next() {
            match word {
                "--live" => live = true,
                "--width" => {
                    let text = words.next().ok_or_else(|| usage("--width needs a value"))?;
                    width = text
                        .parse()
                        .map_err(|_| usage(format!("--width must be a number, got {text}")))?;
                }
                other => return Err(usage(format!("%pipe: unknown option {other}"))),
            }
        }
        let inputs =
            PipeInputs::from_json(&json!({ "width": width })).map_err(|e| usage(e.to_string()))?;
        self.recorder.record(run_event(inputs, RunSource::Magic))?;
        let report = KERNEL_LAB
            .render_report(&inputs.report(), outputs)
            .expect("the Pipe renders its own reports");
        if !live {
            return Ok(report);
        }
        let slider = widgets.open(
            &IntSlider {
                value: width,
                min: WIDTH.min.into(),
                max: WIDTH.max.into(),
                step: WIDTH.step.into(),
                description: "Width".into(),
                continuous_update: false,
                dom: Dom::default(),
            },
            outputs,
        );
        let shown = widgets.open(&Html::default(), outputs);
        let root = widgets.open(
            &Container {
                direction: Direction::Vertical,
                children: vec![slider.clone(), shown.clone()],
                dom: Dom::default(),
            },
            outputs,
        );
        self.live = Some(Live { slider, shown });
        let mut bundle = report.content;
        bundle.insert(
            0,
            MediaType::WidgetView(
                json!({"model_id": root.0, "version_major": 2, "version_minor": 0}),
            ),
        );
        Ok(Media::new(bundle))
    }

    fn predict(&mut self, args: &str) -> Result<Media, ExecutionError> {
        let words: Vec<&str> = args.split_whitespace().collect();
        let (act, choice) = match words.as_slice() {
            [act] => (act.parse::<Act>(), None),
            [act, choice] => (act.parse::<Act>(), Some(choice.parse::<Choice>())),
            _ => return Err(usage("%predict act1 [A-D]")),
        };
        if act.map_err(|e| usage(e.to_string()))? != Act::Act1 {
            return Err(usage(format!("{LAB_ID} has one act, act1")));
        }
        let (prompt, options) = QUESTION;
        let question = Question {
            prompt: prompt.to_string(),
            options: options.map(String::from),
        };
        match choice.transpose().map_err(|e| usage(e.to_string()))? {
            None => Ok(render::question(
                LAB_TITLE,
                &question,
                self.recorder.session().prediction,
                "Lock your answer with `%predict act1 A` (or B, C, D).",
            )),
            Some(choice) => {
                self.recorder.record(EventKind::PredictionLocked {
                    act: Act::Act1,
                    choice,
                })?;
                Ok(render::callout(&Callout::new(
                    CalloutKind::Info,
                    format!("Prediction locked: {choice}. {}", question.option(choice)),
                    "Now run `%pipe --width N`.",
                )))
            }
        }
    }
}

impl LabMagics for PipeLab {
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
        match name {
            "pipe" => self.pipe(args, widgets, outputs),
            _ => self.predict(args),
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
        let Some(live) = self.live.as_ref().filter(|live| live.slider == *id) else {
            widgets.reject(id, state.keys(), outputs);
            return;
        };
        let shown = live.shown.clone();
        let width = state.get("value").cloned().unwrap_or(Value::Null);
        let recorded = PipeInputs::from_json(&json!({ "width": width }))
            .map_err(|e| e.to_string())
            .and_then(|inputs| {
                let event = run_event(inputs, RunSource::Widget);
                self.recorder.record(event).map_err(|e| e.to_string())?;
                Ok(inputs)
            });
        match recorded {
            Ok(inputs) => {
                widgets.accept(id, state, outputs);
                let throughput = inputs.report()["outputs"]["throughput_gbs"].clone();
                let line = format!("{throughput} GB/s");
                let mut patch = Map::new();
                patch.insert("value".into(), line.into());
                widgets.set(&shown, patch, outputs);
            }
            // A forged or refused move snaps back; the session keeps its last run.
            Err(_) => widgets.reject(id, state.keys(), outputs),
        }
    }

    fn record(&mut self) -> &mut dyn LabRecord {
        &mut self.recorder
    }
}
