//! `docker-credential-provider` run as the kubelet runs it, against small shell-script
//! helpers that answer, miss, fail, hang, print garbage or an identity token.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kcred_testutil::pass::run_with_stdin;
use serde_json::Value;

const PROVIDER: &str = env!("CARGO_BIN_EXE_docker-credential-provider");

/// The fake helpers: `docker-credential-<name>` → shell body.
const HELPERS: &[(&str, &str)] = &[
    // Answers with the server URL it was given as the username.
    (
        "echo",
        r#"[ "$1" = get ] || exit 9
url=$(cat)
printf '{"ServerURL":"%s","Username":"%s","Secret":"pw-echo-%s"}\n' "$url" "$url" "$url""#,
    ),
    (
        "notfound",
        "cat >/dev/null\necho 'credentials not found in native keychain'\nexit 1",
    ),
    (
        "empty",
        r#"url=$(cat); printf '{"ServerURL":"%s","Username":"","Secret":""}\n' "$url""#,
    ),
    (
        "fails",
        "cat >/dev/null\necho 'error: the keychain is locked'\nexit 3",
    ),
    (
        "fails-on-stderr",
        "cat >/dev/null\necho 'backend unreachable' >&2\nexit 2",
    ),
    ("garbage", "cat >/dev/null\necho 'robot:hunter2-garbage'"),
    ("not-object", "cat >/dev/null\necho '[\"hunter2-array\"]'"),
    ("silent", "cat >/dev/null\nexit 0"),
    ("signal", "cat >/dev/null\nkill -9 $$"),
    ("slow", "cat >/dev/null\nsleep 30\necho '{}'"),
    (
        "token",
        r#"cat >/dev/null; echo '{"ServerURL":"r","Username":"<token>","Secret":"refresh-token-xyz"}'"#,
    ),
    (
        "huge",
        "cat >/dev/null\nhead -c 2000000 /dev/zero | tr '\\0' 'a'",
    ),
    // Never reads its stdin.
    ("stuck", "sleep 20\necho '{}'"),
    // Prints a credentials object, then fails.
    (
        "fails-with-credentials",
        r#"cat >/dev/null; echo '{"ServerURL":"r","Username":"robot","Secret":"hunter2-failed"}'; echo 'backend went away' >&2; exit 4"#,
    ),
];

/// Writes every helper once, before any test spawns a process (a script still open for
/// writing in a forked child cannot be executed: ETXTBSY).
fn helper_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fake-docker-credential-helpers");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, body) in HELPERS {
            let path = dir.join(format!("docker-credential-{name}"));
            let tmp = dir.join(format!(".{name}.{}", std::process::id()));
            std::fs::write(&tmp, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
        }
        dir
    })
}

fn request(image: &str) -> String {
    format!(
        r#"{{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"{image}"}}"#
    )
}

