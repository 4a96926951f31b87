//! The kernel's Jupyter protocol over real ZeroMQ sockets.

mod common;

use common::{within, TestKernel, KERNEL};
use jupyter_protocol::{
    CommId, CommInfoRequest, CommMsg, CommOpen, CompleteRequest, ExecuteRequest, HistoryRequest,
    InspectRequest, InterruptRequest, IsCompleteReplyStatus, IsCompleteRequest, JupyterMessage,
    JupyterMessageContent, KernelInfoRequest, ReplyStatus, ShutdownRequest,
};
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

fn content(message: &JupyterMessage) -> &JupyterMessageContent {
    &message.content
}

#[tokio::test]
async fn kernel_info_reports_protocol_language_and_banner() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let response = kernel.request(KernelInfoRequest {}).await;
    let JupyterMessageContent::KernelInfoReply(info) = content(&response.reply) else {
        panic!("{:?}", response.reply);
    };
    assert_eq!(info.protocol_version, "5.3");
    assert_eq!(info.implementation, "mlsys-kernel");
    assert_eq!(info.language_info.name, "rust");
    assert_eq!(info.language_info.file_extension.as_deref(), Some(".rs"));
    assert!(info.banner.contains("%help"), "{}", info.banner);
    assert!(!info.help_links.is_empty());
    let types: Vec<_> = response.iopub.iter().map(|m| m.message_type()).collect();
    assert_eq!(
        types,
        ["status", "status"],
        "busy then idle around kernel_info"
    );
    kernel.shutdown().await;
}

#[tokio::test]
async fn execute_publishes_busy_input_result_idle_with_counts() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let first = kernel.execute("%lsmagic").await;
    assert!(first.is_ok(), "{first:?}");
    assert_eq!(
        first.iopub_types(),
        ["status", "execute_input", "execute_result", "status"]
    );
    assert!(first.text().contains("%help"), "{}", first.text());
    assert_eq!(first.reply.execution_count.0, 1);
    let second = kernel.execute("%help lsmagic").await;
    assert_eq!(second.reply.execution_count.0, 2);
    let JupyterMessageContent::ExecuteInput(input) = &second.iopub[1].content else {
        panic!("{:?}", second.iopub);
    };
    assert_eq!(
        (input.code.as_str(), input.execution_count.0),
        ("%help lsmagic", 2)
    );

    let quiet = kernel
        .execute_request(ExecuteRequest {
            silent: true,
            ..ExecuteRequest::new("%lsmagic".into())
        })
        .await;
    assert!(quiet.is_ok());
    assert_eq!(
        quiet.iopub_types(),
        ["status", "status"],
        "silent: no outputs"
    );
    let unstored = kernel
        .execute_request(ExecuteRequest {
            store_history: false,
            ..ExecuteRequest::new("%lsmagic".into())
        })
        .await;
    assert_eq!(unstored.reply.execution_count.0, 2, "count unchanged");
    assert_eq!(kernel.execute("%lsmagic").await.reply.execution_count.0, 3);
}

