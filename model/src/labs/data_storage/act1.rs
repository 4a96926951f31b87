//! Act I: the I/O bottleneck of a 128-GPU job.

use super::constants::*;
use super::context::Context;
use crate::input_error::InputError;
use crate::json_input::InputFields;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the data loader reads samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadPattern {
    /// Large sequential chunks, Lustre-optimal.
    Sequential,
    /// Small random 4K reads, the worst case (the seed's default).
    Random,
    /// An async prefetch pipeline overlapped with compute.
    Prefetch,
}

impl ReadPattern {
    /// All patterns.
    pub const ALL: [ReadPattern; 3] = [
        ReadPattern::Sequential,
        ReadPattern::Random,
        ReadPattern::Prefetch,
    ];

    /// The stable id.
    pub fn id(self) -> &'static str {
        match self {
            ReadPattern::Sequential => "sequential",
            ReadPattern::Random => "random",
            ReadPattern::Prefetch => "prefetch",
        }
    }

    /// Read efficiency relative to peak sequential bandwidth.
    pub const fn pattern_factor(self) -> f64 {
        match self {
            ReadPattern::Sequential => 0.85,
            ReadPattern::Random => 0.07,
            ReadPattern::Prefetch => 0.78,
        }
    }

    /// Batches read ahead per worker.
    pub const fn overlap_factor(self) -> f64 {
        match self {
            ReadPattern::Sequential => 2.0,
            ReadPattern::Random => 0.5,
            ReadPattern::Prefetch => 4.0,
        }
    }
}

impl fmt::Display for ReadPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for ReadPattern {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReadPattern::ALL
            .into_iter()
            .find(|p| p.id() == s)
            .ok_or_else(|| InputError::new("pattern", s, "one of sequential, random, prefetch"))
    }
}

/// GPU health by utilization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UtilStatus {
    /// At least 80%.
    Healthy,
    /// At least 50%.
    Degraded,
    /// Below 50%.
    Starved,
}

impl UtilStatus {
    /// Classifies a GPU utilization in percent.
    pub fn of(gpu_util_pct: f64) -> Self {
        if gpu_util_pct >= HEALTHY_UTIL_PCT {
            UtilStatus::Healthy
        } else if gpu_util_pct >= DEGRADED_UTIL_PCT {
            UtilStatus::Degraded
        } else {
            UtilStatus::Starved
        }
    }

    /// The seed's label ("Healthy", …).
    pub fn label(self) -> &'static str {
        match self {
            UtilStatus::Healthy => "Healthy",
            UtilStatus::Degraded => "Degraded",
            UtilStatus::Starved => "Starved",
        }
    }
}

/// Validated Act I inputs. Construct with [`IoInputs::new`] or deserialize;
/// both reject values outside the seed's sliders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub struct IoInputs {
    /// Deployment context.
    pub context: Context,
    /// Data loader workers per GPU (1–16).
    pub workers: u32,
    /// Batch size in samples (32–512, step 32).
    pub batch: u32,
    /// Read pattern.
    pub pattern: ReadPattern,
    /// Active Lustre OST nodes (4–48, step 4); ignored on NVMe.
    pub osts: u32,
}

impl TryFrom<serde_json::Value> for IoInputs {
    type Error = InputError;

    fn try_from(value: serde_json::Value) -> Result<Self, InputError> {
        IoInputs::from_json(&value)
    }
}

impl Default for IoInputs {
    /// The seed's starting scenario: distributed FS, 1 worker, batch 64, random reads, 24 OSTs.
    fn default() -> Self {
        IoInputs {
            context: Context::DistributedFs,
            workers: DEFAULT_WORKERS,
            batch: DEFAULT_BATCH,
            pattern: ReadPattern::Random,
            osts: DEFAULT_OSTS,
        }
    }
}

