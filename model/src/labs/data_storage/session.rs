//! The student's progress through the lab, rebuilt from the event log.
//!
//! Every rule of the lab's flow lives here: a prediction is locked once; an
//! instrument refuses to run before its act's prediction; a reflection's first
//! answer counts; a reveal needs a prediction and a run. The kernel applies each
//! event here before recording it, and the grader replays a submission's log
//! through the same rules.

use super::{act1, act2, Context, IoInputs, LedgerDesign, MdsInputs, Report, RunInputs, LAB_ID};
use crate::choice::{Act, Choice};
use crate::input_error::InputError;
use crate::record::{Event, EventKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// Why an event cannot be applied to the session.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    /// An input was out of range or unknown.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The act's prediction is already locked.
    #[error("{} prediction is already locked as {locked}; it cannot be changed", act.title())]
    PredictionAlreadyLocked {
        /// The act.
        act: Act,
        /// The locked answer.
        locked: Choice,
    },
    /// The act's reflection was already answered.
    #[error("{} reflection was already answered {locked}; the first answer counts", act.title())]
    ReflectionAlreadyAnswered {
        /// The act.
        act: Act,
        /// The first answer.
        locked: Choice,
    },
    /// The instrument or reveal needs the act's prediction first.
    #[error("{} prediction is not locked yet: lock it with %predict {act} A|B|C|D first", act.title())]
    PredictionNotLocked {
        /// The act.
        act: Act,
    },
    /// The reveal needs a run of the act's instrument first.
    #[error("{} has no instrument run yet: run {} first", act.title(), instrument_magic(*act))]
    NoRunYet {
        /// The act.
        act: Act,
    },
    /// The event belongs to another lab.
    #[error("event belongs to lab {0}, not {LAB_ID}")]
    WrongLab(String),
}

/// The magic that runs an act's instrument.
pub fn instrument_magic(act: Act) -> &'static str {
    match act {
        Act::Act1 => "%io",
        Act::Act2 => "%mds",
    }
}

/// The student's state in the lab.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Session {
    /// The deployment context.
    pub context: Context,
    /// Locked predictions.
    pub predictions: BTreeMap<Act, Choice>,
    /// First reflection answers.
    pub reflections: BTreeMap<Act, Choice>,
    /// Act I settings (the last run's, seed defaults before any).
    pub io: IoInputs,
    /// Act II settings (the last run's, seed defaults before any).
    pub mds: MdsInputs,
    /// Every instrument run, in order.
    pub runs: Vec<RunInputs>,
    /// Acts whose reveal was shown.
    pub revealed: Vec<Act>,
    /// The design last saved to the ledger.
    pub saved_design: Option<LedgerDesign>,
    /// Submissions made, in order.
    pub submissions: Vec<uuid::Uuid>,
}

impl Session {
    /// Checks `kind` against the lab's rules and applies it; on error nothing changes.
    pub fn apply(&mut self, kind: &EventKind) -> Result<(), SessionError> {
        match kind {
            EventKind::ContextSet { context } => {
                let context: Context = context.parse()?;
                self.context = context;
                self.io.context = context;
                self.mds.context = context;
            }
            EventKind::PredictionLocked { act, choice } => {
                if let Some(&locked) = self.predictions.get(act) {
                    return Err(SessionError::PredictionAlreadyLocked { act: *act, locked });
                }
                self.predictions.insert(*act, *choice);
            }
            EventKind::InstrumentRun { act, inputs, .. } => {
                let run = RunInputs::from_json(*act, inputs)?;
                self.require_prediction(*act)?;
                match run {
                    RunInputs::Act1(io) => self.io = io,
                    RunInputs::Act2(mds) => self.mds = mds,
                }
                self.runs.push(run);
            }
            EventKind::Revealed { act } => {
                self.require_prediction(*act)?;
                if self.last_run(*act).is_none() {
                    return Err(SessionError::NoRunYet { act: *act });
                }
                if !self.revealed.contains(act) {
                    self.revealed.push(*act);
                }
            }
            EventKind::ReflectionAnswered { act, choice } => {
                if let Some(&locked) = self.reflections.get(act) {
                    return Err(SessionError::ReflectionAlreadyAnswered { act: *act, locked });
                }
                self.reflections.insert(*act, *choice);
            }
            EventKind::DesignSaved { design, .. } => {
                let design = LedgerDesign::from_map(design)?;
                self.saved_design = Some(design);
            }
            EventKind::Submitted { submission_id } => self.submissions.push(*submission_id),
        }
        Ok(())
    }

