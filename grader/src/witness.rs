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

#[cfg(test)]
mod tests {
    use super::*;

    /// A lab id (the witness does not read it).
    const LAB: &str = "t_lab";
    use mlsys_model::Choice;
    use serde_json::json;

    fn at(seconds: i64) -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
            + chrono::Duration::seconds(seconds)
    }

    fn event(n: u128, seconds: i64, kind: EventKind) -> Event {
        Event {
            id: Uuid::from_u128(n),
            at: at(seconds),
            lab: LAB.into(),
            kernel_version: "test".into(),
            kind,
        }
    }

    fn lock(choice: Choice) -> EventKind {
        EventKind::PredictionLocked {
            act: Act::ALL[0],
            choice,
        }
    }

    fn run(workers: u32) -> EventKind {
        EventKind::InstrumentRun {
            act: Act::ALL[0],
            inputs: json!({ "workers": workers }),
            source: Default::default(),
        }
    }

    /// The witness's log of `events`, each received `delay` seconds after it
    /// was made, one request each.
    fn witnessed(events: &[Event], delay: i64) -> WitnessLog {
        WitnessLog {
            events: events
                .iter()
                .enumerate()
                .map(|(batch, e)| WitnessedEvent {
                    event: e.clone(),
                    received_at: e.at + chrono::Duration::seconds(delay),
                    batch: batch as i64,
                    sha256: canonical(e).1,
                })
                .collect(),
            conflicts: Vec::new(),
        }
    }

    fn work() -> Vec<Event> {
        vec![
            event(1, 0, lock(Choice::A)),
            event(2, 10, run(4)),
            event(3, 20, run(8)),
        ]
    }

    #[test]
    fn a_submission_that_is_what_the_witness_received_agrees_and_is_scored_whole() {
        let events = work();
        let log = witnessed(&events, 1);
        let judged = judge(&events, &log, Some(at(60)));
        assert_eq!(judged.mismatch, None);
        assert_eq!(judged.scored.len(), 3);
    }

    #[test]
    fn each_kind_of_disagreement_names_the_first_event_that_disagrees() {
        let events = work();
        let log = witnessed(&events, 1);
        let mut changed = events.clone();
        changed[0].kind = lock(Choice::B);
        let invented = [events.clone(), vec![event(9, 30, run(16))]].concat();
        let missing = vec![events[0].clone(), events[2].clone()];
        let reordered = vec![events[0].clone(), events[2].clone(), events[1].clone()];
        for (submission, said) in [
            (
                changed,
                "event 0 (prediction_locked, 00000000-0000-0000-0000-000000000001) is not what \
                 the witness received at 2026-12-01T10:00:01.000000Z: its choice (witnessed \"A\") differ",
            ),
            (
                invented,
                "event 3 (instrument_run, 00000000-0000-0000-0000-000000000009) never reached \
                 the witness",
            ),
            (
                missing,
                "the witnessed event 00000000-0000-0000-0000-000000000002 (instrument_run, \
                 received 2026-12-01T10:00:11.000000Z) is missing from the submission",
            ),
            (
                reordered,
                "event 2 (instrument_run, 00000000-0000-0000-0000-000000000002) reached the \
                 witness before the event it follows",
            ),
        ] {
            let judged = judge(&submission, &log, Some(at(60)));
            assert_eq!(judged.mismatch.as_deref(), Some(said));
            let ids: Vec<u128> = judged.scored.iter().map(|w| w.event.id.as_u128()).collect();
            assert_eq!(ids, [1, 2, 3], "scored on what the witness received");
        }
    }

    #[test]
    fn a_lock_counts_as_witnessed_only_if_it_reached_the_service_before_the_first_run() {
        let grace = chrono::Duration::seconds(30);
        let events = work();
        let log = witnessed(&events, 1);
        let scored: Vec<&WitnessedEvent> = log.events.iter().collect();
        assert_eq!(
            lock_order(&scored, 0, Act::ALL[0], grace),
            LockOrder::Witnessed
        );

        // The lock and the first run in one request: not before it.
        let mut same = witnessed(&events, 1);
        same.events[1].batch = same.events[0].batch;
        let scored: Vec<&WitnessedEvent> = same.events.iter().collect();
        assert_eq!(
            lock_order(&scored, 0, Act::ALL[0], grace),
            LockOrder::NotBefore
        );

        // Everything arrived a minute late (the service was down): the order
        // could not be witnessed.
        let late = witnessed(&events, 60);
        let scored: Vec<&WitnessedEvent> = late.events.iter().collect();
        assert_eq!(
            lock_order(&scored, 0, Act::ALL[0], grace),
            LockOrder::Late {
                lock_received: at(60),
                run_made: at(10)
            }
        );
    }
}
