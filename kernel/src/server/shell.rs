//! The shell channel: a reader task that verifies and queues requests, and a
//! handler that answers them one at a time, each between `busy` and `idle`
//! statuses parented to it (comm messages included).

use super::history::History;
use super::{wire, Kernel};
use crate::interpreter::ExecutionError;
use jupyter_protocol::{
    CommClose, CommId, CommInfo, CommInfoReply, CompleteReply, ErrorOutput, ExecuteInput,
    ExecuteReply, ExecuteRequest, ExecuteResult, ExecutionCount, HistoryReply, InspectReply,
    JupyterMessage, JupyterMessageContent, Media, MediaType, ReplyError, ReplyStatus, Status,
    Transient,
};
use jupyter_zmq_client::{KernelShellConnection, RouterRecvConnection, RouterSendConnection};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Starts the reader and handler tasks on the shell socket.
pub fn spawn(shell: KernelShellConnection, kernel: Arc<Kernel>) {
    let (replies, requests) = shell.split();
    let (queue, queued) = mpsc::unbounded_channel();
    tokio::spawn(read_requests(requests, queue));
    let handler = Shell {
        kernel,
        replies,
        queued,
        backlog: VecDeque::new(),
        execution_count: 0,
        history: History::default(),
    };
    tokio::spawn(handler.serve());
}

/// Reads verified requests into the queue; bad ones are logged and dropped.
async fn read_requests(
    mut requests: RouterRecvConnection,
    queue: mpsc::UnboundedSender<JupyterMessage>,
) {
    loop {
        match wire::read(&mut requests).await {
            Ok(request) => {
                if queue.send(request).is_err() {
                    return;
                }
            }
            Err(error) => tracing::warn!(%error, "dropped shell message"),
        }
    }
}

struct Shell {
    kernel: Arc<Kernel>,
    replies: RouterSendConnection,
    queued: mpsc::UnboundedReceiver<JupyterMessage>,
    /// Requests taken off the queue after an error; their executes are aborted.
    backlog: VecDeque<JupyterMessage>,
    execution_count: usize,
    history: History,
}

impl Shell {
    async fn serve(mut self) {
        loop {
            let (request, aborted) = match self.backlog.pop_front() {
                Some(request) => (request, true),
                None => match self.queued.recv().await {
                    Some(request) => (request, false),
                    None => return,
                },
            };
            let stop = matches!(request.content, JupyterMessageContent::ShutdownRequest(_));
            let iopub = self.kernel.iopub.clone();
            iopub.publish(Status::busy().as_child_of(&request));
            let reply = self.answer(&request, aborted).await;
            if let Some(reply) = reply {
                if let Err(error) = self.replies.send(reply).await {
                    tracing::warn!(%error, "could not send shell reply");
                }
            }
            iopub.publish(Status::idle().as_child_of(&request));
            if stop {
                self.kernel.stopped.notify_one();
                return;
            }
        }
    }

