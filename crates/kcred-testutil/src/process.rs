//! Watching the processes a test starts: the PIDs `kcred-test-plugin --pid-file` writes, their
//! `/proc` state, a signal to a child and its exit, and the check that a plugin and the child
//! it spawned are both gone (Linux `/proc`).

use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// How long a test waits for a process to start or to exit.
const PATIENCE: Duration = Duration::from_secs(30);

/// The state letter of `/proc/PID/stat` (`R`, `S`, `Z`, ...); `None` once the process is
/// reaped.
pub fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

/// The PIDs written to `file`, one per line (`kcred-test-plugin --pid-file`: the plugin,
/// then the child it spawned).
pub fn pids_in(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

/// Waits until `file` holds `n` PIDs; panics after 30 s.
pub fn wait_for_pids(file: &Path, n: usize) -> Vec<u32> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let pids = pids_in(file);
        if pids.len() >= n {
            return pids;
        }
        assert!(Instant::now() < deadline, "plugin did not start: {pids:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends signal number `signal` to `child` with the real `kill` command and waits for it to
/// exit; panics after 30 s.
pub fn signal_and_wait(child: &mut Child, signal: i32) -> ExitStatus {
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -{signal} {}", child.id());
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "process {} did not exit after signal {signal}",
            child.id()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts that the plugin (`pids[0]`) is reaped and that the child it spawned (`pids[1]`),
/// killed with the plugin's process group, is gone or a zombie of init within 10 s.
pub fn assert_plugin_and_child_gone(pids: &[u32]) {
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert_eq!(proc_state(pids[0]), None, "plugin {} survived", pids[0]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match proc_state(pids[1]) {
            None | Some('Z') | Some('X') => return,
            Some(state) => assert!(
                Instant::now() < deadline,
                "grandchild {} still running (state {state})",
                pids[1]
            ),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
