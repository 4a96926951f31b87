//! Copies: an event id is made once, by one student's kernel. An id that
//! appears under two students — in their stored submissions, or in what the
//! witness received from them — flags every submission of each that holds it
//! (`shared_events`), for the instructor's decision.

use crate::flags::{Flag, SHARED_EVENTS};
use crate::witness::WitnessLog;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Students named in a flag's detail at most.
const NAMED: usize = 3;

/// One stored submission's event ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventIds {
    /// The submission.
    pub submission_id: String,
    /// Its student.
    pub student: String,
    /// Its log's event ids, 16 bytes each.
    pub ids: Vec<u8>,
}

/// The `shared_events` flag of every submission holding an event id that also
/// appears under another student, by submission id.
pub fn shared_events(
    submissions: &[EventIds],
    witnessed: &BTreeMap<String, WitnessLog>,
) -> HashMap<String, Flag> {
    let mut owners: HashMap<u128, Vec<&str>> = HashMap::new();
    for submission in submissions {
        for id in ids_of(&submission.ids) {
            add(&mut owners, id, &submission.student);
        }
    }
    for (student, log) in witnessed {
        for w in log.events.iter().chain(&log.conflicts) {
            add(&mut owners, w.event.id.as_u128(), student);
        }
    }
    let mut flags = HashMap::new();
    for submission in submissions {
        let mut others: BTreeSet<&str> = BTreeSet::new();
        let mut shared = 0;
        for id in ids_of(&submission.ids) {
            let students = &owners[&id];
            if students.len() > 1 {
                shared += 1;
                others.extend(students.iter().filter(|s| **s != submission.student));
            }
        }
        if shared == 0 {
            continue;
        }
        let mut named: Vec<String> = others.iter().take(NAMED).map(|s| s.to_string()).collect();
        if others.len() > NAMED {
            named.push(format!("{} more", others.len() - NAMED));
        }
        let detail = format!(
            "{shared} of its events also appear under {}",
            named.join(", ")
        );
        flags.insert(
            submission.submission_id.clone(),
            Flag::new(SHARED_EVENTS, detail),
        );
    }
    flags
}

/// Notes that `student` holds event `id`.
fn add<'a>(owners: &mut HashMap<u128, Vec<&'a str>>, id: u128, student: &'a str) {
    let students = owners.entry(id).or_default();
    if !students.contains(&student) {
        students.push(student);
    }
}

/// The ids in a stored list of 16-byte event ids.
fn ids_of(ids: &[u8]) -> impl Iterator<Item = u128> + '_ {
    ids.chunks_exact(16)
        .map(|id| u128::from_be_bytes(id.try_into().expect("16 bytes")))
}
