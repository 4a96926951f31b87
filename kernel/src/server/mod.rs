//! The Jupyter protocol server (messaging protocol 5.3 over ZeroMQ).
//!
//! One task per channel: shell (a reader feeding a handler, so queued requests
//! can be aborted), control (served even while a cell runs), stdin, heartbeat,
//! and the single iopub writer. The [`Interpreter`] lives on one executor
//! thread; see [`executor`].

mod connection;
mod control;
mod executor;
mod heartbeat;
mod history;
mod iopub;
mod outputs;
mod parent;
mod shell;
mod stdin;
mod wire;

use crate::interpreter::{Interpreter, Interrupter};
use executor::Executor;
use iopub::IoPub;
use jupyter_protocol::{
    JupyterMessage, KernelInfoReply, ReplyStatus, ShutdownReply, ShutdownRequest,
};
use jupyter_zmq_client::{
    create_kernel_control_connection, create_kernel_heartbeat_connection,
    create_kernel_iopub_xpub_connection, create_kernel_shell_connection,
    create_kernel_stdin_connection,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The protocol version this kernel speaks.
const PROTOCOL_VERSION: &str = "5.3";

/// How long shutdown waits for the interpreter to clean up.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Why the kernel could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The connection file is unreadable or invalid.
    #[error("cannot use connection file {path}: {reason}")]
    ConnectionFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A socket could not be bound.
    #[error("cannot bind the kernel's sockets: {0}")]
    Bind(#[from] jupyter_zmq_client::RuntimeError),
    /// The runtime or a thread could not be started.
    #[error("cannot start the kernel: {0}")]
    Start(#[from] std::io::Error),
}

/// What the shell and control tasks share.
struct Kernel {
    executor: Executor,
    iopub: IoPub,
    info: KernelInfoReply,
    interrupter: Interrupter,
    stopped: Notify,
}

impl Kernel {
    /// Shuts the interpreter down, announces it on iopub, and tells the
    /// server to exit once the reply is sent. Returns the reply to send.
    async fn shut_down(
        &self,
        request: &JupyterMessage,
        shutdown: &ShutdownRequest,
    ) -> JupyterMessage {
        let restart = shutdown.restart;
        (self.interrupter)();
        let done = self.executor.run(request, true, move |interpreter, _| {
            interpreter.shutdown(restart)
        });
        if tokio::time::timeout(SHUTDOWN_GRACE, done).await.is_err() {
            tracing::warn!("the interpreter did not shut down in time; exiting anyway");
        }
        let reply = ShutdownReply {
            restart,
            status: ReplyStatus::Ok,
            error: None,
        };
        self.iopub.publish(reply.as_child_of(request));
        reply.as_child_of(request)
    }
}

/// Runs the kernel on the sockets named in `connection_file` until a shutdown request.
pub fn run(connection_file: &Path, interpreter: Box<dyn Interpreter>) -> Result<(), ServerError> {
    let info = connection::read(connection_file)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(info, interpreter))
}

async fn serve(
    info: jupyter_protocol::ConnectionInfo,
    interpreter: Box<dyn Interpreter>,
) -> Result<(), ServerError> {
    let parent = parent::current();
    let session = uuid::Uuid::new_v4().to_string();
    let iopub_socket = create_kernel_iopub_xpub_connection(&info, &session).await?;
    let shell_socket = create_kernel_shell_connection(&info, &session).await?;
    let control_socket = create_kernel_control_connection(&info, &session).await?;
    let stdin_socket = create_kernel_stdin_connection(&info, &session).await?;
    let heartbeat_socket = create_kernel_heartbeat_connection(&info).await?;

    let (iopub, _writer) = iopub::spawn(iopub_socket);
    let kernel_info = KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: PROTOCOL_VERSION.to_string(),
        implementation: env!("CARGO_PKG_NAME").to_string(),
        implementation_version: env!("CARGO_PKG_VERSION").to_string(),
        language_info: interpreter.language_info(),
        banner: interpreter.banner(),
        help_links: interpreter.help_links(),
        debugger: false,
        error: None,
    };
    let interrupter = interpreter.interrupter();
    let executor = Executor::spawn(interpreter, iopub.clone())?;
    let kernel = Arc::new(Kernel {
        executor,
        iopub: iopub.clone(),
        info: kernel_info,
        interrupter,
        stopped: Notify::new(),
    });

    tokio::spawn(heartbeat::serve(heartbeat_socket));
    tokio::spawn(stdin::serve(stdin_socket));
    tokio::spawn(control::serve(control_socket, Arc::clone(&kernel)));
    shell::spawn(shell_socket, Arc::clone(&kernel));
    let watched = Arc::clone(&kernel);
    tokio::spawn(async move { parent::watch(parent, &watched.stopped).await });
    tracing::info!(%session, "kernel ready");

    kernel.stopped.notified().await;
    iopub.flush().await;
    Ok(())
}
