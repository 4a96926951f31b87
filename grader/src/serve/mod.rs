//! `mlsys-grader serve`: the grader as an HTTP service that JupyterHub runs as
//! a managed service. Students' kernels post submissions with their Hub token;
//! the service checks the token with the Hub and stores the submission under
//! the Hub's user name. Instructors list, score, export and read stats.

pub mod config;
pub mod hub;
pub mod listen;
pub mod rate_limit;
pub mod routes;
pub mod store;
pub mod witness;

use crate::error::GraderError;
use crate::labs::Scorers;
use config::ServeConfig;
use hub::HubAuth;
use listen::ConnectionLimits;
use rate_limit::RateLimiter;
use routes::{router, App};
use std::sync::Arc;
use store::Store;

/// Runs the service for the labs of `scorers` until SIGTERM or Ctrl-C.
pub fn serve(config: ServeConfig, scorers: Scorers) -> Result<(), GraderError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let store = Store::open(&config.db, config.rubric.clone(), scorers, config.store)?;
    let app = Arc::new(App {
        hub: HubAuth::new(&config),
        limiter: RateLimiter::new(config.rate_burst, config.rate_per_minute),
        store,
        max_body_bytes: config.max_body_bytes,
        request_timeout: config.request_timeout,
    });
    let routes = router(app, &config.prefix);
    let limits = ConnectionLimits {
        max_connections: config.max_connections,
        header_timeout: config.header_timeout,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| GraderError::Precondition(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| {
                GraderError::Precondition(format!("cannot listen on {}: {e}", config.listen))
            })?;
        let shown = format!("http://{}{}/", config.listen, config.prefix);
        eprintln!(
            "mlsys-grader: serving {} at {shown} (Hub API {})",
            config.db.display(),
            config.hub_api_url
        );
        listen::serve(listener, routes, limits, shutdown_signal()).await;
        Ok(())
    })
}

/// Resolves on SIGTERM (how JupyterHub stops a service) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
