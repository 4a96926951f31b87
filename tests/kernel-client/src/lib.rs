//! A test client for kernel binaries (`mlsys-kernel`, or a test build serving
//! more labs) over real ZeroMQ sockets.
//!
//! ```ignore
//! use mlsys_kernel_client::TestKernel;
//!
//! const KERNEL: &str = env!("CARGO_BIN_EXE_mlsys-kernel");
//!
//! #[tokio::test]
//! async fn help_lists_magics() {
//!     let mut kernel = TestKernel::start(KERNEL).await; // fresh process, ports, key, MLSYS_HOME
//!     let run = kernel.execute("%help").await;          // execute_request → reply + iopub until idle
//!     assert!(run.is_ok(), "{run:?}");
//!     assert!(run.text().contains("%lsmagic"));
//!     kernel.shutdown().await;                          // optional; dropping kills the process
//! }
//! ```
//!
//! * [`TestKernel::start`] starts a binary with a fresh connection file (random key,
//!   free ports) and `MLSYS_HOME` in a fresh temp dir ([`TestKernel::mlsys_home`]), waits
//!   for `iopub_welcome` and a `kernel_info_reply`. [`TestKernel::start_in`] reuses a
//!   given `MLSYS_HOME` (to test that a restarted kernel resumes).
//! * [`TestKernel::execute`] returns an [`Execution`]: the `execute_reply` content and the
//!   iopub messages parented to the request, from `busy` to `idle`.
//! * [`TestKernel::request`] / [`TestKernel::control_request`] send any shell/control
//!   content and return a [`Response`] (reply + iopub until idle; control: reply only).
//! * [`TestKernel::send_shell`], [`TestKernel::read_shell`], [`TestKernel::iopub_until_idle`]
//!   are the building blocks, for comm messages (no reply) and pipelined requests.
//!
//! * [`widgets`]: the widget models a cell opened, and comm messages sent as
//!   JupyterLab sends them ([`TestKernel::comm`]).
//!
//! Every wait times out after [`TIMEOUT`] with a panic naming what was awaited.

pub mod widgets;

use jupyter_protocol::connection_info::Transport;
use jupyter_protocol::{
    ConnectionInfo, ErrorOutput, ExecuteReply, ExecuteRequest, JupyterMessage,
    JupyterMessageContent, KernelInfoRequest, MediaType, ReplyStatus,
};
use jupyter_zmq_client::{
    create_client_control_connection, create_client_heartbeat_connection,
    create_client_iopub_connection, create_client_shell_connection_with_identity,
    peek_ports_with_listeners, peer_identity_for_session, wait_for_iopub_welcome,
    ClientControlConnection, ClientIoPubConnection, ClientShellConnection,
};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// How long any single wait on the kernel may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Awaits `future`, panicking with `what` after [`TIMEOUT`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(TIMEOUT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {TIMEOUT:?} waiting for {what}"))
}

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh, empty directory under the system temp dir.
    pub fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("mlsys-{label}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running kernel process and a client connected to it.
pub struct TestKernel {
    /// The kernel process (killed on drop).
    pub child: Child,
    /// The connection info the kernel was started with.
    pub info: ConnectionInfo,
    /// The client's shell socket.
    pub shell: ClientShellConnection,
    /// The client's iopub socket.
    pub iopub: ClientIoPubConnection,
    /// The client's control socket.
    pub control: ClientControlConnection,
    /// The client session id.
    pub session: String,
    home: PathBuf,
    /// iopub messages read while waiting for another parent, by parent msg_id.
    stash: HashMap<String, Vec<JupyterMessage>>,
    _files: TempDir,
    _home_dir: Option<TempDir>,
}

/// The outcome of one `execute_request`.
#[derive(Debug)]
pub struct Execution {
    /// The `execute_reply` content.
    pub reply: ExecuteReply,
    /// Every iopub message parented to the request, `busy` to `idle` inclusive.
    pub iopub: Vec<JupyterMessage>,
}

impl Execution {
    /// Whether the reply status is `ok`.
    pub fn is_ok(&self) -> bool {
        self.reply.status == ReplyStatus::Ok
    }

    /// The iopub contents between `busy` and `idle`, without `execute_input`.
    pub fn outputs(&self) -> Vec<&JupyterMessageContent> {
        self.iopub
            .iter()
            .map(|m| &m.content)
            .filter(|c| {
                !matches!(
                    c,
                    JupyterMessageContent::Status(_) | JupyterMessageContent::ExecuteInput(_)
                )
            })
            .collect()
    }

    /// All text shown: streams, and the `text/plain` of displays and the result.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for content in self.outputs() {
            match content {
                JupyterMessageContent::StreamContent(s) => text.push_str(&s.text),
                JupyterMessageContent::DisplayData(d) => text.push_str(&plain(&d.data.content)),
                JupyterMessageContent::ExecuteResult(r) => text.push_str(&plain(&r.data.content)),
                _ => {}
            }
        }
        text
    }

    /// The `error` message on iopub, if any.
    pub fn error(&self) -> Option<&ErrorOutput> {
        self.outputs().into_iter().find_map(|c| match c {
            JupyterMessageContent::ErrorOutput(e) => Some(e),
            _ => None,
        })
    }

    /// The message types on iopub, in order (e.g. `["status", "execute_input", ...]`).
    pub fn iopub_types(&self) -> Vec<String> {
        self.iopub
            .iter()
            .map(|m| m.message_type().to_string())
            .collect()
    }
}

