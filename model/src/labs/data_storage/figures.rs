//! The figures each act's story quotes, computed from the constants and the
//! act models, never typed in.

use super::act1::{self, IoInputs, IoOutputs, ReadPattern, UtilStatus};
use super::act2::{self, DatasetLayout, MdsInputs, MdsOutputs};
use super::constants::*;
use super::context::Context;
use super::limits::{fabric_gbs, io_limits, IoLimits};
use std::sync::OnceLock;

/// The figures Act I's story quotes: the seed's default 128-GPU scenario and
/// the fixes the analyzer offers for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Act1Figures {
    /// GPUs in the job.
    pub gpus: u32,
    /// HBM bandwidth of one H100, GB/s.
    pub hbm_bw_gbs: f64,
    /// HBM bandwidth over one NVMe drive's sequential bandwidth (the chapter's 479× gap).
    pub hbm_to_nvme_gap: f64,
    /// Lustre OST nodes.
    pub osts: u32,
    /// Aggregate Lustre bandwidth, GB/s.
    pub lustre_bw_gbs: f64,
    /// Batch size of the scenario, samples.
    pub batch: u32,
    /// One batch, MB (1 GB = 1,024 MB, as the model counts).
    pub batch_mb: f64,
    /// What each GPU reads when it never waits: a batch per 50 ms compute step, MB/s.
    pub demand_per_gpu_mbs: f64,
    /// What all GPUs read when they never wait, GB/s.
    pub total_demand_gbs: f64,
    /// Lustre bandwidth over that demand.
    pub margin: f64,
    /// That demand over Lustre bandwidth, %: what the cluster would carry if the GPUs never waited.
    pub storage_load_pct: f64,
    /// IB fabric with one HDR-200 port per OST node, GB/s.
    pub fabric_per_ost_port_gbs: f64,
    /// IB fabric the analyzer models (16 ports), GB/s.
    pub modelled_fabric_gbs: f64,
    /// The smallest OST count whose bandwidth exceeds the fabric: from here up more OSTs add nothing.
    pub fabric_binds_from_osts: u32,
    /// The default run's results (1 worker, random reads).
    pub default: IoOutputs,
    /// What limits the default run.
    pub default_limits: IoLimits,
    /// GPU utilization of the default scenario, %.
    pub default_util_pct: f64,
    /// Random-read efficiency relative to peak, %.
    pub random_efficiency_pct: f64,
    /// Sequential-read efficiency relative to peak, %.
    pub sequential_efficiency_pct: f64,
    /// GPU utilization with sequential reads and 1, 4 and 8 workers, %.
    pub sequential_util_pct: [f64; 3],
    /// The best GPU utilization sequential reads reach at any worker count, %.
    pub sequential_best_util_pct: f64,
    /// GPU utilization with 16 workers and random reads, %.
    pub random_16_workers_util_pct: f64,
    /// The fewest workers with which the prefetch pipeline is Healthy, if any.
    pub prefetch_healthy_from_workers: Option<u32>,
    /// GPU utilization with 4 workers and the prefetch pipeline (the seed's option-D fix), %.
    pub prefetch_fix_util_pct: f64,
    /// The best GPU utilization any Act I setting reaches on local NVMe, %.
    pub nvme_best_util_pct: f64,
}

/// Act I's scenario figures, computed once from the constants and the model.
pub fn act1_figures() -> &'static Act1Figures {
    static FIGURES: OnceLock<Act1Figures> = OnceLock::new();
    FIGURES.get_or_init(compute_act1_figures)
}

