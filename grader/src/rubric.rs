//! The rubric: points, thresholds, deadline and counting policy, read from TOML.
//!
//! The default rubric (`grader/rubric.toml`) is built into the binary; an
//! instructor passes their own copy with `--rubric`.

use crate::error::GraderError;
use chrono::{DateTime, Utc};
use mlsys_model::labs::data_storage::constants::GPUS;
use mlsys_model::labs::data_storage::{Context, LAB_ID};
use mlsys_model::Act;
use serde::Deserialize;
use std::path::Path;

/// The rubric shipped with the grader.
pub const DEFAULT_RUBRIC: &str = include_str!("../rubric.toml");

/// A whole rubric.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// The lab it scores (`v2_04`).
    pub lab: String,
    /// How exports name the grade.
    pub assignment: Assignment,
    /// Due date, late penalty, counting policy.
    pub deadline: Deadline,
    /// Act I items.
    pub act1: ActRubric<UtilChallenge>,
    /// Act II items.
    pub act2: ActRubric<ScaleChallenge>,
    /// The ledger design items.
    pub design: DesignRubric,
}

/// The assignment as the gradebook knows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// Its title.
    pub title: String,
    /// Its Canvas id, if known.
    #[serde(default)]
    pub canvas_id: Option<u64>,
    /// The value of Canvas's Section column.
    #[serde(default)]
    pub section: String,
}

/// When the lab is due and what lateness costs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    /// The due date (a TOML offset date-time, or an RFC 3339 string).
    #[serde(deserialize_with = "utc_datetime")]
    pub due: DateTime<Utc>,
    /// Minutes after `due` still counted on time.
    #[serde(default)]
    pub grace_minutes: u32,
    /// Percent of the earned points taken off per started day late.
    pub late_penalty_percent_per_day: f64,
    /// Which submission counts.
    #[serde(default)]
    pub policy: CountingPolicy,
}

/// Which of a student's submissions counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountingPolicy {
    /// The latest on time; if none, the latest late one.
    #[default]
    LatestBeforeDue,
    /// The latest, on time or not.
    Latest,
    /// The highest score after the late penalty (the latest among equals).
    Best,
}

impl CountingPolicy {
    /// The name the rubric uses.
    pub fn name(self) -> &'static str {
        match self {
            CountingPolicy::LatestBeforeDue => "latest_before_due",
            CountingPolicy::Latest => "latest",
            CountingPolicy::Best => "best",
        }
    }
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

impl Rubric {
    /// Parses and checks a rubric; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Rubric, GraderError> {
        let error = |message: String| GraderError::Rubric {
            path: origin.to_string(),
            message,
        };
        let rubric: Rubric = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        rubric.check().map_err(error)?;
        Ok(rubric)
    }

    /// The built-in rubric.
    pub fn default_rubric() -> Rubric {
        Rubric::parse(DEFAULT_RUBRIC, "<built-in>").expect("the shipped rubric is valid")
    }

    /// Reads the rubric at `path`, or the built-in one; returns it with its text and origin.
    pub fn load(path: Option<&Path>) -> Result<(Rubric, String, String), GraderError> {
        match path {
            None => Ok((
                Rubric::default_rubric(),
                DEFAULT_RUBRIC.to_string(),
                "<built-in>".to_string(),
            )),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(GraderError::io(path))?;
                let origin = path.display().to_string();
                Ok((Rubric::parse(&text, &origin)?, text, origin))
            }
        }
    }

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

    /// All the points there are.
    pub fn max_total(&self) -> f64 {
        self.act_max(Act::Act1) + self.act_max(Act::Act2) + self.design_max()
    }

    fn check(&self) -> Result<(), String> {
        if self.lab != LAB_ID {
            return Err(format!(
                "lab is {:?}; this grader scores {LAB_ID}",
                self.lab
            ));
        }
        if self.assignment.title.trim().is_empty() {
            return Err("assignment.title must not be empty".into());
        }
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
        if self.max_total() <= 0.0 {
            return Err("the rubric awards no points".into());
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
        let penalty = self.deadline.late_penalty_percent_per_day;
        if !(0.0..=100.0).contains(&penalty) {
            return Err(format!(
                "deadline.late_penalty_percent_per_day must be between 0 and 100, got {penalty}"
            ));
        }
        Ok(())
    }
}

/// Reads a TOML offset date-time (or an RFC 3339 string) as UTC.
fn utc_datetime<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Toml(toml::value::Datetime),
        Text(String),
    }
    let text = match Either::deserialize(d)? {
        Either::Toml(datetime) => datetime.to_string(),
        Either::Text(text) => text,
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "due must be a date-time with an offset, e.g. 2026-12-14T23:59:00Z ({e}): {text}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        Rubric::parse(text, "test.toml").unwrap_err().to_string()
    }

    #[test]
    fn the_built_in_rubric_totals_25_points() {
        let rubric = Rubric::default_rubric();
        assert_eq!(rubric.act_max(Act::Act1), 10.0);
        assert_eq!(rubric.act_max(Act::Act2), 10.0);
        assert_eq!(rubric.design_max(), 5.0);
        assert_eq!(rubric.deadline.policy, CountingPolicy::LatestBeforeDue);
        assert_eq!(rubric.act1.challenge.context, Some(Context::DistributedFs));
        assert_eq!(rubric.act2.challenge.min_gpus, 2048);
    }

    #[test]
    fn mistakes_are_named() {
        let unknown = DEFAULT_RUBRIC.replace("[design]", "[design]\nbonus = 1.0");
        assert!(
            error_of(&unknown).contains("unknown field `bonus`"),
            "{}",
            error_of(&unknown)
        );
        let util = DEFAULT_RUBRIC.replace("min_gpu_util_pct = 80.0", "min_gpu_util_pct = 180.0");
        assert!(error_of(&util).contains("min_gpu_util_pct must be between 0 and 100, got 180"));
        let due = DEFAULT_RUBRIC.replace("due = 2026-12-14T23:59:00Z", "due = 2026-12-14T23:59:00");
        assert!(
            error_of(&due).contains("due must be a date-time with an offset"),
            "{}",
            error_of(&due)
        );
        let policy = DEFAULT_RUBRIC.replace("\"latest_before_due\"", "\"earliest\"");
        assert!(
            error_of(&policy).contains("unknown variant `earliest`"),
            "{}",
            error_of(&policy)
        );
        let lab = DEFAULT_RUBRIC.replace("lab = \"v2_04\"", "lab = \"v2_05\"");
        assert!(error_of(&lab).starts_with("rubric test.toml: lab is \"v2_05\""));
    }

    #[test]
    fn a_quoted_due_date_is_read_too() {
        let text = DEFAULT_RUBRIC.replace(
            "due = 2026-12-14T23:59:00Z",
            "due = \"2026-12-15T01:59:00+02:00\"",
        );
        let rubric = Rubric::parse(&text, "t").unwrap();
        assert_eq!(rubric.deadline.due, Rubric::default_rubric().deadline.due);
    }
}
