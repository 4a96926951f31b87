//! Rust cells: every cell that is not a magic runs as Rust through evcxr,
//! with the lab model (`mlsys_model`) at hand and any lab's report shown the
//! way that lab's magics show it (its renderer is picked by the report's mime
//! type among the registered labs).
//!
//! evcxr runs in a worker process of its own (`mlsys-rust-cells`, see
//! `src/bin/mlsys-rust-cells/`), started on the first Rust cell, so a kernel that only runs
//! magics never pays for it and the kernel binary does not link evcxr. Built
//! without the `rust-cells` feature, a Rust cell gets one clear error and
//! magics work as usual.

use crate::interpreter::{ExecutionError, Interrupter, Outputs};
use crate::lab::KernelLabs;
use jupyter_protocol::Media;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

#[cfg(feature = "rust-cells")]
mod media;
#[cfg(feature = "rust-cells")]
pub mod protocol;
#[cfg(feature = "rust-cells")]
mod worker;

/// Shows a lab's report (its JSON) the way the lab's magics do: side displays
/// (a chart) go to the outputs, the returned bundle becomes the cell's result;
/// `None` when the JSON is not a report of that lab.
pub type ReportRenderer = Arc<dyn Fn(&Value, &Outputs) -> Option<Media> + Send + Sync>;

/// The labs' report renderers, by report mime type.
pub type ReportRenderers = HashMap<&'static str, ReportRenderer>;

/// Every lab's report renderer, under its report mime type.
pub fn report_renderers(labs: &KernelLabs) -> ReportRenderers {
    labs.iter()
        .map(|lab| {
            let render: ReportRenderer =
                Arc::new(move |report, outputs| lab.render_report(report, outputs));
            (lab.model().report_mime(), render)
        })
        .collect()
}

/// Where and how Rust cells run.
#[derive(Clone)]
pub struct RustCellsConfig {
    /// The per-student directory (`$MLSYS_HOME`); the model's source is written under it.
    pub home: PathBuf,
    /// Renders the labs' reports a cell shows; a report of no lab here is shown as JSON.
    pub renderers: ReportRenderers,
    /// Size of evcxr's cache of compiled dependencies, shared by all sessions, in MiB (0: off).
    pub cache_mib: u32,
    /// rustc's optimization level for cells and their dependencies (`0`–`3`, `s`, `z`).
    pub opt_level: String,
}

impl RustCellsConfig {
    /// The defaults for `home` with the labs' `renderers`: a 512 MiB compile
    /// cache, optimization level 0: cells compile fastest (`$MLSYS_RUST_OPT` overrides).
    pub fn new(home: PathBuf, renderers: ReportRenderers) -> Self {
        RustCellsConfig {
            home,
            renderers,
            cache_mib: 512,
            opt_level: std::env::var("MLSYS_RUST_OPT").unwrap_or_else(|_| "0".into()),
        }
    }
}

/// The Rust side of the kernel: runs cells as Rust in a lazily started worker process.
pub struct RustCells {
    #[cfg(feature = "rust-cells")]
    config: RustCellsConfig,
    #[cfg(feature = "rust-cells")]
    worker: Option<worker::Worker>,
    #[cfg(feature = "rust-cells")]
    line: worker::RequestLine,
}

impl RustCells {
    /// Rust cells that start their worker on first use.
    pub fn new(config: RustCellsConfig) -> Self {
        #[cfg(not(feature = "rust-cells"))]
        let _ = config;
        RustCells {
            #[cfg(feature = "rust-cells")]
            config,
            #[cfg(feature = "rust-cells")]
            worker: None,
            #[cfg(feature = "rust-cells")]
            line: Arc::default(),
        }
    }

    /// Runs `code` as Rust; `Ok(Some(media))` is the cell's displayed value.
    pub fn execute(
        &mut self,
        code: &str,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError> {
        #[cfg(feature = "rust-cells")]
        return self.execute_rust(code, outputs);
        #[cfg(not(feature = "rust-cells"))]
        {
            let _ = (code, outputs);
            Err(ExecutionError::new(
                "RustCellsDisabled",
                "Rust cells not enabled in this build (the kernel was built without the \
                 `rust-cells` feature); magics (%help) work as usual",
            ))
        }
    }

    /// Stops a running Rust cell: its start or compile, or its run (whose process
    /// is restarted, variables lost).
    pub fn interrupter(&self) -> Interrupter {
        #[cfg(feature = "rust-cells")]
        {
            let line = Arc::clone(&self.line);
            Arc::new(move || worker::interrupt(&line))
        }
        #[cfg(not(feature = "rust-cells"))]
        Arc::new(|| {})
    }

    /// Stops the worker, which stops evcxr and removes its temporary files
    /// (kernel shutdown or restart).
    pub fn shutdown(&mut self) {
        #[cfg(feature = "rust-cells")]
        if let Some(mut worker) = self.worker.take() {
            worker.shutdown();
        }
    }
}

#[cfg(feature = "rust-cells")]
impl RustCells {
    fn execute_rust(
        &mut self,
        code: &str,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError> {
        if let Some(status) = self.worker.as_mut().and_then(worker::Worker::exited) {
            // Dropped before a new one starts: it must not take the new worker's stdin.
            self.worker = None;
            outputs.stderr(format!(
                "The Rust cells process had stopped ({status}); starting a new one: \
                 variables, functions and types from earlier Rust cells are gone.\n"
            ));
        }
        if self.worker.is_none() {
            self.worker = Some(worker::Worker::spawn(&self.config, &self.line)?);
        }
        let worker = self.worker.as_mut().expect("started above");
        match worker.execute(code, outputs) {
            Ok(reply) => {
                let shown = reply?;
                let renderers = &self.config.renderers;
                Ok(shown.and_then(|shown| media::to_media(shown, renderers, outputs)))
            }
            Err(lost) => {
                self.worker = None;
                Err(lost)
            }
        }
    }
}

#[cfg(all(test, not(feature = "rust-cells")))]
mod tests {
    use super::*;

    #[test]
    fn without_the_feature_a_rust_cell_says_so() {
        let config = RustCellsConfig::new(std::env::temp_dir(), ReportRenderers::new());
        let mut cells = RustCells::new(config);
        let outputs = Outputs::new(std::sync::mpsc::channel().0);
        let error = cells.execute("let x = 1;", &outputs).unwrap_err();
        assert_eq!(error.ename, "RustCellsDisabled");
        assert!(error
            .evalue
            .starts_with("Rust cells not enabled in this build"));
        cells.interrupter()();
        cells.shutdown();
    }
}

#[cfg(test)]
mod renderer_tests {
    use super::*;
    use crate::lab::KernelLab;
    use crate::testing::{TALLY, TALLY_KERNEL};
    use jupyter_protocol::MediaType;
    use mlsys_model::Lab;

    #[test]
    fn each_labs_renderer_is_found_under_its_report_mime_type() {
        let renderers = report_renderers(&KernelLabs::new([&TALLY_KERNEL as &dyn KernelLab]));
        assert_eq!(renderers.len(), 1);
        let render = &renderers[TALLY.report_mime()];
        let outputs = Outputs::new(std::sync::mpsc::channel().0);
        let shown = render(&serde_json::json!({"total": 7}), &outputs).unwrap();
        assert!(matches!(&shown.content[0], MediaType::Plain(t) if t == "total 7"));
        assert!(render(&serde_json::json!({"lanes": 7}), &outputs).is_none());
    }
}
