//! Asking the API server whether a node may request service-account tokens for an audience,
//! as `kubectl auth can-i` does: a `SelfSubjectAccessReview` when the kubeconfig is the
//! node's own identity, a `SubjectAccessReview` for `system:node:<name>` otherwise
//! (authorization.k8s.io/v1), after a `SelfSubjectReview` (authentication.k8s.io/v1, GA in
//! 1.28) tells which identity the kubeconfig has.
//!
//! The attributes are exactly those kube-apiserver's NodeRestriction admission asks its
//! authorizer when a kubelet requests a token for an audience no pod on the node uses
//! (ServiceAccountNodeAudienceRestriction, kubernetes/kubernetes#130017 and #130485): verb
//! `request-serviceaccounts-token-audience`, API group `""`, resource = the audience, name =
//! the service account, namespace = its namespace.
//!
//! HTTP: ureq with rustls, trusting only the kubeconfig's CA, the client certificate from the
//! kubeconfig, no proxy, 5 s to connect, 15 s in all, answers read up to 1 MiB. The token and
//! key are never printed.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ureq::tls::{ClientCert, PemItem, RootCerts, TlsConfig};

use crate::kubeconfig::{ClientAuth, Credentials};

/// The verb kube-apiserver checks (kubernetes/kubernetes#130485).
pub const TOKEN_AUDIENCE_VERB: &str = "request-serviceaccounts-token-audience";
/// The group every node is in.
pub const NODES_GROUP: &str = "system:nodes";
/// The prefix of node user names.
pub const NODE_USER_PREFIX: &str = "system:node:";
/// `POST` here for a SelfSubjectAccessReview.
pub const SSAR_PATH: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
/// `POST` here for a SubjectAccessReview.
pub const SAR_PATH: &str = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
/// `POST` here for a SelfSubjectReview.
pub const SSR_PATH: &str = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
const MAX_RESPONSE: u64 = 1 << 20;

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
    #[error("POST {url}: {reason}")]
    Transport {
        /// The URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// An error status (with the `Status` object's message when there is one).
    #[error("POST {url}: HTTP {status}: {message}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The message.
        message: String,
    },
    /// A 2xx answer that is not the expected object.
    #[error("POST {url}: unexpected answer: {reason}")]
    Decode {
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

/// `spec.resourceAttributes` of an access review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceAttributes {
    /// The namespace (`""`: all namespaces / cluster scope).
    pub namespace: String,
    /// The verb.
    pub verb: String,
    /// The API group.
    pub group: String,
    /// The resource.
    pub resource: String,
    /// The object's name (`""`: every name).
    pub name: String,
}

impl ResourceAttributes {
    /// What a kubelet needs to request a token for `audience` for service account
    /// `namespace/name` (both `""`: any service account in any namespace).
    pub fn token_audience(audience: &str, namespace: &str, name: &str) -> ResourceAttributes {
        ResourceAttributes {
            namespace: namespace.to_owned(),
            verb: TOKEN_AUDIENCE_VERB.to_owned(),
            group: String::new(),
            resource: audience.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// An access review's `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Allowed.
    #[serde(default)]
    pub allowed: bool,
    /// Explicitly denied (no other authorizer is asked).
    #[serde(default)]
    pub denied: bool,
    /// The authorizer's reason.
    #[serde(default)]
    pub reason: String,
    /// An error while evaluating (the answer may be incomplete).
    #[serde(default)]
    pub evaluation_error: String,
}

/// The identity the API server sees (`SelfSubjectReview` `status.userInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct UserInfo {
    /// The user name.
    #[serde(default)]
    pub username: String,
    /// The groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

impl UserInfo {
    /// The node name, when this is a node's identity (`system:node:NAME` in `system:nodes`).
    pub fn node_name(&self) -> Option<&str> {
        self.username
            .strip_prefix(NODE_USER_PREFIX)
            .filter(|n| !n.is_empty() && self.groups.iter().any(|g| g == NODES_GROUP))
    }
}

/// A client of one API server, built from a kubeconfig.
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

fn certs_of(pem: &[u8]) -> Vec<ureq::tls::Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|i| match i {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect()
}

impl ApiClient {
    /// A client for the kubeconfig's server, trusting only its CA.
    pub fn new(creds: &Credentials, timeout: Duration) -> Result<ApiClient, ApiError> {
        let tls_err = |reason: &str| ApiError::Tls {
            file: creds.file.clone(),
            reason: reason.to_owned(),
        };
        let roots = certs_of(&creds.ca_pem);
        if roots.is_empty() {
            return Err(tls_err(
                "the certificate authority holds no usable certificate",
            ));
        }
        let (client, token) = match &creds.auth {
            ClientAuth::Certificate { cert_pem, key_pem } => {
                (Some(client_cert(cert_pem, key_pem, &tls_err)?), None)
            }
            ClientAuth::Token(t) => (None, Some(t.clone())),
            ClientAuth::Both {
                cert_pem,
                key_pem,
                token,
            } => (
                Some(client_cert(cert_pem, key_pem, &tls_err)?),
                Some(token.clone()),
            ),
        };
        if creds.tls_server_name.is_some() {
            return Err(tls_err("tls-server-name is not supported"));
        }
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::new_with_certs(&roots))
            .client_cert(client)
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout.min(Duration::from_secs(5))))
            .timeout_global(Some(timeout))
            .proxy(None)
            .max_redirects(0)
            .user_agent(concat!("kcred-doctor/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build();
        Ok(ApiClient {
            server: creds.server.clone(),
            token,
            agent: config.into(),
        })
    }

    /// The server URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        let url = format!("{}{path}", self.server);
        let mut req = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let mut resp = req
            .send(serde_json::to_vec(body).expect("JSON"))
            .map_err(|e| ApiError::Transport {
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
                url,
                status,
                message,
            });
        }
        let text = text.map_err(|e| ApiError::Decode {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| ApiError::Decode {
            url,
            reason: format!("not JSON: {e}"),
        })
    }

