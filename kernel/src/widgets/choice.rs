//! A multiple-choice question as widgets: a header (HTML), the options as
//! radio buttons, a button that commits the picked option, and a notice line
//! beneath. The panel only shows and reads; what committing means (a recorded
//! answer, a lock) is its owner's, which calls [`ChoicePanel::show_committed`]
//! once the answer is recorded. Nothing here names a lab.

use super::models::{
    Button, ButtonStyle, Container, Direction, Dom, Html, Layout, RadioButtons, Widget,
};
use super::{OwnedWidgets, WidgetId};
use crate::interpreter::Outputs;
use jupyter_protocol::MediaType;
use mlsys_model::content::Question;
use mlsys_model::Choice;
use serde_json::{Map, Value};

/// What a choice panel shows when it opens.
pub struct ChoiceForm<'a> {
    /// HTML above the options: the briefing and the prompt.
    pub header: String,
    /// The question, whose options become the radio buttons.
    pub question: &'a Question,
    /// The committed answer, if there is one: the panel opens disabled on it.
    pub committed: Option<Choice>,
    /// The button's text before committing ("Lock").
    pub button: &'a str,
    /// The button's tooltip.
    pub tooltip: &'a str,
    /// The button's text once committed ("Locked").
    pub committed_button: &'a str,
    /// HTML of the notice line at opening (empty: none).
    pub notice: String,
}

/// What a front-end change of a panel's widget amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The student picked this option (not committed yet).
    Picked(Choice),
    /// Not a change a student can make: refused with this reason.
    Refused(String),
}

/// The widgets of one open choice panel (they live on the kernel's manager).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoicePanel {
    /// The radio buttons (`index` is the picked option).
    pub options: WidgetId,
    /// The commit button.
    pub button: WidgetId,
    /// The notice line.
    pub notice: WidgetId,
    root: WidgetId,
    committed_button: String,
    /// Everything the panel opened, closed together.
    opened: Vec<WidgetId>,
}

/// The option labels as the radio buttons show them: `B) text`.
pub fn option_labels(question: &Question) -> Vec<String> {
    Choice::ALL
        .iter()
        .map(|&c| format!("{c}) {}", question.option(c)))
        .collect()
}

