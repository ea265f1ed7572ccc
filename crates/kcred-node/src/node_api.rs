//! Annotating the node with what kcred installed, from the installer pod, with the pod's
//! in-cluster credentials: `PATCH /api/v1/nodes/NAME` (JSON merge patch,
//! `application/merge-patch+json`) with the service account's bearer token, trusting only
//! the service account's `ca.crt`. The token is never printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ureq::tls::{PemItem, RootCerts, TlsConfig};

/// The annotation holding the installed kcred version.
pub const VERSION_ANNOTATION: &str = "kcred.dev/installed-version";
/// The annotation holding the profile used.
pub const PROFILE_ANNOTATION: &str = "kcred.dev/profile";
/// The annotation holding the providers kcred installed (comma separated).
pub const PROVIDERS_ANNOTATION: &str = "kcred.dev/providers";
/// Where a pod's service-account credentials are mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The largest API answer read.
const MAX_RESPONSE: u64 = 1 << 20;

/// Why the node could not be annotated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeApiError {
    /// The in-cluster environment is incomplete.
    #[error("in-cluster API access: {0}")]
    Config(String),
    /// The node name is not a DNS-1123 subdomain.
    #[error("invalid node name {0:?}: {1}")]
    NodeName(String, String),
    /// The request failed before an answer.
    #[error("PATCH {url}: {reason}")]
    Transport {
        /// The URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The API server refused.
    #[error("PATCH {url}: HTTP {status}: {message}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The `Status` object's message (or the body's start).
        message: String,
    },
}

/// How to reach the API server from a pod.
pub struct InCluster {
    server: String,
    token: String,
    roots: RootCerts,
}

impl std::fmt::Debug for InCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InCluster")
            .field("server", &self.server)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl InCluster {
    /// `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, with the token and CA of
    /// `sa_dir` (normally [`SERVICE_ACCOUNT_DIR`]).
    pub fn from_env(sa_dir: &Path) -> Result<InCluster, NodeApiError> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").map_err(|_| {
            NodeApiError::Config("KUBERNETES_SERVICE_HOST is not set (not in a pod?)".into())
        })?;
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        let token = std::fs::read_to_string(sa_dir.join("token"))
            .map_err(|e| {
                NodeApiError::Config(format!("reading {}: {e}", sa_dir.join("token").display()))
            })?
            .trim()
            .to_owned();
        if token.is_empty() {
            return Err(NodeApiError::Config(format!(
                "{} is empty",
                sa_dir.join("token").display()
            )));
        }
        let ca_path = sa_dir.join("ca.crt");
        let ca = std::fs::read(&ca_path)
            .map_err(|e| NodeApiError::Config(format!("reading {}: {e}", ca_path.display())))?;
        InCluster::new(format!("https://{host}:{port}"), token, &ca)
            .map_err(|e| NodeApiError::Config(format!("{}: {e}", ca_path.display())))
    }

    /// An API server at `server` (`https://host:port`), a bearer token, and the PEM CA
    /// certificates to trust (only those).
    pub fn new(server: String, token: String, ca_pem: &[u8]) -> Result<InCluster, String> {
        let certs: Vec<_> = ureq::tls::parse_pem(ca_pem)
            .filter_map(|i| match i {
                Ok(PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err("no certificates".into());
        }
        Ok(InCluster {
            server,
            token,
            roots: RootCerts::new_with_certs(&certs),
        })
    }

    /// Merges `annotations` into the node's `metadata.annotations`.
    pub fn annotate_node(
        &self,
        node: &str,
        annotations: &BTreeMap<String, String>,
    ) -> Result<(), NodeApiError> {
        let problems = kcred_config::qualified_name::is_dns1123_subdomain(node);
        if !problems.is_empty() {
            return Err(NodeApiError::NodeName(node.to_owned(), problems.join("; ")));
        }
        let url = format!("{}/api/v1/nodes/{node}", self.server);
        let body = serde_json::json!({ "metadata": { "annotations": annotations } });
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .proxy(None)
            .user_agent(concat!("kcred-installer/", env!("CARGO_PKG_VERSION")))
            .tls_config(TlsConfig::builder().root_certs(self.roots.clone()).build())
            .build();
        let agent: ureq::Agent = config.into();
        let result = agent
            .patch(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/merge-patch+json")
            .header("Accept", "application/json")
            .send(serde_json::to_vec(&body).expect("JSON"));
        let mut resp = result.map_err(|e| NodeApiError::Transport {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_string()
            .unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| text.chars().take(200).collect());
        Err(NodeApiError::Status {
            url,
            status,
            message,
        })
    }
}
