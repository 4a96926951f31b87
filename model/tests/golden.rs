//! Golden tests: the model against the seed notebook's own Python arithmetic.
//!
//! `tools/golden/seed_formulas.py` evaluates the seed's Act I and Act II cells and
//! writes `golden/seed_points.json` (floats as Python reprs in strings). Every
//! output field is compared BIT-EXACTLY (`f64::to_bits`), at every golden point
//! and, through an FNV-1a digest, over the full input grid of both acts.

use mlsys_model::labs::data_storage::constants::{BATCH, GPUS, MDS_NODES, OSTS, WORKERS};
use mlsys_model::labs::data_storage::design::py_round;
use mlsys_model::labs::data_storage::{
    act1, act2, Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern,
};
use serde_json::Value;

const GOLDEN: &str = include_str!("golden/seed_points.json");

fn golden() -> Value {
    serde_json::from_str(GOLDEN).expect("golden/seed_points.json is valid JSON")
}

/// A golden float: a Python repr in a string, parsed with correct rounding.
fn float(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("golden float must be a repr string, got {v}"))
}

/// Compares one model field with its golden value, appending any difference to `diffs`.
fn compare(path: &str, model: &Value, gold: &Value, diffs: &mut Vec<String>) {
    match (model, gold) {
        (Value::Number(m), Value::String(_)) => {
            let m = m.as_f64().expect("model number is an f64");
            let g = float(gold);
            if m.to_bits() != g.to_bits() {
                diffs.push(format!("{path}: model {m:?} != seed {g:?}"));
            }
        }
        (Value::Array(m), Value::Array(g)) => {
            if m.len() != g.len() {
                diffs.push(format!(
                    "{path}: model has {} values, seed {}",
                    m.len(),
                    g.len()
                ));
            }
            for (i, (m, g)) in m.iter().zip(g).enumerate() {
                compare(&format!("{path}[{i}]"), m, g, diffs);
            }
        }
        _ => {
            if model != gold {
                diffs.push(format!("{path}: model {model} != seed {gold}"));
            }
        }
    }
}

/// Compares every output field of `model` with `gold`; both must have the same fields.
fn compare_outputs(label: &str, model: &Value, gold: &Value, diffs: &mut Vec<String>) {
    let model = model.as_object().expect("outputs serialize to an object");
    let gold = gold.as_object().expect("golden outputs are an object");
    let mut model_keys: Vec<_> = model.keys().collect();
    let mut gold_keys: Vec<_> = gold.keys().collect();
    model_keys.sort();
    gold_keys.sort();
    assert_eq!(model_keys, gold_keys, "{label}: output fields differ");
    for (key, m) in model {
        compare(&format!("{label}.{key}"), m, &gold[key], diffs);
    }
}

