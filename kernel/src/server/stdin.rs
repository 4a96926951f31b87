//! The stdin channel. Nothing this kernel runs reads input, so messages that
//! arrive here are logged and dropped; the socket is bound so clients connect.

use super::wire;
use jupyter_zmq_client::KernelStdinConnection;

/// Drains the stdin socket until the kernel stops.
pub async fn serve(mut stdin: KernelStdinConnection) {
    loop {
        match wire::read(&mut stdin).await {
            Ok(message) => {
                tracing::info!(msg_type = message.message_type(), "ignoring stdin message")
            }
            Err(error) => tracing::warn!(%error, "dropped stdin message"),
        }
    }
}
