//! Issue 12, defect 2: SIGINT, SIGTERM or SIGHUP to `kcred get` while a plugin hangs kills
//! and reaps the plugin's process group before kcred exits (the plugin used to run on
//! under init), and the exit status is 128 + the signal's number. The report is not
//! printed, and nothing says "context deadline exceeded".
#![cfg(unix)]

mod get_support;

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use get_support::{provider, Fixture, Plugin};

/// The state letter of `/proc/<pid>/stat`; `None` once the process is reaped.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

fn pids(file: &std::path::Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

fn signal_stops_the_plugins(signal: i32, name: &str) {
    let f = Fixture::new();
    let pid_file = f.path("pids");
    f.plugin("p", Plugin::Test).config(&[provider(
        "p",
        &["r.io"],
        &[
            "--mode",
            "hang",
            "--spawn-child",
            "--pid-file",
            pid_file.to_str().unwrap(),
        ],
        "",
    )]);
    let mut kcred = Command::new(env!("CARGO_BIN_EXE_kcred"))
        .args(["get", "r.io/app", "--timeout", "5m", "--config"])
        .arg(f.config_path())
        .arg("--bin-dir")
        .arg(f.bin_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kcred");
    let deadline = Instant::now() + Duration::from_secs(30);
    while pids(&pid_file).len() < 2 {
        assert!(Instant::now() < deadline, "plugin did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let kcred_pid = i32::try_from(kcred.id()).unwrap();
    // SAFETY: kill(2) has no memory-safety preconditions; kcred_pid is our unreaped child.
    assert_eq!(unsafe { libc::kill(kcred_pid, signal) }, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = kcred.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "kcred did not exit after {name}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    kcred
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    kcred
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(
        status.code(),
        Some(128 + signal),
        "{name}: {status:?} {stderr}"
    );
    assert_eq!(stdout, "", "{name}");
    assert!(
        stderr.contains(&format!("interrupted by {name}")),
        "{name}: {stderr}"
    );
    assert!(
        stderr.contains("the running plugins were killed and reaped"),
        "{name}: {stderr}"
    );
    assert!(!stderr.contains("context deadline exceeded"), "{stderr}");
    // By the time kcred has exited, the plugin is reaped (by kcred, not init) ...
    let pids = pids(&pid_file);
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert_eq!(
        proc_state(pids[0]),
        None,
        "plugin {} survived kcred",
        pids[0]
    );
    // ... and its child was killed with the group (init reaps it, maybe a moment later).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match proc_state(pids[1]) {
            None | Some('Z') | Some('X') => break,
            Some(state) => assert!(
                Instant::now() < deadline,
                "grandchild {} still running (state {state})",
                pids[1]
            ),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigint_kills_and_reaps_the_plugins() {
    signal_stops_the_plugins(libc::SIGINT, "SIGINT");
}

#[test]
fn sigterm_kills_and_reaps_the_plugins() {
    signal_stops_the_plugins(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sighup_kills_and_reaps_the_plugins() {
    signal_stops_the_plugins(libc::SIGHUP, "SIGHUP");
}
