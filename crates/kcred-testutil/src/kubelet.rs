//! A kubelet node for end-to-end tests of the cloud plugins through `kcred get`: a real
//! `CredentialProviderConfig` (v1 YAML), a plugin bin dir holding the plugin under its
//! provider name, `kcred get` run with a clean environment, and a forward proxy that lets
//! `skopeo` reach a registry on loopback under a cloud registry's real host name.
//!
//! ```no_run
//! use kcred_testutil::kubelet::{HostProxy, Node, Provider};
//!
//! let provider = Provider::new("ecr-credential-provider")
//!     .match_images(&["*.dkr.ecr.*.amazonaws.com"])
//!     .default_cache_duration("12h")
//!     .args(&["get-credentials"])
//!     .env("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:5000");
//! let node = Node::new(&[provider], &[("ecr-credential-provider", "/path/to/plugin".as_ref())]);
//! let run = node.kcred_get(
//!     "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app:v1",
//!     &["--output", "auth-json"],
//!     &[("AWS_ACCESS_KEY_ID", "testing")],
//! );
//! assert_eq!(run.code, Some(0), "{}", run.stderr);
//! // A proxy that sends the ECR host's plain-HTTP traffic to a loopback registry:
//! let proxy = HostProxy::start(&[(
//!     "123456789012.dkr.ecr.us-west-2.amazonaws.com:80",
//!     "127.0.0.1:5001",
//! )]);
//! ```
//!
//! Uses only `std`. Everything a [`Node`] writes lives in one temporary directory, removed
//! when the value is dropped.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::registry::{Registry, RegistryTools, SkopeoOutcome};
use base64::Engine as _;
use serde_json::{json, Value};

/// The kubelet's config API version.
const CONFIG_API_VERSION: &str = "kubelet.config.k8s.io/v1";
/// The credential provider API version every provider here speaks.
const PROVIDER_API_VERSION: &str = "credentialprovider.kubelet.k8s.io/v1";

/// A YAML double-quoted scalar (JSON string syntax, which YAML accepts).
fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One `providers[]` entry of a `CredentialProviderConfig` (apiVersion
/// `credentialprovider.kubelet.k8s.io/v1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provider {
    /// `name`: the plugin's file name in the bin dir.
    pub name: String,
    /// `matchImages`.
    pub match_images: Vec<String>,
    /// `defaultCacheDuration` (Go duration text).
    pub default_cache_duration: String,
    /// `args` (omitted when empty).
    pub args: Vec<String>,
    /// `env` entries (`name`, `value`), omitted when empty.
    pub env: Vec<(String, String)>,
}

impl Provider {
    /// A provider named `name` with no patterns, `defaultCacheDuration: 0s`, no args or env.
    pub fn new(name: &str) -> Provider {
        Provider {
            name: name.to_owned(),
            default_cache_duration: "0s".to_owned(),
            ..Provider::default()
        }
    }

    /// Sets `matchImages`.
    pub fn match_images(mut self, patterns: &[&str]) -> Provider {
        self.match_images = patterns.iter().map(|p| (*p).to_owned()).collect();
        self
    }

    /// Sets `defaultCacheDuration`.
    pub fn default_cache_duration(mut self, duration: &str) -> Provider {
        duration.clone_into(&mut self.default_cache_duration);
        self
    }

