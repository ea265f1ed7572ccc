//! `docker-credential-kcred` run as docker clients run it, over real provider plugins
//! (`kcred-test-plugin`) registered through a kubelet config.

use std::process::Command;

use crate::common::*;
use serde_json::json;

fn node() -> Node {
    Node::new(&[
        ProviderSpec {
            name: "registry-creds",
            match_images: &["127.0.0.1:5000", "docker.io", "*.example.com"],
            args: &[
                "--mode",
                "ok",
                "--auth",
                "127.0.0.1:5000=robot:pw-local",
                "--auth",
                "docker.io=hubuser:pw-hub",
                "--auth",
                "*.example.com=wild:pw-wild",
            ],
        },
        ProviderSpec {
            name: "second-creds",
            match_images: &["127.0.0.1:5000"],
            args: &["--mode", "ok", "--auth", "127.0.0.1:5000=second:pw-second"],
        },
        ProviderSpec {
            name: "scoped-creds",
            match_images: &["team.example.org/only-this"],
            args: &[
                "--mode",
                "ok",
                "--auth",
                "team.example.org/only-this=scoped:pw-scoped",
            ],
        },
        ProviderSpec {
            name: "broken",
            match_images: &["broken.example.net"],
            args: &["--mode", "fail", "--stderr", "plugin exploded"],
        },
    ])
}

fn assert_no_secret_on_stderr(out: &std::process::Output) {
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("pw-"), "secret on stderr: {stderr}");
}

#[test]
fn every_server_url_form_gets_the_first_credential_the_kubelet_would_try() {
    let node = node();
    for url in [
        "127.0.0.1:5000",
        "127.0.0.1:5000/",
        "https://127.0.0.1:5000",
        "http://127.0.0.1:5000/v2/",
        "https://127.0.0.1:5000/v1/",
        "127.0.0.1:5000\n",
    ] {
        let out = node.get(url);
        let v = answer(&out);
        assert_eq!(v["ServerURL"], url.trim(), "{url:?}");
        // Two providers answer for this registry; the kubelet tries the first one first.
        assert_eq!(v["Username"], "robot", "{url:?}");
        assert_eq!(v["Secret"], "pw-local", "{url:?}");
        assert_no_secret_on_stderr(&out);
    }
}

#[test]
fn docker_hub_forms_map_to_docker_io() {
    let node = node();
    for url in [
        "https://index.docker.io/v1/",
        "index.docker.io",
        "docker.io",
    ] {
        let v = answer(&node.get(url));
        assert_eq!(v["ServerURL"], url, "{url:?}");
        assert_eq!(v["Username"], "hubuser", "{url:?}");
        assert_eq!(v["Secret"], "pw-hub", "{url:?}");
    }
}

#[test]
fn glob_patterns_match_registry_hosts() {
    let v = answer(&node().get("https://team.example.com"));
    assert_eq!(v["Username"], "wild");
}

#[test]
fn no_matching_provider_is_not_found() {
    let node = node();
    let out = node.get("other.example.net:8443");
    assert_fails_with(&out, NOT_FOUND.trim_end());
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn path_scoped_providers_need_the_path() {
    let node = node();
    let out = node.get("team.example.org");
    assert_fails_with(&out, NOT_FOUND.trim_end());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "matchImages entry \"team.example.org/only-this\" is limited to a repository path"
        ),
        "{stderr}"
    );
    let v = answer(&node.get("team.example.org/only-this/app"));
    assert_eq!(v["Username"], "scoped");
    assert_eq!(v["Secret"], "pw-scoped");
}

#[test]
fn failing_providers_are_reported_on_stderr_and_give_no_credentials() {
    let out = node().get("broken.example.net");
    assert_fails_with(&out, NOT_FOUND.trim_end());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "docker-credential-kcred: provider \"broken\" failed (the kubelet would log this and go on): "
        ),
        "{stderr}"
    );
}

