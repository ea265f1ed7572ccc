//! Shared test support: a test PKI made with the `openssl` CLI, TLS for the stub servers, RS256
//! JWTs, and stubs speaking the exact wire formats of IMDS, the AAD token endpoint, identity
//! bindings and the ACR token service (`/v2/` challenge, `/oauth2/exchange`, `/oauth2/token`).
#![allow(dead_code)]

use std::collections::HashSet;
use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use kcred_testutil::http_stub::{Stream, StubRequest, StubResponse, StubServer};
use kcred_testutil::pki::openssl;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};

/// The test PKI (one per test process).
pub(crate) struct Pki {
    /// Directory holding every file.
    pub dir: PathBuf,
    /// CA certificate (trust this).
    pub ca_crt: PathBuf,
    /// Server certificate and key (SANs: 127.0.0.1, localhost, mockacr.azurecr.io, api.example.com).
    pub tls_crt: PathBuf,
    pub tls_key: PathBuf,
    /// JWT signer (self-signed; the registry's `rootcertbundle`).
    pub signer_crt: PathBuf,
    pub signer_key_der: Vec<u8>,
    pub signer_crt_der: Vec<u8>,
    /// A service principal's certificate and key in one PEM, and the certificate's DER.
    pub sp_pem: PathBuf,
    pub sp_crt_der: Vec<u8>,
    _tmp: tempfile::TempDir,
}

fn pem_to_der(dir: &Path, kind: &str, input: &str, output: &str) -> Vec<u8> {
    match kind {
        "x509" => openssl(
            dir,
            &["x509", "-in", input, "-outform", "DER", "-out", output],
        ),
        _ => openssl(
            dir,
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", input, "-outform", "DER", "-out", output,
            ],
        ),
    }
    std::fs::read(dir.join(output)).expect("der written")
}

/// The PKI, generated on first use.
pub(crate) fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path().to_path_buf();
        let subj = |cn: &str| format!("/CN={cn}");
        openssl(&d, &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", &subj("kcred test CA")]);
        std::fs::write(
            d.join("leaf.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:mockacr.azurecr.io,DNS:myacr.azurecr.io,DNS:api.example.com\n",
        )
        .expect("ext");
        openssl(&d, &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tls.key", "-out", "tls.csr", "-subj", &subj("localhost")]);
        openssl(&d, &["x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "tls.crt", "-days", "2", "-extfile", "leaf.ext"]);
        openssl(&d, &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "signer.key", "-out", "signer.crt", "-days", "2", "-subj", &subj("kcred test token signer")]);
        openssl(&d, &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "sp.key", "-out", "sp.crt", "-days", "2", "-subj", &subj("kcred test service principal")]);
        let sp_pem = d.join("sp.pem");
        let mut pem = std::fs::read(d.join("sp.crt")).expect("sp crt");
        pem.extend(std::fs::read(d.join("sp.key")).expect("sp key"));
        std::fs::write(&sp_pem, pem).expect("sp pem");
        Pki {
            ca_crt: d.join("ca.crt"),
            tls_crt: d.join("tls.crt"),
            tls_key: d.join("tls.key"),
            signer_crt: d.join("signer.crt"),
            signer_key_der: pem_to_der(&d, "key", "signer.key", "signer.key.der"),
            signer_crt_der: pem_to_der(&d, "x509", "signer.crt", "signer.crt.der"),
            sp_crt_der: pem_to_der(&d, "x509", "sp.crt", "sp.crt.der"),
            sp_pem,
            dir: d,
            _tmp: tmp,
        }
    })
}

fn server_config() -> Arc<rustls::ServerConfig> {
    static CFG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    CFG.get_or_init(|| {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let p = pki();
        let mut chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&p.tls_crt)
            .expect("crt")
            .map(|c| c.expect("crt"))
            .collect();
        chain.extend(
            CertificateDer::pem_file_iter(&p.ca_crt)
                .expect("ca")
                .map(|c| c.expect("ca")),
        );
        let key = PrivateKeyDer::from_pem_file(&p.tls_key).expect("key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .expect("server config"),
        )
    })
    .clone()
}

