//! The hand-in magics of lab v2_04: `%ledger` shows the design ledger,
//! `%ledger save` writes this chapter's design to it, `%submit` hands the whole
//! session in to the exchange directory and shows a receipt.

use crate::exchange::{student_id, Exchange};
use crate::grader_client::Route;
use crate::interpreter::{ExecutionError, Outputs};
use crate::journal::{mlsys_home, Journal, KERNEL_VERSION};
use crate::ledger_file::{LedgerFile, Loaded};
use crate::magic::MagicSpec;
use chrono::{SecondsFormat, Utc};
use jupyter_protocol::{Media, MediaType};
use mlsys_model::labs::data_storage::{missing, replay_submission, Session, LAB_ID};
use mlsys_model::ledger::{Design, Ledger};
use mlsys_model::record::{EventKind, Submission, SUBMISSION_SCHEMA_VERSION};
use serde_json::{json, Value};
use std::path::Path;
use uuid::Uuid;

/// The mimetype of `%ledger`'s machine-readable output: the ledger as on disk.
pub const LEDGER_MIME: &str = "application/vnd.mlsys.ledger.v1+json";

/// The mimetype of `%submit`'s machine-readable receipt.
pub const RECEIPT_MIME: &str = "application/vnd.mlsys.receipt.v1+json";

/// `%ledger`: show the ledger, or save this chapter's design to it.
pub const LEDGER: MagicSpec = MagicSpec {
    name: "ledger",
    usage: "%ledger [save]",
    summary: "Show the design ledger, or save this lab's design to it.",
    doc: "%ledger shows every chapter saved in your design ledger ($MLSYS_HOME/ledger.json, \
          default ~/.mlsys/ledger.json). %ledger save writes chapter v2_04's design from your \
          current settings (context, Act II layout, GPUs, workers, Act I bandwidth, prediction, \
          metadata demand, MDS saturation); saving again replaces the chapter's entry, other \
          chapters are kept. A ledger that cannot be read is moved aside to \
          ledger.json.corrupt-<timestamp> (you are told where) and a fresh one is started.",
    hints: &["save", "--help"],
};

/// `%submit`: hand the session in.
pub const SUBMIT: MagicSpec = MagicSpec {
    name: "submit",
    usage: "%submit",
    summary: "Hand in your session (every event and the saved design) and show a receipt.",
    doc: "Writes a submission to the exchange directory ($MLSYS_EXCHANGE, default \
          $MLSYS_HOME/outbox/) as v2_04-<student>-<uuid>.json, and shows its id, time, file, \
          SHA-256 and what is still missing (e.g. no Act II prediction yet). You may submit \
          again at any time: each submission is a new file, none is ever overwritten; the \
          grader decides which one counts. The student id is JUPYTERHUB_USER, else your OS user. \
          On JupyterHub ($MLSYS_GRADER_URL set) it is sent to the course's grader service with \
          your Hub token instead; if that fails it goes to the exchange directory, and the \
          receipt says which way it went and why.",
    hints: &["--help"],
};

fn usage_error(message: impl Into<String>) -> ExecutionError {
    ExecutionError::new("UsageError", message)
}

fn help(spec: &MagicSpec) -> Media {
    Media::new(vec![MediaType::Plain(format!(
        "{}\n\n{}\n\n{}",
        spec.usage, spec.summary, spec.doc
    ))])
}

fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Runs `%ledger` with `args` (empty, `save`, or `--help`). The ledger lives in
/// the journal's `MLSYS_HOME`; without a journal, in `$MLSYS_HOME`.
pub fn ledger(
    args: &str,
    session: &mut Session,
    journal: Option<&mut Journal>,
    outputs: &Outputs,
) -> Result<Option<Media>, ExecutionError> {
    let home = journal
        .as_ref()
        .map_or_else(mlsys_home, |j| j.home().to_path_buf());
    let file = LedgerFile::in_home(&home);
    match args.trim() {
        "--help" | "-h" => Ok(Some(help(&LEDGER))),
        "" => {
            let loaded = file
                .load()
                .map_err(|e| ExecutionError::new("LedgerError", e.to_string()))?;
            tell_if_moved_aside(&loaded, outputs);
            Ok(Some(ledger_media(&loaded.ledger, file.path(), None)))
        }
        "save" => save(session, journal, &file, outputs).map(Some),
        other => Err(usage_error(format!(
            "%ledger takes nothing or `save`, got `{other}` (see %ledger --help)"
        ))),
    }
}

