//! Shared helpers for the tests that run the real `ecr-credential-provider` binary: running
//! it with a clean environment, a tiny HTTP/1.1 client, and the response JSON. Stub servers
//! are `kcred_testutil::http_stub`.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub(crate) const PLUGIN: &str = env!("CARGO_BIN_EXE_ecr-credential-provider");

/// A v1 request for `image`.
pub(crate) fn request(image: &str) -> String {
    serde_json::json!({
        "kind": "CredentialProviderRequest",
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "image": image,
    })
    .to_string()
}

/// A v1 request for `image` in service-account mode.
pub(crate) fn sa_request(image: &str, token: &str, annotations: &[(&str, &str)]) -> String {
    let annotations: BTreeMap<&str, &str> = annotations.iter().copied().collect();
    let mut v = serde_json::json!({
        "kind": "CredentialProviderRequest",
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "image": image,
        "serviceAccountToken": token,
    });
    if !annotations.is_empty() {
        v["serviceAccountAnnotations"] = serde_json::json!(annotations);
    }
    v.to_string()
}

/// Runs the plugin with `args`, `stdin`, and exactly the environment `env` (plus settings
/// that keep the host's AWS configuration out).
pub(crate) fn run_plugin(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(PLUGIN);
    cmd.args(args)
        .env_clear()
        .env("AWS_CONFIG_FILE", "/nonexistent/kcred-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/kcred-test/credentials",
        )
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the plugin starts");
    let mut child_stdin = child.stdin.take().expect("stdin");
    let input = stdin.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = child_stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("the plugin runs");
    let _ = writer.join();
    out
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a successful run and returns the response JSON.
pub(crate) fn success(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "plugin failed; stderr:\n{}",
        stderr(out)
    );
    let text = stdout(out);
    assert!(
        text.ends_with('\n'),
        "one line with a trailing newline: {text:?}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Asserts a failed run (exit 1, nothing on stdout) and returns stderr.
pub(crate) fn failure(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", stderr(out));
    assert!(
        out.stdout.is_empty(),
        "stdout must be empty: {:?}",
        stdout(out)
    );
    stderr(out)
}

/// The single `auth` entry of a response: (key, username, password).
pub(crate) fn only_auth(response: &serde_json::Value) -> (String, String, String) {
    let auth = response["auth"].as_object().expect("auth");
    assert_eq!(auth.len(), 1, "one auth entry: {response}");
    let (key, entry) = auth.iter().next().unwrap();
    (
        key.clone(),
        entry["username"].as_str().unwrap().to_owned(),
        entry["password"].as_str().unwrap().to_owned(),
    )
}

// ---------------------------------------------------------------------------------------
// HTTP/1.1 on std

/// A blocking HTTP/1.1 request to `base` (`http://host:port`); returns (status, body).
pub(crate) fn http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let host = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

/// The text of the first `<tag>…</tag>` in an XML document.
pub(crate) fn xml_text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("<{tag}> in {xml}"))
        + open.len();
    let end = xml[start..].find(&close).unwrap() + start;
    xml[start..end].to_owned()
}