/// Wraps accepted connections in TLS with the test server certificate.
pub(crate) fn tls_wrap(stream: TcpStream) -> io::Result<Box<dyn Stream>> {
    let conn = rustls::ServerConnection::new(server_config()).map_err(io::Error::other)?;
    Ok(Box::new(rustls::StreamOwned::new(conn, stream)))
}

/// A TLS stub server.
pub(crate) fn start_tls(
    handler: impl Fn(&StubRequest) -> StubResponse + Send + Sync + 'static,
) -> StubServer {
    StubServer::start(tls_wrap, handler)
}

/// Seconds since the epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An RS256 JWT signed by the test signer, with `x5c` = the signer certificate.
pub(crate) fn sign_jwt(claims: &serde_json::Value) -> String {
    let p = pki();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [STANDARD.encode(&p.signer_crt_der)]});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = RsaKeyPair::from_pkcs8(&p.signer_key_der).expect("signer key");
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The header and claims of a JWT (no signature check).
pub(crate) fn jwt_parts(token: &str) -> Option<(serde_json::Value, serde_json::Value)> {
    let mut it = token.split('.');
    let h = URL_SAFE_NO_PAD.decode(it.next()?).ok()?;
    let c = URL_SAFE_NO_PAD.decode(it.next()?).ok()?;
    Some((
        serde_json::from_slice(&h).ok()?,
        serde_json::from_slice(&c).ok()?,
    ))
}

/// The claims of a JWT.
pub(crate) fn jwt_claims(token: &str) -> Option<serde_json::Value> {
    jwt_parts(token).map(|(_, c)| c)
}

/// The AAD token an identity receives: `aud` = resource, `appid`, `tid`.
pub(crate) fn aad_token(resource: &str, appid: &str, tenant: &str) -> String {
    let n = now();
    sign_jwt(
        &serde_json::json!({"aud": resource, "appid": appid, "oid": appid, "tid": tenant, "iat": n, "nbf": n, "exp": n + 3600}),
    )
}

/// IMDS: `GET /metadata/identity/oauth2/token` with `Metadata: true` (else 400, as real IMDS).
pub(crate) fn imds_handler(req: &StubRequest) -> StubResponse {
    if req.path() != "/metadata/identity/oauth2/token" {
        return StubResponse::text(404, "not found");
    }
    if req.header("Metadata") != Some("true") {
        return StubResponse::json(
            400,
            r#"{"error":"invalid_request","error_description":"Required metadata header not specified"}"#,
        );
    }
    let resource = req.param("resource").unwrap_or_default();
    let who = req
        .param("client_id")
        .or_else(|| req.param("msi_res_id"))
        .unwrap_or_else(|| "system-assigned".to_owned());
    if req.param("api-version").as_deref() != Some("2018-02-01") || resource.is_empty() {
        return StubResponse::json(
            400,
            r#"{"error":"invalid_request","error_description":"bad query"}"#,
        );
    }
    if who == "unknown-identity" {
        return StubResponse::json(
            400,
            r#"{"error":"invalid_request","error_description":"Identity not found"}"#,
        );
    }
    let token = aad_token(&resource, &who, "imds-tenant");
    StubResponse::json(
        200,
        serde_json::json!({"access_token": token, "client_id": who, "expires_in": "86399", "expires_on": (now() + 86399).to_string(),
                           "ext_expires_in": "86399", "not_before": now().to_string(), "resource": resource, "token_type": "Bearer"})
        .to_string(),
    )
}

/// What the AAD stub accepts.
#[derive(Clone, Debug)]
pub(crate) struct AadExpectations {
    /// The client secret accepted for any client.
    pub client_secret: String,
    /// SHA-256 thumbprint (base64url) of the accepted certificate.
    pub cert_thumbprint: String,
}

