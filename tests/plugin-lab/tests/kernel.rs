//! The Pipe plugs into the real kernel: `plugin-lab-kernel` (the course's labs
//! plus the Pipe, registered in a test build) over real ZeroMQ sockets. The
//! Pipe's magics run and record through the kernel, its widget comm is routed
//! to it beside v2_04's on the one widget manager, and its `%submit` writes a
//! standard submission that the kernel's registry checks.

use jupyter_protocol::{CommId, CommMsg, CommOpen, JupyterMessageContent, Media};
use mlsys_kernel_client::{Execution, TempDir, TestKernel};
use mlsys_model::labs::data_storage::{IoInputs, RunInputs};
use mlsys_model::record::{Event, EventKind, RunSource, Submission};
use mlsys_plugin_lab::model::{LAB_ID, REPORT_MIME};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::process::Command;

const KERNEL: &str = env!("CARGO_BIN_EXE_plugin-lab-kernel");
const V2_04_REPORT: &str = "application/vnd.mlsys.report.v1+json";
const RECEIPT: &str = "application/vnd.mlsys.receipt.v1+json";

/// The cell's `execute_result` as a mime bundle.
fn result(exec: &Execution) -> Map<String, Value> {
    assert!(exec.is_ok(), "{:?}", exec.error());
    let data: &Media = exec
        .iopub
        .iter()
        .find_map(|m| match &m.content {
            JupyterMessageContent::ExecuteResult(r) => Some(&r.data),
            _ => None,
        })
        .expect("an execute_result");
    match serde_json::to_value(data).unwrap() {
        Value::Object(map) => map,
        other => panic!("not a bundle: {other}"),
    }
}

/// The widgets a cell opened: `(comm_id, state)` in opening order.
fn opened(exec: &Execution) -> Vec<(String, Map<String, Value>)> {
    exec.iopub
        .iter()
        .filter_map(|m| match &m.content {
            JupyterMessageContent::CommOpen(open) => Some((
                open.comm_id.0.clone(),
                open.data["state"].as_object().unwrap().clone(),
            )),
            _ => None,
        })
        .collect()
}

fn slider(widgets: &[(String, Map<String, Value>)], description: &str) -> String {
    widgets
        .iter()
        .find(|(_, s)| s["_model_name"] == "IntSliderModel" && s["description"] == description)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no {description} slider"))
}

/// Sends a comm message; returns the `comm_msg`s it caused as `(comm_id, data)`.
async fn send(
    kernel: &mut TestKernel,
    comm: &str,
    data: Value,
) -> Vec<(String, Map<String, Value>)> {
    let message = CommMsg {
        comm_id: CommId(comm.to_string()),
        data: data.as_object().unwrap().clone(),
    };
    let id = kernel.send_shell(message).await;
    kernel
        .iopub_until_idle(&id)
        .await
        .into_iter()
        .filter_map(|m| match m.content {
            JupyterMessageContent::CommMsg(c) => Some((c.comm_id.0, c.data)),
            _ => None,
        })
        .collect()
}

