//! The best configuration a student reached in each act, recomputed with the
//! lab's model from the recorded run inputs: Act I's highest GPU utilization,
//! Act II's lowest metadata-server load.

use super::facts::Facts;
use crate::labs::Measure;
use mlsys_model::labs::data_storage::{act1, act2, RunInputs};
use mlsys_model::Act;

/// Act I's and Act II's measures, in that order.
pub fn measures() -> Vec<Measure> {
    vec![
        Measure {
            id: format!("{}.gpu_util", Act::Act1),
            title: format!("{}: best GPU utilization reached", Act::Act1.title()),
            unit: "GPU utilization, %".into(),
            range: (0.0, 100.0),
        },
        Measure {
            id: format!("{}.mds_load", Act::Act2),
            title: format!("{}: lowest metadata-server load reached", Act::Act2.title()),
            unit: "metadata demand over MDS capacity, %".into(),
            range: (0.0, 200.0),
        },
    ]
}

/// The best of `facts`' runs on each measure (`None` for an act without runs).
pub fn reached(facts: &Facts) -> Vec<Option<f64>> {
    let mut best_util: Option<f64> = None;
    let mut lowest_load: Option<f64> = None;
    for run in &facts.runs {
        match run {
            RunInputs::Act1(inputs) => {
                let util = act1::evaluate(inputs).gpu_util_pct;
                best_util = Some(best_util.map_or(util, |b| b.max(util)));
            }
            RunInputs::Act2(inputs) => {
                let load = act2::evaluate(inputs).mds_util_pct;
                lowest_load = Some(lowest_load.map_or(load, |b| b.min(load)));
            }
        }
    }
    vec![best_util, lowest_load]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::data_storage::synth::synthetic_session;
    use crate::synth::Rng;

    #[test]
    fn the_best_reached_is_the_models_figure_of_the_best_run() {
        let submission = synthetic_session("ada", chrono::Utc::now(), 40, &mut Rng::new(5));
        let scorer = &crate::labs::data_storage::SCORER;
        let audited = crate::labs::LabScorer::audit(scorer, &submission).unwrap();
        let facts: Facts = serde_json::from_str(&audited.facts).unwrap();
        let got = reached(&facts);
        let utils: Vec<f64> = facts
            .runs
            .iter()
            .filter_map(|r| match r {
                RunInputs::Act1(i) => Some(act1::evaluate(i).gpu_util_pct),
                RunInputs::Act2(_) => None,
            })
            .collect();
        assert!(!utils.is_empty());
        assert_eq!(got[0], utils.iter().copied().reduce(f64::max));
        assert!(got[0].unwrap() <= 100.0);
        let empty = Facts {
            runs: vec![],
            ..facts
        };
        assert_eq!(reached(&empty), vec![None, None]);
        assert_eq!(measures().len(), got.len());
    }
}