/// AAD v2 token endpoint: `POST /<tenant>/oauth2/v2.0/token`.
pub(crate) fn aad_handler(exp: &AadExpectations, port: u16, req: &StubRequest) -> StubResponse {
    let path = req.path();
    let Some(tenant) = path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix("/oauth2/v2.0/token"))
    else {
        return StubResponse::text(404, "not found");
    };
    let bad = |code: u16, desc: &str| {
        StubResponse::json(
            code,
            serde_json::json!({"error": "invalid_client", "error_description": desc}).to_string(),
        )
    };
    if req.method != "POST" || req.param("grant_type").as_deref() != Some("client_credentials") {
        return bad(400, "AADSTS70003: unsupported grant");
    }
    let client_id = req.param("client_id").unwrap_or_default();
    let scope = req.param("scope").unwrap_or_default();
    if let Some(assertion) = req.param("client_assertion") {
        if req.param("client_assertion_type").as_deref()
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return bad(400, "AADSTS: bad client_assertion_type");
        }
        let Some((header, claims)) = jwt_parts(&assertion) else {
            return bad(401, "AADSTS50027: invalid JWT");
        };
        if header.get("x5t#S256").is_some() {
            let want_aud = format!("https://127.0.0.1:{port}/{tenant}/oauth2/v2.0/token");
            if header["x5t#S256"] != exp.cert_thumbprint.as_str()
                || claims["aud"] != want_aud.as_str()
                || claims["iss"] != client_id.as_str()
                || claims["sub"] != client_id.as_str()
            {
                return bad(
                    401,
                    "AADSTS700027: client assertion failed signature validation",
                );
            }
        } else if claims["kind"] != "service-account-token" {
            return bad(
                401,
                "AADSTS700211: no matching federated identity record found",
            );
        }
    } else if req.param("client_secret").as_deref() != Some(exp.client_secret.as_str()) {
        return bad(401, "AADSTS7000215: Invalid client secret provided.");
    }
    let resource = scope.strip_suffix("/.default").unwrap_or(&scope).to_owned();
    StubResponse::json(
        200,
        serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                           "access_token": aad_token(&resource, &client_id, tenant)})
        .to_string(),
    )
}

/// A fake Kubernetes service-account token (recognised by the AAD stub).
pub(crate) fn service_account_token(sub: &str) -> String {
    let n = now();
    sign_jwt(
        &serde_json::json!({"kind": "service-account-token", "sub": sub, "aud": ["api://AzureADTokenExchange"], "iat": n, "exp": n + 600}),
    )
}

/// The ACR token service: refresh tokens it issued.
#[derive(Default)]
pub(crate) struct AcrTokenService {
    issued: Mutex<HashSet<String>>,
}