    /// Sets `args`.
    pub fn args(mut self, args: &[&str]) -> Provider {
        self.args = args.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    /// Adds an `env` entry.
    pub fn env(mut self, name: &str, value: &str) -> Provider {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The entry as YAML lines, indented as an item of `providers:`.
    pub fn to_yaml(&self) -> String {
        let mut y = format!("  - name: {}\n", yaml_quote(&self.name));
        y.push_str(&format!("    apiVersion: {PROVIDER_API_VERSION}\n"));
        y.push_str("    matchImages:\n");
        for p in &self.match_images {
            y.push_str(&format!("      - {}\n", yaml_quote(p)));
        }
        y.push_str(&format!(
            "    defaultCacheDuration: {}\n",
            yaml_quote(&self.default_cache_duration)
        ));
        if !self.args.is_empty() {
            y.push_str("    args:\n");
            for a in &self.args {
                y.push_str(&format!("      - {}\n", yaml_quote(a)));
            }
        }
        if !self.env.is_empty() {
            y.push_str("    env:\n");
            for (name, value) in &self.env {
                y.push_str(&format!(
                    "      - name: {}\n        value: {}\n",
                    yaml_quote(name),
                    yaml_quote(value)
                ));
            }
        }
        y
    }
}

/// A whole `CredentialProviderConfig` document (kubelet `--image-credential-provider-config`).
pub fn config_yaml(providers: &[Provider]) -> String {
    let mut doc =
        format!("apiVersion: {CONFIG_API_VERSION}\nkind: CredentialProviderConfig\nproviders:\n");
    for p in providers {
        doc.push_str(&p.to_yaml());
    }
    doc
}

/// A fresh directory under the system temp dir.
fn scratch_dir(prefix: &str) -> io::Result<PathBuf> {
    scratch_dir_in(&std::env::temp_dir(), prefix)
}

/// A fresh directory under `parent`.
pub(crate) fn scratch_dir_in(parent: &Path, prefix: &str) -> io::Result<PathBuf> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = parent.join(format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// What one `kcred` run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KcredRun {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl KcredRun {
    /// stdout and stderr together, for "never printed anywhere" checks.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Asserts the run exited with `code`, showing both streams otherwise.
    pub fn assert_exit(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }

    /// Asserts stdout contains every line of `lines` (the table `kcred get` prints).
    pub fn assert_stdout_contains(&self, lines: &[String]) {
        let out = &self.stdout;
        for line in lines {
            assert!(out.contains(line.as_str()), "{line:?} in:\n{out}");
        }
    }

    /// Asserts the table reports `provider` (matched via `pattern`) as FAILED and stderr
    /// carries the kubelet's exec error for `image` (the image name without its tag).
    pub fn assert_plugin_failed(&self, provider: &str, pattern: &str, image: &str) {
        assert!(
            self.stdout.contains(&format!(
                "provider \"{provider}\": matched via \"{pattern}\", FAILED"
            )),
            "{}",
            self.stdout
        );
        let want = format!(
            "error: provider \"{provider}\" failed: error execing credential provider plugin {provider} for image {image}: exit status 1: "
        );
        assert!(self.stderr.contains(&want), "{want:?} in:\n{}", self.stderr);
    }
}

/// Standard base64 that accepts padded and unpadded input (docker writes padded `auth`).
const BASE64_ANY_PADDING: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// The `user:password` pair of an `auths.<key>.auth` value (base64 of `user:password`).
///
/// Panics (failing the calling test) when it is not base64 of UTF-8 with a colon.
pub fn basic_auth_pair(auth: &str) -> (String, String) {
    let raw = BASE64_ANY_PADDING.decode(auth).expect("base64");
    let raw = String::from_utf8(raw).expect("utf-8");
    let (user, password) = raw.split_once(':').expect("user:password");
    (user.to_owned(), password.to_owned())
}

/// The only entry of an `auth.json`: (key, username, password).
///
/// Panics (failing the calling test) unless it holds exactly one well-formed credential.
pub fn only_auth_entry(auth_json: &str) -> (String, String, String) {
    let doc: Value = serde_json::from_str(auth_json).expect("auth.json is JSON");
    let auths = doc["auths"].as_object().expect("auths");
    assert_eq!(auths.len(), 1, "one credential: {auth_json}");
    let (key, entry) = auths.iter().next().expect("one entry");
    let (user, password) = basic_auth_pair(entry["auth"].as_str().expect("auth"));
    (key.clone(), user, password)
}

/// Asserts `auth_json` is `{"auths": {}}`: what `--output auth-json` writes when no
/// provider gave credentials.
pub fn assert_no_auths(auth_json: &str) {
    let doc: Value = serde_json::from_str(auth_json).expect("auth.json is JSON");
    assert_eq!(doc, json!({"auths": {}}));
}

/// `auth.json` holding `user:password` under `key` (`{"auths":{KEY:{"auth":B64}}}`).
pub fn auth_json(key: &str, user: &str, password: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    json!({"auths": {key: {"auth": auth}}}).to_string()
}

/// A JSON string literal.
pub(crate) fn json_quote(s: &str) -> String {
    Value::from(s).to_string()
}

/// A kubelet's view of credential providers: `config.yaml` and `bin/` in a temporary
/// directory (removed on drop).
#[derive(Debug)]
pub struct Node {
    dir: PathBuf,
}

impl Node {
    /// Writes the config holding `providers` and installs each `(provider name, binary)` in
    /// the bin dir as a symlink named after the provider (as packages install plugins).
    ///
    /// Panics (failing the calling test) when a file cannot be written.
    pub fn new(providers: &[Provider], plugins: &[(&str, &Path)]) -> Node {
        let dir = scratch_dir("kcred-node").expect("create the node's directory");
        let node = Node { dir };
        std::fs::create_dir(node.bin_dir()).expect("create bin dir");
        for (name, binary) in plugins {
            std::os::unix::fs::symlink(binary, node.bin_dir().join(name))
                .unwrap_or_else(|e| panic!("install {name} -> {}: {e}", binary.display()));
        }
        std::fs::write(node.config_path(), config_yaml(providers)).expect("write config");
        node
    }

    /// The node's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `name` inside the node's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The plugin bin dir (kubelet `--image-credential-provider-bin-dir`).
    pub fn bin_dir(&self) -> PathBuf {
        self.path("bin")
    }

    /// The config file (kubelet `--image-credential-provider-config`).
    pub fn config_path(&self) -> PathBuf {
        self.path("config.yaml")
    }

    /// The config file's text.
    pub fn config_text(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap_or_default()
    }

    /// Writes `content` to `name` in the node's directory and returns its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }

    /// `kcred get IMAGE --config CFG --bin-dir DIR EXTRA…` with exactly the environment `env`
    /// (as the kubelet's own environment: plugins inherit it, plus the config's `env`).
    pub fn kcred_get(&self, image: &str, extra: &[&str], env: &[(&str, &str)]) -> KcredRun {
        let kcred = crate::bin("kcred-cli", "kcred");
        let out = Command::new(kcred)
            .arg("get")
            .arg(image)
            .arg("--config")
            .arg(self.config_path())
            .arg("--bin-dir")
            .arg(self.bin_dir())
            .args(extra)
            .env_clear()
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("kcred runs");
        KcredRun {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------
// A forward proxy that maps cloud registry hosts to loopback.

/// The first request line of one connection the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedConnection {
    /// `CONNECT host:443 HTTP/1.1` or `GET http://host/v2/ HTTP/1.1`.
    pub request_line: String,
    /// The `host:port` it was for.
    pub authority: String,
    /// Whether a route sent it to a backend (otherwise it was answered 502).
    pub routed: bool,
}

/// A forward HTTP proxy on `127.0.0.1` that sends connections for chosen `host:port`
/// authorities to other addresses, and refuses (502) everything else.
///
/// Clients that honour `HTTP_PROXY`/`HTTPS_PROXY` (skopeo and every Go program) then reach a
/// registry on loopback under a cloud registry's real host name, so the auth file keyed by
/// that host is used exactly as `kcred get` wrote it:
///
/// - `CONNECT host:443` (HTTPS) is answered `200` and tunnelled: TLS runs end to end between
///   the client and the backend, whose certificate must be valid for `host`;
/// - a plain-HTTP request in absolute form (`GET http://host/v2/ HTTP/1.1`) is relayed
///   unchanged (Go's HTTP server accepts absolute-form targets), with the rest of the
///   connection piped both ways. Go may reuse such a connection for a request to another
///   plain-HTTP host; tests should route one plain-HTTP host per proxy.
///
/// Go never proxies loopback addresses, so a token realm on `127.0.0.1` is reached directly.
pub struct HostProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<ProxiedConnection>>>,
    accept: Option<JoinHandle<()>>,
}

impl fmt::Debug for HostProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostProxy")
            .field("url", &self.url())
            .finish()
    }
}

/// The longest request head the proxy reads.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Reads up to the end of the request head; returns (head including `\r\n\r\n`, bytes read
/// past it).
fn read_head(stream: &mut TcpStream) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((buf, rest));
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(io::Error::other("request head too long"));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `host:port` of an absolute-form target (`http://host[:port]/path`).
fn absolute_form_authority(target: &str) -> Option<String> {
    let (rest, default_port) = if let Some(r) = target.strip_prefix("http://") {
        (r, 80)
    } else if let Some(r) = target.strip_prefix("https://") {
        (r, 443)
    } else {
        return None;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return None;
    }
    if host.contains(':') {
        Some(host.to_owned())
    } else {
        Some(format!("{host}:{default_port}"))
    }
}

/// Copies both ways until each side has finished sending.
fn pipe(client: TcpStream, upstream: TcpStream) -> io::Result<()> {
    let (mut client_read, mut upstream_write) = (client.try_clone()?, upstream.try_clone()?);
    let up = std::thread::spawn(move || {
        let _ = io::copy(&mut client_read, &mut upstream_write);
        let _ = upstream_write.shutdown(Shutdown::Write);
    });
    let (mut upstream_read, mut client_write) = (upstream, client);
    let _ = io::copy(&mut upstream_read, &mut client_write);
    let _ = client_write.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}

fn serve_proxy(
    mut client: TcpStream,
    routes: &[(String, String)],
    seen: &Mutex<Vec<ProxiedConnection>>,
) -> io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let (head, rest) = read_head(&mut client)?;
    let text = String::from_utf8_lossy(&head);
    let request_line = text.lines().next().unwrap_or("").to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let tunnel = method == "CONNECT";
    let authority = if tunnel {
        Some(target.to_owned())
    } else {
        absolute_form_authority(target)
    };
    let backend = authority.as_ref().and_then(|a| {
        routes
            .iter()
            .find(|(from, _)| from.eq_ignore_ascii_case(a))
            .map(|(_, to)| to.clone())
    });
    seen.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(ProxiedConnection {
            request_line: request_line.clone(),
            authority: authority.unwrap_or_default(),
            routed: backend.is_some(),
        });
    let Some(backend) = backend else {
        client.write_all(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    };
    let mut upstream = TcpStream::connect(backend)?;
    if tunnel {
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    } else {
        upstream.write_all(&head)?;
    }
    upstream.write_all(&rest)?;
    client.set_read_timeout(None)?;
    pipe(client, upstream)
}

impl HostProxy {
    /// Starts a proxy routing each `(host:port, backend address)` of `routes`; a plain-HTTP
    /// host is `host:80`, an HTTPS one `host:443`.
    pub fn start(routes: &[(&str, &str)]) -> HostProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let routes: Arc<Vec<(String, String)>> = Arc::new(
            routes
                .iter()
                .map(|(from, to)| ((*from).to_owned(), (*to).to_owned()))
                .collect(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (stop, seen) = (stop.clone(), seen.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (routes, seen) = (routes.clone(), seen.clone());
                    std::thread::spawn(move || {
                        let _ = serve_proxy(conn, &routes, &seen);
                    });
                }
            })
        };
        HostProxy {
            port,
            stop,
            seen,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:<port>`: the value for `HTTP_PROXY` and `HTTPS_PROXY`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `HTTP_PROXY`, `HTTPS_PROXY` and their lower-case forms, all set to [`HostProxy::url`].
    pub fn env(&self) -> Vec<(String, String)> {
        ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]
            .iter()
            .map(|k| ((*k).to_owned(), self.url()))
            .collect()
    }

    /// The connections received so far, in arrival order.
    pub fn connections(&self) -> Vec<ProxiedConnection> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Asserts some connection was routed to a backend and satisfies `is_host` (names the
    /// registry `host`, reported in the failure message).
    pub fn assert_reached(&self, host: &str, is_host: impl Fn(&ProxiedConnection) -> bool) {
        assert!(
            self.connections().iter().any(|c| c.routed && is_host(c)),
            "skopeo reached the registry as {host}: {:?}",
            self.connections()
        );
    }
}

impl Drop for HostProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// `skopeo inspect docker://IMAGE` through `proxy`, with `--authfile FILE` or no credentials
/// at all, plus `tls_args` (`--tls-verify=false`, `--cert-dir DIR`).
///
/// The environment is cleared except `PATH`, the proxy variables and `HOME`/`XDG_*` pointing
/// at `home`, and `CONTAINERS_REGISTRIES_CONF` at an empty file there, so no auth file,
/// registry setting or proxy of the user running the test applies.
pub fn skopeo_inspect(
    tools: &RegistryTools,
    home: &Path,
    proxy: &HostProxy,
    tls_args: &[&str],
    image: &str,
    authfile: Option<&Path>,
) -> SkopeoOutcome {
    let registries_conf = home.join("registries.conf");
    if let Err(e) = std::fs::create_dir_all(home).and_then(|()| {
        if registries_conf.exists() {
            Ok(())
        } else {
            std::fs::write(&registries_conf, "")
        }
    }) {
        return SkopeoOutcome {
            success: false,
            stdout: String::new(),
            stderr: format!("cannot prepare {}: {e}", home.display()),
        };
    }
    let mut cmd = Command::new(&tools.skopeo);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home)
        .env("XDG_CONFIG_HOME", home)
        .env("CONTAINERS_REGISTRIES_CONF", &registries_conf)
        .envs(proxy.env())
        .arg("--insecure-policy")
        .arg("inspect")
        .args(tls_args);
    match authfile {
        Some(f) => cmd.arg("--authfile").arg(f),
        None => cmd.arg("--no-creds"),
    };
    cmd.arg(format!("docker://{image}"));
    match cmd.output() {
        Ok(out) => out.into(),
        Err(e) => SkopeoOutcome {
            success: false,
            stdout: String::new(),
            stderr: format!("cannot run skopeo: {e}"),
        },
    }
}

/// `skopeo inspect` of one image through one proxy, as [`skopeo_inspect`], with the
/// arguments every inspection of a test shares.
#[derive(Debug)]
pub struct ProxiedInspect<'a> {
    /// The tools (`skopeo`).
    pub tools: &'a RegistryTools,
    /// skopeo's `HOME` and `XDG_*` directory.
    pub home: PathBuf,
    /// The proxy skopeo goes through.
    pub proxy: HostProxy,
    /// `--tls-verify=false` or `--cert-dir DIR`.
    pub tls_args: Vec<String>,
    /// The image to inspect.
    pub image: String,
}