/// The reply to a shell request and its iopub messages (`busy` to `idle`).
#[derive(Debug)]
pub struct Response {
    /// The reply message.
    pub reply: JupyterMessage,
    /// Every iopub message parented to the request, `busy` to `idle` inclusive.
    pub iopub: Vec<JupyterMessage>,
}

fn plain(media: &[MediaType]) -> String {
    media
        .iter()
        .find_map(|m| match m {
            MediaType::Plain(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Writes `dir/connection.json` for a kernel on free loopback ports signing with `key`.
pub async fn write_connection_file(dir: &Path, key: &str) -> (ConnectionInfo, PathBuf) {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let (ports, listeners) = peek_ports_with_listeners(ip, 5).await.expect("free ports");
    let info = ConnectionInfo {
        ip: ip.to_string(),
        transport: Transport::TCP,
        shell_port: ports[0],
        iopub_port: ports[1],
        stdin_port: ports[2],
        control_port: ports[3],
        hb_port: ports[4],
        key: key.to_string(),
        signature_scheme: "hmac-sha256".to_string(),
        kernel_name: Some("mlsys".to_string()),
    };
    let connection_file = dir.join("connection.json");
    std::fs::write(&connection_file, serde_json::to_vec(&info).unwrap()).unwrap();
    drop(listeners);
    (info, connection_file)
}

impl TestKernel {
    /// Starts the kernel `binary` with a fresh `MLSYS_HOME`.
    pub async fn start(binary: impl AsRef<Path>) -> TestKernel {
        Self::start_with_key(binary, &random_key()).await
    }

    /// Starts the kernel `binary` whose `MLSYS_HOME` is `home` (kept after the kernel stops).
    pub async fn start_in(binary: impl AsRef<Path>, home: &Path) -> TestKernel {
        Self::launch(binary.as_ref(), home, &random_key()).await
    }

    /// Starts the kernel `binary` with signing key `key` (empty: signing disabled).
    pub async fn start_with_key(binary: impl AsRef<Path>, key: &str) -> TestKernel {
        let home = TempDir::new("home");
        let path = home.path().to_path_buf();
        let mut kernel = Self::launch(binary.as_ref(), &path, key).await;
        kernel._home_dir = Some(home);
        kernel
    }

    async fn launch(binary: &Path, home: &Path, key: &str) -> TestKernel {
        let files = TempDir::new("kernel");
        let (info, connection_file) = write_connection_file(files.path(), key).await;
        let child = Command::new(binary)
            .arg("run")
            .arg(&connection_file)
            .env("MLSYS_HOME", home)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));

        let session = uuid::Uuid::new_v4().to_string();
        let identity = peer_identity_for_session(&session).unwrap();
        let shell = create_client_shell_connection_with_identity(&info, &session, identity)
            .await
            .unwrap();
        let control = create_client_control_connection(&info, &session)
            .await
            .unwrap();
        let mut iopub = create_client_iopub_connection(&info, "", &session)
            .await
            .unwrap();
        let welcome = within("iopub_welcome", async {
            loop {
                if let Ok(Some(_)) = wait_for_iopub_welcome(&mut iopub, TIMEOUT).await {
                    return;
                }
            }
        });
        welcome.await;
        let mut kernel = TestKernel {
            child,
            info,
            shell,
            iopub,
            control,
            session,
            home: home.to_path_buf(),
            stash: HashMap::new(),
            _files: files,
            _home_dir: None,
        };
        let ready = kernel.request(KernelInfoRequest {}).await;
        assert_eq!(ready.reply.message_type(), "kernel_info_reply");
        kernel
    }

    /// The kernel's `MLSYS_HOME`.
    pub fn mlsys_home(&self) -> &Path {
        &self.home
    }

    /// Sends a shell message; returns its msg_id.
    pub async fn send_shell(&mut self, content: impl Into<JupyterMessageContent>) -> String {
        let message = JupyterMessage::new(content.into(), None);
        let id = message.header.msg_id.clone();
        within("shell send", self.shell.send(message))
            .await
            .expect("shell send");
        id
    }

    /// Reads the next shell reply.
    pub async fn read_shell(&mut self) -> JupyterMessage {
        within("a shell reply", self.shell.read())
            .await
            .expect("shell read")
    }

    /// Reads iopub messages parented to `msg_id` through its `idle` status (inclusive).
    /// Messages with other parents are kept for later calls.
    pub async fn iopub_until_idle(&mut self, msg_id: &str) -> Vec<JupyterMessage> {
        let mut collected = self.stash.remove(msg_id).unwrap_or_default();
        loop {
            if collected.iter().any(is_idle) {
                let end = collected.iter().position(is_idle).unwrap() + 1;
                let rest = collected.split_off(end);
                if !rest.is_empty() {
                    self.stash.insert(msg_id.to_string(), rest);
                }
                return collected;
            }
            let message = within(&format!("iopub idle for {msg_id}"), self.iopub.read())
                .await
                .expect("iopub read");
            let parent = message
                .parent_header
                .as_ref()
                .map(|h| h.msg_id.clone())
                .unwrap_or_default();
            if parent == msg_id {
                collected.push(message);
            } else if !parent.is_empty() {
                self.stash.entry(parent).or_default().push(message);
            }
        }
    }

    /// Sends a shell request and returns its reply and iopub messages.
    pub async fn request(&mut self, content: impl Into<JupyterMessageContent>) -> Response {
        let id = self.send_shell(content).await;
        let reply = self.read_shell().await;
        assert_eq!(
            reply.parent_header.as_ref().map(|h| h.msg_id.as_str()),
            Some(id.as_str()),
            "shell reply parented to its request"
        );
        let iopub = self.iopub_until_idle(&id).await;
        Response { reply, iopub }
    }

    /// Sends a control request and returns its reply (checked to be parented to it).
    pub async fn control_request(
        &mut self,
        content: impl Into<JupyterMessageContent>,
    ) -> JupyterMessage {
        let message = JupyterMessage::new(content.into(), None);
        let id = message.header.msg_id.clone();
        within("control send", self.control.send(message))
            .await
            .expect("control send");
        let reply = within("a control reply", self.control.read())
            .await
            .expect("control read");
        assert_eq!(
            reply.parent_header.as_ref().map(|h| h.msg_id.as_str()),
            Some(id.as_str()),
            "control reply parented to its request"
        );
        reply
    }

    /// Executes `code` (not silent, stored in history, stop on error).
    pub async fn execute(&mut self, code: &str) -> Execution {
        self.execute_request(ExecuteRequest::new(code.to_string()))
            .await
    }

    /// Sends any execute request and collects its outcome.
    pub async fn execute_request(&mut self, request: ExecuteRequest) -> Execution {
        let response = self.request(request).await;
        let JupyterMessageContent::ExecuteReply(reply) = response.reply.content else {
            panic!("expected execute_reply, got {:?}", response.reply);
        };
        Execution {
            reply,
            iopub: response.iopub,
        }
    }

    /// One heartbeat round trip.
    pub async fn heartbeat(&self) {
        let mut hb = create_client_heartbeat_connection(&self.info)
            .await
            .unwrap();
        within("heartbeat", hb.single_heartbeat())
            .await
            .expect("heartbeat");
    }

    /// Asks the kernel to shut down and waits for the process to exit successfully.
    pub async fn shutdown(mut self) {
        let reply = self
            .control_request(jupyter_protocol::ShutdownRequest { restart: false })
            .await;
        assert_eq!(reply.message_type(), "shutdown_reply");
        let status = within("kernel exit", self.child.wait()).await.unwrap();
        assert!(status.success(), "kernel exited with {status}");
    }
}

fn is_idle(message: &JupyterMessage) -> bool {
    matches!(&message.content, JupyterMessageContent::Status(s)
        if s.execution_state == jupyter_protocol::ExecutionState::Idle)
}

fn random_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
