//! Every constant of the lab, as the seed notebook states it.

use crate::input_error::SteppedRange;

/// H100 SXM5 HBM bandwidth, GB/s (NVIDIA spec sheet).
pub const H100_HBM_BW_GBS: f64 = 3350.0;
/// PCIe Gen4 NVMe sequential read bandwidth per drive, GB/s.
pub const NVME_SEQ_BW_GBS: f64 = 7.0;
/// NVMe random 4K read effective throughput, GB/s.
pub const NVME_RAND_BW_GBS: f64 = 0.5;
/// NVMe drives in the single-node context.
pub const NVME_DRIVES_PER_NODE: u32 = 4;
/// Local NVMe bandwidth of the single-node context, GB/s (4 × 7 GB/s).
pub const NVME_NODE_BW_GBS: f64 = 28.0;
/// Bandwidth of one Lustre OST node, GB/s (4 × NVMe at 7 GB/s).
pub const LUSTRE_OST_BW_GBS: f64 = 28.0;
/// InfiniBand HDR-200 bandwidth per port, GB/s (200 Gbps).
pub const IB_HDR200_BW_GBS: f64 = 25.0;
/// IB ports the Act I fabric has towards storage (the seed's `_IB_HDR200_BW_GBS * 16`).
pub const IB_FABRIC_PORTS: f64 = 16.0;
/// IB HDR-200 fabric latency, microseconds (narrative only).
pub const IB_LATENCY_US: f64 = 15.0;

/// GPUs in the Act I scenario.
pub const ACT1_GPU_COUNT: u32 = 128;
/// Size of one training sample, MB.
pub const SAMPLE_SIZE_MB: f64 = 4.0;
/// GPU compute time per batch, ms.
pub const COMPUTE_TIME_MS: f64 = 50.0;
/// Prefetch pipelining hides at most this many batches of compute.
pub const MAX_OVERLAPPED_BATCHES: u32 = 4;
/// GPU utilization at or above which a run is Healthy, %.
pub const HEALTHY_UTIL_PCT: f64 = 80.0;
/// GPU utilization at or above which a run is Degraded (below: Starved), %.
pub const DEGRADED_UTIL_PCT: f64 = 50.0;
/// Storage utilization below which the analyzer shows it red (the seed's `_lustre_color`), %.
pub const STORAGE_UTIL_LOW_PCT: f64 = 20.0;
/// Storage utilization below which the analyzer shows it orange, green from here (the seed's
/// `_lustre_color`), %.
pub const STORAGE_UTIL_FAIR_PCT: f64 = 60.0;
/// Guard the seed adds to the storage-utilization denominator, GB/s.
pub const STORAGE_UTIL_EPSILON: f64 = 0.001;
/// Act I's I/O time when the per-GPU bandwidth is zero, ms.
pub const T_IO_FALLBACK_MS: f64 = 9999.0;

/// Lustre OST nodes of the fixed Act II design.
pub const ACT2_OST_COUNT: u32 = 48;
/// Metadata ops per second one MDS node serves.
pub const MDS_OPS_PER_NODE: u32 = 50_000;
/// Metadata ops per file access (open + close + stat).
pub const METADATA_OPS_PER_FILE_ACCESS: f64 = 3.0;
/// Per-GPU data ingestion demand, GB/s (80 MB/s).
pub const BW_DEMAND_PER_GPU_GBS: f64 = 0.08;
/// MDS utilization is reported up to this cap, %.
pub const MDS_UTIL_CAP_PCT: f64 = 200.0;
/// MDS utilization above which the designer warns, %.
pub const MDS_WARN_UTIL_PCT: f64 = 60.0;

/// Act I slider: data loader workers per GPU.
pub const WORKERS: SteppedRange = SteppedRange {
    min: 1,
    max: 16,
    step: 1,
};
/// Act I slider: batch size in samples.
pub const BATCH: SteppedRange = SteppedRange {
    min: 32,
    max: 512,
    step: 32,
};
/// Act I slider: active Lustre OST nodes.
pub const OSTS: SteppedRange = SteppedRange {
    min: 4,
    max: 48,
    step: 4,
};
/// Act II slider: GPU count.
pub const GPUS: SteppedRange = SteppedRange {
    min: 128,
    max: 4096,
    step: 128,
};
/// Act II slider: data workers per GPU.
pub const WORKERS_PER_GPU: SteppedRange = SteppedRange {
    min: 1,
    max: 16,
    step: 1,
};
/// Act II slider: metadata server count.
pub const MDS_NODES: SteppedRange = SteppedRange {
    min: 1,
    max: 8,
    step: 1,
};

/// Seed default: workers per GPU in Act I.
pub const DEFAULT_WORKERS: u32 = 1;
/// Seed default: batch size in Act I.
pub const DEFAULT_BATCH: u32 = 64;
/// Seed default: OST count in Act I.
pub const DEFAULT_OSTS: u32 = 24;
/// Seed default: GPU count in Act II.
pub const DEFAULT_GPUS: u32 = 512;
/// Seed default: workers per GPU in Act II.
pub const DEFAULT_WORKERS_PER_GPU: u32 = 4;
/// Seed default: MDS nodes in Act II.
pub const DEFAULT_MDS: u32 = 1;
