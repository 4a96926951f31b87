//! A kernel whose parent dies (a killed Jupyter server) exits by itself.

mod common;

use common::{write_connection_file, TempDir};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `pid` is a live process (a zombie has exited too).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

/// Polls `done` every 50 ms until it holds, failing with `what` after 20 s.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_kernel_whose_parent_died_exits() {
    let dir = TempDir::new("orphan");
    let (info, connection_file) = write_connection_file(dir.path(), "orphan-key").await;
    // The shell starts the kernel, prints its pid, and exits when its stdin
    // closes: the kernel is then re-parented, as when a Jupyter server is killed.
    let mut parent = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" run "$1" </dev/null >/dev/null 2>&1 & echo $!; read _"#)
        .arg(common::KERNEL)
        .arg(&connection_file)
        .env("MLSYS_HOME", dir.path().join("home"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run sh");
    let mut line = String::new();
    BufReader::new(parent.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let kernel: u32 = line.trim().parse().unwrap();
    let shell = ("127.0.0.1", info.shell_port);
    eventually("the kernel binds its shell socket", || {
        TcpStream::connect(shell).is_ok()
    })
    .await;
    assert!(running(kernel));

    drop(parent.stdin.take());
    parent.wait().unwrap();
    eventually("the orphaned kernel exits", || !running(kernel)).await;
}
