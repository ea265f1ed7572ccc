//! Every identity end to end through the real binary against local stubs speaking the wire
//! formats (IMDS, AAD, identity bindings, the ACR token service), plus the security fixes.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::*;
use kcred_testutil::http_stub::{StubRequest, StubResponse, StubServer};

const ACR: &str = "myacr.azurecr.io";

struct Stubs {
    imds: StubServer,
    aad: StubServer,
    acr: StubServer,
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
}

fn stubs() -> Stubs {
    let p = pki();
    let exp = AadExpectations {
        client_secret: "s3cret".to_owned(),
        cert_thumbprint: {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(ring::digest::digest(&ring::digest::SHA256, &p.sp_crt_der))
        },
    };
    let imds = StubServer::start_plain(imds_handler);
    let aad_port = Arc::new(std::sync::OnceLock::new());
    let ap = aad_port.clone();
    let aad = start_tls(move |r| aad_handler(&exp, *ap.get().unwrap_or(&0), r));
    let _ = aad_port.set(aad.port());
    let svc = Arc::new(AcrTokenService::default());
    let acr_port = Arc::new(std::sync::OnceLock::new());
    let cp = acr_port.clone();
    let acr = start_tls(move |r| svc.handle(*cp.get().unwrap_or(&0), ACR, r));
    let _ = acr_port.set(acr.port());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    Stubs {
        imds,
        aad,
        acr,
        _tmp: tmp,
        dir,
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout {:?}: {e}; stderr {}", self.stdout, self.stderr))
    }
    fn auth_keys(&self) -> Vec<String> {
        self.json()["auth"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }
    fn password(&self, key: &str) -> String {
        self.json()["auth"][key]["password"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

fn request(image: &str, sa_token: Option<&str>, annotations: &[(&str, &str)]) -> String {
    let mut r = serde_json::json!({"kind": "CredentialProviderRequest", "apiVersion": "credentialprovider.kubelet.k8s.io/v1", "image": image});
    if let Some(t) = sa_token {
        r["serviceAccountToken"] = t.into();
    }
    if !annotations.is_empty() {
        r["serviceAccountAnnotations"] = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    r.to_string()
}

fn run(
    s: &Stubs,
    config: serde_json::Value,
    args: &[&str],
    stdin: &str,
    extra_env: &[(&str, String)],
) -> Run {
    let cfg = s
        .dir
        .join(format!("azure-{}.json", std::process::id() ^ rand_suffix()));
    std::fs::write(&cfg, config.to_string()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_acr-credential-provider"));
    cmd.arg(&cfg)
        .args(args)
        .env_clear()
        .env(
            "KCRED_ACR_IMDS_ENDPOINT",
            format!("http://127.0.0.1:{}", s.imds.port()),
        )
        .env(
            "KCRED_ACR_AUTHORITY_HOST",
            format!("https://127.0.0.1:{}", s.aad.port()),
        )
        .env("SSL_CERT_FILE", &pki().ca_crt)
        .env(
            "KCRED_ACR_TEST_CONNECT_TO",
            format!("{ACR}=127.0.0.1:{}", s.acr.port()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    // The binary may exit before reading stdin (argument errors): ignore a broken pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1);
    N.fetch_add(1, Ordering::SeqCst)
}

fn only<'a>(reqs: &'a [StubRequest], path: &str) -> Vec<&'a StubRequest> {
    reqs.iter().filter(|r| r.path() == path).collect()
}

/// The exchange form the ACR stub received, and the refresh token's claims.
fn check_exchange(s: &Stubs, r: &Run, tenant: &str, sub: &str) {
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(r.stdout.ends_with("}\n"));
    let reqs = s.acr.requests();
    let v2 = only(&reqs, "/v2/");
    assert_eq!(v2.len(), 1);
    assert_eq!(
        v2[0].header("user-agent"),
        Some("kubernetes-credentialprovider-acr")
    );
    assert_eq!(v2[0].header("host"), Some(ACR));
    let ex = only(&reqs, "/oauth2/exchange");
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].method, "POST");
    assert_eq!(
        ex[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = ex[0].form();
    let keys: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "grant_type",
            "refresh_token",
            "service",
            "tenant"
        ]
    );
    assert_eq!(
        ex[0].param("grant_type").as_deref(),
        Some("access_token_refresh_token")
    );
    assert_eq!(ex[0].param("service").as_deref(), Some(ACR));
    assert_eq!(ex[0].param("tenant").as_deref(), Some(tenant));
    assert_eq!(ex[0].param("access_token"), ex[0].param("refresh_token"));
    let v = r.json();
    assert_eq!(v["cacheDuration"], "1h0m0s");
    assert_eq!(
        v["auth"][ACR]["username"],
        "00000000-0000-0000-0000-000000000000"
    );
    let claims = jwt_claims(&r.password(ACR)).expect("refresh token is a JWT");
    assert_eq!(claims["aud"], ACR);
    assert_eq!(claims["sub"], sub);
    assert_eq!(claims["tenant"], tenant);
}

#[test]
fn managed_identity_client_id_resource_id_and_system() {
    let s = stubs();
    let cases = [
        ("11111111-2222-3333-4444-555555555555", Some(("client_id", "11111111-2222-3333-4444-555555555555"))),
        ("/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id", Some(("msi_res_id", "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"))),
        ("", None),
    ];
    for (id, param) in cases.iter() {
        let before = s.imds.requests().len();
        let r = run(
            &s,
            serde_json::json!({"cloud": "AzurePublicCloud", "tenantId": "tenant-from-azure-json", "useManagedIdentityExtension": true, "userAssignedIdentityID": id}),
            &[],
            &request(&format!("{ACR}/hello:v1"), None, &[]),
            &[],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let reqs = s.imds.requests();
        let q = &reqs[before];
        assert_eq!(q.header("metadata"), Some("true"));
        assert_eq!(q.param("api-version").as_deref(), Some("2018-02-01"));
        assert_eq!(
            q.param("resource").as_deref(),
            Some("https://containerregistry.azure.net")
        );
        match param {
            Some((k, v)) => assert_eq!(q.param(k).as_deref(), Some(*v)),
            None => assert!(q.param("client_id").is_none() && q.param("msi_res_id").is_none()),
        }
        assert_eq!(r.auth_keys(), ["*.azurecr.*", ACR]);
        let sub = param.map(|(_, v)| v).unwrap_or("system-assigned");
        assert_eq!(jwt_claims(&r.password(ACR)).unwrap()["sub"], sub);
    }
    // The last run's exchange, checked in full.
    let reqs = s.acr.requests();
    assert_eq!(only(&reqs, "/oauth2/exchange").len(), 3);
    assert_eq!(
        only(&reqs, "/oauth2/exchange")[2]
            .param("tenant")
            .as_deref(),
        Some("tenant-from-azure-json")
    );
}

#[test]
fn managed_identity_error_names_identity_and_endpoint() {
    let s = stubs();
    let r = run(
        &s,
        serde_json::json!({"useManagedIdentityExtension": true, "userAssignedIdentityID": "unknown-identity"}),
        &[],
        &request(&format!("{ACR}/x"), None, &[]),
        &[],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("managed identity (client_id unknown-identity)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "GET http://127.0.0.1:{}/metadata/identity/oauth2/token",
            s.imds.port()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Identity not found"), "{}", r.stderr);
}

#[test]
fn service_principal_secret_is_echoed_without_network() {
    let s = stubs();
    let cfg =
        serde_json::json!({"aadClientId": "sp-id", "aadClientSecret": "s3cret", "tenantId": "t"});
    let r = run(
        &s,
        cfg.clone(),
        &[],
        &request(&format!("{ACR}/x"), None, &[]),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.auth_keys(),
        ["*.azurecr.*", ACR],
        "only the requested registry gets the secret"
    );
    assert_eq!(r.json()["auth"][ACR]["username"], "sp-id");
    assert_eq!(r.password(ACR), "s3cret");
    let compat = run(
        &s,
        cfg,
        &["--compat-upstream-auth-keys"],
        &request(&format!("{ACR}/x"), None, &[]),
        &[],
    );
    assert_eq!(
        compat.auth_keys(),
        [
            "*.azurecr.*",
            "*.azurecr.cn",
            "*.azurecr.de",
            "*.azurecr.io",
            "*.azurecr.us"
        ]
    );
    assert!(
        s.imds.requests().is_empty() && s.aad.requests().is_empty() && s.acr.requests().is_empty()
    );
}

#[test]
fn service_principal_secret_exchange_on_request() {
    let s = stubs();
    let r = run(
        &s,
        serde_json::json!({"aadClientId": "sp-id", "aadClientSecret": "s3cret", "tenantId": "sp-tenant"}),
        &["--exchange-client-secret"],
        &request(&format!("{ACR}/x"), None, &[]),
        &[],
    );
    check_exchange(&s, &r, "sp-tenant", "sp-id");
    let aad = s.aad.requests();
    assert_eq!(aad.len(), 1);
    assert_eq!(aad[0].path(), "/sp-tenant/oauth2/v2.0/token");
    assert_eq!(aad[0].param("client_secret").as_deref(), Some("s3cret"));
    assert_eq!(
        aad[0].param("scope").as_deref(),
        Some("https://containerregistry.azure.net/.default")
    );

    let bad = run(
        &s,
        serde_json::json!({"aadClientId": "sp-id", "aadClientSecret": "wrong", "tenantId": "sp-tenant"}),
        &["--exchange-client-secret"],
        &request(&format!("{ACR}/x"), None, &[]),
        &[],
    );
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("service principal secret (client_id sp-id, tenant sp-tenant)"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr
            .contains("/sp-tenant/oauth2/v2.0/token: status 401: invalid_client: AADSTS7000215"),
        "{}",
        bad.stderr
    );
    assert!(
        !bad.stderr.contains("wrong"),
        "the secret never appears in errors"
    );
}

#[test]
fn service_principal_certificate() {
    let s = stubs();
    let r = run(
        &s,
        serde_json::json!({"aadClientId": "cert-app", "aadClientCertPath": pki().sp_pem, "tenantId": "cert-tenant"}),
        &[],
        &request(&format!("{ACR}/x"), None, &[]),
        &[],
    );
    check_exchange(&s, &r, "cert-tenant", "cert-app");
    let aad = s.aad.requests();
    let (header, claims) = jwt_parts(&aad[0].param("client_assertion").unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["iss"], "cert-app");
    let missing = run(
        &s,
        serde_json::json!({"aadClientId": "c", "aadClientCertPath": "/nonexistent.pem", "tenantId": "t"}),
        &[],
        &request(&format!("{ACR}/x"), None, &[]),
        &[],
    );
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("service principal certificate /nonexistent.pem"),
        "{}",
        missing.stderr
    );
}

#[test]
fn workload_identity_uses_annotation_tenant_for_aad_and_exchange() {
    let s = stubs();
    let ksa = service_account_token("system:serviceaccount:team:app");
    let cfg = serde_json::json!({"tenantId": "tenant-from-azure-json", "useManagedIdentityExtension": true, "userAssignedIdentityID": "node-mi"});
    let r = run(
        &s,
        cfg.clone(),
        &[],
        &request(
            &format!("{ACR}/hello:v1"),
            Some(&ksa),
            &[
                ("kubernetes.azure.com/acr-client-id", "wi-client-id"),
                ("kubernetes.azure.com/acr-tenant-id", "wi-tenant"),
            ],
        ),
        &[],
    );
    check_exchange(&s, &r, "wi-tenant", "wi-client-id");
    assert!(
        s.imds.requests().is_empty(),
        "no IMDS call on the workload-identity path"
    );
    let aad = s.aad.requests();
    assert_eq!(aad[0].path(), "/wi-tenant/oauth2/v2.0/token");
    assert_eq!(
        aad[0].header("content-type"),
        Some("application/x-www-form-urlencoded; charset=utf-8")
    );
    assert_eq!(aad[0].param("client_assertion"), Some(ksa.clone()));
    assert_eq!(aad[0].param("client_id").as_deref(), Some("wi-client-id"));

    // Azure Workload Identity annotations; tenant from azure.json; works with an SP config too.
    let r = run(
        &s,
        serde_json::json!({"tenantId": "tenant-from-azure-json", "aadClientId": "sp", "aadClientSecret": "x"}),
        &[],
        &request(
            &format!("{ACR}/hello:v1"),
            Some(&ksa),
            &[("azure.workload.identity/client-id", "awi-client")],
        ),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let claims = jwt_claims(&r.password(ACR)).unwrap();
    assert_eq!(claims["sub"], "awi-client");
    assert_eq!(claims["tenant"], "tenant-from-azure-json");

    // A service account without identity annotations uses the node identity.
    let r = run(
        &s,
        cfg,
        &[],
        &request(&format!("{ACR}/x"), Some(&ksa), &[]),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(jwt_claims(&r.password(ACR)).unwrap()["sub"], "node-mi");

    // A hostile tenant annotation never reaches the URL path.
    let r = run(
        &s,
        serde_json::json!({}),
        &[],
        &request(
            &format!("{ACR}/x"),
            Some(&ksa),
            &[
                ("kubernetes.azure.com/acr-client-id", "c"),
                ("kubernetes.azure.com/acr-tenant-id", "../evil"),
            ],
        ),
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("invalid tenant ID \"../evil\""),
        "{}",
        r.stderr
    );
}

#[test]
fn non_acr_images_never_fail_on_annotations_or_identity_bindings() {
    let s = stubs();
    let ksa = service_account_token("x");
    for (args, annotations) in [
        (vec![], vec![("kubernetes.azure.com/acr-client-id", "c")]),
        (
            vec![
                "--ib-sni-name=api.example.com",
                "--ib-apiserver-ip=127.0.0.1",
            ],
            vec![],
        ),
    ] {
        for token in [Some(ksa.as_str()), None] {
            let r = run(
                &s,
                serde_json::json!({"useManagedIdentityExtension": true}),
                &args,
                &request("docker.io/library/nginx", token, &annotations),
                &[],
            );
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert_eq!(r.stdout, "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"0s\"}\n");
        }
    }
    // Half an annotation pair on an ACR image is an error naming the missing annotation.
    let r = run(
        &s,
        serde_json::json!({}),
        &[],
        &request(
            &format!("{ACR}/x"),
            Some(&ksa),
            &[("kubernetes.azure.com/acr-client-id", "c")],
        ),
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("tenant id annotation kubernetes.azure.com/acr-tenant-id is not found or the value is empty"));
    assert!(s.imds.requests().is_empty() && s.aad.requests().is_empty());
}

#[test]
fn mirrored_image_uses_node_identity_and_keys_both_hosts() {
    let s = stubs();
    let ksa = service_account_token("x");
    let r = run(
        &s,
        serde_json::json!({"tenantId": "t", "useManagedIdentityExtension": true, "userAssignedIdentityID": "mi"}),
        &[&format!("--registry-mirror=mcr.microsoft.com:{ACR}")],
        &request(
            "mcr.microsoft.com/hello:v1",
            Some(&ksa),
            &[
                ("kubernetes.azure.com/acr-client-id", "wi"),
                ("kubernetes.azure.com/acr-tenant-id", "wt"),
            ],
        ),
        &[],
    );
    check_exchange(&s, &r, "t", "mi");
    assert_eq!(r.auth_keys(), ["*.azurecr.*", "mcr.microsoft.com", ACR]);
    assert_eq!(r.password("mcr.microsoft.com"), r.password(ACR));
    // A host that merely starts with the mirror source is not mirrored.
    let r = run(
        &s,
        serde_json::json!({"useManagedIdentityExtension": true}),
        &[&format!("-r=mcr.microsoft.com:{ACR}")],
        &request("mcr.microsoft.com.evil.io/x", None, &[]),
        &[],
    );
    assert_eq!(r.code, 0);
    assert!(r.json().get("auth").is_none());
}

#[test]
fn identity_bindings() {
    let s = stubs();
    let ib = start_tls(|r: &StubRequest| {
        if r.method != "POST"
            || r.path() != "/"
            || r.param("client_assertion_type").as_deref()
                != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return StubResponse::text(400, "bad request");
        }
        let client = r.param("client_id").unwrap_or_default();
        StubResponse::json(200, serde_json::json!({"access_token": aad_token("https://containerregistry.azure.net", &client, "ib"), "expires_in": 3600}).to_string())
    });
    let env = [
        ("KCRED_ACR_IB_PORT", ib.port().to_string()),
        ("KCRED_ACR_IB_CA_FILE", pki().ca_crt.display().to_string()),
    ];
    let args = [
        "--ib-sni-name=api.example.com",
        "--ib-apiserver-ip=127.0.0.1",
        "--ib-default-client-id=default-client",
    ];
    let ksa = service_account_token("x");
    let r = run(
        &s,
        serde_json::json!({"tenantId": "t", "useManagedIdentityExtension": true}),
        &args,
        &request(&format!("{ACR}/x"), Some(&ksa), &[]),
        &env,
    );
    check_exchange(&s, &r, "t", "default-client");
    let reqs = ib.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header("host"),
        Some(format!("api.example.com:{}", ib.port()).as_str())
    );
    assert_eq!(reqs[0].param("client_assertion"), Some(ksa.clone()));
    assert_eq!(
        reqs[0].param("scope").as_deref(),
        Some("https://containerregistry.azure.net/.default")
    );
    // Without a token, identity-binding nodes fall back to the managed identity.
    let r = run(
        &s,
        serde_json::json!({"tenantId": "t", "useManagedIdentityExtension": true, "userAssignedIdentityID": "mi"}),
        &args,
        &request(&format!("{ACR}/x"), None, &[]),
        &env,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(jwt_claims(&r.password(ACR)).unwrap()["sub"], "mi");
    assert_eq!(ib.requests().len(), 1);
}

#[test]
fn exchange_without_refresh_token_is_an_error() {
    let s = stubs();
    let port = Arc::new(std::sync::OnceLock::new());
    let p2 = port.clone();
    let acr = start_tls(move |r: &StubRequest| match r.path() {
        "/v2/" => StubResponse::text(401, "").with_header(
            "Www-Authenticate",
            &format!(
                "Bearer realm=\"https://127.0.0.1:{}/oauth2/token\",service=\"{ACR}\"",
                p2.get().unwrap_or(&0)
            ),
        ),
        _ => StubResponse::json(200, "{}"),
    });
    let _ = port.set(acr.port());
    let r = run(
        &s,
        serde_json::json!({"useManagedIdentityExtension": true}),
        &[],
        &request(&format!("{ACR}/x"), None, &[]),
        &[(
            "KCRED_ACR_TEST_CONNECT_TO",
            format!("{ACR}=127.0.0.1:{}", acr.port()),
        )],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains(&format!(
            "auth url https://127.0.0.1:{}/oauth2/exchange returned no refresh_token",
            acr.port()
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("managed identity (system-assigned)"),
        "{}",
        r.stderr
    );
}

#[test]
fn hostile_image_names_get_no_credentials() {
    let s = stubs();
    let hostile = [
        "foo.azurecr.io.example/x",
        "foo.azurecr.io.evil.com/x",
        "docker.io/foo.azurecr.io/x",
        "evil.com/foo.azurecr.io",
        "foo.azurecr.io:443/x",
        "foo.azurecr.io@sha256:0000",
        "foo.azurecr.ioextra/x",
        "foo_bar.azurecr.io/x",
        "a-b-c.azurecr.io/x",
        "foo.eastus2.data.azurecr.io/x",
        "foo.x.y.geo.azurecr.io/x",
        "FOO.AZURECR.IO/x",
        "azurecr.io/x",
        ".azurecr.io/x",
        "foo.azurecr.cn.attacker.net/x",
        "mcr.microsoft.com.evil.io/x",
        "mcr.microsoft.comx/y",
        "foo.azurecr.io%2f.evil/x",
        "foo.azurecr.io\u{0}/x",
        "xn--foo.azurecr.io.evil/x",
    ];
    for cfg in [
        serde_json::json!({"aadClientId": "sp", "aadClientSecret": "secret"}),
        serde_json::json!({"useManagedIdentityExtension": true}),
    ] {
        for image in hostile {
            let r = run(
                &s,
                cfg.clone(),
                &["--registry-mirror=mcr.microsoft.com:abc.azurecr.io"],
                &request(image, None, &[]),
                &[],
            );
            assert_eq!(r.code, 0, "{image}: {}", r.stderr);
            assert!(
                r.json().get("auth").is_none(),
                "{image} got credentials: {}",
                r.stdout
            );
            assert_eq!(r.json()["cacheDuration"], "0s");
        }
    }
    assert!(s.imds.requests().is_empty() && s.acr.requests().is_empty());
}

/// The request is read with kcred-plugin's bounded reader (1 MiB, as every kcred plugin), and
/// errors are klog `E` lines (pid right-aligned in 7 columns, as klog) then `Error: …`.
#[test]
fn oversized_request_is_refused_with_a_klog_error_line() {
    let s = stubs();
    let cfg =
        serde_json::json!({"aadClientId": "sp-id", "aadClientSecret": "s3cret", "tenantId": "t"});
    let limit = kcred_plugin::DEFAULT_MAX_REQUEST_BYTES;
    let padded = |len: usize| {
        let base = request(&format!("{ACR}/x"), None, &[]);
        let pad = len - base.len() - r#","pad":"""#.len();
        let body = format!(
            "{},\"pad\":\"{}\"}}",
            &base[..base.len() - 1],
            "x".repeat(pad)
        );
        assert_eq!(body.len(), len);
        body
    };
    let at_limit = run(&s, cfg.clone(), &[], &padded(limit), &[]);
    assert_eq!(at_limit.code, 0, "{}", at_limit.stderr);
    assert_eq!(at_limit.password(ACR), "s3cret");

    let over = run(&s, cfg, &[], &padded(limit + 1), &[]);
    assert_eq!(over.code, 1);
    assert_eq!(over.stdout, "");
    // `E1123 18:47:05.000123   25113 acr-credential-provider] …`: the header is 30 bytes.
    let first = over.stderr.lines().next().unwrap_or_default();
    let (header, message) = first.split_at(30.min(first.len()));
    let b = header.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    assert!(
        b.len() == 30
            && b[0] == b'E'
            && digits(1..5)
            && b[5] == b' '
            && (b[8], b[11], b[14], b[21], b[29]) == (b':', b':', b'.', b' ', b' ')
            && digits(15..21),
        "{first}"
    );
    let pid = header[22..29].trim_start();
    assert!(
        !pid.is_empty() && pid.bytes().all(|c| c.is_ascii_digit()),
        "{first}"
    );
    assert_eq!(
        message,
        "acr-credential-provider] \"Error running acr credential provider\" err=\"the request on stdin is larger than 1048576 bytes\"",
    );
    assert!(
        over.stderr
            .contains("\nError: the request on stdin is larger than 1048576 bytes\n"),
        "{}",
        over.stderr
    );
}

/// Trust roots follow Go's crypto/x509 on Linux (kcred-http's trust policy): an unreadable
/// `SSL_CERT_FILE` is not fatal when `SSL_CERT_DIR` has roots, nothing found is an error
/// naming where kcred looked, and there is no bundled fallback.
#[test]
fn trust_roots_follow_go_crypto_x509() {
    let s = stubs();
    let config = serde_json::json!({"useManagedIdentityExtension": true});
    let stdin = request(&format!("{ACR}/x"), None, &[]);
    let (ca_dir, empty_dir) = (s.dir.join("ca-dir"), s.dir.join("empty-dir"));
    std::fs::create_dir_all(&ca_dir).unwrap();
    std::fs::create_dir_all(&empty_dir).unwrap();
    std::fs::copy(&pki().ca_crt, ca_dir.join("ca.pem")).unwrap();
    let path = |p: &std::path::Path| p.display().to_string();

    // SSL_CERT_FILE is a directory (unreadable as a file): Go remembers the error and still
    // reads SSL_CERT_DIR, which holds the CA.
    let env = [
        ("SSL_CERT_FILE", path(&empty_dir)),
        ("SSL_CERT_DIR", path(&ca_dir)),
    ];
    let r = run(&s, config.clone(), &[], &stdin, &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.auth_keys(), ["*.azurecr.*", ACR]);

    // Nothing found, and the file failed: Go's error, before anything is dialled.
    let exchanges = only(&s.acr.requests(), "/v2/").len();
    let env = [
        ("SSL_CERT_FILE", path(&empty_dir)),
        ("SSL_CERT_DIR", path(&empty_dir)),
    ];
    let r = run(&s, config.clone(), &[], &stdin, &env);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    let want = format!(
        "x509: failed to load system roots and no roots provided; read {}: is a directory",
        empty_dir.display()
    );
    assert!(r.stderr.contains(&want), "{}", r.stderr);

    // Nothing found and nothing failed (a missing file is skipped): no bundled fallback.
    let missing = s.dir.join("missing.pem");
    let env = [
        ("SSL_CERT_FILE", path(&missing)),
        ("SSL_CERT_DIR", path(&empty_dir)),
    ];
    let r = run(&s, config, &[], &stdin, &env);
    assert_eq!(r.code, 1);
    let want = format!(
        "no TLS trust roots found (looked at {}); set SSL_CERT_FILE to a PEM bundle",
        missing.display()
    );
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    assert_eq!(
        only(&s.acr.requests(), "/v2/").len(),
        exchanges,
        "nothing was dialled without roots"
    );
}

/// Relayed error bodies (issue: secrets echoed from remote bodies, terminal escapes): an
/// IMDS or AAD endpoint that echoes what it was sent, with escape sequences and line breaks,
/// gets its body into the error scrubbed of the token and client secret and with every
/// non-printable character escaped Go-style.
#[test]
fn hostile_error_bodies_are_scrubbed_and_escaped() {
    let s = stubs();
    // IMDS answering 400 with a screen-clearing, line-forging body (400 is not retried).
    let imds = StubServer::start_plain(|_| {
        StubResponse::text(
            400,
            "\u{1b}[2J\rE0101 00:00:00.000000 1 forged] all good\n\u{202e}txet",
        )
    });
    let env = [(
        "KCRED_ACR_IMDS_ENDPOINT",
        format!("http://127.0.0.1:{}", imds.port()),
    )];
    let r = run(
        &s,
        serde_json::json!({"useManagedIdentityExtension": true}),
        &[],
        &request(&format!("{ACR}/x"), None, &[]),
        &env,
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    for raw in ['\u{1b}', '\r', '\u{202e}'] {
        assert!(!r.stderr.contains(raw), "raw {raw:?} in {:?}", r.stderr);
    }
    assert!(
        r.stderr
            .contains(r"status 400: \x1b[2J\rE0101 00:00:00.000000 1 forged] all good\n\u202etxet"),
        "{}",
        r.stderr
    );
    // Every stderr line is one of ours: the forged klog line is inside an escaped message.
    assert!(
        !r.stderr.lines().any(|l| l.starts_with("E0101")),
        "{}",
        r.stderr
    );

    // AAD echoing the whole form back: the pod's token (client_assertion) and the client
    // secret must not reach stderr, in the body text or in the JSON error fields.
    let ksa = service_account_token("system:serviceaccount:team:echo");
    let echo = start_tls(|req: &StubRequest| {
        let form = String::from_utf8_lossy(&req.body).into_owned();
        let form = kcred_testutil::http_stub::decode_component(&form);
        StubResponse::json(
            400,
            serde_json::json!({"error": format!("bad\u{1b}[31m {form}"), "error_description": form})
                .to_string(),
        )
    });
    let env = [(
        "KCRED_ACR_AUTHORITY_HOST",
        format!("https://127.0.0.1:{}", echo.port()),
    )];
    let r = run(
        &s,
        serde_json::json!({"tenantId": "t", "aadClientId": "sp", "aadClientSecret": "sp-secret-value-123"}),
        &[],
        &request(
            &format!("{ACR}/x"),
            Some(&ksa),
            &[("azure.workload.identity/client-id", "echo-client")],
        ),
        &env,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains(&ksa), "token leaked: {}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
    assert!(
        r.stderr.contains(r"status 400: bad\x1b[31m "),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("<redacted>"), "{}", r.stderr);
    assert!(!echo.requests().is_empty(), "the echoing AAD was called");
}
