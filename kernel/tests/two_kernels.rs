//! Two real kernel processes on one `$MLSYS_HOME` (two notebooks of one lab):
//! they race a prediction lock (one by widget, one typed) and then instrument
//! runs. One lock wins and the other kernel is told which; every append reads
//! what the other kernel appended first, so the journal replays to the end,
//! with times that never go back, and hands in.

mod common;

use common::widgets::{click, sent_to, update, Widgets};
use common::{TempDir, TestKernel, KERNEL};
use mlsys_model::labs::data_storage::Session;
use mlsys_model::record::{Event, EventKind, Submission};
use mlsys_model::{Act, Choice};
use serde_json::{json, Value};
use std::path::Path;

/// Instrument runs each kernel makes while the other makes its own.
const RUNS: usize = 12;

/// The events of the lab's journal under `home`, each line parsed.
fn journal(home: &Path) -> Vec<Event> {
    let path = home.join("labs").join("v2_04").join("events.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn locks(events: &[Event]) -> Vec<Choice> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::PredictionLocked { choice, .. } => Some(choice),
            _ => None,
        })
        .collect()
}

/// Runs `%io --workers WORKERS` [`RUNS`] times.
async fn run_all(kernel: &mut TestKernel, workers: u32) {
    for _ in 0..RUNS {
        let run = kernel.execute(&format!("%io --workers {workers}")).await;
        assert!(run.is_ok(), "{:?}", run.error());
    }
}

#[tokio::test]
async fn two_kernels_racing_locks_and_runs_keep_one_lock_and_a_log_that_replays_and_hands_in() {
    let home = TempDir::new("two-kernels");
    let mut a = TestKernel::start_in(KERNEL, home.path()).await;
    let mut b = TestKernel::start_in(KERNEL, home.path()).await;

    // A opens the question panel and picks B; B types C. Both lock at once.
    let opened = a.execute("%predict act1").await;
    assert!(opened.is_ok(), "{opened:?}");
    let widgets = Widgets::from(&opened.iopub);
    let options = widgets.find("RadioButtonsModel", |_| true);
    let button = widgets.find("ButtonModel", |_| true);
    let notice = widgets.last("HTMLModel");
    a.comm(update(&options, json!({ "index": 1 }))).await;
    let (clicked, typed) = tokio::join!(a.comm(click(&button)), b.execute("%predict act1 C"));

    let events = journal(home.path());
    let held = locks(&events);
    assert_eq!(held.len(), 1, "one lock is recorded: {held:?}");
    let last_said = |comm: &str, key: &str| -> Option<Value> {
        sent_to(&clicked, comm)
            .into_iter()
            .rev()
            .find_map(|d| d["state"].get(key).cloned())
    };
    match held[0] {
        Choice::B => {
            let error = typed.error().expect("the typed lock lost");
            assert!(
                error.evalue.contains("already locked as B"),
                "the typed lock is told which holds: {}",
                error.evalue
            );
        }
        Choice::C => {
            assert!(typed.is_ok(), "{typed:?}");
            let said = last_said(&notice, "value").expect("the panel says why");
            let said = said.as_str().unwrap();
            assert!(
                said.contains("Not recorded") && said.contains("already locked as C"),
                "the widget lock is told which holds: {said}"
            );
            assert_eq!(
                last_said(&options, "index"),
                Some(json!(2)),
                "the radio buttons show the lock that holds"
            );
        }
        other => panic!("a lock nobody asked for: {other}"),
    }
    // Either kernel now refuses the other answer, naming the one that holds.
    let other = if held[0] == Choice::B { "C" } else { "B" };
    for kernel in [&mut a, &mut b] {
        let refused = kernel.execute(&format!("%predict act1 {other}")).await;
        let error = refused.error().expect("refused");
        assert!(
            error
                .evalue
                .contains(&format!("already locked as {}", held[0])),
            "{}",
            error.evalue
        );
    }

    // Both kernels run the instrument at once.
    tokio::join!(run_all(&mut a, 4), run_all(&mut b, 8));

    let events = journal(home.path());
    let runs = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::InstrumentRun { act: Act::Act1, .. }))
        .count();
    assert_eq!(runs, 2 * RUNS, "every run of both kernels is recorded once");
    assert!(
        events.windows(2).all(|w| w[0].at <= w[1].at),
        "times never go back in the journal"
    );
    Session::replay(&events).expect("the journal replays to the end");

    let submitted = b.execute("%submit").await;
    assert!(submitted.is_ok(), "{:?}", submitted.error());
    let outbox = home.path().join("outbox");
    let file = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a hand-in in the outbox");
    let submission: Submission = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        submission.events, events,
        "the hand-in holds both kernels' events, in journal order"
    );
    let session = Session::replay(&submission.events).expect("the hand-in replays");
    assert_eq!(session.predictions[&Act::Act1], held[0]);
    a.shutdown().await;
    b.shutdown().await;
}
