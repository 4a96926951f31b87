//! Ends the kernel when the process that started it is gone, as ipykernel's
//! parent poller does: a Jupyter server that is killed (or a single-user server
//! culled on JupyterHub) must not leave orphaned kernels — and their Rust-cells
//! workers — running.

use std::time::Duration;
use tokio::sync::Notify;

/// How often the parent is checked.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// The parent to watch: this process's parent now, before the kernel binds
/// its sockets (once a client can connect, the parent is known).
pub fn current() -> u32 {
    std::os::unix::process::parent_id()
}

/// Notifies `stopped` once this process's parent is no longer `parent` (it
/// died and the process was re-parented). Returns at once if there is no
/// parent to watch (started by init).
pub async fn watch(parent: u32, stopped: &Notify) {
    if parent <= 1 {
        return;
    }
    let mut ticks = tokio::time::interval(POLL_EVERY);
    loop {
        ticks.tick().await;
        if std::os::unix::process::parent_id() != parent {
            tracing::warn!(
                parent,
                "the process that started this kernel is gone; exiting"
            );
            stopped.notify_one();
            return;
        }
    }
}
