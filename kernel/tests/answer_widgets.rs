//! Answers by widget over the real protocol: `%predict`, `%reflect` and
//! `%submit --button` open ipywidgets 8 models; picks and clicks sent as
//! JupyterLab sends them (an `update` of the radio buttons' `index`, a
//! `custom` click of the button) record exactly the events the magic forms
//! record, once, and the panels keep the lock across a kernel restart.

mod common;

use common::widgets::{click, sent_to, update, Widgets};
use common::{Execution, TempDir, TestKernel, KERNEL};
use jupyter_protocol::JupyterMessageContent;
use mlsys_model::labs::data_storage::content;
use mlsys_model::{Act, Choice};
use serde_json::{json, Map, Value};
use std::path::Path;

/// The types of the events in the lab's journal under `home`.
fn journal(home: &Path) -> Vec<Value> {
    let path = home.join("labs").join("v2_04").join("events.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count(home: &Path, kind: &str) -> usize {
    journal(home).iter().filter(|e| e["type"] == kind).count()
}

/// A question panel's widgets: its radio buttons, button and notice line.
struct Panel {
    options: String,
    button: String,
    notice: String,
    widgets: Widgets,
}

impl Panel {
    fn of(run: &Execution) -> Panel {
        assert!(run.is_ok(), "{run:?}");
        let widgets = Widgets::from(&run.iopub);
        let options = widgets.find("RadioButtonsModel", |_| true);
        let button = widgets.find("ButtonModel", |_| true);
        // The notice is the last HTML widget the panel opens.
        let notice = widgets.last("HTMLModel");
        Panel {
            options,
            button,
            notice,
            widgets,
        }
    }

    fn state(&self, id: &str) -> &Map<String, Value> {
        &self.widgets.states[id]
    }
}

/// The last value of `key` the kernel sent to `comm` in `msgs`.
fn last<'a>(msgs: &'a [(String, Map<String, Value>)], comm: &str, key: &str) -> Option<&'a Value> {
    sent_to(msgs, comm)
        .into_iter()
        .rev()
        .find_map(|d| d["state"].get(key))
}

