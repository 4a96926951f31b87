//! `%submit`'s receipt: the typed [`HandInReceipt`] (the checked submission
//! and where it went), shown as HTML, text and its own mime type.

use super::TD;
use crate::grader_client::Route;
use crate::render::{self, html::escape};
use chrono::SecondsFormat;
use jupyter_protocol::{Media, MediaType};
use mlsys_model::content::Callout;
use mlsys_model::lab::Checked;
use mlsys_model::receipt::{HandInReceipt, SubmissionSummary};
use mlsys_model::record::Submission;
use serde_json::Value;

/// The mimetype of `%submit`'s machine-readable receipt.
pub const RECEIPT_MIME: &str = "application/vnd.mlsys.receipt.v1+json";

/// The receipt of `submission`, handed in by `route`, as checking rebuilt it.
pub fn of(submission: &Submission, route: &Route, checked: Checked) -> HandInReceipt {
    HandInReceipt {
        summary: SubmissionSummary::of(submission, route.sha256().to_string(), checked),
        via: route.via(),
        via_detail: route.via_detail(),
        stored_at: route.location(),
        file: route.file(),
        bytes: route.bytes() as u64,
    }
}

/// The receipt as HTML, text and JSON: id, time, where it went, SHA-256, what
/// is still missing, and the session as submitted; then the lab's `closing`
/// summary, if it has one.
pub fn media(receipt: &HandInReceipt, closing: Option<&Callout>) -> Media {
    let summary = &receipt.summary;
    let created = summary
        .created_at
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut text = format!(
        "Submitted lab {} as {}\nsubmission {}\ntime       {created}\nvia        {}\n\
         stored at  {}\nsha256     {}\nevents     {}\n",
        summary.lab,
        summary.student,
        summary.submission_id,
        receipt.via_detail,
        receipt.stored_at,
        summary.sha256,
        summary.events
    );
    if summary.missing.is_empty() {
        text.push_str("complete: nothing is missing");
    } else {
        text.push_str("still missing (you may submit again later):\n");
        for m in &summary.missing {
            text.push_str(&format!("  - {m}\n"));
        }
    }
    let row = |k: &str, v: &str| {
        format!(
            "<tr><td style=\"{TD} opacity: 0.75;\">{k}</td><td style=\"{TD}\"><code>{}</code></td></tr>",
            escape(v)
        )
    };
    let missing_html = if summary.missing.is_empty() {
        "<div style=\"color: #15803d; margin-top: 6px;\">Complete: nothing is missing.</div>"
            .to_string()
    } else {
        format!(
            "<div style=\"color: #b45309; margin-top: 6px;\">Still missing (you may submit again later):\
             <ul style=\"margin: 4px 0;\">{}</ul></div>",
            summary
                .missing
                .iter()
                .map(|m| format!("<li>{}</li>", escape(m)))
                .collect::<String>()
        )
    };
    let html = format!(
        "<div style=\"font-family: system-ui, sans-serif; font-size: 0.9rem;\">\
         <div style=\"font-weight: 600; margin-bottom: 4px;\">Submission receipt · lab {lab} · {student}</div>\
         <table style=\"border-collapse: collapse;\">{rows}</table>{missing_html}</div>",
        lab = escape(&summary.lab),
        student = escape(&summary.student),
        rows = [
            row("submission", &summary.submission_id.to_string()),
            row("time", &created),
            row("handed in via", &receipt.via_detail),
            row("stored at", &receipt.stored_at),
            row("SHA-256", &summary.sha256),
            row("events", &summary.events.to_string()),
        ]
        .concat(),
    );
    let mut html = html;
    let mut text = text.trim_end().to_string();
    if let Some(closing) = closing {
        html.push_str(&render::html::callout(closing));
        text.push_str(&format!("\n\n{}", render::text::callout(closing)));
    }
    let json = serde_json::to_value(receipt).unwrap_or(Value::Null);
    Media::new(vec![
        MediaType::Html(html),
        MediaType::Plain(text),
        MediaType::Other((RECEIPT_MIME.to_string(), json)),
    ])
}
