//! Live instruments over the real protocol: `%io --live` / `%mds --live` open
//! ipywidgets 8 models (protocol 2.1.0), and `update` messages sent as
//! JupyterLab sends them rerun the model, or snap back when forged.

mod common;

use common::widgets::{comm, references, sent_to, update, Widgets};
use common::{TempDir, TestKernel, KERNEL};
use jupyter_protocol::{CommId, CommInfoRequest, CommOpen, JupyterMessageContent};
use mlsys_model::labs::data_storage::content::pattern_text;
use mlsys_model::labs::data_storage::{IoInputs, MdsInputs, ReadPattern, Report, RunInputs};
use serde_json::{json, Map, Value};

fn report_in_chart(data: &Map<String, Value>) -> Value {
    data["state"]["outputs"][0]["data"][Report::MIME_TYPE].clone()
}

fn widget_runs(home: &std::path::Path) -> usize {
    let journal = home.join("labs").join("v2_04").join("events.jsonl");
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"widget\""))
        .count()
}

#[tokio::test]
async fn slider_updates_rerun_the_model_and_forged_values_snap_back() {
    let mut kernel = TestKernel::start(KERNEL).await;
    assert!(kernel.execute("%predict act1 B").await.is_ok());
    let run = kernel.execute("%io --live").await;
    assert!(run.is_ok(), "{run:?}");
    let widgets = Widgets::from(&run.iopub);
    let workers = widgets.slider("Workers per GPU");
    assert_eq!(widgets.states[&workers]["value"], 1);
    assert_eq!(widgets.states[&workers]["continuous_update"], false);
    let cards = widgets.find("HTMLModel", |s| {
        s["value"].as_str().unwrap().contains("GPU Utilization")
    });
    let chart = widgets.find("OutputModel", |_| true);
    let pattern = widgets.find("ToggleButtonsModel", |_| true);
    assert_eq!(
        widgets.states[&pattern]["_options_labels"],
        json!(ReadPattern::ALL.map(|p| pattern_text(p).label))
    );
    for (tip, p) in widgets.states[&pattern]["tooltips"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ReadPattern::ALL)
    {
        assert!(
            tip.as_str()
                .unwrap()
                .ends_with(&pattern_text(p).description),
            "{tip}"
        );
    }
    assert!(references(&widgets.states[&widgets.root]).len() >= 2);

    // A move as JupyterLab sends it: echo first, then the new cards and chart.
    let replies = kernel.comm(update(&workers, json!({"value": 4}))).await;
    assert_eq!(replies[0].0, workers);
    assert_eq!(replies[0].1["method"], "echo_update");
    assert_eq!(replies[0].1["state"], json!({"value": 4}));
    let expected = RunInputs::Act1(IoInputs {
        workers: 4,
        ..IoInputs::default()
    })
    .evaluate();
    let Report::Act1 { outputs, .. } = &expected else {
        panic!()
    };
    let html = sent_to(&replies, &cards);
    assert_eq!(html.len(), 1);
    let page = html[0]["state"]["value"].as_str().unwrap();
    assert!(
        page.contains(&format!("{:.0}%", outputs.gpu_util_pct)),
        "{page}"
    );
    assert!(page.contains("4 workers/GPU"), "{page}");
    let drawn = sent_to(&replies, &chart);
    assert_eq!(
        report_in_chart(drawn[0]),
        serde_json::to_value(&expected).unwrap()
    );
    assert!(
        drawn[0]["state"]["outputs"][0]["data"]["application/vnd.vegalite.v5+json"].is_object()
    );
    assert_eq!(widget_runs(kernel.mlsys_home()), 1);

    // The same value again: echoed, nothing rerun or recorded.
    let replies = kernel.comm(update(&workers, json!({"value": 4}))).await;
    assert_eq!(replies.len(), 1);
    assert_eq!(widget_runs(kernel.mlsys_home()), 1);

    // Forged values: the widget snaps back to 4; cards, chart and journal untouched.
    for forged in [json!(99), json!(0), json!("4"), json!(2.5), json!(null)] {
        let replies = kernel
            .comm(update(&workers, json!({ "value": forged })))
            .await;
        let back = sent_to(&replies, &workers);
        assert_eq!(back.len(), 1, "{forged}: {replies:?}");
        assert_eq!(back[0]["method"], "update");
        assert_eq!(back[0]["state"], json!({"value": 4}));
        assert!(sent_to(&replies, &cards).is_empty());
        assert!(sent_to(&replies, &chart).is_empty());
        assert!(
            replies.iter().any(|(_, d)| d["state"]["value"]
                .as_str()
                .is_some_and(|v| v.contains("refused"))),
            "a notice explains the refusal"
        );
    }
    let replies = kernel.comm(update(&pattern, json!({"index": 7}))).await;
    assert_eq!(sent_to(&replies, &pattern)[0]["state"], json!({"index": 1}));
    let replies = kernel
        .comm(update(&cards, json!({"value": "<b>forged</b>"})))
        .await;
    assert_eq!(sent_to(&replies, &cards)[0]["state"]["value"], page);
    assert_eq!(widget_runs(kernel.mlsys_home()), 1);

    // A toggle change reruns with the other inputs kept.
    let replies = kernel.comm(update(&pattern, json!({"index": 2}))).await;
    let expected = RunInputs::Act1(IoInputs {
        workers: 4,
        pattern: ReadPattern::Prefetch,
        ..IoInputs::default()
    })
    .evaluate();
    assert_eq!(
        report_in_chart(sent_to(&replies, &chart)[0]),
        serde_json::to_value(&expected).unwrap()
    );
    assert_eq!(widget_runs(kernel.mlsys_home()), 2);

    // Reconnecting front ends: comm_info lists the widgets, request_state returns full state.
    let info = kernel
        .request(CommInfoRequest {
            target_name: Some("jupyter.widget".into()),
        })
        .await;
    let JupyterMessageContent::CommInfoReply(info) = &info.reply.content else {
        panic!()
    };
    assert_eq!(info.comms.len(), widgets.order.len());
    assert!(info.comms.contains_key(&CommId(workers.clone())));
    let replies = kernel
        .comm(comm(&workers, json!({"method": "request_state"})))
        .await;
    assert_eq!(replies[0].1["state"]["value"], 4);
    assert_eq!(replies[0].1["state"]["_model_name"], "IntSliderModel");
    let control = kernel
        .send_shell(CommOpen {
            comm_id: CommId("control-1".into()),
            target_name: "jupyter.widget.control".into(),
            data: Map::new(),
            target_module: None,
        })
        .await;
    let opened = kernel.iopub_until_idle(&control).await;
    assert!(
        opened.iter().all(|m| m.message_type() == "status"),
        "the control comm is accepted"
    );
    let replies = kernel
        .comm(comm("control-1", json!({"method": "request_states"})))
        .await;
    assert_eq!(replies[0].1["method"], "update_states");
    let states = replies[0].1["states"].as_object().unwrap();
    assert_eq!(states.len(), widgets.order.len());
    assert_eq!(states[&pattern]["index"], 2);

    // Rerunning the cell replaces the panel: the old widgets are closed.
    let again = kernel.execute("%io --live --batch 128").await;
    assert!(again.is_ok(), "{again:?}");
    let closed: Vec<_> = again
        .iopub
        .iter()
        .filter_map(|m| match &m.content {
            JupyterMessageContent::CommClose(c) => Some(c.comm_id.0.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(closed.len(), widgets.order.len());
    let fresh = Widgets::from(&again.iopub);
    assert_eq!(fresh.states[&fresh.slider("Batch size")]["value"], 128);
    assert_eq!(fresh.states[&fresh.slider("Workers per GPU")]["value"], 4);
    kernel.shutdown().await;
}

#[tokio::test]
async fn live_panels_keep_the_lock_and_come_back_after_a_restart() {
    let home = TempDir::new("widgets-home");
    let mut kernel = TestKernel::start_in(KERNEL, home.path()).await;
    let refused = kernel.execute("%mds --live").await;
    assert!(!refused.is_ok());
    assert!(
        refused
            .iopub
            .iter()
            .all(|m| m.message_type() != "comm_open"),
        "no widgets before the prediction is locked"
    );
    assert!(kernel.execute("%predict act2 A").await.is_ok());
    let run = kernel.execute("%mds --live").await;
    assert!(run.is_ok(), "{run:?}");
    let widgets = Widgets::from(&run.iopub);
    let gpus = widgets.slider("GPUs");
    let chart = widgets.find("OutputModel", |_| true);
    let replies = kernel.comm(update(&gpus, json!({"value": 1024}))).await;
    let expected = RunInputs::Act2(MdsInputs {
        gpus: 1024,
        ..MdsInputs::default()
    })
    .evaluate();
    assert_eq!(
        report_in_chart(sent_to(&replies, &chart)[0]),
        serde_json::to_value(&expected).unwrap()
    );
    let replies = kernel.comm(update(&gpus, json!({"value": 1000}))).await;
    assert_eq!(sent_to(&replies, &gpus)[0]["state"], json!({"value": 1024}));

    // A later %context applies to the open panel's next move, as to the next magic run.
    assert!(kernel.execute("%context nvme").await.is_ok());
    let replies = kernel.comm(update(&gpus, json!({"value": 2048}))).await;
    let report = report_in_chart(sent_to(&replies, &chart)[0]);
    assert_eq!(report["inputs"]["context"], "nvme");
    assert_eq!(report["inputs"]["gpus"], 2048);
    kernel.shutdown().await;

    // A new kernel: the old comms are gone; rerunning the cell recreates the widgets.
    let mut kernel = TestKernel::start_in(KERNEL, home.path()).await;
    let stale = kernel.comm(update(&gpus, json!({"value": 2048}))).await;
    assert!(stale.is_empty(), "an unknown comm is ignored: {stale:?}");
    let run = kernel.execute("%mds --live").await;
    assert!(run.is_ok(), "{run:?}");
    let widgets = Widgets::from(&run.iopub);
    assert_eq!(widgets.states[&widgets.slider("GPUs")]["value"], 2048);
    assert_eq!(widget_runs(home.path()), 2);
    kernel.shutdown().await;
}
