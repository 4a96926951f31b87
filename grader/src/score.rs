//! Scoring one submission: its lab's items (scored by the lab's rules from the
//! stored facts, every result recomputed), the late penalty and the total.

use crate::flags::Flag;
use crate::rubric::{Deadline, Rubric};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One rubric item as scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id `<group>.<name>` (an act's items have the act's id as group).
    pub id: String,
    /// Points earned.
    pub points: f64,
    /// Points possible.
    pub max: f64,
    /// Why, in a sentence.
    pub reason: String,
}

impl Item {
    /// An item earning all its points.
    pub fn full(id: impl Into<String>, max: f64, reason: impl Into<String>) -> Item {
        Item {
            id: id.into(),
            points: max,
            max,
            reason: reason.into(),
        }
    }

    /// An item earning none of its points.
    pub fn none(id: impl Into<String>, max: f64, reason: impl Into<String>) -> Item {
        Item {
            id: id.into(),
            points: 0.0,
            max,
            reason: reason.into(),
        }
    }

    /// The group of item `id`: the part before the first dot.
    pub fn group_of(id: &str) -> &str {
        id.split('.').next().unwrap_or(id)
    }
}

/// Each group's points (in the order of `groups`): the sum of its items'
/// points, rounded to 2 decimals; a group without items has 0 (not -0, which
/// an empty `sum` of floats gives and exports would print as `-0.00`).
pub fn group_totals(items: &[Item], groups: &[String]) -> Vec<f64> {
    groups
        .iter()
        .map(|group| {
            round2(
                items
                    .iter()
                    .filter(|item| Item::group_of(&item.id) == group)
                    .fold(0.0, |sum, item| sum + item.points),
            )
        })
        .collect()
}

/// A submission's score.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionScore {
    /// Every item, in the lab's order.
    pub items: Vec<Item>,
    /// All points before the late penalty.
    pub raw_total: f64,
    /// Started days after the due date (0 when on time).
    pub late_days: u32,
    /// Points taken off for lateness.
    pub penalty: f64,
    /// The score: `raw_total - penalty`.
    pub total: f64,
    /// What marks it for the instructor's decision.
    pub flags: Vec<Flag>,
}

/// Scores a submission handed in at `handed_in` from its facts; without a
/// time (none could be read) it is never on time. Facts that cannot be read
/// score 0 with the reason.
pub fn score(facts: &str, handed_in: Option<DateTime<Utc>>, rubric: &Rubric) -> SubmissionScore {
    let items = match rubric.scoring.score(facts) {
        Ok(items) => items,
        Err(e) => {
            let reason = format!("its stored facts cannot be read ({e}); ingest it again");
            return SubmissionScore {
                items: vec![Item::none("validation", rubric.max_total(), reason)],
                raw_total: 0.0,
                late_days: 0,
                penalty: 0.0,
                total: 0.0,
                flags: Vec::new(),
            };
        }
    };
    let raw_total = round2(
        group_totals(&items, rubric.groups())
            .iter()
            .fold(0.0, |a, b| a + b),
    );
    let late_days = handed_in.map_or(u32::MAX, |at| late_days(at, &rubric.deadline));
    let percent = (f64::from(late_days) * rubric.deadline.late_penalty_percent_per_day).min(100.0);
    let penalty = round2(raw_total * percent / 100.0);
    SubmissionScore {
        items,
        raw_total,
        late_days,
        penalty,
        total: round2(raw_total - penalty),
        flags: Vec::new(),
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

/// Rounds to 2 decimals (grades are shown with 2).
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::Scorers;

    fn builtin() -> Rubric {
        Rubric::builtin(Scorers::builtin().pick(None).unwrap())
    }

    #[test]
    fn late_days_count_started_days_after_the_grace_period() {
        let d = builtin().deadline;
        let at = |minutes: i64| d.due + chrono::Duration::minutes(minutes);
        assert_eq!(late_days(at(-60), &d), 0);
        assert_eq!(late_days(at(15), &d), 0, "inside the 15-minute grace");
        assert_eq!(late_days(at(16), &d), 1);
        assert_eq!(late_days(at(24 * 60), &d), 1);
        assert_eq!(late_days(at(24 * 60 + 1), &d), 2);
    }

    #[test]
    fn groups_total_their_items_and_unreadable_facts_score_zero() {
        let items = [
            Item::full("a.x", 1.0 / 3.0, ""),
            Item::full("b.x", 2.0, ""),
            Item::full("a.y", 1.0 / 3.0, ""),
        ];
        let groups = ["a".to_string(), "b".to_string(), "c".to_string()];
        let totals = group_totals(&items, &groups);
        assert_eq!(totals, [0.67, 2.0, 0.0]);
        assert!(totals[2].is_sign_positive(), "exported as 0.00, not -0.00");
        let rubric = builtin();
        let late = rubric.deadline.due + chrono::Duration::days(3);
        let unreadable = score("{", Some(late), &rubric);
        assert_eq!((unreadable.total, unreadable.late_days), (0.0, 0));
        assert_eq!(unreadable.items.len(), 1);
        assert_eq!(unreadable.items[0].max, rubric.max_total());
        assert!(unreadable.items[0].reason.contains("ingest it again"));
    }
}
