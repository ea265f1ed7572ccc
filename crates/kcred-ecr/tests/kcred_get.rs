//! Issue 4 end to end through the kubelet host: a real `CredentialProviderConfig` and bin dir,
//! `kcred get` running `ecr-credential-provider` as the kubelet would, moto answering
//! `ecr:GetAuthorizationToken`, and `skopeo inspect --authfile` against a Debian
//! `docker-registry` whose htpasswd holds the token moto issues.
//!
//! The image is a real private ECR name (`123456789012.dkr.ecr.us-west-2.amazonaws.com/...`),
//! so the provider matches through the `matchImages` EKS installs, the plugin derives the
//! region from the host and asks moto (`AWS_ENDPOINT_URL_ECR`, set in the config's `env`, as
//! an operator would for a VPC endpoint), and `--output auth-json` keys the file by that host.
//! The plugin never dials the registry host itself. `skopeo` reaches the loopback registry
//! under that same name through `HostProxy` (its `HTTP(S)_PROXY`): the auth file is used
//! exactly as `kcred get` wrote it, with no re-keying. The registry speaks plain HTTP
//! (`--tls-verify=false`: skopeo's HTTPS attempt is refused by the proxy and it falls back).
//!
//! moto comes from `$KCRED_MOTO_SERVER`, `target/test-venv` or `PATH`; moto, `docker-registry`,
//! `skopeo` and `htpasswd` are required under `CI` and their absence skips a test (loudly)
//! otherwise.

use std::net::TcpListener;
use std::path::Path;

use base64::Engine as _;
use kcred_testutil::kubelet::{skopeo_inspect, HostProxy, KcredRun, Node, Provider};
use kcred_testutil::moto::MotoServer;
use kcred_testutil::registry::{Registry, RegistryTools};
use serde_json::Value;

const PROVIDER: &str = "ecr-credential-provider";
const ECR_HOST: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
const REPO_TAG: &str = "team/app:v1";
/// What moto's GetAuthorizationToken answers for account 123456789012: `AWS:<this>`.
const MOTO_TOKEN: &str = "123456789012-auth-token";
/// moto's token for another account: a real token, but not this registry's.
const OTHER_ACCOUNT_TOKEN: &str = "210987654321-auth-token";

/// The provider entry EKS installs (`docs/ecr.md`), with `env` pointing the AWS APIs at
/// `endpoint` and turning instance metadata off.
fn ecr_provider(endpoint: &str, extra_env: &[(&str, &str)]) -> Provider {
    let mut p = Provider::new(PROVIDER)
        .match_images(&[
            "*.dkr.ecr.*.amazonaws.com",
            "*.dkr.ecr-fips.*.amazonaws.com",
            "*.dkr-ecr.*.on.aws",
            "*.dkr.ecr.*.amazonaws.com.cn",
            "public.ecr.aws",
        ])
        .default_cache_duration("12h")
        .args(&["get-credentials"])
        .env("AWS_ENDPOINT_URL_ECR", endpoint)
        .env("AWS_ENDPOINT_URL_STS", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in extra_env {
        p = p.env(k, v);
    }
    p
}

/// A node whose kubelet runs the real plugin for `provider`.
fn node(provider: Provider) -> Node {
    let plugin = env!("CARGO_BIN_EXE_ecr-credential-provider");
    Node::new(&[provider], &[(PROVIDER, Path::new(plugin))])
}

/// The kubelet's own environment on the node: static keys (as an instance profile would
/// provide), and no shared AWS config from the machine running the test.
const NODE_ENV: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_CONFIG_FILE", "/nonexistent/kcred-test/config"),
    (
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/kcred-test/credentials",
    ),
];

fn image() -> String {
    format!("{ECR_HOST}/{REPO_TAG}")
}

/// The only entry of an `auth.json`: (key, username, password).
fn only_auth_entry(auth_json: &str) -> (String, String, String) {
    let doc: Value = serde_json::from_str(auth_json).expect("auth.json is JSON");
    let auths = doc["auths"].as_object().expect("auths");
    assert_eq!(auths.len(), 1, "one credential: {auth_json}");
    let (key, entry) = auths.iter().next().expect("one entry");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(entry["auth"].as_str().expect("auth"))
        .expect("base64");
    let raw = String::from_utf8(raw).expect("utf-8");
    let (user, password) = raw.split_once(':').expect("user:password");
    (key.clone(), user.to_owned(), password.to_owned())
}

/// `auth.json` holding `user:password` under `key`.
fn auth_json(key: &str, user: &str, password: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    serde_json::json!({"auths": {key: {"auth": auth}}}).to_string()
}

