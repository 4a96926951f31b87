//! Act II: the storage architecture of a large cluster, and its metadata ceiling.

use super::act1::py_min;
use super::constants::*;
use super::context::Context;
use crate::input_error::InputError;
use crate::json_input::InputFields;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the training data set is laid out on storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetLayout {
    /// Sequential shards: one file per 10K samples.
    Shards,
    /// One file per sample (the seed's default).
    Individual,
    /// An object store: no POSIX namespace, no metadata server.
    ObjectStore,
}

impl DatasetLayout {
    /// All layouts.
    pub const ALL: [DatasetLayout; 3] = [
        DatasetLayout::Shards,
        DatasetLayout::Individual,
        DatasetLayout::ObjectStore,
    ];

    /// The stable id.
    pub fn id(self) -> &'static str {
        match self {
            DatasetLayout::Shards => "shards",
            DatasetLayout::Individual => "individual",
            DatasetLayout::ObjectStore => "object_store",
        }
    }

    /// The name the design ledger uses (`sequential_shards`, `individual_files`, `object_store`).
    pub fn ledger_name(self) -> &'static str {
        match self {
            DatasetLayout::Shards => "sequential_shards",
            DatasetLayout::Individual => "individual_files",
            DatasetLayout::ObjectStore => "object_store",
        }
    }

    /// Files each worker opens per second.
    pub fn files_open_per_sec_per_worker(self) -> f64 {
        match self {
            DatasetLayout::Shards => 0.2,
            DatasetLayout::Individual | DatasetLayout::ObjectStore => 50.0,
        }
    }

    /// Share of file accesses that reach a metadata server.
    pub fn metadata_pressure_factor(self) -> f64 {
        match self {
            DatasetLayout::Shards => 0.02,
            DatasetLayout::Individual => 1.0,
            DatasetLayout::ObjectStore => 0.0,
        }
    }
}

impl fmt::Display for DatasetLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for DatasetLayout {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatasetLayout::ALL
            .into_iter()
            .find(|l| l.id() == s)
            .ok_or_else(|| InputError::new("layout", s, "one of shards, individual, object_store"))
    }
}

/// Validated Act II inputs. Construct with [`MdsInputs::new`] or deserialize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub struct MdsInputs {
    /// Deployment context.
    pub context: Context,
    /// GPU count (128–4096, step 128).
    pub gpus: u32,
    /// Data workers per GPU (1–16).
    pub workers_per_gpu: u32,
    /// Data set layout.
    pub layout: DatasetLayout,
    /// Metadata server nodes (1–8).
    pub mds: u32,
}

impl TryFrom<serde_json::Value> for MdsInputs {
    type Error = InputError;

    fn try_from(value: serde_json::Value) -> Result<Self, InputError> {
        MdsInputs::from_json(&value)
    }
}

impl Default for MdsInputs {
    /// The seed's starting design: distributed FS, 512 GPUs, 4 workers, individual files, 1 MDS.
    fn default() -> Self {
        MdsInputs {
            context: Context::DistributedFs,
            gpus: DEFAULT_GPUS,
            workers_per_gpu: DEFAULT_WORKERS_PER_GPU,
            layout: DatasetLayout::Individual,
            mds: DEFAULT_MDS,
        }
    }
}

impl MdsInputs {
    /// Validates every field against the seed's slider ranges.
    pub fn new(
        context: Context,
        gpus: i64,
        workers_per_gpu: i64,
        layout: DatasetLayout,
        mds: i64,
    ) -> Result<Self, InputError> {
        Ok(MdsInputs {
            context,
            gpus: GPUS.check("gpus", gpus)?,
            workers_per_gpu: WORKERS_PER_GPU.check("workers_per_gpu", workers_per_gpu)?,
            layout,
            mds: MDS_NODES.check("mds", mds)?,
        })
    }

