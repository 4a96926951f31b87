//! Scoring against the witness, in lab-neutral terms.
//!
//! The grader service keeps every lab event a student's kernel sent it
//! (`POST /api/witness`), in the order and at the time it received them. For a
//! student with witnessed events, a submission is compared with that log:
//! every event it holds must have reached the witness with the same content,
//! in the same order, and it must hold every event the witness received before
//! it (or before its own last witnessed event). The first disagreement is
//! named, and the submission is scored on the witnessed events — those it
//! holds plus those received before it was handed in — by its lab
//! ([`crate::labs::LabScorer::witnessed`]), never on what it claims.

use crate::db::witness::{canonical, WitnessedRow};
use crate::encode::{parse_time, rfc3339};
use crate::validate::kind_name;
use chrono::{DateTime, Utc};
use mlsys_model::record::{Event, EventKind};
use mlsys_model::Act;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// One event as the service received it.
#[derive(Debug, Clone, PartialEq)]
pub struct WitnessedEvent {
    /// The event.
    pub event: Event,
    /// When the service received it (its clock).
    pub received_at: DateTime<Utc>,
    /// The request it came in: requests are numbered in receive order.
    pub batch: i64,
    /// SHA-256 of the event as stored (see [`canonical`]).
    pub sha256: String,
}

/// One student's witnessed events of a lab.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WitnessLog {
    /// The first content of each event id, in receive order.
    pub events: Vec<WitnessedEvent>,
    /// Ids received again with other content (evidence; the first counts).
    pub conflicts: Vec<WitnessedEvent>,
}

/// How the witness's facts are scored (the rubric's `[integrity]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WitnessRules {
    /// `witness = "required"`: unwitnessed work earns nothing, and so does a
    /// prediction whose lock order the witness could not attest.
    pub required: bool,
    /// How long after an act's first run was made its lock may reach the
    /// service and still count as witnessed before it (delivery delays, clocks).
    pub lock_grace: chrono::Duration,
}

/// Every witnessed log of a lab, by student, from the stored rows (in receive
/// order per student).
pub fn logs(rows: Vec<WitnessedRow>) -> BTreeMap<String, WitnessLog> {
    let mut logs: BTreeMap<String, WitnessLog> = BTreeMap::new();
    for row in rows {
        let (Ok(event), Some(received_at)) = (
            serde_json::from_str::<Event>(&row.event),
            parse_time(&row.received_at),
        ) else {
            continue; // the service stores only events it read
        };
        let witnessed = WitnessedEvent {
            event,
            received_at,
            batch: row.batch,
            sha256: row.sha256,
        };
        let log = logs.entry(row.student).or_default();
        if row.conflict {
            log.conflicts.push(witnessed);
        } else {
            log.events.push(witnessed);
        }
    }
    logs
}

/// A submission compared with its student's witnessed log.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement<'a> {
    /// The witnessed events it is scored on, in receive order.
    pub scored: Vec<&'a WitnessedEvent>,
    /// Where it first disagrees with the witness, in a sentence.
    pub mismatch: Option<String>,
}

