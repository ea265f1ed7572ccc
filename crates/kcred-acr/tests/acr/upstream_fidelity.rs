//! Issue 11 item 5: the bytes upstream's `acr-credential-provider` (cloud-provider-azure
//! 7b31c76) prints where kcred used to differ. stdout is compared byte for byte; stderr byte
//! for byte after the klog header (`E1202 08:00:00.000000   123 <file>] `, time, pid and
//! file vary) is replaced by `<klog>] `.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use kcred_acr::USAGE;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_acr-credential-provider"))
        .args(args)
        .env_clear()
        .env("KCRED_ACR_IMDS_ENDPOINT", "http://127.0.0.1:9")
        .env("KCRED_ACR_AUTHORITY_HOST", "https://127.0.0.1:9")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: mask_klog_headers(&String::from_utf8(out.stderr).unwrap()),
    }
}

/// `E1202 08:00:00.000000   123 acr-credential-provider] msg` → `<klog>] msg`.
fn mask_klog_headers(stderr: &str) -> String {
    stderr
        .split_inclusive('\n')
        .map(|line| {
            let b = line.as_bytes();
            let is_klog = b.len() > 5
                && b"IWEF".contains(&b[0])
                && b[1..5].iter().all(u8::is_ascii_digit)
                && b[5] == b' ';
            match line.find("] ") {
                Some(i) if is_klog => format!("<klog>{}", &line[i..]),
                _ => line.to_owned(),
            }
        })
        .collect()
}

fn write_config(dir: &Path, content: &str) -> String {
    let p = dir.join("azure.json");
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

fn request(image: &str) -> String {
    format!(
        r#"{{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"{image}"}}"#
    )
}

/// Upstream's service-principal answer: the anonymous key and the four wildcards.
fn upstream_sp_response(user: &str, password: &str) -> String {
    let entry = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
    format!(
        concat!(
            r#"{{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","#,
            r#""cacheKeyType":"Registry","cacheDuration":"1h0m0s","auth":{{"*.azurecr.*":{{"username":"","password":""}},"#,
            r#""*.azurecr.cn":{e},"*.azurecr.de":{e},"*.azurecr.io":{e},"*.azurecr.us":{e}}}}}"#,
            "\n"
        ),
        e = entry
    )
}

#[test]
fn keys_differing_only_in_case_bytewise_last_in_sorted_order_wins() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        r#"{"aadClientId":"exact-first","AADClientID":"UPPER-LATER","aadClientSecret":"s"}"#,
    );
    let r = run(
        &[&cfg, "--compat-upstream-auth-keys"],
        &request("myacr.azurecr.io/x"),
    );
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(r.stdout, upstream_sp_response("exact-first", "s"));
}

#[test]
fn geo_replica_with_compat_keys_gets_exactly_upstreams_keys() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        r#"{"aadClientId":"foo","aadClientSecret":"bar"}"#,
    );
    let r = run(
        &[&cfg, "--compat-upstream-auth-keys"],
        &request("myacr.westus.geo.azurecr.io/nginx:v1"),
    );
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(r.stdout, upstream_sp_response("foo", "bar"));
    // Without the flag, kcred's deliberate difference: only the requested registry.
    let r = run(&[&cfg], &request("myacr.westus.geo.azurecr.io/nginx:v1"));
    assert_eq!(
        r.stdout,
        concat!(
            r#"{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","#,
            r#""cacheKeyType":"Registry","cacheDuration":"1h0m0s","auth":{"*.azurecr.*":{"username":"","password":""},"#,
            r#""myacr.westus.geo.azurecr.io":{"username":"foo","password":"bar"}}}"#,
            "\n"
        )
    );
}

/// A `RunE` failure: upstream's klog line from its "main" logger, then cobra's report
/// (`Error: …`, then `Println(UsageString())`: the usage and a blank line).
fn run_e_failure(message: &str) -> String {
    let quoted = serde_json::to_string(message).unwrap();
    format!(
        "<klog>] \"Error running acr credential provider\" err={quoted} logger=\"main\"\nError: {message}\n{USAGE}\n"
    )
}

#[test]
fn truncated_config_gives_go_yamls_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), r#"{"aadClientId":"foo","#);
    let r = run(&[&cfg], &request("myacr.azurecr.io/x"));
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        run_e_failure(
            "failed to load config: error converting YAML to JSON: yaml: line 1: did not find expected node content"
        )
    );
}

#[test]
fn wrong_kind_names_the_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        r#"{"aadClientId":"foo","aadClientSecret":"bar"}"#,
    );
    let r = run(
        &[&cfg],
        r#"{"kind":"Foo","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"foo.azurecr.io/x"}"#,
    );
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert_eq!(
        r.stderr,
        run_e_failure(
            "no kind \"Foo\" is registered for version \"credentialprovider.kubelet.k8s.io/v1\" in scheme \"pkg/runtime/scheme.go:100\""
        )
    );
}

#[test]
fn command_line_errors_are_cobras_alone() {
    // cobra's `Args` check and flag parsing fail before `RunE`: no klog line.
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "{}");
    for (args, message) in [
        (vec![], "config file is not specified".to_owned()),
        (
            vec!["a", "b"],
            "expected exactly one argument (config file); Got arguments: [a b]".to_owned(),
        ),
        (
            vec![cfg.as_str(), "--bogus"],
            "unknown flag: --bogus".to_owned(),
        ),
    ] {
        let r = run(&args, "{}");
        assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{args:?}");
        assert_eq!(r.stderr, format!("Error: {message}\n{USAGE}\n"), "{args:?}");
    }
}
