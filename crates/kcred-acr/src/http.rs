//! The blocking HTTP client every call goes through.
//!
//! Why not Azure's Rust SDK (`azure_identity`/`azure_core`): it is async (a tokio runtime for a
//! one-shot exec), pulls ~220 crates with rustls on aws-lc-rs (a cmake/clang build), and would
//! still leave the ACR challenge/exchange, identity bindings and upstream's IMDS api-version to
//! write by hand; the same calls on `ureq` (rustls + ring, shared with kcred-gcp) are a handful of
//! small functions and keep the stripped binary far below 5 MB (see `docs/acr.md`).
//!
//! The client is kcred-http's, shared with kcred-gcp: one ureq build, `TCP_NODELAY` and one
//! write per request, trust roots found as Go's `crypto/x509` finds them on Linux (no bundled
//! fallback; `docs/plugin-sdk.md`, "HTTP and trust"). This module adds ACR's settings and
//! messages. Every request has a deadline; `HTTP(S)_PROXY`/`NO_PROXY` are honoured except where a caller
//! disables them (identity bindings, as upstream). Test knob: `KCRED_ACR_TEST_CONNECT_TO`
//! (`host=ip:port,…`) dials `host` at another address while keeping its name for TLS and `Host`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kcred_http::{
    ClientSettings, Dial, HttpRequest, Method, Roots, Transport, TransportError, TrustSources,
    UreqTransport,
};

/// Environment variable (test knob): `host=ip:port[,host=ip:port…]` connect overrides.
pub(crate) const CONNECT_TO_ENV: &str = "KCRED_ACR_TEST_CONNECT_TO";

/// Where TLS trust comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustRoots {
    /// The system roots found as Go's `crypto/x509` finds them (`SSL_CERT_FILE`,
    /// `SSL_CERT_DIR`, Go's lists; no bundled fallback): see [`kcred_http::trust`].
    System,
    /// Only the certificates in this PEM file (identity bindings' cluster CA).
    CaFile(PathBuf),
}

/// Where connections go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DialOverride {
    /// DNS, except the hosts named in `KCRED_ACR_TEST_CONNECT_TO`.
    #[default]
    FromEnv,
    /// Every connection goes to this IP (port from the URL), as identity bindings dial the API server.
    FixedIp(IpAddr),
}

/// How to build a client.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// `User-Agent` of every request.
    pub user_agent: String,
    /// TLS trust.
    pub roots: TrustRoots,
    /// Honour `HTTP(S)_PROXY`/`NO_PROXY`.
    pub proxy_from_env: bool,
    /// Connection target overrides.
    pub dial: DialOverride,
}

/// A transport-level failure.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// TLS trust could not be set up.
    #[error("{0}")]
    Trust(Box<kcred_http::TrustError>),
    /// The request failed before a full response was read.
    #[error("{method} {url}: {reason}")]
    Transport {
        /// `GET`/`POST`.
        method: &'static str,
        /// The URL (never carries a secret).
        url: String,
        /// Why.
        reason: String,
    },
    /// The body reached the read limit.
    #[error("the read limit is reached")]
    BodyTooLarge,
}

/// A response read in full.
pub(crate) use kcred_http::HttpResponse;

/// The body of a response as text for error messages: lossy, cut to `max` characters,
/// scrubbed of every secret the process knows and with non-printable characters escaped
/// Go-style ([`kcred_plugin::secrets`]): an echoing server cannot leak what it was sent, and
/// a hostile one cannot put terminal escapes or forged lines on stderr.
pub(crate) fn body_snippet(resp: &HttpResponse, max: usize) -> String {
    let text = String::from_utf8_lossy(&resp.body);
    let text = text.trim();
    let text = if text.chars().count() > max {
        format!("{}…", text.chars().take(max).collect::<String>())
    } else {
        text.to_owned()
    };
    kcred_plugin::secrets::escape_nonprintable(&kcred_plugin::secrets::scrub(&text))
}

/// Parses `KCRED_ACR_TEST_CONNECT_TO` (`host=ip:port,…`); malformed entries are skipped.
pub(crate) fn parse_connect_to(value: &str) -> Vec<(String, SocketAddr)> {
    value
        .split(',')
        .filter_map(|e| {
            let (host, addr) = e.trim().split_once('=')?;
            Some((host.to_owned(), addr.parse().ok()?))
        })
        .collect()
}

/// The blocking client: a [`Transport`] (kcred-http's, or a test's in-process fake).
#[derive(Debug, Clone)]
pub struct HttpClient {
    transport: Arc<dyn Transport>,
}

impl HttpClient {
    /// Builds a client. Trust roots are read when the first `https` URL is used.
    pub fn new(settings: &HttpSettings) -> Result<HttpClient, HttpError> {
        let roots = match &settings.roots {
            TrustRoots::System => Roots::System(TrustSources::from_env()),
            TrustRoots::CaFile(path) => {
                // The cluster CA is checked up front: identity bindings are pointless without it.
                kcred_http::trust::load_ca_file(path).map_err(|e| HttpError::Trust(Box::new(e)))?;
                Roots::CaFile(path.clone())
            }
        };
        let dial = match settings.dial {
            DialOverride::FixedIp(ip) => Dial::FixedIp(ip),
            DialOverride::FromEnv => Dial::Overrides(
                std::env::var(CONNECT_TO_ENV)
                    .map(|v| parse_connect_to(&v))
                    .unwrap_or_default(),
            ),
        };
        Ok(HttpClient::from_transport(Arc::new(UreqTransport::new(
            ClientSettings {
                user_agent: Some(settings.user_agent.clone()),
                timeout: Duration::from_secs(60),
                connect_timeout: Some(Duration::from_secs(10)),
                roots,
                proxy_from_env: settings.proxy_from_env,
                dial,
            },
        ))))
    }

    /// A client sending through `transport` (flow tests pass an in-process fake).
    pub(crate) fn from_transport(transport: Arc<dyn Transport>) -> HttpClient {
        HttpClient { transport }
    }

    /// `GET url` with extra headers; the body is read up to `limit` bytes.
    pub(crate) fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        timeout: Duration,
        limit: u64,
    ) -> Result<HttpResponse, HttpError> {
        self.send(Method::Get, url, headers, b"", timeout, limit)
    }

    /// `POST url` with a form body (`Content-Type` given by the caller in `headers`).
    pub(crate) fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
        timeout: Duration,
        limit: u64,
    ) -> Result<HttpResponse, HttpError> {
        self.send(Method::Post, url, headers, body.as_bytes(), timeout, limit)
    }

    fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
        limit: u64,
    ) -> Result<HttpResponse, HttpError> {
        let request = HttpRequest {
            method,
            url,
            headers,
            body,
            timeout: Some(timeout),
            body_limit: limit,
        };
        self.transport.send(&request).map_err(|e| match e {
            TransportError::Trust(t) => HttpError::Trust(Box::new(t)),
            TransportError::BodyTooLarge => HttpError::BodyTooLarge,
            other => HttpError::Transport {
                method: match method {
                    Method::Get => "GET",
                    Method::Post => "POST",
                },
                url: url.to_owned(),
                reason: other.to_string(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_to_parsing() {
        let m = parse_connect_to("a.azurecr.io=127.0.0.1:5000, bad, b=[::1]:1");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, "a.azurecr.io");
        assert_eq!(m[1].1.port(), 1);
    }
}
