//! Reading and verifying messages off a ZeroMQ socket.
//!
//! `jupyter-zmq-client` checks framing and the HMAC-SHA256 signature
//! ([`RawMessage::from_multipart`]); this module turns the verified frames into
//! a typed [`JupyterMessage`], filling the optional fields some clients leave
//! out (`jupyter_client` sends `history_request` without `n` or `unique`).
//! Every failure is an error value: a bad message never panics or ends a loop.

use jupyter_protocol::{Header, JupyterMessage, JupyterMessageContent};
use jupyter_zmq_client::{Connection, RawMessage, RuntimeError};
use serde_json::Value;
use zeromq::SocketRecv;

/// Why a received message was dropped.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The socket itself failed.
    #[error("socket error: {0}")]
    Socket(#[from] zeromq::ZmqError),
    /// Bad framing, a missing or forged signature.
    #[error("rejected message: {0}")]
    Rejected(#[from] RuntimeError),
    /// Verified, but not a well-formed Jupyter message.
    #[error("malformed {part}: {source}")]
    Malformed {
        /// Which part could not be parsed.
        part: &'static str,
        /// The cause.
        source: serde_json::Error,
    },
}

/// Reads the next message, verifying its signature with the connection's key.
pub async fn read<S: SocketRecv>(conn: &mut Connection<S>) -> Result<JupyterMessage, WireError> {
    let multipart = conn.socket.recv().await?;
    let raw = RawMessage::from_multipart(multipart, &conn.mac)?;
    decode(raw)
}

/// Turns verified frames into a typed message.
fn decode(raw: RawMessage) -> Result<JupyterMessage, WireError> {
    let malformed = |part| move |source| WireError::Malformed { part, source };
    let [header, parent, metadata, content, buffers @ ..] = raw.jparts.as_slice() else {
        return Err(RuntimeError::InsufficientMessageParts(raw.jparts.len()).into());
    };
    let header: Header = serde_json::from_slice(header).map_err(malformed("header"))?;
    let mut content: Value = serde_json::from_slice(content).map_err(malformed("content"))?;
    if header.msg_type == "history_request" {
        fill_history_defaults(&mut content);
    }
    let content = JupyterMessageContent::from_type_and_content(&header.msg_type, content)
        .map_err(malformed("content"))?;
    Ok(JupyterMessage {
        zmq_identities: raw.zmq_identities.clone(),
        // An empty parent header is `{}`, which is no header.
        parent_header: serde_json::from_slice(parent).ok(),
        metadata: serde_json::from_slice(metadata).map_err(malformed("metadata"))?,
        header,
        content,
        buffers: buffers.to_vec(),
        channel: None,
    })
}

/// Supplies the defaults the protocol gives to optional `history_request` fields.
fn fill_history_defaults(content: &mut Value) {
    let Some(fields) = content.as_object_mut() else {
        return;
    };
    for (key, default) in [
        ("output", Value::Bool(false)),
        ("raw", Value::Bool(true)),
        ("unique", Value::Bool(false)),
        ("n", Value::from(0)),
        ("start", Value::from(0)),
        ("stop", Value::from(0)),
    ] {
        let missing = fields.get(key).is_none_or(Value::is_null);
        if missing {
            fields.insert(key.to_string(), default);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(parts: &[&str]) -> RawMessage {
        RawMessage {
            zmq_identities: Vec::new(),
            jparts: parts.iter().map(|p| p.as_bytes().to_vec().into()).collect(),
        }
    }

    fn header(msg_type: &str) -> String {
        format!(
            r#"{{"msg_id":"1","username":"u","session":"s","date":"2026-01-01T00:00:00Z","msg_type":"{msg_type}","version":"5.3"}}"#
        )
    }

    #[test]
    fn fills_history_defaults_jupyter_client_omits() {
        let h = header("history_request");
        let raw = frames(&[
            &h,
            "{}",
            "{}",
            r#"{"hist_access_type":"search","pattern":"%l*","raw":true,"output":false}"#,
        ]);
        let msg = decode(raw).unwrap();
        match msg.content {
            JupyterMessageContent::HistoryRequest(jupyter_protocol::HistoryRequest::Search {
                n,
                unique,
                ..
            }) => assert_eq!((n, unique), (0, false)),
            other => panic!("not a search: {other:?}"),
        }
        assert!(msg.parent_header.is_none());
    }

    #[test]
    fn short_or_malformed_messages_are_errors() {
        assert!(matches!(
            decode(frames(&["{}", "{}"])),
            Err(WireError::Rejected(RuntimeError::InsufficientMessageParts(
                2
            )))
        ));
        assert!(matches!(
            decode(frames(&["not json", "{}", "{}", "{}"])),
            Err(WireError::Malformed { part: "header", .. })
        ));
        let h = header("execute_request");
        assert!(matches!(
            decode(frames(&[&h, "{}", "{}", r#"{"code": 5}"#])),
            Err(WireError::Malformed {
                part: "content",
                ..
            })
        ));
    }
}
