//! What limits a run, derived from the act models' own figures.
//!
//! Act I ([`IoLimits`]): which factor of the seed's product
//! `storage × pattern × workers × fabric` costs the most effective bandwidth,
//! what each costs, how the GPUs' demand compares with what storage delivers,
//! and whether the model's prefetch queue hides the reading. Act II
//! ([`MdsLimits`]): whether metadata or bandwidth binds, how far the MDS slider
//! reaches, and which of the two fails first as the GPU count grows.
//!
//! Nothing here changes a figure of the seed's formulas; it only reads them.
//! Reports carry these as an added `limits` field (see [`super::report`]).

use super::act1::{self, py_min, IoInputs, IoOutputs, ReadPattern};
use super::act2::{DatasetLayout, MdsInputs, MdsOutputs};
use super::constants::*;
use super::context::Context;
use serde::{Deserialize, Serialize};

/// One factor of Act I's effective bandwidth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IoFactor {
    /// The storage's peak bandwidth: OSTs × 28 GB/s (when below what the fabric
    /// carries), or one node's 28 GB/s of NVMe.
    Storage,
    /// The read pattern's efficiency.
    Pattern,
    /// The data-loader worker scaling.
    Workers,
    /// The IB fabric, when it carries less than the storage serves (the seed's `network_overhead`).
    Fabric,
}

impl IoFactor {
    /// The factors in the order of the seed's formula.
    pub const ALL: [IoFactor; 4] = [
        IoFactor::Storage,
        IoFactor::Pattern,
        IoFactor::Workers,
        IoFactor::Fabric,
    ];

    /// A short name for students ("the read pattern").
    pub fn label(self) -> &'static str {
        match self {
            IoFactor::Storage => "the storage",
            IoFactor::Pattern => "the read pattern",
            IoFactor::Workers => "the worker count",
            IoFactor::Fabric => "the IB fabric",
        }
    }
}

/// What one factor lets through and what it costs a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FactorCost {
    /// The factor.
    pub factor: IoFactor,
    /// The share of bandwidth it lets through, in (0, 1].
    pub multiplier: f64,
    /// What it costs the run: the effective bandwidth it would add if it alone were 1, GB/s.
    pub cost_gbs: f64,
}

/// What limits an Act I run, with the figures a renderer shows.
///
/// The seed's effective bandwidth is `storage × pattern × workers × network`,
/// where `network = min(1, fabric / storage)`. Written as
/// `max(storage, fabric) × (storage share) × pattern × workers × (fabric share)`,
/// exactly one of the two hardware shares is below 1: the storage's
/// (`storage / fabric`, when the OSTs serve less than the fabric carries) or
/// the fabric's (`fabric / storage`, the seed's `network_overhead`). On local
/// NVMe there is no fabric and both are 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoLimits {
    /// Peak storage bandwidth: OSTs × 28 GB/s, or one node's 28 GB/s of NVMe.
    pub storage_gbs: f64,
    /// What the IB fabric carries from storage to the GPU nodes, GB/s; `None` on local NVMe.
    pub fabric_gbs: Option<f64>,
    /// The most the hardware passes on: storage × network factor (min(storage, fabric)), GB/s.
    pub hardware_gbs: f64,
    /// Storage, pattern, workers, fabric: each factor's multiplier of the
    /// effective bandwidth and what it costs.
    pub factors: [FactorCost; 4],
    /// What limits the bandwidth reaching the GPUs most: the smallest of the
    /// pattern and worker factors and the hardware's share of the demand
    /// (`hardware / demand`, reported as [`IoFactor::Fabric`] when the fabric
    /// caps the hardware, else [`IoFactor::Storage`]).
    pub binding: IoFactor,
    /// That smallest share, in (0, 1].
    pub binding_share: f64,
    /// Storage delivers all the GPUs read: nothing on the I/O side limits them.
    pub compute_bound: bool,
    /// The model's effective bandwidth, GB/s.
    pub effective_gbs: f64,
    /// What one GPU reads if it never waits: one batch per 50 ms compute step, GB/s.
    pub demand_per_gpu_gbs: f64,
    /// What all the GPUs read if they never wait, GB/s.
    pub demand_total_gbs: f64,
    /// Each GPU's share of the effective bandwidth, GB/s.
    pub supply_per_gpu_gbs: f64,
    /// Supply over demand, % (not capped).
    pub supply_pct_of_demand: f64,
    /// The utilization storage can sustain in steady state: min(100, supply over demand), %.
    pub sustainable_util_pct: f64,
    /// The hardware's bandwidth over the GPUs' demand, % (not capped).
    pub hardware_pct_of_demand: f64,
    /// Time to read one batch, ms (the model's `t_io`).
    pub t_io_ms: f64,
    /// Batches of compute the model overlaps with reading (min(depth, 4) for prefetch, else 1).
    pub overlapped_batches: u32,
    /// Compute time that hides reading, ms (50 × overlapped batches).
    pub hidden_ms: f64,
    /// The GPU waits for data (`t_wait > 0`).
    pub gpu_waits: bool,
    /// The model's utilization is above what storage sustains: the prefetch queue
    /// hides more reading than storage delivers (see the MathPeek's simplifications).
    pub exceeds_sustainable: bool,
    /// More OSTs raise effective bandwidth (the storage is below the fabric).
    pub more_osts_help: bool,
}

