//! The lab's design ledger entry, with the seed's keys and meanings.

use super::{Context, DatasetLayout, IoOutputs, MdsInputs, MdsOutputs};
use crate::choice::Choice;
use crate::input_error::InputError;
use crate::ledger::Design;
use serde::{Deserialize, Serialize};

/// What chapter `v2_04` records in the design ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerDesign {
    /// The deployment context (`nvme` or `distributed_fs`).
    pub context: String,
    /// The Act II layout as the ledger names it (`sequential_shards`, …).
    pub storage_type: String,
    /// Act II GPU count.
    pub gpu_count: u32,
    /// Act II workers per GPU.
    pub data_workers_per_gpu: u32,
    /// Act I effective bandwidth, GB/s, rounded to 2 decimals.
    pub io_throughput_gbs: f64,
    /// Act I prediction letter, or `none`.
    pub act1_prediction: String,
    /// Whether the Act I prediction was B.
    pub act1_correct: bool,
    /// Act II metadata demand, thousands of ops/s, rounded to 1 decimal.
    pub act2_result: f64,
    /// The Act II layout chosen (same as `storage_type`).
    pub act2_decision: String,
    /// Whether the design hits a constraint (the MDS ceiling).
    pub constraint_hit: bool,
    /// Whether the MDS is saturated.
    pub mds_saturated: bool,
}

/// The correct answer of both predictions and both reflections.
pub const ANSWER: Choice = Choice::B;

impl LedgerDesign {
    /// The design for the given settings and results, as the seed computes it.
    pub fn from_state(
        context: Context,
        io_out: &IoOutputs,
        mds: &MdsInputs,
        mds_out: &MdsOutputs,
        act1_prediction: Option<Choice>,
    ) -> Self {
        let storage_type = mds.layout.ledger_name().to_string();
        LedgerDesign {
            context: context.id().to_string(),
            storage_type: storage_type.clone(),
            gpu_count: mds.gpus,
            data_workers_per_gpu: mds.workers_per_gpu,
            io_throughput_gbs: py_round(io_out.effective_bw_gbs, 2),
            act1_prediction: act1_prediction.map_or("none".to_string(), |c| c.to_string()),
            act1_correct: act1_prediction == Some(ANSWER),
            act2_result: py_round(mds_out.ops_demand_per_s / 1000.0, 1),
            act2_decision: storage_type,
            constraint_hit: mds_out.mds_saturated,
            mds_saturated: mds_out.mds_saturated,
        }
    }

    /// The design as ledger keys and values.
    pub fn to_map(&self) -> Design {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => Design::new(),
        }
    }

    /// Reads a design from ledger keys, rejecting unknown or missing keys.
    pub fn from_map(map: &Design) -> Result<Self, InputError> {
        Self::deserialize(serde_json::Value::Object(map.clone()))
            .map_err(|e| InputError::new("design", e, "the v2_04 ledger keys"))
    }

    /// The layout recorded, if it is one the lab knows.
    pub fn layout(&self) -> Option<DatasetLayout> {
        DatasetLayout::ALL
            .into_iter()
            .find(|l| l.ledger_name() == self.storage_type)
    }
}

/// Python's `round(x, digits)` for the lab's magnitudes: rounds the exact binary
/// value half to even at `digits` decimals.
pub fn py_round(x: f64, digits: usize) -> f64 {
    format!("{x:.digits$}").parse().unwrap_or(x)
}
