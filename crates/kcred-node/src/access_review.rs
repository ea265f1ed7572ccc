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
//! HTTP is [`crate::api_client`]'s, trusting only the kubeconfig's CA and presenting its
//! client certificate and/or token.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api_client::{client_cert, pem_certs, Method};
pub use crate::api_client::{ApiClient, ApiError};
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

impl ApiClient {
    /// A client for the kubeconfig's server, trusting only its CA.
    pub fn new(creds: &Credentials, timeout: Duration) -> Result<ApiClient, ApiError> {
        let tls_err = |reason: &str| ApiError::Tls {
            file: creds.file.clone(),
            reason: reason.to_owned(),
        };
        let roots = pem_certs(&creds.ca_pem);
        if roots.is_empty() {
            return Err(tls_err(
                "the certificate authority holds no usable certificate",
            ));
        }
        let cert =
            |cert_pem: &[u8], key_pem: &[u8]| client_cert(cert_pem, key_pem).map_err(tls_err);
        let (client, token) = match &creds.auth {
            ClientAuth::Certificate { cert_pem, key_pem } => (Some(cert(cert_pem, key_pem)?), None),
            ClientAuth::Token(t) => (None, Some(t.clone())),
            ClientAuth::Both {
                cert_pem,
                key_pem,
                token,
            } => (Some(cert(cert_pem, key_pem)?), Some(token.clone())),
        };
        if creds.tls_server_name.is_some() {
            return Err(tls_err("tls-server-name is not supported"));
        }
        Ok(ApiClient::with_roots(
            creds.server.clone(),
            &roots,
            client,
            token,
            timeout,
            concat!("kcred-doctor/", env!("CARGO_PKG_VERSION")),
        ))
    }

    /// Who the API server says this client is.
    pub fn self_subject_review(&self) -> Result<UserInfo, ApiError> {
        let v = self.post_json(
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
            method: Method::Post.name(),
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

    fn review(&self, path: &str, kind: &str, body: &Value) -> Result<Decision, ApiError> {
        let v = self.post_json(path, body)?;
        expect_kind(&v, "authorization.k8s.io/v1", kind, &self.url(path))?;
        serde_json::from_value(v["status"].clone()).map_err(|e| ApiError::Decode {
            method: Method::Post.name(),
            url: self.url(path),
            reason: format!("status: {e}"),
        })
    }
}

fn expect_kind(v: &Value, api_version: &str, kind: &str, url: &str) -> Result<(), ApiError> {
    if v["apiVersion"] == api_version && v["kind"] == kind {
        Ok(())
    } else {
        Err(ApiError::Decode {
            method: Method::Post.name(),
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
