//! Self-contained HTML (inline styles, no scripts) for every lab's outputs:
//! metric cards, formula panels, callouts, questions and tables. Colours come
//! from JupyterLab's theme variables with light fallbacks, so they read in both
//! themes. The one HTML [`escape`] of the kernel.

use super::palette::{self, Tone};
use mlsys_model::content::{Callout, CalloutKind, Question};
use mlsys_model::Choice;
use std::fmt::Write;

/// Main text colour.
pub const FG1: &str = "var(--jp-content-font-color1, #1e293b)";
/// Secondary text colour.
pub const FG2: &str = "var(--jp-content-font-color2, #475569)";
/// Muted text colour.
pub const FG3: &str = "var(--jp-content-font-color3, #64748b)";
const CARD_BG: &str = "var(--jp-layout-color1, #ffffff)";
/// Background of panels.
pub const PANEL_BG: &str = "var(--jp-layout-color2, #f8fafc)";
/// Colour of light borders.
pub const BORDER: &str = "var(--jp-border-color2, #e2e8f0)";
const FONT: &str = "var(--jp-ui-font-family, system-ui, -apple-system, 'Segoe UI', sans-serif)";
const MONO: &str = "var(--jp-code-font-family, 'SF Mono', Menlo, Consolas, monospace)";

/// Escapes text for HTML element content and attribute values (`& < > " '`).
pub fn escape(text: &str) -> String {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Converts the lab's Markdown subset (paragraphs, `- ` bullet lists, `**bold**`,
/// `*italic*`, `` `code` ``) to HTML.
pub fn markdown(text: &str) -> String {
    let mut out = String::new();
    for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        let mut lines = block.lines().map(str::trim).peekable();
        while let Some(line) = lines.next() {
            if let Some(item) = line.strip_prefix("- ") {
                out.push_str("<ul style=\"margin:0 0 8px 0;padding-left:1.4em\">");
                let _ = write!(out, "<li>{}</li>", inline(item));
                while let Some(item) = lines.next_if(|l| l.starts_with("- ")) {
                    let _ = write!(out, "<li>{}</li>", inline(&item[2..]));
                }
                out.push_str("</ul>");
            } else {
                let mut paragraph = line.to_string();
                while let Some(more) = lines.next_if(|l| !l.starts_with("- ")) {
                    paragraph.push('\n');
                    paragraph.push_str(more);
                }
                let _ = write!(
                    out,
                    "<p style=\"margin:0 0 8px 0\">{}</p>",
                    inline(&paragraph)
                );
            }
        }
    }
    out
}

fn inline(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::with_capacity(escaped.len() + 32);
    let mut rest = escaped.as_str();
    while !rest.is_empty() {
        let (marker, open, close) = if rest.starts_with("**") {
            ("**", "<strong>", "</strong>")
        } else if rest.starts_with('`') {
            ("`", "<code>", "</code>")
        } else if rest.starts_with('*') {
            ("*", "<em>", "</em>")
        } else {
            let next = rest.find(['*', '`']).unwrap_or(rest.len());
            out.push_str(&rest[..next]);
            rest = &rest[next..];
            continue;
        };
        let body = &rest[marker.len()..];
        match body.find(marker) {
            Some(end) if end > 0 => {
                out.push_str(open);
                out.push_str(&body[..end]);
                out.push_str(close);
                rest = &body[end + marker.len()..];
            }
            _ => {
                out.push_str(marker);
                rest = body;
            }
        }
    }
    out
}

/// One metric card.
pub struct Card<'a> {
    /// The metric's name.
    pub label: &'a str,
    /// The big figure.
    pub value: String,
    /// The line under it.
    pub caption: String,
    /// The figure's colour.
    pub tone: Tone,
    /// Whether the caption takes the figure's colour (a status label).
    pub caption_toned: bool,
}