/// Writes the design to the ledger, then records `DesignSaved` and commits it
/// to the session (checked on a copy first, so a refusal changes nothing).
fn save(
    session: &mut Session,
    journal: Option<&mut Journal>,
    file: &LedgerFile,
    outputs: &Outputs,
) -> Result<Media, ExecutionError> {
    let design = session.design().to_map();
    let kind = EventKind::DesignSaved {
        chapter: LAB_ID.to_string(),
        design: design.clone(),
    };
    let mut next = session.clone();
    next.apply(&kind)
        .map_err(|e| ExecutionError::new("LedgerError", e.to_string()))?;
    let loaded = file
        .update(|ledger| ledger.save_design(LAB_ID, design, now_rfc3339()))
        .map_err(|e| ExecutionError::new("LedgerError", format!("{e}; nothing was saved")))?;
    tell_if_moved_aside(&loaded, outputs);
    if let Some(journal) = journal {
        journal.record(kind).map_err(|e| {
            ExecutionError::new(
                "JournalError",
                format!("the ledger was saved, but the lab journal was not: {e}"),
            )
        })?;
    }
    *session = next;
    let note = format!("Saved chapter {LAB_ID} to {}", file.path().display());
    Ok(ledger_media(&loaded.ledger, file.path(), Some(&note)))
}

fn tell_if_moved_aside(loaded: &Loaded, outputs: &Outputs) {
    if let Some(aside) = &loaded.moved_aside {
        outputs.stderr(format!(
            "Your design ledger could not be read, so it was moved to {} (nothing was deleted). \
             A fresh ledger has been started.\n",
            aside.display()
        ));
    }
}

/// The ledger as an HTML table, text and JSON.
fn ledger_media(ledger: &Ledger, path: &Path, note: Option<&str>) -> Media {
    let mut text = String::new();
    if let Some(note) = note {
        text.push_str(note);
        text.push('\n');
    }
    text.push_str(&format!(
        "Design ledger {}\ntrack: {} · current chapter: {} · last updated: {}\n",
        path.display(),
        ledger.track.as_deref().unwrap_or("none"),
        ledger.current_chapter,
        or_never(&ledger.last_updated),
    ));
    if ledger.history.is_empty() {
        text.push_str("(no chapter saved yet: run %ledger save)\n");
    }
    let mut rows = String::new();
    for entry in &ledger.history {
        text.push_str(&format!("\n{}\n", entry.chapter));
        let width = entry.design.keys().map(String::len).max().unwrap_or(0);
        for (key, value) in &entry.design {
            text.push_str(&format!("  {key:width$}  {}\n", show(value)));
        }
        rows.push_str(&design_rows(&entry.chapter.to_string(), &entry.design));
    }
    let html = format!(
        "<div style=\"font-family: system-ui, sans-serif; font-size: 0.9rem;\">\
         {note}<div style=\"font-weight: 600; margin-bottom: 4px;\">Design ledger</div>\
         <div style=\"opacity: 0.75; margin-bottom: 8px;\"><code>{path}</code> · track {track} · \
         current chapter {current} · last updated {updated}</div>\
         <table style=\"border-collapse: collapse;\">\
         <thead><tr><th style=\"{TH}\">Chapter</th><th style=\"{TH}\">Key</th>\
         <th style=\"{TH}\">Value</th></tr></thead><tbody>{rows}</tbody></table>{empty}</div>",
        note = note
            .map(|n| format!(
                "<div style=\"color: #15803d; margin-bottom: 6px;\">{}</div>",
                escape(n)
            ))
            .unwrap_or_default(),
        path = escape(&path.display().to_string()),
        track = escape(ledger.track.as_deref().unwrap_or("none")),
        current = escape(&ledger.current_chapter.to_string()),
        updated = escape(or_never(&ledger.last_updated)),
        empty = if ledger.history.is_empty() {
            "<div style=\"margin-top: 6px;\">No chapter saved yet: run <code>%ledger save</code>.</div>"
        } else {
            ""
        },
    );
    let json = serde_json::to_value(ledger).unwrap_or(Value::Null);
    Media::new(vec![
        MediaType::Html(html),
        MediaType::Plain(text.trim_end().to_string()),
        MediaType::Other((LEDGER_MIME.to_string(), json)),
    ])
}

