//! One client of the Kubernetes API server, for the installer's node annotation
//! ([`crate::node_api`]) and doctor's access reviews ([`crate::access_review`]): JSON over
//! HTTPS with ureq and rustls, trusting only the given CA certificates, authenticated with a
//! client certificate and/or a bearer token; no proxy, no redirects (an API server does not
//! redirect, and a token must not follow one), a connect timeout of at most 5 s, answers read
//! up to 1 MiB; an error answer is reported with its `Status` object's `message`. The token
//! and key are never printed.

use std::time::Duration;

use serde_json::Value;
use ureq::tls::{Certificate, ClientCert, PemItem, RootCerts, TlsConfig};

/// The largest answer read.
const MAX_RESPONSE: u64 = 1 << 20;
/// The longest connect.
const MAX_CONNECT: Duration = Duration::from_secs(5);

/// A failed API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The TLS settings cannot be built from the kubeconfig.
    #[error("{file}: {reason}")]
    Tls {
        /// The kubeconfig.
        file: String,
        /// Why.
        reason: String,
    },
    /// No answer (connection refused, TLS failure, timeout).
    #[error("{method} {url}: {reason}")]
    Transport {
        /// The HTTP method.
        method: &'static str,
        /// The URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// An error status (with the `Status` object's message when there is one).
    #[error("{method} {url}: HTTP {status}: {message}")]
    Status {
        /// The HTTP method.
        method: &'static str,
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The message.
        message: String,
    },
    /// A 2xx answer that is not the expected object.
    #[error("{method} {url}: unexpected answer: {reason}")]
    Decode {
        /// The HTTP method.
        method: &'static str,
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

impl ApiError {
    /// The HTTP status, for [`ApiError::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The certificates in `pem` (other PEM items are skipped).
pub fn pem_certs(pem: &[u8]) -> Vec<Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|i| match i {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect()
}

/// A TLS client certificate from PEM (`Err`: which part holds nothing usable).
pub fn client_cert(cert_pem: &[u8], key_pem: &[u8]) -> Result<ClientCert, &'static str> {
    let chain = pem_certs(cert_pem);
    if chain.is_empty() {
        return Err("the client certificate holds no usable certificate");
    }
    let key = ureq::tls::parse_pem(key_pem)
        .find_map(|i| match i {
            Ok(PemItem::PrivateKey(k)) => Some(k),
            _ => None,
        })
        .ok_or("the client key holds no usable private key")?;
    Ok(ClientCert::new_with_certs(&chain, key))
}

/// The HTTP methods kcred uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Post,
    Patch,
}

impl Method {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// A client of one API server.
pub struct ApiClient {
    server: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ApiClient {
    /// A client of `server` (`https://host:port`) trusting only `roots`, presenting
    /// `client_cert` and/or `token`; each call ends within `timeout`.
    pub fn with_roots(
        server: String,
        roots: &[Certificate<'static>],
        client_cert: Option<ClientCert>,
        token: Option<String>,
        timeout: Duration,
        user_agent: &str,
    ) -> ApiClient {
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::new_with_certs(roots))
            .client_cert(client_cert)
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout.min(MAX_CONNECT)))
            .timeout_global(Some(timeout))
            .proxy(None)
            .max_redirects(0)
            .user_agent(user_agent)
            .tls_config(tls)
            .build();
        ApiClient {
            server,
            token,
            agent: config.into(),
        }
    }

    /// The server URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The URL of `path` on this server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    /// Sends `body` (of `content_type`) to `path`; a 2xx answer's body, else the error.
    pub(crate) fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<String, ApiError> {
        let url = self.url(path);
        let m = method.name();
        let req = match method {
            Method::Post => self.agent.post(&url),
            Method::Patch => self.agent.patch(&url),
        };
        let mut req = req
            .header("Content-Type", content_type)
            .header("Accept", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let mut resp = req.send(body).map_err(|e| ApiError::Transport {
            method: m,
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_string();
        if !(200..300).contains(&status) {
            let text = text.unwrap_or_default();
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| text.chars().take(200).collect());
            return Err(ApiError::Status {
                method: m,
                url,
                status,
                message,
            });
        }
        text.map_err(|e| ApiError::Decode {
            method: m,
            url,
            reason: e.to_string(),
        })
    }

    /// `POST`s the JSON `body` to `path` and decodes the JSON answer.
    pub(crate) fn post_json(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        let text = self.send(
            Method::Post,
            path,
            "application/json",
            &serde_json::to_vec(body).expect("a JSON value serializes"),
        )?;
        serde_json::from_str(&text).map_err(|e| ApiError::Decode {
            method: Method::Post.name(),
            url: self.url(path),
            reason: format!("not JSON: {e}"),
        })
    }
}