    /// Who the API server says this client is.
    pub fn self_subject_review(&self) -> Result<UserInfo, ApiError> {
        let v = self.post(
            SSR_PATH,
            &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
        )?;
        expect_kind(
            &v,
            "authentication.k8s.io/v1",
            "SelfSubjectReview",
            &self.url(SSR_PATH),
        )?;
        serde_json::from_value(v["status"]["userInfo"].clone()).map_err(|e| ApiError::Decode {
            url: self.url(SSR_PATH),
            reason: format!("status.userInfo: {e}"),
        })
    }

    /// Whether this client's identity may do `attrs`.
    pub fn self_subject_access_review(
        &self,
        attrs: &ResourceAttributes,
    ) -> Result<Decision, ApiError> {
        let body = json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        });
        self.review(SSAR_PATH, "SelfSubjectAccessReview", &body)
    }

    /// Whether `user` in `groups` may do `attrs` (the caller must be allowed to create
    /// subjectaccessreviews).
    pub fn subject_access_review(
        &self,
        user: &str,
        groups: &[String],
        attrs: &ResourceAttributes,
    ) -> Result<Decision, ApiError> {
        let body = json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"resourceAttributes": attrs, "user": user, "groups": groups},
        });
        self.review(SAR_PATH, "SubjectAccessReview", &body)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    fn review(&self, path: &str, kind: &str, body: &Value) -> Result<Decision, ApiError> {
        let v = self.post(path, body)?;
        expect_kind(&v, "authorization.k8s.io/v1", kind, &self.url(path))?;
        serde_json::from_value(v["status"].clone()).map_err(|e| ApiError::Decode {
            url: self.url(path),
            reason: format!("status: {e}"),
        })
    }
}

fn client_cert(
    cert_pem: &[u8],
    key_pem: &[u8],
    err: &dyn Fn(&str) -> ApiError,
) -> Result<ClientCert, ApiError> {
    let chain = certs_of(cert_pem);
    if chain.is_empty() {
        return Err(err("the client certificate holds no usable certificate"));
    }
    let key = ureq::tls::parse_pem(key_pem)
        .find_map(|i| match i {
            Ok(PemItem::PrivateKey(k)) => Some(k),
            _ => None,
        })
        .ok_or_else(|| err("the client key holds no usable private key"))?;
    Ok(ClientCert::new_with_certs(&chain, key))
}

fn expect_kind(v: &Value, api_version: &str, kind: &str, url: &str) -> Result<(), ApiError> {
    if v["apiVersion"] == api_version && v["kind"] == kind {
        Ok(())
    } else {
        Err(ApiError::Decode {
            url: url.to_owned(),
            reason: format!(
                "expected {api_version} {kind}, got {} {}",
                v["apiVersion"], v["kind"]
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_wire_format() {
        let a = ResourceAttributes::token_audience("sts.amazonaws.com", "", "");
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"namespace": "", "verb": "request-serviceaccounts-token-audience", "group": "", "resource": "sts.amazonaws.com", "name": ""})
        );
        let d: Decision =
            serde_json::from_value(json!({"allowed": true, "reason": "RBAC: ok"})).unwrap();
        assert!(d.allowed && !d.denied);
        let d: Decision =
            serde_json::from_value(json!({"allowed": false, "evaluationError": "x"})).unwrap();
        assert_eq!(d.evaluation_error, "x");
    }

    #[test]
    fn node_identity() {
        let u = UserInfo {
            username: "system:node:n1".into(),
            groups: vec!["system:nodes".into(), "system:authenticated".into()],
        };
        assert_eq!(u.node_name(), Some("n1"));
        let u = UserInfo {
            username: "system:node:n1".into(),
            groups: vec!["system:authenticated".into()],
        };
        assert_eq!(u.node_name(), None);
        let u = UserInfo {
            username: "kubernetes-admin".into(),
            groups: vec!["system:masters".into()],
        };
        assert_eq!(u.node_name(), None);
    }
}
