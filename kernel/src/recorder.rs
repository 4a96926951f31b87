//! The one record transaction of every lab: an event is applied to a copy of
//! the lab's session (the model enforces the lab's rules), appended to the
//! lab's journal, and only then committed, so a refused or unrecordable action
//! changes nothing. Every magic and widget callback records through a
//! [`Recorder`], and a new kernel resumes the session by replaying the journal.
//!
//! Several kernels may share the journal (two notebooks of one lab): the
//! append happens under the journal's lock after replaying what the others
//! appended, and the event is checked again against that state, so a second,
//! different prediction lock is refused naming the one that holds. Each
//! committed event then wakes the lab's [`Witness`], when the kernel has a
//! grader service.

use crate::grader_client::GraderService;
use crate::interpreter::ExecutionError;
use crate::journal::{Journal, JournalError, News};
use crate::witness::{Witness, WitnessStatus};
use mlsys_model::content::{Callout, CalloutKind};
use mlsys_model::lab::LabSession;
use mlsys_model::record::{Event, EventKind};
use mlsys_model::rules::{ReplayError, SessionError};
use std::path::Path;

/// Why an event was not recorded; either way nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The lab's rules refuse it.
    #[error(transparent)]
    Refused(#[from] SessionError),
    /// The journal could not save it.
    #[error(transparent)]
    NotSaved(#[from] JournalError),
}

impl From<RecordError> for ExecutionError {
    fn from(error: RecordError) -> Self {
        match error {
            RecordError::Refused(refused) => ExecutionError::new("LabError", refused.to_string()),
            RecordError::NotSaved(journal) => {
                ExecutionError::new("JournalError", format!("{journal}; nothing was changed"))
            }
        }
    }
}

/// An event the lab's rules accept and the session it leads to, not yet
/// recorded: [`Recorder::commit`] records it. Lets a caller do what must come
/// between the check and the record (render a live run, write the ledger file).
#[must_use = "a checked event changes nothing until it is committed"]
pub struct Pending<S> {
    kind: EventKind,
    next: S,
}

/// A lab's session, its journal and its witness.
pub struct Recorder<S: LabSession> {
    session: S,
    journal: Option<Journal>,
    notice: Option<Callout>,
    witness: Witnessing,
}

/// The witness of a recorder's journal, or why there is none.
enum Witnessing {
    On(Witness),
    Off(WitnessStatus),
}

impl<S: LabSession> Recorder<S> {
    /// Resumes the session from the lab's journal under `home` (see
    /// [`Recorder::open_with`]), witnessed by the grader service the
    /// environment names (`MLSYS_GRADER_URL`, `JUPYTERHUB_API_TOKEN`).
    pub fn open(home: &Path) -> Self {
        Recorder::open_with(home, GraderService::from_env())
    }

    /// Resumes the session from the lab's journal under `home`, its events
    /// witnessed by `service` if there is one. Without a usable journal the
    /// lab runs in memory; a journal that does not replay to the end restores
    /// what it can. Either way [`Recorder::take_notice`] says so once.
    pub fn open_with(home: &Path, service: Option<Result<GraderService, String>>) -> Self {
        match Journal::open(home, S::LAB_ID) {
            Ok((journal, events)) => {
                let (session, notice) = restore(&events);
                let witness = match service {
                    None => Witnessing::Off(WitnessStatus::NoService),
                    Some(Err(why)) => Witnessing::Off(WitnessStatus::Unavailable(why)),
                    Some(Ok(service)) => match Witness::start(service, journal.path()) {
                        Ok(witness) => Witnessing::On(witness),
                        Err(e) => Witnessing::Off(WitnessStatus::Unavailable(format!(
                            "cannot start the sender: {e}"
                        ))),
                    },
                };
                Recorder {
                    session,
                    journal: Some(journal),
                    notice,
                    witness,
                }
            }
            Err(error) => Recorder {
                session: S::default(),
                journal: None,
                notice: Some(Callout::new(
                    CalloutKind::Warn,
                    "Your lab progress will not be saved.",
                    format!("{error}. The lab works, but only in this kernel's memory."),
                )),
                witness: Witnessing::Off(WitnessStatus::Unavailable(
                    "your progress is kept in this kernel's memory only".into(),
                )),
            },
        }
    }

    /// The session as recorded.
    pub fn session(&self) -> &S {
        &self.session
    }

    /// The journal, unless the lab runs in memory only.
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// What the student must know about how the session was restored, once.
    pub fn take_notice(&mut self) -> Option<Callout> {
        self.notice.take()
    }

    /// Whether the record is witnessed, and how many events await the witness.
    pub fn witness_status(&self) -> WitnessStatus {
        match (&self.witness, &self.journal) {
            (Witnessing::On(witness), Some(journal)) => WitnessStatus::Running {
                awaiting: journal.len().saturating_sub(witness.witnessed()),
                problem: witness.problem(),
            },
            (Witnessing::Off(status), _) => status.clone(),
            (Witnessing::On(_), None) => WitnessStatus::NoService,
        }
    }

    /// The witness, when the record is witnessed.
    pub fn witness(&self) -> Option<&Witness> {
        match &self.witness {
            Witnessing::On(witness) => Some(witness),
            Witnessing::Off(_) => None,
        }
    }

    /// Waits until the witness received every event of the journal, or until
    /// `until`; returns at once without a witness, or while its last attempt
    /// failed (a service out of reach is not waited for).
    pub fn flush_witness(&self, until: std::time::Instant) {
        if let (Witnessing::On(witness), Some(journal)) = (&self.witness, &self.journal) {
            if witness.problem().is_some() {
                return;
            }
            witness.notify();
            witness.wait_for(
                journal.len(),
                until.saturating_duration_since(std::time::Instant::now()),
            );
        }
    }

    /// Checks `kind` against the lab's rules on a copy of the session.
    pub fn check(&self, kind: EventKind) -> Result<Pending<S>, RecordError> {
        let mut next = self.session.clone();
        next.apply(&kind)?;
        Ok(Pending { kind, next })
    }

    /// Catches up with what other kernels appended to the journal.
    pub fn refresh(&mut self) -> Result<(), RecordError> {
        if let Some(journal) = &mut self.journal {
            let transaction = journal.begin()?;
            catch_up(&mut self.session, &mut self.notice, transaction.news());
        }
        Ok(())
    }

    /// Appends a checked event to the journal, then commits its session. The
    /// one place that writes the journal: under its lock, what other kernels
    /// appended is replayed first and the event checked again against it.
    pub fn commit(&mut self, pending: Pending<S>) -> Result<(), RecordError> {
        let Some(journal) = &mut self.journal else {
            self.session = pending.next;
            return Ok(());
        };
        let transaction = journal.begin()?;
        let next = match transaction.news() {
            News::Nothing => pending.next,
            news => {
                catch_up(&mut self.session, &mut self.notice, news);
                let mut next = self.session.clone();
                next.apply(&pending.kind)?;
                next
            }
        };
        transaction.append(pending.kind)?;
        self.session = next;
        if let Witnessing::On(witness) = &self.witness {
            witness.notify();
        }
        Ok(())
    }

    /// Checks, records and commits `kind`: the whole transaction.
    pub fn record(&mut self, kind: EventKind) -> Result<(), RecordError> {
        let pending = self.check(kind)?;
        self.commit(pending)
    }
}

/// The session a journal's events rebuild, and what to tell the student when
/// they do not replay to the end.
fn restore<S: LabSession>(events: &[Event]) -> (S, Option<Callout>) {
    match S::replay(events) {
        Ok(session) => (session, None),
        Err(error) => (
            S::replay(&events[..error.index]).unwrap_or_default(),
            Some(partly_restored(&error)),
        ),
    }
}

fn partly_restored(error: &ReplayError) -> Callout {
    Callout::new(
        CalloutKind::Warn,
        "Part of your saved lab progress could not be restored.",
        format!(
            "Restored the first {} events; {error}. Later events are kept in the file but ignored.",
            error.index
        ),
    )
}

/// Applies to `session` what other kernels appended (an event the lab's rules
/// refuse is skipped, and the student told); a rewritten journal is restored
/// from its start.
fn catch_up<S: LabSession>(session: &mut S, notice: &mut Option<Callout>, news: &News) {
    match news {
        News::Nothing => {}
        News::Appended(events) => {
            for event in events {
                let applied = if event.lab == S::LAB_ID {
                    session.apply(&event.kind)
                } else {
                    Err(SessionError::WrongLab {
                        found: event.lab.clone(),
                        expected: S::LAB_ID,
                    })
                };
                if let Err(error) = applied {
                    *notice = Some(Callout::new(
                        CalloutKind::Warn,
                        "Another notebook's lab event could not be applied.",
                        format!("Event {} was skipped: {error}.", event.id),
                    ));
                }
            }
        }
        News::Rewritten(events) => {
            let (restored, told) = restore(events);
            *session = restored;
            if told.is_some() {
                *notice = told;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{tally, TallySession, TempDir};
    use std::io;

    #[test]
    fn a_refused_event_changes_neither_the_session_nor_the_journal() {
        let home = TempDir::new("recorder");
        let mut recorder = Recorder::<TallySession>::open(home.path());
        assert!(recorder.take_notice().is_none());
        recorder.record(tally(2)).unwrap();
        let refused = recorder.record(tally(0)).unwrap_err();
        assert!(matches!(refused, RecordError::Refused(_)), "{refused:?}");
        let shown = ExecutionError::from(refused);
        assert_eq!(shown.ename, "LabError");
        assert_eq!(recorder.session().total, 2);
        let events = recorder.journal().unwrap().events().unwrap();
        assert_eq!(events.len(), 1);

        let resumed = Recorder::<TallySession>::open(home.path());
        assert_eq!(resumed.session(), recorder.session());
    }

    #[test]
    fn a_checked_event_changes_nothing_until_it_is_committed() {
        let home = TempDir::new("recorder-pending");
        let mut recorder = Recorder::<TallySession>::open(home.path());
        let pending = recorder.check(tally(5)).unwrap();
        assert_eq!(recorder.session().total, 0);
        assert!(recorder.journal().unwrap().events().unwrap().is_empty());
        recorder.commit(pending).unwrap();
        assert_eq!(recorder.session().total, 5);
        assert_eq!(recorder.journal().unwrap().events().unwrap().len(), 1);
    }

    #[test]
    fn a_journal_that_cannot_be_used_is_one_clear_error() {
        let journal = JournalError::Io {
            path: "/nowhere/events.jsonl".into(),
            source: io::Error::other("disk full"),
        };
        let shown = ExecutionError::from(RecordError::NotSaved(journal));
        assert_eq!(shown.ename, "JournalError");
        assert!(
            shown.evalue.ends_with("disk full; nothing was changed"),
            "{}",
            shown.evalue
        );
    }

    #[test]
    fn without_a_journal_the_session_lives_in_memory_and_says_so_once() {
        let home = TempDir::new("recorder-file");
        let not_a_dir = home.path().join("file");
        std::fs::write(&not_a_dir, b"x").unwrap();
        let mut recorder = Recorder::<TallySession>::open(&not_a_dir);
        let notice = recorder.take_notice().unwrap();
        assert_eq!(notice.title, "Your lab progress will not be saved.");
        assert!(recorder.take_notice().is_none());
        recorder.record(tally(3)).unwrap();
        assert_eq!(recorder.session().total, 3);
        assert!(recorder.journal().is_none());
    }

    #[test]
    fn a_journal_that_breaks_a_rule_is_restored_up_to_that_event() {
        let home = TempDir::new("recorder-partial");
        let (mut journal, _) = Journal::open(home.path(), TallySession::LAB_ID).unwrap();
        for kind in [tally(1), tally(0), tally(4)] {
            journal.record(kind).unwrap();
        }
        let mut recorder = Recorder::<TallySession>::open(home.path());
        assert_eq!(recorder.session().total, 1);
        let notice = recorder.take_notice().unwrap();
        assert!(
            notice
                .body
                .starts_with("Restored the first 1 events; event 1:"),
            "{}",
            notice.body
        );
    }

    #[test]
    fn two_kernels_of_one_journal_each_record_on_top_of_the_others_events() {
        let home = TempDir::new("recorder-two");
        let mut first = Recorder::<TallySession>::open_with(home.path(), None);
        let mut second = Recorder::<TallySession>::open_with(home.path(), None);
        first.record(tally(2)).unwrap();
        second.record(tally(3)).unwrap();
        assert_eq!(
            second.session().total,
            5,
            "the first kernel's run was read first"
        );
        first.refresh().unwrap();
        assert_eq!(first.session(), second.session());
        let events = first.journal().unwrap().events().unwrap();
        assert_eq!(TallySession::replay(&events).unwrap(), *first.session());
        assert!(events.windows(2).all(|w| w[0].at <= w[1].at));

        // An event the rules refuse, appended by hand, is skipped with a notice.
        let (mut by_hand, _) = Journal::open(home.path(), TallySession::LAB_ID).unwrap();
        by_hand.record(tally(0)).unwrap();
        first.record(tally(1)).unwrap();
        assert_eq!(first.session().total, 6);
        let notice = first.take_notice().unwrap();
        assert!(
            notice.body.contains("add must be a positive integer"),
            "{}",
            notice.body
        );
    }
}