    /// The input names, as in the run JSON.
    pub const FIELDS: &'static [&'static str] =
        &["context", "gpus", "workers_per_gpu", "layout", "mds"];

    /// Validates a JSON object of inputs; any bad, missing or unknown key is an
    /// error naming that key.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, InputError> {
        let fields = InputFields::new(value, Self::FIELDS)?;
        Ok(MdsInputs {
            context: fields.named("context")?,
            gpus: fields.stepped("gpus", GPUS)?,
            workers_per_gpu: fields.stepped("workers_per_gpu", WORKERS_PER_GPU)?,
            layout: fields.named("layout")?,
            mds: fields.stepped("mds", MDS_NODES)?,
        })
    }

    /// Every configuration the sliders allow (24,576), context first, MDS count last.
    pub fn grid() -> impl Iterator<Item = MdsInputs> {
        Context::ALL.into_iter().flat_map(|context| {
            GPUS.values().flat_map(move |gpus| {
                WORKERS_PER_GPU.values().flat_map(move |workers_per_gpu| {
                    DatasetLayout::ALL.into_iter().flat_map(move |layout| {
                        MDS_NODES.values().map(move |mds| MdsInputs {
                            context,
                            gpus,
                            workers_per_gpu,
                            layout,
                            mds,
                        })
                    })
                })
            })
        })
    }

    /// Concurrent data-loader connections (GPUs × workers).
    pub fn total_workers(&self) -> u32 {
        self.gpus * self.workers_per_gpu
    }
}

/// What the designer recommends for a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationKind {
    /// An object store: no MDS ceiling.
    ObjectStore,
    /// The MDS is saturated: add nodes or migrate.
    MdsSaturated,
    /// MDS utilization above 60%.
    MdsApproaching,
    /// The architecture is sound.
    Sound,
}

impl RecommendationKind {
    /// The seed's decision order: object store, saturated, above 60%, sound.
    pub fn of(layout: DatasetLayout, mds_saturated: bool, mds_util_pct: f64) -> Self {
        if layout == DatasetLayout::ObjectStore {
            RecommendationKind::ObjectStore
        } else if mds_saturated {
            RecommendationKind::MdsSaturated
        } else if mds_util_pct > MDS_WARN_UTIL_PCT {
            RecommendationKind::MdsApproaching
        } else {
            RecommendationKind::Sound
        }
    }

    /// The seed's wording; `extra_mds` is how many MDS nodes to add when saturated.
    pub fn text(self, extra_mds: u32) -> String {
        match self {
            RecommendationKind::ObjectStore => {
                "Object store — no MDS. Scales to any GPU count.".to_string()
            }
            RecommendationKind::MdsSaturated => {
                // Built by hand: `format!` costs as much as the rest of an evaluation.
                let mut text = String::with_capacity(64);
                text.push_str("Add ");
                push_decimal(&mut text, extra_mds);
                text.push_str(" more MDS nodes or migrate to object store.");
                text
            }
            RecommendationKind::MdsApproaching => "MDS approaching capacity. Switch to sequential \
                 shards or pre-provision additional MDS."
                .to_string(),
            RecommendationKind::Sound => "Architecture is sound at current scale. Monitor MDS \
                 utilization as GPU count grows."
                .to_string(),
        }
    }
}

/// Appends `n` in decimal.
fn push_decimal(text: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    text.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// Every figure Act II shows for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdsOutputs {
    /// Metadata operations demanded per second.
    pub ops_demand_per_s: f64,
    /// Metadata operations the MDS nodes serve per second.
    pub mds_capacity_per_s: u32,
    /// Demand over capacity, %, capped at 200.
    pub mds_util_pct: f64,
    /// Demand exceeds capacity (never for an object store).
    pub mds_saturated: bool,
    /// MDS nodes needed to serve the demand (1 for an object store).
    pub needed_mds: u32,
    /// Bandwidth demand, GB/s.
    pub bw_demand_gbs: f64,
    /// Bandwidth supply, GB/s.
    pub bw_supply_gbs: f64,
    /// Spare bandwidth, % of supply (negative when oversubscribed).
    pub bw_headroom_pct: f64,
    /// Bandwidth demand exceeds supply.
    pub bw_saturated: bool,
    /// The designer's recommendation, as the seed words it.
    pub recommendation: String,
    /// Bandwidth demand at 128, 256, …, 4096 GPUs, GB/s.
    pub bw_demand_curve: [f64; DEMAND_CURVE_LEN],
    /// Metadata ops demand at 128, 256, …, 4096 GPUs, ops/s.
    pub ops_demand_curve: [f64; DEMAND_CURVE_LEN],
}

/// Points of the demand curves: one per GPU-slider value (128, 256, …, 4096).
pub const DEMAND_CURVE_LEN: usize = ((GPUS.max - GPUS.min) / GPUS.step + 1) as usize;

