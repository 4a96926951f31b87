//! Lab-neutral rendering: HTML helpers ([`html`]), the semantic colours
//! ([`palette`]), plain-text forms ([`text`]), and the mime bundles of the
//! shapes every lab shares (callouts, questions, summary tables). A lab's own
//! renderers (its instruments, charts, briefings) live in its module.

pub mod html;
pub mod palette;
pub mod text;

use jupyter_protocol::{Media, MediaType};
use mlsys_model::content::{Callout, Question};
use mlsys_model::Choice;
use palette::Tone;

/// A callout as HTML and plain text.
pub fn callout(c: &Callout) -> Media {
    Media::new(vec![
        MediaType::Html(html::callout(c)),
        MediaType::Plain(text::callout(c)),
    ])
}

/// A question as HTML and plain text.
pub fn question(kicker: &str, q: &Question, marked: Option<Choice>, hint: &str) -> Media {
    Media::new(vec![
        MediaType::Html(html::question(kicker, q, marked, hint)),
        MediaType::Plain(text::question(kicker, q, marked, hint)),
    ])
}

/// A titled summary table as HTML and plain text.
pub fn table(title: &str, rows: &[(String, String, Tone)]) -> Media {
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let plain = rows
        .iter()
        .map(|(label, value, _)| format!("{label:width$}  {value}"))
        .collect::<Vec<_>>()
        .join("\n");
    Media::new(vec![
        MediaType::Html(html::table(title, rows)),
        MediaType::Plain(format!("{title}\n{plain}")),
    ])
}
