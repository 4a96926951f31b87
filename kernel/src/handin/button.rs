//! `%submit --button`: a **Hand in** button for any lab. A click hands the
//! lab in exactly as a typed `%submit` does (through the lab's record) and
//! shows the receipt beneath the button; the button then stays disabled (run
//! the cell again, or type `%submit`, to hand in again).

use crate::interpreter::Outputs;
use crate::lab::LabRecord;
use crate::render::{self, html};
use crate::widgets::models::{
    Button, ButtonStyle, Container, Direction, Dom, Html, Output, Widget,
};
use crate::widgets::{OwnedWidgets, WidgetId};
use jupyter_protocol::{Media, MediaType};
use mlsys_model::content::{Callout, CalloutKind};
use serde_json::{json, Map, Value};

/// The flag that asks `%submit` for the button.
pub const FLAG: &str = "--button";

/// One open hand-in panel: its button and the output area of its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Panel {
    button: WidgetId,
    result: WidgetId,
    opened: Vec<WidgetId>,
}

/// A lab's open hand-in panels (one at a time: opening one closes the last).
#[derive(Debug, Default)]
pub struct HandInButtons {
    panel: Option<Panel>,
}

/// What the panel says above the button: how hand-in works and what is missing.
fn intro(missing: &[String]) -> Callout {
    let mut body = "Hands in your whole session (every event and the saved design), as \
                    `%submit` does. You may hand in again later; each hand-in is kept."
        .to_string();
    if !missing.is_empty() {
        body.push_str("\n\nStill missing:");
        for m in missing {
            body.push_str(&format!("\n- {m}"));
        }
    }
    let kind = if missing.is_empty() {
        CalloutKind::Success
    } else {
        CalloutKind::Info
    };
    Callout::new(kind, "Hand in the lab", body)
}

fn patch(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

impl HandInButtons {
    /// Opens a hand-in panel for `record`'s lab; returns its display (the
    /// widget view, with the intro as HTML and text for other front ends).
    pub fn open(
        &mut self,
        record: &dyn LabRecord,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
    ) -> Media {
        if let Some(old) = self.panel.take() {
            for id in old.opened.iter().rev() {
                w.close(id, outputs);
            }
        }
        let intro = intro(&record.missing());
        let mut opened = Vec::new();
        let mut open = |w: &mut OwnedWidgets, widget: &dyn Widget| {
            let id = w.open(widget, outputs);
            opened.push(id.clone());
            id
        };
        let header = open(
            w,
            &Html {
                value: html::callout(&intro),
                dom: Dom::default(),
            },
        );
        let button = open(
            w,
            &Button {
                description: "Hand in".into(),
                tooltip: "Hand in your session now, as %submit does".into(),
                disabled: false,
                style: ButtonStyle::Primary,
                dom: Dom::default(),
            },
        );
        let result = open(w, &Output::default());
        let root = open(
            w,
            &Container {
                direction: Direction::Vertical,
                children: vec![header, button.clone(), result.clone()],
                dom: Dom::default(),
            },
        );
        self.panel = Some(Panel {
            button,
            result,
            opened,
        });
        let shown = render::callout(&intro);
        let mut content = vec![MediaType::WidgetView(json!({
            "model_id": root.0, "version_major": 2, "version_minor": 0
        }))];
        content.extend(shown.content);
        if let Some(MediaType::Plain(text)) = content.last_mut() {
            text.push_str("\n(In JupyterLab a Hand in button shows here; elsewhere type %submit.)");
        }
        Media::new(content)
    }

    /// Whether `id` is a widget of an open hand-in panel.
    pub fn owns(&self, id: &WidgetId) -> bool {
        self.panel.as_ref().is_some_and(|p| p.opened.contains(id))
    }

    /// A custom message to one of the panel's widgets: a click of the button
    /// hands the lab in and shows the receipt (or the error) beneath it.
    pub fn event(
        &mut self,
        id: &WidgetId,
        content: &Value,
        record: &mut dyn LabRecord,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
    ) {
        let Some(panel) = self.panel.as_ref() else {
            return;
        };
        if *id != panel.button || content.get("event").and_then(Value::as_str) != Some("click") {
            tracing::info!(comm_id = id.0, %content, "hand-in panel event ignored");
            return;
        }
        if w.value(&panel.button, "disabled") == Some(&Value::Bool(true)) {
            tracing::info!(comm_id = id.0, "click of a disabled hand-in button ignored");
            return;
        }
        let shown = match record.hand_in("submit", "", outputs) {
            Ok(Some(receipt)) => {
                let done = patch(&[
                    ("description", "Handed in".into()),
                    ("disabled", true.into()),
                    ("button_style", ButtonStyle::Success.name().into()),
                ]);
                w.set(&panel.button, done, outputs);
                receipt
            }
            Ok(None) => return,
            Err(error) => render::callout(&Callout::new(
                CalloutKind::Danger,
                "Not handed in",
                format!("{}: {}", error.ename, error.evalue),
            )),
        };
        let outputs_patch = patch(&[("outputs", json!([Output::display_data(shown)]))]);
        w.set(&panel.result, outputs_patch, outputs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Recorder;
    use crate::testing::{tally, TallySession, TempDir};
    use crate::widgets::WidgetManager;
    use std::sync::mpsc;

    #[test]
    fn a_click_hands_in_once_and_shows_the_receipt_under_the_button() {
        let home = TempDir::new("handin-button");
        let mut recorder = Recorder::<TallySession>::open(home.path());
        recorder.record(tally(3)).unwrap();
        let (tx, _rx) = mpsc::channel();
        let out = Outputs::new(tx);
        let mut manager = WidgetManager::default();
        let mut buttons = HandInButtons::default();
        let shown = buttons.open(&recorder, &mut manager.owned_by("t"), &out);
        let json = serde_json::to_value(&shown).unwrap();
        assert!(json["application/vnd.jupyter.widget-view+json"]["model_id"].is_string());
        assert!(json["text/plain"]
            .as_str()
            .unwrap()
            .contains("design not saved (%ledger save)"));
        let panel = buttons.panel.clone().unwrap();
        assert!(buttons.owns(&panel.button) && !buttons.owns(&WidgetId("x".into())));

        let click = json!({"event": "click"});
        let mut w = manager.owned_by("t");
        buttons.event(&panel.result, &click, &mut recorder, &mut w, &out);
        assert!(
            recorder.session().submissions == 0,
            "only the button hands in"
        );
        buttons.event(&panel.button, &click, &mut recorder, &mut w, &out);
        assert_eq!(recorder.session().submissions, 1);
        let shown = w.value(&panel.result, "outputs").unwrap().clone();
        let receipt = &shown[0]["data"]["application/vnd.mlsys.receipt.v1+json"];
        assert_eq!(receipt["session"]["total"], 3);
        assert_eq!(w.value(&panel.button, "disabled"), Some(&json!(true)));
        buttons.event(&panel.button, &click, &mut recorder, &mut w, &out);
        assert_eq!(
            recorder.session().submissions,
            1,
            "a second click does nothing"
        );
    }
}
