//! The hand-in magics every lab gets, generic over its session: `%ledger`
//! ([`ledger`]) and `%submit` ([`submit`], with its [`receipt`], or as a
//! [`button`]). They reach a lab through its recorder: every `Recorder` is a
//! [`LabRecord`].

pub mod button;
pub mod ledger;
pub mod receipt;
pub mod submit;

use crate::interpreter::{ExecutionError, Outputs};
use crate::lab::LabRecord;
use crate::magic::MagicSpec;
use crate::recorder::Recorder;
use crate::widgets::OwnedWidgets;
use button::HandInButtons;
use jupyter_protocol::Media;
use mlsys_model::content::Callout;
use mlsys_model::lab::LabSession;

/// The style of a table cell in the ledger and the receipt.
const TD: &str = "padding: 3px 10px; border-bottom: 1px solid rgba(148,163,184,0.3);";

fn usage_error(message: impl Into<String>) -> ExecutionError {
    ExecutionError::new("UsageError", message)
}

impl<S: LabSession> LabRecord for Recorder<S> {
    fn take_notice(&mut self) -> Option<Callout> {
        Recorder::take_notice(self)
    }

    fn refresh(&mut self) {
        if let Err(error) = Recorder::refresh(self) {
            tracing::warn!("cannot catch up with the lab journal: {error}");
        }
    }

    fn flush_witness(&self, until: std::time::Instant) {
        Recorder::flush_witness(self, until);
    }

    fn missing(&self) -> Vec<String> {
        self.session().missing()
    }

    fn hand_in_specs(&self) -> Vec<MagicSpec> {
        vec![ledger::spec::<S>(), submit::spec::<S>()]
    }

    fn hand_in(
        &mut self,
        name: &str,
        args: &str,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError> {
        match name {
            "ledger" => ledger::run(self, args, outputs),
            "submit" => submit::run(self, args, outputs),
            _ => Err(usage_error(format!("%{name} is not a hand-in magic"))),
        }
    }
}

/// Runs hand-in magic `name` of a lab: `%submit --button` opens the lab's
/// hand-in button on `widgets`, every other call goes to the lab's record.
pub fn run(
    name: &str,
    args: &str,
    record: &mut dyn LabRecord,
    buttons: &mut HandInButtons,
    widgets: &mut OwnedWidgets,
    outputs: &Outputs,
) -> Result<Option<Media>, ExecutionError> {
    if name == "submit" && args.trim() == button::FLAG {
        return Ok(Some(buttons.open(record, widgets, outputs)));
    }
    record.hand_in(name, args, outputs)
}