impl IoInputs {
    /// Validates every field against the seed's slider ranges.
    pub fn new(
        context: Context,
        workers: i64,
        batch: i64,
        pattern: ReadPattern,
        osts: i64,
    ) -> Result<Self, InputError> {
        Ok(IoInputs {
            context,
            workers: WORKERS.check("workers", workers)?,
            batch: BATCH.check("batch", batch)?,
            pattern,
            osts: OSTS.check("osts", osts)?,
        })
    }

    /// The input names, as in the run JSON.
    pub const FIELDS: &'static [&'static str] = &["context", "workers", "batch", "pattern", "osts"];

    /// Every configuration the sliders allow (18,432), context first, OSTs last.
    pub fn grid() -> impl Iterator<Item = IoInputs> {
        Context::ALL.into_iter().flat_map(|context| {
            WORKERS.values().flat_map(move |workers| {
                BATCH.values().flat_map(move |batch| {
                    ReadPattern::ALL.into_iter().flat_map(move |pattern| {
                        OSTS.values().map(move |osts| IoInputs {
                            context,
                            workers,
                            batch,
                            pattern,
                            osts,
                        })
                    })
                })
            })
        })
    }

    /// Validates a JSON object of inputs; any bad, missing or unknown key is an
    /// error naming that key.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, InputError> {
        let fields = InputFields::new(value, Self::FIELDS)?;
        Ok(IoInputs {
            context: fields.named("context")?,
            workers: fields.stepped("workers", WORKERS)?,
            batch: fields.stepped("batch", BATCH)?,
            pattern: fields.named("pattern")?,
            osts: fields.stepped("osts", OSTS)?,
        })
    }
}

/// Every figure Act I shows for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoOutputs {
    /// GPU utilization, % (0–100).
    pub gpu_util_pct: f64,
    /// Healthy / Degraded / Starved.
    pub status: UtilStatus,
    /// Effective aggregate storage bandwidth, GB/s.
    pub effective_bw_gbs: f64,
    /// Each GPU's share of it, GB/s.
    pub per_gpu_bw_gbs: f64,
    /// One batch's size, GB.
    pub batch_gb: f64,
    /// Time to read one batch, ms.
    pub t_io_ms: f64,
    /// Time the GPU waits for data per batch, ms.
    pub t_wait_ms: f64,
    /// Batches read ahead asynchronously.
    pub prefetch_depth: u32,
    /// Read-pattern efficiency.
    pub pattern_factor: f64,
    /// Worker-scaling factor.
    pub worker_factor: f64,
    /// Network fabric factor (1.0 on NVMe).
    pub network_overhead: f64,
    /// Effective over peak storage bandwidth, %.
    pub storage_util_pct: f64,
    /// GPU utilization at 1..=16 workers, other inputs unchanged, % (a JSON array).
    pub util_curve: [f64; UTIL_CURVE_LEN],
}

/// Points of the utilization-vs-workers curve: one per worker-slider value.
pub const UTIL_CURVE_LEN: usize = ((WORKERS.max - WORKERS.min) / WORKERS.step + 1) as usize;

/// Peak storage bandwidth for the context, GB/s.
pub fn base_storage_bw_gbs(context: Context, osts: u32) -> f64 {
    match context {
        Context::Nvme => NVME_NODE_BW_GBS,
        Context::DistributedFs => f64::from(osts) * LUSTRE_OST_BW_GBS,
    }
}

/// The IB fabric factor: 1.0 on NVMe, else the fabric's share of storage bandwidth, capped at 1.
pub fn network_overhead(context: Context, base_storage_bw_gbs: f64) -> f64 {
    match context {
        Context::Nvme => 1.0,
        Context::DistributedFs => {
            let fabric = IB_HDR200_BW_GBS * IB_FABRIC_PORTS;
            py_min(1.0, fabric / base_storage_bw_gbs)
        }
    }
}

/// Worker scaling: near-linear to 4, sub-linear to 8, minimal gains beyond.
pub const fn worker_factor(workers: u32) -> f64 {
    let w = workers as f64;
    if workers == 1 {
        0.25
    } else if workers <= 4 {
        0.25 + (w - 1.0) * 0.20
    } else if workers <= 8 {
        0.85 + (w - 4.0) * 0.03
    } else {
        py_min(0.97 + (w - 8.0) * 0.002, 1.0)
    }
}

