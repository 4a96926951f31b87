//! The widget comm manager: opens models, mirrors their state, and speaks the
//! `jupyter.widget` protocol (2.1.0) with the front end.
//!
//! The owner of the widgets (a lab) decides what a front-end change means:
//! [`WidgetManager::receive`] hands it each `update` as [`Received::Update`],
//! and the owner either [`accept`](WidgetManager::accept)s it (an `echo_update`,
//! which the front end matches against the `msg_id` of the `comm_msg` it sent —
//! the server parents every output to that message) or
//! [`reject`](WidgetManager::reject)s it (an `update` back to the last good
//! value, so the widget snaps back). `request_state` and the control comm's
//! `request_states` are answered from the mirror.

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
    /// The front end changed `state` of widget `id`; accept or reject it.
    Update {
        /// The widget.
        id: WidgetId,
        /// The changed keys and their new values, as sent.
        state: Map<String, Value>,
    },
}

/// Open widget models and control comms, with a mirror of every model's state.
#[derive(Debug, Default)]
pub struct WidgetManager {
    models: HashMap<String, Map<String, Value>>,
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
        self.models.insert(id.0.clone(), state);
        id
    }

    /// Changes `patch`'s keys of widget `id` from the kernel side (an `update`).
    pub fn set(&mut self, id: &WidgetId, patch: Map<String, Value>, outputs: &Outputs) {
        let Some(mirror) = self.models.get_mut(&id.0) else {
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
        let Some(mirror) = self.models.get_mut(&id.0) else {
            return;
        };
        mirror.extend(state.clone());
        outputs.send(Output::CommMsg {
            comm_id: id.0.clone(),
            data: message("echo_update", state),
        });
    }

    /// Rejects a front-end change of `keys`: sends their last good values back.
    pub fn reject<'a>(
        &mut self,
        id: &WidgetId,
        keys: impl IntoIterator<Item = &'a String>,
        outputs: &Outputs,
    ) {
        let Some(mirror) = self.models.get(&id.0) else {
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
        if self.models.remove(&id.0).is_some() {
            outputs.send(Output::CommClose {
                comm_id: id.0.clone(),
            });
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
        let Some(mirror) = self.models.get(comm_id) else {
            return Received::NotMine;
        };
        match (method, data.get("state")) {
            ("update", Some(Value::Object(state))) => Received::Update {
                id: WidgetId(comm_id.to_string()),
                state: state.clone(),
            },
            ("request_state", _) => {
                outputs.send(Output::CommMsg {
                    comm_id: comm_id.to_string(),
                    data: message("update", mirror.clone()),
                });
                Received::Handled
            }
            _ => {
                tracing::info!(comm_id, method, "widget message ignored");
                Received::Handled
            }
        }
    }

    fn all_states(&self) -> Map<String, Value> {
        let states: Map<String, Value> = self
            .models
            .iter()
            .map(|(id, state)| (id.clone(), Value::Object(state.clone())))
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

    /// The mirrored value of `key` in widget `id`.
    pub fn value(&self, id: &WidgetId, key: &str) -> Option<&Value> {
        self.models.get(&id.0)?.get(key)
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
        let id = manager.open(
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
        let id = manager.open(
            &Html {
                value: "a".into(),
                ..Html::default()
            },
            &out,
        );
        rx.recv().unwrap();
        let update = data(json!({"method": "update", "state": {"value": "b"}, "buffer_paths": []}));
        let Received::Update { id: got, state } = manager.receive(&id.0, &update, &out) else {
            panic!()
        };
        assert_eq!(got, id);
        manager.reject(&id, state.keys(), &out);
        let Output::CommMsg { data: back, .. } = rx.recv().unwrap() else {
            panic!()
        };
        assert_eq!(
            (back["method"].as_str(), &back["state"]["value"]),
            (Some("update"), &json!("a"))
        );
        manager.accept(&id, state, &out);
        let Output::CommMsg { data: echo, .. } = rx.recv().unwrap() else {
            panic!()
        };
        assert_eq!(echo["method"], "echo_update");
        assert_eq!(manager.value(&id, "value"), Some(&json!("b")));
        assert_eq!(manager.receive("nope", &update, &out), Received::NotMine);
        assert_eq!(
            manager.receive(&id.0, &data(json!({"method": "update", "state": 3})), &out),
            Received::Handled
        );
        manager.close(&id, &out);
        assert!(matches!(rx.recv().unwrap(), Output::CommClose { .. }));
        assert!(manager.comms().is_empty());
    }
}
