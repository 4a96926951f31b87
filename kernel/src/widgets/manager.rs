//! The kernel's one widget comm manager: opens models, mirrors their state,
//! and speaks the `jupyter.widget` protocol (2.1.0) with the front end.
//!
//! The interpreter owns it; every lab opens its widgets on it through
//! [`WidgetManager::owned_by`], which tags each model with its owner (the
//! lab's id). The owner decides what a front-end change means:
//! [`WidgetManager::receive`] hands each `update` back as [`Received::Update`]
//! naming the owner, and the owner either [`accept`](OwnedWidgets::accept)s it
//! (an `echo_update`, which the front end matches against the `msg_id` of the
//! `comm_msg` it sent — the server parents every output to that message) or
//! [`reject`](OwnedWidgets::reject)s it (an `update` back to the last good
//! value, so the widget snaps back). A `custom` message (a button's click) is
//! handed over as [`Received::Event`]. `request_state` and the control comm's
//! `request_states` are answered from the mirror, with every owner's widgets.
//!
//! The front end opens comms by target name; the one target served is the
//! widget control target ([`CONTROL_TARGET`]), answered here.

use super::models::Widget;
use super::{WidgetId, CONTROL_TARGET, PROTOCOL_VERSION, WIDGET_TARGET};
use crate::interpreter::{Output, Outputs};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// What an incoming comm message turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// Not a comm of this manager.
    NotMine,
    /// Answered (or ignored) by the manager itself.
    Handled,
    /// The front end changed `state` of widget `id`; its owner accepts or rejects it.
    Update {
        /// Who opened the widget (a lab's id).
        owner: &'static str,
        /// The widget.
        id: WidgetId,
        /// The changed keys and their new values, as sent.
        state: Map<String, Value>,
    },
    /// The front end sent widget `id` a custom message (a button's click is
    /// `{"event": "click"}`); its owner decides what it means.
    Event {
        /// Who opened the widget (a lab's id).
        owner: &'static str,
        /// The widget.
        id: WidgetId,
        /// The message's `content`, as sent.
        content: Value,
    },
}

/// An open widget model: who opened it and the mirror of its state.
#[derive(Debug)]
struct Model {
    owner: &'static str,
    state: Map<String, Value>,
}

/// Open widget models and control comms, with a mirror of every model's state.
#[derive(Debug, Default)]
pub struct WidgetManager {
    models: HashMap<String, Model>,
    controls: HashSet<String>,
}

fn message(method: &str, state: Map<String, Value>) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("method".into(), method.into());
    data.insert("state".into(), Value::Object(state));
    data.insert("buffer_paths".into(), json!([]));
    data
}

impl WidgetManager {
    /// The widgets of `owner`: what it opens is tagged with its name, and it
    /// may change only those.
    pub fn owned_by(&mut self, owner: &'static str) -> OwnedWidgets<'_> {
        OwnedWidgets {
            manager: self,
            owner,
        }
    }

    /// The front end opened a comm: accepts the control target, refuses others.
    pub fn comm_open(&mut self, comm_id: &str, target_name: &str) -> bool {
        if target_name == CONTROL_TARGET {
            self.controls.insert(comm_id.to_string());
            true
        } else {
            false
        }
    }

    /// Handles a message on one of this manager's comms.
    pub fn receive(
        &mut self,
        comm_id: &str,
        data: &Map<String, Value>,
        outputs: &Outputs,
    ) -> Received {
        let method = data.get("method").and_then(Value::as_str).unwrap_or("");
        if self.controls.contains(comm_id) {
            if method == "request_states" {
                outputs.send(Output::CommMsg {
                    comm_id: comm_id.to_string(),
                    data: self.all_states(),
                });
            } else {
                tracing::info!(comm_id, method, "control comm message ignored");
            }
            return Received::Handled;
        }
        let Some(model) = self.models.get(comm_id) else {
            return Received::NotMine;
        };
        match (method, data.get("state")) {
            ("update", Some(Value::Object(state))) => Received::Update {
                owner: model.owner,
                id: WidgetId(comm_id.to_string()),
                state: state.clone(),
            },
            ("custom", _) => Received::Event {
                owner: model.owner,
                id: WidgetId(comm_id.to_string()),
                content: data.get("content").cloned().unwrap_or(Value::Null),
            },
            ("request_state", _) => {
                outputs.send(Output::CommMsg {
                    comm_id: comm_id.to_string(),
                    data: message("update", model.state.clone()),
                });
                Received::Handled
            }
            _ => {
                tracing::info!(comm_id, method, "widget message ignored");
                Received::Handled
            }
        }
    }

    /// Every owner's widget states, as the control comm's `update_states`.
    fn all_states(&self) -> Map<String, Value> {
        let states: Map<String, Value> = self
            .models
            .iter()
            .map(|(id, model)| (id.clone(), Value::Object(model.state.clone())))
            .collect();
        let mut data = Map::new();
        data.insert("method".into(), "update_states".into());
        data.insert("states".into(), Value::Object(states));
        data.insert("buffer_paths".into(), json!([]));
        data
    }

    /// Forgets a comm the front end closed; `false` if it is not one of ours.
    pub fn forget(&mut self, comm_id: &str) -> bool {
        self.models.remove(comm_id).is_some() || self.controls.remove(comm_id)
    }

    /// Every open comm as `(comm_id, target_name)`.
    pub fn comms(&self) -> Vec<(String, String)> {
        self.models
            .keys()
            .map(|id| (id.clone(), WIDGET_TARGET.to_string()))
            .chain(
                self.controls
                    .iter()
                    .map(|id| (id.clone(), CONTROL_TARGET.to_string())),
            )
            .collect()
    }
}

/// One owner's view of the manager: opens widgets tagged with the owner and
/// changes only those (a widget of another owner is left alone).
pub struct OwnedWidgets<'a> {
    manager: &'a mut WidgetManager,
    owner: &'static str,
}