fn patch(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

impl ChoicePanel {
    /// Opens the panel's widgets (children first) on `w`.
    pub fn open(form: ChoiceForm, w: &mut OwnedWidgets, outputs: &Outputs) -> ChoicePanel {
        let mut opened = Vec::new();
        let mut open = |w: &mut OwnedWidgets, widget: &dyn Widget| {
            let id = w.open(widget, outputs);
            opened.push(id.clone());
            id
        };
        let full_width = open(
            w,
            &Layout {
                width: Some("100%".into()),
                ..Layout::default()
            },
        );
        let header = open(
            w,
            &Html {
                value: form.header,
                dom: Dom::default(),
            },
        );
        let options = open(
            w,
            &RadioButtons {
                labels: option_labels(form.question),
                index: form.committed.map(Choice::index),
                description: String::new(),
                disabled: form.committed.is_some(),
                dom: Dom {
                    layout: Some(full_width.clone()),
                    style: None,
                },
            },
        );
        let button = open(
            w,
            &Button {
                description: match form.committed {
                    Some(_) => form.committed_button.to_string(),
                    None => form.button.to_string(),
                },
                tooltip: form.tooltip.to_string(),
                disabled: form.committed.is_some(),
                style: match form.committed {
                    Some(_) => ButtonStyle::Success,
                    None => ButtonStyle::Primary,
                },
                dom: Dom::default(),
            },
        );
        let notice = open(
            w,
            &Html {
                value: form.notice,
                dom: Dom {
                    layout: Some(full_width),
                    style: None,
                },
            },
        );
        let root = open(
            w,
            &Container {
                direction: Direction::Vertical,
                children: vec![header, options.clone(), button.clone(), notice.clone()],
                dom: Dom::default(),
            },
        );
        ChoicePanel {
            options,
            button,
            notice,
            root,
            committed_button: form.committed_button.to_string(),
            opened,
        }
    }

    /// The panel as a display's widget view.
    pub fn view(&self) -> MediaType {
        let mut view = Map::new();
        view.insert("model_id".into(), self.root.0.clone().into());
        view.insert("version_major".into(), 2.into());
        view.insert("version_minor".into(), 0.into());
        MediaType::WidgetView(Value::Object(view))
    }

    /// Whether `id` is one of the panel's widgets.
    pub fn has(&self, id: &WidgetId) -> bool {
        self.opened.contains(id)
    }

    /// Closes the panel's widgets.
    pub fn close(&self, w: &mut OwnedWidgets, outputs: &Outputs) {
        for id in self.opened.iter().rev() {
            w.close(id, outputs);
        }
    }

    /// The option picked on the front end and not refused, if any.
    pub fn picked(&self, w: &mut OwnedWidgets) -> Option<Choice> {
        let index = w.value(&self.options, "index")?.as_u64()?;
        Choice::ALL.get(usize::try_from(index).ok()?).copied()
    }

    /// Reads a front-end change of widget `id` (one of the panel's): a pick of
    /// an option, or a refusal. The owner then accepts it (`OwnedWidgets::accept`
    /// mirrors the pick) or rejects it (the widget snaps back).
    pub fn read(&self, id: &WidgetId, state: &Map<String, Value>) -> Change {
        if *id != self.options {
            return Change::Refused("only the options can be changed".into());
        }
        let Some(sent) = state.get("index") else {
            return Change::Refused("only the picked option can be changed".into());
        };
        if state.len() > 1 {
            return Change::Refused("only the picked option can be changed".into());
        }
        match sent
            .as_u64()
            .and_then(|i| Choice::ALL.get(usize::try_from(i).ok()?))
        {
            Some(&choice) => Change::Picked(choice),
            None => Change::Refused(format!("there is no option {sent}")),
        }
    }

    /// Shows `choice` as committed: the options and the button disabled on it,
    /// and `notice` (HTML) beneath.
    pub fn show_committed(
        &self,
        choice: Choice,
        notice: String,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
    ) {
        let options = patch(&[("index", choice.index().into()), ("disabled", true.into())]);
        w.set(&self.options, options, outputs);
        let button = patch(&[
            ("description", self.committed_button.clone().into()),
            ("disabled", true.into()),
            ("button_style", ButtonStyle::Success.name().into()),
        ]);
        w.set(&self.button, button, outputs);
        self.set_notice(notice, w, outputs);
    }

    /// Shows `html` in the notice line (empty: no notice), if it changed.
    pub fn set_notice(&self, html: String, w: &mut OwnedWidgets, outputs: &Outputs) {
        if w.value(&self.notice, "value").and_then(Value::as_str) != Some(html.as_str()) {
            w.set(&self.notice, patch(&[("value", html.into())]), outputs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::Output;
    use crate::widgets::WidgetManager;
    use serde_json::json;
    use std::sync::mpsc;

    fn question() -> Question {
        Question {
            prompt: "Which?".into(),
            options: ["one", "two", "three", "four"].map(String::from),
        }
    }

    fn form(q: &Question, committed: Option<Choice>) -> ChoiceForm<'_> {
        ChoiceForm {
            header: "<b>Which?</b>".into(),
            question: q,
            committed,
            button: "Lock",
            tooltip: "Locks your answer",
            committed_button: "Locked",
            notice: String::new(),
        }
    }

    fn state(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_panel_opens_its_options_unpicked_or_committed() {
        let (tx, rx) = mpsc::channel();
        let out = Outputs::new(tx);
        let mut manager = WidgetManager::default();
        let q = question();
        let panel = ChoicePanel::open(form(&q, None), &mut manager.owned_by("t"), &out);
        let opened: Vec<Map<String, Value>> = rx
            .try_iter()
            .filter_map(|o| match o {
                Output::CommOpen { data, .. } => data["state"].as_object().cloned(),
                _ => None,
            })
            .collect();
        let radio = opened
            .iter()
            .find(|s| s["_model_name"] == "RadioButtonsModel")
            .unwrap();
        assert_eq!(radio["index"], Value::Null);
        assert_eq!(radio["_options_labels"][1], "B) two");
        assert_eq!(radio["disabled"], false);
        assert_eq!(opened.last().unwrap()["_model_name"], "VBoxModel");
        assert_eq!(panel.picked(&mut manager.owned_by("t")), None);

        let committed =
            ChoicePanel::open(form(&q, Some(Choice::C)), &mut manager.owned_by("t"), &out);
        let mut w = manager.owned_by("t");
        assert_eq!(committed.picked(&mut w), Some(Choice::C));
        assert_eq!(w.value(&committed.options, "disabled"), Some(&json!(true)));
        assert_eq!(
            w.value(&committed.button, "description"),
            Some(&json!("Locked"))
        );
        assert_eq!(w.value(&committed.button, "disabled"), Some(&json!(true)));
    }

    #[test]
    fn only_a_real_option_of_the_radio_buttons_is_a_pick() {
        let (tx, _rx) = mpsc::channel();
        let out = Outputs::new(tx);
        let mut manager = WidgetManager::default();
        let q = question();
        let panel = ChoicePanel::open(form(&q, None), &mut manager.owned_by("t"), &out);
        assert_eq!(
            panel.read(&panel.options, &state(json!({"index": 3}))),
            Change::Picked(Choice::D)
        );
        for forged in [json!(4), json!(-1), json!("B"), json!(null), json!(1.5)] {
            assert!(
                matches!(
                    panel.read(&panel.options, &state(json!({ "index": forged }))),
                    Change::Refused(_)
                ),
                "{forged}"
            );
        }
        assert!(matches!(
            panel.read(
                &panel.options,
                &state(json!({"index": 1, "disabled": false}))
            ),
            Change::Refused(_)
        ));
        assert!(matches!(
            panel.read(&panel.button, &state(json!({"disabled": false}))),
            Change::Refused(_)
        ));
        let mut w = manager.owned_by("t");
        w.accept(&panel.options, state(json!({"index": 2})), &out);
        assert_eq!(panel.picked(&mut w), Some(Choice::C));
        w.reject(&panel.options, state(json!({"index": 0})).keys(), &out);
        assert_eq!(
            panel.picked(&mut w),
            Some(Choice::C),
            "a refusal keeps the pick"
        );
        panel.show_committed(Choice::C, "<b>done</b>".into(), &mut w, &out);
        assert_eq!(w.value(&panel.notice, "value"), Some(&json!("<b>done</b>")));
        assert!(panel.has(&panel.button) && !panel.has(&WidgetId("x".into())));
    }
}
