//! Shared helpers: run the real `static-credential-provider` binary over real stdin/stdout.

#![allow(dead_code)] // each test file uses a subset

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_static-credential-provider");

pub(crate) const V1ALPHA1: &str = "credentialprovider.kubelet.k8s.io/v1alpha1";
pub(crate) const V1BETA1: &str = "credentialprovider.kubelet.k8s.io/v1beta1";
pub(crate) const V1: &str = "credentialprovider.kubelet.k8s.io/v1";
pub(crate) const VERSIONS: [&str; 3] = [V1ALPHA1, V1BETA1, V1];

/// A temporary directory holding credential files.
pub(crate) struct Files {
    pub dir: tempfile::TempDir,
}

impl Files {
    pub(crate) fn new() -> Files {
        Files {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Writes `content` to `name` with `mode` and returns the path.
    pub(crate) fn write(&self, name: &str, content: &str, mode: u32) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("write file");
        set_mode(&path, mode);
        path
    }
}

#[cfg(unix)]
pub(crate) fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(not(unix))]
pub fn set_mode(_path: &Path, _mode: u32) {}

/// The result of one run.
pub(crate) struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Parses stdout as JSON (the run must have succeeded).
    pub(crate) fn json(&self) -> serde_json::Value {
        assert_eq!(self.code, Some(0), "run failed: {}", self.stderr);
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }
}

/// Runs the binary with `args` and `stdin`.
pub(crate) fn run_raw(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut input = child.stdin.take().expect("stdin");
    // The binary may exit before reading all input on a usage error.
    let _ = input.write_all(stdin);
    drop(input);
    let out: Output = child.wait_with_output().expect("binary finishes");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// A request as the kubelet encodes it.
pub(crate) fn request(api_version: &str, image: &str) -> Vec<u8> {
    format!(
        "{{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"{api_version}\",\"image\":\"{image}\"}}\n"
    )
    .into_bytes()
}

/// Runs the provider on `config` for `image` (v1) with extra `flags` before the path.
pub(crate) fn serve(config: &Path, image: &str, flags: &[&str]) -> Run {
    let path = config.to_str().expect("utf-8 path");
    let mut args: Vec<&str> = flags.to_vec();
    args.push(path);
    run_raw(&args, &request(V1, image))
}

/// base64 of `user:pass` (standard alphabet, padded), as `docker login` writes `auth`.
pub(crate) fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A config.json with one `auth` entry per `(key, user, pass)`.
pub(crate) fn config_json(entries: &[(&str, &str, &str)]) -> String {
    let auths: serde_json::Map<String, serde_json::Value> = entries
        .iter()
        .map(|(k, u, p)| {
            (
                k.to_string(),
                serde_json::json!({ "auth": b64(&format!("{u}:{p}")) }),
            )
        })
        .collect();
    serde_json::json!({ "auths": auths }).to_string()
}

/// `auth` of a response as `key → (username, password)`.
pub(crate) fn auth_of(v: &serde_json::Value) -> Vec<(String, String, String)> {
    v.get("auth")
        .and_then(|a| a.as_object())
        .map(|a| {
            a.iter()
                .map(|(k, c)| {
                    (
                        k.clone(),
                        c["username"].as_str().unwrap_or_default().to_owned(),
                        c["password"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
