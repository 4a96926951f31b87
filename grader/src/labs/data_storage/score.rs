//! The lab's scoring rules: one submission's facts against the rubric, every
//! item with its points and the reason for them.
//!
//! Every instrument result is recomputed here from the run's recorded inputs
//! with the lab model; nothing the submission claims is used.

use super::facts::Facts;
use super::rubric::{ActRubric, DataStorageRubric, ScaleChallenge, UtilChallenge};
use crate::score::{round2, Item};
use mlsys_model::content::Question;
use mlsys_model::labs::data_storage::content::{is_correct, prediction, reflection};
use mlsys_model::labs::data_storage::session::instrument_magic;
use mlsys_model::labs::data_storage::{act1, act2, IoInputs, RunInputs, Session};
use mlsys_model::{Act, Choice};

/// Each act's items, in order (ids `<act>.<name>`).
pub const ACT_ITEMS: [&str; 5] = [
    "prediction_locked",
    "prediction_correct",
    "exploration",
    "reflection_correct",
    "challenge",
];

/// The design items, after both acts'.
pub const DESIGN_ITEMS: [&str; 2] = ["design.saved", "design.consistent"];

/// Every item: Act I's, Act II's, then the design's.
pub fn items(facts: &Facts, rubric: &DataStorageRubric) -> Vec<Item> {
    let session = &facts.session();
    let mut items = act_items(session, Act::Act1, &rubric.act1);
    items.push(act1_challenge(session, &rubric.act1.challenge));
    items.extend(act_items(session, Act::Act2, &rubric.act2));
    items.push(act2_challenge(session, &rubric.act2.challenge));
    items.extend(design_items(facts, rubric));
    items
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
            Item::full(
                id("prediction_locked"),
                rubric.prediction_locked,
                format!("prediction {choice} locked {when}"),
            )
        }
        None => Item::none(
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
        None => Item::none(id, max, format!("no {what} answer")),
        Some(choice) if is_correct(choice) => {
            Item::full(id, max, format!("{what} {choice} is correct"))
        }
        Some(choice) => Item::none(
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
    let id = "act1.challenge";
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
            return Item::full(
                id,
                rule.points,
                format!(
                    "reached {util:.1}% GPU utilization ({}); target {target}%",
                    run.summary()
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
            RunInputs::Act1(inputs).summary()
        ),
        None => format!("no %io run{context}"),
    };
    Item::none(id, rule.points, reason)
}

fn act2_challenge(session: &Session, rule: &ScaleChallenge) -> Item {
    let id = "act2.challenge";
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
            return Item::full(
                id,
                rule.points,
                format!(
                    "design not metadata-saturated at {} GPUs ({}: MDS at {:.1}% of capacity)",
                    inputs.gpus,
                    run.summary(),
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
    Item::none(id, rule.points, reason)
}

fn design_items(facts: &Facts, rubric: &DataStorageRubric) -> [Item; 2] {
    let rule = &rubric.design;
    let [saved, consistent] = DESIGN_ITEMS;
    match (&facts.saved_design, facts.design_saved_after_runs) {
        (Some(design), Some(after_runs)) => [
            Item::full(
                saved,
                rule.saved,
                format!(
                    "design saved: {} GPUs, {}, {} workers per GPU",
                    design.gpu_count, design.storage_type, design.data_workers_per_gpu
                ),
            ),
            if after_runs {
                Item::full(
                    consistent,
                    rule.consistent,
                    "saved after both instruments ran; its numbers match the recomputed runs",
                )
            } else {
                Item::none(
                    consistent,
                    rule.consistent,
                    "saved before both instruments ran: it records seed defaults, not the \
                     student's runs",
                )
            },
        ],
        _ => [
            Item::none(saved, rule.saved, "no design saved to the ledger"),
            Item::none(consistent, rule.consistent, "no design saved to the ledger"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::data_storage::rubric::DEFAULT_RUBRIC;
    use crate::labs::LabRubric;

    #[test]
    fn an_empty_session_scores_zero_with_reasons_for_every_listed_item() {
        let facts = Facts {
            predictions: Default::default(),
            reflections: Default::default(),
            runs: vec![],
            saved_design: None,
            design_saved_after_runs: None,
        };
        let rubric: DataStorageRubric = toml::from_str(DEFAULT_RUBRIC).unwrap();
        let items = items(&facts, &rubric);
        let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
        assert_eq!(ids, rubric.item_ids());
        assert!(items
            .iter()
            .all(|i| i.points == 0.0 && !i.reason.is_empty()));
        assert_eq!(items.iter().map(|i| i.max).sum::<f64>(), rubric.max_total());
        assert_eq!(items[4].reason, "no %io run on distributed_fs");
    }
}