const TH: &str = "text-align: left; padding: 3px 10px; border-bottom: 1px solid #94a3b8;";
const TD: &str = "padding: 3px 10px; border-bottom: 1px solid rgba(148,163,184,0.3);";

fn design_rows(chapter: &str, design: &Design) -> String {
    let span = design.len().max(1);
    let mut rows = format!(
        "<tr><td rowspan=\"{span}\" style=\"{TD} vertical-align: top; font-weight: 600;\">{}</td>",
        escape(chapter)
    );
    if design.is_empty() {
        rows.push_str(&format!(
            "<td style=\"{TD}\" colspan=\"2\">(empty)</td></tr>"
        ));
    }
    for (i, (key, value)) in design.iter().enumerate() {
        if i > 0 {
            rows.push_str("<tr>");
        }
        rows.push_str(&format!(
            "<td style=\"{TD}\"><code>{}</code></td><td style=\"{TD}\">{}</td></tr>",
            escape(key),
            escape(&show(value))
        ));
    }
    rows
}

fn or_never(s: &str) -> &str {
    if s.is_empty() {
        "never"
    } else {
        s
    }
}

/// A JSON value as the student reads it (strings without quotes).
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Runs `%submit` with `args` (empty or `--help`). Needs the journal: it is the
/// event log handed in.
pub fn submit(
    args: &str,
    session: &mut Session,
    journal: Option<&mut Journal>,
    outputs: &Outputs,
) -> Result<Option<Media>, ExecutionError> {
    match args.trim() {
        "--help" | "-h" => return Ok(Some(help(&SUBMIT))),
        "" => {}
        other => {
            return Err(usage_error(format!(
                "%submit takes no arguments, got `{other}` (see %submit --help)"
            )))
        }
    }
    let fail = |e: String| ExecutionError::new("SubmitError", e);
    let Some(journal) = journal else {
        return Err(fail(
            "your lab progress is not being saved (the lab journal could not be opened), so there \
             is no event log to hand in; fix MLSYS_HOME and restart the kernel"
                .to_string(),
        ));
    };
    let exchange = Exchange::from_env(journal.home());
    hand_in(session, journal, &exchange, outputs)
}

/// Builds the submission from the journal, delivers it to `exchange`, records
/// `Submitted` and returns the receipt.
fn hand_in(
    session: &mut Session,
    journal: &mut Journal,
    exchange: &Exchange,
    outputs: &Outputs,
) -> Result<Option<Media>, ExecutionError> {
    let fail = |e: String| ExecutionError::new("SubmitError", e);
    let events = journal.events().map_err(|e| fail(e.to_string()))?;
    match Session::replay(&events) {
        Ok(replayed) if replayed == *session => {}
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
        lab: LAB_ID.to_string(),
        student: student_id(),
        created_at: Utc::now(),
        kernel_version: KERNEL_VERSION.to_string(),
        events,
        design: session.saved_design.as_ref().map(|d| d.to_map()),
    };
    replay_submission(&submission).map_err(|e| fail(e.to_string()))?;
    let route =
        crate::grader_client::hand_in(&submission, exchange).map_err(|e| fail(e.to_string()))?;
    let submitted = session.clone();
    let kind = EventKind::Submitted {
        submission_id: submission.id,
    };
    match journal.record(kind) {
        Ok(event) => {
            let _ = session.apply(&event.kind);
        }
        Err(e) => outputs.stderr(format!(
            "Your submission was handed in, but could not be noted in the lab journal: {e}\n"
        )),
    }
    Ok(Some(receipt(&submission, &route, &submitted)))
}

