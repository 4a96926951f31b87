//! Live instruments: `%io --live` and `%mds --live` show real Jupyter widgets —
//! a slider per numeric input, toggle buttons for the read pattern or dataset
//! layout, and beneath them the cards (HTML) and the chart (an Output widget).
//!
//! The widgets are opened on the kernel's one widget manager, as this lab's;
//! the manager hands their front-end changes back here. Every value a widget
//! sends is checked by the model ([`IoInputs::new`], [`MdsInputs::new`]) and
//! by the session's lock rules (the recorder's check) before it is used; a bad
//! or forged one is refused with a one-line notice and the widget snaps back
//! to its last good value. An accepted change is echoed, rendered, sent, then
//! committed by the recorder as an instrument run with [`RunSource::Widget`].
//!
//! Debouncing: sliders are opened with `continuous_update: false`, so the front
//! end sends a value only when the handle settles (mouse released, key
//! pressed), never during a drag; and a value equal to the panel's current
//! inputs records nothing. One settled change is one event.

use super::{render, run_event, DataStorageLab};
use crate::interpreter::{ExecutionError, Outputs};
use crate::render::html;
use crate::widgets::models::{
    Container, Direction, Dom, Html, IntSlider, Layout, Output, Style, ToggleButtons, Widget,
};
use crate::widgets::{OwnedWidgets, WidgetId};
use jupyter_protocol::{Media, MediaType};
use mlsys_model::content::{Callout, CalloutKind};
use mlsys_model::input_error::SteppedRange;
use mlsys_model::labs::data_storage::constants::{
    BATCH, GPUS, MDS_NODES, OSTS, WORKERS, WORKERS_PER_GPU,
};
use mlsys_model::labs::data_storage::content::{layout_text, pattern_text, OptionText};
use mlsys_model::labs::data_storage::{
    Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern, RunInputs,
};
use mlsys_model::record::RunSource;
use mlsys_model::Act;
use serde_json::{Map, Value};
use std::time::Instant;

/// Removes the `--live` flag from a magic's arguments; whether it was there.
/// Words after a `#` are a comment and kept as they are.
pub fn take_live_flag(args: &str) -> (bool, String) {
    let mut live = false;
    let mut in_comment = false;
    let mut kept = Vec::new();
    for word in args.split_whitespace() {
        in_comment |= word.starts_with('#');
        if !in_comment && word == "--live" {
            live = true;
        } else {
            kept.push(word);
        }
    }
    (live, kept.join(" "))
}

/// One input of an instrument, shown as one widget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    Workers,
    Batch,
    Pattern,
    Osts,
    Gpus,
    WorkersPerGpu,
    Layout,
    MdsNodes,
}

