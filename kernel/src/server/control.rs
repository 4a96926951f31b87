//! The control channel: interrupt, shutdown and kernel_info, served on its own
//! task so they are answered even while a cell runs.

use super::{wire, Kernel};
use jupyter_protocol::{InterruptReply, JupyterMessage, JupyterMessageContent};
use jupyter_zmq_client::KernelControlConnection;
use std::sync::Arc;

/// Serves control requests until shutdown.
pub async fn serve(mut control: KernelControlConnection, kernel: Arc<Kernel>) {
    loop {
        let request = match wire::read(&mut control).await {
            Ok(request) => request,
            Err(error) => {
                tracing::warn!(%error, "dropped control message");
                continue;
            }
        };
        let stop = matches!(request.content, JupyterMessageContent::ShutdownRequest(_));
        if let Some(reply) = answer(&request, &kernel).await {
            if let Err(error) = control.send(reply).await {
                tracing::warn!(%error, "could not send control reply");
            }
        }
        if stop {
            kernel.stopped.notify_one();
            return;
        }
    }
}

async fn answer(request: &JupyterMessage, kernel: &Kernel) -> Option<JupyterMessage> {
    match &request.content {
        JupyterMessageContent::InterruptRequest(_) => {
            (kernel.interrupter)();
            Some(InterruptReply::new().as_child_of(request))
        }
        JupyterMessageContent::ShutdownRequest(shutdown) => {
            Some(kernel.shut_down(request, shutdown).await)
        }
        JupyterMessageContent::KernelInfoRequest(_) => Some(kernel.info.as_child_of(request)),
        _ => {
            tracing::warn!(
                msg_type = request.message_type(),
                "unsupported control message ignored"
            );
            None
        }
    }
}