#[tokio::test]
async fn errors_are_error_messages_and_stop_on_error_aborts_the_queue() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let run = kernel.execute("%no_such_magic").await;
    assert_eq!(run.reply.status, ReplyStatus::Error);
    let error = run.error().expect("an error message on iopub");
    assert_eq!(error.ename, "UsageError");
    assert!(error.evalue.contains("%help"), "{}", error.evalue);
    assert!(!error.traceback.is_empty());
    assert_eq!(
        run.iopub_types(),
        ["status", "execute_input", "error", "status"]
    );

    let failing = kernel
        .send_shell(ExecuteRequest::new("%no_such_magic".into()))
        .await;
    let queued_a = kernel
        .send_shell(ExecuteRequest::new("%lsmagic".into()))
        .await;
    let queued_b = kernel
        .send_shell(ExecuteRequest::new("%lsmagic".into()))
        .await;
    let mut statuses = Vec::new();
    for id in [&failing, &queued_a, &queued_b] {
        let reply = kernel.read_shell().await;
        assert_eq!(&reply.parent_header.as_ref().unwrap().msg_id, id);
        let JupyterMessageContent::ExecuteReply(reply) = reply.content else {
            panic!("{reply:?}");
        };
        statuses.push(reply.status);
        kernel.iopub_until_idle(id).await;
    }
    assert_eq!(
        statuses,
        [
            ReplyStatus::Error,
            ReplyStatus::Aborted,
            ReplyStatus::Aborted
        ]
    );
    let after = kernel.execute("%lsmagic").await;
    assert!(after.is_ok(), "requests after the abort run again");

    let keep_going = kernel
        .send_shell(ExecuteRequest {
            stop_on_error: false,
            ..ExecuteRequest::new("%no_such_magic".into())
        })
        .await;
    let next = kernel
        .send_shell(ExecuteRequest::new("%lsmagic".into()))
        .await;
    for (id, want) in [(keep_going, ReplyStatus::Error), (next, ReplyStatus::Ok)] {
        let reply = kernel.read_shell().await;
        assert_eq!(reply.parent_header.as_ref().unwrap().msg_id, id);
        let JupyterMessageContent::ExecuteReply(reply) = reply.content else {
            panic!("{reply:?}");
        };
        assert_eq!(reply.status, want);
    }
}