impl Control {
    fn of(act: Act) -> &'static [Control] {
        match act {
            Act::Act1 => &[
                Control::Workers,
                Control::Batch,
                Control::Osts,
                Control::Pattern,
            ],
            Act::Act2 => &[
                Control::Gpus,
                Control::WorkersPerGpu,
                Control::MdsNodes,
                Control::Layout,
            ],
        }
    }

    fn label(self) -> &'static str {
        match self {
            Control::Workers => "Workers per GPU",
            Control::Batch => "Batch size",
            Control::Pattern => "Read pattern",
            Control::Osts => "Lustre OSTs",
            Control::Gpus => "GPUs",
            Control::WorkersPerGpu => "Workers per GPU",
            Control::Layout => "Dataset layout",
            Control::MdsNodes => "MDS nodes",
        }
    }

    /// The slider range; `None` for the toggle buttons.
    fn range(self) -> Option<SteppedRange> {
        match self {
            Control::Workers => Some(WORKERS),
            Control::Batch => Some(BATCH),
            Control::Osts => Some(OSTS),
            Control::Gpus => Some(GPUS),
            Control::WorkersPerGpu => Some(WORKERS_PER_GPU),
            Control::MdsNodes => Some(MDS_NODES),
            Control::Pattern | Control::Layout => None,
        }
    }

    /// The state key the front end syncs.
    fn key(self) -> &'static str {
        if self.range().is_some() {
            "value"
        } else {
            "index"
        }
    }

    /// The control's value in `run`: a slider value or a button index.
    fn current(self, run: &RunInputs) -> i64 {
        let index = |found: Option<usize>| found.unwrap_or(0) as i64;
        match (self, run) {
            (Control::Workers, RunInputs::Act1(io)) => io.workers.into(),
            (Control::Batch, RunInputs::Act1(io)) => io.batch.into(),
            (Control::Osts, RunInputs::Act1(io)) => io.osts.into(),
            (Control::Pattern, RunInputs::Act1(io)) => {
                index(ReadPattern::ALL.iter().position(|p| *p == io.pattern))
            }
            (Control::Gpus, RunInputs::Act2(mds)) => mds.gpus.into(),
            (Control::WorkersPerGpu, RunInputs::Act2(mds)) => mds.workers_per_gpu.into(),
            (Control::MdsNodes, RunInputs::Act2(mds)) => mds.mds.into(),
            (Control::Layout, RunInputs::Act2(mds)) => {
                index(DatasetLayout::ALL.iter().position(|l| *l == mds.layout))
            }
            _ => 0,
        }
    }

    /// `run` with this control set to `sent`, validated by the model.
    fn apply(self, run: &RunInputs, sent: &Value) -> Result<RunInputs, String> {
        let n = sent
            .as_i64()
            .ok_or_else(|| format!("{} must be an integer, got {sent}", self.label()))?;
        let option = |count: usize| {
            usize::try_from(n)
                .ok()
                .filter(|i| *i < count)
                .ok_or_else(|| format!("{} has no option {n}", self.label()))
        };
        let checked = match (self, *run) {
            (Control::Workers, RunInputs::Act1(io)) => {
                IoInputs::new(io.context, n, io.batch.into(), io.pattern, io.osts.into())
            }
            (Control::Batch, RunInputs::Act1(io)) => {
                IoInputs::new(io.context, io.workers.into(), n, io.pattern, io.osts.into())
            }
            (Control::Osts, RunInputs::Act1(io)) => IoInputs::new(
                io.context,
                io.workers.into(),
                io.batch.into(),
                io.pattern,
                n,
            ),
            (Control::Pattern, RunInputs::Act1(io)) => IoInputs::new(
                io.context,
                io.workers.into(),
                io.batch.into(),
                ReadPattern::ALL[option(ReadPattern::ALL.len())?],
                io.osts.into(),
            ),
            (Control::Gpus, RunInputs::Act2(m)) => {
                return MdsInputs::new(
                    m.context,
                    n,
                    m.workers_per_gpu.into(),
                    m.layout,
                    m.mds.into(),
                )
                .map(RunInputs::Act2)
                .map_err(|e| e.to_string())
            }
            (Control::WorkersPerGpu, RunInputs::Act2(m)) => {
                return MdsInputs::new(m.context, m.gpus.into(), n, m.layout, m.mds.into())
                    .map(RunInputs::Act2)
                    .map_err(|e| e.to_string())
            }
            (Control::MdsNodes, RunInputs::Act2(m)) => {
                return MdsInputs::new(
                    m.context,
                    m.gpus.into(),
                    m.workers_per_gpu.into(),
                    m.layout,
                    n,
                )
                .map(RunInputs::Act2)
                .map_err(|e| e.to_string())
            }
            (Control::Layout, RunInputs::Act2(m)) => {
                return MdsInputs::new(
                    m.context,
                    m.gpus.into(),
                    m.workers_per_gpu.into(),
                    DatasetLayout::ALL[option(DatasetLayout::ALL.len())?],
                    m.mds.into(),
                )
                .map(RunInputs::Act2)
                .map_err(|e| e.to_string())
            }
            _ => return Err(format!("{} does not belong to {}", self.label(), run.act())),
        };
        checked.map(RunInputs::Act1).map_err(|e| e.to_string())
    }

    /// The widget showing this control at its value in `run`.
    fn widget(self, run: &RunInputs, dom: Dom) -> Box<dyn Widget> {
        match self.range() {
            Some(range) => Box::new(IntSlider {
                value: self.current(run),
                min: range.min.into(),
                max: range.max.into(),
                step: range.step.into(),
                description: self.label().into(),
                continuous_update: false,
                dom,
            }),
            None => {
                let options: Vec<OptionText> = match self {
                    Control::Pattern => ReadPattern::ALL.map(pattern_text).to_vec(),
                    _ => DatasetLayout::ALL.map(layout_text).to_vec(),
                };
                Box::new(ToggleButtons {
                    index: self.current(run) as usize,
                    description: self.label().into(),
                    labels: options.iter().map(|o| o.label.to_string()).collect(),
                    tooltips: options
                        .iter()
                        .map(|o| format!("{}: {}", o.label, o.description))
                        .collect(),
                    dom,
                })
            }
        }
    }
}

/// The widgets of one act's live instrument.
struct Panel {
    run: RunInputs,
    controls: Vec<(WidgetId, Control)>,
    notice: WidgetId,
    cards: WidgetId,
    chart: WidgetId,
    /// Everything the panel opened, closed together when it is replaced.
    opened: Vec<WidgetId>,
}

/// The live instruments of the lab (their widgets live on the kernel's manager).
#[derive(Default)]
pub struct LivePanels {
    panels: Vec<Panel>,
}

/// What the cards and chart widgets show for one run.
struct Shown {
    page: String,
    plain: String,
    chart: Value,
}

