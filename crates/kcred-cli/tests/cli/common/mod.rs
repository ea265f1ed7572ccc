//! Helpers shared by the binary tests: run `kcred`, write configs.

#![allow(dead_code)]
#![allow(clippy::disallowed_macros)] // test output; the CLI itself prints through src/output.rs

use std::path::{Path, PathBuf};
use std::process::Command;

/// The result of one `kcred` run.
#[derive(Debug)]
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the built `kcred` binary with `args`.
pub(crate) fn kcred<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_kcred"))
        .args(args)
        .output()
        .expect("run kcred");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// A v1 provider entry in YAML, with extra lines appended verbatim (indented 4 spaces).
pub(crate) fn provider_yaml(name: &str, patterns: &[&str], extra: &str) -> String {
    let images: Vec<String> = patterns.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        "  - name: {name}\n    matchImages: [{}]\n    defaultCacheDuration: 10m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n{extra}",
        images.join(", ")
    )
}

/// A v1 `CredentialProviderConfig` document holding `providers` (from [`provider_yaml`]).
pub(crate) fn config_yaml(providers: &[String]) -> String {
    format!(
        "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n{}",
        providers.concat()
    )
}

/// Writes `content` to `dir/name` and returns the path.
pub(crate) fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write");
    p
}

/// The reason kcred-match gives for `pattern` against an already-normalised image: the
/// text the CLI must print verbatim.
pub(crate) fn reason(pattern: &str, normalised: &str) -> String {
    // Before CVE-2025-47912 (kubelet 1.34.1) so that glob classes parse; the match rules are
    // the same under every Go URL variant.
    let legacy = kcred_match::GoUrlParsing::BeforeCve2025_47912;
    let pattern = kcred_match::MatchImage::parse_as(pattern, legacy).expect("valid pattern");
    let target = kcred_match::MatchTarget::parse_as(normalised, legacy).expect("valid image");
    pattern.check(&target).to_string()
}

/// Runs `kcred` with `args` as the node tests do (`KCRED_KUBELET_VERSION` from the
/// environment removed), echoing the command, exit code and output to stderr for failures.
pub(crate) fn kcred_on_node(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kcred"))
        .args(args)
        .env_remove("KCRED_KUBELET_VERSION")
        .output()
        .expect("run kcred");
    eprintln!(
        "$ kcred {}\n-> {:?}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes `content` at the node path `node_path` of the fake node root `root`.
pub(crate) fn write_node_file(root: &Path, node_path: &str, content: impl AsRef<[u8]>) {
    let p = root.join(node_path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
}