/// The inputs in the kernel's history (its last ten), oldest first.
async fn history_inputs(kernel: &mut TestKernel) -> Vec<String> {
    let history = kernel
        .request(HistoryRequest::Tail {
            n: 10,
            output: false,
            raw: true,
        })
        .await;
    let JupyterMessageContent::HistoryReply(history) = content(&history.reply) else {
        panic!("{:?}", history.reply);
    };
    history
        .history
        .iter()
        .map(|h| match h {
            jupyter_protocol::HistoryEntry::Input(_, _, code) => code.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Frames of `message` signed with `signature` (not a valid one).
fn forged(message: &JupyterMessage, signature: &str) -> ZmqMessage {
    frames(&[
        b"<IDS|MSG>".to_vec(),
        signature.as_bytes().to_vec(),
        serde_json::to_vec(&message.header).unwrap(),
        b"{}".to_vec(),
        b"{}".to_vec(),
        serde_json::to_vec(&message.content).unwrap(),
    ])
}

/// A multipart message of `parts`.
fn frames(parts: &[Vec<u8>]) -> ZmqMessage {
    let mut message = ZmqMessage::from(parts[0].clone());
    for part in &parts[1..] {
        message.push_back(part.clone().into());
    }
    message
}

#[tokio::test]
async fn forged_missing_or_short_signed_messages_are_dropped_without_effect() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let mut request = JupyterMessage::new(ExecuteRequest::new("%lsmagic".into()), None);
    request.header.session = kernel.session.clone();
    let attempts = [
        forged(&request, &"ab".repeat(32)),
        forged(&request, ""),
        forged(&request, "not hex"),
        frames(&[
            b"<IDS|MSG>".to_vec(),
            "00".repeat(32).into_bytes(),
            b"{}".to_vec(),
        ]),
        ZmqMessage::from("no delimiter at all"),
    ];
    for attempt in attempts {
        kernel.shell.socket.send(attempt).await.unwrap();
    }
    let mut shutdown = JupyterMessage::new(ShutdownRequest { restart: false }, None);
    shutdown.header.session = kernel.session.clone();
    kernel
        .control
        .socket
        .send(forged(&shutdown, &"cd".repeat(32)))
        .await
        .unwrap();
    // The next reply is to a genuine request, and no forged execute ran.
    let genuine = kernel.execute("%lsmagic").await;
    assert_eq!(genuine.reply.execution_count.0, 1, "no forged execute ran");
    assert_eq!(history_inputs(&mut kernel).await, ["%lsmagic"]);
    kernel.heartbeat().await;
    kernel.shutdown().await;
}

#[tokio::test]
async fn bad_messages_get_no_reply_run_nothing_and_never_stop_the_kernel() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let unknown = JupyterMessage::new(
        jupyter_protocol::UnknownMessage {
            msg_type: "frobnicate_request".into(),
            content: serde_json::json!({"x": 1}),
        },
        None,
    );
    let unknown_id = unknown.header.msg_id.clone();
    kernel.shell.send(unknown.clone()).await.unwrap();
    let mut malformed = JupyterMessage::new(ExecuteRequest::new("%help".into()), None);
    malformed.content = JupyterMessageContent::UnknownMessage(jupyter_protocol::UnknownMessage {
        msg_type: "execute_request".into(),
        content: serde_json::json!({"code": 42}),
    });
    kernel.shell.send(malformed).await.unwrap();
    kernel.control.send(unknown).await.unwrap();

    // An unknown request is framed by busy and idle like any other, with nothing between.
    let iopub = kernel.iopub_until_idle(&unknown_id).await;
    let types: Vec<_> = iopub.iter().map(|m| m.message_type()).collect();
    assert_eq!(types, ["status", "status"]);
    // The next replies on shell and control answer genuine requests (`execute` and
    // `control_request` check the parent): nothing answered the bad ones.
    let run = kernel.execute("%lsmagic").await;
    assert!(run.is_ok(), "{run:?}");
    assert_eq!(
        run.reply.execution_count.0, 1,
        "the malformed execute never ran"
    );
    let info = kernel.control_request(KernelInfoRequest {}).await;
    assert_eq!(info.message_type(), "kernel_info_reply");
    assert_eq!(history_inputs(&mut kernel).await, ["%lsmagic"]);
    kernel.heartbeat().await;
    kernel.shutdown().await;
}

#[tokio::test]
async fn an_empty_key_disables_signing() {
    let mut kernel = TestKernel::start_with_key(KERNEL, "").await;
    assert!(kernel.execute("%lsmagic").await.is_ok());
    kernel.shutdown().await;
}

#[tokio::test]
async fn heartbeat_echoes_what_it_receives() {
    let kernel = TestKernel::start(KERNEL).await;
    let mut socket = zeromq::ReqSocket::new();
    socket.connect(&kernel.info.hb_url()).await.unwrap();
    for ping in ["ping", "1764110000.123", "another"] {
        socket.send(ZmqMessage::from(ping)).await.unwrap();
        let echo = within("heartbeat echo", socket.recv()).await.unwrap();
        assert_eq!(echo.get(0).unwrap().as_ref(), ping.as_bytes());
    }
}

#[tokio::test]
async fn interrupt_replies_and_shutdown_with_restart_exits_cleanly() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let reply = kernel.control_request(InterruptRequest {}).await;
    let JupyterMessageContent::InterruptReply(interrupt) = content(&reply) else {
        panic!("{reply:?}");
    };
    assert_eq!(interrupt.status, ReplyStatus::Ok);
    assert!(
        kernel.execute("%lsmagic").await.is_ok(),
        "still serving after interrupt"
    );

    let reply = kernel
        .control_request(ShutdownRequest { restart: true })
        .await;
    let JupyterMessageContent::ShutdownReply(shutdown) = content(&reply) else {
        panic!("{reply:?}");
    };
    assert!(shutdown.restart);
    let status = within("kernel exit", kernel.child.wait()).await.unwrap();
    assert!(status.success(), "{status}");
    // The front end restarts a kernel by starting a new process.
    let mut restarted = TestKernel::start(KERNEL).await;
    assert_eq!(
        restarted.execute("%lsmagic").await.reply.execution_count.0,
        1
    );
}

#[tokio::test]
async fn shutdown_on_shell_is_answered_too() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let response = kernel.request(ShutdownRequest { restart: false }).await;
    assert_eq!(response.reply.message_type(), "shutdown_reply");
    let status = within("kernel exit", kernel.child.wait()).await.unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn thousand_pipelined_executes_are_answered_in_order() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let mut ids = Vec::new();
    for _ in 0..1000 {
        ids.push(
            kernel
                .send_shell(ExecuteRequest::new("%lsmagic".into()))
                .await,
        );
    }
    for (i, id) in ids.iter().enumerate() {
        let reply = kernel.read_shell().await;
        assert_eq!(
            &reply.parent_header.as_ref().unwrap().msg_id,
            id,
            "reply {i}"
        );
        let JupyterMessageContent::ExecuteReply(reply) = reply.content else {
            panic!("{reply:?}");
        };
        assert_eq!(
            (reply.status, reply.execution_count.0),
            (ReplyStatus::Ok, i + 1)
        );
    }
    for id in &ids {
        let iopub = kernel.iopub_until_idle(id).await;
        let types: Vec<_> = iopub.iter().map(|m| m.message_type()).collect();
        assert_eq!(
            types,
            ["status", "execute_input", "execute_result", "status"]
        );
        assert!(iopub
            .iter()
            .all(|m| &m.parent_header.as_ref().unwrap().msg_id == id));
    }
}

