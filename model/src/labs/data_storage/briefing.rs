//! What a student reads before an act's question: the chapter sections the lab
//! draws on, the arithmetic before Act I's analyzer and both prediction lead-ins.
//! Every number is computed from the constants and the act models.

use super::act2::DatasetLayout;
use super::constants::*;
use super::figures::{act1_figures, act2_figures};
use crate::choice::Act;
use crate::format::fmt_thousands;

/// The chapter the lab belongs to.
pub const CHAPTER: &str = "Chapter 4: Data Storage";

/// A section of the textbook the lab draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// "The Fuel Line" (`@sec-data-storage-fuel-line`).
    FuelLine,
    /// "How ML Workloads Invert Storage Assumptions" (`@sec-data-storage-workload-inversion`).
    WorkloadInversion,
    /// "Data Pipeline Architecture" (`@sec-data-storage`), the source of the lab's formulas.
    PipelineArchitecture,
    /// The network-fabrics chapter (`@sec-network-fabrics`), the source of the IB figures.
    NetworkFabrics,
}

impl Section {
    /// The sections of the seed's recommended reading, in its order.
    pub const READING: [Section; 3] = [
        Section::FuelLine,
        Section::WorkloadInversion,
        Section::PipelineArchitecture,
    ];

    /// The section's title.
    pub fn title(self) -> &'static str {
        match self {
            Section::FuelLine => "The Fuel Line",
            Section::WorkloadInversion => "How ML Workloads Invert Storage Assumptions",
            Section::PipelineArchitecture => "Data Pipeline Architecture",
            Section::NetworkFabrics => "Network Fabrics",
        }
    }

    /// The book's cross-reference label, without the `@`.
    pub fn anchor(self) -> &'static str {
        match self {
            Section::FuelLine => "sec-data-storage-fuel-line",
            Section::WorkloadInversion => "sec-data-storage-workload-inversion",
            Section::PipelineArchitecture => "sec-data-storage",
            Section::NetworkFabrics => "sec-network-fabrics",
        }
    }

    /// The reference as students read it: `Chapter 4, "The Fuel Line"`.
    pub fn reference(self) -> String {
        match self {
            Section::NetworkFabrics => format!("the chapter \"{}\"", self.title()),
            _ => format!("Chapter 4, \"{}\"", self.title()),
        }
    }

    /// Why to read it before the lab, in the seed's words (Markdown).
    pub fn why(self) -> String {
        match self {
            Section::FuelLine => format!(
                "The {gap:.0}× gap between H100 HBM bandwidth ({hbm} TB/s) and a single NVMe \
                 drive ({nvme:.0} GB/s), and why this gap cannot be closed by any single \
                 technology. The hierarchical storage model is the only response.",
                gap = act1_figures().hbm_to_nvme_gap,
                hbm = H100_HBM_BW_GBS / 1000.0,
                nvme = NVME_SEQ_BW_GBS,
            ),
            Section::WorkloadInversion => "Why ML training reads every byte sequentially exactly \
                 once per epoch, why there is no hot-data subset, and how this inverts every \
                 assumption from database storage design."
                .to_string(),
            Section::PipelineArchitecture => "Prefetching, pipelining, and the GPU Direct Storage \
                 pathway that eliminates the CPU from the data path entirely."
                .to_string(),
            Section::NetworkFabrics => {
                format!("InfiniBand HDR-200: 200 Gbps = {IB_HDR200_BW_GBS:.0} GB/s per port.")
            }
        }
    }
}

/// Which side of the arithmetic a figure is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// What the hardware can deliver.
    Supply,
    /// What the GPUs read.
    Demand,
}

/// One figure of the arithmetic before Act I's analyzer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    /// What it is, with its arithmetic.
    pub label: String,
    /// The figure with its unit.
    pub value: String,
    /// Supply or demand.
    pub side: Side,
}

/// The arithmetic shown before Act I's prediction: figures and what they say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arithmetic {
    /// The panel's heading.
    pub title: &'static str,
    /// The figures, two per row.
    pub figures: Vec<Figure>,
    /// What the figures say, without giving the answer away.
    pub moral: String,
}

