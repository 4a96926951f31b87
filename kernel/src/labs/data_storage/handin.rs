//! The hand-in magics of lab v2_04: `%ledger` shows the design ledger,
//! `%ledger save` writes this chapter's design to it, `%submit` hands the whole
//! session in to the exchange directory and shows a receipt.

use crate::exchange::{student_id, Delivered, Exchange};
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
          grader decides which one counts. The student id is JUPYTERHUB_USER, else your OS user.",
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
    let events = journal.events().map_err(|e| fail(e.to_string()))?;
    if Session::replay(&events).ok().as_ref() != Some(session) {
        return Err(fail(format!(
            "the lab journal {} no longer matches this notebook's session (another notebook of \
             this lab wrote to it); restart the kernel to load it, then %submit again",
            journal.path().display()
        )));
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
    let delivered = Exchange::from_env(journal.home())
        .deliver(&submission)
        .map_err(|e| fail(e.to_string()))?;
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
    Ok(Some(receipt(&submission, &delivered, &submitted)))
}

/// The receipt: id, time, file, SHA-256, what is missing, and the session as submitted.
fn receipt(submission: &Submission, delivered: &Delivered, session: &Session) -> Media {
    let missing: Vec<String> = missing(session).iter().map(|m| m.to_string()).collect();
    let created = submission
        .created_at
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let file = delivered.path.display().to_string();
    let mut text = format!(
        "Submitted lab {LAB_ID} as {}\nsubmission {}\ntime       {created}\nfile       {file}\n\
         sha256     {}\nevents     {}\n",
        submission.student,
        submission.id,
        delivered.sha256,
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
            row("file", &file),
            row("SHA-256", &delivered.sha256),
            row("events", &submission.events.len().to_string()),
        ]
        .concat(),
    );
    let json = json!({
        "submission_id": submission.id,
        "lab": LAB_ID,
        "student": submission.student,
        "created_at": submission.created_at,
        "file": file,
        "sha256": delivered.sha256,
        "bytes": delivered.bytes,
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
