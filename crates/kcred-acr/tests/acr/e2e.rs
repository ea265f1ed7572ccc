//! End to end against a real Debian `docker-registry` configured for token auth: the plugin's
//! refresh token is accepted by the ACR token-service stub, whose RS256 access tokens (x5c
//! chaining to the registry's `rootcertbundle`) the registry validates; `skopeo` then pushes
//! and inspects with the returned credentials and fails without them. Also the
//! `e2e_transcript` rows of `acr_cases.json` (request sequence and stdout).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use crate::common::*;
use kcred_testutil::http_stub::StubServer;
use kcred_testutil::registry::{write_oci_layout, RegistryTools};
use serde_json::Value;

const ACR: &str = "mockacr.azurecr.io";
const CASES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/conformance/acr_cases.json"
));

fn skopeo(home: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("skopeo")
        .args(args)
        .env("HOME", home)
        .output()
        .expect("skopeo runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

struct World {
    dir: PathBuf,
    certs: PathBuf,
    imds: StubServer,
    aad: StubServer,
    token_service: StubServer,
    registry: TokenRegistry,
    _tmp: tempfile::TempDir,
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&pki().ca_crt, certs.join("ca.crt")).unwrap();
    let imds = StubServer::start_plain(imds_handler);
    let exp = AadExpectations {
        client_secret: "unused".into(),
        cert_thumbprint: String::new(),
    };
    let aad_port = Arc::new(OnceLock::new());
    let ap = aad_port.clone();
    let aad = start_tls(move |r| aad_handler(&exp, *ap.get().unwrap_or(&0), r));
    let _ = aad_port.set(aad.port());
    let svc = Arc::new(AcrTokenService::default());
    let tp = Arc::new(OnceLock::new());
    let tp2 = tp.clone();
    let token_service = start_tls(move |r| svc.handle(*tp2.get().unwrap_or(&0), ACR, r));
    let _ = tp.set(token_service.port());
    let registry = start_token_registry(&dir, token_service.port(), ACR);
    World {
        dir,
        certs,
        imds,
        aad,
        token_service,
        registry,
        _tmp: tmp,
    }
}

fn run_plugin(
    w: &World,
    config: &Value,
    args: &[String],
    request: &Value,
) -> (i32, String, String) {
    let cfg = w.dir.join("azure.json");
    std::fs::write(&cfg, config.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_acr-credential-provider"))
        .arg(&cfg)
        .args(args)
        .env_clear()
        .env(
            "KCRED_ACR_IMDS_ENDPOINT",
            format!("http://127.0.0.1:{}", w.imds.port()),
        )
        .env(
            "KCRED_ACR_AUTHORITY_HOST",
            format!("https://127.0.0.1:{}", w.aad.port()),
        )
        .env(
            "KCRED_ACR_TEST_CONNECT_TO",
            format!("{ACR}=127.0.0.1:{}", w.registry.port),
        )
        .env("SSL_CERT_FILE", &pki().ca_crt)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn token_auth_registry_accepts_plugin_credentials() {
    // The shared harness (kcred_testutil::registry) finds the tools, or skips (fails under CI).
    let Some(_tools) =
        RegistryTools::find_or_skip("token_auth_registry_accepts_plugin_credentials")
    else {
        return;
    };
    let w = world();
    let rows: Vec<Value> = serde_json::from_str(CASES).unwrap();
    let reference = format!("docker://127.0.0.1:{}/hello:v1", w.registry.port);
    let cert_dir = w.certs.display().to_string();
    let mut pushed = false;
    for row in rows.iter().filter(|r| r["kind"] == "e2e_transcript") {
        let id = row["id"].as_str().unwrap();
        let imds_before = w.imds.requests().len();
        let aad_before = w.aad.requests().len();
        let ts_before = w.token_service.requests().len();
        let mut request = serde_json::json!({"kind": "CredentialProviderRequest", "apiVersion": "credentialprovider.kubelet.k8s.io/v1", "image": row["image"]});
        let ksa = service_account_token("system:serviceaccount:team:app");
        if let Some(req) = row.get("request") {
            request["serviceAccountToken"] = ksa.clone().into();
            request["serviceAccountAnnotations"] = req["serviceAccountAnnotations"].clone();
        }
        let args: Vec<String> = match row["mirrors"].as_str() {
            Some(m) if !m.is_empty() => vec![format!("--registry-mirror={m}"), "--v=4".into()],
            _ => vec!["--v=4".into()],
        };
        let (code, stdout, stderr) = run_plugin(&w, &row["config"], &args, &request);
        assert_eq!(code, 0, "{id}: {stderr}");
        assert!(stdout.ends_with("}\n"));
        let out: Value = serde_json::from_str(&stdout).unwrap();
        let e = &row["expect"];
        let keys: Vec<String> = out["auth"].as_object().unwrap().keys().cloned().collect();
        match e.get("stdout_auth_keys") {
            Some(k) => assert_eq!(
                keys,
                serde_json::from_value::<Vec<String>>(k.clone()).unwrap(),
                "{id}"
            ),
            None => assert_eq!(keys, ["*.azurecr.*", ACR], "{id}"),
        }
        assert_eq!(out["cacheDuration"], "1h0m0s");
        assert_eq!(out["cacheKeyType"], "Registry");
        assert!(out.get("serviceAccountTokenCacheType").is_none());
        let password = out["auth"][ACR]["password"].as_str().unwrap().to_owned();
        assert_eq!(
            out["auth"][ACR]["username"],
            "00000000-0000-0000-0000-000000000000"
        );
        if e["same_credential_for_both"] == true {
            assert_eq!(out["auth"]["mcr.microsoft.com"], out["auth"][ACR]);
        }

        // The request sequence: identity first, then the exchange at the realm host.
        let imds = &w.imds.requests()[imds_before..];
        let aad = &w.aad.requests()[aad_before..];
        let calls = e["calls"].as_array().unwrap();
        if calls[0]["url"]
            .as_str()
            .unwrap()
            .contains("169.254.169.254")
        {
            assert_eq!(imds.len(), 1, "{id}");
            assert!(aad.is_empty(), "{id}");
            assert_eq!(imds[0].header("metadata"), Some("true"));
            assert_eq!(
                imds[0].param("client_id").as_deref(),
                Some("11111111-2222-3333-4444-555555555555")
            );
            assert_eq!(
                imds[0].param("resource").as_deref(),
                Some("https://containerregistry.azure.net")
            );
        } else {
            // kcred skips MSAL's instance and tenant discovery: only the token POST.
            assert!(imds.is_empty(), "{id}");
            assert_eq!(aad.len(), 1, "{id}");
            assert_eq!(aad[0].path(), "/wi-tenant/oauth2/v2.0/token");
            assert_eq!(aad[0].param("client_id").as_deref(), Some("wi-client-id"));
            assert_eq!(aad[0].param("client_assertion"), Some(ksa.clone()));
        }
        let ts = &w.token_service.requests()[ts_before..];
        assert_eq!(
            ts.len(),
            1,
            "{id}: only the exchange; the challenge came from the real registry"
        );
        assert_eq!(ts[0].path(), "/oauth2/exchange");
        assert_eq!(
            ts[0].param("grant_type").as_deref(),
            Some("access_token_refresh_token")
        );
        assert_eq!(ts[0].param("service").as_deref(), Some(ACR));
        assert_eq!(ts[0].param("access_token"), ts[0].param("refresh_token"));
        // Deliberate difference (row acr-239): the workload-identity exchange uses the
        // annotation's tenant so cross-tenant registries work; upstream sends azure.json's.
        let want_tenant = if aad.is_empty() {
            "tenant-from-azure-json"
        } else {
            "wi-tenant"
        };
        assert_eq!(ts[0].param("tenant").as_deref(), Some(want_tenant), "{id}");
        assert!(
            stderr.contains("challenge from mockacr.azurecr.io: status 401"),
            "{id}: {stderr}"
        );

        let creds = format!("00000000-0000-0000-0000-000000000000:{password}");
        if !pushed {
            let layout = w.dir.join("layout");
            write_oci_layout(&layout, "v1").expect("OCI layout");
            let src = format!("oci:{}:v1", layout.display());
            let (ok, out) = skopeo(
                &w.dir,
                &[
                    "--insecure-policy",
                    "copy",
                    "--dest-cert-dir",
                    &cert_dir,
                    "--dest-creds",
                    &creds,
                    &src,
                    &reference,
                ],
            );
            assert!(ok, "{id}: push failed: {out}");
            pushed = true;
        }
        let (ok, out) = skopeo(
            &w.dir,
            &[
                "inspect",
                "--cert-dir",
                &cert_dir,
                "--creds",
                &creds,
                &reference,
            ],
        );
        assert!(
            ok,
            "{id}: inspect with the plugin's credentials failed: {out}"
        );
        assert!(out.contains("\"RepoTags\""), "{out}");
    }
    let (ok, out) = skopeo(
        &w.dir,
        &["inspect", "--cert-dir", &cert_dir, "--no-creds", &reference],
    );
    assert!(!ok, "anonymous inspect must fail: {out}");
    let (ok, out) = skopeo(
        &w.dir,
        &[
            "inspect",
            "--cert-dir",
            &cert_dir,
            "--creds",
            "00000000-0000-0000-0000-000000000000:bogus",
            &reference,
        ],
    );
    assert!(!ok, "a bogus refresh token must fail: {out}");
}