#[test]
fn bad_server_urls_are_clear_errors() {
    let node = node();
    let cases = [
        ("", "no credentials server URL: send the registry (for example registry.example.com:5000) on stdin"),
        ("ftp://127.0.0.1:5000", "server URL \"ftp://127.0.0.1:5000\": unsupported scheme \"ftp\" (only http and https name a registry)"),
        ("https://", "server URL \"https://\" has no registry host"),
        ("https://user:pw-x@127.0.0.1:5000", "server URL \"https://user:pw-x@127.0.0.1:5000\" contains user information (\"@\"), which a registry server URL cannot hold"),
        ("myregistry", "server URL \"myregistry\": the kubelet reads \"myregistry\" as part of a Docker Hub repository name, not as a registry host (a registry host has a \".\" or a \":port\", or is localhost)"),
    ];
    for (url, message) in cases {
        let out = node.get(url);
        assert_fails_with(&out, message);
        assert_eq!(text(&out.stderr), "", "{url:?}");
    }
}

#[test]
fn store_and_erase_are_refused_read_only() {
    let node = node();
    let creds = json!({"ServerURL": "127.0.0.1:5000", "Username": "u", "Secret": "dont-echo-me"});
    let out = node.run(&["store"], &creds.to_string());
    assert_fails_with(
        &out,
        &format!(
            "store is not supported: docker-credential-kcred is read-only; its credentials come from the kubelet credential providers configured in {}",
            node.config.display()
        ),
    );
    assert!(!text(&out.stderr).contains("dont-echo-me"));
    let out = node.run(&["erase"], "127.0.0.1:5000");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout)
        .starts_with("erase is not supported: docker-credential-kcred is read-only"));
}

#[test]
fn list_names_the_literal_registries_with_credentials() {
    let out = node().run(&["list"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        json!({
            "127.0.0.1:5000": "robot",
            "https://index.docker.io/v1/": "hubuser",
            "team.example.org/only-this": "scoped",
        })
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("provider \"broken\" failed"), "{stderr}");
    assert!(
        stderr.contains(
            "matchImages entry \"*.example.com\" is a pattern, not one registry: not listed"
        ),
        "{stderr}"
    );
    assert_no_secret_on_stderr(&out);
}

#[test]
fn flags_beat_the_environment_and_directories_work() {
    let node = node();
    // The environment points nowhere; the flags win.
    let mut cmd = Command::new(HELPER);
    cmd.arg("get")
        .arg("--config")
        .arg(&node.config)
        .arg(format!("--bin-dir={}", node.bin_dir.display()))
        .env("KCRED_CONFIG", "/nonexistent/config.yaml")
        .env("KCRED_BIN_DIR", "/nonexistent")
        .env("XDG_CACHE_HOME", node.cache_home());
    assert_eq!(answer(&run(cmd, "127.0.0.1:5000"))["Username"], "robot");

    // A config directory, as the kubelet accepts.
    let conf_dir = node.dir.path().join("conf.d");
    std::fs::create_dir(&conf_dir).unwrap();
    std::fs::copy(&node.config, conf_dir.join("10-registry.json")).unwrap();
    let mut cmd = Command::new(HELPER);
    cmd.args(["--config", conf_dir.to_str().unwrap(), "get"])
        .env("KCRED_BIN_DIR", &node.bin_dir)
        .env("XDG_CACHE_HOME", node.cache_home());
    assert_eq!(answer(&run(cmd, "docker.io"))["Username"], "hubuser");
}

#[test]
fn unusable_configs_fail_with_the_kubelets_reason() {
    let node = node();
    let mut cmd = Command::new(HELPER);
    cmd.arg("get")
        .env("KCRED_CONFIG", "/nonexistent/config.yaml")
        .env("KCRED_BIN_DIR", &node.bin_dir);
    let out = run(cmd, "127.0.0.1:5000");
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "kubelet credential provider config /nonexistent/config.yaml (plugins in {}): ",
            node.bin_dir.display()
        )),
        "{stdout}"
    );
    assert_ne!(stdout, NOT_FOUND);

    let mut cmd = Command::new(HELPER);
    cmd.arg("get")
        .env("KCRED_CONFIG", &node.config)
        .env("KCRED_BIN_DIR", "/nonexistent/bin");
    let out = run(cmd, "127.0.0.1:5000");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("plugin binary directory /nonexistent/bin did not exist"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn version_help_and_usage_errors() {
    let out = Command::new(HELPER).arg("version").output().unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("docker-credential-kcred (kcred) "));
    let out = Command::new(HELPER).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("KCRED_CONFIG"));
    let out = Command::new(HELPER).arg("fetch").output().unwrap();
    assert_fails_with(
        &out,
        "unknown credential action \"fetch\" (want get, list, store, erase or version) (see --help)",
    );
}
