//! End to end: metadata stub → `auth-provider-gcp` → username/password → a real
//! `docker-registry` whose htpasswd holds exactly the issued token → `skopeo` pushes and
//! inspects an image with those credentials, and is refused with a wrong token or none.
//!
//! (The `kcred get --output auth-json` leg of issue 6 belongs to the CLI's tests; this one
//! runs the plugin binary directly.) Skipped, saying so, when docker-registry, skopeo or
//! htpasswd are missing and `CI` is unset; under `CI` their absence fails the test.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::*;
use kcred_testutil::registry::{free_loopback_port, Registry, RegistryTools};
use serde_json::Value;

#[test]
fn plugin_token_pulls_from_a_real_registry() {
    let Some(tools) = RegistryTools::find_or_skip("plugin_token_pulls_from_a_real_registry") else {
        return;
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    // Short enough for bcrypt (72 bytes), unique per run.
    let token = format!("ya29.e2e-{}-{nanos}", std::process::id());
    let metadata = node_sa_metadata(&token, 3600);
    let port = free_loopback_port();
    let registry_host = format!("127.0.0.1:{port}");

    // 1. The plugin, as the kubelet runs it on GKE.
    let out = run_plugin(
        &["get-credentials", "--v=3"],
        &env_refs(&stub_env(&metadata, None)),
        &request(&format!("{registry_host}/team/app")),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = &response["auth"][&registry_host];
    let user = entry["username"]
        .as_str()
        .expect("an entry for the image's registry");
    let password = entry["password"].as_str().unwrap();
    assert_eq!(user, "_token");
    assert_eq!(password, token);
    assert_eq!(response["cacheDuration"], "59m0s");

    // 2. A registry that accepts exactly that credential.
    let reg = Registry::start_on(&tools, port, &[(user, password)]).unwrap();
    assert_eq!(reg.addr(), registry_host);
    let digest = reg.push_test_image("team/app:v1", user, password).unwrap();

    // 3. The plugin's credentials work ...
    let ok = reg.inspect("team/app:v1", Some((user, password)));
    assert!(ok.success, "{}\nregistry log:\n{}", ok.stderr, reg.log());
    let inspected: Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(inspected["Digest"], digest.as_str());
    assert_eq!(inspected["Name"], format!("{registry_host}/team/app"));

    // ... a different token and no credentials do not.
    let wrong = format!("ya29.e2e-wrong-{nanos}");
    let bad = reg.inspect("team/app:v1", Some((user, &wrong)));
    assert!(!bad.success);
    assert!(bad.stderr.contains("unauthorized"), "{}", bad.stderr);
    let anon = reg.inspect("team/app:v1", None);
    assert!(!anon.success);
    assert!(anon.stderr.contains("unauthorized"), "{}", anon.stderr);
}
