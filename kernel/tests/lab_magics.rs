//! The lab's magics over the real protocol: a running `mlsys-kernel`, real
//! ZeroMQ sockets. Every instrument run shows its cards, then its chart
//! carrying a report equal to `mlsys-model`'s, over hundreds of random valid
//! inputs; the prediction lock holds across cells and kernel restarts.

mod common;

use common::{Execution, TempDir, TestKernel, KERNEL};
use jupyter_protocol::{JupyterMessageContent, Media};
use mlsys_kernel::render::html::escape;
use mlsys_model::labs::data_storage::constants::{
    BATCH, GPUS, MDS_NODES, OSTS, WORKERS, WORKERS_PER_GPU,
};
use mlsys_model::labs::data_storage::narrative;
use mlsys_model::labs::data_storage::{
    Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern, RunInputs,
};
use serde_json::Value;

const REPORT: &str = "application/vnd.mlsys.report.v1+json";
/// The result of a run: its chart, the chart's title as text, and the report.
const RUN_MIMES: [&str; 3] = [REPORT, "application/vnd.vegalite.v5+json", "text/plain"];
/// Random valid runs per act.
const SAMPLES: usize = 200;

/// A small seeded generator (SplitMix64), so every run of the test draws the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn result(exec: &Execution) -> &Media {
    assert!(exec.is_ok(), "{:?}", exec.error());
    exec.iopub
        .iter()
        .find_map(|m| match &m.content {
            JupyterMessageContent::ExecuteResult(r) => Some(&r.data),
            _ => None,
        })
        .expect("an execute_result")
}

fn bundle(media: &Media) -> serde_json::Map<String, Value> {
    match serde_json::to_value(media).unwrap() {
        Value::Object(map) => map,
        other => panic!("not a bundle: {other}"),
    }
}

/// Checks a run's output: the cards (HTML and text) displayed first, then the
/// chart with the model's report as the result.
fn check_run(exec: &Execution, expected: RunInputs, line: &str) {
    let data = bundle(result(exec));
    let mut mimes: Vec<&str> = data.keys().map(String::as_str).collect();
    mimes.sort();
    assert_eq!(mimes, RUN_MIMES, "{line}");
    let shown: Vec<&str> = exec
        .iopub
        .iter()
        .filter_map(|m| match &m.content {
            JupyterMessageContent::DisplayData(_) => Some("cards"),
            JupyterMessageContent::ExecuteResult(_) => Some("chart"),
            _ => None,
        })
        .collect();
    assert_eq!(shown, ["cards", "chart"], "{line}");
    let cards = exec.iopub.iter().find_map(|m| match &m.content {
        JupyterMessageContent::DisplayData(d) => Some(bundle(&d.data)),
        _ => None,
    });
    let cards = cards.expect("cards");
    let binds = narrative::what_binds(&expected.evaluate());
    let page = cards["text/html"].as_str().unwrap();
    assert!(page.contains(&escape(&binds.title)), "{line}: {page}");
    let model = serde_json::to_value(expected.evaluate()).unwrap();
    assert_eq!(data[REPORT], model, "{line}");
}

#[tokio::test]
async fn random_act1_runs_match_the_model() {
    let mut kernel = TestKernel::start(KERNEL).await;
    assert!(kernel.execute("%predict act1 B").await.is_ok());
    let mut rng = Rng(0x5EED_0001);
    let mut current = IoInputs::default();
    let workers: Vec<u32> = WORKERS.values().collect();
    let batches: Vec<u32> = BATCH.values().collect();
    let osts: Vec<u32> = OSTS.values().collect();
    for _ in 0..SAMPLES {
        if rng.chance(10) {
            let context = rng.pick(&Context::ALL);
            assert!(kernel.execute(&format!("%context {context}")).await.is_ok());
            current.context = context;
        }
        let mut line = String::from("%io");
        if rng.chance(80) {
            current.workers = rng.pick(&workers);
            line += &format!(" --workers {}", current.workers);
        }
        if rng.chance(80) {
            current.batch = rng.pick(&batches);
            line += &format!(" --batch {}", current.batch);
        }
        if rng.chance(80) {
            current.pattern = rng.pick(&ReadPattern::ALL);
            line += &format!(" --pattern={}", current.pattern);
        }
        if rng.chance(80) {
            current.osts = rng.pick(&osts);
            line += &format!(" --osts {}", current.osts);
        }
        let exec = kernel.execute(&line).await;
        check_run(&exec, RunInputs::Act1(current), &line);
    }
    kernel.shutdown().await;
}

