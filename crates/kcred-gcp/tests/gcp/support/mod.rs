//! Test support: an HTTP/1.1 stub server on loopback (std only) that records every
//! request, a GCE metadata-server stub and a Google STS stub speaking the exact wire
//! formats, and helpers to run the real `auth-provider-gcp` binary against them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as the stub saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower-cased → value (last wins).
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// A header value.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The path without the query.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// A canned answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Sleep this long before answering (timeouts).
    pub delay: Duration,
}

impl Reply {
    /// `status` with `body`.
    pub(crate) fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Delays the answer.
    pub(crate) fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// A loopback HTTP/1.1 server answering every request through a handler.
pub(crate) struct StubServer {
    port: u16,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Recorded>>>,
    accept: Option<JoinHandle<()>>,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// A connection the stub can serve: plain TCP or TLS over it.
pub(crate) trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

/// Turns an accepted TCP stream into a connection (e.g. a TLS handshake); `None` drops it.
pub(crate) type Acceptor = dyn Fn(TcpStream) -> Option<Box<dyn Conn>> + Send + Sync;

fn read_request(stream: &mut dyn Conn) -> Option<Recorded> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    let mut body = Vec::new();
    if let Some(len) = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

fn serve(mut stream: Box<dyn Conn>, handler: &Handler, log: &Mutex<Vec<Recorded>>) {
    let Some(req) = read_request(&mut *stream) else {
        return;
    };
    let reply = handler(&req);
    log.lock().unwrap().push(req);
    if !reply.delay.is_zero() {
        std::thread::sleep(reply.delay);
    }
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
}

impl StubServer {
    /// Starts a server on `127.0.0.1:<free port>`.
    pub(crate) fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_with(
            Arc::new(|s: TcpStream| Some(Box::new(s) as Box<dyn Conn>)),
            handler,
        )
    }

    /// Starts a server whose connections go through `acceptor` first.
    pub(crate) fn start_with(
        acceptor: Arc<Acceptor>,
        handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = {
            let stop = stop.clone();
            let log = log.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let handler = handler.clone();
                    let log = log.clone();
                    let acceptor = acceptor.clone();
                    std::thread::spawn(move || {
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                        if let Some(conn) = acceptor(stream) {
                            serve(conn, &*handler, &log);
                        }
                    });
                }
            })
        };
        StubServer {
            port,
            stop,
            log,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Requests served so far, in arrival order.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
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