/// The fabric the Act I model puts between storage and GPUs, GB/s.
pub fn fabric_gbs() -> f64 {
    IB_HDR200_BW_GBS * IB_FABRIC_PORTS
}

/// What one GPU reads per second when it never waits: a batch per compute step, GB/s.
pub fn demand_per_gpu_gbs(batch: u32) -> f64 {
    (f64::from(batch) * SAMPLE_SIZE_MB) / 1024.0 * 1000.0 / COMPUTE_TIME_MS
}

/// Batches of compute the model overlaps with one batch's reading.
pub fn overlapped_batches(inputs: &IoInputs, prefetch_depth: u32) -> u32 {
    match inputs.pattern {
        ReadPattern::Prefetch => prefetch_depth.min(MAX_OVERLAPPED_BATCHES),
        ReadPattern::Sequential | ReadPattern::Random => 1,
    }
}

/// Explains an Act I run from its inputs and the model's outputs.
pub fn io_limits(inputs: &IoInputs, o: &IoOutputs) -> IoLimits {
    let storage_gbs = act1::base_storage_bw_gbs(inputs.context, inputs.osts);
    let fabric = match inputs.context {
        Context::Nvme => None,
        Context::DistributedFs => Some(fabric_gbs()),
    };
    let storage_share = fabric.map_or(1.0, |f| py_min(1.0, storage_gbs / f));
    let effective_gbs = o.effective_bw_gbs;
    let cost = |factor, multiplier: f64| FactorCost {
        factor,
        multiplier,
        cost_gbs: effective_gbs / multiplier - effective_gbs,
    };
    let factors = [
        cost(IoFactor::Storage, storage_share),
        cost(IoFactor::Pattern, o.pattern_factor),
        cost(IoFactor::Workers, o.worker_factor),
        cost(IoFactor::Fabric, o.network_overhead),
    ];
    let demand = demand_per_gpu_gbs(inputs.batch);
    let supply_pct_of_demand = o.per_gpu_bw_gbs / demand * 100.0;
    let sustainable_util_pct = supply_pct_of_demand.min(100.0);
    let overlapped = overlapped_batches(inputs, o.prefetch_depth);
    let hardware_gbs = storage_gbs * o.network_overhead;
    let demand_total_gbs = demand * f64::from(ACT1_GPU_COUNT);
    let hardware = if o.network_overhead < 1.0 {
        IoFactor::Fabric
    } else {
        IoFactor::Storage
    };
    // Supply over demand = (hardware / demand) × pattern × workers: the smallest binds.
    let (binding, binding_share) = [
        (IoFactor::Pattern, o.pattern_factor),
        (IoFactor::Workers, o.worker_factor),
        (hardware, hardware_gbs / demand_total_gbs),
    ]
    .into_iter()
    .fold((IoFactor::Pattern, f64::INFINITY), |min, f| {
        if f.1 < min.1 {
            f
        } else {
            min
        }
    });
    IoLimits {
        storage_gbs,
        fabric_gbs: fabric,
        hardware_gbs,
        factors,
        binding,
        binding_share: binding_share.min(1.0),
        compute_bound: supply_pct_of_demand >= 100.0,
        effective_gbs,
        demand_per_gpu_gbs: demand,
        demand_total_gbs,
        supply_per_gpu_gbs: o.per_gpu_bw_gbs,
        supply_pct_of_demand,
        sustainable_util_pct,
        hardware_pct_of_demand: hardware_gbs / demand_total_gbs * 100.0,
        t_io_ms: o.t_io_ms,
        overlapped_batches: overlapped,
        hidden_ms: COMPUTE_TIME_MS * f64::from(overlapped),
        gpu_waits: o.t_wait_ms > 0.0,
        exceeds_sustainable: o.gpu_util_pct > sustainable_util_pct + 1e-9,
        more_osts_help: fabric.is_some_and(|f| storage_gbs < f),
    }
}

impl IoLimits {
    /// The cost of `factor`.
    pub fn factor(&self, factor: IoFactor) -> FactorCost {
        self.factors[factor as usize]
    }
}

/// What binds an Act II design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MdsBinding {
    /// Metadata demand exceeds the MDS capacity; bandwidth suffices.
    Metadata,
    /// Bandwidth demand exceeds the supply; the MDS copes.
    Bandwidth,
    /// Both are exceeded.
    Both,
    /// Neither is exceeded.
    Neither,
}

impl MdsBinding {
    /// Classifies from the two saturation flags.
    pub fn of(metadata: bool, bandwidth: bool) -> Self {
        match (metadata, bandwidth) {
            (true, true) => MdsBinding::Both,
            (true, false) => MdsBinding::Metadata,
            (false, true) => MdsBinding::Bandwidth,
            (false, false) => MdsBinding::Neither,
        }
    }
}

