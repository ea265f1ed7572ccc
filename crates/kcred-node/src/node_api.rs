//! Annotating the node with what kcred installed, from the installer pod, with the pod's
//! in-cluster credentials: `PATCH /api/v1/nodes/NAME` (JSON merge patch,
//! `application/merge-patch+json`) with the service account's bearer token, trusting only
//! the service account's `ca.crt` ([`crate::api_client`]'s HTTP). The token is never printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::api_client::{pem_certs, ApiClient, ApiError, Method};

/// The annotation holding the installed kcred version.
pub const VERSION_ANNOTATION: &str = "kcred.dev/installed-version";
/// The annotation holding the profile used.
pub const PROFILE_ANNOTATION: &str = "kcred.dev/profile";
/// The annotation holding the providers kcred installed (comma separated).
pub const PROVIDERS_ANNOTATION: &str = "kcred.dev/providers";
/// Where a pod's service-account credentials are mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

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

impl From<ApiError> for NodeApiError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Status {
                url,
                status,
                message,
                ..
            } => NodeApiError::Status {
                url,
                status,
                message,
            },
            ApiError::Transport { url, reason, .. } | ApiError::Decode { url, reason, .. } => {
                NodeApiError::Transport { url, reason }
            }
            ApiError::Tls { reason, .. } => NodeApiError::Config(reason),
        }
    }
}

/// How to reach the API server from a pod.
#[derive(Debug)]
pub struct InCluster {
    client: ApiClient,
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
        let certs = pem_certs(ca_pem);
        if certs.is_empty() {
            return Err("no certificates".into());
        }
        Ok(InCluster {
            client: ApiClient::with_roots(
                server,
                &certs,
                None,
                Some(token),
                Duration::from_secs(30),
                concat!("kcred-installer/", env!("CARGO_PKG_VERSION")),
            ),
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
        let body = serde_json::json!({ "metadata": { "annotations": annotations } });
        self.client
            .send(
                Method::Patch,
                &format!("/api/v1/nodes/{node}"),
                "application/merge-patch+json",
                &serde_json::to_vec(&body).expect("a JSON value serializes"),
            )
            .map(drop)
            .map_err(NodeApiError::from)
    }
}
