//! The scoring rules: one submission's replayed session against the rubric,
//! every item with its points and the reason for them.
//!
//! Every instrument result is recomputed here from the run's recorded inputs
//! with the lab model; nothing the submission claims is used.

use crate::facts::Facts;
use crate::rubric::{ActRubric, Deadline, Rubric, ScaleChallenge, UtilChallenge};
use chrono::{DateTime, Utc};
use mlsys_model::labs::data_storage::content::{is_correct, prediction, reflection, Question};
use mlsys_model::labs::data_storage::session::instrument_magic;
use mlsys_model::labs::data_storage::{act1, act2, IoInputs, MdsInputs, RunInputs, Session};
use mlsys_model::{Act, Choice};
use serde::{Deserialize, Serialize};

/// One rubric item as scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id, e.g. `act1.challenge`.
    pub id: String,
    /// Points earned.
    pub points: f64,
    /// Points possible.
    pub max: f64,
    /// Why, in a sentence.
    pub reason: String,
}

/// A submission's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionScore {
    /// Every item, Act I first, then Act II, then the design.
    pub items: Vec<Item>,
    /// Act I points.
    pub act1: f64,
    /// Act II points.
    pub act2: f64,
    /// Design points.
    pub design: f64,
    /// All points before the late penalty.
    pub raw_total: f64,
    /// Started days after the due date (0 when on time).
    pub late_days: u32,
    /// Points taken off for lateness.
    pub penalty: f64,
    /// The score: `raw_total - penalty`.
    pub total: f64,
}

/// Scores a submission made at `created_at` with these facts.
pub fn score(facts: &Facts, created_at: DateTime<Utc>, rubric: &Rubric) -> SubmissionScore {
    let session = &facts.session();
    let mut items = act_items(session, Act::Act1, &rubric.act1);
    items.push(act1_challenge(session, &rubric.act1.challenge));
    let act1_points = sum(&items);
    let mut act2_items = act_items(session, Act::Act2, &rubric.act2);
    act2_items.push(act2_challenge(session, &rubric.act2.challenge));
    let act2_points = sum(&act2_items);
    items.extend(act2_items);
    let design_items = design_items(facts, rubric);
    let design_points = sum(&design_items);
    items.extend(design_items);
    let raw_total = round2(act1_points + act2_points + design_points);
    let late_days = late_days(created_at, &rubric.deadline);
    let percent = (f64::from(late_days) * rubric.deadline.late_penalty_percent_per_day).min(100.0);
    let penalty = round2(raw_total * percent / 100.0);
    SubmissionScore {
        items,
        act1: act1_points,
        act2: act2_points,
        design: design_points,
        raw_total,
        late_days,
        penalty,
        total: round2(raw_total - penalty),
    }
}

/// Started days after the due date, 0 when within the grace period.
pub fn late_days(created_at: DateTime<Utc>, deadline: &Deadline) -> u32 {
    let grace = chrono::Duration::minutes(i64::from(deadline.grace_minutes));
    if created_at <= deadline.due + grace {
        return 0;
    }
    let seconds = (created_at - deadline.due).num_seconds().max(1);
    u32::try_from((seconds + 86_399) / 86_400).unwrap_or(u32::MAX)
}

fn act_items<C>(session: &Session, act: Act, rubric: &ActRubric<C>) -> Vec<Item> {
    let magic = instrument_magic(act);
    let id = |name: &str| format!("{act}.{name}");
    let predicted = session.predictions.get(&act).copied();
    let locked = match predicted {
        Some(choice) => {
            let runs = session.runs.iter().filter(|r| r.act() == act).count();
            let when = if runs == 0 {
                format!("(no {magic} run followed)")
            } else {
                format!("before the first of {runs} {magic} runs")
            };
            full(
                id("prediction_locked"),
                rubric.prediction_locked,
                format!("prediction {choice} locked {when}"),
            )
        }
        None => none(
            id("prediction_locked"),
            rubric.prediction_locked,
            "no prediction locked",
        ),
    };
    let correct = answer_item(
        id("prediction_correct"),
        rubric.prediction_correct,
        predicted,
        || prediction(act),
        "prediction",
    );
    let distinct = session.distinct_runs(act);
    let wanted = rubric.exploration.full_credit_configs;
    let share = (distinct as f64 / f64::from(wanted)).min(1.0);
    let exploration = Item {
        id: id("exploration"),
        points: round2(rubric.exploration.points * share),
        max: rubric.exploration.points,
        reason: format!("{distinct} distinct {magic} configurations (full credit at {wanted})"),
    };
    let reflected = session.reflections.get(&act).copied();
    let reflection_item = answer_item(
        id("reflection_correct"),
        rubric.reflection_correct,
        reflected,
        || reflection(act),
        "reflection",
    );
    vec![locked, correct, exploration, reflection_item]
}

fn answer_item(
    id: String,
    max: f64,
    answer: Option<Choice>,
    question: impl FnOnce() -> Question,
    what: &str,
) -> Item {
    match answer {
        None => none(id, max, format!("no {what} answer")),
        Some(choice) if is_correct(choice) => full(id, max, format!("{what} {choice} is correct")),
        Some(choice) => none(
            id,
            max,
            format!(
                "{what} {choice} (\"{}\") is not the answer",
                question().option(choice)
            ),
        ),
    }
}

