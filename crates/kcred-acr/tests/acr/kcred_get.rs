//! Issue 5 end to end through the kubelet host: the `CredentialProviderConfig` AKS installs,
//! `kcred get` running `acr-credential-provider` as the kubelet would (managed identity via
//! an IMDS stub, the `/v2/` challenge from a real Debian `docker-registry` configured for
//! token auth, the refresh-token exchange at the ACR token-service stub), then
//! `skopeo inspect --authfile` against that registry: it succeeds with the credentials and
//! fails without them or with a tampered refresh token.
//!
//! The image is `mockacr.azurecr.io/hello:v1`, matched through `*.azurecr.io`. Both clients
//! reach the loopback registry under that name, each the way it allows:
//! - the plugin through its test knob `KCRED_ACR_TEST_CONNECT_TO`
//!   (`mockacr.azurecr.io=127.0.0.1:<port>`, in the config's `env`), a DNS override only:
//!   the URL, SNI and certificate check stay those of `mockacr.azurecr.io`;
//! - skopeo through `HostProxy` (its `HTTPS_PROXY`), which tunnels `CONNECT
//!   mockacr.azurecr.io:443` to the registry: TLS runs end to end and the certificate
//!   (SAN `mockacr.azurecr.io`, test CA in `--cert-dir`) is verified, and the auth file is
//!   used exactly as `kcred get` wrote it, keyed by `mockacr.azurecr.io`.
//!
//! The token realm is on `127.0.0.1`, which Go never proxies, so skopeo fetches access
//! tokens there directly. Skipped, saying so, when docker-registry or skopeo are missing and
//! `CI` is unset; under `CI` their absence fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use crate::common::{
    imds_handler, pki, start_tls, start_token_registry, AcrTokenService, TokenRegistry,
};
use kcred_testutil::http_stub::StubServer;
use kcred_testutil::kubelet::{
    assert_no_auths, auth_json, only_auth_entry, HostProxy, Node, Provider, ProxiedInspect,
};
use kcred_testutil::registry::{write_oci_layout, RegistryTools};
use serde_json::Value;

const PROVIDER: &str = "acr-credential-provider";
const ACR: &str = "mockacr.azurecr.io";
const REPO_TAG: &str = "hello:v1";
/// The user name ACR refresh tokens are used with.
const REFRESH_TOKEN_USER: &str = "00000000-0000-0000-0000-000000000000";

fn image() -> String {
    format!("{ACR}/{REPO_TAG}")
}

/// The cloud on loopback: IMDS, the ACR token service (TLS) and the token-auth registry.
struct Azure {
    dir: PathBuf,
    certs: PathBuf,
    imds: StubServer,
    token_service: StubServer,
    registry: TokenRegistry,
    _tmp: tempfile::TempDir,
}

fn azure() -> Azure {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).expect("certs dir");
    std::fs::copy(&pki().ca_crt, certs.join("ca.crt")).expect("CA");
    let imds = StubServer::start_plain(imds_handler);
    let svc = Arc::new(AcrTokenService::default());
    let port = Arc::new(OnceLock::new());
    let token_service = {
        let port = port.clone();
        start_tls(move |r| svc.handle(*port.get().unwrap_or(&0), ACR, r))
    };
    let _ = port.set(token_service.port());
    let registry = start_token_registry(&dir, token_service.port(), ACR);
    Azure {
        dir,
        certs,
        imds,
        token_service,
        registry,
        _tmp: tmp,
    }
}

/// A node whose `/etc/kubernetes/azure.json` names the user-assigned identity `identity`,
/// with the provider AKS installs (`docs/acr.md`, managed identity).
fn node(az: &Azure, identity: &str) -> Node {
    let azure_json = az.dir.join(format!("azure-{identity}.json"));
    std::fs::write(
        &azure_json,
        serde_json::json!({
            "cloud": "AzurePublicCloud",
            "tenantId": "tenant-from-azure-json",
            "useManagedIdentityExtension": true,
            "userAssignedIdentityID": identity,
        })
        .to_string(),
    )
    .expect("write azure.json");
    let azure_json = azure_json.display().to_string();
    let provider = Provider::new(PROVIDER)
        .match_images(&[
            "*.azurecr.io",
            "*.azurecr.cn",
            "*.azurecr.de",
            "*.azurecr.us",
            "*.*.geo.azurecr.io",
            "*.*.geo.azurecr.cn",
            "*.*.geo.azurecr.de",
            "*.*.geo.azurecr.us",
        ])
        .default_cache_duration("10m")
        .args(&[&azure_json])
        .env(
            "KCRED_ACR_IMDS_ENDPOINT",
            &format!("http://127.0.0.1:{}", az.imds.port()),
        )
        .env(
            "KCRED_ACR_TEST_CONNECT_TO",
            &format!("{ACR}=127.0.0.1:{}", az.registry.port),
        );
    let plugin = env!("CARGO_BIN_EXE_acr-credential-provider");
    Node::new(&[provider], &[(PROVIDER, Path::new(plugin))])
}

/// The kubelet's environment: the node's trust store (the test CA).
fn node_env() -> [(&'static str, &'static str); 1] {
    static CA: OnceLock<String> = OnceLock::new();
    let ca = CA.get_or_init(|| pki().ca_crt.display().to_string());
    [("SSL_CERT_FILE", ca.as_str())]
}

