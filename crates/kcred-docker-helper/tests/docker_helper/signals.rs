//! Issue 12, defect 2 for `docker-credential-kcred`: SIGINT, SIGTERM or SIGHUP while a
//! plugin hangs kills and reaps the plugin's process group before the helper exits
//! (through `kcred_host::signals::until_signal`); the helper answers with the reason.
#![cfg(unix)]

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};

use kcred_testutil::process::{assert_plugin_and_child_gone, signal_and_wait, wait_for_pids};

use crate::common::{Node, ProviderSpec, HELPER};

fn signal_stops_the_plugins(signal: i32, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let pid_arg = pid_file.to_str().unwrap().to_owned();
    let node = Node::new(&[ProviderSpec {
        name: "p",
        match_images: &["r.io"],
        args: &["--mode", "hang", "--spawn-child", "--pid-file", &pid_arg],
    }]);
    let mut helper = Command::new(HELPER)
        .arg("get")
        .env("KCRED_CONFIG", &node.config)
        .env("KCRED_BIN_DIR", &node.bin_dir)
        .env("XDG_CACHE_HOME", node.cache_home())
        .env("KCRED_NO_CACHE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = helper.stdin.take().unwrap();
    stdin.write_all(b"r.io").unwrap();
    drop(stdin);
    wait_for_pids(&pid_file, 2);
    let status = signal_and_wait(&mut helper, signal);
    let mut stdout = String::new();
    helper
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{name}: {status:?} {stdout}");
    assert!(
        stdout.contains(&format!(
            "interrupted by {name}: the running plugins were killed and reaped"
        )),
        "{name}: {stdout}"
    );
    assert_plugin_and_child_gone(&kcred_testutil::process::pids_in(&pid_file));
}

#[test]
fn sigterm_kills_and_reaps_the_plugins() {
    signal_stops_the_plugins(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sigint_kills_and_reaps_the_plugins() {
    signal_stops_the_plugins(libc::SIGINT, "SIGINT");
}

#[test]
fn sighup_kills_and_reaps_the_plugins() {
    signal_stops_the_plugins(libc::SIGHUP, "SIGHUP");
}
