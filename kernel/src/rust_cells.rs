//! Rust cells: every cell that is not a magic runs as Rust through evcxr,
//! with the lab model (`mlsys_model`) at hand and its reports shown the way
//! the magics show them.
//!
//! evcxr runs in a worker process of its own (`mlsys-rust-cells`, see
//! `src/worker/`), started on the first Rust cell, so a kernel that only runs
//! magics never pays for it and the kernel binary does not link evcxr. Built
//! without the `rust-cells` feature, a Rust cell gets one clear error and
//! magics work as usual.

use crate::interpreter::{ExecutionError, Interrupter, Outputs};
use jupyter_protocol::Media;
use mlsys_model::labs::data_storage::Report;
use std::path::PathBuf;
use std::sync::Arc;

#[cfg(feature = "rust-cells")]
mod media;
#[cfg(feature = "rust-cells")]
mod protocol;
#[cfg(feature = "rust-cells")]
mod worker;

/// Shows a model report the way the magics do: side displays (the chart) go to
/// the outputs, the returned bundle becomes the cell's result.
pub type ReportRenderer = Arc<dyn Fn(&Report, &Outputs) -> Media + Send + Sync>;

/// Where and how Rust cells run.
#[derive(Clone)]
#[cfg_attr(not(feature = "rust-cells"), allow(dead_code))]
pub struct RustCellsConfig {
    /// The per-student directory (`$MLSYS_HOME`); the model's source is written under it.
    pub home: PathBuf,
    /// Renders model reports shown by a cell; `None` shows their JSON only.
    pub render_report: Option<ReportRenderer>,
    /// Size of evcxr's cache of compiled dependencies, shared by all sessions, in MiB (0: off).
    pub cache_mib: u32,
    /// rustc's optimization level for cells and their dependencies (`0`–`3`, `s`, `z`).
    pub opt_level: String,
}

impl RustCellsConfig {
    /// The defaults for `home`: reports shown like the lab's instrument magics,
    /// a 512 MiB compile cache, optimization level 0: cells compile fastest (`$MLSYS_RUST_OPT` overrides).
    pub fn new(home: PathBuf) -> Self {
        RustCellsConfig {
            home,
            render_report: Some(Arc::new(instrument_view)),
            cache_mib: 512,
            opt_level: std::env::var("MLSYS_RUST_OPT").unwrap_or_else(|_| "0".into()),
        }
    }
}

/// The lab's instrument view of a report: the chart as a display, the bundle as the result.
fn instrument_view(report: &Report, outputs: &Outputs) -> Media {
    let shown = crate::labs::data_storage::render::instrument(report);
    outputs.display(shown.chart);
    shown.bundle
}

/// The Rust side of the kernel: runs cells as Rust in a lazily started worker process.
pub struct RustCells {
    #[cfg_attr(not(feature = "rust-cells"), allow(dead_code))]
    config: RustCellsConfig,
    #[cfg(feature = "rust-cells")]
    worker: Option<worker::Worker>,
    #[cfg(feature = "rust-cells")]
    line: worker::RequestLine,
}

impl RustCells {
    /// Rust cells that start their worker on first use.
    pub fn new(config: RustCellsConfig) -> Self {
        RustCells {
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

    /// Stops a running Rust cell (its process is restarted, variables are lost).
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
                let render = self.config.render_report.as_ref();
                Ok(shown.and_then(|shown| media::to_media(shown, render, outputs)))
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
        let mut cells = RustCells::new(RustCellsConfig::new(std::env::temp_dir()));
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