/// The receipt: id, time, file, SHA-256, what is missing, and the session as submitted.
fn receipt(submission: &Submission, route: &Route, session: &Session) -> Media {
    let missing: Vec<String> = missing(session).iter().map(|m| m.to_string()).collect();
    let created = submission
        .created_at
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let place = route.location();
    let via = route.via();
    let mut text = format!(
        "Submitted lab {LAB_ID} as {}\nsubmission {}\ntime       {created}\nvia        {via}\n\
         stored at  {place}\nsha256     {}\nevents     {}\n",
        submission.student,
        submission.id,
        route.sha256(),
        submission.events.len()
    );
    if missing.is_empty() {
        text.push_str("complete: nothing is missing");
    } else {
        text.push_str("still missing (you may submit again later):\n");
        for m in &missing {
            text.push_str(&format!("  - {m}\n"));
        }
    }
    let row = |k: &str, v: &str| {
        format!(
            "<tr><td style=\"{TD} opacity: 0.75;\">{k}</td><td style=\"{TD}\"><code>{}</code></td></tr>",
            escape(v)
        )
    };
    let missing_html = if missing.is_empty() {
        "<div style=\"color: #15803d; margin-top: 6px;\">Complete: nothing is missing.</div>"
            .to_string()
    } else {
        format!(
            "<div style=\"color: #b45309; margin-top: 6px;\">Still missing (you may submit again later):\
             <ul style=\"margin: 4px 0;\">{}</ul></div>",
            missing
                .iter()
                .map(|m| format!("<li>{}</li>", escape(m)))
                .collect::<String>()
        )
    };
    let html = format!(
        "<div style=\"font-family: system-ui, sans-serif; font-size: 0.9rem;\">\
         <div style=\"font-weight: 600; margin-bottom: 4px;\">Submission receipt · lab {LAB_ID} · {student}</div>\
         <table style=\"border-collapse: collapse;\">{rows}</table>{missing_html}</div>",
        student = escape(&submission.student),
        rows = [
            row("submission", &submission.id.to_string()),
            row("time", &created),
            row("handed in via", &via),
            row("stored at", &place),
            row("SHA-256", route.sha256()),
            row("events", &submission.events.len().to_string()),
        ]
        .concat(),
    );
    let json = json!({
        "submission_id": submission.id,
        "lab": LAB_ID,
        "student": submission.student,
        "created_at": submission.created_at,
        "file": matches!(route, Route::Exchange { .. }).then_some(&place),
        "stored_at": place,
        "sha256": route.sha256(),
        "bytes": route.bytes(),
        "via": if matches!(route, Route::Service { .. }) { "service" } else { "exchange" },
        "via_detail": via,
        "events": submission.events.len(),
        "missing": missing,
        "session": session,
    });
    Media::new(vec![
        MediaType::Html(html),
        MediaType::Plain(text.trim_end().to_string()),
        MediaType::Other((RECEIPT_MIME.to_string(), json)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlsys_model::labs::data_storage::{LedgerDesign, Missing};
    use mlsys_model::record::Event;
    use mlsys_model::{Act, Choice};
    use std::path::PathBuf;
    use std::sync::mpsc;

    struct Lab {
        home: PathBuf,
        session: Session,
        journal: Journal,
        outputs: Outputs,
        stream: mpsc::Receiver<crate::interpreter::Output>,
    }

    impl Lab {
        fn new() -> Lab {
            let home = std::env::temp_dir().join(format!("mlsys-handin-{}", Uuid::now_v7()));
            let (journal, _) = Journal::open(&home, LAB_ID).unwrap();
            let (tx, stream) = mpsc::channel();
            Lab {
                home,
                session: Session::default(),
                journal,
                outputs: Outputs::new(tx),
                stream,
            }
        }

        fn act(&mut self, kind: EventKind) {
            self.session.apply(&kind).unwrap();
            self.journal.record(kind).unwrap();
        }

        fn ledger(&mut self, args: &str) -> Result<Media, ExecutionError> {
            ledger(
                args,
                &mut self.session,
                Some(&mut self.journal),
                &self.outputs,
            )
            .map(Option::unwrap)
        }

        fn submit(&mut self) -> Result<Value, ExecutionError> {
            let exchange = Exchange::outbox(&self.home);
            hand_in(
                &mut self.session,
                &mut self.journal,
                &exchange,
                &self.outputs,
            )
            .map(|m| mime(&m.unwrap(), RECEIPT_MIME))
        }

        fn stderr(&self) -> String {
            self.stream
                .try_iter()
                .filter_map(|o| match o {
                    crate::interpreter::Output::Stream { text, .. } => Some(text),
                    _ => None,
                })
                .collect()
        }
    }

    impl Drop for Lab {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.home);
        }
    }

    fn mime(media: &Media, mime: &str) -> Value {
        media
            .content
            .iter()
            .find_map(|m| match m {
                MediaType::Other((name, value)) if name == mime => Some(value.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {mime} in {media:?}"))
    }

    fn text(media: &Media, pick: fn(&MediaType) -> Option<&String>) -> String {
        media.content.iter().find_map(pick).unwrap().clone()
    }

    fn plain(m: &MediaType) -> Option<&String> {
        match m {
            MediaType::Plain(t) => Some(t),
            _ => None,
        }
    }

    fn html(m: &MediaType) -> Option<&String> {
        match m {
            MediaType::Html(t) => Some(t),
            _ => None,
        }
    }

    #[test]
    fn ledger_save_writes_the_seed_keys_once_and_records_the_event() {
        let mut lab = Lab::new();
        let shown = lab.ledger("").unwrap();
        assert!(text(&shown, plain).contains("no chapter saved yet"));
        lab.act(EventKind::PredictionLocked {
            act: Act::Act1,
            choice: Choice::B,
        });
        lab.ledger("save").unwrap();
        lab.act(EventKind::ContextSet {
            context: "nvme".into(),
        });
        let saved = lab.ledger("save").unwrap();

        let on_disk: Value =
            serde_json::from_slice(&std::fs::read(lab.home.join("ledger.json")).unwrap()).unwrap();
        assert_eq!(mime(&saved, LEDGER_MIME), on_disk);
        let history = on_disk["history"].as_array().unwrap();
        assert_eq!(history.len(), 1, "a second save replaces the entry");
        assert_eq!(history[0]["chapter"], LAB_ID);
        let design = history[0]["design"].as_object().unwrap();
        assert_eq!(
            LedgerDesign::from_map(design).unwrap(),
            lab.session.design()
        );
        assert_eq!(design["context"], "nvme");
        assert_eq!(design["act1_prediction"], "B");
        assert_eq!(design["act1_correct"], true);
        assert_eq!(lab.session.saved_design, Some(lab.session.design()));

        let events = lab.journal.events().unwrap();
        let saves: Vec<&Event> = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::DesignSaved { .. }))
            .collect();
        assert_eq!(saves.len(), 2);
        assert_eq!(Session::replay(&events).unwrap(), lab.session);

        let shown = lab.ledger("").unwrap();
        assert!(text(&shown, html).contains("<td style=\"padding: 3px 10px; border-bottom: 1px solid rgba(148,163,184,0.3);\"><code>storage_type</code></td>"));
        assert!(text(&shown, plain).contains("  storage_type          individual_files"));
        assert_eq!(
            lab.ledger("--help")
                .map(|m| text(&m, plain).starts_with("%ledger [save]")),
            Ok(true)
        );
        let before = lab.session.clone();
        let error = lab.ledger("load").unwrap_err();
        assert_eq!(error.ename, "UsageError");
        assert_eq!(lab.session, before);
    }

    #[test]
    fn a_corrupt_ledger_is_moved_aside_and_the_student_told() {
        let mut lab = Lab::new();
        std::fs::write(lab.home.join("ledger.json"), "{\"history\": [").unwrap();
        lab.ledger("save").unwrap();
        let told = lab.stderr();
        assert!(told.contains("moved to"), "{told}");
        let aside: Vec<PathBuf> = std::fs::read_dir(&lab.home)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("ledger.json.corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert!(told.contains(&aside[0].display().to_string()));
        assert_eq!(
            std::fs::read_to_string(&aside[0]).unwrap(),
            "{\"history\": ["
        );
        assert!(lab.ledger("").is_ok());
        assert_eq!(lab.stderr(), "", "told once");
    }

    #[test]
    fn submit_hands_in_a_log_that_replays_and_shows_a_receipt() {
        let mut lab = Lab::new();
        lab.act(EventKind::PredictionLocked {
            act: Act::Act1,
            choice: Choice::C,
        });
        lab.ledger("save").unwrap();
        let receipt = lab.submit().unwrap();
        let file = PathBuf::from(receipt["file"].as_str().unwrap());
        assert_eq!(file.parent(), Some(lab.home.join("outbox").as_path()));
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("v2_04-")
                && name.ends_with(&format!(
                    "-{}.json",
                    receipt["submission_id"].as_str().unwrap()
                ))
        );
        let checked = crate::exchange::check_submission_file(&file).unwrap();
        assert_eq!(checked["sha256"], receipt["sha256"]);
        assert_eq!(checked["session"], receipt["session"]);
        assert_eq!(checked["events"], 2);
        let missing = receipt["missing"].as_array().unwrap();
        assert_eq!(missing[0], Missing::Run { act: Act::Act1 }.to_string());
        assert!(missing.contains(&json!(Missing::Prediction { act: Act::Act2 }.to_string())));
        assert_eq!(lab.session.submissions.len(), 1);
        assert!(matches!(
            lab.journal.events().unwrap().last().unwrap().kind,
            EventKind::Submitted { .. }
        ));

        let again = lab.submit().unwrap();
        assert_ne!(again["file"], receipt["file"]);
        assert_eq!(
            again["events"], 3,
            "the first Submitted event is in the log"
        );
        assert_eq!(
            std::fs::read_dir(lab.home.join("outbox")).unwrap().count(),
            2
        );
    }

    #[test]
    fn submit_refuses_a_journal_another_kernel_changed() {
        let mut lab = Lab::new();
        lab.journal
            .record(EventKind::PredictionLocked {
                act: Act::Act2,
                choice: Choice::A,
            })
            .unwrap();
        let error = lab.submit().unwrap_err();
        assert_eq!(error.ename, "SubmitError");
        assert!(
            error.evalue.contains("restart the kernel"),
            "{}",
            error.evalue
        );
        lab.journal
            .record(EventKind::PredictionLocked {
                act: Act::Act2,
                choice: Choice::B,
            })
            .unwrap();
        let error = lab.submit().unwrap_err();
        assert!(
            error
                .evalue
                .contains("event 1: Act II prediction is already locked"),
            "{}",
            error.evalue
        );
        assert!(!lab.home.join("outbox").exists());
        let error = submit("now", &mut lab.session, None, &lab.outputs).unwrap_err();
        assert_eq!(error.ename, "UsageError");
        let error = submit("", &mut lab.session, None, &lab.outputs).unwrap_err();
        assert!(error.evalue.contains("no event log"), "{}", error.evalue);
    }
}
