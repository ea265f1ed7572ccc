//! Issue 15, Azure: keyless pulls on a self-managed cluster, end to end, with an identity
//! provider that really verifies the token.
//!
//! 1. A service-account signing key is generated (openssl) and `kcred oidc discovery` writes
//!    the issuer's documents, served over HTTPS on loopback (test CA) as a static host would.
//! 2. A token shaped exactly like kube-apiserver's projected tokens is minted with that key.
//!    The node's `azure.json` and provider entry are the ones `kcred wi plan --cloud azure`
//!    prints (plus the test knobs that point the plugin at the stubs).
//! 3. `kcred get` runs `acr-credential-provider` in service-account token mode, as the kubelet
//!    would with `tokenAttributes`; the plugin presents the token to the AAD stub
//!    (`kcred_testutil::aad_stub`), which fetches the issuer's discovery document and JWKS as
//!    Entra does, checks the federated credential's issuer/subject/audience, the signature and
//!    the validity window; the AAD token goes to the ACR exchange (token-service stub); the
//!    refresh token pulls from a real Debian `docker-registry` with skopeo.
//! 4. The same run fails, saying why (the AADSTS code in the plugin's error), for a token
//!    signed by another key, an expired token, a wrong audience and a wrong subject.
//!
//! Skipped, saying so, without docker-registry/skopeo unless `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use crate::common::{pki, start_tls, start_token_registry, AcrTokenService, TokenRegistry};
use kcred_testutil::aad_stub::{AadStub, FederatedCredential};
use kcred_testutil::http_stub::StubServer;
use kcred_testutil::kubelet::{only_auth_entry, HostProxy, KcredRun, Node, ProxiedInspect};
use kcred_testutil::oidc_idp::{KeyKind, ProjectedToken, PublishedIssuer, SigningKey, TestCa};
use kcred_testutil::registry::{write_oci_layout, RegistryTools};

const PROVIDER: &str = "acr-credential-provider";
const ACR: &str = "mockacr.azurecr.io";
const TENANT: &str = "homelab-tenant";
const CLIENT_ID: &str = "3f1c9a57-0000-4000-8000-00000000acr1";
const AUDIENCE: &str = "api://AzureADTokenExchange";
const NAMESPACE: &str = "team";
const SERVICE_ACCOUNT: &str = "puller";

struct World {
    dir: PathBuf,
    certs: PathBuf,
    key: SigningKey,
    other_key: SigningKey,
    issuer: String,
    issuer_host: StubServer,
    aad: Arc<AadStub>,
    _aad_server: StubServer,
    token_service: StubServer,
    registry: TokenRegistry,
    node: Node,
    _tmp: tempfile::TempDir,
}

fn test_ca() -> TestCa {
    let p = pki();
    TestCa {
        ca_crt: p.ca_crt.clone(),
        tls_crt: p.tls_crt.clone(),
        tls_key: p.tls_key.clone(),
    }
}