/// Batches read ahead: `max(1, int(workers × overlap))`.
pub const fn prefetch_depth(workers: u32, pattern: ReadPattern) -> u32 {
    // Python's int() truncates, as `as` does; the product is positive and small.
    let depth = (workers as f64 * pattern.overlap_factor()) as u32;
    if depth > 1 {
        depth
    } else {
        1
    }
}

/// Compute time per batch that hides I/O: prefetch overlaps up to 4 batches
/// (`50 × min(depth, 4)`), the other patterns one (`50`), ms.
const fn hidden_ms(workers: u32, pattern: ReadPattern) -> f64 {
    match pattern {
        ReadPattern::Prefetch => {
            let depth = prefetch_depth(workers, pattern);
            let overlapped = if depth < MAX_OVERLAPPED_BATCHES {
                depth
            } else {
                MAX_OVERLAPPED_BATCHES
            };
            COMPUTE_TIME_MS * overlapped as f64
        }
        ReadPattern::Sequential | ReadPattern::Random => COMPUTE_TIME_MS,
    }
}

/// Per worker-slider value: the worker factor and, per pattern (indexed by
/// discriminant), the hidden compute time, evaluated at compile time with the seed's arithmetic.
struct WorkerTables {
    worker_factor: [f64; UTIL_CURVE_LEN],
    hidden_ms: [[f64; UTIL_CURVE_LEN]; ReadPattern::ALL.len()],
}

const TABLES: WorkerTables = {
    let mut t = WorkerTables {
        worker_factor: [0.0; UTIL_CURVE_LEN],
        hidden_ms: [[0.0; UTIL_CURVE_LEN]; ReadPattern::ALL.len()],
    };
    let mut i = 0;
    while i < UTIL_CURVE_LEN {
        let workers = WORKERS.min + i as u32 * WORKERS.step;
        t.worker_factor[i] = worker_factor(workers);
        let mut p = 0;
        while p < ReadPattern::ALL.len() {
            let pattern = ReadPattern::ALL[p];
            t.hidden_ms[pattern as usize][i] = hidden_ms(workers, pattern);
            p += 1;
        }
        i += 1;
    }
    t
};

/// The per-worker-count part of the model.
struct WorkerPoint {
    effective_bw_gbs: f64,
    per_gpu_bw_gbs: f64,
    t_io_ms: f64,
    t_wait_ms: f64,
    gpu_util_pct: f64,
}

/// The seed's per-worker arithmetic, in its order: `base_pattern` is `base × pattern_factor`
/// (the seed's first product), `worker_factor` and `hidden_ms` come from [`TABLES`].
#[inline(always)]
fn at_workers(
    base_pattern: f64,
    worker_factor: f64,
    network: f64,
    batch_gb: f64,
    hidden_ms: f64,
) -> WorkerPoint {
    let effective_bw_gbs = base_pattern * worker_factor * network;
    let per_gpu_bw_gbs = effective_bw_gbs / ACT1_GPU_COUNT as f64;
    // Both sides of the seed's conditionals are computed and one is selected
    // (same values), so the curve's loop has no branches and vectorizes.
    let t_io_ms = select(
        per_gpu_bw_gbs > 0.0,
        (batch_gb / per_gpu_bw_gbs) * 1000.0,
        T_IO_FALLBACK_MS,
    );
    let t_wait_ms = py_max(0.0, t_io_ms - hidden_ms);
    let t_total_ms = COMPUTE_TIME_MS + t_wait_ms;
    let gpu_util_pct = select(
        t_total_ms > 0.0,
        py_min((COMPUTE_TIME_MS / t_total_ms) * 100.0, 100.0),
        0.0,
    );
    WorkerPoint {
        effective_bw_gbs,
        per_gpu_bw_gbs,
        t_io_ms,
        t_wait_ms,
        gpu_util_pct,
    }
}

