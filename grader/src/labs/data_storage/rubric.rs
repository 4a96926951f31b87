//! The lab's rubric sections: per act, its items' points, exploration credit
//! and design challenge; and the ledger design items.

use super::facts::Facts;
use super::score;
use crate::labs::LabRubric;
use crate::rubric::LabSections;
use crate::score::Item;
use mlsys_model::labs::data_storage::constants::GPUS;
use mlsys_model::labs::data_storage::Context;
use mlsys_model::Act;
use serde::Deserialize;

/// The lab's built-in rubric.
pub const DEFAULT_RUBRIC: &str = include_str!("rubric.toml");

/// The lab's sections of a rubric file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DataStorageRubric {
    /// Act I items.
    pub act1: ActRubric<UtilChallenge>,
    /// Act II items.
    pub act2: ActRubric<ScaleChallenge>,
    /// The ledger design items.
    pub design: DesignRubric,
}

/// One act's items; `C` is the act's design challenge.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActRubric<C> {
    /// Points for a prediction locked before the first instrument run.
    pub prediction_locked: f64,
    /// Points for a correct prediction.
    pub prediction_correct: f64,
    /// Points for a correct reflection (first answer).
    pub reflection_correct: f64,
    /// Points for exploring distinct configurations.
    pub exploration: Exploration,
    /// The act's design challenge.
    pub challenge: C,
}

impl<C> ActRubric<C> {
    /// The points of the act's items other than its challenge.
    pub fn max_without_challenge(&self) -> f64 {
        self.prediction_locked
            + self.prediction_correct
            + self.reflection_correct
            + self.exploration.points
    }
}

/// Exploration credit: linear in distinct configurations up to full credit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exploration {
    /// Full points.
    pub points: f64,
    /// Distinct configurations for full points.
    pub full_credit_configs: u32,
}

/// Act I's challenge: reach a GPU utilization in a context.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UtilChallenge {
    /// Points.
    pub points: f64,
    /// The context the run must use (any when absent).
    #[serde(default)]
    pub context: Option<Context>,
    /// Minimum GPU utilization, %.
    pub min_gpu_util_pct: f64,
}

/// Act II's challenge: a design at scale whose metadata servers keep up.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleChallenge {
    /// Points.
    pub points: f64,
    /// The context the design must use (any when absent).
    #[serde(default)]
    pub context: Option<Context>,
    /// Minimum GPU count.
    pub min_gpus: u32,
}

/// The ledger design items.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignRubric {
    /// Points for saving a design.
    pub saved: f64,
    /// Points for a design saved after both instruments ran.
    pub consistent: f64,
}

impl DataStorageRubric {
    /// The points of one act.
    pub fn act_max(&self, act: Act) -> f64 {
        match act {
            Act::Act1 => self.act1.max_without_challenge() + self.act1.challenge.points,
            Act::Act2 => self.act2.max_without_challenge() + self.act2.challenge.points,
        }
    }

    /// The points of the design items.
    pub fn design_max(&self) -> f64 {
        self.design.saved + self.design.consistent
    }
}

impl LabSections for DataStorageRubric {
    const SECTIONS: &'static [&'static str] = &["act1", "act2", "design"];
}

impl LabRubric for DataStorageRubric {
    fn check(&self) -> Result<(), String> {
        let points = [
            ("act1.prediction_locked", self.act1.prediction_locked),
            ("act1.prediction_correct", self.act1.prediction_correct),
            ("act1.reflection_correct", self.act1.reflection_correct),
            ("act1.exploration.points", self.act1.exploration.points),
            ("act1.challenge.points", self.act1.challenge.points),
            ("act2.prediction_locked", self.act2.prediction_locked),
            ("act2.prediction_correct", self.act2.prediction_correct),
            ("act2.reflection_correct", self.act2.reflection_correct),
            ("act2.exploration.points", self.act2.exploration.points),
            ("act2.challenge.points", self.act2.challenge.points),
            ("design.saved", self.design.saved),
            ("design.consistent", self.design.consistent),
        ];
        for (name, value) in points {
            if !(value.is_finite() && value >= 0.0) {
                return Err(format!("{name} must be a number ≥ 0, got {value}"));
            }
        }
        for (name, e) in [
            ("act1", &self.act1.exploration),
            ("act2", &self.act2.exploration),
        ] {
            if e.full_credit_configs == 0 {
                return Err(format!(
                    "{name}.exploration.full_credit_configs must be ≥ 1"
                ));
            }
        }
        let util = self.act1.challenge.min_gpu_util_pct;
        if !(0.0..=100.0).contains(&util) {
            return Err(format!(
                "act1.challenge.min_gpu_util_pct must be between 0 and 100, got {util}"
            ));
        }
        let gpus = self.act2.challenge.min_gpus;
        if gpus > GPUS.max {
            return Err(format!(
                "act2.challenge.min_gpus must be at most {} (the lab's largest cluster), got {gpus}",
                GPUS.max
            ));
        }
        Ok(())
    }