fn ops_demand(gpus: u32, workers_per_gpu: u32, layout: DatasetLayout) -> f64 {
    f64::from(gpus * workers_per_gpu)
        * layout.files_open_per_sec_per_worker()
        * METADATA_OPS_PER_FILE_ACCESS
        * layout.metadata_pressure_factor()
}

/// Bandwidth supply for the context, GB/s (local NVMe, or the 48-OST cluster).
pub fn bw_supply_gbs(context: Context) -> f64 {
    match context {
        Context::Nvme => NVME_NODE_BW_GBS,
        Context::DistributedFs => f64::from(ACT2_OST_COUNT) * LUSTRE_OST_BW_GBS,
    }
}

/// Evaluates Act II for one configuration, exactly as the seed does.
pub fn evaluate(inputs: &MdsInputs) -> MdsOutputs {
    let layout = inputs.layout;
    let is_object_store = layout == DatasetLayout::ObjectStore;
    let ops_demand_per_s = ops_demand(inputs.gpus, inputs.workers_per_gpu, layout);
    let mds_capacity_per_s = inputs.mds * MDS_OPS_PER_NODE;
    let capacity = f64::from(mds_capacity_per_s);
    let mds_saturated = !is_object_store && ops_demand_per_s > capacity;
    let mds_util_pct = if mds_capacity_per_s > 0 {
        py_min((ops_demand_per_s / capacity) * 100.0, MDS_UTIL_CAP_PCT)
    } else {
        0.0
    };
    let bw_demand_gbs = f64::from(inputs.gpus) * BW_DEMAND_PER_GPU_GBS;
    let bw_supply_gbs = bw_supply_gbs(inputs.context);
    let bw_headroom_pct = ((bw_supply_gbs - bw_demand_gbs) / bw_supply_gbs) * 100.0;
    let needed_mds = if is_object_store {
        1
    } else {
        let nodes = (ops_demand_per_s / f64::from(MDS_OPS_PER_NODE)).ceil() as u32;
        nodes.max(1)
    };
    let recommendation = RecommendationKind::of(layout, mds_saturated, mds_util_pct)
        .text(needed_mds.saturating_sub(inputs.mds));
    let gpus_at = |i: usize| GPUS.min + i as u32 * GPUS.step;
    let bw_demand_curve = std::array::from_fn(|i| f64::from(gpus_at(i)) * BW_DEMAND_PER_GPU_GBS);
    let ops_demand_curve =
        std::array::from_fn(|i| ops_demand(gpus_at(i), inputs.workers_per_gpu, layout));
    MdsOutputs {
        ops_demand_per_s,
        mds_capacity_per_s,
        mds_util_pct,
        mds_saturated,
        needed_mds,
        bw_demand_gbs,
        bw_supply_gbs,
        bw_headroom_pct,
        bw_saturated: bw_demand_gbs > bw_supply_gbs,
        recommendation,
        bw_demand_curve,
        ops_demand_curve,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturated_recommendation_writes_any_count() {
        for n in [0, 7, 10, 98, 1234, u32::MAX] {
            assert_eq!(
                RecommendationKind::MdsSaturated.text(n),
                format!("Add {n} more MDS nodes or migrate to object store.")
            );
        }
    }

    #[test]
    fn seed_scenario_overloads_one_mds_98_times() {
        let inputs = MdsInputs::new(
            Context::DistributedFs,
            4096,
            8,
            DatasetLayout::Individual,
            1,
        )
        .unwrap();
        let out = evaluate(&inputs);
        assert_eq!(out.ops_demand_per_s, 4_915_200.0);
        assert!(out.mds_saturated);
        assert_eq!(out.needed_mds, 99);
        assert_eq!(out.mds_util_pct, 200.0);
        assert_eq!(
            out.recommendation,
            "Add 98 more MDS nodes or migrate to object store."
        );
        assert_eq!(out.bw_demand_gbs, 327.68);
        assert!(!out.bw_saturated);
    }

    #[test]
    fn object_store_never_saturates() {
        let inputs = MdsInputs {
            layout: DatasetLayout::ObjectStore,
            ..MdsInputs::default()
        };
        let out = evaluate(&inputs);
        assert!(!out.mds_saturated);
        assert_eq!(out.needed_mds, 1);
        assert_eq!(out.ops_demand_per_s, 0.0);
    }
}