    async fn answer(&mut self, request: &JupyterMessage, aborted: bool) -> Option<JupyterMessage> {
        let executor = &self.kernel.executor;
        let reply: JupyterMessageContent = match &request.content {
            JupyterMessageContent::ExecuteRequest(_) if aborted => ExecuteReply {
                status: ReplyStatus::Aborted,
                execution_count: ExecutionCount::new(self.execution_count),
                ..Default::default()
            }
            .into(),
            JupyterMessageContent::ExecuteRequest(execute) => {
                self.execute(request, execute.clone()).await.into()
            }
            JupyterMessageContent::KernelInfoRequest(_) => self.kernel.info.clone().into(),
            JupyterMessageContent::IsCompleteRequest(check) => {
                let code = check.code.clone();
                executor
                    .run(request, true, move |i, _| i.is_complete(&code))
                    .await?
                    .into()
            }
            JupyterMessageContent::CompleteRequest(complete) => {
                let (code, cursor) = (complete.code.clone(), complete.cursor_pos);
                let found = executor
                    .run(request, true, move |i, _| i.complete(&code, cursor))
                    .await?;
                CompleteReply {
                    matches: found.matches,
                    cursor_start: found.cursor_start,
                    cursor_end: found.cursor_end,
                    metadata: Default::default(),
                    status: ReplyStatus::Ok,
                    error: None,
                }
                .into()
            }
            JupyterMessageContent::InspectRequest(inspect) => {
                let (code, cursor) = (inspect.code.clone(), inspect.cursor_pos);
                let doc = executor
                    .run(request, true, move |i, _| i.inspect(&code, cursor))
                    .await?;
                InspectReply {
                    found: doc.is_some(),
                    data: doc.unwrap_or_default(),
                    ..Default::default()
                }
                .into()
            }
            JupyterMessageContent::HistoryRequest(query) => {
                HistoryReply::new(self.history.answer(query)).into()
            }
            JupyterMessageContent::CommInfoRequest(query) => {
                let target = query.target_name.clone();
                let comms = executor.run(request, true, |i, _| i.comms()).await?;
                CommInfoReply {
                    status: ReplyStatus::Ok,
                    comms: comms
                        .into_iter()
                        .filter(|(_, name)| target.as_ref().is_none_or(|t| t == name))
                        .map(|(id, target_name)| (CommId(id), CommInfo { target_name }))
                        .collect::<HashMap<_, _>>(),
                    error: None,
                }
                .into()
            }
            JupyterMessageContent::CommOpen(open) => {
                let open = open.clone();
                let comm_id = open.comm_id.0.clone();
                let accepted = executor
                    .run(request, false, move |i, outputs| {
                        i.comm_open(&open.comm_id.0, &open.target_name, &open.data, outputs)
                    })
                    .await?;
                if !accepted {
                    tracing::info!(%comm_id, "comm_open for an unknown target; closing it");
                    let close = CommClose {
                        comm_id: CommId(comm_id),
                        data: Default::default(),
                    };
                    self.kernel.iopub.publish(close.as_child_of(request));
                }
                return None;
            }
            JupyterMessageContent::CommMsg(message) => {
                let message = message.clone();
                executor
                    .run(request, false, move |i, outputs| {
                        i.comm_msg(&message.comm_id.0, &message.data, outputs)
                    })
                    .await?;
                return None;
            }
            JupyterMessageContent::CommClose(close) => {
                let comm_id = close.comm_id.0.clone();
                executor
                    .run(request, false, move |i, _| i.comm_close(&comm_id))
                    .await?;
                return None;
            }
            JupyterMessageContent::ShutdownRequest(shutdown) => {
                return Some(self.kernel.shut_down(request, shutdown).await);
            }
            _ => {
                tracing::warn!(
                    msg_type = request.message_type(),
                    "unsupported shell message ignored"
                );
                return None;
            }
        };
        Some(JupyterMessage::new(reply, Some(request)))
    }

    /// Runs one cell: `execute_input`, its outputs, then the result or error.
    async fn execute(&mut self, request: &JupyterMessage, execute: ExecuteRequest) -> ExecuteReply {
        let ExecuteRequest {
            code,
            silent,
            store_history,
            stop_on_error,
            ..
        } = execute;
        let store = store_history && !silent;
        if store {
            self.execution_count += 1;
        }
        let count = ExecutionCount::new(self.execution_count);
        let iopub = self.kernel.iopub.clone();
        if !silent {
            iopub.publish(
                ExecuteInput {
                    code: code.clone(),
                    execution_count: count,
                }
                .as_child_of(request),
            );
        }
        let cell = code.clone();
        let outcome = self
            .kernel
            .executor
            .run(request, silent, move |i, outputs| i.execute(&cell, outputs))
            .await
            .unwrap_or_else(|| {
                Err(ExecutionError::new(
                    "InternalError",
                    "the kernel failed while running this cell; restart the kernel if later cells misbehave",
                ))
            });
        match outcome {
            Ok(result) => {
                let shown = result.as_ref().map(plain_text).unwrap_or_default();
                if store {
                    self.history.record(count.0, &code, &shown);
                }
                if let (Some(data), false) = (result, silent) {
                    let result = ExecuteResult {
                        // `transient: null` fails the message schema; `{}` is valid.
                        transient: Some(Transient::default()),
                        ..ExecuteResult::new(count, data)
                    };
                    iopub.publish(result.as_child_of(request));
                }
                ExecuteReply {
                    status: ReplyStatus::Ok,
                    execution_count: count,
                    user_expressions: Some(HashMap::new()),
                    ..Default::default()
                }
            }
            Err(error) => {
                if store {
                    self.history.record(count.0, &code, "");
                }
                if !silent {
                    let shown = ErrorOutput {
                        ename: error.ename.clone(),
                        evalue: error.evalue.clone(),
                        traceback: error.traceback.clone(),
                    };
                    iopub.publish(shown.as_child_of(request));
                }
                if stop_on_error {
                    while let Ok(queued) = self.queued.try_recv() {
                        self.backlog.push_back(queued);
                    }
                }
                ExecuteReply {
                    status: ReplyStatus::Error,
                    execution_count: count,
                    error: Some(Box::new(ReplyError {
                        ename: error.ename,
                        evalue: error.evalue,
                        traceback: error.traceback,
                    })),
                    ..Default::default()
                }
            }
        }
    }
}

/// The `text/plain` form of a result, as history stores it.
fn plain_text(media: &Media) -> String {
    media
        .content
        .iter()
        .find_map(|m| match m {
            MediaType::Plain(text) => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_default()
}
