//! The provider wrapping a real helper: Debian's `docker-credential-pass`
//! (golang-docker-credential-helpers) over `pass` with a throwaway gpg key. Credentials stored
//! with `docker-credential-pass store` come back through the provider run directly, through
//! a kcred `Host` (the kubelet's path), through `kcred get`, and through
//! `docker-credential-kcred` (a docker client's path).
//!
//! Needs `pass`, `gpg`, `gpgconf` and `docker-credential-pass` on PATH: skipped with a
//! message when missing, failed under `CI`.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use kcred_host::{Host, HostOptions, PodContext};
use kcred_testutil::pass::{pass_tools_present, run_with_stdin, PassStore};
use serde_json::{json, Value};

const PROVIDER: &str = env!("CARGO_BIN_EXE_docker-credential-provider");
const REGISTRY: &str = "registry.kcred.test:5000";
const PASSWORD: &str = "s3cret-from-pass";
const HUB_PASSWORD: &str = "hub-token-from-pass";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A kubelet CredentialProviderConfig running the provider with `--helper pass`, the gpg and
/// store locations passed through the provider's `env`, and a bin dir holding the provider.
fn kubelet_setup(store: &PassStore, dir: &Path) -> (PathBuf, PathBuf) {
    let bin_dir = dir.join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    symlink(PROVIDER, bin_dir.join("docker-credential-provider")).unwrap();
    let config = json!({
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [{
            "name": "docker-credential-provider",
            "matchImages": [REGISTRY, "docker.io"],
            "defaultCacheDuration": "1m",
            "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            "args": ["--helper", "pass", "--cache-duration", "10m"],
            "env": [
                {"name": "GNUPGHOME", "value": store.gnupghome().display().to_string()},
                {"name": "PASSWORD_STORE_DIR", "value": store.store_dir().display().to_string()},
            ],
        }],
    });
    let config_path = dir.join("credential-provider-config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    (config_path, bin_dir)
}

fn provider_response(store: &PassStore, image: &str) -> Value {
    let request = json!({
        "kind": "CredentialProviderRequest",
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "image": image,
    });
    let out = run_with_stdin(
        store.command(PROVIDER).args(["--helper", "pass"]),
        &request.to_string(),
    );
    assert!(out.status.success(), "provider: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains(PASSWORD) && !stderr.contains(HUB_PASSWORD));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn credentials_stored_in_pass_come_back_through_every_path() {
    if !pass_tools_present("credentials_stored_in_pass_come_back_through_every_path") {
        return;
    }
    let store = PassStore::create();
    store.store(REGISTRY, "alice", PASSWORD);
    store.store("https://index.docker.io/v1/", "hubuser", HUB_PASSWORD);

    // 1. The provider, run as the kubelet runs it.
    let v = provider_response(&store, &format!("{REGISTRY}/team/app"));
    assert_eq!(v["cacheKeyType"], "Registry");
    assert_eq!(v["cacheDuration"], "5m0s");
    assert_eq!(v["auth"][REGISTRY]["username"], "alice");
    assert_eq!(v["auth"][REGISTRY]["password"], PASSWORD);
    let v = provider_response(&store, "docker.io/library/nginx");
    assert_eq!(v["auth"]["docker.io"]["username"], "hubuser");
    assert_eq!(v["auth"]["docker.io"]["password"], HUB_PASSWORD);
    // pass has nothing: an empty answer (this version prints empty credentials, newer ones
    // "credentials not found"; both mean none).
    let v = provider_response(&store, "other.kcred.test/app");
    assert!(
        v.get("auth")
            .is_none_or(|a| a.as_object().is_some_and(|m| m.is_empty())),
        "{v}"
    );

    // 2. Through a kcred Host: the kubelet's registration, exec (with the config's env) and
    //    keyring lookup.
    let work = tempfile::tempdir().unwrap();
    let (config, bin_dir) = kubelet_setup(&store, work.path());
    let host = Host::load(&config, &bin_dir, HostOptions::default()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = runtime
        .block_on(host.credentials(&format!("{REGISTRY}/team/app:v1"), &PodContext::default()))
        .unwrap();
    assert!(
        report.outcomes.iter().all(|o| o.error().is_none()),
        "{:?}",
        report.outcomes
    );
    assert_eq!(report.credentials.len(), 1);
    assert_eq!(report.credentials[0].username, "alice");
    assert_eq!(report.credentials[0].password.expose(), PASSWORD);
    let report = runtime
        .block_on(host.credentials("nginx:latest", &PodContext::default()))
        .unwrap();
    assert_eq!(report.credentials[0].username, "hubuser");

    // 3. `kcred get`, the CLI over the same host.
    let kcred = kcred_testutil::bin("kcred-cli", "kcred");
    let out = Command::new(kcred)
        .arg("get")
        .arg(format!("{REGISTRY}/team/app:v1"))
        .arg("--config")
        .arg(&config)
        .arg("--bin-dir")
        .arg(&bin_dir)
        .args(["-o", "dockerconfigjson"])
        .output()
        .unwrap();
    assert!(out.status.success(), "kcred get: {}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["auths"][REGISTRY]["username"], "alice");
    assert_eq!(doc["auths"][REGISTRY]["password"], PASSWORD);
    assert!(!text(&out.stderr).contains(PASSWORD));

    // 4. A docker client's path: docker-credential-kcred → host → provider → pass.
    let helper = kcred_testutil::bin("kcred-docker-helper", "docker-credential-kcred");
    for (server_url, user, password) in [
        (REGISTRY, "alice", PASSWORD),
        ("https://index.docker.io/v1/", "hubuser", HUB_PASSWORD),
    ] {
        let out = run_with_stdin(
            Command::new(&helper)
                .arg("get")
                .env("KCRED_CONFIG", &config)
                .env("KCRED_BIN_DIR", &bin_dir),
            server_url,
        );
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["ServerURL"], server_url);
        assert_eq!(answer["Username"], user);
        assert_eq!(answer["Secret"], password);
    }
}