/// Act I's arithmetic: HBM, Lustre and fabric bandwidth against the GPUs' demand.
pub fn act1_arithmetic() -> Arithmetic {
    let f = act1_figures();
    let figure = |label: String, value: String, side| Figure { label, value, side };
    Arithmetic {
        title: "The Arithmetic Before You Touch the Simulator",
        figures: vec![
            figure(
                "H100 HBM bandwidth (NVIDIA spec)".to_string(),
                format!("{} GB/s per GPU", fmt_thousands(f.hbm_bw_gbs as u64)),
                Side::Supply,
            ),
            figure(
                format!(
                    "Lustre aggregate bandwidth ({} OSTs × {LUSTRE_OST_BW_GBS:.0} GB/s)",
                    f.osts
                ),
                format!("{:.0} GB/s total", f.lustre_bw_gbs),
                Side::Supply,
            ),
            figure(
                format!(
                    "IB fabric to the GPU nodes ({IB_FABRIC_PORTS:.0} ports × \
                     {IB_HDR200_BW_GBS:.0} GB/s)"
                ),
                format!("{:.0} GB/s total", f.modelled_fabric_gbs),
                Side::Supply,
            ),
            figure(
                format!(
                    "Actual data ingestion needed per GPU ({} × {SAMPLE_SIZE_MB:.0} MB batch / \
                     {COMPUTE_TIME_MS:.0} ms step)",
                    f.batch
                ),
                format!(
                    "{} MB/s per GPU",
                    fmt_thousands(f.demand_per_gpu_mbs.round() as u64)
                ),
                Side::Demand,
            ),
            figure(
                format!(
                    "Total I/O demand for {gpus} GPUs ({gpus} × {} MB/s, 1 GB = 1,024 MB)",
                    fmt_thousands(f.demand_per_gpu_mbs.round() as u64),
                    gpus = f.gpus
                ),
                format!("{:.0} GB/s needed", f.total_demand_gbs),
                Side::Demand,
            ),
            figure(
                "That demand against Lustre and against the fabric".to_string(),
                format!(
                    "{:.0}% · {:.0}%",
                    f.storage_load_pct,
                    f.total_demand_gbs / f.modelled_fabric_gbs * 100.0
                ),
                Side::Demand,
            ),
        ],
        moral: format!(
            "On paper the hardware is in the right range: {gpus} GPUs reading a batch of \
             {batch_mb:.0} MB every {compute:.0} ms would need {demand:.0} GB/s, {load:.0}% of \
             the {lustre:.0} GB/s Lustre cluster. Yet the infrastructure team sees Lustre nowhere \
             near saturated, and the GPUs are busy ~{util:.0}% of the time. Something between \
             the disks and the GPUs loses almost all of the bandwidth.",
            gpus = f.gpus,
            batch_mb = f.batch_mb,
            compute = COMPUTE_TIME_MS,
            demand = f.total_demand_gbs,
            load = f.storage_load_pct,
            lustre = f.lustre_bw_gbs,
            util = f.default_util_pct,
        ),
    }
}

/// The lines before an act's prediction question (Markdown), as the seed
/// words them, with the model's figures.
pub fn prediction_lead_in(act: Act) -> String {
    match act {
        Act::Act1 => {
            let f = act1_figures();
            format!(
                "*Before interacting with the I/O analyzer, commit to your diagnosis.*\n\n\
                 The storage cluster delivers ~{storage:.1}% of its {lustre:.0} GB/s peak. The \
                 GPUs are busy ~{util:.1}% of the time. The gap is real.",
                storage = f.default.storage_util_pct,
                lustre = f.lustre_bw_gbs,
                util = f.default_util_pct,
            )
        }
        Act::Act2 => "*Commit to your hypothesis before using the storage architecture \
             designer.*\n\nThe bandwidth math is correct. The safety margin exists. Something \
             else will fail first."
            .to_string(),
    }
}

/// Whether the Act II lead-in's claims hold for its scenario: bandwidth within
/// supply, something else (the MDS) saturated.
pub fn act2_lead_in_holds() -> bool {
    let f = act2_figures();
    !f.outputs.bw_saturated
        && f.outputs.mds_saturated
        && f.inputs.layout == DatasetLayout::Individual
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reading_names_chapter_sections_and_the_computed_gap() {
        let refs: Vec<String> = Section::READING.iter().map(|s| s.reference()).collect();
        assert_eq!(refs[0], "Chapter 4, \"The Fuel Line\"");
        assert!(Section::FuelLine.why().starts_with("The 479× gap"));
        assert!(Section::FuelLine.why().contains("(3.35 TB/s)"));
        assert_eq!(Section::PipelineArchitecture.anchor(), "sec-data-storage");
    }

    #[test]
    fn the_arithmetic_quotes_the_model_demand() {
        let a = act1_arithmetic();
        let values: Vec<&str> = a.figures.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(
            values,
            [
                "3,350 GB/s per GPU",
                "672 GB/s total",
                "400 GB/s total",
                "5,120 MB/s per GPU",
                "640 GB/s needed",
                "95% · 160%"
            ]
        );
        assert!(
            a.moral.contains("need 640 GB/s, 95% of the 672 GB/s"),
            "{}",
            a.moral
        );
        assert!(prediction_lead_in(Act::Act1).contains("~1.0% of its 672 GB/s peak"));
        assert!(act2_lead_in_holds());
    }
}
