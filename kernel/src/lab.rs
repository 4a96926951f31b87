//! A lab as the kernel serves it, in lab-neutral terms.
//!
//! A lab plugs into the kernel with one module under `labs/` providing a
//! [`KernelLab`]: the model's descriptor, how to open the lab in a kernel (its
//! [`LabMagics`]: the magics that play it, the callbacks of its widgets, and
//! its [`LabRecord`]), and how its reports look. [`KernelLabs`] lists the labs
//! a build serves: `labs::builtin()` the course's, to which a test build may
//! add its own. Nothing here names a lab.

use crate::interpreter::{ExecutionError, Outputs};
use crate::magic::MagicSpec;
use crate::widgets::{OwnedWidgets, WidgetId};
use jupyter_protocol::Media;
use mlsys_model::content::Callout;
use mlsys_model::{Lab, Labs};
use serde_json::{Map, Value};
use std::path::Path;

/// A lab's kernel side.
pub trait KernelLab: Send + Sync + 'static {
    /// The lab's model descriptor (id, title, acts, report type, checks).
    fn model(&self) -> &'static dyn Lab;

    /// Opens the lab in a kernel: its session resumed from its journal under `home`.
    fn open(&self, home: &Path) -> Box<dyn LabMagics>;

    /// Shows one of the lab's reports (its report JSON) the way its magics do:
    /// side displays go to `outputs`, the bundle is returned; `None` when the
    /// JSON is not a report of this lab.
    fn render_report(&self, report: &Value, outputs: &Outputs) -> Option<Media>;
}

/// A lab opened in one kernel: its session, its magics, its widgets.
pub trait LabMagics: Send {
    /// The lab's own magics (the registry adds `%ledger` and `%submit`).
    fn specs(&self) -> &[MagicSpec];

    /// Runs magic `name` with the rest of its line. `Ok(Some(_))` is the result
    /// shown. Widgets opened on `widgets` are this lab's: their updates come
    /// back to [`LabMagics::widget_update`].
    fn run(
        &mut self,
        name: &str,
        args: &str,
        widgets: &mut OwnedWidgets,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError>;

    /// The front end changed `state` of widget `id`, one of this lab's: accept
    /// or reject it on `widgets`. A lab without live widgets refuses every change.
    fn widget_update(
        &mut self,
        id: &WidgetId,
        state: Map<String, Value>,
        widgets: &mut OwnedWidgets,
        outputs: &Outputs,
    ) {
        widgets.reject(id, state.keys(), outputs);
    }

    /// The front end sent widget `id`, one of this lab's, a custom message
    /// (`content`: a button's click is `{"event": "click"}`). A lab without
    /// buttons ignores it.
    fn widget_event(
        &mut self,
        id: &WidgetId,
        content: &Value,
        widgets: &mut OwnedWidgets,
        outputs: &Outputs,
    ) {
        let _ = (widgets, outputs);
        tracing::info!(comm_id = id.0, %content, "widget event ignored");
    }

    /// The lab's record (its `Recorder`), for the lab-neutral magics.
    fn record(&mut self) -> &mut dyn LabRecord;
}

/// What lab-neutral code does with any lab's record. Implemented for every
/// `Recorder` (in `handin`), so a lab gets `%ledger` and `%submit` by handing
/// out its recorder.
pub trait LabRecord: Send {
    /// The restore notice of the lab's journal, once (see `Recorder::take_notice`).
    fn take_notice(&mut self) -> Option<Callout>;

    /// Catches up with what other kernels of the student appended to the
    /// lab's journal (see `Recorder::refresh`), before one of its magics runs.
    fn refresh(&mut self);

    /// Gives the lab's witness until `until` to receive the events that await
    /// it (at kernel shutdown, so closing a notebook right after a lock does
    /// not leave the lock unwitnessed until the next kernel).
    fn flush_witness(&self, until: std::time::Instant);

    /// What the student has not done yet (the session's `missing`).
    fn missing(&self) -> Vec<String>;

    /// The hand-in magics (`%ledger`, `%submit`) as they apply to this lab.
    fn hand_in_specs(&self) -> Vec<MagicSpec>;

    /// Runs hand-in magic `name` (one of [`LabRecord::hand_in_specs`]) for this lab.
    fn hand_in(
        &mut self,
        name: &str,
        args: &str,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError>;
}

/// The labs a kernel build serves, in registration order.
#[derive(Clone, Default)]
pub struct KernelLabs {
    labs: Vec<&'static dyn KernelLab>,
    models: Labs,
}

impl KernelLabs {
    /// A registry of `labs` (see [`KernelLabs::register`] for the panics).
    pub fn new(labs: impl IntoIterator<Item = &'static dyn KernelLab>) -> Self {
        let mut registry = KernelLabs::default();
        for lab in labs {
            registry.register(lab);
        }
        registry
    }

    /// Adds a lab.
    ///
    /// # Panics
    /// If its id or report mime type is already registered (see [`Labs::register`]).
    pub fn register(&mut self, lab: &'static dyn KernelLab) {
        self.models.register(lab.model());
        self.labs.push(lab);
    }

    /// Every lab, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &'static dyn KernelLab> + '_ {
        self.labs.iter().copied()
    }

    /// The labs' model descriptors.
    pub fn models(&self) -> &Labs {
        &self.models
    }
}