/// A heading line above an instrument's output.
pub fn heading(kicker: &str, title: &str, detail: &str) -> String {
    format!(
        "<div style=\"margin:4px 0 10px 0\">\
         <div style=\"font-size:0.72rem;font-weight:700;letter-spacing:0.12em;text-transform:uppercase;color:{blue}\">{kicker}</div>\
         <div style=\"font-size:1.15rem;font-weight:800;color:{FG1};margin-top:2px\">{title}</div>\
         <div style=\"font-size:0.85rem;color:{FG2};margin-top:2px\">{detail}</div></div>",
        blue = palette::color(Tone::Blue),
        kicker = escape(kicker),
        title = escape(title),
        detail = escape(detail),
    )
}

/// A row of metric cards.
pub fn cards(cards: &[Card]) -> String {
    let mut out =
        String::from("<div style=\"display:flex;gap:12px;flex-wrap:wrap;margin:10px 0\">");
    for card in cards {
        let color = palette::color(card.tone);
        let caption_color = if card.caption_toned { color } else { FG3 };
        let _ = write!(
            out,
            "<div style=\"flex:1 1 128px;min-width:128px;max-width:210px;padding:14px 12px;border:1px solid {BORDER};\
             border-top:4px solid {color};border-radius:12px;text-align:center;background:{CARD_BG}\">\
             <div style=\"color:{FG3};font-size:0.8rem;font-weight:600;margin-bottom:6px\">{label}</div>\
             <div style=\"font-size:1.9rem;font-weight:800;color:{color};line-height:1.05\">{value}</div>\
             <div style=\"color:{caption_color};font-size:0.76rem;font-weight:{weight};margin-top:5px\">{caption}</div></div>",
            label = escape(card.label),
            value = escape(&card.value),
            caption = escape(&card.caption),
            weight = if card.caption_toned { 700 } else { 400 },
        );
    }
    out.push_str("</div>");
    out
}

/// The formula panel under `title`: the model's equations with the run's numbers.
pub fn formula_panel(title: &str, text: &str) -> String {
    format!(
        "<div style=\"background:{PANEL_BG};border:1px solid {BORDER};border-radius:12px;padding:12px 16px;margin:10px 0\">\
         <div style=\"font-size:0.75rem;font-weight:700;color:{FG2};text-transform:uppercase;letter-spacing:0.08em;margin-bottom:6px\">{}</div>\
         <pre style=\"margin:0;font-family:{MONO};font-size:0.8rem;line-height:1.5;color:{FG1};white-space:pre;overflow-x:auto;background:transparent\">{}</pre></div>",
        escape(title),
        escape(text)
    )
}

/// A titled panel whose text takes a tone (the architecture recommendation).
pub fn recommendation(title: &str, text: &str, tone: Tone) -> String {
    format!(
        "<div style=\"background:{PANEL_BG};border:1.5px solid {c};border-radius:12px;padding:12px 16px;margin:10px 0\">\
         <div style=\"font-size:0.75rem;font-weight:700;color:{FG2};text-transform:uppercase;letter-spacing:0.08em;margin-bottom:6px\">{title}</div>\
         <div style=\"font-size:0.95rem;font-weight:600;color:{c};line-height:1.5\">{text}</div></div>",
        c = palette::color(tone),
        title = escape(title),
        text = escape(text),
    )
}

/// The tone of a callout kind.
fn callout_tone(kind: CalloutKind) -> Tone {
    match kind {
        CalloutKind::Info => Tone::Blue,
        CalloutKind::Success => Tone::Green,
        CalloutKind::Warn => Tone::Orange,
        CalloutKind::Danger => Tone::Red,
    }
}

/// A callout: coloured left border, tinted background, bold title, Markdown body.
pub fn callout(c: &Callout) -> String {
    let tone = callout_tone(c.kind);
    format!(
        "<div style=\"border-left:4px solid {color};background:{tint};border-radius:0 10px 10px 0;padding:12px 18px;margin:10px 0;\
         color:{FG1};font-family:{FONT};font-size:0.92rem;line-height:1.6\">\
         <div style=\"font-weight:700;margin-bottom:6px\">{title}</div>{body}</div>",
        color = palette::color(tone),
        tint = palette::tint(tone),
        title = inline(&c.title),
        body = markdown(&c.body),
    )
}

