//! The worker's Rust session: evcxr started on the first cell with the model at
//! hand, then every cell run in that one context.

use crate::engine::{Engine, RunControl};
use crate::replies::Replies;
use crate::{failure, model_source, prelude, toolchain};
use mlsys_kernel::rust_cells::protocol::{Failure, Reply, Shown};
use std::path::PathBuf;
use std::sync::Arc;

/// How the session sets evcxr up.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionConfig {
    /// The per-student directory (`$MLSYS_HOME`); the model's source is written under it.
    #[arg(long)]
    pub home: PathBuf,
    /// Size of evcxr's cache of compiled dependencies, in MiB (0: off).
    #[arg(long, default_value_t = 512)]
    pub cache_mib: u32,
    /// rustc's optimization level for cells and their dependencies (`0`–`3`, `s`, `z`).
    #[arg(long, default_value = "0")]
    pub opt_level: String,
}

/// One evcxr context, started lazily.
pub struct Session {
    config: SessionConfig,
    control: Arc<RunControl>,
    engine: Option<Engine>,
}

impl Session {
    /// A session whose running cells `control` can interrupt.
    pub fn new(config: SessionConfig, control: Arc<RunControl>) -> Self {
        Session {
            config,
            control,
            engine: None,
        }
    }

    /// Runs `code` (starting evcxr first if needed), streaming its output to
    /// `replies`; returns the cell's `Done` or `Failed`.
    pub fn execute(&mut self, code: &str, replies: &Replies) -> Reply {
        self.control.begin();
        let outcome = self.run(code, replies);
        self.control.end();
        match outcome {
            Ok(shown) => Reply::Done {
                result: (!shown.is_empty()).then_some(shown),
            },
            Err(failure) => Reply::Failed(failure),
        }
    }

    /// Kills evcxr's process and removes its temporary files.
    pub fn shutdown(&mut self) {
        if let Some(mut engine) = self.engine.take() {
            engine.shutdown();
        }
    }

    fn run(&mut self, code: &str, replies: &Replies) -> Result<Shown, Failure> {
        if self.engine.is_none() {
            let started = self.start(replies);
            if self.control.interrupted().is_some() {
                // Whatever was started is dropped (stopped): the next cell starts afresh.
                return Err(failure::start_interrupted());
            }
            self.engine = Some(started?);
        }
        let engine = self.engine.as_mut().expect("started above");
        match engine.execute(code, replies) {
            Ok(reply) => reply,
            Err(lost) => {
                self.engine = None;
                Err(lost)
            }
        }
    }

    /// Starts evcxr and runs the prelude: the model as a dependency, its display hook.
    fn start(&self, replies: &Replies) -> Result<Engine, Failure> {
        toolchain::check(std::env::var_os("PATH").as_deref())?;
        let started = std::time::Instant::now();
        let crates_dir = model_source::ensure_written(&self.config.home.join("rust-cells"))
            .map_err(|e| {
                Failure::new(
                    "RustStartFailed",
                    format!("cannot write the model's source for Rust cells: {e}"),
                )
            })?;
        replies.stdout(
            "Starting Rust (first Rust cell of this session: compiling mlsys-model and its \
             dependencies may take a minute)…\n",
        );
        if self.control.interrupted().is_some() {
            return Err(failure::start_interrupted());
        }
        let mut engine = Engine::start(Arc::clone(&self.control))?;
        tracing::info!(elapsed = ?started.elapsed(), "evcxr context created");
        let quiet = Replies::quiet();
        let prelude = prelude::prelude(&crates_dir);
        engine.execute(&format!(":cache {}", self.config.cache_mib), &quiet)??;
        engine.execute(&format!(":opt {}", self.config.opt_level), &quiet)??;
        // Offline first: a machine that built this kernel has every crate the model
        // needs; only if that fails ask crates.io.
        engine.execute(":offline 1", &quiet)??;
        let offline = engine.execute(&prelude, replies)?;
        engine.execute(":offline 0", &quiet)??;
        if let Err(error) = offline {
            if self.control.interrupted().is_some() {
                return Err(error);
            }
            tracing::info!(%error.evalue, "offline build of the prelude failed; retrying online");
            engine.execute(&prelude, replies)?.map_err(|mut error| {
                error.evalue = format!("cannot make mlsys-model available: {}", error.evalue);
                error
            })?;
        }
        tracing::info!(elapsed = ?started.elapsed(), "Rust cells ready");
        Ok(engine)
    }
}
