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
use std::time::Duration;
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
        usage: "%submit [--button]",
        summary: "Hand in your session (every event and the saved design) and show a receipt.",
        doc: Cow::Owned(format!(
            "Writes a submission to the exchange directory ($MLSYS_EXCHANGE, default \
             $MLSYS_HOME/outbox/) as {id}-<student>-<uuid>.json, and shows its id, time, file, \
             SHA-256 and what is still missing{example}. You may submit again at any time: each \
             submission is a new file, none is ever overwritten; the grader decides which one \
             counts. The student id is JUPYTERHUB_USER, else your OS user. On JupyterHub \
             ($MLSYS_GRADER_URL set) it is sent to the course's grader service with your Hub \
             token instead; if the service cannot take it (unreachable, busy) it goes to the \
             exchange directory, and the receipt says which way it went and why. A submission \
             the service refuses as invalid is not handed in: you are told why. With --button \
             it shows a Hand in button instead, which hands in the same way when clicked and \
             shows the receipt beneath it.",
            id = S::LAB_ID
        )),
        hints: &["--button", "--help"],
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
            "%submit takes no arguments but --button, got `{}` (see %submit --help)",
            args.trim()
        )));
    }
    hand_in(recorder, Exchange::from_env, outputs).map(Some)
}

/// How long `%submit` waits for the witness to receive the events it hands
/// in (a service that is out of reach is not waited for).
const WITNESS_BEFORE_HAND_IN: Duration = Duration::from_secs(5);

/// Builds the submission from the journal (caught up with what other kernels
/// of the student appended), delivers it to the exchange of the journal's
/// home, records `Submitted` and returns the receipt.
fn hand_in<S: LabSession>(
    recorder: &mut Recorder<S>,
    exchange: fn(&Path) -> Exchange,
    outputs: &Outputs,
) -> Result<Media, ExecutionError> {
    recorder.refresh().map_err(|e| fail(e.to_string()))?;
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
    // The hand-in goes to the same service: its events are sent first (a
    // while at most, and not while the service is failing), so the grader
    // finds each of them witnessed.
    recorder.flush_witness(std::time::Instant::now() + WITNESS_BEFORE_HAND_IN);
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
    let closing = recorder.session().closing_summary();
    Ok(receipt::media(&receipt, closing.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handin::receipt::RECEIPT_MIME;
    use crate::journal::Journal;
    use crate::testing::{tally, TallySession, TempDir, TALLY};
    use jupyter_protocol::MediaType;
    use mlsys_model::Labs;
    use serde_json::Value;
    use std::path::PathBuf;

    fn quiet() -> Outputs {
        Outputs::new(std::sync::mpsc::channel().0)
    }

    fn receipt_of(media: &Media) -> Value {
        media
            .content
            .iter()
            .find_map(|m| match m {
                MediaType::Other((mime, json)) if mime == RECEIPT_MIME => Some(json.clone()),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn a_submission_replays_and_its_receipt_says_where_it_went() {
        let home = TempDir::new("submit");
        let mut recorder = Recorder::<TallySession>::open(home.path());
        recorder.record(tally(4)).unwrap();
        let shown = hand_in(&mut recorder, Exchange::outbox, &quiet()).unwrap();
        let receipt = receipt_of(&shown);
        let file = PathBuf::from(receipt["file"].as_str().unwrap());
        assert_eq!(file.parent(), Some(home.path().join("outbox").as_path()));
        assert!(file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("t_tally-"));
        assert_eq!(receipt["via"], "exchange");
        assert_eq!(receipt["stored_at"], receipt["file"]);
        assert_eq!(
            receipt["missing"],
            serde_json::json!(["design not saved (%ledger save)"])
        );
        assert_eq!(receipt["session"]["total"], 4);
        assert_eq!(receipt["bytes"], std::fs::metadata(&file).unwrap().len());
        let labs = Labs::new([&TALLY as &dyn mlsys_model::Lab]);
        let checked = crate::exchange::check_submission_file(&file, &labs).unwrap();
        assert_eq!(checked.sha256, receipt["sha256"]);
        assert_eq!(checked.events, 1);
        assert_eq!(recorder.session().submissions, 1, "Submitted is recorded");

        let again = receipt_of(&hand_in(&mut recorder, Exchange::outbox, &quiet()).unwrap());
        assert_ne!(again["file"], receipt["file"]);
        assert_eq!(
            again["events"], 2,
            "the first Submitted event is in the log"
        );
    }

    #[test]
    fn what_another_kernel_appended_is_handed_in_and_a_broken_journal_is_not() {
        let home = TempDir::new("submit-changed");
        let mut recorder = Recorder::<TallySession>::open(home.path());
        let (mut other, _) = Journal::open(home.path(), TallySession::LAB_ID).unwrap();
        other.record(tally(1)).unwrap();
        let receipt = receipt_of(&hand_in(&mut recorder, Exchange::outbox, &quiet()).unwrap());
        assert_eq!(receipt["session"]["total"], 1, "{receipt}");
        assert_eq!(recorder.session().total, 1);
        other.record(tally(0)).unwrap();
        let error = hand_in(&mut recorder, Exchange::outbox, &quiet()).unwrap_err();
        assert!(
            error
                .evalue
                .contains("its event 2: add must be a positive integer"),
            "{}",
            error.evalue
        );
        let handed_in = std::fs::read_dir(home.path().join("outbox")).unwrap();
        assert_eq!(handed_in.count(), 1, "nothing more was handed in");
        assert_eq!(
            run(&mut recorder, "now", &quiet()).unwrap_err().ename,
            "UsageError"
        );

        let not_a_dir = home.path().join("file");
        std::fs::write(&not_a_dir, b"x").unwrap();
        let mut in_memory = Recorder::<TallySession>::open(&not_a_dir);
        let error = run(&mut in_memory, "", &quiet()).unwrap_err();
        assert!(error.evalue.contains("no event log"), "{}", error.evalue);
    }
}