#[tokio::test]
async fn random_act2_runs_match_the_model() {
    let mut kernel = TestKernel::start(KERNEL).await;
    assert!(kernel.execute("%predict act2 A").await.is_ok());
    let mut rng = Rng(0x5EED_0002);
    let mut current = MdsInputs::default();
    let gpus: Vec<u32> = GPUS.values().collect();
    let workers: Vec<u32> = WORKERS_PER_GPU.values().collect();
    let mds: Vec<u32> = MDS_NODES.values().collect();
    for _ in 0..SAMPLES {
        if rng.chance(10) {
            let context = rng.pick(&Context::ALL);
            assert!(kernel.execute(&format!("%context {context}")).await.is_ok());
            current.context = context;
        }
        let mut line = String::from("%mds");
        if rng.chance(80) {
            current.gpus = rng.pick(&gpus);
            line += &format!(" --gpus {}", current.gpus);
        }
        if rng.chance(80) {
            current.workers_per_gpu = rng.pick(&workers);
            line += &format!(" --workers {}", current.workers_per_gpu);
        }
        if rng.chance(80) {
            current.layout = rng.pick(&DatasetLayout::ALL);
            line += &format!(" --layout {}", current.layout);
        }
        if rng.chance(80) {
            current.mds = rng.pick(&mds);
            line += &format!(" --mds={}", current.mds);
        }
        let exec = kernel.execute(&line).await;
        check_run(&exec, RunInputs::Act2(current), &line);
    }
    kernel.shutdown().await;
}

#[tokio::test]
async fn every_magic_answers_and_the_lock_holds_across_cells_and_restarts() {
    let home = TempDir::new("lab-lock");
    let mut kernel = TestKernel::start_in(KERNEL, home.path()).await;

    let refused = kernel.execute("%io --workers 4").await;
    let error = refused.error().expect("an error");
    assert_eq!(error.ename, "LabError");
    assert!(
        error
            .evalue
            .starts_with("Act I prediction is not locked yet: pick your answer in the question"),
        "{}",
        error.evalue
    );
    assert!(kernel.execute("%mds").await.error().is_some());

    for line in [
        "%context",
        "%predict act1",
        "%predict act2",
        "%status",
        "%mathpeek act1",
        "%reflect act1",
    ] {
        let exec = kernel.execute(line).await;
        let data = bundle(result(&exec));
        assert!(
            data.contains_key("text/plain")
                && (data.contains_key("text/html") || data.contains_key("text/markdown")),
            "{line}"
        );
    }
    assert!(kernel
        .execute("%predict act1 D")
        .await
        .text()
        .contains("Prediction locked: D."));
    for _ in 0..20 {
        assert!(kernel.execute("%io --workers 2").await.is_ok());
    }
    let change = kernel.execute("%predict act1 B").await;
    assert_eq!(change.error().expect("refused").ename, "PredictionLocked");
    assert!(change
        .error()
        .unwrap()
        .evalue
        .contains("already locked as D"));
    let bad = kernel.execute("%io --batch 100").await;
    assert_eq!(
        bad.error().expect("refused").evalue,
        "--batch must be a multiple of 32 between 32 and 512, got 100"
    );
    let reveal = kernel.execute("%reveal act1").await;
    assert!(
        reveal.text().contains("Not quite. You predicted D"),
        "{}",
        reveal.text()
    );
    assert!(reveal
        .text()
        .contains("2 workers/GPU, batch 64, random reads, 24 OSTs"));
    kernel.shutdown().await;

    let mut kernel = TestKernel::start_in(KERNEL, home.path()).await;
    let change = kernel.execute("%predict act1 B").await;
    assert!(change
        .error()
        .expect("still locked")
        .evalue
        .contains("already locked as D"));
    let status = kernel.execute("%status").await.text();
    assert!(status.contains("D (incorrect)"), "{status}");
    assert!(status.contains("20 (1 distinct)"), "{status}");
    let run = kernel.execute("%io --pattern sequential").await;
    check_run(
        &run,
        RunInputs::Act1(IoInputs {
            workers: 2,
            pattern: ReadPattern::Sequential,
            ..IoInputs::default()
        }),
        "after restart",
    );
    kernel.shutdown().await;
}