/// A multiple-choice question with its options; `marked` is highlighted with `mark_label`.
pub fn question(kicker: &str, q: &Question, marked: Option<Choice>, hint: &str) -> String {
    let mut options = String::new();
    for choice in Choice::ALL {
        let is_marked = marked == Some(choice);
        let (border, weight) = if is_marked {
            (palette::color(Tone::Indigo), 700)
        } else {
            (BORDER, 400)
        };
        let _ = write!(
            options,
            "<div style=\"border:1px solid {border};border-radius:8px;padding:7px 12px;margin:5px 0;font-weight:{weight};color:{FG1}\">\
             <span style=\"font-weight:800;color:{indigo};margin-right:8px\">{choice}</span>{text}{tag}</div>",
            indigo = palette::color(Tone::Indigo),
            text = escape(q.option(choice)),
            tag = if is_marked {
                " <span style=\"font-size:0.75rem;color:var(--jp-content-font-color3, #64748b)\">(your answer, locked)</span>"
            } else {
                ""
            },
        );
    }
    format!(
        "<div style=\"font-family:{FONT};margin:8px 0;max-width:860px\">{prompt}{options}\
         <div style=\"font-size:0.82rem;color:{FG2};margin-top:6px\">{hint}</div></div>",
        prompt = prompt(kicker, &q.prompt),
        hint = inline(hint),
    )
}

/// A question's kicker and prompt, above its options.
pub fn prompt(kicker: &str, prompt: &str) -> String {
    format!(
        "<div style=\"font-size:0.72rem;font-weight:700;letter-spacing:0.12em;text-transform:uppercase;color:{indigo}\">{kicker}</div>\
         <div style=\"font-size:1rem;font-weight:700;color:{FG1};margin:4px 0 6px 0\">{prompt}</div>",
        indigo = palette::color(Tone::Indigo),
        kicker = escape(kicker),
        prompt = escape(prompt),
    )
}

/// A bordered block wrapping an instrument's whole output.
pub fn frame(inner: &str) -> String {
    format!("<div style=\"font-family:{FONT};color:{FG1};max-width:1000px\">{inner}</div>")
}

/// A two-column table of labels and values (the status summary).
pub fn table(title: &str, rows: &[(String, String, Tone)]) -> String {
    let mut body = String::new();
    for (label, value, tone) in rows {
        let _ = write!(
            body,
            "<tr><td style=\"padding:4px 14px 4px 0;color:{FG2};text-align:left\">{}</td>\
             <td style=\"padding:4px 0;color:{};font-weight:600;text-align:left\">{}</td></tr>",
            escape(label),
            palette::color(*tone),
            escape(value)
        );
    }
    format!(
        "<div style=\"font-family:{FONT};border:1px solid {BORDER};border-radius:12px;padding:12px 18px;margin:8px 0;background:{PANEL_BG};max-width:760px\">\
         <div style=\"font-size:0.75rem;font-weight:700;color:{FG2};text-transform:uppercase;letter-spacing:0.08em;margin-bottom:6px\">{}</div>\
         <table style=\"border-collapse:collapse;font-size:0.88rem\">{body}</table></div>",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_converts_the_markdown_subset() {
        assert_eq!(escape("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
        assert_eq!(
            inline("**Correct.** use `--batch` and *not* <b>"),
            "<strong>Correct.</strong> use <code>--batch</code> and <em>not</em> &lt;b&gt;"
        );
        assert_eq!(inline("2 * 3 = 6"), "2 * 3 = 6");
        assert_eq!(markdown("a\n\nb").matches("<p").count(), 2);
        assert_eq!(
            markdown("Still missing:\n- one\n- **two**\nafter"),
            "<p style=\"margin:0 0 8px 0\">Still missing:</p>\
             <ul style=\"margin:0 0 8px 0;padding-left:1.4em\"><li>one</li><li><strong>two</strong></li></ul>\
             <p style=\"margin:0 0 8px 0\">after</p>"
        );
    }

    #[test]
    fn callouts_and_questions_have_no_scripts() {
        let c = Callout::new(CalloutKind::Danger, "Title <x>", "Body **bold**");
        let html = callout(&c);
        assert!(html.contains("Title &lt;x&gt;"));
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains(palette::color(Tone::Red)));
        assert!(!html.to_lowercase().contains("<script"));
    }
}
