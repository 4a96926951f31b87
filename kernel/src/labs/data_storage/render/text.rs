//! Compact `text/plain` versions of the lab's outputs, for terminals and logs.

use mlsys_model::format::{fmt_kilo, fmt_thousands};
use mlsys_model::labs::data_storage::act1::{IoInputs, IoOutputs};
use mlsys_model::labs::data_storage::act2::{MdsInputs, MdsOutputs};
use mlsys_model::labs::data_storage::content::{Callout, Question};
use mlsys_model::Choice;
use std::fmt::Write;

/// Act I's cards as aligned lines.
pub fn act1(i: &IoInputs, o: &IoOutputs) -> String {
    format!(
        "Act I · I/O analyzer: {}\n\
         GPU utilization    {:.1}%  {}\n\
         Effective I/O BW   {:.1} GB/s total\n\
         I/O wait           {:.1} ms per batch\n\
         Prefetch queue     {} batch{} ahead\n\
         Storage util       {:.0}% of capacity",
        super::act1_settings(i),
        o.gpu_util_pct,
        o.status.label(),
        o.effective_bw_gbs,
        o.t_wait_ms,
        o.prefetch_depth,
        if o.prefetch_depth == 1 { "" } else { "es" },
        o.storage_util_pct,
    )
}

/// Act II's cards as aligned lines, with the callout's title and the recommendation.
pub fn act2(i: &MdsInputs, o: &MdsOutputs, callout: &Callout) -> String {
    format!(
        "Act II · storage designer: {}\n\
         Metadata demand    {}K ops/s of {}K capacity\n\
         MDS utilization    {:.0}%{}\n\
         MDS nodes needed   {} (have {})\n\
         Bandwidth          {:.1} of {:.0} GB/s, headroom {:.0}%\n\
         Connections        {}\n\
         {}\n\
         Recommendation: {}",
        super::act2_settings(i),
        fmt_kilo(o.ops_demand_per_s / 1000.0),
        fmt_thousands(u64::from(o.mds_capacity_per_s / 1000)),
        o.mds_util_pct,
        if o.mds_saturated { "  SATURATED" } else { "" },
        o.needed_mds,
        i.mds,
        o.bw_demand_gbs,
        o.bw_supply_gbs,
        o.bw_headroom_pct,
        fmt_thousands(u64::from(i.total_workers())),
        callout.title,
        o.recommendation,
    )
}

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
