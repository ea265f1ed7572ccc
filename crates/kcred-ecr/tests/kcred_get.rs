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

use kcred_testutil::kubelet::{
    assert_no_auths, auth_json, only_auth_entry, Node, Provider, ProxiedInspect,
};
use kcred_testutil::moto::MotoServer;
use kcred_testutil::registry::{Registry, RegistryTools};

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
    get.assert_exit(0);
    let (key, user, password) = only_auth_entry(&get.stdout);
    assert_eq!(key, ECR_HOST, "keyed by the image's registry");
    assert_eq!((user.as_str(), password.as_str()), ("AWS", MOTO_TOKEN));
    let authfile = node.write("auth.json", &get.stdout);

    // skopeo sees the ECR host; the proxy sends its plain-HTTP traffic to the registry.
    let skopeo = ProxiedInspect::plain_http(&tools, &node, ECR_HOST, &registry, image());
    let inspected = skopeo.assert_pulls(&authfile, &registry);
    assert_eq!(inspected["Digest"].as_str(), Some(digest.as_str()));
    assert_eq!(
        inspected["Name"].as_str(),
        Some(format!("{ECR_HOST}/team/app").as_str())
    );
    skopeo
        .proxy
        .assert_reached(ECR_HOST, |c| c.authority == format!("{ECR_HOST}:80"));

    skopeo.assert_refused(None, "anonymous inspect must fail");

    // The same file with another account's token in place of this registry's.
    let wrong = node.write("wrong.json", &auth_json(&key, &user, OTHER_ACCOUNT_TOKEN));
    skopeo.assert_refused(Some(&wrong), "a wrong token must fail");
}

#[test]
fn table_shows_the_match_cache_key_and_duration_but_no_token() {
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let node = node(ecr_provider(&moto.endpoint(), &[]));
    let run = node.kcred_get(&image(), &[], &NODE_ENV);
    run.assert_exit(0);
    run.assert_stdout_contains(&[
        format!("provider \"{PROVIDER}\": matched via \"*.dkr.ecr.*.amazonaws.com\""),
        "  cacheKeyType:    Registry".to_owned(),
        // moto's token expired in 2015: kcred's plugin says so instead of upstream's 12 h.
        "  cacheDuration:   0s".to_owned(),
        format!("    \"{ECR_HOST}\"  username \"AWS\"  password <redacted>"),
        format!(
            "  1. username \"AWS\", password <redacted>, from provider \"{PROVIDER}\" (auth key \"{ECR_HOST}\")"
        ),
    ]);
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
    run.assert_exit(1);
    run.assert_plugin_failed(
        PROVIDER,
        "*.dkr.ecr.*.amazonaws.com",
        &format!("{ECR_HOST}/team/app"),
    );
    // The plugin's own stderr follows: which API, region and endpoint failed.
    for part in ["ecr:GetAuthorizationToken in us-west-2", endpoint.as_str()] {
        assert!(run.stderr.contains(part), "{part:?} in:\n{}", run.stderr);
    }

    // auth-json still writes a valid, empty file to stdout.
    let file = node.kcred_get(&image(), &["--output", "auth-json"], &NODE_ENV);
    file.assert_exit(1);
    assert_no_auths(&file.stdout);
}
