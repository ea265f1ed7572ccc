//! Runs the `fixed-provider` example as a real process over real stdin/stdout.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

const VERSIONS: [&str; 3] = [
    "credentialprovider.kubelet.k8s.io/v1alpha1",
    "credentialprovider.kubelet.k8s.io/v1beta1",
    "credentialprovider.kubelet.k8s.io/v1",
];

/// The example's executable. `cargo test` builds examples next to the test binaries
/// (`target/debug/examples/`); when only this test was selected (`--test plugin_io`) the
/// example is built here with cargo.
fn example() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let name = format!("fixed-provider{}", std::env::consts::EXE_SUFFIX);
        let exe = std::env::current_exe().expect("test binary path");
        // target/debug/deps/plugin_io-<hash> → target/debug/examples/fixed-provider
        if let Some(profile_dir) = exe.parent().and_then(|deps| deps.parent()) {
            let candidate = profile_dir.join("examples").join(&name);
            if candidate.is_file() {
                return candidate;
            }
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let out = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "kcred-plugin",
                "--example",
                "fixed-provider",
                "--message-format=json",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(out.status.success(), "building the example failed");
        // The compiler-artifact message for the example names its executable.
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| {
                m["reason"] == "compiler-artifact" && m["target"]["name"] == "fixed-provider"
            })
            .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
            .next_back()
            .expect("cargo reported the example's executable")
    })
}

fn run(args: &[&str], password: Option<&str>, stdin: &[u8]) -> Output {
    let mut cmd = Command::new(example());
    cmd.args(args)
        .env_remove("FIXED_PROVIDER_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("FIXED_PROVIDER_PASSWORD", p);
    }
    let mut child = cmd.spawn().expect("example starts");
    let mut input = child.stdin.take().expect("stdin piped");
    // The plugin may exit before reading (usage errors): ignore a broken pipe.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().expect("example finishes")
}

fn request(version: &str, image: &str, extra: &str) -> Vec<u8> {
    format!(r#"{{"kind":"CredentialProviderRequest","apiVersion":"{version}","image":"{image}"{extra}}}"#)
        .into_bytes()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn answers_each_api_version_in_kind() {
    for version in VERSIONS {
        let out = run(
            &["--v=2", "robot"],
            Some("pw-Secret-1"),
            &request(version, "registry.io:5000/team/app", ""),
        );
        assert!(out.status.success(), "{version}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert_eq!(
            stdout,
            format!(
                "{{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"{version}\",\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"10m0s\",\"auth\":{{\"registry.io:5000\":{{\"username\":\"robot\",\"password\":\"pw-Secret-1\"}}}}}}\n"
            )
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("fixed-provider: serving robot for registry.io:5000\n"),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("apiVersion={version}")),
            "{stderr}"
        );
        assert!(!stderr.contains("pw-Secret-1"), "{stderr}");
    }
}

#[test]
fn quiet_by_default() {
    let out = run(
        &["robot"],
        Some("pw"),
        &request(VERSIONS[2], "docker.io/library/nginx", ""),
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["auth"]["docker.io"]["username"], "robot");
}

#[test]
fn klog_flags_from_a_kubelet_config_are_accepted() {
    let out = run(
        &[
            "--logtostderr",
            "--alsologtostderr=true",
            "--stderrthreshold",
            "INFO",
            "-v",
            "1",
            "robot",
        ],
        Some("pw"),
        &request(VERSIONS[0], "r.io/a", ""),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "fixed-provider: serving robot for r.io\n"
    );
}

#[test]
fn handler_error_exit_1_stderr_only() {
    let out = run(&["robot"], None, &request(VERSIONS[2], "r.io/a", ""));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "fixed-provider: FIXED_PROVIDER_PASSWORD: environment variable not found\n"
    );
}

#[test]
fn bad_input_exit_1_stderr_only() {
    for stdin in [
        &b""[..],
        b"{}",
        b"image: r.io/a",
        &request(
            "credentialprovider.kubelet.k8s.io/v1",
            "r.io/a",
            r#","extra":1"#,
        ),
    ] {
        let out = run(&["robot"], Some("pw"), stdin);
        assert_eq!(out.status.code(), Some(1), "{}", text(stdin));
        assert!(out.stdout.is_empty());
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with("fixed-provider: decoding the CredentialProviderRequest on stdin: "),
            "{stderr}"
        );
    }
}

#[test]
fn a_huge_request_is_refused() {
    let big = request(VERSIONS[2], &"a".repeat(2 * 1024 * 1024), "");
    let out = run(&["robot"], Some("pw"), &big);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "fixed-provider: the request on stdin is larger than 1048576 bytes\n"
    );
}

#[test]
fn service_account_token_never_reaches_stderr() {
    let out = run(
        &["--v=9"],
        Some("pw"),
        &request(
            VERSIONS[2],
            "r.io/a",
            r#","serviceAccountToken":"tok-123456","serviceAccountAnnotations":{"r.io/role":"x"}"#,
        ),
    );
    // No username argument: the handler fails, after the request was logged at v=2.
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("serviceAccountToken=present"), "{stderr}");
    assert!(!stderr.contains("tok-123456"), "{stderr}");
    assert!(
        stderr.ends_with("fixed-provider: want exactly one argument: <username>\n"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_and_help() {
    let out = run(&["--v=loud", "robot"], Some("pw"), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "fixed-provider: invalid value \"loud\" for flag --v: want an integer log level (see --help)\n"
    );

    let out = run(&["--help"], None, b"");
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("Usage: FIXED_PROVIDER_PASSWORD=<password> fixed-provider"),
        "{stdout}"
    );
    assert!(stdout.contains("Logging flags"), "{stdout}");
}

#[test]
fn version_is_answered_without_reading_stdin() {
    for flag in ["--version", "-version"] {
        // Garbage on stdin: a run that read it would fail to decode.
        let out = run(&[flag], None, b"not a request");
        assert_eq!(out.status.code(), Some(0), "{flag}: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            format!(
                "fixed-provider version kcred-{}\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert!(out.stderr.is_empty(), "{flag}: {}", text(&out.stderr));
    }
    // After `--` it is the plugin's argument, not the SDK's flag.
    let out = run(&["--", "--version"], None, b"not a request");
    assert_ne!(out.status.code(), Some(0));
}
