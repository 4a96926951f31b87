//! In-process tests of the lab's magics: the lock, persistence, errors that
//! leave the session unchanged, and the hand-in magics as this lab gets them.

use super::DataStorageLab;
use crate::interpreter::{ExecutionError, Output, Outputs};
use crate::lab::LabMagics;
use crate::registry::MagicRegistry;
use crate::widgets::WidgetManager;
use jupyter_protocol::Media;
use mlsys_model::labs::data_storage::{
    IoInputs, LedgerDesign, Missing, Report, RunInputs, Session, LAB_ID, LAB_TITLE,
};
use mlsys_model::record::EventKind;
use mlsys_model::{Act, Choice};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::mpsc;

struct Lab {
    lab: DataStorageLab,
    widgets: WidgetManager,
    home: PathBuf,
    displayed: mpsc::Receiver<Output>,
    outputs: Outputs,
}

impl Lab {
    fn new() -> Self {
        let home = std::env::temp_dir().join(format!("mlsys-lab-{}", uuid::Uuid::now_v7()));
        Self::at(home)
    }

    fn at(home: PathBuf) -> Self {
        let (tx, displayed) = mpsc::channel();
        Lab {
            lab: DataStorageLab::open(&home),
            widgets: WidgetManager::default(),
            home,
            displayed,
            outputs: Outputs::new(tx),
        }
    }

    fn run(&mut self, line: &str) -> Result<Value, ExecutionError> {
        let line = line.trim_start_matches('%');
        let (name, args) = line.split_once(' ').unwrap_or((line, ""));
        let outputs = &self.outputs;
        let media = match name {
            "ledger" | "submit" => self.lab.record().hand_in(name, args, outputs)?,
            _ => {
                let mut widgets = self.widgets.owned_by(LAB_ID);
                self.lab.run(name, args, &mut widgets, outputs)?
            }
        };
        Ok(json(&media.expect("a result")))
    }

    fn displays(&self) -> Vec<Value> {
        self.displayed
            .try_iter()
            .filter_map(|o| match o {
                Output::Display { data, .. } => Some(json(&data)),
                _ => None,
            })
            .collect()
    }