/// Evaluates Act I for one configuration, exactly as the seed does.
pub fn evaluate(inputs: &IoInputs) -> IoOutputs {
    let base = base_storage_bw_gbs(inputs.context, inputs.osts);
    let network = network_overhead(inputs.context, base);
    let batch_gb = (f64::from(inputs.batch) * SAMPLE_SIZE_MB) / 1024.0;
    let base_pattern = base * inputs.pattern.pattern_factor();
    let hidden = &TABLES.hidden_ms[inputs.pattern as usize];
    let mut util_curve = [0.0; UTIL_CURVE_LEN];
    for (i, util) in util_curve.iter_mut().enumerate() {
        let wf = TABLES.worker_factor[i];
        *util = at_workers(base_pattern, wf, network, batch_gb, hidden[i]).gpu_util_pct;
    }
    let i = ((inputs.workers - WORKERS.min) / WORKERS.step) as usize;
    let point = at_workers(
        base_pattern,
        TABLES.worker_factor[i],
        network,
        batch_gb,
        hidden[i],
    );
    IoOutputs {
        gpu_util_pct: point.gpu_util_pct,
        status: UtilStatus::of(point.gpu_util_pct),
        effective_bw_gbs: point.effective_bw_gbs,
        per_gpu_bw_gbs: point.per_gpu_bw_gbs,
        batch_gb,
        t_io_ms: point.t_io_ms,
        t_wait_ms: point.t_wait_ms,
        prefetch_depth: prefetch_depth(inputs.workers, inputs.pattern),
        pattern_factor: inputs.pattern.pattern_factor(),
        worker_factor: TABLES.worker_factor[i],
        network_overhead: network,
        storage_util_pct: (point.effective_bw_gbs / (base + STORAGE_UTIL_EPSILON)) * 100.0,
        util_curve,
    }
}

/// `if condition { a } else { b }` with both already computed.
#[inline(always)]
fn select(condition: bool, a: f64, b: f64) -> f64 {
    if condition {
        a
    } else {
        b
    }
}

/// Python's `min(a, b)`: the first argument unless the second is smaller.
pub(crate) const fn py_min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Python's `max(a, b)`: the first argument unless the second is larger.
pub(crate) const fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_default_scenario_is_starved_near_one_percent() {
        let out = evaluate(&IoInputs::default());
        assert!(
            (out.gpu_util_pct - 1.0937).abs() < 1e-3,
            "{}",
            out.gpu_util_pct
        );
        assert_eq!(out.status, UtilStatus::Starved);
        assert_eq!(out.prefetch_depth, 1);
        assert_eq!(out.util_curve.len(), 16);
        assert_eq!(out.util_curve[0], out.gpu_util_pct);
    }

    #[test]
    fn the_grid_holds_every_valid_input_once() {
        let grid: Vec<IoInputs> = IoInputs::grid().collect();
        assert_eq!(grid.len(), 2 * 16 * 16 * 3 * 12);
        let distinct: std::collections::HashSet<_> = grid.iter().collect();
        assert_eq!(distinct.len(), grid.len());
        assert!(grid
            .iter()
            .all(|i| IoInputs::from_json(&serde_json::to_value(i).unwrap()).as_ref() == Ok(i)));
        let designs: std::collections::HashSet<_> = crate::labs::data_storage::MdsInputs::grid()
            .filter(|m| m.mds == 1)
            .collect();
        assert_eq!(designs.len(), 2 * 32 * 16 * 3);
    }

    #[test]
    fn rejects_out_of_range_inputs() {
        let err = IoInputs::new(Context::Nvme, 1, 100, ReadPattern::Random, 24).unwrap_err();
        assert_eq!(err.field, "batch");
        assert!(IoInputs::new(Context::Nvme, 17, 64, ReadPattern::Random, 24).is_err());
        assert!(IoInputs::new(Context::Nvme, 1, 64, ReadPattern::Random, 50).is_err());
        let json = r#"{"context":"nvme","workers":0,"batch":64,"pattern":"random","osts":24}"#;
        assert!(serde_json::from_str::<IoInputs>(json).is_err());
    }
}