/// Compares a submission's `events` with `log`; `handed_in_at` is the time it
/// is judged by (the service's receive time or the file's ctime).
pub fn judge<'a>(
    events: &[Event],
    log: &'a WitnessLog,
    handed_in_at: Option<DateTime<Utc>>,
) -> Judgement<'a> {
    let position: HashMap<Uuid, usize> = log
        .events
        .iter()
        .enumerate()
        .map(|(at, w)| (w.event.id, at))
        .collect();
    let held: HashSet<Uuid> = events.iter().map(|e| e.id).collect();
    let mut mismatch = None;
    let mut last: Option<usize> = None;
    for (index, event) in events.iter().enumerate() {
        let what = format!("event {index} ({}, {})", kind_name(&event.kind), event.id);
        let found = match position.get(&event.id) {
            None => {
                mismatch.get_or_insert_with(|| format!("{what} never reached the witness"));
                continue;
            }
            Some(&at) => at,
        };
        let witnessed = &log.events[found];
        if canonical(event).1 != witnessed.sha256 {
            mismatch.get_or_insert_with(|| {
                format!(
                    "{what} is not what the witness received at {}: {}",
                    rfc3339(witnessed.received_at),
                    differences(event, &witnessed.event)
                )
            });
        } else if last.is_some_and(|before| found < before) {
            mismatch.get_or_insert_with(|| {
                format!("{what} reached the witness before the event it follows")
            });
        }
        last = last.max(Some(found));
    }
    let before_hand_in = |w: &WitnessedEvent| handed_in_at.is_some_and(|t| w.received_at <= t);
    if mismatch.is_none() {
        let left_out = log.events.iter().enumerate().find(|(at, w)| {
            (last.is_some_and(|l| *at < l) || before_hand_in(w)) && !held.contains(&w.event.id)
        });
        if let Some((_, w)) = left_out {
            mismatch = Some(format!(
                "the witnessed event {} ({}, received {}) is missing from the submission",
                w.event.id,
                kind_name(&w.event.kind),
                rfc3339(w.received_at)
            ));
        }
    }
    Judgement {
        scored: log
            .events
            .iter()
            .filter(|w| held.contains(&w.event.id) || before_hand_in(w))
            .collect(),
        mismatch,
    }
}

/// The fields of `handed_in` that differ from the `witnessed` event, with the
/// witnessed values (e.g. `choice (witnessed "A")`).
fn differences(handed_in: &Event, witnessed: &Event) -> String {
    let (Ok(Value::Object(mine)), Ok(Value::Object(theirs))) = (
        serde_json::to_value(handed_in),
        serde_json::to_value(witnessed),
    ) else {
        return "its content differs".into();
    };
    let mut keys: Vec<&String> = mine.keys().chain(theirs.keys()).collect();
    keys.sort();
    keys.dedup();
    let differing: Vec<String> = keys
        .into_iter()
        .filter(|key| mine.get(*key) != theirs.get(*key))
        .map(|key| match theirs.get(key) {
            Some(value @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => {
                format!("{key} (witnessed {value})")
            }
            _ => key.clone(),
        })
        .collect();
    format!("its {} differ", differing.join(", "))
}

/// Whether a prediction lock reached the service before its act's first
/// instrument run (see [`lock_order`]).
#[derive(Debug, Clone, PartialEq)]
pub enum LockOrder {
    /// Received in an earlier request than the act's first run, and no later
    /// than the grace after that run was made (or the act has no run yet).
    Witnessed,
    /// Received before the act's first run, but later than the grace after
    /// that run was made (by the run's own time): the service was out of
    /// reach, so the order could not be witnessed.
    Late {
        /// When the lock reached the service.
        lock_received: DateTime<Utc>,
        /// When the first run says it was made.
        run_made: DateTime<Utc>,
    },
    /// The act's first run reached the service before the lock, or in the
    /// same request.
    NotBefore,
}

/// How the lock at `lock` (an index of `log`) of `act` stands against the
/// act's first witnessed instrument run.
pub fn lock_order(
    log: &[&WitnessedEvent],
    lock: usize,
    act: Act,
    grace: chrono::Duration,
) -> LockOrder {
    let first_run = log
        .iter()
        .find(|w| matches!(w.event.kind, EventKind::InstrumentRun { act: a, .. } if a == act));
    let Some(run) = first_run else {
        return LockOrder::Witnessed;
    };
    let lock = log[lock];
    if run.batch <= lock.batch {
        LockOrder::NotBefore
    } else if lock.received_at > run.event.at + grace {
        LockOrder::Late {
            lock_received: lock.received_at,
            run_made: run.event.at,
        }
    } else {
        LockOrder::Witnessed
    }
}
