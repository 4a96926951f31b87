//! The lab's facts from what the witness received of a submission: the events
//! applied under the lab's rules in the order the service received them (one
//! the rules refuse there, or a saved design whose numbers are not its runs',
//! is left out), and each act's prediction only if its lock reached the
//! service before the act's first run.

use super::audit::first_difference;
use super::facts::Facts;
use crate::flags::{Flag, LOCK_ORDER_UNWITNESSED, WITNESS_REFUSED};
use crate::labs::{Audited, Witnessed};
use crate::validate::kind_name;
use crate::witness::{lock_order, LockOrder, WitnessRules, WitnessedEvent};
use chrono::{DateTime, Utc};
use mlsys_model::labs::data_storage::session::instrument_magic;
use mlsys_model::labs::data_storage::{Session, SessionError, LAB_ID};
use mlsys_model::record::EventKind;
use mlsys_model::Act;
use std::collections::BTreeMap;

/// The facts and flags of a witnessed log (see `LabScorer::witnessed`).
pub fn witnessed(log: &[&WitnessedEvent], rules: &WitnessRules) -> Witnessed {
    let mut session = Session::default();
    let mut design_saved_after_runs = None;
    let mut locks: BTreeMap<Act, usize> = BTreeMap::new();
    let mut refused: Option<String> = None;
    for (at, witnessed) in log.iter().enumerate() {
        let event = &witnessed.event;
        let before = session.saved_design.clone();
        let applied = if event.lab == LAB_ID {
            session.apply(&event.kind).map_err(|e| e.to_string())
        } else {
            Err(SessionError::WrongLab {
                found: event.lab.clone(),
                expected: LAB_ID,
            }
            .to_string())
        };
        let left_out = match (applied, &event.kind) {
            (Err(error), _) => Some(error),
            (Ok(()), EventKind::PredictionLocked { act, .. }) => {
                locks.insert(*act, at);
                None
            }
            (Ok(()), EventKind::DesignSaved { .. }) => {
                let difference = session
                    .saved_design
                    .as_ref()
                    .and_then(|saved| first_difference(saved, &session.design()));
                if difference.is_some() {
                    session.saved_design = before;
                } else {
                    design_saved_after_runs =
                        Some(Act::ALL.iter().all(|a| session.last_run(*a).is_some()));
                }
                difference
            }
            (Ok(()), _) => None,
        };
        if let Some(why) = left_out {
            refused.get_or_insert_with(|| {
                format!(
                    "the witnessed event {} ({}) is left out: {why}",
                    event.id,
                    kind_name(&event.kind)
                )
            });
        }
    }
    let mut flags: Vec<Flag> = refused
        .map(|detail| Flag::new(WITNESS_REFUSED, detail))
        .into_iter()
        .collect();
    let mut facts = Facts::of(&session, design_saved_after_runs);
    for (act, at) in locks {
        let magic = instrument_magic(act);
        let order = lock_order(log, at, act, rules.lock_grace);
        let counts = match &order {
            LockOrder::Witnessed => continue,
            LockOrder::NotBefore => false,
            LockOrder::Late { .. } => !rules.required,
        };
        let what = match order {
            LockOrder::Late {
                lock_received,
                run_made,
            } => format!(
                "the lock reached the service {} after the act's first {magic} run was made \
                 ({}): the service was out of reach, so the lock order could not be witnessed",
                delay(run_made, lock_received),
                crate::encode::rfc3339(run_made)
            ),
            _ => format!("the lock did not reach the service before the act's first {magic} run"),
        };
        let verdict = if counts {
            "the prediction counts"
        } else {
            "the prediction does not count"
        };
        flags.push(Flag::new(
            LOCK_ORDER_UNWITNESSED,
            format!("{}: {what}; {verdict}", act.title()),
        ));
        if !counts {
            facts.predictions.remove(&act);
        }
    }
    Witnessed {
        audited: Audited {
            facts: serde_json::to_string(&facts).unwrap_or_default(),
            answers: facts.answers(),
        },
        flags,
    }
}

/// How long after `from` `to` came, in minutes and seconds.
fn delay(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let seconds = (to - from).num_seconds().max(0);
    match seconds / 60 {
        0 => format!("{seconds} s"),
        minutes => format!("{minutes} min {} s", seconds % 60),
    }
}