/// The `comm_msg`s an execution sent (a magic updating an open panel).
fn comm_msgs(run: &Execution) -> Vec<(String, Map<String, Value>)> {
    run.iopub
        .iter()
        .filter_map(|m| match &m.content {
            JupyterMessageContent::CommMsg(c) => Some((c.comm_id.0.clone(), c.data.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_prediction_locks_by_widget_once_and_stays_locked_after_a_restart() {
    let home = TempDir::new("answers-home");
    let mut kernel = TestKernel::start_in(KERNEL, home.path()).await;
    let panel = Panel::of(&kernel.execute("%predict act1").await);
    let question = content::prediction(Act::Act1);
    let options = panel.state(&panel.options);
    assert_eq!(
        options["index"],
        Value::Null,
        "nothing is picked for the student"
    );
    assert_eq!(options["disabled"], false);
    assert_eq!(
        options["_options_labels"][1],
        format!("B) {}", question.option(Choice::B))
    );
    assert_eq!(panel.state(&panel.button)["description"], "Lock");
    let header = panel.widgets.find("HTMLModel", |s| {
        s["value"].as_str().unwrap().contains("Recommended reading")
    });
    let header = panel.state(&header)["value"].as_str().unwrap();
    assert!(
        header.contains("479×") && header.contains("Your prediction"),
        "{header}"
    );
    assert!(header.contains(&question.prompt));

    // The instrument stays closed and says what to do.
    let refused = kernel.execute("%io").await;
    let error = refused.error().expect("refused before the lock");
    assert!(error.evalue.contains("click Lock"), "{}", error.evalue);

    // A click before a pick records nothing and asks for a pick.
    let replies = kernel.comm(click(&panel.button)).await;
    let notice = last(&replies, &panel.notice, "value").unwrap();
    assert!(notice.as_str().unwrap().contains("Pick an option first"));
    assert_eq!(count(home.path(), "prediction_locked"), 0);

    // A pick is echoed; a forged one snaps back to it with a notice.
    let replies = kernel
        .comm(update(&panel.options, json!({"index": 1})))
        .await;
    assert_eq!(replies[0].1["method"], "echo_update");
    for forged in [json!(9), json!(-1), json!("B"), json!(null)] {
        let replies = kernel
            .comm(update(&panel.options, json!({ "index": forged })))
            .await;
        let back = sent_to(&replies, &panel.options);
        assert_eq!(back[0]["method"], "update", "{forged}");
        assert_eq!(back[0]["state"], json!({"index": 1}), "{forged}");
        assert!(last(&replies, &panel.notice, "value")
            .unwrap()
            .as_str()
            .unwrap()
            .contains("refused"));
    }
    assert_eq!(
        count(home.path(), "prediction_locked"),
        0,
        "a pick is not a lock"
    );

    // Lock: exactly one event, the same the magic form records; the panel disables.
    let replies = kernel.comm(click(&panel.button)).await;
    let locks: Vec<Value> = journal(home.path())
        .into_iter()
        .filter(|e| e["type"] == "prediction_locked")
        .collect();
    assert_eq!(locks.len(), 1);
    assert_eq!(
        (&locks[0]["act"], &locks[0]["choice"]),
        (&json!("act1"), &json!("B"))
    );
    assert_eq!(
        last(&replies, &panel.options, "disabled"),
        Some(&json!(true))
    );
    assert_eq!(
        last(&replies, &panel.button, "disabled"),
        Some(&json!(true))
    );
    assert_eq!(
        last(&replies, &panel.button, "description"),
        Some(&json!("Locked"))
    );
    assert!(last(&replies, &panel.notice, "value")
        .unwrap()
        .as_str()
        .unwrap()
        .contains("Prediction locked: B."));

    // A second lock is refused: the radio buttons snap back to B, nothing is recorded.
    let replies = kernel
        .comm(update(&panel.options, json!({"index": 2})))
        .await;
    let back = sent_to(&replies, &panel.options);
    assert_eq!(
        (back[0]["method"].as_str(), &back[0]["state"]),
        (Some("update"), &json!({"index": 1}))
    );
    kernel.comm(click(&panel.button)).await;
    assert_eq!(count(home.path(), "prediction_locked"), 1);
    let typed = kernel.execute("%predict act1 C").await;
    assert_eq!(typed.error().expect("locked").ename, "PredictionLocked");
    assert!(kernel.execute("%io").await.is_ok(), "the analyzer opens");
    kernel.shutdown().await;

    // After a restart the rerun cell shows the locked answer, disabled.
    let mut kernel = TestKernel::start_in(KERNEL, home.path()).await;
    let again = Panel::of(&kernel.execute("%predict act1").await);
    let options = again.state(&again.options);
    assert_eq!(
        (&options["index"], &options["disabled"]),
        (&json!(1), &json!(true))
    );
    let button = again.state(&again.button);
    assert_eq!(
        (&button["description"], &button["disabled"]),
        (&json!("Locked"), &json!(true))
    );
    assert!(again.state(&again.notice)["value"]
        .as_str()
        .unwrap()
        .contains("Prediction locked: B."));
    let replies = kernel
        .comm(update(&again.options, json!({"index": 0})))
        .await;
    assert_eq!(
        sent_to(&replies, &again.options)[0]["state"],
        json!({"index": 1})
    );
    assert_eq!(count(home.path(), "prediction_locked"), 1);
    kernel.shutdown().await;
}

#[tokio::test]
async fn a_typed_lock_shows_on_the_open_panel_and_a_reflection_counts_its_first_answer() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let panel = Panel::of(&kernel.execute("%predict act2").await);
    let typed = kernel.execute("%predict act2 A").await;
    assert!(
        typed.text().contains("Prediction locked: A."),
        "{}",
        typed.text()
    );
    let shown = comm_msgs(&typed);
    assert_eq!(last(&shown, &panel.options, "index"), Some(&json!(0)));
    assert_eq!(last(&shown, &panel.options, "disabled"), Some(&json!(true)));

    let reflect = Panel::of(&kernel.execute("%reflect act1").await);
    assert_eq!(reflect.state(&reflect.button)["description"], "Answer");
    kernel
        .comm(update(&reflect.options, json!({"index": 3})))
        .await;
    let replies = kernel.comm(click(&reflect.button)).await;
    let feedback = last(&replies, &reflect.notice, "value")
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        feedback.contains("Not the best answer. The correct answer is B."),
        "{feedback}"
    );
    let home = kernel.mlsys_home().to_path_buf();
    assert_eq!(count(&home, "reflection_answered"), 1);
    let again = kernel.execute("%reflect act1 B").await;
    assert_eq!(
        again.error().expect("first answer counts").ename,
        "ReflectionAnswered"
    );
    let same = kernel.execute("%reflect act1 D").await;
    assert!(same.is_ok(), "the same answer again is fine");
    assert_eq!(count(&home, "reflection_answered"), 1);

    // Changes to the panel's other widgets are refused.
    let replies = kernel
        .comm(update(&reflect.button, json!({"disabled": false})))
        .await;
    assert_eq!(
        sent_to(&replies, &reflect.button)[0]["state"],
        json!({"disabled": true})
    );
    kernel.shutdown().await;
}

#[tokio::test]
async fn the_hand_in_button_hands_in_once_and_shows_the_receipt() {
    let mut kernel = TestKernel::start(KERNEL).await;
    assert!(kernel.execute("%predict act1 C").await.is_ok());
    let run = kernel.execute("%submit --button").await;
    assert!(run.is_ok(), "{run:?}");
    assert!(run.text().contains("Still missing"), "{}", run.text());
    let widgets = Widgets::from(&run.iopub);
    let button = widgets.find("ButtonModel", |_| true);
    let result = widgets.find("OutputModel", |_| true);
    assert_eq!(widgets.states[&button]["description"], "Hand in");
    let home = kernel.mlsys_home().to_path_buf();
    assert_eq!(
        count(&home, "submitted"),
        0,
        "showing the button hands nothing in"
    );

    let replies = kernel.comm(click(&button)).await;
    let shown = last(&replies, &result, "outputs").unwrap();
    let data = &shown[0]["data"];
    let receipt = &data["application/vnd.mlsys.receipt.v1+json"];
    let file = Path::new(receipt["file"].as_str().unwrap());
    assert!(
        file.starts_with(home.join("outbox")) && file.exists(),
        "{file:?}"
    );
    assert!(data["text/plain"]
        .as_str()
        .unwrap()
        .contains("Lab handed in. What the instruments showed"));
    assert_eq!(count(&home, "submitted"), 1);
    assert_eq!(last(&replies, &button, "disabled"), Some(&json!(true)));

    kernel.comm(click(&button)).await;
    let replies = kernel
        .comm(update(&button, json!({"disabled": false})))
        .await;
    assert_eq!(
        sent_to(&replies, &button)[0]["state"],
        json!({"disabled": true})
    );
    kernel.comm(click(&button)).await;
    assert_eq!(count(&home, "submitted"), 1, "one click, one hand-in");
    assert!(
        kernel.execute("%submit").await.is_ok(),
        "typed %submit still works"
    );
    assert_eq!(count(&home, "submitted"), 2);
    kernel.shutdown().await;
}