#[tokio::test]
async fn complete_inspect_is_complete_and_history() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let reply = kernel
        .request(CompleteRequest {
            code: "%lsm".into(),
            cursor_pos: 4,
        })
        .await
        .reply;
    let JupyterMessageContent::CompleteReply(complete) = content(&reply) else {
        panic!("{reply:?}");
    };
    assert_eq!(complete.matches, ["%lsmagic"]);
    assert_eq!((complete.cursor_start, complete.cursor_end), (0, 4));

    let reply = kernel
        .request(InspectRequest {
            code: "%help".into(),
            cursor_pos: 2,
            detail_level: Some(0),
        })
        .await
        .reply;
    let JupyterMessageContent::InspectReply(inspect) = content(&reply) else {
        panic!("{reply:?}");
    };
    assert!(inspect.found);
    let reply = kernel
        .request(InspectRequest {
            code: "nothing".into(),
            cursor_pos: 2,
            detail_level: Some(0),
        })
        .await
        .reply;
    let JupyterMessageContent::InspectReply(inspect) = content(&reply) else {
        panic!("{reply:?}");
    };
    assert!(!inspect.found);

    for (code, want) in [
        ("%help", IsCompleteReplyStatus::Complete),
        ("%help\nlet x = 1;", IsCompleteReplyStatus::Invalid),
    ] {
        let reply = kernel
            .request(IsCompleteRequest { code: code.into() })
            .await
            .reply;
        let JupyterMessageContent::IsCompleteReply(check) = content(&reply) else {
            panic!("{reply:?}");
        };
        assert_eq!(check.status, want, "{code}");
    }

    for code in ["%lsmagic", "%help", "%help help"] {
        kernel.execute(code).await;
    }
    let reply = kernel
        .request(HistoryRequest::Search {
            pattern: "%help*".into(),
            unique: false,
            output: true,
            raw: true,
            n: 0,
        })
        .await
        .reply;
    let JupyterMessageContent::HistoryReply(history) = content(&reply) else {
        panic!("{reply:?}");
    };
    let lines: Vec<usize> = history
        .history
        .iter()
        .map(|h| match h {
            jupyter_protocol::HistoryEntry::InputOutput(_, n, (_, output)) => {
                assert!(!output.is_empty());
                *n
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(lines, [2, 3]);
}

#[tokio::test]
async fn comms_get_busy_idle_and_unknown_targets_are_closed() {
    let mut kernel = TestKernel::start(KERNEL).await;
    let reply = kernel
        .request(CommInfoRequest { target_name: None })
        .await
        .reply;
    let JupyterMessageContent::CommInfoReply(info) = content(&reply) else {
        panic!("{reply:?}");
    };
    assert!(info.comms.is_empty());

    let open = kernel
        .send_shell(CommOpen {
            comm_id: CommId("c1".into()),
            target_name: "no.such.target".into(),
            data: Default::default(),
            target_module: None,
        })
        .await;
    let iopub = kernel.iopub_until_idle(&open).await;
    let types: Vec<_> = iopub.iter().map(|m| m.message_type()).collect();
    assert_eq!(types, ["status", "comm_close", "status"]);

    let message = kernel
        .send_shell(CommMsg {
            comm_id: CommId("c1".into()),
            data: Default::default(),
        })
        .await;
    let iopub = kernel.iopub_until_idle(&message).await;
    let types: Vec<_> = iopub.iter().map(|m| m.message_type()).collect();
    assert_eq!(types, ["status", "status"], "busy/idle around comm_msg");
}