fn assert_no_diffs(diffs: Vec<String>) {
    assert!(
        diffs.is_empty(),
        "{} differences from the seed:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn act1_matches_the_seed_bit_for_bit_at_every_golden_point() {
    let golden = golden();
    let rows = golden["act1"].as_array().unwrap();
    assert!(rows.len() >= 30, "only {} Act I points", rows.len());
    let mut diffs = Vec::new();
    for row in rows {
        let inputs: IoInputs = serde_json::from_value(row["inputs"].clone()).unwrap();
        let label = format!("act1 {}", row["inputs"]);
        let out = act1::evaluate(&inputs);
        let model = serde_json::to_value(&out).unwrap();
        compare_outputs(&label, &model, &row["outputs"], &mut diffs);
        let rounded = py_round(out.effective_bw_gbs, 2);
        let seed = float(&row["ledger"]["io_throughput_gbs"]);
        if rounded.to_bits() != seed.to_bits() {
            diffs.push(format!(
                "{label}: ledger io_throughput_gbs {rounded:?} != {seed:?}"
            ));
        }
    }
    assert_no_diffs(diffs);
}

#[test]
fn act2_matches_the_seed_bit_for_bit_at_every_golden_point() {
    let golden = golden();
    let rows = golden["act2"].as_array().unwrap();
    assert!(rows.len() >= 30, "only {} Act II points", rows.len());
    let mut diffs = Vec::new();
    for row in rows {
        let inputs: MdsInputs = serde_json::from_value(row["inputs"].clone()).unwrap();
        let label = format!("act2 {}", row["inputs"]);
        let out = act2::evaluate(&inputs);
        let model = serde_json::to_value(&out).unwrap();
        compare_outputs(&label, &model, &row["outputs"], &mut diffs);

        // The seed's figures in thousands: `_ops_k`, `_mds_capacity_k`, and the plotted
        // curve, each the model's ops/s figure `/ 1000` as the seed divides.
        let seed = &row["seed_only"];
        let thousands = serde_json::json!({
            "ops_k": out.ops_demand_per_s / 1000.0,
            "mds_capacity_k": f64::from(out.mds_capacity_per_s) / 1000.0,
            "ops_demand_curve_k": out.ops_demand_curve.iter().map(|x| x / 1000.0).collect::<Vec<_>>(),
        });
        compare_outputs(&format!("{label} (K)"), &thousands, seed, &mut diffs);

        let rounded = py_round(out.ops_demand_per_s / 1000.0, 1);
        let seed = float(&row["ledger"]["act2_result"]);
        if rounded.to_bits() != seed.to_bits() {
            diffs.push(format!(
                "{label}: ledger act2_result {rounded:?} != {seed:?}"
            ));
        }
    }
    assert_no_diffs(diffs);
}

#[test]
fn golden_points_cover_defaults_boundaries_and_every_choice() {
    let golden = golden();
    let act1_inputs: Vec<IoInputs> = golden["act1"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_value(r["inputs"].clone()).unwrap())
        .collect();
    assert!(act1_inputs.contains(&IoInputs::default()));
    for context in Context::ALL {
        for pattern in ReadPattern::ALL {
            let at = |f: &dyn Fn(&IoInputs) -> bool| {
                act1_inputs
                    .iter()
                    .any(|i| i.context == context && i.pattern == pattern && f(i))
            };
            assert!(at(&|i| i.workers == WORKERS.min) && at(&|i| i.workers == WORKERS.max));
            assert!(at(&|i| i.batch == BATCH.min) && at(&|i| i.batch == BATCH.max));
            assert!(at(&|i| i.osts == OSTS.min) && at(&|i| i.osts == OSTS.max));
        }
    }
    let act2_inputs: Vec<MdsInputs> = golden["act2"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_value(r["inputs"].clone()).unwrap())
        .collect();
    assert!(act2_inputs.contains(&MdsInputs::default()));
    for context in Context::ALL {
        for layout in DatasetLayout::ALL {
            let at = |f: &dyn Fn(&MdsInputs) -> bool| {
                act2_inputs
                    .iter()
                    .any(|i| i.context == context && i.layout == layout && f(i))
            };
            assert!(at(&|i| i.gpus == GPUS.min) && at(&|i| i.gpus == GPUS.max));
            assert!(at(
                &|i| i.workers_per_gpu == WORKERS.min && i.mds == MDS_NODES.min
            ));
            assert!(at(&|i| i.workers_per_gpu == WORKERS.max) && at(&|i| i.mds == MDS_NODES.max));
        }
    }
}

/// FNV-1a, 64 bit, as `seed_formulas.py` computes it.
struct Fnv64(u64);

impl Fnv64 {
    fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, data: [u8; 8]) {
        for b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn f64(&mut self, x: f64) {
        self.bytes(x.to_le_bytes());
    }
    fn u64(&mut self, n: u64) {
        self.bytes(n.to_le_bytes());
    }
    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

const CONTEXTS: [Context; 2] = [Context::Nvme, Context::DistributedFs];

#[test]
fn act1_matches_the_seed_over_the_full_input_grid() {
    let mut h = Fnv64::new();
    let mut points = 0;
    for context in CONTEXTS {
        for workers in WORKERS.values() {
            for batch in BATCH.values() {
                for pattern in ReadPattern::ALL {
                    for osts in OSTS.values() {
                        let inputs = IoInputs {
                            context,
                            workers,
                            batch,
                            pattern,
                            osts,
                        };
                        let o = act1::evaluate(&inputs);
                        for x in [
                            o.gpu_util_pct,
                            o.effective_bw_gbs,
                            o.per_gpu_bw_gbs,
                            o.batch_gb,
                            o.t_io_ms,
                            o.t_wait_ms,
                        ] {
                            h.f64(x);
                        }
                        h.u64(u64::from(o.prefetch_depth));
                        for x in [
                            o.pattern_factor,
                            o.worker_factor,
                            o.network_overhead,
                            o.storage_util_pct,
                        ] {
                            h.f64(x);
                        }
                        o.util_curve.iter().for_each(|&u| h.f64(u));
                        points += 1;
                    }
                }
            }
        }
    }
    assert_eq!(points, 2 * 16 * 16 * 3 * 12);
    assert_eq!(h.hex(), golden()["grid_digest"]["act1"].as_str().unwrap());
}

#[test]
fn act2_matches_the_seed_over_the_full_input_grid() {
    let mut h = Fnv64::new();
    let mut points = 0;
    for context in CONTEXTS {
        for gpus in GPUS.values() {
            for workers_per_gpu in WORKERS.values() {
                for layout in DatasetLayout::ALL {
                    for mds in MDS_NODES.values() {
                        let inputs = MdsInputs {
                            context,
                            gpus,
                            workers_per_gpu,
                            layout,
                            mds,
                        };
                        let o = act2::evaluate(&inputs);
                        h.f64(o.ops_demand_per_s);
                        h.u64(u64::from(o.mds_capacity_per_s));
                        h.f64(o.mds_util_pct);
                        h.u64(u64::from(o.mds_saturated));
                        h.u64(u64::from(o.needed_mds));
                        h.f64(o.bw_demand_gbs);
                        h.f64(o.bw_supply_gbs);
                        h.f64(o.bw_headroom_pct);
                        h.u64(u64::from(o.bw_saturated));
                        o.bw_demand_curve.iter().for_each(|&x| h.f64(x));
                        o.ops_demand_curve.iter().for_each(|&x| h.f64(x));
                        points += 1;
                    }
                }
            }
        }
    }
    assert_eq!(points, 2 * 32 * 16 * 3 * 8);
    assert_eq!(h.hex(), golden()["grid_digest"]["act2"].as_str().unwrap());
}

#[test]
fn ledger_rounding_matches_python_round_on_every_grid_value() {
    let golden = golden();
    let rows = golden["ledger_rounding"].as_array().unwrap();
    assert!(rows.len() > 500, "only {} rounding rows", rows.len());
    let mut diffs = Vec::new();
    for row in rows {
        let x = float(&row[0]);
        let digits = row[1].as_u64().unwrap() as usize;
        let python = float(&row[2]);
        let ours = py_round(x, digits);
        if ours.to_bits() != python.to_bits() {
            diffs.push(format!(
                "round({x:?}, {digits}): model {ours:?}, Python {python:?}"
            ));
        }
    }
    assert_no_diffs(diffs);
}
