//! Jupyter widgets (ipywidgets 8, widget protocol 2.1.0) driven from Rust.
//!
//! [`models`] holds typed widget models that build the full state a front end
//! needs; [`manager`] (one per kernel, shared by every lab) speaks the comm
//! protocol: it opens widgets, mirrors their state, answers `request_state` /
//! `request_states`, and hands each `update` (and `custom` message, a button's
//! click) from the front end to the widget's
//! owner, which accepts it (`echo_update`) or rejects it (an `update` restoring
//! the last good value); [`choice`] is a question as widgets (radio buttons and
//! a button that commits the pick). No JavaScript of our own:
//! JupyterLab's standard widget manager renders everything. Nothing here names a lab.

pub mod choice;
pub mod manager;
pub mod models;

pub use manager::{OwnedWidgets, Received, WidgetManager};

/// The comm target of widget models.
pub const WIDGET_TARGET: &str = "jupyter.widget";
/// The comm target the front end opens to fetch every widget state at once.
pub const CONTROL_TARGET: &str = "jupyter.widget.control";
/// The widget messaging protocol version sent in `comm_open` metadata.
pub const PROTOCOL_VERSION: &str = "2.1.0";

/// A widget model's id, which is also its comm id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WidgetId(pub String);

impl WidgetId {
    /// A fresh random id (32 hex digits, as ipywidgets makes them).
    pub fn fresh() -> Self {
        WidgetId(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The reference other models use in their state (`IPY_MODEL_<id>`).
    pub fn reference(&self) -> String {
        format!("IPY_MODEL_{}", self.0)
    }
}
