//! The lab's audit: its log replayed under the lab's rules, and every number
//! of each saved design checked against its recomputation from the runs (the
//! kernel derived them; the student could have edited them).

use crate::rejection::{Reason, Rejection};
use mlsys_model::labs::data_storage::{LedgerDesign, ReplayError, Session, SessionError, LAB_ID};
use mlsys_model::record::{EventKind, Submission};
use mlsys_model::rules::SubmissionError;
use mlsys_model::Act;

/// A submission that passed the lab's audit.
#[derive(Debug, Clone)]
pub struct Replayed {
    /// The session after the whole log.
    pub session: Session,
    /// For the last saved design: whether both acts had run when it was saved
    /// (so it records the student's own configurations, not the seed defaults).
    pub design_saved_after_runs: Option<bool>,
}

/// Replays a submission of this lab; the first problem found rejects it.
///
/// One pass over the log does what the model's `replay_submission` does
/// (every event applied under the lab's rules, the handed-in design equal to
/// the one saved last, worded by the model's errors) and, at each saved
/// design, compares its numbers with the model's recomputation.
pub fn replay(submission: &Submission) -> Result<Replayed, Rejection> {
    let mut session = Session::default();
    let mut design_saved_after_runs = None;
    for (index, event) in submission.events.iter().enumerate() {
        let replay_error =
            |error| Rejection::from(SubmissionError::Replay(ReplayError { index, error }));
        if event.lab != LAB_ID {
            return Err(replay_error(SessionError::WrongLab {
                found: event.lab.clone(),
                expected: LAB_ID,
            }));
        }
        session.apply(&event.kind).map_err(replay_error)?;
        if let (EventKind::DesignSaved { .. }, Some(saved)) = (&event.kind, &session.saved_design) {
            // Saving changes no setting: the design the runs give is the current one.
            if let Some(difference) = first_difference(saved, &session.design()) {
                return Err(Rejection::new(
                    Reason::TamperedNumbers,
                    format!("event {index} (design_saved): {difference}"),
                ));
            }
            design_saved_after_runs =
                Some(Act::ALL.iter().all(|act| session.last_run(*act).is_some()));
        }
    }
    let mismatch = || Rejection::from(SubmissionError::DesignMismatch);
    let handed_in = match &submission.design {
        Some(map) => Some(LedgerDesign::from_map(map).map_err(|_| mismatch())?),
        None => None,
    };
    if handed_in != session.saved_design {
        return Err(mismatch());
    }
    Ok(Replayed {
        session,
        design_saved_after_runs,
    })
}

/// The first ledger key whose saved value is not the recomputed one.
pub fn first_difference(saved: &LedgerDesign, expected: &LedgerDesign) -> Option<String> {
    let saved = saved.to_map();
    for (key, want) in expected.to_map() {
        let got = saved.get(&key).cloned().unwrap_or_default();
        let same = match (got.as_f64(), want.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            _ => got == want,
        };
        if !same {
            return Some(format!("{key} is {got}, the runs give {want}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::data_storage::synth::synthetic_session;
    use crate::synth::Rng;
    use mlsys_model::labs::data_storage::replay_submission;

    #[test]
    fn accepts_what_the_models_replay_accepts_and_rebuilds_the_same_session() {
        let mut rng = Rng::new(11);
        let start = "2026-12-01T10:00:00Z".parse().unwrap();
        for i in 0..40 {
            let submission = synthetic_session(&format!("s{i}"), start, 10 + i, &mut rng);
            let model = replay_submission(&submission).unwrap();
            let audited = replay(&submission).unwrap();
            assert_eq!(audited.session, model);
            assert_eq!(
                audited.design_saved_after_runs.is_some(),
                model.saved_design.is_some()
            );
        }
    }
}
