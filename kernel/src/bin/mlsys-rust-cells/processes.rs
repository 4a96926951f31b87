//! The worker's descendants — evcxr's process that runs cells, and cargo,
//! rustc and their wrappers while a cell compiles — found in `/proc`, so an
//! interrupt stops a cell whatever it is doing.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

/// What [`interrupt`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// A compile: cargo, rustc and their wrappers; evcxr's process goes on.
    Compile,
    /// Everything below the worker, evcxr's process included.
    Everything,
}

/// Stops what runs below this process for an interrupt: a compile (the
/// processes not below evcxr's process `runner`) if there is one, else
/// everything (the running cell's process and what it started). Everything
/// too when `runner` is unknown (while evcxr starts).
pub fn interrupt(runner: Option<i32>) -> Stopped {
    interrupt_below(std::process::id() as i32, runner)
}

fn interrupt_below(root: i32, runner: Option<i32>) -> Stopped {
    let frozen = freeze_below(root);
    let cell: Vec<i32> = runner
        .into_iter()
        .flat_map(|runner| std::iter::once(runner).chain(descendants(runner)))
        .collect();
    let compile: Vec<i32> = frozen
        .iter()
        .copied()
        .filter(|pid| !cell.contains(pid))
        .collect();
    if runner.is_some() && !compile.is_empty() {
        compile.iter().for_each(|&pid| signal(pid, libc::SIGKILL));
        cell.iter().for_each(|&pid| signal(pid, libc::SIGCONT));
        Stopped::Compile
    } else {
        frozen.iter().for_each(|&pid| signal(pid, libc::SIGKILL));
        Stopped::Everything
    }
}

/// Kills every process below this one.
pub fn kill_descendants() {
    kill_below(std::process::id() as i32);
}

fn kill_below(root: i32) {
    freeze_below(root)
        .into_iter()
        .for_each(|pid| signal(pid, libc::SIGKILL));
}

/// Stops (SIGSTOP) every process below `root` and returns them: a stopped
/// process starts no other, and is not re-parented away before it is found.
fn freeze_below(root: i32) -> Vec<i32> {
    let mut stopped: Vec<i32> = Vec::new();
    loop {
        let found: Vec<i32> = descendants(root)
            .into_iter()
            .filter(|pid| !stopped.contains(pid))
            .collect();
        if found.is_empty() {
            return stopped;
        }
        for pid in found {
            signal(pid, libc::SIGSTOP);
            stopped.push(pid);
        }
    }
}

fn signal(pid: i32, signal: i32) {
    // SAFETY: kill(2) takes plain integers; a process already gone gives ESRCH.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Every process below `root`, from `/proc`.
fn descendants(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if let Some(parent) = live_parent_in(&stat) {
            children.entry(parent).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            found.push(child);
            todo.push(child);
        }
    }
    found
}

/// The parent pid in a `/proc/<pid>/stat` line: `pid (comm) state ppid …`,
/// where `comm` may hold spaces and parentheses; `None` for a zombie (it has
/// exited: nothing to stop, and no sign that a compile runs).
fn live_parent_in(stat: &str) -> Option<i32> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace();
    if fields.next()? == "Z" {
        return None;
    }
    fields.next()?.parse().ok()
}

/// The pipe process `pid` writes its stderr to, opened to look at (never read
/// from: what is in it belongs to evcxr's reader); `None` if it is no pipe.
pub fn stderr_pipe(pid: u32) -> Option<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(format!("/proc/{pid}/fd/2"))
        .ok()
        .filter(|pipe| {
            pipe.metadata().is_ok_and(|m| {
                use std::os::unix::fs::FileTypeExt;
                m.file_type().is_fifo()
            })
        })
}

