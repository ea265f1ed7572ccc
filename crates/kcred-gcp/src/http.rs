//! The HTTP client of every call: kcred-http's (shared with kcred-acr: one ureq build,
//! `TCP_NODELAY` and one write per request, trust roots found as Go's `crypto/x509` finds them
//! on Linux, read only when an `https` URL is first used, so the metadata-only path never
//! touches the CA bundle; `docs/plugin-sdk.md`, "HTTP and trust"), with one timeout per call
//! (connect, send and body included), upstream's 10 MiB body cap, status codes returned
//! rather than turned into errors, and this plugin's Go-shaped messages.

use std::sync::Arc;
use std::time::Duration;

use kcred_http::{
    ClientSettings, HttpRequest, Method, Roots, Transport, TransportError, UreqTransport,
};
use thiserror::Error;

pub(crate) use kcred_http::redact_url;

/// Upstream `maxReadLength`: a body of this size or more is refused.
pub const MAX_BODY_BYTES: usize = 10 << 20;

/// Where TLS trust roots come from (Go's rules: `SSL_CERT_FILE` replaces the system files,
/// `SSL_CERT_DIR` the system directories; see [`kcred_http::trust`]).
pub type TrustRoots = kcred_http::TrustSources;

/// A failed HTTP exchange (no response, or a body that could not be read).
#[derive(Debug, Error)]
pub enum HttpError {
    /// Connecting, sending or receiving failed (including the timeout).
    #[error("{method} {url:?}: {source}")]
    Transport {
        /// `Get` or `Post`, as Go's `url.Error` prints it.
        method: &'static str,
        /// The URL.
        url: String,
        /// ureq's error (boxed: it is large).
        source: Box<ureq::Error>,
    },
    /// The body reached [`MAX_BODY_BYTES`] (upstream's message).
    #[error("the read limit is reached")]
    ReadLimit,
    /// No trust roots could be loaded for an `https` URL.
    #[error("{0}")]
    Trust(kcred_http::TrustError),
}

impl HttpError {
    /// The same error with the URL's query string and fragment hidden.
    pub fn redacted(self) -> Self {
        match self {
            HttpError::Transport {
                method,
                url,
                source,
            } => HttpError::Transport {
                method,
                url: redact_url(&url),
                source,
            },
            other => other,
        }
    }
}

/// A response: status and body (at most [`MAX_BODY_BYTES`] - 1 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// A blocking client with one overall timeout per call, over a [`Transport`].
#[derive(Debug, Clone)]
pub struct HttpClient {
    timeout: Duration,
    transport: Arc<dyn Transport>,
}

impl HttpClient {
    /// A client whose every call (connect to last body byte) is bounded by `timeout`.
    pub fn new(timeout: Duration, roots: TrustRoots) -> Self {
        let mut settings = ClientSettings::new(timeout);
        settings.roots = Roots::System(roots);
        Self::from_transport(timeout, Arc::new(UreqTransport::new(settings)))
    }

    /// A client sending through `transport` (flow tests pass an in-process fake).
    pub(crate) fn from_transport(timeout: Duration, transport: Arc<dyn Transport>) -> Self {
        HttpClient { timeout, transport }
    }

    /// `GET url` with `headers`.
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<HttpResponse, HttpError> {
        self.send(Method::Get, url, headers, b"")
    }

    /// `POST url` with `headers` and `body`.
    pub(crate) fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<HttpResponse, HttpError> {
        self.send(Method::Post, url, headers, body)
    }

    fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<HttpResponse, HttpError> {
        let request = HttpRequest {
            method,
            url,
            headers,
            body,
            timeout: Some(self.timeout),
            body_limit: MAX_BODY_BYTES as u64 - 1,
        };
        match self.transport.send(&request) {
            Ok(r) => Ok(HttpResponse {
                status: r.status,
                body: r.body,
            }),
            Err(TransportError::BodyTooLarge) => Err(HttpError::ReadLimit),
            Err(TransportError::Trust(t)) => Err(HttpError::Trust(t)),
            Err(TransportError::Io(source)) => Err(HttpError::Transport {
                method: match method {
                    Method::Get => "Get",
                    Method::Post => "Post",
                },
                url: url.to_owned(),
                source,
            }),
            Err(other) => Err(HttpError::Transport {
                method: "Get",
                url: url.to_owned(),
                source: Box::new(ureq::Error::Other(other.to_string().into())),
            }),
        }
    }
}
