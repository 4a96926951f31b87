//! Logging for both of the kernel crate's binaries: to stderr (Jupyter keeps
//! it in the server log), filtered by `MLSYS_KERNEL_LOG` (default `warn`).

/// Installs the stderr logger.
pub fn init() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MLSYS_KERNEL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
}