    /// Rebuilds a session from a log; fails at the first event that breaks a rule.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<Self, ReplayError> {
        let mut session = Session::default();
        for (index, event) in events.into_iter().enumerate() {
            let result = if event.lab == LAB_ID {
                session.apply(&event.kind)
            } else {
                Err(SessionError::WrongLab(event.lab.clone()))
            };
            result.map_err(|error| ReplayError { index, error })?;
        }
        Ok(session)
    }

    fn require_prediction(&self, act: Act) -> Result<(), SessionError> {
        if self.predictions.contains_key(&act) {
            Ok(())
        } else {
            Err(SessionError::PredictionNotLocked { act })
        }
    }

    /// The last instrument run of `act`, if any.
    pub fn last_run(&self, act: Act) -> Option<RunInputs> {
        self.runs.iter().rev().find(|r| r.act() == act).copied()
    }

    /// The report of the last run of `act`, if any.
    pub fn last_report(&self, act: Act) -> Option<Report> {
        self.last_run(act).map(|r| r.evaluate())
    }

    /// Number of distinct configurations run for `act`.
    pub fn distinct_runs(&self, act: Act) -> usize {
        let mut seen: Vec<&RunInputs> = Vec::new();
        for run in self.runs.iter().filter(|r| r.act() == act) {
            if !seen.contains(&run) {
                seen.push(run);
            }
        }
        seen.len()
    }

    /// The design the ledger would record now, from the current settings (the
    /// seed saves the sliders' values, defaults included).
    pub fn design(&self) -> LedgerDesign {
        LedgerDesign::from_state(
            self.context,
            &act1::evaluate(&self.io),
            &self.mds,
            &act2::evaluate(&self.mds),
            self.predictions.get(&Act::Act1).copied(),
        )
    }
}

/// A log that breaks a rule: which event, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("event {index}: {error}")]
pub struct ReplayError {
    /// Position of the offending event in the log.
    pub index: usize,
    /// The rule it broke.
    pub error: SessionError,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run1(workers: u32) -> EventKind {
        EventKind::InstrumentRun {
            act: Act::Act1,
            inputs: json!({"context":"distributed_fs","workers":workers,"batch":64,"pattern":"random","osts":24}),
            source: Default::default(),
        }
    }

    #[test]
    fn lock_rules_hold() {
        let mut s = Session::default();
        assert_eq!(
            s.apply(&run1(2)),
            Err(SessionError::PredictionNotLocked { act: Act::Act1 })
        );
        let lock = EventKind::PredictionLocked {
            act: Act::Act1,
            choice: Choice::B,
        };
        s.apply(&lock).unwrap();
        let relock = EventKind::PredictionLocked {
            act: Act::Act1,
            choice: Choice::A,
        };
        let before = s.clone();
        assert!(matches!(
            s.apply(&relock),
            Err(SessionError::PredictionAlreadyLocked {
                locked: Choice::B,
                ..
            })
        ));
        assert_eq!(s, before);
        assert_eq!(
            s.apply(&EventKind::Revealed { act: Act::Act1 }),
            Err(SessionError::NoRunYet { act: Act::Act1 })
        );
        s.apply(&run1(2)).unwrap();
        s.apply(&run1(2)).unwrap();
        s.apply(&run1(4)).unwrap();
        assert_eq!(s.io.workers, 4);
        assert_eq!(s.distinct_runs(Act::Act1), 2);
        s.apply(&EventKind::Revealed { act: Act::Act1 }).unwrap();
        assert!(s.apply(&run1(17)).is_err());
        assert_eq!(s.io.workers, 4);
    }
}
