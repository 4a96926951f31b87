//! The student's progress through the lab, rebuilt from the event log.
//!
//! Every rule of the lab's flow lives here: a prediction is locked once; an
//! instrument refuses to run before its act's prediction; a reflection's first
//! answer counts; a reveal needs a prediction and a run. The kernel applies each
//! event here before recording it, and the grader replays a submission's log
//! through the same rules.

use super::handin::missing;
use super::status::closing_summary;
use super::{act1, act2, Context, IoInputs, LedgerDesign, MdsInputs, Report, RunInputs, LAB_ID};
use crate::choice::{Act, Choice};
use crate::content::Callout;
use crate::lab::LabSession;
use crate::ledger::Design;
use crate::record::{Event, EventKind};
pub use crate::rules::{ReplayError, SessionError};
use serde::Serialize;
use std::collections::BTreeMap;

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
                    return Err(SessionError::NoRunYet {
                        act: *act,
                        instrument: instrument_magic(*act),
                    });
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
        <Self as LabSession>::replay(events)
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

impl LabSession for Session {
    const LAB_ID: &'static str = LAB_ID;

    fn apply(&mut self, kind: &EventKind) -> Result<(), SessionError> {
        Session::apply(self, kind)
    }

    fn missing(&self) -> Vec<String> {
        missing(self).iter().map(ToString::to_string).collect()
    }

    fn design(&self) -> Design {
        Session::design(self).to_map()
    }

    fn saved_design(&self) -> Option<Design> {
        self.saved_design.as_ref().map(LedgerDesign::to_map)
    }

    fn closing_summary(&self) -> Option<Callout> {
        Some(closing_summary(self))
    }

    fn saved_design_is(&self, handed_in: Option<&Design>) -> bool {
        match handed_in {
            Some(map) => {
                LedgerDesign::from_map(map).ok().as_ref() == self.saved_design.as_ref()
                    && self.saved_design.is_some()
            }
            None => self.saved_design.is_none(),
        }
    }
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
            Err(SessionError::NoRunYet {
                act: Act::Act1,
                instrument: "%io"
            })
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