    fn item_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for act in Act::ALL {
            for name in score::ACT_ITEMS {
                ids.push(format!("{act}.{name}"));
            }
        }
        ids.extend(score::DESIGN_ITEMS.map(String::from));
        ids
    }

    /// Summed act by act, then the design, as the grader always has (so the
    /// exported maximum is the same number, to the last bit).
    fn max_total(&self) -> f64 {
        self.act_max(Act::Act1) + self.act_max(Act::Act2) + self.design_max()
    }

    fn score(&self, facts: &str) -> Result<Vec<Item>, String> {
        let facts: Facts = serde_json::from_str(facts).map_err(|e| e.to_string())?;
        Ok(score::items(&facts, self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::data_storage::SCORER;
    use crate::labs::Scorers;
    use crate::rubric::{CountingPolicy, Rubric};

    fn builtin() -> DataStorageRubric {
        toml::from_str(DEFAULT_RUBRIC).unwrap()
    }

    fn error_of(text: &str) -> String {
        Rubric::parse(&Scorers::builtin(), text, "test.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_built_in_rubric_totals_25_points() {
        let sections = builtin();
        assert_eq!(sections.act_max(Act::Act1), 10.0);
        assert_eq!(sections.act_max(Act::Act2), 10.0);
        assert_eq!(sections.design_max(), 5.0);
        assert_eq!(
            sections.act1.challenge.context,
            Some(Context::DistributedFs)
        );
        assert_eq!(sections.act2.challenge.min_gpus, 2048);
        let rubric = Rubric::builtin(&SCORER);
        assert_eq!(rubric.max_total(), 25.0);
        assert_eq!(rubric.deadline.policy, CountingPolicy::LatestBeforeDue);
        assert_eq!(rubric.groups(), ["act1", "act2", "design"]);
        assert_eq!(rubric.scoring.item_ids().len(), 12);
    }

    #[test]
    fn mistakes_are_named() {
        let unknown = DEFAULT_RUBRIC.replace("[design]", "[design]\nbonus = 1.0");
        assert!(
            error_of(&unknown).contains("unknown field `bonus`, expected `saved` or `consistent`"),
            "{}",
            error_of(&unknown)
        );
        let util = DEFAULT_RUBRIC.replace("min_gpu_util_pct = 80.0", "min_gpu_util_pct = 180.0");
        assert!(error_of(&util).contains("min_gpu_util_pct must be between 0 and 100, got 180"));
        let section = DEFAULT_RUBRIC.replace("[design]", "[designx]");
        assert!(
            error_of(&section).contains(
                "unknown field `designx`, expected one of `lab`, `assignment`, `deadline`, \
                 `act1`, `act2`, `design`"
            ),
            "{}",
            error_of(&section)
        );
        let lab = DEFAULT_RUBRIC.replace("lab = \"v2_04\"", "lab = \"v2_05\"");
        assert!(error_of(&lab).starts_with("rubric test.toml: lab is \"v2_05\""));
        let gpus = DEFAULT_RUBRIC.replace("min_gpus = 2048", "min_gpus = 9999");
        assert!(error_of(&gpus).ends_with(
            "act2.challenge.min_gpus must be at most 4096 (the lab's largest cluster), got 9999"
        ));
    }
}
