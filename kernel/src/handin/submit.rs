//! `%submit`: hands the lab's whole session in (its journal's event log and
//! the saved design) to the grader service or the exchange directory, records
//! `Submitted` and shows the receipt.

use super::{receipt, usage_error};
use crate::exchange::{student_id, Exchange};
use crate::interpreter::{ExecutionError, Outputs};
use crate::journal::KERNEL_VERSION;
use crate::magic::MagicSpec;
use crate::recorder::Recorder;
use chrono::Utc;
use jupyter_protocol::Media;
use mlsys_model::lab::{replay_submission, Checked, LabSession};
use mlsys_model::record::{EventKind, Submission, SUBMISSION_SCHEMA_VERSION};
use std::borrow::Cow;
use std::path::Path;
use uuid::Uuid;

/// `%submit` as it applies to the lab of session `S`.
pub fn spec<S: LabSession>() -> MagicSpec {
    let example = S::default()
        .missing()
        .first()
        .map(|m| format!(" (e.g. {m})"))
        .unwrap_or_default();
    MagicSpec {
        name: "submit",
        usage: "%submit",
        summary: "Hand in your session (every event and the saved design) and show a receipt.",
        doc: Cow::Owned(format!(
            "Writes a submission to the exchange directory ($MLSYS_EXCHANGE, default \
             $MLSYS_HOME/outbox/) as {id}-<student>-<uuid>.json, and shows its id, time, file, \
             SHA-256 and what is still missing{example}. You may submit again at any time: each \
             submission is a new file, none is ever overwritten; the grader decides which one \
             counts. The student id is JUPYTERHUB_USER, else your OS user. On JupyterHub \
             ($MLSYS_GRADER_URL set) it is sent to the course's grader service with your Hub \
             token instead; if that fails it goes to the exchange directory, and the receipt \
             says which way it went and why.",
            id = S::LAB_ID
        )),
        hints: &["--help"],
    }
}

fn fail(message: String) -> ExecutionError {
    ExecutionError::new("SubmitError", message)
}

/// Runs `%submit` with `args` (none). Needs the journal: it is the event log
/// handed in.
pub fn run<S: LabSession>(
    recorder: &mut Recorder<S>,
    args: &str,
    outputs: &Outputs,
) -> Result<Option<Media>, ExecutionError> {
    if !args.trim().is_empty() {
        return Err(usage_error(format!(
            "%submit takes no arguments, got `{}` (see %submit --help)",
            args.trim()
        )));
    }
    hand_in(recorder, Exchange::from_env, outputs).map(Some)
}

/// Builds the submission from the journal, delivers it to the exchange of the
/// journal's home, records `Submitted` and returns the receipt.
fn hand_in<S: LabSession>(
    recorder: &mut Recorder<S>,
    exchange: fn(&Path) -> Exchange,
    outputs: &Outputs,
) -> Result<Media, ExecutionError> {
    let Some(journal) = recorder.journal() else {
        return Err(fail(
            "your lab progress is not being saved (the lab journal could not be opened), so there \
             is no event log to hand in; fix MLSYS_HOME and restart the kernel"
                .to_string(),
        ));
    };
    let exchange = exchange(journal.home());
    let events = journal.events().map_err(|e| fail(e.to_string()))?;
    match S::replay(&events) {
        Ok(replayed) if replayed == *recorder.session() => {}
        Ok(_) => {
            return Err(fail(format!(
                "the lab journal {} no longer matches this notebook's session (another notebook \
                 of this lab wrote to it); restart the kernel to load it, then %submit again",
                journal.path().display()
            )))
        }
        Err(error) => {
            return Err(fail(format!(
                "the lab journal {} cannot be handed in: its {error}; nothing was submitted and \
                 the journal is unchanged (show it to course staff)",
                journal.path().display()
            )))
        }
    }
    let submission = Submission {
        schema_version: SUBMISSION_SCHEMA_VERSION,
        id: Uuid::now_v7(),
        lab: S::LAB_ID.to_string(),
        student: student_id(),
        created_at: Utc::now(),
        kernel_version: KERNEL_VERSION.to_string(),
        events,
        design: recorder.session().saved_design(),
    };
    let submitted = replay_submission::<S>(&submission).map_err(|e| fail(e.to_string()))?;
    let route =
        crate::grader_client::hand_in(&submission, &exchange).map_err(|e| fail(e.to_string()))?;
    let noted = recorder.record(EventKind::Submitted {
        submission_id: submission.id,
    });
    if let Err(e) = noted {
        outputs.stderr(format!(
            "Your submission was handed in, but could not be noted in the lab journal: {e}\n"
        ));
    }
    let receipt = receipt::of(&submission, &route, Checked::of(&submitted));
    Ok(receipt::media(&receipt))
}