impl OwnedWidgets<'_> {
    /// The mirror of widget `id`, if it is this owner's.
    fn model(&mut self, id: &WidgetId) -> Option<&mut Map<String, Value>> {
        let owner = self.owner;
        self.manager
            .models
            .get_mut(&id.0)
            .filter(|model| model.owner == owner)
            .map(|model| &mut model.state)
    }

    /// Opens `widget` on the front end with its full state; returns its id.
    pub fn open(&mut self, widget: &dyn Widget, outputs: &Outputs) -> WidgetId {
        let id = WidgetId::fresh();
        let state = widget.state();
        let mut data = Map::new();
        data.insert("state".into(), Value::Object(state.clone()));
        data.insert("buffer_paths".into(), json!([]));
        let mut metadata = Map::new();
        metadata.insert("version".into(), PROTOCOL_VERSION.into());
        outputs.send(Output::CommOpen {
            comm_id: id.0.clone(),
            target_name: WIDGET_TARGET.into(),
            data,
            metadata,
        });
        let model = Model {
            owner: self.owner,
            state,
        };
        self.manager.models.insert(id.0.clone(), model);
        id
    }

    /// Changes `patch`'s keys of widget `id` from the kernel side (an `update`).
    pub fn set(&mut self, id: &WidgetId, patch: Map<String, Value>, outputs: &Outputs) {
        let Some(mirror) = self.model(id) else {
            return;
        };
        mirror.extend(patch.clone());
        outputs.send(Output::CommMsg {
            comm_id: id.0.clone(),
            data: message("update", patch),
        });
    }

    /// Accepts a front-end change: mirrors it and confirms it with an `echo_update`.
    pub fn accept(&mut self, id: &WidgetId, state: Map<String, Value>, outputs: &Outputs) {
        let Some(mirror) = self.model(id) else {
            return;
        };
        mirror.extend(state.clone());
        outputs.send(Output::CommMsg {
            comm_id: id.0.clone(),
            data: message("echo_update", state),
        });
    }

    /// Rejects a front-end change of `keys`: sends their last good values back.
    pub fn reject<'k>(
        &mut self,
        id: &WidgetId,
        keys: impl IntoIterator<Item = &'k String>,
        outputs: &Outputs,
    ) {
        let Some(mirror) = self.model(id) else {
            return;
        };
        let restore: Map<String, Value> = keys
            .into_iter()
            .map(|k| (k.clone(), mirror.get(k).cloned().unwrap_or(Value::Null)))
            .collect();
        outputs.send(Output::CommMsg {
            comm_id: id.0.clone(),
            data: message("update", restore),
        });
    }

    /// Closes widget `id` from the kernel side; the front end removes its views.
    pub fn close(&mut self, id: &WidgetId, outputs: &Outputs) {
        if self.model(id).is_some() {
            self.manager.models.remove(&id.0);
            outputs.send(Output::CommClose {
                comm_id: id.0.clone(),
            });
        }
    }

    /// The mirrored value of `key` in widget `id`.
    pub fn value(&mut self, id: &WidgetId, key: &str) -> Option<&Value> {
        self.model(id)?.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::widgets::models::Html;
    use std::sync::mpsc;

    fn channel() -> (Outputs, mpsc::Receiver<Output>) {
        let (tx, rx) = mpsc::channel();
        (Outputs::new(tx), rx)
    }

    fn data(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn opens_with_protocol_metadata_and_answers_state_requests() {
        let (out, rx) = channel();
        let mut manager = WidgetManager::default();
        let id = manager.owned_by("lab").open(
            &Html {
                value: "<b>1</b>".into(),
                ..Html::default()
            },
            &out,
        );
        let Output::CommOpen {
            comm_id,
            target_name,
            data: open,
            metadata,
        } = rx.recv().unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (comm_id.as_str(), target_name.as_str()),
            (id.0.as_str(), WIDGET_TARGET)
        );
        assert_eq!(metadata["version"], "2.1.0");
        assert_eq!(open["state"]["value"], "<b>1</b>");
        assert_eq!(
            manager.receive(&id.0, &data(json!({"method": "request_state"})), &out),
            Received::Handled
        );
        let Output::CommMsg { data: reply, .. } = rx.recv().unwrap() else {
            panic!()
        };
        assert_eq!(reply["method"], "update");
        assert_eq!(reply["state"]["_model_name"], "HTMLModel");
        assert!(manager.comm_open("ctl", CONTROL_TARGET));
        assert!(!manager.comm_open("x", "other.target"));
        manager.receive("ctl", &data(json!({"method": "request_states"})), &out);
        let Output::CommMsg {
            comm_id,
            data: states,
        } = rx.recv().unwrap()
        else {
            panic!()
        };
        assert_eq!(comm_id, "ctl");
        assert_eq!(states["method"], "update_states");
        assert_eq!(states["states"][&id.0]["value"], "<b>1</b>");
        assert_eq!(manager.comms().len(), 2);
        assert!(manager.forget("ctl"));
        assert!(!manager.forget("ctl"));
    }

    #[test]
    fn updates_are_handed_over_then_echoed_or_snapped_back() {
        let (out, rx) = channel();
        let mut manager = WidgetManager::default();
        let id = manager.owned_by("lab").open(
            &Html {
                value: "a".into(),
                ..Html::default()
            },
            &out,
        );
        rx.recv().unwrap();
        let update = data(json!({"method": "update", "state": {"value": "b"}, "buffer_paths": []}));
        let Received::Update {
            owner,
            id: got,
            state,
        } = manager.receive(&id.0, &update, &out)
        else {
            panic!()
        };
        assert_eq!((owner, &got), ("lab", &id));
        let mut widgets = manager.owned_by("lab");
        widgets.reject(&id, state.keys(), &out);
        let Output::CommMsg { data: back, .. } = rx.recv().unwrap() else {
            panic!()
        };
        assert_eq!(
            (back["method"].as_str(), &back["state"]["value"]),
            (Some("update"), &json!("a"))
        );
        widgets.accept(&id, state, &out);
        let Output::CommMsg { data: echo, .. } = rx.recv().unwrap() else {
            panic!()
        };
        assert_eq!(echo["method"], "echo_update");
        assert_eq!(widgets.value(&id, "value"), Some(&json!("b")));
        assert_eq!(manager.receive("nope", &update, &out), Received::NotMine);
        assert_eq!(
            manager.receive(&id.0, &data(json!({"method": "update", "state": 3})), &out),
            Received::Handled
        );
        manager.owned_by("lab").close(&id, &out);
        assert!(matches!(rx.recv().unwrap(), Output::CommClose { .. }));
        assert!(manager.comms().is_empty());
    }

    #[test]
    fn one_manager_serves_every_owner_and_routes_each_update_to_its_owner() {
        let (out, rx) = channel();
        let mut manager = WidgetManager::default();
        let html = |value: &str| Html {
            value: value.into(),
            ..Html::default()
        };
        let first = manager.owned_by("first").open(&html("1"), &out);
        let second = manager.owned_by("second").open(&html("2"), &out);
        assert!(manager.comm_open("ctl", CONTROL_TARGET));
        manager.receive("ctl", &data(json!({"method": "request_states"})), &out);
        let Some(Output::CommMsg { data: states, .. }) = rx.try_iter().last() else {
            panic!()
        };
        assert_eq!(states["states"][&first.0]["value"], "1");
        assert_eq!(states["states"][&second.0]["value"], "2");

        let update = data(json!({"method": "update", "state": {"value": "x"}}));
        for (id, expected) in [(&first, "first"), (&second, "second")] {
            let Received::Update { owner, .. } = manager.receive(&id.0, &update, &out) else {
                panic!()
            };
            assert_eq!(owner, expected);
        }
        let mut intruder = manager.owned_by("second");
        intruder.set(&first, data(json!({"value": "forged"})), &out);
        intruder.close(&first, &out);
        assert_eq!(intruder.value(&first, "value"), None);
        assert_eq!(
            rx.try_iter().count(),
            0,
            "nothing sent for another's widget"
        );
        assert_eq!(
            manager.owned_by("first").value(&first, "value"),
            Some(&json!("1"))
        );
    }
}