fn compute_act1_figures() -> Act1Figures {
    let defaults = IoInputs::default();
    let at = |workers: u32, pattern: ReadPattern| {
        act1::evaluate(&IoInputs {
            workers,
            pattern,
            ..defaults
        })
    };
    let lustre_bw_gbs = act1::base_storage_bw_gbs(Context::DistributedFs, defaults.osts);
    let default = act1::evaluate(&defaults);
    let default_limits = io_limits(&defaults, &default);
    let total_demand_gbs = default_limits.demand_total_gbs;
    let fabric = fabric_gbs();
    let sequential = at(defaults.workers, ReadPattern::Sequential);
    Act1Figures {
        gpus: ACT1_GPU_COUNT,
        hbm_bw_gbs: H100_HBM_BW_GBS,
        hbm_to_nvme_gap: H100_HBM_BW_GBS / NVME_SEQ_BW_GBS,
        osts: defaults.osts,
        lustre_bw_gbs,
        batch: defaults.batch,
        batch_mb: default.batch_gb * 1024.0,
        demand_per_gpu_mbs: default_limits.demand_per_gpu_gbs * 1024.0,
        total_demand_gbs,
        margin: lustre_bw_gbs / total_demand_gbs,
        storage_load_pct: total_demand_gbs / lustre_bw_gbs * 100.0,
        fabric_per_ost_port_gbs: f64::from(defaults.osts) * IB_HDR200_BW_GBS,
        modelled_fabric_gbs: fabric,
        fabric_binds_from_osts: OSTS
            .values()
            .find(|&osts| act1::base_storage_bw_gbs(Context::DistributedFs, osts) > fabric)
            .unwrap_or(OSTS.max),
        default_util_pct: default.gpu_util_pct,
        default,
        default_limits,
        random_efficiency_pct: ReadPattern::Random.pattern_factor() * 100.0,
        sequential_efficiency_pct: ReadPattern::Sequential.pattern_factor() * 100.0,
        sequential_util_pct: [
            sequential.gpu_util_pct,
            at(4, ReadPattern::Sequential).gpu_util_pct,
            at(8, ReadPattern::Sequential).gpu_util_pct,
        ],
        sequential_best_util_pct: sequential.util_curve.iter().copied().fold(0.0, f64::max),
        random_16_workers_util_pct: at(WORKERS.max, ReadPattern::Random).gpu_util_pct,
        prefetch_healthy_from_workers: WORKERS
            .values()
            .find(|&w| at(w, ReadPattern::Prefetch).status == UtilStatus::Healthy),
        prefetch_fix_util_pct: at(4, ReadPattern::Prefetch).gpu_util_pct,
        nvme_best_util_pct: nvme_best_util_pct(),
    }
}

/// The best GPU utilization of any Act I setting on local NVMe (the OST slider plays no part), %.
fn nvme_best_util_pct() -> f64 {
    IoInputs::grid()
        .filter(|i| i.context == Context::Nvme && i.osts == OSTS.min && i.workers == WORKERS.min)
        // The curve holds every worker count.
        .flat_map(|i| act1::evaluate(&i).util_curve)
        .fold(0.0, f64::max)
}

/// The figures Act II's story quotes: 4,096 GPUs, 8 workers, individual files, 1 MDS.
#[derive(Debug, Clone, PartialEq)]
pub struct Act2Figures {
    /// GPUs in the design.
    pub gpus: u32,
    /// Data workers per GPU.
    pub workers_per_gpu: u32,
    /// The scenario's inputs.
    pub inputs: MdsInputs,
    /// The model's results for it.
    pub outputs: MdsOutputs,
    /// Metadata demand over MDS capacity.
    pub overload: f64,
    /// Bandwidth supply over demand.
    pub bw_margin: f64,
}

/// Act II's scenario figures, computed once with [`act2::evaluate`].
pub fn act2_figures() -> &'static Act2Figures {
    static FIGURES: OnceLock<Act2Figures> = OnceLock::new();
    FIGURES.get_or_init(compute_act2_figures)
}

fn compute_act2_figures() -> Act2Figures {
    let inputs = MdsInputs {
        context: Context::DistributedFs,
        gpus: GPUS.max,
        workers_per_gpu: 8,
        layout: DatasetLayout::Individual,
        mds: MDS_NODES.min,
    };
    let outputs = act2::evaluate(&inputs);
    Act2Figures {
        gpus: inputs.gpus,
        workers_per_gpu: inputs.workers_per_gpu,
        overload: outputs.ops_demand_per_s / f64::from(outputs.mds_capacity_per_s),
        bw_margin: outputs.bw_supply_gbs / outputs.bw_demand_gbs,
        inputs,
        outputs,
    }
}
