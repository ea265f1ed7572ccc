//! A small blocking HTTP client: one timeout per call (connect, send and body included),
//! a 10 MiB body cap, status codes returned rather than turned into errors, and TLS trust
//! roots read from the system (or `SSL_CERT_FILE` / `SSL_CERT_DIR`) only when an `https`
//! URL is first used, so the metadata-only path never touches the CA bundle.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use thiserror::Error;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::Agent;

/// Upstream `maxReadLength`: a body of this size or more is refused.
pub const MAX_BODY_BYTES: usize = 10 << 20;

/// Files Go's `crypto/x509` tries for the system roots on Linux, in order.
pub const SYSTEM_CERT_FILES: [&str; 6] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Directories Go's `crypto/x509` reads when no system file exists.
pub const SYSTEM_CERT_DIRS: [&str; 2] = ["/etc/ssl/certs", "/etc/pki/tls/certs"];

/// Where TLS trust roots come from (Go's rules: `SSL_CERT_FILE` and `SSL_CERT_DIR`
/// override the system locations).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustRoots {
    /// `SSL_CERT_FILE`.
    pub cert_file: Option<PathBuf>,
    /// `SSL_CERT_DIR` (colon-separated list, already split).
    pub cert_dirs: Vec<PathBuf>,
}

impl TrustRoots {
    /// From the values of `SSL_CERT_FILE` and `SSL_CERT_DIR` (empty = unset).
    pub fn from_env_values(cert_file: Option<&str>, cert_dir: Option<&str>) -> Self {
        TrustRoots {
            cert_file: cert_file.filter(|s| !s.is_empty()).map(PathBuf::from),
            cert_dirs: cert_dir
                .unwrap_or("")
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect(),
        }
    }

    /// Reads the certificates.
    pub fn load(&self) -> Result<Vec<Certificate<'static>>, HttpError> {
        let mut certs = Vec::new();
        let overridden = self.cert_file.is_some() || !self.cert_dirs.is_empty();
        if let Some(file) = &self.cert_file {
            add_pem_file(file, &mut certs);
        }
        for dir in &self.cert_dirs {
            add_pem_dir(dir, &mut certs);
        }
        if !overridden {
            if let Some(file) = SYSTEM_CERT_FILES
                .iter()
                .map(Path::new)
                .find(|p| p.is_file())
            {
                add_pem_file(file, &mut certs);
            } else {
                for dir in SYSTEM_CERT_DIRS {
                    add_pem_dir(Path::new(dir), &mut certs);
                }
            }
        }
        if certs.is_empty() {
            return Err(HttpError::NoTrustRoots {
                searched: match &self.cert_file {
                    Some(f) => f.display().to_string(),
                    None if overridden => "SSL_CERT_DIR".to_owned(),
                    None => SYSTEM_CERT_FILES[0].to_owned(),
                },
            });
        }
        Ok(certs)
    }
}

fn add_pem_file(path: &Path, out: &mut Vec<Certificate<'static>>) {
    if let Ok(bytes) = std::fs::read(path) {
        out.extend(ureq::tls::parse_pem(&bytes).filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        }));
    }
}

fn add_pem_dir(dir: &Path, out: &mut Vec<Certificate<'static>>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                add_pem_file(&path, out);
            }
        }
    }
}

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
    #[error("no TLS trust roots found (looked at {searched}); set SSL_CERT_FILE to a PEM bundle")]
    NoTrustRoots {
        /// What was searched.
        searched: String,
    },
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

/// A URL without its query string and fragment (they may hold a signature), for messages.
pub fn redact_url(url: &str) -> String {
    match url.find(['?', '#']) {
        Some(i) => format!("{}?<redacted>", &url[..i]),
        None => url.to_owned(),
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

/// A blocking client with one overall timeout per call.
#[derive(Debug)]
pub struct HttpClient {
    timeout: Duration,
    roots: TrustRoots,
    plain: OnceLock<Agent>,
    tls: OnceLock<Result<Agent, String>>,
}

impl HttpClient {
    /// A client whose every call (connect to last body byte) is bounded by `timeout`.
    pub fn new(timeout: Duration, roots: TrustRoots) -> Self {
        HttpClient {
            timeout,
            roots,
            plain: OnceLock::new(),
            tls: OnceLock::new(),
        }
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn agent_with(&self, roots: RootCerts) -> Agent {
        Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build()
            .into()
    }

    fn agent(&self, url: &str) -> Result<&Agent, HttpError> {
        if !url
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            // Plain http never redirects into TLS for the URLs this plugin reads without
            // roots; if it does, the handshake fails cleanly against an empty root set.
            return Ok(self
                .plain
                .get_or_init(|| self.agent_with(RootCerts::Specific(Arc::new(Vec::new())))));
        }
        let agent = self.tls.get_or_init(|| {
            self.roots
                .load()
                .map(|certs| self.agent_with(RootCerts::Specific(Arc::new(certs))))
                .map_err(|e| e.to_string())
        });
        agent.as_ref().map_err(|searched| HttpError::NoTrustRoots {
            searched: searched.clone(),
        })
    }

    /// `GET url` with `headers`.
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<HttpResponse, HttpError> {
        let agent = self.agent(url)?;
        let mut req = agent.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let transport = |source| HttpError::Transport {
            method: "Get",
            url: url.to_owned(),
            source: Box::new(source),
        };
        let resp = req.call().map_err(transport)?;
        read_response(resp).map_err(|e| e.with_url("Get", url))
    }

    /// `POST url` with `headers` and `body`.
    pub fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<HttpResponse, HttpError> {
        let agent = self.agent(url)?;
        let mut req = agent.post(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let transport = |source| HttpError::Transport {
            method: "Post",
            url: url.to_owned(),
            source: Box::new(source),
        };
        let resp = req.send(body).map_err(transport)?;
        read_response(resp).map_err(|e| e.with_url("Post", url))
    }
}

enum ReadError {
    Limit,
    Io(ureq::Error),
}

impl ReadError {
    fn with_url(self, method: &'static str, url: &str) -> HttpError {
        match self {
            ReadError::Limit => HttpError::ReadLimit,
            ReadError::Io(source) => HttpError::Transport {
                method,
                url: url.to_owned(),
                source: Box::new(source),
            },
        }
    }
}

fn read_response(mut resp: ureq::http::Response<ureq::Body>) -> Result<HttpResponse, ReadError> {
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    let reader = resp.body_mut().as_reader();
    reader
        .take(MAX_BODY_BYTES as u64)
        .read_to_end(&mut body)
        .map_err(|e| ReadError::Io(ureq::Error::from(e)))?;
    if body.len() >= MAX_BODY_BYTES {
        return Err(ReadError::Limit);
    }
    Ok(HttpResponse { status, body })
}
