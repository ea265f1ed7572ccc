//! The one blocking HTTP client and TLS trust policy of kcred's ACR and GCP plugins.
//!
//! A plugin is a one-shot exec that makes two to four HTTPS calls, so a small blocking client
//! (ureq, rustls on ring) is enough. This crate holds what both plugins need and nothing
//! plugin-specific:
//!
//! - [`Transport`]: the seam the plugins' flows call through. [`UreqTransport`] is the real
//!   one; flow tests pass an in-process fake (as ECR's `AwsApi` trait does for AWS).
//! - [`trust`]: the trust roots, found exactly as Go's `crypto/x509` finds them on Linux
//!   (`SSL_CERT_FILE`, `SSL_CERT_DIR`, Go's file and directory lists), loaded only when the
//!   first `https` URL is used, with no bundled fallback.
//! - Every connection sets `TCP_NODELAY`, and every request (head and body) leaves in one
//!   write, so no request waits on Nagle's algorithm and a server's delayed ACK.
//!
//! `docs/plugin-sdk.md` ("HTTP and trust") documents the policy.

pub mod trust;
mod wire;

use std::fmt;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use thiserror::Error;
use ureq::http::Uri;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;
use ureq::Agent;

pub use trust::{TrustError, TrustSources};

/// An HTTP method the plugins use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

/// One request.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: &'a str,
    /// Extra headers, in order.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body (sent for `POST` only).
    pub body: &'a [u8],
    /// The deadline of the whole exchange (connect to last body byte); `None`: the client's.
    pub timeout: Option<Duration>,
    /// The largest body accepted; a longer one is [`TransportError::BodyTooLarge`].
    pub body_limit: u64,
}

impl<'a> HttpRequest<'a> {
    /// A `GET` with no extra headers, the client's timeout and a 10 MiB body limit.
    pub fn get(url: &'a str) -> Self {
        HttpRequest {
            method: Method::Get,
            url,
            headers: &[],
            body: &[],
            timeout: None,
            body_limit: 10 << 20,
        }
    }

    /// A `POST` of `body`, otherwise as [`HttpRequest::get`].
    pub fn post(url: &'a str, body: &'a [u8]) -> Self {
        HttpRequest {
            method: Method::Post,
            body,
            ..HttpRequest::get(url)
        }
    }
}

/// A response read in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code (every status is a response, not an error).
    pub status: u16,
    /// Headers in order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Every value of header `name` (case-insensitive).
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// An exchange that produced no full response.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The TLS trust roots could not be set up (before dialling).
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// Resolving, connecting, TLS, sending or receiving failed (the deadline included).
    #[error(transparent)]
    Io(Box<ureq::Error>),
    /// The body is longer than [`HttpRequest::body_limit`].
    #[error("the read limit is reached")]
    BodyTooLarge,
}

/// Sends requests. The plugins' flows call through this trait so their tests can answer
/// in-process; [`UreqTransport`] is the real one.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and reads the whole response.
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, TransportError>;
}

/// Which trust roots `https` URLs are verified against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The system roots by Go's rules ([`trust`]).
    System(TrustSources),
    /// Only the certificates of this PEM file (identity bindings' cluster CA).
    CaFile(PathBuf),
}

/// Where connections go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Dial {
    /// DNS.
    #[default]
    Dns,
    /// These hosts at these addresses (case-insensitive host match), DNS for the others; the
    /// URL's host is still the TLS name and the `Host` header (a test knob of the ACR plugin).
    Overrides(Vec<(String, SocketAddr)>),
    /// Every host at this IP, port from the URL (identity bindings dial the API server so).
    FixedIp(IpAddr),
}

/// How a [`UreqTransport`] is built.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// `User-Agent` of every request (`None`: ureq's).
    pub user_agent: Option<String>,
    /// Default deadline of a whole exchange.
    pub timeout: Duration,
    /// Deadline of connecting (`None`: only [`timeout`](Self::timeout)).
    pub connect_timeout: Option<Duration>,
    /// Trust roots of `https` URLs.
    pub roots: Roots,
    /// Honour `HTTP(S)_PROXY` / `NO_PROXY` / `ALL_PROXY`.
    pub proxy_from_env: bool,
    /// Where connections go.
    pub dial: Dial,
}

impl ClientSettings {
    /// System roots from the environment, proxies from the environment, DNS, `timeout`.
    pub fn new(timeout: Duration) -> Self {
        ClientSettings {
            user_agent: None,
            timeout,
            connect_timeout: None,
            roots: Roots::System(TrustSources::from_env()),
            proxy_from_env: true,
            dial: Dial::Dns,
        }
    }
}

/// The real [`Transport`]: ureq, rustls on ring, `TCP_NODELAY`, one write per request.
///
/// Trust roots are read when the first `https` URL is used (a metadata-only run over plain
/// `http` never touches the CA bundle); a failure then is [`TransportError::Trust`].
#[derive(Debug)]
pub struct UreqTransport {
    settings: ClientSettings,
    plain: OnceLock<Agent>,
    tls: OnceLock<Result<Agent, TrustError>>,
}

