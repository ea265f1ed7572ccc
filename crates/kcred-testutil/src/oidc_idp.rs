//! A self-managed cluster's service-account issuer for end-to-end tests: a test CA and TLS
//! for loopback servers (openssl CLI + rustls), signing keys made with openssl, projected
//! service-account tokens shaped exactly like kube-apiserver's, and a static HTTPS host
//! serving the discovery documents `kcred oidc discovery` wrote (what a homelab puts on
//! object storage).
//!
//! Token shape: kubernetes/kubernetes `pkg/serviceaccount/claims.go` (`Claims`): registered
//! claims `aud`, `exp`, `iat`, `iss`, `jti`, `nbf`, `sub` and the private `kubernetes.io`
//! block (`namespace`, `node{name,uid}`, `pod{name,uid}`, `serviceaccount{name,uid}`), keys
//! sorted as go-jose serialises merged claims; header `{"alg":…,"kid":…}` with
//! kube-apiserver's key ID.

use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, RsaKeyPair};

use crate::http_stub::{Stream, StubRequest, StubResponse, StubServer};
use crate::pki::openssl;

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn pem_body_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    STANDARD.decode(body).expect("PEM body is base64")
}

/// A test CA and one server certificate (SANs given), as PEM files in `dir`.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The CA certificate (trust this: `--ca-file`, `SSL_CERT_FILE`, skopeo `--cert-dir`).
    pub ca_crt: PathBuf,
    /// The server certificate.
    pub tls_crt: PathBuf,
    /// The server key.
    pub tls_key: PathBuf,
}

impl TestCa {
    /// Generates a CA and a server certificate for `127.0.0.1`, `localhost` and `dns_names`.
    pub fn generate(dir: &Path, dns_names: &[&str]) -> TestCa {
        std::fs::create_dir_all(dir).expect("pki dir");
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=kcred oidc test CA",
            ],
        );
        let mut san = String::from("IP:127.0.0.1,DNS:localhost");
        for d in dns_names {
            san.push_str(&format!(",DNS:{d}"));
        }
        std::fs::write(
            dir.join("leaf.ext"),
            format!("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName={san}\n"),
        )
        .expect("ext");
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "tls.key",
                "-out",
                "tls.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "tls.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "tls.crt",
                "-days",
                "2",
                "-extfile",
                "leaf.ext",
            ],
        );
        TestCa {
            ca_crt: dir.join("ca.crt"),
            tls_crt: dir.join("tls.crt"),
            tls_key: dir.join("tls.key"),
        }
    }

    /// A rustls server config presenting the server certificate (chain with the CA).
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let mut chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.tls_crt)
            .expect("crt")
            .map(|c| c.expect("crt"))
            .collect();
        chain.extend(
            CertificateDer::pem_file_iter(&self.ca_crt)
                .expect("ca")
                .map(|c| c.expect("ca")),
        );
        let key = PrivateKeyDer::from_pem_file(&self.tls_key).expect("key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .expect("server config"),
        )
    }

    /// A `wrap` function for [`StubServer::start`] serving TLS with this certificate.
    pub fn tls_wrap(
        &self,
    ) -> impl Fn(TcpStream) -> io::Result<Box<dyn Stream>> + Send + Sync + 'static {
        let cfg = self.server_config();
        move |stream| {
            let conn = rustls::ServerConnection::new(cfg.clone()).map_err(io::Error::other)?;
            Ok(Box::new(rustls::StreamOwned::new(conn, stream)) as Box<dyn Stream>)
        }
    }

    /// Starts an HTTPS stub server with `handler`.
    pub fn start_https(
        &self,
        handler: impl Fn(&StubRequest) -> StubResponse + Send + Sync + 'static,
    ) -> StubServer {
        StubServer::start(self.tls_wrap(), handler)
    }
}

/// The kind of a service-account signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA 2048 (`RS256`), kubeadm's and k3s's default.
    Rsa2048,
    /// EC P-256 (`ES256`).
    P256,
    /// EC P-384 (`ES384`).
    P384,
}

