//! An act's briefing, shown above its prediction question: the act's title and
//! time, the situation, the stakeholder's message and (Act I) the arithmetic.

use crate::render::html::{escape, BORDER, FG1, FG2, FG3, PANEL_BG};
use crate::render::palette::{self, Tone};
use mlsys_model::format::fmt_thousands;
use mlsys_model::labs::data_storage::constants::LUSTRE_OST_BW_GBS;
use mlsys_model::labs::data_storage::content::{act_intro, ActIntro};
use mlsys_model::labs::data_storage::figures::act1_figures;
use mlsys_model::Act;
use std::fmt::Write;

/// The figures quoted before Act I's question, as (label, value, tone), and the moral.
fn act1_arithmetic() -> (Vec<(String, String, Tone)>, String) {
    let f = act1_figures();
    let rows = vec![
        (
            "H100 HBM bandwidth (NVIDIA spec)".to_string(),
            format!("{} GB/s per GPU", fmt_thousands(f.hbm_bw_gbs as u64)),
            Tone::Blue,
        ),
        (
            format!(
                "Lustre aggregate bandwidth ({} OSTs × {LUSTRE_OST_BW_GBS:.0} GB/s)",
                f.osts
            ),
            format!("{:.0} GB/s total", f.lustre_bw_gbs),
            Tone::Blue,
        ),
        (
            "Data each GPU actually consumes".to_string(),
            format!("~{:.0} MB/s per GPU", f.demand_per_gpu_mbs),
            Tone::Green,
        ),
        (
            format!(
                "Total demand of {} GPUs ({} × {:.0} MB/s)",
                f.gpus, f.gpus, f.demand_per_gpu_mbs
            ),
            format!("~{:.2} GB/s needed", f.total_demand_gbs),
            Tone::Green,
        ),
    ];
    let moral = format!(
        "The gap is striking: {:.0} GB/s of Lustre capacity against ~{:.2} GB/s of demand, so \
         the cluster runs at ~{:.1}% of its capacity. The Lustre hardware is not the problem; \
         something else eats the time between batches.",
        f.lustre_bw_gbs, f.total_demand_gbs, f.storage_load_pct
    );
    (rows, moral)
}

/// The briefing of `act` as HTML.
pub fn html(act: Act) -> String {
    let intro = act_intro(act);
    let mut out = header_html(act, &intro);
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
        let (rows, moral) = act1_arithmetic();
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
             <div style=\"font-size:0.75rem;font-weight:700;color:{FG2};text-transform:uppercase;letter-spacing:0.08em;margin-bottom:10px\">The arithmetic before you touch the analyzer</div>\
             <div style=\"display:grid;grid-template-columns:1fr 1fr;gap:12px\">{cells}</div>\
             <div style=\"margin-top:10px;padding-top:8px;border-top:1px solid {BORDER};font-size:0.88rem;color:{FG2};line-height:1.6\">{}</div></div>",
            escape(&moral)
        );
    }
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
    let mut out = format!(
        "{} · {} · {}\n{}\n\nIncoming message · {}:\n“{}”\n",
        act.title(),
        intro.minutes,
        intro.title,
        intro.situation,
        intro.sender,
        intro.message
    );
    if act == Act::Act1 {
        let (rows, moral) = act1_arithmetic();
        out.push('\n');
        for (label, value, _) in rows {
            let _ = writeln!(out, "  {label}: {value}");
        }
        let _ = writeln!(out, "{moral}");
    }
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
            "~80 MB/s per GPU",
            "~10.24 GB/s needed",
            "~1.5% of its capacity",
            "Lustre aggregate bandwidth (24 OSTs × 28 GB/s)",
            "about 1% utilization",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        assert!(html(Act::Act2).contains("Infrastructure CTO"));
        assert!(!html(Act::Act1).contains("<script"));
    }
}
