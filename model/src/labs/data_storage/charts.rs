//! The words on each instrument's chart: titles, axes, series and markers,
//! built from the run so that no renderer names a figure or a unit itself.

use super::act1::{IoInputs, IoOutputs};
use super::act2::{DatasetLayout, MdsInputs, MdsOutputs};
use super::constants::HEALTHY_UTIL_PCT;
use super::content::layout_text;
use super::context::Context;
use crate::format::{fmt_thousands, plural, thousands};

/// The text of Act I's chart: GPU utilization against workers per GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act1ChartText {
    /// The title, naming the pattern and the storage.
    pub title: String,
    /// The x axis.
    pub x_axis: &'static str,
    /// The y axis.
    pub y_axis: &'static str,
    /// The curve's legend entry.
    pub curve: &'static str,
    /// The label of the Healthy threshold line.
    pub target: String,
    /// The label of the current run's point.
    pub current: String,
}

/// The words of Act I's chart for a run.
pub fn act1_chart(i: &IoInputs, o: &IoOutputs) -> Act1ChartText {
    let storage = match i.context {
        Context::Nvme => "local NVMe".to_string(),
        Context::DistributedFs => format!("{} OSTs", i.osts),
    };
    Act1ChartText {
        title: format!("GPU Utilization vs. Workers ({}, {storage})", i.pattern),
        x_axis: "Data loader workers per GPU",
        y_axis: "GPU utilization (%)",
        curve: "GPU utilization (%)",
        target: format!("Target: {HEALTHY_UTIL_PCT:.0}% GPU utilization"),
        current: format!(
            "Current: {} → {:.0}%",
            plural(i.workers, "worker"),
            o.gpu_util_pct
        ),
    }
}

/// The text of Act II's chart: bandwidth and metadata demand against GPU count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act2ChartText {
    /// The title, naming the layout.
    pub title: String,
    /// The x axis.
    pub x_axis: &'static str,
    /// The left y axis (bandwidth).
    pub bandwidth_axis: &'static str,
    /// The right y axis (metadata operations).
    pub metadata_axis: &'static str,
    /// The bandwidth-demand curve's legend entry.
    pub bandwidth_demand: &'static str,
    /// The supply line's legend entry, with its figure.
    pub bandwidth_supply: String,
    /// The metadata-demand curve's legend entry.
    pub metadata_demand: &'static str,
    /// The MDS capacity line's legend entry, with its figure.
    pub mds_capacity: String,
    /// The label of the current GPU count's marker.
    pub current: String,
}

/// The words of Act II's chart for a design.
pub fn act2_chart(i: &MdsInputs, o: &MdsOutputs) -> Act2ChartText {
    let supply = match i.context {
        Context::Nvme => "Local NVMe supply",
        Context::DistributedFs => "Storage BW supply",
    };
    let unused = if i.layout == DatasetLayout::ObjectStore {
        ", unused by an object store"
    } else {
        ""
    };
    Act2ChartText {
        title: format!(
            "Bandwidth and Metadata Demand vs. Cluster Scale ({} layout)",
            layout_text(i.layout).label.to_lowercase()
        ),
        x_axis: "GPU count",
        bandwidth_axis: "Bandwidth (GB/s)",
        metadata_axis: "Metadata ops (K ops/s)",
        bandwidth_demand: "Bandwidth demand (GB/s)",
        bandwidth_supply: format!("{supply}: {} GB/s", thousands(o.bw_supply_gbs)),
        metadata_demand: "Metadata demand (K ops/s)",
        mds_capacity: format!(
            "MDS capacity: {}K ops/s ({} MDS{unused})",
            thousands(f64::from(o.mds_capacity_per_s) / 1000.0),
            i.mds
        ),
        current: format!("{} GPUs", fmt_thousands(u64::from(i.gpus))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::data_storage::{act1, act2};

    #[test]
    fn chart_titles_name_the_storage_the_run_used() {
        let i = IoInputs::default();
        let t = act1_chart(&i, &act1::evaluate(&i));
        assert_eq!(t.title, "GPU Utilization vs. Workers (random, 24 OSTs)");
        assert_eq!(t.current, "Current: 1 worker → 1%");
        assert_eq!(t.target, "Target: 80% GPU utilization");
        let i = IoInputs {
            context: Context::Nvme,
            ..i
        };
        let t = act1_chart(&i, &act1::evaluate(&i));
        assert_eq!(t.title, "GPU Utilization vs. Workers (random, local NVMe)");
        let i = MdsInputs {
            layout: DatasetLayout::ObjectStore,
            ..MdsInputs::default()
        };
        let t = act2_chart(&i, &act2::evaluate(&i));
        assert_eq!(
            t.title,
            "Bandwidth and Metadata Demand vs. Cluster Scale (object store layout)"
        );
        assert_eq!(t.bandwidth_supply, "Storage BW supply: 1,344 GB/s");
        assert_eq!(
            t.mds_capacity,
            "MDS capacity: 50K ops/s (1 MDS, unused by an object store)"
        );
    }
}