/// A service-account signing key pair made with openssl: the private key stays in memory
/// for signing test tokens; the public PEM file is what `kcred oidc discovery --key` reads.
pub struct SigningKey {
    kind: KeyKind,
    pkcs8: Vec<u8>,
    /// The public key PEM file (`openssl pkey -pubout`).
    pub public_pem: PathBuf,
    /// The private key PEM file (PKCS#8), for tests that hand a private key to the CLI.
    pub private_pem: PathBuf,
    /// kube-apiserver's key ID for it.
    pub kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kind", &self.kind)
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    /// Generates a key named `name` in `dir` (`<name>.key`, `<name>.pub`).
    pub fn generate(dir: &Path, name: &str, kind: KeyKind) -> SigningKey {
        std::fs::create_dir_all(dir).expect("key dir");
        let key = format!("{name}.key");
        let public = format!("{name}.pub");
        match kind {
            KeyKind::Rsa2048 => openssl(
                dir,
                &[
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                    "-out",
                    &key,
                ],
            ),
            KeyKind::P256 => openssl(
                dir,
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                    &key,
                ],
            ),
            KeyKind::P384 => openssl(
                dir,
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-384",
                    "-out",
                    &key,
                ],
            ),
        }
        openssl(dir, &["pkey", "-in", &key, "-pubout", "-out", &public]);
        let pkcs8 = pem_body_der(&std::fs::read_to_string(dir.join(&key)).expect("key pem"));
        let pem = std::fs::read(dir.join(&public)).expect("pub pem");
        let parsed = kcred_oidc::parse_public_keys_pem(&public, &pem).expect("public key parses");
        SigningKey {
            kind,
            pkcs8,
            public_pem: dir.join(public),
            private_pem: dir.join(key),
            kid: parsed[0].key_id(),
        }
    }

    /// The JWS algorithm kube-apiserver uses with this key.
    pub fn alg(&self) -> &'static str {
        match self.kind {
            KeyKind::Rsa2048 => "RS256",
            KeyKind::P256 => "ES256",
            KeyKind::P384 => "ES384",
        }
    }

    /// Signs `claims` as a compact JWS with header `{"alg":…,"kid":…}`.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let header = format!("{{\"alg\":\"{}\",\"kid\":\"{}\"}}", self.alg(), self.kid);
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = SystemRandom::new();
        let sig = match self.kind {
            KeyKind::Rsa2048 => {
                let kp = RsaKeyPair::from_pkcs8(&self.pkcs8).expect("RSA key");
                let mut sig = vec![0u8; kp.public().modulus_len()];
                kp.sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .expect("sign");
                sig
            }
            KeyKind::P256 | KeyKind::P384 => {
                let alg = if self.kind == KeyKind::P256 {
                    &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING
                } else {
                    &ring::signature::ECDSA_P384_SHA384_FIXED_SIGNING
                };
                let kp = EcdsaKeyPair::from_pkcs8(alg, &self.pkcs8, &rng).expect("EC key");
                kp.sign(&rng, input.as_bytes())
                    .expect("sign")
                    .as_ref()
                    .to_vec()
            }
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// What a projected service-account token is for: the pod, its service account and node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectedToken {
    /// `iss`: kube-apiserver's `--service-account-issuer`.
    pub issuer: String,
    /// `aud` (the kubelet's `serviceAccountTokenAudience`).
    pub audiences: Vec<String>,
    /// Namespace.
    pub namespace: String,
    /// Service-account name.
    pub service_account: String,
    /// Pod name.
    pub pod: String,
    /// Node name.
    pub node: String,
    /// `iat` = `nbf`.
    pub issued_at: i64,
    /// Seconds until `exp` (the kubelet asks for 3600 by default... at least 600).
    pub lifetime_secs: i64,
}

fn uuid_like(seed: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let h: String = d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

impl ProjectedToken {
    /// A one-hour token for `namespace/service_account` in pod `app-0` on node `node-1`,
    /// issued now.
    pub fn new(
        issuer: &str,
        audience: &str,
        namespace: &str,
        service_account: &str,
    ) -> ProjectedToken {
        ProjectedToken {
            issuer: issuer.to_owned(),
            audiences: vec![audience.to_owned()],
            namespace: namespace.to_owned(),
            service_account: service_account.to_owned(),
            pod: "app-0".to_owned(),
            node: "node-1".to_owned(),
            issued_at: now(),
            lifetime_secs: 3600,
        }
    }

    /// `system:serviceaccount:NS:NAME`.
    pub fn subject(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace, self.service_account
        )
    }

    /// The claims, keys sorted at every level as kube-apiserver emits them.
    pub fn claims(&self) -> serde_json::Value {
        let uid = |what: &str, name: &str| uuid_like(&format!("{what}/{}/{name}", self.namespace));
        serde_json::json!({
            "aud": self.audiences,
            "exp": self.issued_at + self.lifetime_secs,
            "iat": self.issued_at,
            "iss": self.issuer,
            "jti": uuid_like(&format!("jti/{}/{}", self.issued_at, self.pod)),
            "kubernetes.io": {
                "namespace": self.namespace,
                "node": {"name": self.node, "uid": uid("node", &self.node)},
                "pod": {"name": self.pod, "uid": uid("pod", &self.pod)},
                "serviceaccount": {"name": self.service_account, "uid": uid("sa", &self.service_account)},
            },
            "nbf": self.issued_at,
            "sub": self.subject(),
        })
    }

    /// Signed with `key`.
    pub fn sign(&self, key: &SigningKey) -> String {
        key.sign(&self.claims())
    }
}

