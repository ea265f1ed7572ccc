//! Issue 12, defect 2 for `docker-credential-kcred`: SIGINT, SIGTERM or SIGHUP while a
//! plugin hangs kills and reaps the plugin's process group before the helper exits
//! (through `kcred_host::signals::until_signal`); the helper answers with the reason.
#![cfg(unix)]

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Node, ProviderSpec, HELPER};

fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

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
    let pids = || -> Vec<u32> {
        std::fs::read_to_string(&pid_file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while pids().len() < 2 {
        assert!(Instant::now() < deadline, "plugin did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our unreaped child.
    assert_eq!(
        unsafe { libc::kill(i32::try_from(helper.id()).unwrap(), signal) },
        0
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = helper.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "helper did not exit after {name}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
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
    let pids = pids();
    assert_eq!(proc_state(pids[0]), None, "plugin {} survived", pids[0]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match proc_state(pids[1]) {
            None | Some('Z') | Some('X') => break,
            Some(state) => assert!(
                Instant::now() < deadline,
                "grandchild {} still running ({state})",
                pids[1]
            ),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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
