//! `%ledger`: shows the design ledger (every chapter of every lab), and
//! `%ledger save` writes the lab's chapter with the design of its current
//! settings, then records `DesignSaved` through the lab's recorder.

use super::{usage_error, TD};
use crate::interpreter::{ExecutionError, Outputs};
use crate::journal::mlsys_home;
use crate::ledger_file::{LedgerFile, Loaded};
use crate::magic::MagicSpec;
use crate::recorder::{RecordError, Recorder};
use crate::render::html::escape;
use chrono::{SecondsFormat, Utc};
use jupyter_protocol::{Media, MediaType};
use mlsys_model::lab::LabSession;
use mlsys_model::ledger::{Design, Ledger};
use mlsys_model::record::EventKind;
use serde_json::Value;
use std::borrow::Cow;
use std::path::Path;

/// The mimetype of `%ledger`'s machine-readable output: the ledger as on disk.
pub const LEDGER_MIME: &str = "application/vnd.mlsys.ledger.v1+json";

const TH: &str = "text-align: left; padding: 3px 10px; border-bottom: 1px solid #94a3b8;";

/// `%ledger` as it applies to the lab of session `S`.
pub fn spec<S: LabSession>() -> MagicSpec {
    MagicSpec {
        name: "ledger",
        usage: "%ledger [save]",
        summary: "Show the design ledger, or save this lab's design to it.",
        doc: Cow::Owned(format!(
            "%ledger shows every chapter saved in your design ledger ($MLSYS_HOME/ledger.json, \
             default ~/.mlsys/ledger.json). %ledger save writes chapter {id}'s design from your \
             current settings; saving again replaces the chapter's entry, other chapters are \
             kept. A ledger that cannot be read is moved aside to \
             ledger.json.corrupt-<timestamp> (you are told where) and a fresh one is started.",
            id = S::LAB_ID
        )),
        hints: &["save", "--help"],
    }
}

/// Runs `%ledger` with `args` (empty or `save`). The ledger lives in the
/// journal's `MLSYS_HOME`; without a journal, in `$MLSYS_HOME`.
pub fn run<S: LabSession>(
    recorder: &mut Recorder<S>,
    args: &str,
    outputs: &Outputs,
) -> Result<Option<Media>, ExecutionError> {
    let home = recorder
        .journal()
        .map_or_else(mlsys_home, |j| j.home().to_path_buf());
    let file = LedgerFile::in_home(&home);
    match args.trim() {
        "" => {
            let loaded = file
                .load()
                .map_err(|e| ExecutionError::new("LedgerError", e.to_string()))?;
            tell_if_moved_aside(&loaded, outputs);
            Ok(Some(ledger_media(&loaded.ledger, file.path(), None)))
        }
        "save" => save(recorder, &file, outputs).map(Some),
        other => Err(usage_error(format!(
            "%ledger takes nothing or `save`, got `{other}` (see %ledger --help)"
        ))),
    }
}

/// Checks `DesignSaved` against the lab's rules, writes the design to the
/// ledger, then records the event (so a refusal changes nothing).
fn save<S: LabSession>(
    recorder: &mut Recorder<S>,
    file: &LedgerFile,
    outputs: &Outputs,
) -> Result<Media, ExecutionError> {
    let design = recorder.session().design();
    let pending = recorder.check(EventKind::DesignSaved {
        chapter: S::LAB_ID.to_string(),
        design: design.clone(),
    })?;
    let saved_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let loaded = file
        .update(|ledger| ledger.save_design(S::LAB_ID, design, saved_at))
        .map_err(|e| ExecutionError::new("LedgerError", format!("{e}; nothing was saved")))?;
    tell_if_moved_aside(&loaded, outputs);
    recorder.commit(pending).map_err(|error| match error {
        RecordError::NotSaved(journal) => ExecutionError::new(
            "JournalError",
            format!("the ledger was saved, but the lab journal was not: {journal}"),
        ),
        refused => refused.into(),
    })?;
    let note = format!("Saved chapter {} to {}", S::LAB_ID, file.path().display());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::Output;
    use crate::testing::{tally, TallySession, TempDir};
    use std::sync::mpsc;

    fn plain(media: &Media) -> String {
        media
            .content
            .iter()
            .find_map(|m| match m {
                MediaType::Plain(text) => Some(text.clone()),
                _ => None,
            })
            .unwrap()
    }

    fn told(stream: &mpsc::Receiver<Output>) -> String {
        stream
            .try_iter()
            .filter_map(|o| match o {
                Output::Stream { text, .. } => Some(text),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn save_writes_the_labs_chapter_once_and_records_the_event() {
        let home = TempDir::new("ledger-magic");
        let mut recorder = Recorder::<TallySession>::open(home.path());
        let (tx, _stream) = mpsc::channel();
        let out = Outputs::new(tx);
        let shown = run(&mut recorder, "", &out).unwrap().unwrap();
        assert!(plain(&shown).contains("no chapter saved yet"));
        recorder.record(tally(2)).unwrap();
        run(&mut recorder, "save", &out).unwrap();
        recorder.record(tally(3)).unwrap();
        let saved = run(&mut recorder, "save", &out).unwrap().unwrap();

        let on_disk: Value =
            serde_json::from_slice(&std::fs::read(home.path().join("ledger.json")).unwrap())
                .unwrap();
        let MediaType::Other((mime, json)) = &saved.content[2] else {
            panic!()
        };
        assert_eq!((mime.as_str(), json), (LEDGER_MIME, &on_disk));
        let history = on_disk["history"].as_array().unwrap();
        assert_eq!(history.len(), 1, "a second save replaces the entry");
        assert_eq!(history[0]["chapter"], TallySession::LAB_ID);
        assert_eq!(history[0]["design"]["total"], 5);
        assert_eq!(
            recorder.session().saved_design(),
            Some(recorder.session().design())
        );
        let events = recorder.journal().unwrap().events().unwrap();
        assert_eq!(TallySession::replay(&events).unwrap(), *recorder.session());
        let saves = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::DesignSaved { .. }))
            .count();
        assert_eq!(saves, 2);

        let shown = run(&mut recorder, "", &out).unwrap().unwrap();
        let MediaType::Html(html) = &shown.content[0] else {
            panic!()
        };
        assert!(html.contains(&format!("<td style=\"{TD}\"><code>total</code></td>")));
        assert!(plain(&shown).contains("  total  5"), "{}", plain(&shown));
        let before = recorder.session().clone();
        let error = run(&mut recorder, "load", &out).unwrap_err();
        assert_eq!(error.ename, "UsageError");
        assert_eq!(*recorder.session(), before);
    }

    #[test]
    fn a_corrupt_ledger_is_moved_aside_and_the_student_told_once() {
        let home = TempDir::new("ledger-corrupt");
        let mut recorder = Recorder::<TallySession>::open(home.path());
        let (tx, stream) = mpsc::channel();
        let out = Outputs::new(tx);
        std::fs::write(home.path().join("ledger.json"), "{\"history\": [").unwrap();
        run(&mut recorder, "save", &out).unwrap();
        let message = told(&stream);
        let aside: Vec<_> = std::fs::read_dir(home.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("ledger.json.corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert!(
            message.contains(&aside[0].display().to_string()),
            "{message}"
        );
        assert_eq!(
            std::fs::read_to_string(&aside[0]).unwrap(),
            "{\"history\": ["
        );
        assert!(run(&mut recorder, "", &out).is_ok());
        assert_eq!(told(&stream), "", "told once");
    }
}
