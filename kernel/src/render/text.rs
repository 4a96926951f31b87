//! Compact `text/plain` versions of questions and callouts, for terminals and logs.

use mlsys_model::content::{Callout, Question};
use mlsys_model::Choice;
use std::fmt::Write;

/// A question with lettered options; `marked` is flagged as the locked answer.
pub fn question(kicker: &str, q: &Question, marked: Option<Choice>, hint: &str) -> String {
    let mut out = format!("{kicker}\n{}\n", q.prompt);
    for choice in Choice::ALL {
        let mark = if marked == Some(choice) {
            "  ← your answer (locked)"
        } else {
            ""
        };
        let _ = writeln!(out, "  {choice}) {}{mark}", q.option(choice));
    }
    out.push_str(&hint.replace('`', ""));
    out
}

/// A callout as plain text (Markdown markers removed).
pub fn callout(c: &Callout) -> String {
    c.to_text().replace("**", "").replace('`', "")
}
