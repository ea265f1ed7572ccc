//! Issue 12, defect 6: a FIFO named `*.yaml` in a config directory used to hang
//! `validate`, `explain` and `get` forever; now each exits at once with an error naming
//! the file (`validate`: 1, an invalid config; `explain`, `get`: 2, a usage error).
#![cfg(unix)]

mod common;

use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{config_yaml, provider_yaml, write};

#[test]
fn a_fifo_in_the_config_dir_is_a_clear_error_for_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("conf");
    std::fs::create_dir(&config_dir).unwrap();
    write(
        &config_dir,
        "a.yaml",
        &config_yaml(&[provider_yaml("p", &["r.io"], "")]),
    );
    let fifo = config_dir.join("b.yaml");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let conf = config_dir.to_str().unwrap();
    let bin = bin_dir.to_str().unwrap();
    for args in [
        vec!["validate", conf],
        vec!["explain", "r.io/app", "--config", conf],
        vec!["get", "r.io/app", "--config", conf, "--bin-dir", bin],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kcred"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("{args:?} hung on the FIFO");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = if args[0] == "validate" { 1 } else { 2 };
        assert_eq!(out.status.code(), Some(expected), "{args:?}: {stderr}");
        assert!(
            stderr.contains("b.yaml\" is a named pipe (FIFO), not a regular file"),
            "{args:?}: {stderr}"
        );
    }
}
