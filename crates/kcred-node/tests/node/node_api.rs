//! Annotating the node through a TLS stub of the API server that checks what the real one
//! checks for this call: method, path, bearer token, merge-patch content type and body; and
//! answers errors with a `Status` object. The stub's certificate comes from a throwaway CA
//! made with the `openssl` command (skipped, saying so, when it is missing).

use std::collections::BTreeMap;
use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use kcred_node::node_api::{InCluster, NodeApiError, VERSION_ANNOTATION};
use kcred_testutil::http_stub::{Stream, StubResponse, StubServer};
use kcred_testutil::pki;

/// `NAME.crt`/`NAME.key`: a CA, and `server.crt` for 127.0.0.1 signed by `ca`.
fn make_pki(dir: &Path, ca: &str) {
    for name in ["ca", "other-ca"] {
        pki::ec_ca(dir, name, name);
    }
    pki::ec_leaf(dir, "server", "/CN=127.0.0.1", ca, pki::SERVER_EXT);
}

fn tls(dir: &Path) -> impl Fn(TcpStream) -> io::Result<Box<dyn Stream>> + Send + Sync + 'static {
    let chain: Vec<rustls::pki_types::CertificateDer<'static>> =
        ureq::tls::parse_pem(&std::fs::read(dir.join("server.crt")).unwrap())
            .filter_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.der().to_vec().into()),
                _ => None,
            })
            .collect();
    let key = ureq::tls::parse_pem(&std::fs::read(dir.join("server.key")).unwrap())
        .find_map(|i| match i {
            Ok(ureq::tls::PemItem::PrivateKey(k)) => Some(k.der().to_vec()),
            _ => None,
        })
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()))
    .unwrap();
    let config = Arc::new(config);
    move |tcp| {
        let conn = rustls::ServerConnection::new(config.clone()).map_err(io::Error::other)?;
        Ok(Box::new(rustls::StreamOwned::new(conn, tcp)) as Box<dyn Stream>)
    }
}

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.test-service-account-token.sig";

fn stub(dir: &Path) -> StubServer {
    StubServer::start(tls(dir), |req| {
        if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return StubResponse::json(
                401,
                r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#,
            );
        }
        if req.method != "PATCH"
            || req.header("content-type") != Some("application/merge-patch+json")
        {
            return StubResponse::json(
                415,
                r#"{"kind":"Status","status":"Failure","message":"unsupported","code":415}"#,
            );
        }
        match req.path() {
            "/api/v1/nodes/node-1" => {
                let body: serde_json::Value = match serde_json::from_slice(&req.body) {
                    Ok(v) => v,
                    Err(_) => {
                        return StubResponse::json(
                            400,
                            r#"{"kind":"Status","message":"bad body","code":400}"#,
                        )
                    }
                };
                StubResponse::json(200, serde_json::json!({"kind":"Node","apiVersion":"v1","metadata":{"name":"node-1","annotations":body["metadata"]["annotations"]}}).to_string())
            }
            "/api/v1/nodes/node-2" => StubResponse::json(
                403,
                r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"nodes \"node-2\" is forbidden: User \"system:serviceaccount:kcred-system:kcred-installer\" cannot patch resource \"nodes\" in API group \"\" at the cluster scope","reason":"Forbidden","code":403}"#,
            ),
            _ => StubResponse::json(404, r#"{"kind":"Status","message":"not found","code":404}"#),
        }
    })
}

#[test]
fn annotates_with_the_service_account_and_only_its_ca() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED: `openssl` is not installed (apt-get install openssl)");
        return;
    }
    let pki = tempfile::tempdir().unwrap();
    make_pki(pki.path(), "ca");
    let server = stub(pki.path());
    let url = format!("https://127.0.0.1:{}", server.port());
    let ca = std::fs::read(pki.path().join("ca.crt")).unwrap();
    let api = InCluster::new(url.clone(), TOKEN.into(), &ca).unwrap();
    assert!(!format!("{api:?}").contains("test-service-account-token"));
    let mut ann = BTreeMap::new();
    ann.insert(VERSION_ANNOTATION.to_owned(), "0.1.0".to_owned());
    api.annotate_node("node-1", &ann).unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"metadata": {"annotations": {"kcred.dev/installed-version": "0.1.0"}}})
    );

    // RBAC refusal: the API server's message, never the token.
    let e = api.annotate_node("node-2", &ann).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, NodeApiError::Status { status: 403, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("cannot patch resource \\\"nodes\\\"")
            || msg.contains("cannot patch resource \"nodes\""),
        "{msg}"
    );
    assert!(!msg.contains("test-service-account-token"), "{msg}");

    // A hostile node name never reaches the server.
    let n = server.requests().len();
    assert!(matches!(
        api.annotate_node("../../namespaces/x", &ann),
        Err(NodeApiError::NodeName(..))
    ));
    assert_eq!(server.requests().len(), n);

    // A server whose certificate another CA signed is refused before any request.
    let other = std::fs::read(pki.path().join("other-ca.crt")).unwrap();
    let api = InCluster::new(url, TOKEN.into(), &other).unwrap();
    let e = api.annotate_node("node-1", &ann).unwrap_err();
    assert!(matches!(e, NodeApiError::Transport { .. }), "{e}");
    assert!(!e.to_string().contains("test-service-account-token"));
    assert_eq!(
        server.requests().len(),
        n,
        "nothing was sent to an untrusted server"
    );
}
