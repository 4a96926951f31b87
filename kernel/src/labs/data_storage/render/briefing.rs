//! An act's briefing, shown above its prediction question: (Act I) the
//! chapter's recommended reading, the act's title and time, the situation, the
//! stakeholder's message, (Act I) the arithmetic, and the seed's lead-in to
//! the prediction.

use crate::render::html::{self, escape, BORDER, FG1, FG2, FG3, PANEL_BG};
use crate::render::palette::{self, Tone};
use mlsys_model::content::{Callout, CalloutKind};
use mlsys_model::labs::data_storage::briefing::{
    self, prediction_lead_in, Arithmetic, Section, Side, CHAPTER,
};
use mlsys_model::labs::data_storage::content::{act_intro, ActIntro};
use mlsys_model::Act;
use std::fmt::Write;

/// Act I's arithmetic as the model states it: supply in blue, demand in green.
fn act1_arithmetic() -> (Arithmetic, Vec<(String, String, Tone)>) {
    let arithmetic = briefing::act1_arithmetic();
    let rows = arithmetic
        .figures
        .iter()
        .map(|f| {
            let tone = match f.side {
                Side::Supply => Tone::Blue,
                Side::Demand => Tone::Green,
            };
            (f.label.clone(), f.value.clone(), tone)
        })
        .collect();
    (arithmetic, rows)
}

/// The seed's recommended reading: the chapter's sections, each with why
/// (Markdown), as a callout.
pub fn reading() -> Callout {
    let body = Section::READING
        .iter()
        .map(|s| format!("- **{}** — {}", s.reference(), s.why()))
        .collect::<Vec<_>>()
        .join("\n");
    Callout::new(
        CalloutKind::Info,
        format!("Recommended reading · {CHAPTER} · complete before this lab"),
        body,
    )
}

/// The briefing of `act` as HTML.
pub fn html(act: Act) -> String {
    let intro = act_intro(act);
    let mut out = if act == Act::Act1 {
        html::callout(&reading())
    } else {
        String::new()
    };
    out.push_str(&header_html(act, &intro));
    let _ = write!(
        out,
        "<div style=\"border-left:4px solid {c};background:{tint};border-radius:0 10px 10px 0;padding:12px 18px;margin:10px 0\">\
         <div style=\"font-size:0.72rem;font-weight:700;color:{c};text-transform:uppercase;letter-spacing:0.1em;margin-bottom:6px\">Incoming message · {sender}</div>\
         <div style=\"font-style:italic;font-size:0.95rem;color:{FG1};line-height:1.6\">“{message}”</div></div>",
        c = palette::color(Tone::Orange),
        tint = palette::tint(Tone::Orange),
        sender = escape(intro.sender),
        message = escape(&intro.message),
    );
    if act == Act::Act1 {
        let (arithmetic, rows) = act1_arithmetic();
        let mut cells = String::new();
        for (label, value, tone) in rows {
            let _ = write!(
                cells,
                "<div><div style=\"font-size:0.8rem;color:{FG3};margin-bottom:3px\">{}</div>\
                 <div style=\"font-size:1.1rem;font-weight:700;color:{}\">{}</div></div>",
                escape(&label),
                palette::color(tone),
                escape(&value)
            );
        }
        let _ = write!(
            out,
            "<div style=\"background:{PANEL_BG};border:1px solid {BORDER};border-radius:12px;padding:14px 18px;margin:10px 0\">\
             <div style=\"font-size:0.75rem;font-weight:700;color:{FG2};text-transform:uppercase;letter-spacing:0.08em;margin-bottom:10px\">{}</div>\
             <div style=\"display:grid;grid-template-columns:1fr 1fr;gap:12px\">{cells}</div>\
             <div style=\"margin-top:10px;padding-top:8px;border-top:1px solid {BORDER};font-size:0.88rem;color:{FG2};line-height:1.6\">{}</div></div>",
            escape(arithmetic.title),
            escape(&arithmetic.moral)
        );
    }
    let _ = write!(
        out,
        "<div style=\"margin:12px 0 4px 0;font-size:0.92rem;color:{FG2};line-height:1.6\">\
         <div style=\"font-size:1rem;font-weight:700;color:{FG1};margin-bottom:4px\">Your prediction</div>{}</div>",
        html::markdown(&prediction_lead_in(act))
    );
    out
}

fn header_html(act: Act, intro: &ActIntro) -> String {
    format!(
        "<div style=\"margin:6px 0 8px 0\">\
         <div style=\"font-size:0.72rem;font-weight:700;letter-spacing:0.14em;text-transform:uppercase;color:{c}\">{act} · {minutes}</div>\
         <div style=\"font-size:1.45rem;font-weight:800;color:{FG1};line-height:1.2\">{title}</div>\
         <div style=\"font-size:0.92rem;color:{FG2};margin-top:4px;max-width:760px\">{situation}</div></div>",
        c = palette::color(Tone::Blue),
        act = act.title(),
        minutes = intro.minutes,
        title = escape(intro.title),
        situation = escape(&intro.situation),
    )
}

/// The briefing of `act` as plain text.
pub fn plain(act: Act) -> String {
    let intro = act_intro(act);
    let mut out = if act == Act::Act1 {
        format!("{}\n\n", crate::render::text::callout(&reading()))
    } else {
        String::new()
    };
    out += &format!(
        "{} · {} · {}\n{}\n\nIncoming message · {}:\n“{}”\n",
        act.title(),
        intro.minutes,
        intro.title,
        intro.situation,
        intro.sender,
        intro.message
    );
    if act == Act::Act1 {
        let (arithmetic, rows) = act1_arithmetic();
        let _ = writeln!(out, "\n{}", arithmetic.title);
        for (label, value, _) in rows {
            let _ = writeln!(out, "  {label}: {value}");
        }
        let _ = writeln!(out, "{}", arithmetic.moral);
    }
    let _ = writeln!(
        out,
        "\nYour prediction\n{}",
        prediction_lead_in(act).replace('*', "")
    );
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn act1_briefing_quotes_the_model_figures() {
        let text = plain(Act::Act1);
        for needle in [
            "12–15 minutes",
            "3,350 GB/s per GPU",
            "672 GB/s total",
            "5,120 MB/s per GPU",
            "640 GB/s needed",
            "400 GB/s",
            "Lustre aggregate bandwidth (24 OSTs × 28 GB/s)",
            "about 1% utilization",
            "Chapter 4, \"The Fuel Line\" — The 479× gap",
            "Chapter 4: Data Storage",
            "Before interacting with the I/O analyzer, commit to your diagnosis.",
            "~1.0% of its 672 GB/s peak",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        for section in Section::READING {
            assert!(text.contains(&section.why()), "{}", section.why());
        }
        let act2 = plain(Act::Act2);
        assert!(act2.contains(&prediction_lead_in(Act::Act2).replace('*', "")));
        assert!(!act2.contains("Recommended reading"));
        assert!(html(Act::Act2).contains("Infrastructure CTO"));
        assert!(!html(Act::Act1).contains("<script"));
    }
}
