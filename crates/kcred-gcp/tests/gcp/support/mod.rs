//! Test support: kcred-testutil's loopback stub server (recording every request), a GCE
//! metadata-server stub and a Google STS stub speaking the exact wire formats on it, and
//! helpers to run the real `auth-provider-gcp` binary against them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// One request as the stub saw it, and a canned answer: kcred-testutil's one stub server.
pub(crate) use kcred_testutil::http_stub::{
    Stream as Conn, StubRequest as Recorded, StubResponse as Reply,
};

/// Wraps an accepted connection (TLS); `None` drops it.
pub(crate) type Acceptor = dyn Fn(TcpStream) -> Option<Box<dyn Conn>> + Send + Sync;

/// A loopback HTTP/1.1 server answering every request through a handler
/// (kcred-testutil's [`kcred_testutil::http_stub::StubServer`]).
pub(crate) struct StubServer(kcred_testutil::http_stub::StubServer);

impl StubServer {
    /// Starts a plain-HTTP server on `127.0.0.1:<free port>`.
    pub(crate) fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        StubServer(kcred_testutil::http_stub::StubServer::start_plain(handler))
    }

    /// Starts a server whose connections go through `acceptor` first.
    pub(crate) fn start_with(
        acceptor: Arc<Acceptor>,
        handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        StubServer(kcred_testutil::http_stub::StubServer::start(
            move |s| {
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                acceptor(s)
                    .ok_or_else(|| std::io::Error::other("connection refused by the acceptor"))
            },
            handler,
        ))
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn base(&self) -> String {
        self.0.base()
    }

    /// Port.
    pub(crate) fn port(&self) -> u16 {
        self.0.port()
    }

    /// Requests served so far, in arrival order.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.0.requests()
    }
}

/// Metadata paths (under `/computeMetadata/v1/`) → answer; unknown paths are 404, and a
/// request without `Metadata-Flavor: Google` is refused with 403 as the real server does.
pub(crate) fn metadata_server(routes: BTreeMap<String, Reply>) -> StubServer {
    StubServer::start(move |req| {
        if req.header("metadata-flavor") != Some("Google") {
            return Reply::new(403, "Missing Metadata-Flavor:Google header.");
        }
        let path = req
            .path()
            .strip_prefix("/computeMetadata/v1/")
            .unwrap_or("");
        routes
            .get(path)
            .cloned()
            .unwrap_or_else(|| Reply::new(404, ""))
    })
}

/// A metadata server whose default service account has `token` (valid `expires_in` s)
/// and an email.
pub(crate) fn node_sa_metadata(token: &str, expires_in: u64) -> StubServer {
    let mut routes = BTreeMap::new();
    routes.insert(
        "instance/service-accounts/default/token".to_owned(),
        Reply::new(
            200,
            format!(
                "{{\"access_token\":\"{token}\",\"expires_in\":{expires_in},\"token_type\":\"Bearer\"}}"
            ),
        )
        .with_header("Content-Type", "application/json"),
    );
    routes.insert(
        "instance/service-accounts/default/email".to_owned(),
        Reply::new(200, "node-sa@project.iam.gserviceaccount.com"),
    );
    metadata_server(routes)
}

/// An STS stub at `/v1/token`: answers `reply` to a well-formed JSON exchange request and
/// 400 `{"error": "invalid_request"}` to anything else.
pub(crate) fn sts_server(reply: Reply) -> StubServer {
    StubServer::start(move |req| {
        let ok = req.method == "POST"
            && req.path() == "/v1/token"
            && req.header("content-type") == Some("application/json")
            && serde_json::from_slice::<serde_json::Value>(&req.body).is_ok();
        if ok {
            reply.clone()
        } else {
            Reply::new(400, "{\"error\": \"invalid_request\"}")
        }
    })
}

/// The STS success body of the upstream test.
pub(crate) fn sts_ok(token: &str, expires_in: u64) -> Reply {
    Reply::new(
        200,
        format!(
            "{{\"access_token\": \"{token}\", \"issued_token_type\": \"urn:ietf:params:oauth:token-type:access_token\", \"token_type\": \"Bearer\", \"expires_in\": {expires_in}}}"
        ),
    )
}

/// The STS failure of the upstream test convention.
pub(crate) fn sts_invalid_grant() -> Reply {
    Reply::new(400, "{\"error\": \"invalid_grant\"}")
}

/// The plugin binary.
pub(crate) fn plugin_bin() -> &'static str {
    env!("CARGO_BIN_EXE_auth-provider-gcp")
}

/// Runs the plugin with a clean environment plus `env`, `args` and `stdin`.
pub(crate) fn run_plugin(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(plugin_bin());
    cmd.args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn auth-provider-gcp");
    {
        let mut sin = child.stdin.take().unwrap();
        let _ = sin.write_all(stdin);
    }
    child
        .wait_with_output()
        .expect("wait for auth-provider-gcp")
}

/// Environment pointing the plugin at stubs (`sts` optional).
pub(crate) fn stub_env(metadata: &StubServer, sts: Option<&StubServer>) -> Vec<(String, String)> {
    let mut env = vec![(
        "KCRED_GCP_METADATA_URL".to_owned(),
        format!("{}/computeMetadata/v1/", metadata.base()),
    )];
    if let Some(s) = sts {
        env.push((
            "KCRED_GCP_STS_URL".to_owned(),
            format!("{}/v1/token", s.base()),
        ));
    }
    env
}

/// Borrows an owned environment list.
pub(crate) fn env_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// A v1 request for `image`.
pub(crate) fn request(image: &str) -> Vec<u8> {
    format!(
        "{{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"image\":\"{image}\"}}\n"
    )
    .into_bytes()
}

/// The conformance table.
pub(crate) fn gcp_cases() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/gcp_cases.json"
    );
    serde_json::from_slice(&std::fs::read(path).expect("read gcp_cases.json"))
        .expect("gcp_cases.json is JSON")
}

/// The cases of one suite.
pub(crate) fn suite(cases: &serde_json::Value, name: &str) -> Vec<serde_json::Value> {
    cases["suites"][name]["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("suite {name} has cases"))
        .clone()
}