fn show(run: &RunInputs) -> Shown {
    let rendered = render::instrument(&run.evaluate());
    let mut page = String::new();
    let mut plain = String::new();
    for media in rendered.cards.content {
        match media {
            MediaType::Html(html) => page = html,
            MediaType::Plain(text) => plain = text,
            _ => {}
        }
    }
    Shown {
        page,
        plain,
        chart: Output::display_data(rendered.chart),
    }
}

/// `run` in the session's current deployment context (`%context` may have changed it).
fn in_context(run: RunInputs, context: Context) -> RunInputs {
    match run {
        RunInputs::Act1(io) => RunInputs::Act1(IoInputs { context, ..io }),
        RunInputs::Act2(mds) => RunInputs::Act2(MdsInputs { context, ..mds }),
    }
}

fn notice_html(title: &str, body: &str) -> String {
    html::callout(&Callout::new(CalloutKind::Warn, title, body))
}

fn patch(key: &str, value: impl Into<Value>) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(key.into(), value.into());
    map
}

impl DataStorageLab {
    /// `%io --live` / `%mds --live`: records the run like the plain magic (so
    /// the prediction lock applies), replaces the act's previous live panel,
    /// and shows the widgets.
    pub(super) fn open_live(
        &mut self,
        run: RunInputs,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
    ) -> Result<Media, ExecutionError> {
        self.record_event(run_event(&run, RunSource::Magic)?)?;
        let act = run.act();
        if let Some(at) = self.live.panels.iter().position(|p| p.run.act() == act) {
            let old = self.live.panels.remove(at);
            for id in old.opened.iter().rev() {
                w.close(id, outputs);
            }
        }
        let shown = show(&run);
        let mut opened = Vec::new();
        let mut open = |w: &mut OwnedWidgets, widget: &dyn Widget| {
            let id = w.open(widget, outputs);
            opened.push(id.clone());
            id
        };
        let wide = Layout {
            width: Some("560px".into()),
            ..Layout::default()
        };
        let control_layout = open(w, &wide);
        let slider_style = open(
            w,
            &Style::Slider {
                description_width: "9em".into(),
            },
        );
        let toggle_style = open(
            w,
            &Style::ToggleButtons {
                description_width: "9em".into(),
                button_width: "auto".into(),
            },
        );
        let mut controls = Vec::new();
        for &control in Control::of(act) {
            let style = if control.range().is_some() {
                &slider_style
            } else {
                &toggle_style
            };
            let dom = Dom {
                layout: Some(control_layout.clone()),
                style: Some(style.clone()),
            };
            let id = open(w, control.widget(&run, dom).as_ref());
            controls.push((id, control));
        }
        let notice = open(w, &Html::default());
        let cards = open(
            w,
            &Html {
                value: shown.page.clone(),
                dom: Dom::default(),
            },
        );
        let chart = open(
            w,
            &Output {
                outputs: vec![shown.chart],
                dom: Dom::default(),
            },
        );
        let inputs_box = open(
            w,
            &Container {
                direction: Direction::Vertical,
                children: controls.iter().map(|(id, _)| id.clone()).collect(),
                dom: Dom::default(),
            },
        );
        let top = open(
            w,
            &Container {
                direction: Direction::Horizontal,
                children: vec![inputs_box, notice.clone()],
                dom: Dom::default(),
            },
        );
        let root = open(
            w,
            &Container {
                direction: Direction::Vertical,
                children: vec![top, cards.clone(), chart.clone()],
                dom: Dom::default(),
            },
        );
        self.live.panels.push(Panel {
            run,
            controls,
            notice,
            cards,
            chart,
            opened,
        });
        let mut view = Map::new();
        view.insert("model_id".into(), root.0.into());
        view.insert("version_major".into(), 2.into());
        view.insert("version_minor".into(), 0.into());
        Ok(Media::new(vec![
            MediaType::WidgetView(Value::Object(view)),
            MediaType::Html(shown.page),
            MediaType::Plain(shown.plain),
        ]))
    }

    /// A front-end change of one of the live panels' widgets.
    pub(super) fn live_update(
        &mut self,
        id: &WidgetId,
        mut state: Map<String, Value>,
        widgets: &mut OwnedWidgets,
        outputs: &Outputs,
    ) {
        let started = Instant::now();
        let found = self.live.panels.iter().enumerate().find_map(|(at, panel)| {
            panel
                .controls
                .iter()
                .find(|(control_id, _)| control_id == id)
                .map(|(_, control)| (at, *control))
        });
        let Some((at, control)) = found else {
            tracing::info!(comm_id = id.0, "change of a display-only widget refused");
            widgets.reject(id, state.keys(), outputs);
            return;
        };
        let sent = state.remove(control.key());
        if !state.is_empty() {
            widgets.reject(id, state.keys(), outputs);
        }
        if let Some(sent) = sent {
            let change = Change {
                at,
                id,
                control,
                sent,
            };
            self.live_change(change, widgets, outputs, started);
        }
    }