impl<'a> ProxiedInspect<'a> {
    /// `image` on the plain-HTTP `registry` reached as `host` (a new proxy routes `host:80`
    /// to it; `--tls-verify=false`), with skopeo's home under `node`.
    pub fn plain_http(
        tools: &'a RegistryTools,
        node: &Node,
        host: &str,
        registry: &Registry,
        image: String,
    ) -> ProxiedInspect<'a> {
        ProxiedInspect {
            tools,
            home: node.path("home"),
            proxy: HostProxy::start(&[(&format!("{host}:80"), &registry.addr())]),
            tls_args: vec!["--tls-verify=false".to_owned()],
            image,
        }
    }

    /// Inspects with `authfile`, asserts it succeeded (showing `registry`'s log otherwise)
    /// and returns skopeo's JSON.
    pub fn assert_pulls(&self, authfile: &Path, registry: &Registry) -> Value {
        let ok = self.inspect(Some(authfile));
        assert!(
            ok.success,
            "skopeo with kcred's auth file: {}\nregistry log:\n{}",
            ok.stderr,
            registry.log()
        );
        serde_json::from_str(&ok.stdout).expect("inspect JSON")
    }

    /// Inspects with `--authfile FILE`, or `--no-creds` when `authfile` is `None`.
    pub fn inspect(&self, authfile: Option<&Path>) -> SkopeoOutcome {
        let tls_args: Vec<&str> = self.tls_args.iter().map(String::as_str).collect();
        skopeo_inspect(
            self.tools,
            &self.home,
            &self.proxy,
            &tls_args,
            &self.image,
            authfile,
        )
    }

    /// Inspects with `authfile` (or no credentials) and asserts the registry refused it:
    /// the inspection failed (`what` says why it must) with an authentication error.
    pub fn assert_refused(&self, authfile: Option<&Path>, what: &str) {
        let refused = self.inspect(authfile);
        assert!(!refused.success, "{what}");
        assert!(
            refused.stderr.contains("unauthorized")
                || refused.stderr.contains("authentication required"),
            "{}",
            refused.stderr
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_yaml_quotes_every_string() {
        let p = Provider::new("p")
            .match_images(&["*.example.com"])
            .default_cache_duration("12h")
            .args(&["get-credentials"])
            .env("K", "a \"b\"\\c");
        assert_eq!(
            config_yaml(&[p]),
            "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  \
             - name: \"p\"\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    \
             matchImages:\n      - \"*.example.com\"\n    defaultCacheDuration: \"12h\"\n    \
             args:\n      - \"get-credentials\"\n    env:\n      - name: \"K\"\n        \
             value: \"a \\\"b\\\"\\\\c\"\n"
        );
    }

    #[test]
    fn auth_json_round_trips_through_base64() {
        assert_eq!(
            basic_auth_pair("QVdTOnRvaw"),
            ("AWS".to_owned(), "tok".to_owned()),
            "unpadded input is accepted"
        );
        assert_eq!(
            basic_auth_pair("QVdTOnRvaw=="),
            ("AWS".to_owned(), "tok".to_owned())
        );
        assert_eq!(
            auth_json("r.example", "AWS", "tok"),
            "{\"auths\":{\"r.example\":{\"auth\":\"QVdTOnRvaw==\"}}}"
        );
    }

    #[test]
    fn auth_json_files_read_back() {
        assert_eq!(
            only_auth_entry(&auth_json("r.example", "AWS", "a:b")),
            ("r.example".to_owned(), "AWS".to_owned(), "a:b".to_owned())
        );
        assert_no_auths("{\n  \"auths\": {}\n}\n");
    }

    #[test]
    fn absolute_form_targets_name_their_authority() {
        assert_eq!(
            absolute_form_authority("http://us-docker.pkg.dev/v2/").as_deref(),
            Some("us-docker.pkg.dev:80")
        );
        assert_eq!(
            absolute_form_authority("http://r.example:5000/v2/?x").as_deref(),
            Some("r.example:5000")
        );
        assert_eq!(
            absolute_form_authority("https://r.example").as_deref(),
            Some("r.example:443")
        );
        assert_eq!(absolute_form_authority("/v2/"), None);
        assert_eq!(absolute_form_authority("http:///v2/"), None);
    }

    #[test]
    fn proxy_tunnels_routed_hosts_and_refuses_others() {
        let backend = TcpListener::bind("127.0.0.1:0").expect("bind");
        let backend_addr = backend.local_addr().expect("addr").to_string();
        let echo = std::thread::spawn(move || {
            let (mut s, _) = backend.accept().expect("accept");
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).expect("read");
            s.write_all(&buf).expect("write");
        });
        let proxy = HostProxy::start(&[("registry.example:443", &backend_addr)]);
        let addr = ("127.0.0.1", proxy.port);

        let mut c = TcpStream::connect(addr).expect("connect");
        c.write_all(
            b"CONNECT registry.example:443 HTTP/1.1\r\nHost: registry.example:443\r\n\r\nhello",
        )
        .expect("write");
        let mut reply = Vec::new();
        c.read_to_end(&mut reply).expect("read");
        assert_eq!(
            String::from_utf8_lossy(&reply),
            "HTTP/1.1 200 Connection established\r\n\r\nhello"
        );
        echo.join().expect("echo");

        let mut c = TcpStream::connect(addr).expect("connect");
        c.write_all(
            b"GET http://elsewhere.example/v2/ HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n",
        )
        .expect("write");
        let mut reply = String::new();
        c.read_to_string(&mut reply).expect("read");
        assert!(reply.starts_with("HTTP/1.1 502 "), "{reply}");

        let seen = proxy.connections();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].authority, "registry.example:443");
        assert!(seen[0].routed);
        assert_eq!(seen[1].authority, "elsewhere.example:80");
        assert!(!seen[1].routed);
    }
}
