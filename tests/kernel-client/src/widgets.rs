//! Jupyter widgets as a test front end sees them: the models a cell opened
//! ([`Widgets`]), and comm messages sent as JupyterLab sends them (an
//! `update` of state, a button's `custom` click), with the `comm_msg`s each
//! caused ([`TestKernel::comm`]).

use crate::TestKernel;
use jupyter_protocol::{CommId, CommMsg, JupyterMessage, JupyterMessageContent, MediaType};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The widgets a cell opened, by comm id, in opening order, and the root its
/// result (or first display) shows.
pub struct Widgets {
    /// Comm ids in opening order.
    pub order: Vec<String>,
    /// Each model's state as opened.
    pub states: HashMap<String, Map<String, Value>>,
    /// The model the cell's output shows.
    pub root: String,
}

impl Widgets {
    /// Reads the `comm_open`s and the widget view of a cell's iopub messages,
    /// checking the protocol version and that every reference is opened first.
    pub fn from(iopub: &[JupyterMessage]) -> Widgets {
        let mut order = Vec::new();
        let mut states = HashMap::new();
        let mut root = None;
        for message in iopub {
            let shown = match &message.content {
                JupyterMessageContent::CommOpen(open) => {
                    assert_eq!(open.target_name, "jupyter.widget");
                    assert_eq!(message.metadata["version"], "2.1.0", "protocol version");
                    let state = open.data["state"].as_object().unwrap().clone();
                    for reference in references(&state) {
                        assert!(
                            states.contains_key(&reference),
                            "{reference} is referenced before it is opened"
                        );
                    }
                    order.push(open.comm_id.0.clone());
                    states.insert(open.comm_id.0.clone(), state);
                    continue;
                }
                JupyterMessageContent::ExecuteResult(result) => &result.data,
                JupyterMessageContent::DisplayData(display) => &display.data,
                _ => continue,
            };
            for media in &shown.content {
                if let MediaType::WidgetView(view) = media {
                    assert_eq!(view["version_major"], 2);
                    root = root.or_else(|| view["model_id"].as_str().map(str::to_string));
                }
            }
        }
        let root = root.expect("the output shows a widget view");
        assert_eq!(states[&root]["_model_name"], "VBoxModel");
        Widgets {
            order,
            states,
            root,
        }
    }

    /// The comm id of the first model of `model_name` whose state satisfies `pick`.
    pub fn find(&self, model_name: &str, pick: impl Fn(&Map<String, Value>) -> bool) -> String {
        self.order
            .iter()
            .find(|id| self.states[*id]["_model_name"] == model_name && pick(&self.states[*id]))
            .unwrap_or_else(|| panic!("no {model_name} as wanted"))
            .clone()
    }

    /// The comm id of the last model of `model_name` opened.
    pub fn last(&self, model_name: &str) -> String {
        self.order
            .iter()
            .rev()
            .find(|id| self.states[*id]["_model_name"] == model_name)
            .unwrap_or_else(|| panic!("no {model_name}"))
            .clone()
    }

    /// The slider described `description`.
    pub fn slider(&self, description: &str) -> String {
        self.find("IntSliderModel", |s| s["description"] == description)
    }
}

/// Every `IPY_MODEL_` reference in a state.
pub fn references(state: &Map<String, Value>) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending: Vec<&Value> = state.values().collect();
    while let Some(value) = pending.pop() {
        match value {
            Value::String(s) => {
                if let Some(id) = s.strip_prefix("IPY_MODEL_") {
                    found.push(id.to_string());
                }
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    found
}

/// An `update` of `state` as the front end sends it.
pub fn update(comm_id: &str, state: Value) -> CommMsg {
    comm(
        comm_id,
        json!({"method": "update", "state": state, "buffer_paths": []}),
    )
}

/// A button's click as the front end sends it.
pub fn click(comm_id: &str) -> CommMsg {
    comm(
        comm_id,
        json!({"method": "custom", "content": {"event": "click"}}),
    )
}

/// A comm message carrying `data`.
pub fn comm(comm_id: &str, data: Value) -> CommMsg {
    CommMsg {
        comm_id: CommId(comm_id.to_string()),
        data: data.as_object().expect("an object").clone(),
    }
}

/// The data of the messages sent to `comm`, in order.
pub fn sent_to<'a>(
    msgs: &'a [(String, Map<String, Value>)],
    comm: &str,
) -> Vec<&'a Map<String, Value>> {
    msgs.iter()
        .filter(|(c, _)| c == comm)
        .map(|(_, d)| d)
        .collect()
}

impl TestKernel {
    /// Sends a comm message and returns the `comm_msg`s it caused (comm id and
    /// data), checking that `busy` comes first, `idle` last, and that each is
    /// parented to the message sent.
    pub async fn comm(&mut self, message: CommMsg) -> Vec<(String, Map<String, Value>)> {
        let id = self.send_shell(message).await;
        let iopub = self.iopub_until_idle(&id).await;
        let types: Vec<_> = iopub.iter().map(|m| m.message_type()).collect();
        assert_eq!(types.first(), Some(&"status"), "{types:?}");
        assert_eq!(types.last(), Some(&"status"), "{types:?}");
        iopub
            .iter()
            .filter_map(|m| match &m.content {
                JupyterMessageContent::CommMsg(c) => {
                    let parent = m.parent_header.as_ref().map(|h| h.msg_id.as_str());
                    assert_eq!(parent, Some(id.as_str()), "comm_msg parented to its cause");
                    Some((c.comm_id.0.clone(), c.data.clone()))
                }
                _ => None,
            })
            .collect()
    }
}
