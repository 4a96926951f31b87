//! What the kernel and its Rust-cells worker (`mlsys-rust-cells`) say to each
//! other: one JSON object per line, requests on the worker's stdin, replies on
//! its stdout. Shared by both binaries.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{self, Write};

/// A displayed value: evcxr's `mime type -> content`.
pub type Shown = HashMap<String, String>;

/// From the kernel to the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Request {
    /// Run `code` as a Rust cell (the worker starts evcxr on the first one).
    Execute {
        /// The cell's source.
        code: String,
    },
    /// Stop the running cell; ignored between cells.
    Interrupt,
    /// Stop evcxr, remove its temporary files and exit.
    Shutdown,
}

/// From the worker to the kernel: any number of `Stream`s, then `Done` or `Failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Reply {
    /// Output of the running cell, in the order it was printed.
    Stream {
        /// Which stream the text belongs to.
        name: StreamName,
        /// Newline-terminated text.
        text: String,
    },
    /// The cell finished; `result` is its displayed value, if it showed one.
    Done {
        /// evcxr's mime bundle (a model report arrives as its JSON mime type).
        result: Option<Shown>,
    },
    /// The cell (or starting Rust) failed.
    Failed(Failure),
}

/// A cell's output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamName {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A failure as the kernel shows it: an `error` reply's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The error's name (`CompileError`, `Interrupted`, …).
    pub ename: String,
    /// The one-line message.
    pub evalue: String,
    /// Readable lines, shown in place of a stack trace.
    pub traceback: Vec<String>,
}

impl Failure {
    /// A failure whose traceback is its own one-line message.
    pub fn new(ename: impl Into<String>, evalue: impl Into<String>) -> Self {
        let ename = ename.into();
        let evalue = evalue.into();
        let traceback = vec![format!("{ename}: {evalue}")];
        Failure {
            ename,
            evalue,
            traceback,
        }
    }
}

/// Writes `message` as one line and flushes it.
pub fn send<T: Serialize>(mut to: impl Write, message: &T) -> io::Result<()> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    to.write_all(&line)?;
    to.flush()
}

/// Reads lines from `from` until it closes, handing each decoded message to
/// `handle` (which returns `false` to stop); undecodable lines are logged and skipped.
pub fn receive<T: for<'de> Deserialize<'de>>(
    mut from: impl io::BufRead,
    mut handle: impl FnMut(T) -> bool,
) {
    let mut line = Vec::new();
    loop {
        line.clear();
        match from.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "reading the Rust-cells channel failed");
                return;
            }
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<T>(&line) {
            Ok(message) => {
                if !handle(message) {
                    return;
                }
            }
            Err(error) => tracing::warn!(
                %error,
                line = %String::from_utf8_lossy(&line).trim_end(),
                "ignoring an undecodable line on the Rust-cells channel"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_tagged_lines() {
        let mut wire = Vec::new();
        send(
            &mut wire,
            &Request::Execute {
                code: "1 + 1".into(),
            },
        )
        .unwrap();
        send(&mut wire, &Request::Interrupt).unwrap();
        assert_eq!(
            String::from_utf8(wire.clone()).unwrap(),
            "{\"type\":\"Execute\",\"code\":\"1 + 1\"}\n{\"type\":\"Interrupt\"}\n"
        );
        let mut got = Vec::new();
        receive::<Request>(wire.as_slice(), |r| {
            got.push(r);
            true
        });
        assert_eq!(got.len(), 2);
        let failed = Reply::Failed(Failure {
            ename: "E".into(),
            evalue: "v".into(),
            traceback: vec!["t".into()],
        });
        let json = serde_json::to_string(&failed).unwrap();
        assert_eq!(
            json,
            "{\"type\":\"Failed\",\"ename\":\"E\",\"evalue\":\"v\",\"traceback\":[\"t\"]}"
        );
    }

    #[test]
    fn bad_lines_are_skipped_and_the_loop_goes_on() {
        let wire = b"not json\n\xff\xfe\n\n{\"type\":\"Stream\",\"name\":\"stderr\",\"text\":\"x\\n\"}\n{\"type\":\"Nope\"}\n";
        let mut got = Vec::new();
        receive::<Reply>(&wire[..], |r| {
            got.push(r);
            true
        });
        assert_eq!(
            got,
            vec![Reply::Stream {
                name: StreamName::Stderr,
                text: "x\n".into()
            }]
        );
    }
}