impl AcrTokenService {
    /// `POST /oauth2/exchange`, `GET|POST /oauth2/token`; `/v2/` answers the challenge for
    /// `service` with realm `https://127.0.0.1:<port>/oauth2/token` (when it is also the registry).
    pub(crate) fn handle(&self, port: u16, service: &str, req: &StubRequest) -> StubResponse {
        match req.path() {
            "/v2/" => StubResponse::json(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#)
                .with_header(
                    "Www-Authenticate",
                    &format!(
                    "Bearer realm=\"https://127.0.0.1:{port}/oauth2/token\",service=\"{service}\""
                ),
                ),
            "/oauth2/exchange" => self.exchange(req),
            "/oauth2/token" => self.token(req),
            _ => StubResponse::text(404, "not found"),
        }
    }

    fn exchange(&self, req: &StubRequest) -> StubResponse {
        let grant = req.param("grant_type").unwrap_or_default();
        if grant != "access_token_refresh_token" && grant != "access_token" {
            return StubResponse::json(400, r#"{"errors":[{"code":"UNSUPPORTED_GRANT"}]}"#);
        }
        let Some(claims) = req.param("access_token").as_deref().and_then(jwt_claims) else {
            return StubResponse::json(401, r#"{"errors":[{"code":"INVALID_TOKEN"}]}"#);
        };
        if claims["aud"].as_str().map(|a| a.trim_end_matches('/'))
            != Some("https://containerregistry.azure.net")
        {
            return StubResponse::json(401, r#"{"errors":[{"code":"WRONG_AUDIENCE"}]}"#);
        }
        let n = now();
        let refresh = sign_jwt(&serde_json::json!({
            "iss": "Azure Container Registry", "sub": claims["appid"], "aud": req.param("service"),
            "tenant": req.param("tenant"), "grant_type": "refresh_token", "jti": format!("{n}-{}", self.issued.lock().unwrap().len()),
            "iat": n, "nbf": n, "exp": n + 3 * 3600}));
        self.issued.lock().unwrap().insert(refresh.clone());
        StubResponse::json(
            200,
            serde_json::json!({ "refresh_token": refresh }).to_string(),
        )
    }

    fn token(&self, req: &StubRequest) -> StubResponse {
        let from_basic = req
            .header("Authorization")
            .and_then(|a| a.strip_prefix("Basic "))
            .and_then(|b| {
                let raw = String::from_utf8(STANDARD.decode(b.trim()).ok()?).ok()?;
                let (user, pass) = raw.split_once(':')?;
                (user == "00000000-0000-0000-0000-000000000000").then(|| pass.to_owned())
            });
        let refresh = from_basic
            .or_else(|| req.param("refresh_token"))
            .or_else(|| {
                (req.param("username").as_deref() == Some("00000000-0000-0000-0000-000000000000"))
                    .then(|| req.param("password"))
                    .flatten()
            });
        let Some(refresh) = refresh.filter(|r| self.issued.lock().unwrap().contains(r)) else {
            return StubResponse::json(
                401,
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            );
        };
        let service = req.param("service").unwrap_or_default();
        let sub = jwt_claims(&refresh)
            .map(|c| c["sub"].clone())
            .unwrap_or_default();
        let access: Vec<serde_json::Value> = req
            .query()
            .into_iter()
            .chain(req.form())
            .filter(|(k, _)| k == "scope")
            .filter_map(|(_, s)| {
                let mut p = s.splitn(3, ':');
                let (ty, name, actions) = (p.next()?, p.next()?, p.next()?);
                Some(serde_json::json!({"type": ty, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
            })
            .collect();
        let n = now();
        let token = sign_jwt(
            &serde_json::json!({"iss": "Azure Container Registry", "sub": sub, "aud": service,
            "access": access, "iat": n, "nbf": n - 5, "exp": n + 4500, "jti": format!("a{n}")}),
        );
        StubResponse::json(
            200,
            serde_json::json!({"access_token": token, "token": token, "expires_in": 4500})
                .to_string(),
        )
    }
}

/// A Debian `docker-registry` serving TLS (the test server certificate) with token auth: it
/// challenges with realm `https://127.0.0.1:<token_port>/oauth2/token` and `service`, and
/// accepts the RS256 access tokens the token-service stub signs (`rootcertbundle` = the
/// test signer). Killed on drop.
pub(crate) struct TokenRegistry {
    child: std::process::Child,
    /// The loopback port it listens on.
    pub port: u16,
}

impl Drop for TokenRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a [`TokenRegistry`] storing its data, config and log under `dir`.
pub(crate) fn start_token_registry(dir: &Path, token_port: u16, service: &str) -> TokenRegistry {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let p = pki();
    let port = kcred_testutil::registry::free_loopback_port();
    let config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {crt}\n    key: {key}\nauth:\n  token:\n    realm: https://127.0.0.1:{token_port}/oauth2/token\n    service: {service}\n    issuer: Azure Container Registry\n    rootcertbundle: {signer}\n",
        data = dir.join("data").display(),
        crt = p.tls_crt.display(),
        key = p.tls_key.display(),
        signer = p.signer_crt.display(),
    );
    let cfg = dir.join("registry.yml");
    std::fs::write(&cfg, config).unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("registry.log")).unwrap())
        .spawn()
        .expect("docker-registry starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "registry did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    TokenRegistry { child, port }
}