fn journal(home: &Path, lab: &str) -> Vec<Event> {
    let path = home.join("labs").join(lab).join("events.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The width and source of an instrument run of the Pipe.
fn pipe_run(event: &Event) -> (u64, RunSource) {
    match &event.kind {
        EventKind::InstrumentRun { inputs, source, .. } => {
            (inputs["width"].as_u64().unwrap(), *source)
        }
        other => panic!("not a run: {other:?}"),
    }
}

#[tokio::test]
async fn the_pipe_runs_records_and_hands_in_through_the_real_kernel_beside_v2_04() {
    let home = TempDir::new("pipe-home");
    let home_path = home.path().to_path_buf();
    let mut kernel = TestKernel::start_in(KERNEL, &home_path).await;

    // The Pipe's instrument is refused before its prediction; that makes the
    // Pipe the active lab, so the shared %predict runs the Pipe's.
    let refused = kernel.execute("%pipe --width 3").await;
    let error = refused.error().expect("refused before the prediction");
    assert_eq!(error.ename, "LabError");
    assert!(
        error.evalue.contains("prediction is not locked yet"),
        "{}",
        error.evalue
    );
    let locked = kernel.execute("%predict act1 B").await;
    assert!(
        locked.text().contains("Prediction locked: B. Doubles it"),
        "{}",
        locked.text()
    );
    let run = kernel.execute("%pipe --width 3").await;
    let report = &result(&run)[REPORT_MIME];
    assert_eq!(report["outputs"]["throughput_gbs"], 30.0);
    assert!(
        run.text().contains("The Pipe: width 3 → 30 GB/s"),
        "{}",
        run.text()
    );
    let events = journal(&home_path, LAB_ID);
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.lab == LAB_ID));
    assert_eq!(pipe_run(&events[1]), (3, RunSource::Magic));
    assert!(journal(&home_path, "v2_04").is_empty(), "v2_04 saw nothing");

    // v2_04 still works in the same kernel: %io is v2_04's alone, so it makes
    // v2_04 active, and the next %predict is v2_04's.
    let refused = kernel.execute("%io --workers 4").await;
    assert!(refused.error().unwrap().evalue.contains("%predict act1"));
    assert!(kernel.execute("%predict act1 B").await.is_ok());
    let io = kernel.execute("%io --workers 4").await;
    let expected = RunInputs::Act1(IoInputs {
        workers: 4,
        ..IoInputs::default()
    })
    .evaluate();
    assert_eq!(
        result(&io)[V2_04_REPORT],
        serde_json::to_value(expected).unwrap()
    );
    assert_eq!(journal(&home_path, "v2_04").len(), 2);
    assert_eq!(journal(&home_path, LAB_ID).len(), 2, "the Pipe saw nothing");
    let labs = kernel.execute("%lab").await.text();
    assert!(
        labs.contains("* v2_04   The Data Gravity Trap\n  t_pipe  The Pipe"),
        "{labs}"
    );

    // Both labs' live panels on the kernel's one widget manager.
    let io_live = kernel.execute("%io --live").await;
    let workers = slider(&opened(&io_live), "Workers per GPU");
    let pipe_live = kernel.execute("%lab t_pipe\n%pipe --live").await;
    let pipe_widgets = opened(&pipe_live);
    let width = slider(&pipe_widgets, "Width");
    let open = CommOpen {
        comm_id: CommId("control".into()),
        target_name: "jupyter.widget.control".into(),
        data: Map::new(),
        target_module: None,
    };
    let control = kernel.send_shell(open).await;
    kernel.iopub_until_idle(&control).await;
    let replies = send(&mut kernel, "control", json!({"method": "request_states"})).await;
    let states = replies[0].1["states"].as_object().unwrap();
    assert!(states.contains_key(&workers), "v2_04's widgets");
    assert!(states.contains_key(&width), "the Pipe's widgets");
    let expected = opened(&io_live).len() + pipe_widgets.len();
    assert_eq!(states.len(), expected, "every widget of both labs, once");

    // Each update reaches its owner and is recorded in its owner's journal.
    let update = |value: i64| json!({"method": "update", "state": {"value": value}});
    let replies = send(&mut kernel, &width, update(5)).await;
    assert_eq!(
        (replies[0].0.as_str(), &replies[0].1["method"]),
        (width.as_str(), &json!("echo_update"))
    );
    assert!(
        replies
            .iter()
            .any(|(_, d)| d["state"]["value"] == "50.0 GB/s"),
        "{replies:?}"
    );
    let events = journal(&home_path, LAB_ID);
    assert_eq!(pipe_run(events.last().unwrap()), (5, RunSource::Widget));
    let replies = send(&mut kernel, &width, update(9)).await;
    assert_eq!(
        replies[0].1["state"],
        json!({"value": 5}),
        "a forged width snaps back"
    );
    assert_eq!(journal(&home_path, LAB_ID).len(), events.len());
    let before = journal(&home_path, "v2_04").len();
    let replies = send(&mut kernel, &workers, update(8)).await;
    assert_eq!(replies[0].1["method"], "echo_update");
    let v2_04 = journal(&home_path, "v2_04");
    assert_eq!(v2_04.len(), before + 1);
    let EventKind::InstrumentRun { inputs, source, .. } = &v2_04.last().unwrap().kind else {
        panic!()
    };
    assert_eq!(
        (inputs["workers"].as_u64(), *source),
        (Some(8), RunSource::Widget)
    );
    assert_eq!(journal(&home_path, LAB_ID).len(), events.len());

    // %submit hands in the active lab: the Pipe.
    let submitted = kernel.execute("%submit").await;
    let receipt = result(&submitted)[RECEIPT].clone();
    assert_eq!(receipt["lab"], LAB_ID);
    assert_eq!(receipt["missing"], json!([]));
    let file = receipt["file"].as_str().unwrap().to_string();
    kernel.shutdown().await;

    let bytes = std::fs::read(&file).unwrap();
    let submission: Submission = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(submission.lab, LAB_ID);
    assert!(Path::new(&file)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("t_pipe-"));
    let checked = Command::new(KERNEL)
        .arg("check-submission")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let summary: Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(summary["lab"], LAB_ID);
    assert_eq!(summary["sha256"], receipt["sha256"]);
    assert_eq!(
        summary["session"]["runs"],
        json!([{"width": 3}, {"width": 3}, {"width": 5}])
    );

    let evaluated = Command::new(KERNEL)
        .args([
            "evaluate",
            "--lab",
            LAB_ID,
            r#"{"act": "act1", "inputs": {"width": 4}}"#,
        ])
        .output()
        .unwrap();
    assert!(evaluated.status.success());
    let report: Value = serde_json::from_slice(&evaluated.stdout).unwrap();
    assert_eq!(report["outputs"]["throughput_gbs"], 40.0);
}
