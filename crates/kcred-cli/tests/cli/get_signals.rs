//! Issue 12, defect 2: SIGINT, SIGTERM or SIGHUP to `kcred get` while a plugin hangs kills
//! and reaps the plugin's process group before kcred exits (the plugin used to run on
//! under init), and the exit status is 128 + the signal's number. The report is not
//! printed, and nothing says "context deadline exceeded".
#![cfg(unix)]

use std::io::Read as _;
use std::process::{Command, Stdio};

use kcred_testutil::process::{
    assert_plugin_and_child_gone, pids_in, signal_and_wait, wait_for_pids,
};

use crate::get_support::{provider, Fixture, Plugin};

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
    wait_for_pids(&pid_file, 2);
    let status = signal_and_wait(&mut kcred, signal);
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
    // By the time kcred has exited, the plugin is reaped (by kcred, not init), and its
    // child was killed with the group (init reaps it, maybe a moment later).
    assert_plugin_and_child_gone(&pids_in(&pid_file));
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
