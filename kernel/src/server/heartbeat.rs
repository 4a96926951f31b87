//! The heartbeat channel: a REP socket that echoes every message back.

use jupyter_zmq_client::KernelHeartbeatConnection;
use zeromq::{SocketRecv, SocketSend};

/// Echoes heartbeats until the kernel stops.
pub async fn serve(mut heartbeat: KernelHeartbeatConnection) {
    loop {
        let ping = match heartbeat.socket.recv().await {
            Ok(ping) => ping,
            Err(error) => {
                tracing::debug!(%error, "heartbeat receive failed");
                continue;
            }
        };
        if let Err(error) = heartbeat.socket.send(ping).await {
            tracing::debug!(%error, "heartbeat echo failed");
        }
    }
}
