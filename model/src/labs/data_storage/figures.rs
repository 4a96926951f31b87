//! The figures each act's story quotes, computed from the constants and the
//! act models, never typed in.

use super::act1::{self, IoInputs, ReadPattern};
use super::act2::{self, DatasetLayout, MdsInputs, MdsOutputs};
use super::constants::*;
use super::context::Context;

/// The figures Act I's story quotes: the seed's default 128-GPU scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Act1Figures {
    /// GPUs in the job.
    pub gpus: u32,
    /// HBM bandwidth of one H100, GB/s.
    pub hbm_bw_gbs: f64,
    /// Lustre OST nodes.
    pub osts: u32,
    /// Aggregate Lustre bandwidth, GB/s.
    pub lustre_bw_gbs: f64,
    /// Data each GPU actually consumes, MB/s.
    pub demand_per_gpu_mbs: f64,
    /// Data all GPUs consume together, GB/s.
    pub total_demand_gbs: f64,
    /// Lustre bandwidth over demand.
    pub margin: f64,
    /// Demand over Lustre bandwidth, %.
    pub storage_load_pct: f64,
    /// IB fabric with one HDR-200 port per OST node, GB/s.
    pub fabric_per_ost_port_gbs: f64,
    /// IB fabric the analyzer models (16 ports), GB/s.
    pub modelled_fabric_gbs: f64,
    /// GPU utilization of the default scenario (1 worker, random reads), %.
    pub default_util_pct: f64,
    /// Random-read efficiency relative to peak, %.
    pub random_efficiency_pct: f64,
    /// GPU utilization with 4 workers and the prefetch pipeline, %.
    pub prefetch_fix_util_pct: f64,
}

/// Act I's scenario figures, computed from the constants and the model.
pub fn act1_figures() -> Act1Figures {
    let defaults = IoInputs::default();
    let lustre_bw_gbs = act1::base_storage_bw_gbs(Context::DistributedFs, defaults.osts);
    let total_demand_gbs = f64::from(ACT1_GPU_COUNT) * BW_DEMAND_PER_GPU_GBS;
    let prefetch_fix = IoInputs {
        workers: 4,
        pattern: ReadPattern::Prefetch,
        ..defaults
    };
    Act1Figures {
        gpus: ACT1_GPU_COUNT,
        hbm_bw_gbs: H100_HBM_BW_GBS,
        osts: defaults.osts,
        lustre_bw_gbs,
        demand_per_gpu_mbs: BW_DEMAND_PER_GPU_GBS * 1000.0,
        total_demand_gbs,
        margin: lustre_bw_gbs / total_demand_gbs,
        storage_load_pct: total_demand_gbs / lustre_bw_gbs * 100.0,
        fabric_per_ost_port_gbs: f64::from(defaults.osts) * IB_HDR200_BW_GBS,
        modelled_fabric_gbs: IB_FABRIC_PORTS * IB_HDR200_BW_GBS,
        default_util_pct: act1::evaluate(&defaults).gpu_util_pct,
        random_efficiency_pct: ReadPattern::Random.pattern_factor() * 100.0,
        prefetch_fix_util_pct: act1::evaluate(&prefetch_fix).gpu_util_pct,
    }
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

/// Act II's scenario figures, computed with [`act2::evaluate`].
pub fn act2_figures() -> Act2Figures {
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