fn world() -> World {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&pki().ca_crt, certs.join("ca.crt")).unwrap();
    let ca = test_ca();

    // 1. The cluster's signing key and its public issuer on "object storage".
    let PublishedIssuer {
        key,
        other_key,
        url: issuer,
        host: issuer_host,
    } = PublishedIssuer::publish(&dir, &ca);
    let kcred = kcred_testutil::bin("kcred-cli", "kcred");

    // 2. Entra: the app's federated credential trusts that issuer for one service account.
    let aad = Arc::new(AadStub::new(
        TENANT,
        vec![FederatedCredential {
            client_id: CLIENT_ID.to_owned(),
            issuer: issuer.clone(),
            subject: format!("system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"),
            audiences: vec![AUDIENCE.to_owned()],
        }],
        Some(pki().ca_crt.clone()),
        SigningKey::generate(&dir, "aad-signer", KeyKind::Rsa2048),
    ));
    let aad_server = {
        let aad = aad.clone();
        start_tls(move |r| aad.handle(r))
    };

    // 3. ACR: token service and a real registry.
    let svc = Arc::new(AcrTokenService::default());
    let port = Arc::new(OnceLock::new());
    let token_service = {
        let port = port.clone();
        start_tls(move |r| svc.handle(*port.get().unwrap_or(&0), ACR, r))
    };
    let _ = port.set(token_service.port());
    let registry = start_token_registry(&dir, token_service.port(), ACR);

    // 4. The node, configured from `kcred wi plan`: its azure.json (no secret, no node
    //    identity) and its CredentialProviderConfig entry (token mode, annotations), plus the
    //    test knobs that point the plugin at the stubs.
    let plan = Command::new(&kcred)
        .args([
            "wi",
            "plan",
            "--cloud",
            "azure",
            "--issuer",
            &issuer,
            "--namespace",
            NAMESPACE,
            "--service-account",
            SERVICE_ACCOUNT,
            "--kubelet-version",
            "1.34",
            "--azure-tenant-id",
            TENANT,
            "--azure-client-id",
            CLIENT_ID,
            "--azure-identity-name",
            "acr-puller",
            "--azure-resource-group",
            "homelab",
        ])
        .output()
        .unwrap();
    assert!(
        plan.status.success(),
        "kcred wi plan: {}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let plan = String::from_utf8(plan.stdout).unwrap();
    let azure_json = dir.join("azure.json");
    std::fs::write(
        &azure_json,
        kcred_testutil::oidc_idp::plan_heredoc(&plan, "cat > azure.json"),
    )
    .unwrap();
    let config = kcred_testutil::oidc_idp::plan_heredoc(&plan, "cat > credential-providers.yaml")
        .replace(
            "\"/etc/kubernetes/azure.json\"",
            &format!("\"{}\"", azure_json.display()),
        );
    let plugin = env!("CARGO_BIN_EXE_acr-credential-provider");
    let node = Node::new(&[], &[(PROVIDER, Path::new(plugin))]);
    node.write(
        "config.yaml",
        &format!(
            "{config}    env:\n      - name: KCRED_ACR_AUTHORITY_HOST\n        value: \"https://127.0.0.1:{aad_port}/\"\n      - name: KCRED_ACR_TEST_CONNECT_TO\n        value: \"{ACR}=127.0.0.1:{reg_port}\"\n",
            aad_port = aad_server.port(),
            reg_port = registry.port,
        ),
    );
    World {
        dir,
        certs,
        key,
        other_key,
        issuer,
        issuer_host,
        aad,
        _aad_server: aad_server,
        token_service,
        registry,
        node,
        _tmp: tmp,
    }
}

impl World {
    fn token(&self) -> ProjectedToken {
        ProjectedToken::new(&self.issuer, AUDIENCE, NAMESPACE, SERVICE_ACCOUNT)
    }

    /// `kcred get` for the pod's service account with `token`, as the kubelet would run it.
    fn kcred_get(&self, token: &str, output: &[&str]) -> KcredRun {
        let file = self.node.write("sa-token", token);
        let file = file.display().to_string();
        let client = format!("kubernetes.azure.com/acr-client-id={CLIENT_ID}");
        let tenant = format!("kubernetes.azure.com/acr-tenant-id={TENANT}");
        let mut args = vec![
            "--namespace",
            NAMESPACE,
            "--service-account",
            SERVICE_ACCOUNT,
            "--annotation",
            &client,
            "--annotation",
            &tenant,
            "--service-account-token",
            &file,
        ];
        args.extend_from_slice(output);
        let ca = pki().ca_crt.display().to_string();
        self.node
            .kcred_get(&format!("{ACR}/hello:v1"), &args, &[("SSL_CERT_FILE", &ca)])
    }
}

