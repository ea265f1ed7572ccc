//! Issue 12, defect 1: a failing stdout (full disk, closed pipe) never panics any `kcred`
//! subcommand. The run stops with "error: cannot write to stdout: …" on stderr and exit
//! status 4 (`Exit::Output`).

mod common;

use std::fs::File;
use std::io::Read;
use std::process::{Command, Stdio};

use common::{config_yaml, provider_yaml, write};

/// The exit status for "stdout could not be written".
const EXIT_OUTPUT: i32 = 4;

/// Runs `kcred args` with stdout on `/dev/full` (every write fails with ENOSPC).
fn run_to_dev_full(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kcred"))
        .args(args)
        .stdout(File::create("/dev/full").expect("/dev/full"))
        .stderr(Stdio::piped())
        .output()
        .expect("run kcred");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_clean_stdout_failure(code: i32, stderr: &str, what: &str) {
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert_eq!(code, EXIT_OUTPUT, "{what}: {stderr}");
    assert!(
        stderr.contains("error: cannot write to stdout"),
        "{what}: {stderr}"
    );
}

/// A config with `n` providers, so `explain` prints a report far bigger than a pipe buffer.
fn big_config(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let providers: Vec<String> = (0..n)
        .map(|i| {
            provider_yaml(
                &format!("provider-{i}"),
                &["*.example.com", "docker.io"],
                "",
            )
        })
        .collect();
    write(dir, "config.yaml", &config_yaml(&providers))
}

#[test]
fn match_to_a_full_disk_fails_cleanly() {
    let (code, stderr) = run_to_dev_full(&["match", "docker.io", "nginx"]);
    assert_clean_stdout_failure(code, &stderr, "match");
    let (code, stderr) = run_to_dev_full(&["match", "docker.io", "nginx", "--output", "json"]);
    assert_clean_stdout_failure(code, &stderr, "match json");
}

#[test]
fn validate_and_explain_to_a_full_disk_fail_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = big_config(dir.path(), 3);
    let config = config.to_str().expect("utf-8 path");
    let (code, stderr) = run_to_dev_full(&["validate", config]);
    assert_clean_stdout_failure(code, &stderr, "validate");
    let (code, stderr) = run_to_dev_full(&["explain", "nginx", "--config", config]);
    assert_clean_stdout_failure(code, &stderr, "explain");
    let (code, stderr) = run_to_dev_full(&[
        "get",
        "nginx",
        "--config",
        config,
        "--bin-dir",
        "/nonexistent-bin-dir",
    ]);
    // The bin dir is checked before anything is printed: a usage error, not a panic.
    assert!(!stderr.contains("panicked"), "get: {stderr}");
    assert_eq!(code, 2, "get: {stderr}");
}

#[test]
fn explain_into_a_closed_pipe_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = big_config(dir.path(), 400);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kcred"))
        .args(["explain", "nginx", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kcred");
    // `| head -c1`: read one byte, then close the pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut one = [0u8; 1];
    stdout.read_exact(&mut one).expect("first byte");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("wait");
    assert_clean_stdout_failure(status.code().unwrap_or(-1), &stderr, "explain | head -c1");
    assert!(
        stderr.contains("Broken pipe") || stderr.contains("broken pipe"),
        "{stderr}"
    );
}
