//! Fetching a live issuer over HTTPS as a cloud IdP does: `GET <issuer>/.well-known/openid-configuration`,
//! then `GET <jwks_uri>`; no redirects followed, bodies capped, every call under a deadline.
//!
//! Trust: the system bundle (or `SSL_CERT_FILE`), `SSL_CERT_DIR`, plus an optional extra CA
//! file (tests, private CAs). Uses `ureq` 3 with rustls and ring, as kcred-acr and kcred-gcp
//! do. It does not go through `kcred-http` (the plugins' shared client, which landed after
//! this module): an IdP does not follow redirects and `check --ca-file` adds a CA to the
//! system roots, while `kcred-http` follows redirects and trusts either the system roots or
//! one CA file. Moving here needs those two options there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::discovery::discovery_url;
use crate::verify::{parse_jwks, IssuerView};

/// Largest document accepted.
pub const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024;
/// Deadline of one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

const SYSTEM_CA_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// A fetch failure; each names the URL or file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// A CA file could not be used.
    #[error("CA file {path}: {reason}")]
    Trust {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No response (DNS, connect, TLS, timeout).
    #[error("GET {url}: unreachable: {reason}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A response other than 200.
    #[error("GET {url}: HTTP {status}{location}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// ` (redirect to …: IdPs do not follow it; serve the document at this URL)` for 3xx.
        location: String,
    },
    /// A body over the limit.
    #[error("GET {url}: the document is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge {
        /// The URL.
        url: String,
    },
    /// A body that is not the expected JSON.
    #[error("GET {url}: {reason}")]
    Document {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

/// The largest CA file read (a system bundle is ~200 KiB).
const MAX_CA_FILE_BYTES: u64 = 16 << 20;

fn pem_certs(path: &Path) -> Result<Vec<Certificate<'static>>, FetchError> {
    use std::io::Read;
    let trust = |reason: String| FetchError::Trust {
        path: path.to_owned(),
        reason,
    };
    // A regular file only (checked before opening: opening a FIFO would block), bounded.
    let meta = std::fs::metadata(path).map_err(|e| trust(e.to_string()))?;
    if !meta.is_file() {
        return Err(trust("not a regular file".into()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| trust(e.to_string()))?;
    if bytes.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(trust(format!("larger than {MAX_CA_FILE_BYTES} bytes")));
    }
    Ok(ureq::tls::parse_pem(&bytes)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect())
}

/// A blocking HTTPS client for issuer documents.
#[derive(Debug, Clone)]
pub struct Fetcher {
    agent: ureq::Agent,
}

impl Fetcher {
    /// A client trusting the system roots (or `SSL_CERT_FILE`), `SSL_CERT_DIR` and `ca_file`.
    pub fn new(ca_file: Option<&Path>) -> Result<Fetcher, FetchError> {
        let mut certs = Vec::new();
        match std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
            Some(f) => certs.extend(pem_certs(Path::new(&f))?),
            None => {
                if let Some(f) = SYSTEM_CA_FILES.iter().map(Path::new).find(|p| p.is_file()) {
                    certs.extend(pem_certs(f)?);
                }
            }
        }
        if let Some(dirs) = std::env::var_os("SSL_CERT_DIR") {
            for dir in std::env::split_paths(&dirs) {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    if entry.path().is_file() {
                        certs.extend(pem_certs(&entry.path()).unwrap_or_default());
                    }
                }
            }
        }
        if let Some(f) = ca_file {
            let extra = pem_certs(f)?;
            if extra.is_empty() {
                return Err(FetchError::Trust {
                    path: f.to_owned(),
                    reason: "no PEM certificate in the file".to_owned(),
                });
            }
            certs.extend(extra);
        }
        let roots = if certs.is_empty() {
            RootCerts::WebPki
        } else {
            RootCerts::new_with_certs(&certs)
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("kcred-oidc/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build();
        Ok(Fetcher {
            agent: ureq::Agent::new_with_config(config),
        })
    }

    /// `GET url` → the body (200 only).
    pub fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let mut resp = self
            .agent
            .get(url)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| FetchError::Unreachable {
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
        let status = resp.status().as_u16();
        if status != 200 {
            let location = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .filter(|_| (300..400).contains(&status))
                .map(|l| {
                    format!(
                        " (redirect to {l}: IdPs do not follow it; serve the document at this URL)"
                    )
                })
                .unwrap_or_default();
            return Err(FetchError::Status {
                url: url.to_owned(),
                status,
                location,
            });
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_DOCUMENT_BYTES)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge {
                    url: url.to_owned(),
                },
                e => FetchError::Unreachable {
                    url: url.to_owned(),
                    reason: e.to_string(),
                },
            })?;
        Ok(body)
    }

    /// Fetches `issuer`'s discovery document and, when its `jwks_uri` is https, the JWKS.
    /// A non-https `jwks_uri` yields a view with no keys (the document check reports it).
    pub fn issuer_view(&self, issuer: &str) -> Result<IssuerView, FetchError> {
        let url = discovery_url(issuer);
        let body = self.get(&url)?;
        let config: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| FetchError::Document {
                url: url.clone(),
                reason: format!("the discovery document is not JSON: {e}"),
            })?;
        if !config.is_object() {
            return Err(FetchError::Document {
                url,
                reason: "the discovery document is not a JSON object".to_owned(),
            });
        }
        let jwks_uri = config
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned();
        let keys = if jwks_uri.starts_with("https://") {
            let body = self.get(&jwks_uri)?;
            parse_jwks(&body).map_err(|reason| FetchError::Document {
                url: jwks_uri.clone(),
                reason: format!("the JWKS is {reason}"),
            })?
        } else {
            Vec::new()
        };
        Ok(IssuerView {
            issuer: issuer.to_owned(),
            config,
            keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_files_that_are_not_regular_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ca.pem");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        for path in [fifo.as_path(), dir.path()] {
            match pem_certs(path) {
                Err(FetchError::Trust { reason, .. }) => {
                    assert_eq!(reason, "not a regular file", "{path:?}")
                }
                other => panic!("{path:?}: {:?}", other.map(|c| c.len())),
            }
        }
        let missing = pem_certs(&dir.path().join("absent.pem")).unwrap_err();
        assert!(missing.to_string().contains("absent.pem"), "{missing}");
    }
}
