//! The blocking HTTP client every call goes through.
//!
//! Why not Azure's Rust SDK (`azure_identity`/`azure_core`): it is async (a tokio runtime for a
//! one-shot exec), pulls ~220 crates with rustls on aws-lc-rs (a cmake/clang build), and would
//! still leave the ACR challenge/exchange, identity bindings and upstream's IMDS api-version to
//! write by hand; the same calls on `ureq` (rustls + ring, shared with kcred-gcp) are a handful of
//! small functions and keep the stripped binary far below 5 MB (see `docs/acr.md`).
//!
//! Every request has a deadline. Trust: `SSL_CERT_FILE` (else the system bundle) plus
//! `SSL_CERT_DIR`, like Go; `HTTP(S)_PROXY`/`NO_PROXY` are honoured except where a caller
//! disables them (identity bindings, as upstream). Test knob: `KCRED_ACR_TEST_CONNECT_TO`
//! (`host=ip:port,…`) dials `host` at another address while keeping its name for TLS and `Host`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ureq::http::Uri;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Environment variable (test knob): `host=ip:port[,host=ip:port…]` connect overrides.
pub const CONNECT_TO_ENV: &str = "KCRED_ACR_TEST_CONNECT_TO";

/// Bundles Go looks for when `SSL_CERT_FILE` is unset (Linux).
const SYSTEM_CA_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Where TLS trust comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustRoots {
    /// `SSL_CERT_FILE`/`SSL_CERT_DIR`, else the system bundle, else Mozilla's roots.
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
    #[error("loading CA certificates from {path}: {reason}")]
    Trust {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
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
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order (names lower-case).
    pub headers: Vec<(String, String)>,
    /// Body.
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

    /// The body as text (lossy), cut to `max` characters, for error messages.
    pub fn body_snippet(&self, max: usize) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        if text.chars().count() > max {
            format!("{}…", text.chars().take(max).collect::<String>())
        } else {
            text.to_owned()
        }
    }
}

#[derive(Debug)]
struct OverrideResolver {
    fixed_ip: Option<IpAddr>,
    map: Vec<(String, SocketAddr)>,
}

impl Resolver for OverrideResolver {
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
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("http") {
                80
            } else {
                443
            });
        let fixed = match self.fixed_ip {
            Some(ip) => Some(SocketAddr::new(ip, port)),
            None => self
                .map
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

/// Parses `KCRED_ACR_TEST_CONNECT_TO` (`host=ip:port,…`); malformed entries are skipped.
pub fn parse_connect_to(value: &str) -> Vec<(String, SocketAddr)> {
    value
        .split(',')
        .filter_map(|e| {
            let (host, addr) = e.trim().split_once('=')?;
            Some((host.to_owned(), addr.parse().ok()?))
        })
        .collect()
}

fn read_pem_certs(path: &Path) -> Result<Vec<Certificate<'static>>, HttpError> {
    let bytes = std::fs::read(path).map_err(|e| HttpError::Trust {
        path: path.display().to_string(),
        reason: crate::azure_config::go_io_reason(&e),
    })?;
    Ok(ureq::tls::parse_pem(&bytes)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect())
}

fn system_roots() -> Result<RootCerts, HttpError> {
    let mut certs = Vec::new();
    match std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
        Some(file) => certs.extend(read_pem_certs(Path::new(&file))?),
        None => {
            if let Some(file) = SYSTEM_CA_FILES.iter().map(Path::new).find(|p| p.is_file()) {
                certs.extend(read_pem_certs(file)?);
            }
        }
    }
    if let Some(dirs) = std::env::var_os("SSL_CERT_DIR") {
        for dir in std::env::split_paths(&dirs) {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.path().is_file() {
                    certs.extend(read_pem_certs(&entry.path()).unwrap_or_default());
                }
            }
        }
    }
    if certs.is_empty() {
        Ok(RootCerts::WebPki)
    } else {
        Ok(RootCerts::new_with_certs(&certs))
    }
}

/// The blocking client.
#[derive(Debug, Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
}

impl HttpClient {
    /// Builds a client (reads the trust store once).
    pub fn new(settings: &HttpSettings) -> Result<HttpClient, HttpError> {
        let roots = match &settings.roots {
            TrustRoots::System => system_roots()?,
            TrustRoots::CaFile(path) => {
                let certs = read_pem_certs(path)?;
                if certs.is_empty() {
                    return Err(HttpError::Trust {
                        path: path.display().to_string(),
                        reason: "no valid certificates found".to_owned(),
                    });
                }
                RootCerts::new_with_certs(&certs)
            }
        };
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(settings.user_agent.as_str())
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(60)))
            .max_redirects(10)
            .tls_config(TlsConfig::builder().root_certs(roots).build());
        if !settings.proxy_from_env {
            builder = builder.proxy(None);
        }
        let config = builder.build();
        let resolver = OverrideResolver {
            fixed_ip: match settings.dial {
                DialOverride::FixedIp(ip) => Some(ip),
                DialOverride::FromEnv => None,
            },
            map: match settings.dial {
                DialOverride::FromEnv => std::env::var(CONNECT_TO_ENV)
                    .map(|v| parse_connect_to(&v))
                    .unwrap_or_default(),
                DialOverride::FixedIp(_) => Vec::new(),
            },
        };
        Ok(HttpClient {
            agent: ureq::Agent::with_parts(config, DefaultConnector::default(), resolver),
        })
    }

    /// `GET url` with extra headers; the body is read up to `limit` bytes.
    pub fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        timeout: Duration,
        limit: u64,
    ) -> Result<HttpResponse, HttpError> {
        let mut req = self.agent.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let result = req.config().timeout_global(Some(timeout)).build().call();
        Self::finish("GET", url, result, limit)
    }

    /// `POST url` with a form body (`Content-Type` given by the caller in `headers`).
    pub fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
        timeout: Duration,
        limit: u64,
    ) -> Result<HttpResponse, HttpError> {
        let mut req = self.agent.post(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let result = req
            .config()
            .timeout_global(Some(timeout))
            .build()
            .send(body);
        Self::finish("POST", url, result, limit)
    }

    fn finish(
        method: &'static str,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        limit: u64,
    ) -> Result<HttpResponse, HttpError> {
        let transport = |e: ureq::Error| HttpError::Transport {
            method,
            url: url.to_owned(),
            reason: e.to_string(),
        };
        let mut resp = result.map_err(transport)?;
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
        let body = match resp.body_mut().with_config().limit(limit).read_to_vec() {
            Ok(b) => b,
            Err(ureq::Error::BodyExceedsLimit(_)) => return Err(HttpError::BodyTooLarge),
            Err(e) => return Err(transport(e)),
        };
        Ok(HttpResponse {
            status,
            headers,
            body,
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