fn push_test_image(tools: &RegistryTools, w: &World, user: &str, password: &str) {
    let layout = w.dir.join("layout");
    write_oci_layout(&layout, "v1").expect("OCI layout");
    let out = Command::new(&tools.skopeo)
        .env("HOME", &w.dir)
        .env("XDG_RUNTIME_DIR", &w.dir)
        .args(["--insecure-policy", "copy", "--dest-cert-dir"])
        .arg(&w.certs)
        .arg("--dest-creds")
        .arg(format!("{user}:{password}"))
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://127.0.0.1:{}/hello:v1", w.registry.port))
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "push: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_cluster_token_verified_by_entra_pulls_from_acr() {
    let Some(tools) =
        RegistryTools::find_or_skip("a_cluster_token_verified_by_entra_pulls_from_acr")
    else {
        return;
    };
    let w = world();
    let token = w.token().sign(&w.key);
    let get = w.kcred_get(&token, &["--output", "auth-json"]);
    get.assert_exit(0);
    assert!(w.aad.errors().is_empty(), "{:?}", w.aad.errors());
    // Entra fetched the discovery document, then the JWKS it names.
    let fetched: Vec<String> = w
        .issuer_host
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    assert_eq!(
        fetched,
        vec![
            "GET /homelab/.well-known/openid-configuration",
            "GET /homelab/openid/v1/jwks"
        ]
    );
    let (key, user, password) = only_auth_entry(&get.stdout);
    assert_eq!(key, ACR);
    assert_eq!(user, "00000000-0000-0000-0000-000000000000");
    assert!(w
        .token_service
        .requests()
        .iter()
        .any(|r| r.path() == "/oauth2/exchange" && r.param("tenant").as_deref() == Some(TENANT)));
    assert!(
        !get.stdout.contains(&token) && !get.stderr.contains(&token),
        "the service-account token is never printed"
    );

    push_test_image(&tools, &w, &user, &password);
    let authfile = w.node.write("auth.json", &get.stdout);
    let skopeo = ProxiedInspect {
        tools: &tools,
        home: w.node.path("home"),
        proxy: HostProxy::start(&[(
            &format!("{ACR}:443"),
            &format!("127.0.0.1:{}", w.registry.port),
        )]),
        tls_args: vec!["--cert-dir".to_owned(), w.certs.display().to_string()],
        image: format!("{ACR}/hello:v1"),
    };
    let ok = skopeo.inspect(Some(&authfile));
    assert!(
        ok.success,
        "skopeo with the workload-identity credentials: {}",
        ok.stderr
    );
    let inspected: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(inspected["Name"], format!("{ACR}/hello"));
    skopeo.assert_refused(None, "anonymous inspect must fail");
}

#[test]
fn entra_refuses_each_broken_token_and_the_error_says_why() {
    if RegistryTools::find_or_skip("entra_refuses_each_broken_token_and_the_error_says_why")
        .is_none()
    {
        return;
    }
    let w = world();
    let good = w.token();
    let mut expired = good.clone();
    expired.issued_at -= 2 * 3600;
    let mut wrong_aud = good.clone();
    wrong_aud.audiences = vec!["sts.amazonaws.com".to_owned()];
    let mut wrong_sub = good.clone();
    wrong_sub.service_account = "builder".to_owned();
    let mut wrong_iss = good.clone();
    wrong_iss.issuer = "https://kubernetes.default.svc.cluster.local".to_owned();
    let cases = [
        ("signed by another key", good.sign(&w.other_key), format!("AADSTS7000272: The certificate with identifier {} used to sign the federated credential could not be found in the metadata of identity provider {}", w.other_key.kid, w.issuer)),
        ("expired", expired.sign(&w.key), "AADSTS700024: Client assertion is not within its valid time range.".to_owned()),
        ("wrong audience", wrong_aud.sign(&w.key), format!("AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '{}'. Assertion Subject: 'system:serviceaccount:team:puller'. Assertion Audience: 'sts.amazonaws.com'.", w.issuer)),
        ("wrong subject", wrong_sub.sign(&w.key), "Assertion Subject: 'system:serviceaccount:team:builder'".to_owned()),
        ("wrong issuer", wrong_iss.sign(&w.key), "AADSTS700211: No matching federated identity record found for presented assertion issuer 'https://kubernetes.default.svc.cluster.local'".to_owned()),
    ];
    for (what, token, why) in cases {
        let run = w.kcred_get(&token, &[]);
        run.assert_exit(1);
        run.assert_plugin_failed(PROVIDER, "*.azurecr.io", &format!("{ACR}/hello"));
        assert!(
            run.stderr.contains(&why),
            "{what}: {why:?} in:\n{}",
            run.stderr
        );
        assert!(
            !run.all().contains(&token),
            "{what}: the token is never printed"
        );
    }
    assert!(
        !w.token_service
            .requests()
            .iter()
            .any(|r| r.path() == "/oauth2/exchange"),
        "no ACR exchange without an AAD token"
    );
}