fn assert_exit(run: &KcredRun, code: i32) {
    assert_eq!(
        run.code,
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn auth_json_from_kcred_get_pulls_from_a_registry_holding_the_moto_token() {
    let Some(tools) = RegistryTools::find_or_skip(
        "auth_json_from_kcred_get_pulls_from_a_registry_holding_the_moto_token",
    ) else {
        return;
    };
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let registry = Registry::start(&tools, &[("AWS", MOTO_TOKEN)]).expect("registry starts");
    let digest = registry
        .push_test_image(REPO_TAG, "AWS", MOTO_TOKEN)
        .expect("push the test image");

    let node = node(ecr_provider(&moto.endpoint(), &[]));
    let get = node.kcred_get(&image(), &["--output", "auth-json"], &NODE_ENV);
    assert_exit(&get, 0);
    let (key, user, password) = only_auth_entry(&get.stdout);
    assert_eq!(key, ECR_HOST, "keyed by the image's registry");
    assert_eq!((user.as_str(), password.as_str()), ("AWS", MOTO_TOKEN));
    let authfile = node.write("auth.json", &get.stdout);

    // skopeo sees the ECR host; the proxy sends its plain-HTTP traffic to the registry.
    let proxy = HostProxy::start(&[(&format!("{ECR_HOST}:80"), &registry.addr())]);
    let home = node.path("home");
    let inspect = |file: Option<&Path>| {
        skopeo_inspect(
            &tools,
            &home,
            &proxy,
            &["--tls-verify=false"],
            &image(),
            file,
        )
    };
    let ok = inspect(Some(&authfile));
    assert!(
        ok.success,
        "skopeo with kcred's auth file: {}\nregistry log:\n{}",
        ok.stderr,
        registry.log()
    );
    let inspected: Value = serde_json::from_str(&ok.stdout).expect("inspect JSON");
    assert_eq!(inspected["Digest"], digest.as_str());
    assert_eq!(inspected["Name"], format!("{ECR_HOST}/team/app"));
    assert!(
        proxy
            .connections()
            .iter()
            .any(|c| c.routed && c.authority == format!("{ECR_HOST}:80")),
        "skopeo reached the registry as {ECR_HOST}: {:?}",
        proxy.connections()
    );

    let anonymous = inspect(None);
    assert!(!anonymous.success, "anonymous inspect must fail");
    assert!(
        anonymous.stderr.contains("unauthorized")
            || anonymous.stderr.contains("authentication required"),
        "{}",
        anonymous.stderr
    );

    // The same file with another account's token in place of this registry's.
    let wrong = node.write("wrong.json", &auth_json(&key, &user, OTHER_ACCOUNT_TOKEN));
    let refused = inspect(Some(&wrong));
    assert!(!refused.success, "a wrong token must fail");
    assert!(
        refused.stderr.contains("unauthorized")
            || refused.stderr.contains("authentication required"),
        "{}",
        refused.stderr
    );
}

#[test]
fn table_shows_the_match_cache_key_and_duration_but_no_token() {
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let node = node(ecr_provider(&moto.endpoint(), &[]));
    let run = node.kcred_get(&image(), &[], &NODE_ENV);
    assert_exit(&run, 0);
    let out = &run.stdout;
    for line in [
        format!("provider \"{PROVIDER}\": matched via \"*.dkr.ecr.*.amazonaws.com\""),
        "  cacheKeyType:    Registry".to_owned(),
        // moto's token expired in 2015: kcred's plugin says so instead of upstream's 12 h.
        "  cacheDuration:   0s".to_owned(),
        format!("    \"{ECR_HOST}\"  username \"AWS\"  password <redacted>"),
        format!(
            "  1. username \"AWS\", password <redacted>, from provider \"{PROVIDER}\" (auth key \"{ECR_HOST}\")"
        ),
    ] {
        assert!(out.contains(&line), "{line:?} in:\n{out}");
    }
    assert!(!run.all().contains(MOTO_TOKEN), "the token is never shown");
}

#[test]
fn unreachable_ecr_endpoint_fails_kcred_get_with_the_plugin_error() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let endpoint = format!("http://127.0.0.1:{closed}");
    let node = node(ecr_provider(&endpoint, &[("AWS_MAX_ATTEMPTS", "1")]));
    let run = node.kcred_get(&image(), &[], &NODE_ENV);
    assert_exit(&run, 1);
    assert!(
        run.stdout.contains(&format!(
            "provider \"{PROVIDER}\": matched via \"*.dkr.ecr.*.amazonaws.com\", FAILED"
        )),
        "{}",
        run.stdout
    );
    let want = format!(
        "error: provider \"{PROVIDER}\" failed: error execing credential provider plugin {PROVIDER} for image {ECR_HOST}/team/app: exit status 1: "
    );
    assert!(run.stderr.contains(&want), "{want:?} in:\n{}", run.stderr);
    // The plugin's own stderr follows: which API, region and endpoint failed.
    for part in ["ecr:GetAuthorizationToken in us-west-2", endpoint.as_str()] {
        assert!(run.stderr.contains(part), "{part:?} in:\n{}", run.stderr);
    }

    // auth-json still writes a valid, empty file to stdout.
    let file = node.kcred_get(&image(), &["--output", "auth-json"], &NODE_ENV);
    assert_exit(&file, 1);
    let doc: Value = serde_json::from_str(&file.stdout).expect("auth.json is JSON");
    assert_eq!(doc, serde_json::json!({"auths": {}}));
}