fn act1_challenge(session: &Session, rule: &UtilChallenge) -> Item {
    let id = "act1.challenge".to_string();
    let target = rule.min_gpu_util_pct;
    let mut best: Option<(f64, IoInputs)> = None;
    for run in &session.runs {
        let RunInputs::Act1(inputs) = *run else {
            continue;
        };
        if rule.context.is_some_and(|c| c != inputs.context) {
            continue;
        }
        let util = act1::evaluate(&inputs).gpu_util_pct;
        if util >= target {
            return full(
                id,
                rule.points,
                format!(
                    "reached {util:.1}% GPU utilization ({}); target {target}%",
                    describe_io(&inputs)
                ),
            );
        }
        if best.is_none_or(|(b, _)| util > b) {
            best = Some((util, inputs));
        }
    }
    let context = rule.context.map_or(String::new(), |c| format!(" on {c}"));
    let reason = match best {
        Some((util, inputs)) => format!(
            "no %io run{context} reached {target}% GPU utilization; best {util:.1}% ({})",
            describe_io(&inputs)
        ),
        None => format!("no %io run{context}"),
    };
    none(id, rule.points, reason)
}

fn act2_challenge(session: &Session, rule: &ScaleChallenge) -> Item {
    let id = "act2.challenge".to_string();
    let mut saturated_at_scale = 0;
    for run in &session.runs {
        let RunInputs::Act2(inputs) = *run else {
            continue;
        };
        if rule.context.is_some_and(|c| c != inputs.context) || inputs.gpus < rule.min_gpus {
            continue;
        }
        let outputs = act2::evaluate(&inputs);
        if !outputs.mds_saturated {
            return full(
                id,
                rule.points,
                format!(
                    "design not metadata-saturated at {} GPUs ({}: MDS at {:.1}% of capacity)",
                    inputs.gpus,
                    describe_mds(&inputs),
                    outputs.mds_util_pct
                ),
            );
        }
        saturated_at_scale += 1;
    }
    let context = rule.context.map_or(String::new(), |c| format!(" on {c}"));
    let reason = if saturated_at_scale > 0 {
        format!(
            "all {saturated_at_scale} %mds designs{context} at ≥ {} GPUs saturate the metadata servers",
            rule.min_gpus
        )
    } else {
        format!("no %mds design{context} at ≥ {} GPUs", rule.min_gpus)
    };
    none(id, rule.points, reason)
}

fn design_items(facts: &Facts, rubric: &Rubric) -> Vec<Item> {
    let rule = &rubric.design;
    match (&facts.saved_design, facts.design_saved_after_runs) {
        (Some(design), Some(after_runs)) => {
            let saved = full(
                "design.saved".into(),
                rule.saved,
                format!(
                    "design saved: {} GPUs, {}, {} workers per GPU",
                    design.gpu_count, design.storage_type, design.data_workers_per_gpu
                ),
            );
            let consistent = if after_runs {
                full(
                    "design.consistent".into(),
                    rule.consistent,
                    "saved after both instruments ran; its numbers match the recomputed runs",
                )
            } else {
                none("design.consistent".into(), rule.consistent, "saved before both instruments ran: it records seed defaults, not the student's runs")
            };
            vec![saved, consistent]
        }
        _ => vec![
            none(
                "design.saved".into(),
                rule.saved,
                "no design saved to the ledger",
            ),
            none(
                "design.consistent".into(),
                rule.consistent,
                "no design saved to the ledger",
            ),
        ],
    }
}

fn describe_io(inputs: &IoInputs) -> String {
    format!(
        "{}, {} workers, batch {}, {} reads, {} OSTs",
        inputs.context, inputs.workers, inputs.batch, inputs.pattern, inputs.osts
    )
}

fn describe_mds(inputs: &MdsInputs) -> String {
    format!(
        "{}, {} workers per GPU, {}, {} MDS",
        inputs.context, inputs.workers_per_gpu, inputs.layout, inputs.mds
    )
}

fn full(id: String, max: f64, reason: impl Into<String>) -> Item {
    Item {
        id,
        points: max,
        max,
        reason: reason.into(),
    }
}

fn none(id: String, max: f64, reason: impl Into<String>) -> Item {
    Item {
        id,
        points: 0.0,
        max,
        reason: reason.into(),
    }
}

fn sum(items: &[Item]) -> f64 {
    round2(items.iter().map(|i| i.points).sum())
}

/// Rounds to 2 decimals (grades are shown with 2).
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline() -> Deadline {
        Rubric::default_rubric().deadline
    }

    #[test]
    fn late_days_count_started_days_after_the_grace_period() {
        let d = deadline();
        let at = |minutes: i64| d.due + chrono::Duration::minutes(minutes);
        assert_eq!(late_days(at(-60), &d), 0);
        assert_eq!(late_days(at(15), &d), 0, "inside the 15-minute grace");
        assert_eq!(late_days(at(16), &d), 1);
        assert_eq!(late_days(at(24 * 60), &d), 1);
        assert_eq!(late_days(at(24 * 60 + 1), &d), 2);
    }

    #[test]
    fn an_empty_session_scores_zero_with_reasons() {
        let facts = Facts {
            predictions: Default::default(),
            reflections: Default::default(),
            runs: vec![],
            saved_design: None,
            design_saved_after_runs: None,
        };
        let rubric = Rubric::default_rubric();
        let s = score(&facts, rubric.deadline.due, &rubric);
        assert_eq!(s.total, 0.0);
        assert_eq!(s.items.len(), 12);
        assert!(s
            .items
            .iter()
            .all(|i| i.points == 0.0 && !i.reason.is_empty()));
        assert_eq!(
            s.items.iter().map(|i| i.max).sum::<f64>(),
            rubric.max_total()
        );
        assert_eq!(s.items[4].reason, "no %io run on distributed_fs");
    }
}