/// What limits an Act II design, with the figures a renderer shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdsLimits {
    /// What binds at this GPU count.
    pub binding: MdsBinding,
    /// Whether the layout sends file accesses to a metadata server at all (not an object store).
    pub uses_mds: bool,
    /// Metadata demand over MDS capacity, % (not capped at 200 like `mds_util_pct`).
    pub metadata_load_pct: f64,
    /// Bandwidth demand over supply, %.
    pub bandwidth_load_pct: f64,
    /// MDS nodes needed to serve the demand (the model's `needed_mds`).
    pub needed_mds: u32,
    /// The most MDS nodes the designer offers.
    pub max_mds: u32,
    /// The needed MDS nodes fit on the designer's slider.
    pub mds_slider_suffices: bool,
    /// The smallest GPU count on the slider at which metadata saturates, at these
    /// workers, layout and MDS count; `None` if it never does up to 4,096.
    pub metadata_fails_at_gpus: Option<u32>,
    /// The smallest GPU count on the slider at which bandwidth saturates; `None` if never.
    pub bandwidth_fails_at_gpus: Option<u32>,
    /// What fails first as the GPU count grows (`Both` if at the same count); `None` if nothing does.
    pub fails_first: Option<MdsBinding>,
}

/// Explains an Act II design from its inputs and the model's outputs.
pub fn mds_limits(inputs: &MdsInputs, o: &MdsOutputs) -> MdsLimits {
    let uses_mds = inputs.layout != DatasetLayout::ObjectStore;
    let capacity = f64::from(o.mds_capacity_per_s);
    let gpus_at = |i: usize| GPUS.min + i as u32 * GPUS.step;
    // The model's saturation tests, applied to its own demand curves.
    let metadata_fails_at_gpus = o
        .ops_demand_curve
        .iter()
        .position(|&ops| uses_mds && ops > capacity)
        .map(gpus_at);
    let bandwidth_fails_at_gpus = o
        .bw_demand_curve
        .iter()
        .position(|&bw| bw > o.bw_supply_gbs)
        .map(gpus_at);
    let fails_first = match (metadata_fails_at_gpus, bandwidth_fails_at_gpus) {
        (None, None) => None,
        (Some(_), None) => Some(MdsBinding::Metadata),
        (None, Some(_)) => Some(MdsBinding::Bandwidth),
        (Some(m), Some(b)) if m < b => Some(MdsBinding::Metadata),
        (Some(m), Some(b)) if b < m => Some(MdsBinding::Bandwidth),
        (Some(_), Some(_)) => Some(MdsBinding::Both),
    };
    MdsLimits {
        binding: MdsBinding::of(o.mds_saturated, o.bw_saturated),
        uses_mds,
        metadata_load_pct: o.ops_demand_per_s / capacity * 100.0,
        bandwidth_load_pct: o.bw_demand_gbs / o.bw_supply_gbs * 100.0,
        needed_mds: o.needed_mds,
        max_mds: MDS_NODES.max,
        mds_slider_suffices: o.needed_mds <= MDS_NODES.max,
        metadata_fails_at_gpus,
        bandwidth_fails_at_gpus,
        fails_first,
    }
}

/// The explanation of either act's run, as reports carry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Limits {
    /// An Act I run's limits.
    Act1(IoLimits),
    /// An Act II design's limits.
    Act2(MdsLimits),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::data_storage::act2;

    #[test]
    fn the_default_act1_run_is_bound_by_random_reads() {
        let i = IoInputs::default();
        let l = io_limits(&i, &act1::evaluate(&i));
        assert_eq!(l.binding, IoFactor::Pattern);
        assert_eq!(l.factor(IoFactor::Storage).multiplier, 1.0);
        assert_eq!(l.factor(IoFactor::Fabric).multiplier, 400.0 / 672.0);
        assert_eq!(l.demand_per_gpu_gbs, 5.0);
        assert_eq!(l.demand_total_gbs, 640.0);
        assert_eq!(l.hardware_gbs, 400.0);
        assert!((l.factor(IoFactor::Pattern).cost_gbs - 93.0).abs() < 1e-9);
        assert!(l.gpu_waits && !l.exceeds_sustainable && !l.more_osts_help);
    }

    #[test]
    fn metadata_fails_first_in_the_seed_scenario() {
        let i = MdsInputs {
            gpus: 4096,
            workers_per_gpu: 8,
            ..MdsInputs::default()
        };
        let l = mds_limits(&i, &act2::evaluate(&i));
        assert_eq!(l.binding, MdsBinding::Metadata);
        assert_eq!(l.metadata_fails_at_gpus, Some(128));
        assert_eq!(l.bandwidth_fails_at_gpus, None);
        assert_eq!(l.fails_first, Some(MdsBinding::Metadata));
        assert!(!l.mds_slider_suffices);
    }
}