fn run_provider(args: &[&str], image: &str) -> Output {
    let dir = helper_dir();
    run_with_stdin(
        Command::new(PROVIDER)
            .args(args)
            .env("PATH", format!("/usr/bin:/bin:{}", dir.display())),
        &request(image),
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a failed run: exit 1, nothing on stdout, stderr ending with the message.
fn assert_failed(out: &Output, needle: &str) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    assert!(
        stderr.starts_with("docker-credential-provider: "),
        "{stderr}"
    );
    assert!(stderr.contains(needle), "want {needle:?} in {stderr}");
    stderr
}

fn response(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn answers_under_the_registry_with_cache_settings() {
    let out = run_provider(&["--helper", "echo"], "127.0.0.1:5000/team/app");
    let v = response(&out);
    assert_eq!(v["kind"], "CredentialProviderResponse");
    assert_eq!(v["apiVersion"], "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(v["cacheKeyType"], "Registry");
    assert_eq!(v["cacheDuration"], "5m0s");
    let auth = v["auth"].as_object().unwrap();
    assert_eq!(auth.len(), 1);
    assert_eq!(auth["127.0.0.1:5000"]["username"], "127.0.0.1:5000");
    assert_eq!(auth["127.0.0.1:5000"]["password"], "pw-echo-127.0.0.1:5000");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));

    let v = response(&run_provider(
        &["echo", "--cache-duration=90s"],
        "registry.example.com/a/b",
    ));
    assert_eq!(v["cacheDuration"], "1m30s");
    assert_eq!(
        v["auth"]["registry.example.com"]["username"],
        "registry.example.com"
    );
}

#[test]
fn docker_hub_is_asked_with_the_docker_hub_server_url() {
    let v = response(&run_provider(&["echo"], "docker.io/library/nginx"));
    assert_eq!(
        v["auth"]["docker.io"]["username"],
        "https://index.docker.io/v1/"
    );
}

#[test]
fn helper_dir_restricts_the_search() {
    let dir = helper_dir().display().to_string();
    let v = response(&run_provider(
        &["--helper-dir", &dir, "--helper", "echo"],
        "r.io/x",
    ));
    assert_eq!(v["auth"]["r.io"]["username"], "r.io");
    let out = run_provider(&["--helper-dir=/nonexistent", "echo"], "r.io/x");
    assert_failed(
        &out,
        "credential helper \"echo\" not found: no executable docker-credential-echo in --helper-dir /nonexistent",
    );
}

#[test]
fn not_found_is_an_empty_answer_not_an_error() {
    for helper in ["notfound", "empty"] {
        let out = run_provider(&[helper, "--cache-duration=1m"], "r.io/app");
        let v = response(&out);
        assert_eq!(v["cacheKeyType"], "Registry", "{helper}");
        assert_eq!(v["cacheDuration"], "1m0s");
        assert!(
            v.get("auth")
                .is_none_or(|a| a.as_object().unwrap().is_empty()),
            "{helper}: {v}"
        );
    }
}

#[test]
fn unknown_helper_is_a_clear_error() {
    let out = run_provider(&["--helper", "nope"], "r.io/app");
    assert_failed(
        &out,
        "credential helper \"nope\" not found: no executable docker-credential-nope in $PATH (/usr/bin:/bin:",
    );
    let out = run_provider(&["--helper", "../../bin/sh"], "r.io/app");
    assert_failed(&out, "invalid credential helper name \"../../bin/sh\"");
    let out = run_provider(&[], "r.io/app");
    assert_failed(&out, "no credential helper named: give --helper NAME");
}

#[test]
fn failing_helpers_relay_their_message() {
    let out = run_provider(&["fails"], "r.io:5000/app");
    let stderr = assert_failed(
        &out,
        "docker-credential-fails get r.io:5000 failed (exit status 3): error: the keychain is locked",
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let out = run_provider(&["fails-on-stderr"], "r.io/app");
    assert_failed(&out, "failed (exit status 2): backend unreachable");
    let out = run_provider(&["signal"], "r.io/app");
    assert_failed(
        &out,
        "docker-credential-signal get r.io failed (killed by signal 9)",
    );
}

#[test]
fn garbage_is_refused_without_being_shown() {
    let cases = [
        (
            "garbage",
            "printed 22 bytes that are not JSON (output not shown: it may hold a secret)",
        ),
        ("not-object", "printed JSON that is not an object"),
        (
            "silent",
            "docker-credential-silent get r.io printed nothing",
        ),
        ("huge", "printed more than 1048576 bytes on stdout"),
    ];
    for (helper, message) in cases {
        let out = run_provider(&[helper], "r.io/app");
        let stderr = assert_failed(&out, message);
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
}

#[test]
fn slow_helpers_are_killed_at_the_timeout() {
    let started = Instant::now();
    let out = run_provider(&["slow", "--helper-timeout=300ms"], "r.io/app");
    assert_failed(
        &out,
        "docker-credential-slow get r.io did not finish within 300ms: killed",
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_helper_that_never_reads_stdin_is_killed_at_the_timeout() {
    // A server URL larger than a pipe buffer: writing it blocks until the helper reads it,
    // so the timeout must already run while it is written.
    let image = format!("{}.io/app", "a".repeat(256 * 1024));
    let started = Instant::now();
    let out = run_provider(&["stuck", "--helper-timeout=500ms"], &image);
    assert_failed(&out, "did not finish within 500ms: killed");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_failing_helper_that_prints_credentials_does_not_leak_them() {
    let out = run_provider(&["fails-with-credentials"], "r.io/app");
    let stderr = assert_failed(
        &out,
        "docker-credential-fails-with-credentials get r.io failed (exit status 4): ",
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(stderr.contains("backend went away"), "{stderr}");
}

#[test]
fn identity_tokens_are_refused_or_sent_as_configured() {
    let out = run_provider(&["token"], "myregistry.azurecr.io/app");
    let stderr = assert_failed(
        &out,
        "docker-credential-token returned an identity token (username \"<token>\") for myregistry.azurecr.io: the kubelet can pass only a username and a password",
    );
    assert!(!stderr.contains("refresh-token-xyz"), "{stderr}");

    let out = run_provider(
        &[
            "token",
            "--identity-token-username=00000000-0000-0000-0000-000000000000",
            "--v=5",
        ],
        "myregistry.azurecr.io/app",
    );
    let v = response(&out);
    let auth = &v["auth"]["myregistry.azurecr.io"];
    assert_eq!(auth["username"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(auth["password"], "refresh-token-xyz");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("has credentials"), "{stderr}");
    assert!(!stderr.contains("refresh-token-xyz"), "{stderr}");
}

#[test]
fn bad_flags_and_requests_fail_before_running_a_helper() {
    let out = run_provider(&["echo", "--cache-duration=soon"], "r.io/app");
    assert_failed(
        &out,
        "invalid value \"soon\" for flag --cache-duration: time: invalid duration \"soon\"",
    );
    let out = run_provider(&["echo", "--region=x"], "r.io/app");
    assert_failed(&out, "flag provided but not defined: --region=x");

    let out = run_with_stdin(Command::new(PROVIDER).arg("echo"), "not json");
    assert_failed(&out, "decoding the CredentialProviderRequest on stdin");
}

#[test]
fn help_describes_the_flags() {
    let out = Command::new(PROVIDER).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = text(&out.stdout);
    for flag in [
        "--helper NAME",
        "--helper-dir DIR",
        "--cache-duration D",
        "--helper-timeout D",
        "--identity-token-username USER",
    ] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
}
