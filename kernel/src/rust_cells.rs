//! Rust cells: every cell that is not a magic runs as Rust through evcxr,
//! with the lab model (`mlsys_model`) at hand and its reports shown the way
//! the magics show them.
//!
//! The evcxr context starts on the first Rust cell, so a kernel that only runs
//! magics never pays for it. Built without the `rust-cells` feature, a Rust
//! cell gets one clear error and magics work as usual.

use crate::interpreter::{ExecutionError, Interrupter, Outputs};
use jupyter_protocol::Media;
use mlsys_model::labs::data_storage::Report;
use std::path::PathBuf;
use std::sync::Arc;

#[cfg(feature = "rust-cells")]
mod engine;
#[cfg(feature = "rust-cells")]
mod failure;
#[cfg(feature = "rust-cells")]
mod media;
#[cfg(feature = "rust-cells")]
mod model_source;
#[cfg(feature = "rust-cells")]
mod prelude;
#[cfg(feature = "rust-cells")]
mod toolchain;

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

/// The Rust side of the kernel: runs cells as Rust in one lazily started evcxr context.
pub struct RustCells {
    #[cfg_attr(not(feature = "rust-cells"), allow(dead_code))]
    config: RustCellsConfig,
    #[cfg(feature = "rust-cells")]
    engine: Option<engine::Engine>,
    #[cfg(feature = "rust-cells")]
    control: Arc<engine::RunControl>,
}

impl RustCells {
    /// Rust cells that start evcxr on first use.
    pub fn new(config: RustCellsConfig) -> Self {
        RustCells {
            config,
            #[cfg(feature = "rust-cells")]
            engine: None,
            #[cfg(feature = "rust-cells")]
            control: Arc::default(),
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
            let control = Arc::clone(&self.control);
            Arc::new(move || control.interrupt())
        }
        #[cfg(not(feature = "rust-cells"))]
        Arc::new(|| {})
    }

    /// Stops the evcxr context and removes its temporary files (kernel shutdown or restart).
    pub fn shutdown(&mut self) {
        #[cfg(feature = "rust-cells")]
        if let Some(mut engine) = self.engine.take() {
            engine.shutdown();
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
        if self.engine.is_none() {
            self.engine = Some(self.start(outputs)?);
        }
        let engine = self.engine.as_mut().expect("started above");
        match engine.execute(code, outputs) {
            Ok(reply) => {
                let shown = reply?;
                let render = self.config.render_report.as_ref();
                Ok(media::to_media(shown, render, outputs))
            }
            Err(lost) => {
                self.engine = None;
                Err(lost)
            }
        }
    }

    /// Starts evcxr and runs the prelude: the model as a dependency, its display hook.
    fn start(&self, outputs: &Outputs) -> Result<engine::Engine, ExecutionError> {
        toolchain::check(std::env::var_os("PATH").as_deref())?;
        let started = std::time::Instant::now();
        let crates_dir = model_source::ensure_written(&self.config.home.join("rust-cells"))
            .map_err(|e| {
                ExecutionError::new(
                    "RustStartFailed",
                    format!("cannot write the model's source for Rust cells: {e}"),
                )
            })?;
        outputs.stdout(
            "Starting Rust (first Rust cell of this session: compiling mlsys-model and its \
             dependencies may take a minute)…\n",
        );
        let mut engine = engine::Engine::start(Arc::clone(&self.control))?;
        tracing::info!(elapsed = ?started.elapsed(), "evcxr context created");
        let quiet = Outputs::new(std::sync::mpsc::channel().0);
        let prelude = prelude::prelude(&crates_dir);
        engine.execute(&format!(":cache {}", self.config.cache_mib), &quiet)??;
        engine.execute(&format!(":opt {}", self.config.opt_level), &quiet)??;
        // Offline first: a machine that built this kernel has every crate the model
        // needs; only if that fails ask crates.io.
        engine.execute(":offline 1", &quiet)??;
        let offline = engine.execute(&prelude, outputs)?;
        engine.execute(":offline 0", &quiet)??;
        if let Err(error) = offline {
            tracing::info!(%error, "offline build of the prelude failed; retrying online");
            engine.execute(&prelude, outputs)?.map_err(|mut error| {
                error.evalue = format!("cannot make mlsys-model available: {}", error.evalue);
                error
            })?;
        }
        tracing::info!(elapsed = ?started.elapsed(), "Rust cells ready");
        Ok(engine)
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
