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

    /// The built-in rubric as a TOML table.
    fn builtin_table() -> toml::Table {
        toml::from_str(DEFAULT_RUBRIC).unwrap()
    }

    /// The table holding `path` (dotted keys) in `rubric`, and the last key.
    fn slot<'t>(rubric: &'t mut toml::Table, path: &'t str) -> (&'t mut toml::Table, &'t str) {
        let (tables, key) = path.rsplit_once('.').unwrap_or(("", path));
        let table = tables
            .split('.')
            .filter(|name| !name.is_empty())
            .fold(rubric, |table, name| table[name].as_table_mut().unwrap());
        assert!(table.contains_key(key), "{path}");
        (table, key)
    }

    /// The built-in rubric with each `(path, value)` set.
    fn with(edits: &[(&str, toml::Value)]) -> String {
        let mut rubric = builtin_table();
        for (path, value) in edits {
            let (table, key) = slot(&mut rubric, path);
            table.insert(key.to_string(), value.clone());
        }
        toml::to_string(&rubric).unwrap()
    }

    fn accepted(text: &str) -> Rubric {
        Rubric::parse(&Scorers::builtin(), text, "test.toml").unwrap()
    }

    /// Every key holding points.
    const POINTS: [&str; 12] = [
        "act1.prediction_locked",
        "act1.prediction_correct",
        "act1.reflection_correct",
        "act1.exploration.points",
        "act1.challenge.points",
        "act2.prediction_locked",
        "act2.prediction_correct",
        "act2.reflection_correct",
        "act2.exploration.points",
        "act2.challenge.points",
        "design.saved",
        "design.consistent",
    ];

    #[test]
    fn points_that_are_negative_nan_or_infinite_are_refused_with_their_key() {
        for key in POINTS {
            for (value, shown) in [
                (-1.0, "-1"),
                (-0.01, "-0.01"),
                (f64::NAN, "NaN"),
                (f64::INFINITY, "inf"),
                (f64::NEG_INFINITY, "-inf"),
            ] {
                assert_eq!(
                    error_of(&with(&[(key, value.into())])),
                    format!("rubric test.toml: {key} must be a number ≥ 0, got {shown}")
                );
            }
            let mut table = builtin_table();
            let (section, name) = slot(&mut table, key);
            let points = section[name].as_float().unwrap();
            let rubric = accepted(&with(&[(key, 0.0.into())]));
            assert_eq!(rubric.max_total(), 25.0 - points, "{key} = 0 is allowed");
        }
    }

    #[test]
    fn thresholds_out_of_range_are_refused_with_their_key() {
        let util = "act1.challenge.min_gpu_util_pct";
        for (value, shown) in [
            (-0.5, "-0.5"),
            (100.5, "100.5"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(
                error_of(&with(&[(util, value.into())])),
                format!("rubric test.toml: {util} must be between 0 and 100, got {shown}")
            );
        }
        for value in [0.0, 100.0] {
            accepted(&with(&[(util, value.into())]));
        }
        let gpus = "act2.challenge.min_gpus";
        let largest = i64::from(GPUS.max);
        assert_eq!(
            error_of(&with(&[(gpus, (largest + 1).into())])),
            format!(
                "rubric test.toml: {gpus} must be at most {largest} (the lab's largest \
                 cluster), got {}",
                largest + 1
            )
        );
        accepted(&with(&[(gpus, largest.into())]));
        for act in ["act1", "act2"] {
            let configs = format!("{act}.exploration.full_credit_configs");
            assert_eq!(
                error_of(&with(&[(&configs, 0.into())])),
                format!("rubric test.toml: {configs} must be ≥ 1")
            );
            accepted(&with(&[(&configs, 1.into())]));
        }
    }

    #[test]
    fn a_rubric_worth_no_points_or_too_many_to_score_is_refused() {
        let zero: Vec<(&str, toml::Value)> = POINTS.iter().map(|k| (*k, 0.0.into())).collect();
        assert_eq!(
            error_of(&with(&zero)),
            "rubric test.toml: the rubric awards no points"
        );
        // Every key finite, but their sum is not.
        let huge: Vec<(&str, toml::Value)> = POINTS.iter().map(|k| (*k, f64::MAX.into())).collect();
        assert_eq!(
            error_of(&with(&huge)),
            "rubric test.toml: the rubric's points add up to inf, more than a grade can hold"
        );
        // A finite total whose hundredths are not finite cannot be rounded or scored.
        assert_eq!(
            error_of(&with(&[("design.saved", 1e307.into())])),
            "rubric test.toml: the rubric's points add up to 1e307, more than a grade can hold"
        );
        let large = accepted(&with(&[("design.saved", 1e6.into())]));
        assert_eq!(large.max_total(), 1e6 + 23.0);
    }

    #[test]
    fn mistakes_are_named() {
        let unknown = DEFAULT_RUBRIC.replace("[design]", "[design]\nbonus = 1.0");
        assert!(
            error_of(&unknown).contains("unknown field `bonus`, expected `saved` or `consistent`"),
            "{}",
            error_of(&unknown)
        );
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
    }
}