/// Serves the files under `dir` (what `kcred oidc discovery --out DIR` wrote) over HTTPS,
/// `GET` only, with kube-apiserver's content types (`application/json` for the discovery
/// document, `application/jwk-set+json` for the JWKS). `prefix` is the issuer's path
/// (`/cluster1` or empty).
pub fn serve_issuer_dir(ca: &TestCa, dir: &Path, prefix: &str) -> StubServer {
    let dir = dir.to_path_buf();
    let prefix = prefix.trim_end_matches('/').to_owned();
    ca.start_https(move |req| {
        if req.method != "GET" {
            return StubResponse::text(405, "method not allowed");
        }
        let Some(rel) = req
            .path()
            .strip_prefix(&prefix)
            .and_then(|p| p.strip_prefix('/'))
        else {
            return StubResponse::text(404, "not found");
        };
        if rel.is_empty() || rel.split('/').any(|s| s.is_empty() || s == "..") {
            return StubResponse::text(404, "not found");
        }
        match std::fs::read(dir.join(rel)) {
            Ok(body) => {
                let ct = if rel.ends_with("openid-configuration") {
                    "application/json"
                } else {
                    "application/jwk-set+json"
                };
                StubResponse {
                    status: 200,
                    headers: vec![
                        ("Content-Type".to_owned(), ct.to_owned()),
                        (
                            "Cache-Control".to_owned(),
                            "public, max-age=3600".to_owned(),
                        ),
                    ],
                    body,
                    delay: std::time::Duration::ZERO,
                }
            }
            Err(_) => StubResponse::text(404, "not found"),
        }
    })
}

/// The body of the here-document in a `kcred wi plan` script whose opening line starts with
/// `opening` (`cat > trust-policy.json <<'KCRED_EOF'` …); panics when the plan has none.
pub fn plan_heredoc(plan: &str, opening: &str) -> String {
    let mut lines = plan
        .lines()
        .skip_while(|l| !(l.starts_with(opening) && l.ends_with("<<'KCRED_EOF'")));
    assert!(lines.next().is_some(), "the plan has {opening:?}:\n{plan}");
    lines
        .take_while(|l| *l != "KCRED_EOF")
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The documents a verifier fetches from a [`PublishedIssuer`], in order: the discovery
/// document, then the JWKS it names.
pub const ISSUER_DOCUMENTS: [&str; 2] = [
    "/homelab/.well-known/openid-configuration",
    "/homelab/openid/v1/jwks",
];

/// A self-managed cluster's service-account issuer as an operator publishes it: the
/// cluster's signing key, its discovery document and JWKS written by the real
/// `kcred oidc discovery`, served over HTTPS (trusting `ca`) under `/homelab`; and a second
/// key that is not published, whose tokens every cloud must refuse.
pub struct PublishedIssuer {
    /// The cluster's signing key (published).
    pub key: SigningKey,
    /// A key that is not published.
    pub other_key: SigningKey,
    /// The issuer URL (`https://127.0.0.1:PORT/homelab`).
    pub url: String,
    /// The HTTPS host serving the documents.
    pub host: StubServer,
}

impl PublishedIssuer {
    /// Generates the keys in `dir` and publishes the issuer from `dir/site`.
    pub fn publish(dir: &Path, ca: &TestCa) -> PublishedIssuer {
        let key = SigningKey::generate(dir, "sa", KeyKind::Rsa2048);
        let other_key = SigningKey::generate(dir, "not-published", KeyKind::Rsa2048);
        let site = dir.join("site");
        let host = serve_issuer_dir(ca, &site, "/homelab");
        let url = format!("https://127.0.0.1:{}/homelab", host.port());
        let out = std::process::Command::new(crate::bin("kcred-cli", "kcred"))
            .args(["oidc", "discovery", "--issuer", &url, "--key"])
            .arg(&key.public_pem)
            .arg("--out")
            .arg(&site)
            .output()
            .expect("kcred runs");
        assert!(
            out.status.success(),
            "kcred oidc discovery: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PublishedIssuer {
            key,
            other_key,
            url,
            host,
        }
    }
}

/// The paths requested from `host` so far, in order.
pub fn fetched_paths(host: &StubServer) -> Vec<String> {
    host.requests()
        .iter()
        .map(|r| r.path().to_owned())
        .collect()
}