impl UreqTransport {
    /// A transport built from `settings` (nothing is read or dialled yet).
    pub fn new(settings: ClientSettings) -> Self {
        UreqTransport {
            settings,
            plain: OnceLock::new(),
            tls: OnceLock::new(),
        }
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    fn agent_with(&self, roots: RootCerts) -> Agent {
        let s = &self.settings;
        let mut builder = Agent::config_builder()
            .http_status_as_error(false)
            .no_delay(true)
            .timeout_global(Some(s.timeout))
            .timeout_connect(s.connect_timeout)
            .tls_config(TlsConfig::builder().root_certs(roots).build());
        if let Some(ua) = &s.user_agent {
            builder = builder.user_agent(ua.as_str());
        }
        if !s.proxy_from_env {
            builder = builder.proxy(None);
        }
        let resolver = DialResolver(s.dial.clone());
        Agent::with_parts(builder.build(), wire::connector(), resolver)
    }

    fn agent(&self, url: &str) -> Result<&Agent, TransportError> {
        let https = url
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        if !https {
            // A plain-http URL never needs roots; should it redirect to https, the handshake
            // fails cleanly against the empty root set.
            return Ok(self
                .plain
                .get_or_init(|| self.agent_with(RootCerts::Specific(Arc::new(Vec::new())))));
        }
        let agent = self.tls.get_or_init(|| {
            let certs: Vec<Certificate<'static>> = match &self.settings.roots {
                Roots::System(sources) => sources.load()?,
                Roots::CaFile(path) => trust::load_ca_file(path)?,
            };
            Ok(self.agent_with(RootCerts::Specific(Arc::new(certs))))
        });
        agent.as_ref().map_err(|e| TransportError::Trust(e.clone()))
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, TransportError> {
        let agent = self.agent(request.url)?;
        let io = |e: ureq::Error| TransportError::Io(Box::new(e));
        let result = match request.method {
            Method::Get => {
                let mut req = agent.get(request.url);
                for (k, v) in request.headers {
                    req = req.header(*k, *v);
                }
                match request.timeout {
                    Some(t) => req.config().timeout_global(Some(t)).build().call(),
                    None => req.call(),
                }
            }
            Method::Post => {
                let mut req = agent.post(request.url);
                for (k, v) in request.headers {
                    req = req.header(*k, *v);
                }
                match request.timeout {
                    Some(t) => req
                        .config()
                        .timeout_global(Some(t))
                        .build()
                        .send(request.body),
                    None => req.send(request.body),
                }
            }
        };
        let mut resp = result.map_err(io)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(request.body_limit.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| io(ureq::Error::from(e)))?;
        if body.len() as u64 > request.body_limit {
            return Err(TransportError::BodyTooLarge);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

#[derive(Debug)]
struct DialResolver(Dial);

impl Resolver for DialResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri
            .host()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']');
        let default_port = if uri.scheme_str() == Some("http") {
            80
        } else {
            443
        };
        let port = uri.port_u16().unwrap_or(default_port);
        let fixed = match &self.0 {
            Dial::Dns => None,
            Dial::FixedIp(ip) => Some(SocketAddr::new(*ip, port)),
            Dial::Overrides(map) => map
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case(host))
                .map(|(_, a)| *a),
        };
        match fixed {
            Some(addr) => {
                let mut out = self.empty();
                out.push(addr);
                Ok(out)
            }
            None => DefaultResolver::default().resolve(uri, config, timeout),
        }
    }
}

/// A URL without its query string and fragment (they may carry a signature), for messages.
pub fn redact_url(url: &str) -> String {
    match url.find(['?', '#']) {
        Some(i) => format!("{}?<redacted>", &url[..i]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_queries() {
        assert_eq!(redact_url("http://h/p?sig=1"), "http://h/p?<redacted>");
        assert_eq!(redact_url("http://h/p#f"), "http://h/p?<redacted>");
        assert_eq!(redact_url("http://h/p"), "http://h/p");
    }

    #[test]
    fn request_builders() {
        let g = HttpRequest::get("http://x/");
        assert_eq!(
            (g.method, g.body, g.body_limit),
            (Method::Get, &b""[..], 10 << 20)
        );
        let p = HttpRequest::post("http://x/", b"a=1");
        assert_eq!((p.method, p.body), (Method::Post, &b"a=1"[..]));
        let r = HttpResponse {
            status: 200,
            headers: vec![
                ("retry-after".into(), "1".into()),
                ("Retry-After".into(), "2".into()),
            ],
            body: vec![],
        };
        assert_eq!(r.header_values("RETRY-AFTER"), ["1", "2"]);
    }
}