    fn session(&self) -> Session {
        self.lab.session().clone()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn json(media: &Media) -> Value {
    serde_json::to_value(media).unwrap()
}

fn plain(v: &Value) -> &str {
    v["text/plain"].as_str().unwrap_or_default()
}

#[test]
fn instruments_refuse_until_the_prediction_is_locked_and_the_lock_holds() {
    let mut lab = Lab::new();
    let err = lab.run("%io --workers 4").unwrap_err();
    assert_eq!(
        err.evalue,
        "Act I prediction is not locked yet: pick your answer in the question of \
         `%predict act1` and click Lock (or type `%predict act1` followed by your letter, A–D), \
         then run this cell again"
    );
    let err = lab.run("%mds").unwrap_err();
    assert!(err.evalue.contains("%predict act2"), "{}", err.evalue);
    assert!(lab.session().runs.is_empty());

    let q = lab.run("%predict act1").unwrap();
    assert!(plain(&q).contains("B) Small random reads"), "{}", plain(&q));
    let locked = lab.run("%predict act1 C").unwrap();
    assert!(plain(&locked).starts_with("Prediction locked: C."));
    let err = lab.run("%predict act1 B").unwrap_err();
    assert_eq!(err.ename, "PredictionLocked");
    assert!(err.evalue.contains("already locked as C"), "{}", err.evalue);
    assert_eq!(lab.session().predictions[&Act::Act1], Choice::C);
    assert!(
        lab.run("%predict act1 C").is_ok(),
        "re-running the same lock is fine"
    );
    let shown = lab.run("%predict act1").unwrap();
    assert!(plain(&shown).contains("C) Network bandwidth") && plain(&shown).contains("locked"));

    lab.displays();
    let bundle = lab.run("%io --workers 4 --pattern prefetch").unwrap();
    for mime in [
        "text/plain",
        "application/vnd.vegalite.v5+json",
        "application/vnd.mlsys.report.v1+json",
    ] {
        assert!(bundle.get(mime).is_some(), "{mime}");
    }
    let expected = RunInputs::Act1(IoInputs {
        workers: 4,
        pattern: mlsys_model::labs::data_storage::ReadPattern::Prefetch,
        ..IoInputs::default()
    })
    .evaluate();
    assert_eq!(
        bundle["application/vnd.mlsys.report.v1+json"],
        serde_json::to_value(&expected).unwrap()
    );
    let cards = lab.displays();
    assert_eq!(cards.len(), 1, "the cards come before the chart");
    assert!(cards[0]["text/html"]
        .as_str()
        .unwrap()
        .contains("GPU Utilization"));
    assert!(cards[0].get("application/vnd.vegalite.v5+json").is_none());
}

#[test]
fn bad_input_is_one_clear_error_and_changes_nothing() {
    let mut lab = Lab::new();
    lab.run("%predict act1 B").unwrap();
    lab.run("%io --batch 128").unwrap();
    let before = lab.session();
    let journal = std::fs::read_to_string(lab.home.join("labs/v2_04/events.jsonl")).unwrap();
    for (line, message) in [
        (
            "%io --batch 100",
            "--batch must be a multiple of 32 between 32 and 512, got 100",
        ),
        (
            "%io --workers 2 --batch 100",
            "--batch must be a multiple of 32 between 32 and 512, got 100",
        ),
        (
            "%io --color red",
            "%io: unknown option --color; allowed: --workers, --batch, --pattern, --osts",
        ),
        ("%predict act3 B", "act must be one of act1, act2, got act3"),
        ("%reflect act1 Z", "choice must be one of A, B, C, D, got Z"),
        (
            "%context cloud",
            "context must be one of nvme, distributed_fs, got cloud",
        ),
        (
            "%reveal act2",
            "Act II prediction is not locked yet: pick your answer in the question of \
             `%predict act2` and click Lock (or type `%predict act2` followed by your letter, \
             A–D), then run this cell again",
        ),
    ] {
        let err = lab.run(line).unwrap_err();
        assert_eq!(err.evalue, message, "{line}");
    }
    assert_eq!(lab.session(), before);
    let after = std::fs::read_to_string(lab.home.join("labs/v2_04/events.jsonl")).unwrap();
    assert_eq!(after, journal, "nothing recorded");
    assert_eq!(lab.session().io.batch, 128);
}

#[test]
fn the_session_survives_many_cells_and_a_new_kernel() {
    let mut lab = Lab::new();
    lab.run("%context nvme").unwrap();
    lab.run("%predict act1 B").unwrap();
    for workers in 1..=16 {
        lab.run(&format!("%io --workers {workers}")).unwrap();
    }
    lab.run("%io --pattern sequential").unwrap();
    let reveal = lab.run("%reveal act1").unwrap();
    assert!(plain(&reveal).starts_with("Correct. You predicted B"));
    assert!(
        plain(&reveal).contains("16 workers/GPU, batch 64, sequential reads, local NVMe"),
        "{}",
        plain(&reveal)
    );
    lab.run("%reflect act1 B").unwrap();
    lab.run("%predict act2 A").unwrap();
    lab.run("%mds --gpus 4096 --workers 8").unwrap();
    let before = lab.session();
    assert_eq!(before.runs.len(), 18);

    let home = lab.home.clone();
    let again = DataStorageLab::open(&home);
    assert_eq!(*again.session(), before);
    let mut lab2 = Lab::at(home);
    let err = lab2.run("%predict act2 B").unwrap_err();
    assert!(err.evalue.contains("already locked as A"));
    let status = lab2.run("%status").unwrap();
    for needle in [
        "Context            NVMe — Single Node",
        "Act I prediction   B (correct)",
        "Act II prediction  A (incorrect)",
        "Effective I/O BW   23.5 GB/s",
        "MDS status         saturated (4,915K ops/s)",
        "Workers            32,768 (4096×8)",
        "17 (17 distinct)",
        "1 (1 distinct)",
        "events.jsonl",
    ] {
        assert!(
            plain(&status).contains(needle),
            "{needle}: {}",
            plain(&status)
        );
    }
    let mds = lab2.run("%mds --layout object_store").unwrap();
    let Ok(Report::Act2 { inputs, .. }) =
        serde_json::from_value::<Report>(mds["application/vnd.mlsys.report.v1+json"].clone())
    else {
        panic!("not an act 2 report")
    };
    assert_eq!(
        (inputs.gpus, inputs.workers_per_gpu),
        (4096, 8),
        "omitted flags keep the last values"
    );
    assert_eq!(
        inputs.context,
        mlsys_model::labs::data_storage::Context::Nvme
    );
}

#[test]
fn without_a_journal_the_lab_works_in_memory_and_says_so_once() {
    let file = std::env::temp_dir().join(format!("mlsys-not-a-dir-{}", uuid::Uuid::now_v7()));
    std::fs::write(&file, b"x").unwrap();
    let mut registry = MagicRegistry::default();
    registry.register(LAB_ID, LAB_TITLE, Box::new(DataStorageLab::open(&file)));
    let (tx, displayed) = mpsc::channel();
    let outputs = Outputs::new(tx);
    let mut widgets = WidgetManager::default();
    let mut run = |code: &str| {
        let result = registry.run_cell(code, &mut widgets, &outputs).unwrap();
        json(&result.unwrap())
    };
    run("%predict act1 B");
    let notices: Vec<Value> = displayed
        .try_iter()
        .filter_map(|o| match o {
            Output::Display { data, .. } => Some(json(&data)),
            _ => None,
        })
        .collect();
    assert_eq!(notices.len(), 1);
    assert!(
        plain(&notices[0]).contains("will not be saved"),
        "{:?}",
        notices[0]
    );
    run("%io");
    assert!(displayed.try_iter().all(|o| match o {
        Output::Display { data, .. } => !plain(&json(&data)).contains("will not be saved"),
        _ => true,
    }));
    assert!(plain(&run("%status")).contains("memory only"));
    std::fs::remove_file(file).unwrap();
}

#[test]
fn reveal_reflect_mathpeek_context_and_help() {
    let mut lab = Lab::new();
    lab.run("%predict act2 D").unwrap();
    assert!(lab
        .run("%reveal act2")
        .unwrap_err()
        .evalue
        .contains("run %mds first"));
    lab.run("%mds --gpus 1024").unwrap();
    let reveal = lab.run("%reveal act2").unwrap();
    assert!(
        plain(&reveal).contains("25 GB/s IB port"),
        "{}",
        plain(&reveal)
    );
    assert!(plain(&reveal).contains("Correct answer: B"));
    assert!(reveal["text/html"]
        .as_str()
        .unwrap()
        .contains("border-left:4px solid"));

    let q = lab.run("%reflect act2").unwrap();
    assert!(plain(&q).contains("Why is object storage"));
    let fb = lab.run("%reflect act2 C").unwrap();
    assert!(plain(&fb).starts_with("Not the best answer. The correct answer is B."));
    let err = lab.run("%reflect act2 B").unwrap_err();
    assert!(err.evalue.contains("first answer counts"));
    assert_eq!(lab.session().reflections[&Act::Act2], Choice::C);

    let peek = lab.run("%mathpeek act2").unwrap();
    let md = peek["text/markdown"].as_str().unwrap();
    assert!(md.contains("= 1024 × 4 × 50.0 × 3 × 1.00"), "{md}");
    let peek = lab.run("%mathpeek act1").unwrap();
    assert!(peek["text/markdown"]
        .as_str()
        .unwrap()
        .contains("4521.4 ms"));

    let ctx = lab.run("%context").unwrap();
    assert!(plain(&ctx).contains("672 GB/s aggregate"));
    let mut registry = MagicRegistry::default();
    registry.register(LAB_ID, LAB_TITLE, Box::new(DataStorageLab::open(&lab.home)));
    for name in [
        "context", "predict", "io", "mds", "reveal", "reflect", "mathpeek", "status", "ledger",
        "submit",
    ] {
        let help = registry
            .run_cell(&format!("%{name} --help"), &mut lab.widgets, &lab.outputs)
            .unwrap();
        let help = json(&help.unwrap());
        assert!(plain(&help).starts_with(&format!("%{name}")), "{name}");
    }
}

#[test]
fn ledger_save_writes_the_seed_keys_once_and_records_the_event() {
    let mut lab = Lab::new();
    assert!(plain(&lab.run("%ledger").unwrap()).contains("no chapter saved yet"));
    lab.run("%predict act1 B").unwrap();
    lab.run("%ledger save").unwrap();
    lab.run("%context nvme").unwrap();
    let saved = lab.run("%ledger save").unwrap();

    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(lab.home.join("ledger.json")).unwrap()).unwrap();
    assert_eq!(saved["application/vnd.mlsys.ledger.v1+json"], on_disk);
    let history = on_disk["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "a second save replaces the entry");
    assert_eq!(history[0]["chapter"], LAB_ID);
    let design = history[0]["design"].as_object().unwrap();
    let session = lab.session();
    assert_eq!(LedgerDesign::from_map(design).unwrap(), session.design());
    assert_eq!(design["context"], "nvme");
    assert_eq!(design["act1_prediction"], "B");
    assert_eq!(design["act1_correct"], true);
    assert_eq!(session.saved_design, Some(session.design()));
    let shown = lab.run("%ledger").unwrap();
    assert!(plain(&shown).contains("  storage_type          individual_files"));
}

#[test]
fn submit_hands_in_a_log_that_replays_and_lists_what_is_missing() {
    let mut lab = Lab::new();
    lab.run("%predict act1 C").unwrap();
    lab.run("%ledger save").unwrap();
    let receipt = lab.run("%submit").unwrap()["application/vnd.mlsys.receipt.v1+json"].clone();
    let file = PathBuf::from(receipt["file"].as_str().unwrap());
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("v2_04-"), "{name}");
    let labs = crate::labs::builtin();
    let checked = crate::exchange::check_submission_file(&file, labs.models()).unwrap();
    assert_eq!(checked.sha256, receipt["sha256"]);
    assert_eq!(checked.session, receipt["session"]);
    assert_eq!(checked.events, 2);
    let missing = receipt["missing"].as_array().unwrap();
    assert_eq!(missing[0], Missing::Run { act: Act::Act1 }.to_string());
    assert!(missing.contains(&json!(Missing::Prediction { act: Act::Act2 }.to_string())));
    assert_eq!(lab.session().submissions.len(), 1);
    let journal = std::fs::read_to_string(lab.home.join("labs/v2_04/events.jsonl")).unwrap();
    let last: EventKind =
        serde_json::from_str::<mlsys_model::record::Event>(journal.lines().last().unwrap())
            .unwrap()
            .kind;
    assert!(matches!(last, EventKind::Submitted { .. }));
}

#[test]
fn a_second_notebook_of_the_lab_is_told_which_prediction_holds() {
    let mut first = Lab::new();
    let mut second = Lab::at(first.home.clone());
    first.run("%predict act1 B").unwrap();
    let refused = second.run("%predict act1 C").unwrap_err();
    assert_eq!(refused.ename, "LabError");
    assert_eq!(
        refused.evalue,
        "Act I prediction is already locked as B; it cannot be changed"
    );
    second.run("%io --workers 4").unwrap();
    assert_eq!(second.session().predictions[&Act::Act1], Choice::B);
    first.lab.record().refresh();
    assert_eq!(first.session(), second.session());
    let status = first.run("%status").unwrap();
    let status = plain(&status);
    assert!(
        status.contains("not witnessed: no grader service is configured"),
        "{status}"
    );
}

#[test]
fn reveals_mathpeeks_and_status_show_the_models_texts() {
    use crate::render::text::callout;
    use mlsys_model::labs::data_storage::limits::io_limits;
    use mlsys_model::labs::data_storage::narrative::{self, act1_binding_sentence};
    use mlsys_model::labs::data_storage::status::{closing_summary, status_footer};
    use mlsys_model::labs::data_storage::ReadPattern;

    let mut lab = Lab::new();
    lab.run("%predict act1 A").unwrap();
    lab.run("%io --pattern prefetch --workers 8").unwrap();
    let i = IoInputs {
        workers: 8,
        pattern: ReadPattern::Prefetch,
        ..IoInputs::default()
    };
    let Report::Act1 { outputs: o, .. } = RunInputs::Act1(i).evaluate() else {
        panic!()
    };
    let reveal = lab.run("%reveal act1").unwrap();
    let binds = act1_binding_sentence(&i, &o, &io_limits(&i, &o)).replace('`', "");
    assert!(plain(&reveal).contains(&binds), "{}", plain(&reveal));

    let peek = lab.run("%mathpeek act1").unwrap();
    let md = peek["text/markdown"].as_str().unwrap();
    let expected = narrative::mathpeek(&RunInputs::Act1(i).evaluate());
    assert!(!expected.simplifications.is_empty());
    assert!(md.contains("**Where this model simplifies**"), "{md}");
    for s in &expected.simplifications {
        assert!(md.contains(&s.text), "{}", s.text);
    }

    let status = lab.run("%status").unwrap();
    for item in status_footer(&lab.session()).items() {
        assert!(
            plain(&status).contains(&item.value),
            "{}: {}",
            item.label,
            plain(&status)
        );
    }
    assert!(plain(&status).contains("Effective I/O BW"));

    lab.run("%predict act2 B").unwrap();
    let submitted = lab.run("%submit").unwrap();
    let closing = closing_summary(&lab.session());
    assert!(
        plain(&submitted).contains(&callout(&closing)),
        "{}",
        plain(&submitted)
    );
}
