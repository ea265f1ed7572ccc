//! STS over TLS: the plugin trusts the CA named by `SSL_CERT_FILE` (or a directory in
//! `SSL_CERT_DIR`) and refuses a server whose CA it was not given. Certificates are made
//! with the `openssl` command; the test is skipped, saying so, when it is missing.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crate::support::*;
use kcred_testutil::pki;

fn make_pki(dir: &Path) {
    pki::ec_ca(dir, "ca", "kcred test CA");
    pki::ec_leaf(dir, "server", "/CN=127.0.0.1", "ca", pki::SERVER_EXT);
}

fn tls_acceptor(dir: &Path) -> Arc<Acceptor> {
    let chain: Vec<rustls::pki_types::CertificateDer<'static>> =
        kcred_gcp_pem_certs(&std::fs::read(dir.join("server.crt")).unwrap());
    let key_pem = std::fs::read(dir.join("server.key")).unwrap();
    let key = ureq::tls::parse_pem(&key_pem)
        .find_map(|item| match item {
            Ok(ureq::tls::PemItem::PrivateKey(k)) => Some(k.der().to_vec()),
            _ => None,
        })
        .expect("server key");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let config = Arc::new(config);
    Arc::new(move |tcp| {
        let conn = rustls::ServerConnection::new(config.clone()).ok()?;
        Some(Box::new(rustls::StreamOwned::new(conn, tcp)) as Box<dyn Conn>)
    })
}

fn kcred_gcp_pem_certs(pem: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.der().to_vec().into()),
            _ => None,
        })
        .collect()
}

#[test]
fn sts_over_tls_trusts_ssl_cert_file_only() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED sts_over_tls_trusts_ssl_cert_file_only: `openssl` is not installed (apt-get install openssl)");
        return;
    }
    let pki = tempfile::tempdir().unwrap();
    make_pki(pki.path());
    let sts = StubServer::start_with(tls_acceptor(pki.path()), |req| {
        if req.method == "POST" && req.path() == "/v1/token" {
            sts_ok("ya29.over-tls", 3600)
        } else {
            Reply::new(404, "")
        }
    });
    let metadata = node_sa_metadata("ya29.node", 3600);
    let sts_url = format!("https://127.0.0.1:{}/v1/token", sts.port());
    let stdin = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"gcr.io/p/i","serviceAccountToken":"jwt","serviceAccountAnnotations":{"iam.gke.io/enable-wi-image-pull":"true"}}"#;
    let args = [
        "get-credentials",
        "--identity-provider=idp",
        "--project-id=p",
    ];
    let md_url = format!("{}/computeMetadata/v1/", metadata.base());
    let ca = pki.path().join("ca.crt").display().to_string();
    let pki_dir = pki.path().display().to_string();

    for env in [
        vec![
            ("KCRED_GCP_METADATA_URL", md_url.as_str()),
            ("KCRED_GCP_STS_URL", sts_url.as_str()),
            ("SSL_CERT_FILE", ca.as_str()),
        ],
        vec![
            ("KCRED_GCP_METADATA_URL", md_url.as_str()),
            ("KCRED_GCP_STS_URL", sts_url.as_str()),
            ("SSL_CERT_DIR", pki_dir.as_str()),
        ],
    ] {
        let out = run_plugin(&args, &env, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{env:?}: {stderr}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["auth"]["gcr.io"]["password"], "ya29.over-tls");
    }
    assert_eq!(sts.requests().len(), 2);

    // Trusting only an unrelated CA (the server's own leaf is not a trust anchor here):
    // the handshake fails, with a TLS error naming the URL.
    let other = tempfile::tempdir().unwrap();
    make_pki(other.path());
    let other_ca = other.path().join("ca.crt").display().to_string();
    let env = [
        ("KCRED_GCP_METADATA_URL", md_url.as_str()),
        ("KCRED_GCP_STS_URL", sts_url.as_str()),
        ("SSL_CERT_FILE", other_ca.as_str()),
    ];
    let out = run_plugin(&args, &env, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Workload Identity exchange failed: Post \"{sts_url}\": "
        )),
        "{stderr}"
    );
    assert_eq!(sts.requests().len(), 2, "no request got through");

    // SSL_CERT_FILE pointing at nothing usable (and, since Go also reads the certificate
    // directories, SSL_CERT_DIR naming an empty one): a clear message.
    let empty = tempfile::tempdir().unwrap();
    let env = [
        ("KCRED_GCP_METADATA_URL", md_url.as_str()),
        ("KCRED_GCP_STS_URL", sts_url.as_str()),
        ("SSL_CERT_FILE", "/nonexistent/ca.pem"),
        ("SSL_CERT_DIR", empty.path().to_str().unwrap()),
    ];
    let out = run_plugin(&args, &env, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("no TLS trust roots found (looked at /nonexistent/ca.pem); set SSL_CERT_FILE to a PEM bundle"), "{stderr}");
}