    /// Validates one control change, then shows and records it, or snaps back.
    /// `started` is when the update arrived; the time to the new chart being
    /// sent is logged at debug level on target `live_timing`.
    fn live_change(
        &mut self,
        change: Change,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
        started: Instant,
    ) {
        let Change {
            at,
            id,
            control,
            sent,
        } = change;
        let key = control.key().to_string();
        let current = in_context(self.live.panels[at].run, self.session().context);
        let checked = control.apply(&current, &sent).and_then(|next| {
            let event = run_event(&next, RunSource::Widget).map_err(|e| e.evalue)?;
            let pending = self.recorder.check(event).map_err(|e| e.to_string())?;
            Ok((next, pending))
        });
        let (next, pending) = match checked {
            Ok(accepted) => accepted,
            Err(reason) => {
                w.reject(id, [&key], outputs);
                let kept = control.current(&current);
                let notice = notice_html(
                    &format!("{} change refused", control.label()),
                    &format!("{reason}. The instrument keeps {kept}."),
                );
                self.set_notice(at, notice, w, outputs);
                return;
            }
        };
        if next == current {
            w.accept(id, patch(&key, sent), outputs);
            return;
        }
        // Render first, then send the echo, cards and chart in one burst: the
        // output pump thread is woken once, not three times.
        let shown = show(&next);
        w.accept(id, patch(&key, sent), outputs);
        let panel = &mut self.live.panels[at];
        panel.run = next;
        let (cards, chart) = (panel.cards.clone(), panel.chart.clone());
        w.set(&cards, patch("value", shown.page), outputs);
        w.set(&chart, patch("outputs", vec![shown.chart]), outputs);
        tracing::debug!(
            target: "live_timing",
            nanos = started.elapsed().as_nanos() as u64,
            "live update sent"
        );
        let notice = match self.recorder.commit(pending) {
            Ok(()) => String::new(),
            Err(error) => notice_html(
                "This run is shown but was not saved",
                &format!("{error}. Your lab progress keeps the previous run."),
            ),
        };
        self.set_notice(at, notice, w, outputs);
    }

    /// Shows `html` in a panel's notice line (empty: no notice), if it changed.
    fn set_notice(&mut self, at: usize, html: String, w: &mut OwnedWidgets, outputs: &Outputs) {
        let notice = self.live.panels[at].notice.clone();
        if w.value(&notice, "value").and_then(Value::as_str) != Some(html.as_str()) {
            w.set(&notice, patch("value", html), outputs);
        }
    }
}

/// One control change sent by the front end.
struct Change<'a> {
    /// The panel.
    at: usize,
    /// The control's widget.
    id: &'a WidgetId,
    /// Which control.
    control: Control,
    /// The value sent.
    sent: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn live_flag_is_taken_out_outside_comments() {
        assert_eq!(
            take_live_flag("--live --workers 4"),
            (true, "--workers 4".into())
        );
        assert_eq!(take_live_flag("--workers 4"), (false, "--workers 4".into()));
        assert_eq!(
            take_live_flag("--workers 4 # --live later"),
            (false, "--workers 4 # --live later".into())
        );
    }

    #[test]
    fn controls_validate_through_the_model() {
        let run = RunInputs::Act1(IoInputs::default());
        let RunInputs::Act1(io) = Control::Workers.apply(&run, &json!(7)).unwrap() else {
            panic!()
        };
        assert_eq!(io.workers, 7);
        for forged in [json!(0), json!(17), json!(2.5), json!("4"), json!(null)] {
            assert!(Control::Workers.apply(&run, &forged).is_err(), "{forged}");
        }
        assert!(Control::Batch.apply(&run, &json!(100)).is_err());
        assert!(Control::Pattern.apply(&run, &json!(3)).is_err());
        assert!(Control::Pattern.apply(&run, &json!(-1)).is_err());
        let RunInputs::Act1(io) = Control::Pattern.apply(&run, &json!(2)).unwrap() else {
            panic!()
        };
        assert_eq!(io.pattern, ReadPattern::ALL[2]);
        assert!(Control::Gpus.apply(&run, &json!(256)).is_err());
        let act2 = RunInputs::Act2(MdsInputs::default());
        assert!(Control::Gpus.apply(&act2, &json!(200)).is_err());
        assert!(Control::Layout.apply(&act2, &json!(0)).is_ok());
        for control in Control::of(Act::Act2) {
            let value = json!(control.current(&act2));
            assert_eq!(control.apply(&act2, &value), Ok(act2), "{control:?}");
        }
    }
}
