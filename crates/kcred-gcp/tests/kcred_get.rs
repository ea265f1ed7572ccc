//! Issue 6 end to end through the kubelet host: the `CredentialProviderConfig` GKE installs,
//! `kcred get` running `auth-provider-gcp` as the kubelet would against a GCE metadata stub,
//! and `skopeo inspect --authfile` against a Debian `docker-registry` whose htpasswd holds
//! exactly the issued token.
//!
//! The image is a real Artifact Registry name (`us-docker.pkg.dev/proj/repo/app:v1`), so the
//! provider matches through `*.pkg.dev` and `--output auth-json` keys the file by
//! `us-docker.pkg.dev`. The plugin only talks to the metadata server (`KCRED_GCP_METADATA_URL`
//! in the config's `env`). `skopeo` reaches the loopback registry under the Artifact Registry
//! name through `HostProxy` (its `HTTP(S)_PROXY`), so the auth file is used exactly as
//! `kcred get` wrote it, with no re-keying. The registry speaks plain HTTP
//! (`--tls-verify=false`: skopeo's HTTPS attempt is refused by the proxy and it falls back).
//!
//! Skipped, saying so, when docker-registry, skopeo or htpasswd are missing and `CI` is
//! unset; under `CI` their absence fails the test.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use kcred_testutil::kubelet::{
    assert_no_auths, auth_json, only_auth_entry, Node, Provider, ProxiedInspect,
};
use kcred_testutil::registry::{Registry, RegistryTools};
use support::{metadata_server, node_sa_metadata, StubServer};

const PROVIDER: &str = "auth-provider-gcp";
const AR_HOST: &str = "us-docker.pkg.dev";
const REPO_TAG: &str = "proj/repo/app:v1";

fn image() -> String {
    format!("{AR_HOST}/{REPO_TAG}")
}

/// A metadata token unique to this run, short enough for bcrypt (72 bytes).
fn fresh_token(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("ya29.kcred-get-{tag}-{}-{nanos}", std::process::id())
}

/// The node: the provider GKE installs (`docs/gcp.md`), its metadata server at `metadata`.
fn node(metadata: &StubServer) -> Node {
    let provider = Provider::new(PROVIDER)
        .match_images(&[
            "container.cloud.google.com",
            "gcr.io",
            "*.gcr.io",
            "*.pkg.dev",
        ])
        .default_cache_duration("1m")
        .args(&["get-credentials", "--v=3"])
        .env(
            "KCRED_GCP_METADATA_URL",
            &format!("{}/computeMetadata/v1/", metadata.base()),
        );
    let plugin = env!("CARGO_BIN_EXE_auth-provider-gcp");
    Node::new(&[provider], &[(PROVIDER, Path::new(plugin))])
}

/// The kubelet's environment: nothing the plugin needs (GKE's plugin reads no variables
/// there); the test knob comes from the config's `env`.
const NODE_ENV: [(&str, &str); 0] = [];

#[test]
fn auth_json_from_kcred_get_pulls_from_a_registry_holding_the_issued_token() {
    let Some(tools) = RegistryTools::find_or_skip(
        "auth_json_from_kcred_get_pulls_from_a_registry_holding_the_issued_token",
    ) else {
        return;
    };
    let token = fresh_token("pull");
    let metadata = node_sa_metadata(&token, 3600);
    let registry = Registry::start(&tools, &[("_token", &token)]).expect("registry starts");
    let digest = registry
        .push_test_image(REPO_TAG, "_token", &token)
        .expect("push the test image");

    let node = node(&metadata);
    let get = node.kcred_get(&image(), &["--output", "auth-json"], &NODE_ENV);
    get.assert_exit(0);
    let (key, user, password) = only_auth_entry(&get.stdout);
    assert_eq!(key, AR_HOST, "keyed by the image's registry");
    assert_eq!(user, "_token");
    assert_eq!(password, token);
    assert!(
        metadata
            .requests()
            .iter()
            .any(|r| r.path() == "/computeMetadata/v1/instance/service-accounts/default/token"),
        "the plugin asked the metadata server"
    );
    let authfile = node.write("auth.json", &get.stdout);

    let skopeo = ProxiedInspect::plain_http(&tools, &node, AR_HOST, &registry, image());
    let inspected = skopeo.assert_pulls(&authfile, &registry);
    assert_eq!(inspected["Digest"].as_str(), Some(digest.as_str()));
    assert_eq!(
        inspected["Name"].as_str(),
        Some(format!("{AR_HOST}/proj/repo/app").as_str())
    );
    skopeo
        .proxy
        .assert_reached(AR_HOST, |c| c.authority == format!("{AR_HOST}:80"));

    skopeo.assert_refused(None, "anonymous inspect must fail");

    // The same file with another (well-formed) access token in place of the issued one.
    let wrong = node.write(
        "wrong.json",
        &auth_json(&key, &user, &fresh_token("not-issued")),
    );
    skopeo.assert_refused(Some(&wrong), "a token the registry does not hold must fail");
}

#[test]
fn table_shows_the_match_cache_key_and_duration_but_no_token() {
    let token = fresh_token("table");
    let metadata = node_sa_metadata(&token, 3600);
    let node = node(&metadata);
    let run = node.kcred_get(&image(), &[], &NODE_ENV);
    run.assert_exit(0);
    run.assert_stdout_contains(&[
        format!("provider \"{PROVIDER}\": matched via \"*.pkg.dev\""),
        // KUBE_SIDECAR_CACHE_TYPE unset: upstream's default, per image.
        "  cacheKeyType:    Image".to_owned(),
        // The token's expires_in (3600 s) minus 60 s.
        "  cacheDuration:   59m0s".to_owned(),
        format!("    \"{AR_HOST}\"  username \"_token\"  password <redacted>"),
        format!(
            "username \"_token\", password <redacted>, from provider \"{PROVIDER}\" (auth key \"{AR_HOST}\")"
        ),
    ]);
    assert!(!run.all().contains(&token), "the token is never shown");
}

#[test]
fn failing_metadata_server_fails_kcred_get_with_the_plugin_error() {
    // A metadata server without a default service account: every path is 404.
    let metadata = metadata_server(BTreeMap::new());
    let node = node(&metadata);
    let run = node.kcred_get(&image(), &[], &NODE_ENV);
    run.assert_exit(1);
    run.assert_plugin_failed(PROVIDER, "*.pkg.dev", &format!("{AR_HOST}/proj/repo/app"));
    // The plugin's own stderr follows, with upstream's message.
    let url = format!(
        "{}/computeMetadata/v1/instance/service-accounts/default/token",
        metadata.base()
    );
    let part = format!("http status code: 404 while fetching url {url}");
    assert!(run.stderr.contains(&part), "{part:?} in:\n{}", run.stderr);

    let file = node.kcred_get(&image(), &["--output", "auth-json"], &NODE_ENV);
    file.assert_exit(1);
    assert_no_auths(&file.stdout);
}