/// How many bytes written to `pipe` wait to be read.
pub fn unread(pipe: &File) -> Option<usize> {
    let mut bytes: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, to a live local.
    let done = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut bytes) };
    (done == 0).then_some(bytes.max(0) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    #[test]
    fn the_parent_is_read_past_a_command_name_with_spaces_and_parentheses() {
        assert_eq!(live_parent_in("42 (a b) c)) S 7 42 42 0"), Some(7));
        assert_eq!(live_parent_in(""), None);
    }

    #[test]
    fn a_zombie_is_no_descendant() {
        assert_eq!(live_parent_in("42 (rustc) Z 7 42 42 0"), None);
        // An exited child its parent has not reaped yet: the child exits once
        // the shell has become `sleep`, which never reaps.
        let (mut root, pids) = shell(
            "p=$$; (while [ \"$(cat /proc/$p/comm)\" != sleep ]; do sleep 0.01; done) & \
             echo $!; exec sleep 600",
            1,
        );
        let zombie = pids[0];
        let deadline = Instant::now() + Duration::from_secs(60);
        while running(zombie) {
            assert!(Instant::now() < deadline, "{zombie} never exited");
            std::thread::sleep(Duration::from_millis(10));
        }
        let root_pid = root.id() as i32;
        assert!(
            std::fs::metadata(format!("/proc/{zombie}")).is_ok(),
            "not reaped"
        );
        assert_eq!(descendants(root_pid), Vec::<i32>::new());
        signal(root_pid, libc::SIGKILL);
        let _ = root.wait();
    }

    /// Whether `pid` is a live process (a zombie has exited too).
    fn running(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| !stat.contains(") Z "))
            .unwrap_or(false)
    }

    /// A shell started with `script`, and the pids it prints, one a line.
    fn shell(script: &str, pids: usize) -> (std::process::Child, Vec<i32>) {
        let mut root = Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(root.stdout.take().unwrap());
        let printed = (0..pids)
            .map(|_| {
                let mut line = String::new();
                std::io::BufRead::read_line(&mut out, &mut line).unwrap();
                line.trim().parse().unwrap()
            })
            .collect();
        (root, printed)
    }

    /// Waits until `pid` has exited.
    fn gone(pid: i32) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while running(pid) {
            assert!(Instant::now() < deadline, "{pid} survived");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The one child `pid` starts (waited for: a shell forks when it gets to it).
    fn started_child(pid: i32) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let [child] = descendants(pid)[..] {
                return child;
            }
            assert!(Instant::now() < deadline, "{pid} started no child");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether `pid` is stopped (SIGSTOP).
    fn stopped(pid: i32) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        stat.contains(") T ")
    }

    #[test]
    fn an_interrupt_kills_a_compile_and_spares_the_runner_else_kills_the_runner() {
        // Below the root: a "runner" shell with a child of its own, and a "compile".
        let (root, pids) = shell(
            "sh -c 'sleep 600; true' & echo $!; sleep 600 & echo $!; wait",
            2,
        );
        let (runner, compile) = (pids[0], pids[1]);
        let root_pid = root.id() as i32;
        let runner_child = started_child(runner);
        assert_eq!(interrupt_below(root_pid, Some(runner)), Stopped::Compile);
        gone(compile);
        assert_eq!(descendants(runner), [runner_child]);
        let runner_child = [runner_child];
        for pid in [runner, runner_child[0]] {
            assert!(running(pid) && !stopped(pid), "{pid} goes on");
        }
        assert_eq!(interrupt_below(root_pid, Some(runner)), Stopped::Everything);
        gone(runner);
        gone(runner_child[0]);
        assert!(root.wait_with_output().unwrap().status.success());
    }

    #[test]
    fn without_a_known_runner_an_interrupt_kills_everything() {
        let (root, pids) = shell("sleep 600 & echo $!; sleep 600 & echo $!; wait", 2);
        assert_eq!(interrupt_below(root.id() as i32, None), Stopped::Everything);
        pids.into_iter().for_each(gone);
        assert!(root.wait_with_output().unwrap().status.success());
    }

    #[test]
    fn every_process_below_is_killed_grandchildren_included() {
        // A shell running a shell running sleep (`; true` keeps the inner shell).
        let root = Command::new("sh")
            .args(["-c", "sh -c 'sleep 600; true' & wait; echo waited"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let root_pid = root.id() as i32;
        let deadline = Instant::now() + Duration::from_secs(10);
        let below = loop {
            let below = descendants(root_pid);
            if below.len() == 2 {
                break below;
            }
            assert!(Instant::now() < deadline, "{below:?}");
            std::thread::sleep(Duration::from_millis(10));
        };
        kill_below(root_pid);
        for pid in below {
            while running(pid) {
                assert!(Instant::now() < deadline, "{pid} survived");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let out = root.wait_with_output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "waited\n",
            "the root lives on"
        );
    }
}
