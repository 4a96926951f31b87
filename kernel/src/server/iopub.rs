//! The single iopub writer. Every iopub message of the kernel goes through one
//! task, so messages leave in the order they were queued without any sleeps.
//! The socket is XPUB: each new subscription is greeted with `iopub_welcome`
//! (JEP 65) so a client knows when it will start seeing messages.

use jupyter_protocol::{IoPubWelcome, JupyterMessage};
use jupyter_zmq_client::{KernelIoPubXPubConnection, SubscriptionEvent};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

enum Command {
    Publish(Box<JupyterMessage>),
    Flush(oneshot::Sender<()>),
}

/// A handle that queues messages for the iopub writer. Cheap to clone.
#[derive(Clone)]
pub struct IoPub(mpsc::UnboundedSender<Command>);

impl IoPub {
    /// Queues a message; it is sent after everything queued before it.
    pub fn publish(&self, message: JupyterMessage) {
        if self.0.send(Command::Publish(Box::new(message))).is_err() {
            tracing::debug!("iopub writer has stopped; message dropped");
        }
    }

    /// Waits until every message queued so far has been handed to the socket.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.0.send(Command::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

/// Starts the writer task on `connection`.
pub fn spawn(connection: KernelIoPubXPubConnection) -> (IoPub, JoinHandle<()>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let task = tokio::spawn(write_loop(connection, receiver));
    (IoPub(sender), task)
}

async fn write_loop(
    mut connection: KernelIoPubXPubConnection,
    mut queue: mpsc::UnboundedReceiver<Command>,
) {
    loop {
        tokio::select! {
            command = queue.recv() => match command {
                Some(Command::Publish(message)) => {
                    if let Err(error) = connection.send(*message).await {
                        tracing::warn!(%error, "could not publish on iopub");
                    }
                }
                Some(Command::Flush(done)) => {
                    let _ = done.send(());
                }
                None => break,
            },
            event = connection.recv_subscription() => match event {
                Ok(SubscriptionEvent::Subscribe(topic)) => {
                    let welcome: JupyterMessage = IoPubWelcome::new(topic).into();
                    if let Err(error) = connection.send(welcome).await {
                        tracing::warn!(%error, "could not send iopub_welcome");
                    }
                }
                Ok(SubscriptionEvent::Unsubscribe(_)) => {}
                Err(error) => tracing::debug!(%error, "iopub subscriber event"),
            },
        }
    }
}
