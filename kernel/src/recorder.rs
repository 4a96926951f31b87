//! The one record transaction of every lab: an event is applied to a copy of
//! the lab's session (the model enforces the lab's rules), appended to the
//! lab's journal, and only then committed, so a refused or unrecordable action
//! changes nothing. Every magic and widget callback records through a
//! [`Recorder`], and a new kernel resumes the session by replaying the journal.

use crate::interpreter::ExecutionError;
use crate::journal::{Journal, JournalError};
use mlsys_model::content::{Callout, CalloutKind};
use mlsys_model::lab::LabSession;
use mlsys_model::record::EventKind;
use mlsys_model::rules::SessionError;
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

/// A lab's session and its journal.
pub struct Recorder<S: LabSession> {
    session: S,
    journal: Option<Journal>,
    notice: Option<Callout>,
}

impl<S: LabSession> Recorder<S> {
    /// Resumes the session from the lab's journal under `home`. Without a
    /// usable journal the lab runs in memory; a journal that does not replay
    /// to the end restores what it can. Either way [`Recorder::take_notice`]
    /// says so once.
    pub fn open(home: &Path) -> Self {
        match Journal::open(home, S::LAB_ID) {
            Ok((journal, events)) => match S::replay(&events) {
                Ok(session) => Recorder {
                    session,
                    journal: Some(journal),
                    notice: None,
                },
                Err(error) => Recorder {
                    session: S::replay(&events[..error.index]).unwrap_or_default(),
                    journal: Some(journal),
                    notice: Some(Callout::new(
                        CalloutKind::Warn,
                        "Part of your saved lab progress could not be restored.",
                        format!(
                            "Restored the first {} events; {error}. Later events are kept in the file but ignored.",
                            error.index
                        ),
                    )),
                },
            },
            Err(error) => Recorder {
                session: S::default(),
                journal: None,
                notice: Some(Callout::new(
                    CalloutKind::Warn,
                    "Your lab progress will not be saved.",
                    format!("{error}. The lab works, but only in this kernel's memory."),
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

    /// Checks `kind` against the lab's rules on a copy of the session.
    pub fn check(&self, kind: EventKind) -> Result<Pending<S>, RecordError> {
        let mut next = self.session.clone();
        next.apply(&kind)?;
        Ok(Pending { kind, next })
    }

    /// Appends a checked event to the journal, then commits its session. The
    /// one place that writes the journal: a re-read of the journal under its
    /// lock before the append belongs here.
    pub fn commit(&mut self, pending: Pending<S>) -> Result<(), RecordError> {
        if let Some(journal) = &mut self.journal {
            journal.record(pending.kind)?;
        }
        self.session = pending.next;
        Ok(())
    }

    /// Checks, records and commits `kind`: the whole transaction.
    pub fn record(&mut self, kind: EventKind) -> Result<(), RecordError> {
        let pending = self.check(kind)?;
        self.commit(pending)
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
}