/// Pushes a generated image to the registry's loopback address with `user:password`.
fn push_test_image(tools: &RegistryTools, az: &Azure, user: &str, password: &str) {
    let layout = az.dir.join("layout");
    write_oci_layout(&layout, "v1").expect("OCI layout");
    let out = Command::new(&tools.skopeo)
        .env("HOME", &az.dir)
        .env("XDG_RUNTIME_DIR", &az.dir)
        .arg("--insecure-policy")
        .arg("copy")
        .arg("--dest-cert-dir")
        .arg(&az.certs)
        .arg("--dest-creds")
        .arg(format!("{user}:{password}"))
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!(
            "docker://127.0.0.1:{}/{REPO_TAG}",
            az.registry.port
        ))
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "push: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn auth_json_from_kcred_get_pulls_from_a_token_auth_registry() {
    let Some(tools) =
        RegistryTools::find_or_skip("auth_json_from_kcred_get_pulls_from_a_token_auth_registry")
    else {
        return;
    };
    let az = azure();
    let node = node(&az, "11111111-2222-3333-4444-555555555555");
    let get = node.kcred_get(&image(), &["--output", "auth-json"], &node_env());
    get.assert_exit(0);
    let (key, user, password) = only_auth_entry(&get.stdout);
    assert_eq!(key, ACR, "keyed by the image's registry");
    assert_eq!(user, REFRESH_TOKEN_USER);
    let exchanges: Vec<_> = az
        .token_service
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/oauth2/exchange")
        .collect();
    assert_eq!(exchanges.len(), 1, "one refresh-token exchange");
    assert_eq!(exchanges[0].param("service").as_deref(), Some(ACR));
    push_test_image(&tools, &az, &user, &password);
    let authfile = node.write("auth.json", &get.stdout);

    let skopeo = ProxiedInspect {
        tools: &tools,
        home: node.path("home"),
        proxy: HostProxy::start(&[(
            &format!("{ACR}:443"),
            &format!("127.0.0.1:{}", az.registry.port),
        )]),
        tls_args: vec!["--cert-dir".to_owned(), az.certs.display().to_string()],
        image: image(),
    };
    let ok = skopeo.inspect(Some(&authfile));
    assert!(ok.success, "skopeo with kcred's auth file: {}", ok.stderr);
    let inspected: Value = serde_json::from_str(&ok.stdout).expect("inspect JSON");
    assert_eq!(inspected["Name"], format!("{ACR}/hello"));
    skopeo.proxy.assert_reached(ACR, |c| {
        c.request_line.starts_with(&format!("CONNECT {ACR}:443 "))
    });
    // skopeo traded the refresh token for an access token at the realm.
    assert!(az
        .token_service
        .requests()
        .iter()
        .any(|r| r.path() == "/oauth2/token"));

    skopeo.assert_refused(None, "anonymous inspect must fail");

    // The same file with the refresh token's signature changed: the token service refuses it.
    let tampered = match password.rsplit_once('.') {
        Some((signed, _)) => format!("{signed}.tampered"),
        None => format!("{password}x"),
    };
    let wrong = node.write("wrong.json", &auth_json(&key, &user, &tampered));
    skopeo.assert_refused(Some(&wrong), "a tampered refresh token must fail");
}

#[test]
fn table_shows_the_match_cache_key_and_duration_but_no_token() {
    let Some(_tools) =
        RegistryTools::find_or_skip("table_shows_the_match_cache_key_and_duration_but_no_token")
    else {
        return;
    };
    let az = azure();
    let node = node(&az, "11111111-2222-3333-4444-555555555555");
    let run = node.kcred_get(&image(), &[], &node_env());
    run.assert_exit(0);
    run.assert_stdout_contains(&[
        format!("provider \"{PROVIDER}\": matched via \"*.azurecr.io\""),
        "  cacheKeyType:    Registry".to_owned(),
        "  cacheDuration:   1h0m0s".to_owned(),
        format!("    \"{ACR}\"  username \"{REFRESH_TOKEN_USER}\"  password <redacted>"),
        format!(
            "  1. username \"{REFRESH_TOKEN_USER}\", password <redacted>, from provider \"{PROVIDER}\" (auth key \"{ACR}\")"
        ),
    ]);
    // Refresh and AAD tokens are JWTs: base64url of `{"`, i.e. `eyJ`, never appears.
    assert!(
        !run.all().contains("eyJ"),
        "no token is shown:\n{}",
        run.all()
    );
}

#[test]
fn failing_imds_fails_kcred_get_with_the_plugin_error() {
    let Some(_tools) =
        RegistryTools::find_or_skip("failing_imds_fails_kcred_get_with_the_plugin_error")
    else {
        return;
    };
    let az = azure();
    // IMDS answers 400 "Identity not found" for this identity, as Azure does for one not
    // assigned to the VM.
    let node = node(&az, "unknown-identity");
    let run = node.kcred_get(&image(), &[], &node_env());
    run.assert_exit(1);
    run.assert_plugin_failed(PROVIDER, "*.azurecr.io", &format!("{ACR}/hello"));
    assert!(
        run.stderr.contains("Identity not found"),
        "the plugin's stderr:\n{}",
        run.stderr
    );
    assert!(
        az.token_service.requests().is_empty(),
        "no exchange without an identity"
    );

    let file = node.kcred_get(&image(), &["--output", "auth-json"], &node_env());
    file.assert_exit(1);
    assert_no_auths(&file.stdout);
}
