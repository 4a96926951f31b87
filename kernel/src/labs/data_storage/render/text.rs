//! Compact `text/plain` versions of the lab's instrument cards, for terminals and logs.

use crate::render::text::callout;
use mlsys_model::content::Callout;
use mlsys_model::format::{fmt_kilo, fmt_thousands};
use mlsys_model::labs::data_storage::act1::{IoInputs, IoOutputs};
use mlsys_model::labs::data_storage::act2::{MdsInputs, MdsOutputs};
use mlsys_model::labs::data_storage::RunInputs;

/// Act I's cards as aligned lines, then what limits the run.
pub fn act1(i: &IoInputs, o: &IoOutputs, binds: &Callout) -> String {
    format!(
        "Act I · I/O analyzer: {}\n\
         GPU utilization    {:.1}%  {}\n\
         Effective I/O BW   {:.1} GB/s total\n\
         I/O wait           {:.1} ms per batch\n\
         Prefetch queue     {} batch{} ahead\n\
         Storage util       {:.0}% of capacity\n\
         {}",
        super::settings(RunInputs::Act1(*i)),
        o.gpu_util_pct,
        o.status.label(),
        o.effective_bw_gbs,
        o.t_wait_ms,
        o.prefetch_depth,
        if o.prefetch_depth == 1 { "" } else { "es" },
        o.storage_util_pct,
        callout(binds),
    )
}

/// Act II's cards as aligned lines, what limits the design, the failure
/// state's title and the recommendation.
pub fn act2(
    i: &MdsInputs,
    o: &MdsOutputs,
    binds: &Callout,
    state: &Callout,
    recommendation: &str,
) -> String {
    format!(
        "Act II · storage designer: {}\n\
         Metadata demand    {}K ops/s of {}K capacity\n\
         MDS utilization    {:.0}%{}\n\
         MDS nodes needed   {} (have {})\n\
         Bandwidth          {:.1} of {:.0} GB/s, headroom {:.0}%\n\
         Connections        {}\n\
         {}\n\
         {}\n\
         Recommendation: {}",
        super::settings(RunInputs::Act2(*i)),
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
        callout(binds),
        state.title,
        recommendation,
    )
}
