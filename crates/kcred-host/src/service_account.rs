//! Service-account token mode (KEP-4412, kubernetes/enhancements#4412; kubelet
//! `pkg/credentialprovider/plugin/plugin.go`, `provide` step 2 and the cache key): the pod and service account a
//! pull is for, where bound tokens come from, and what a provider sends and caches with them.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use kcred_api::config::{ServiceAccountCacheType, ServiceAccountTokenAttributes};
use kcred_api::Secret;
use sha2::{Digest, Sha256};

use crate::cache::{KeyTooLong, ServiceAccountCacheKey, ServiceAccountKeyParts};

/// The pod an image is pulled for. All fields are empty (and `service_account` is `None`)
/// when the `KubeletServiceAccountTokenForCredentialProviders` gate is off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodContext {
    /// `metadata.namespace`
    pub namespace: String,
    /// `metadata.name`
    pub name: String,
    /// `metadata.uid`
    pub uid: String,
    /// The pod's service account (`spec.serviceAccountName` resolved); `None` when the pod
    /// names none.
    pub service_account: Option<ServiceAccount>,
}

impl PodContext {
    /// A pod with no service account.
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        uid: impl Into<String>,
    ) -> Self {
        PodContext {
            namespace: namespace.into(),
            name: name.into(),
            uid: uid.into(),
            service_account: None,
        }
    }

    /// The same pod with `service_account`.
    pub fn with_service_account(mut self, service_account: ServiceAccount) -> Self {
        self.service_account = Some(service_account);
        self
    }
}

/// The parts of a ServiceAccount object a provider uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceAccount {
    /// `metadata.name`
    pub name: String,
    /// `metadata.uid`
    pub uid: String,
    /// `metadata.annotations`
    pub annotations: BTreeMap<String, String>,
}

/// Which service account a credential was obtained with (pull tracking, 1.34+): the
/// keyring's credential source.
pub type ServiceAccountCoordinates = kcred_match::keyring::CredentialSource;

/// A TokenRequest: `spec.audiences = [audience]`, bound to the pod, `metadata.uid = saUID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// Namespace of the service account (the pod's).
    pub namespace: String,
    /// The service account's name.
    pub service_account_name: String,
    /// The service account's UID.
    pub service_account_uid: String,
    /// The provider's `serviceAccountTokenAudience`.
    pub audience: String,
    /// `boundObjectRef.name` (the pod).
    pub pod_name: String,
    /// `boundObjectRef.uid` (the pod).
    pub pod_uid: String,
}

/// A token could not be obtained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(pub String);

/// The future a [`ServiceAccountTokenSource`] returns.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Secret, TokenError>> + Send + 'a>>;

/// Where bound service-account tokens come from (the kubelet uses TokenRequest through its
/// token manager).
pub trait ServiceAccountTokenSource: Send + Sync + fmt::Debug {
    /// Returns a token for `request`.
    fn token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a>;
}

/// Answers every request with one caller-supplied token.
#[derive(Debug, Clone)]
pub struct StaticTokenSource {
    token: Secret,
}

impl StaticTokenSource {
    /// A source that always returns `token`.
    pub fn new(token: impl Into<Secret>) -> Self {
        StaticTokenSource {
            token: token.into(),
        }
    }
}

impl ServiceAccountTokenSource for StaticTokenSource {
    fn token<'a>(&'a self, _request: &'a TokenRequest) -> TokenFuture<'a> {
        let token = self.token.clone();
        Box::pin(async move { Ok(token) })
    }
}

/// The default source: there is none, so SA-mode providers fail to get a token.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTokenSource;

impl ServiceAccountTokenSource for NoTokenSource {
    fn token<'a>(&'a self, _request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(async {
            Err(TokenError(
                "no service account token source is configured".to_owned(),
            ))
        })
    }
}

/// `"sha256:" + hex(sha256(token))`, or `""` for an empty token (`getHashIfNotEmpty`).
pub fn token_hash(token: &Secret) -> String {
    if token.is_empty() {
        return String::new();
    }
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(token.expose().as_bytes()))
    )
}

/// Why a provider in SA mode returned nothing without running the plugin. The texts are
/// the kubelet's log lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceAccountError {
    /// `requireServiceAccount` is true and the pod has no service account.
    #[error("Service account name is empty for pod {namespace}/{pod}")]
    NameEmpty {
        /// Pod namespace.
        namespace: String,
        /// Pod name.
        pod: String,
    },
    /// A required annotation is missing on the service account.
    #[error("Failed to get service account data {namespace}/{service_account}: required annotation {key} not found")]
    RequiredAnnotationMissing {
        /// Pod namespace.
        namespace: String,
        /// Service account name.
        service_account: String,
        /// The missing key.
        key: String,
    },
    /// The token source failed.
    #[error("Error getting service account token {namespace}/{service_account}: {error}")]
    Token {
        /// Pod namespace.
        namespace: String,
        /// Service account name.
        service_account: String,
        /// The source's error.
        error: TokenError,
    },
    /// The cache key could not be built.
    #[error("Error generating service account cache key: {0}")]
    Key(#[from] KeyTooLong),
}

/// What SA mode adds to one request.
#[derive(Debug, Clone)]
pub struct ServiceAccountRequest {
    /// The bound token (sent as `serviceAccountToken`).
    pub token: Secret,
    /// [`token_hash`] of the token.
    pub token_hash: String,
    /// Required keys plus the optional keys present (sent as `serviceAccountAnnotations`).
    pub annotations: BTreeMap<String, String>,
    /// The service-account part of the cache key.
    pub cache_key: ServiceAccountCacheKey,
    /// Which service account the credentials belong to.
    pub coordinates: ServiceAccountCoordinates,
}

/// A provider's service-account token mode (present only when the gate is on and the
/// audience is non-empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountMode {
    /// `serviceAccountTokenAudience`
    pub audience: String,
    /// `requireServiceAccount` (absent counts as false; validation requires it).
    pub require_service_account: bool,
    /// `requiredServiceAccountAnnotationKeys`
    pub required_annotation_keys: Vec<String>,
    /// `optionalServiceAccountAnnotationKeys`
    pub optional_annotation_keys: Vec<String>,
    /// `cacheType`; `None` when absent or unknown (treated as not `Token`).
    pub cache_type: Option<ServiceAccountCacheType>,
}

impl ServiceAccountMode {
    /// The mode for a provider's `tokenAttributes`, or `None` when SA mode is off
    /// (gate off, no attributes, or an empty audience).
    pub fn from_attributes(
        attributes: Option<&ServiceAccountTokenAttributes>,
        gate_enabled: bool,
    ) -> Option<Self> {
        let a = attributes?;
        if !gate_enabled || a.service_account_token_audience.is_empty() {
            return None;
        }
        Some(ServiceAccountMode {
            audience: a.service_account_token_audience.clone(),
            require_service_account: a.require_service_account.unwrap_or(false),
            required_annotation_keys: a.required_service_account_annotation_keys.clone(),
            optional_annotation_keys: a.optional_service_account_annotation_keys.clone(),
            cache_type: ServiceAccountCacheType::parse(&a.cache_type),
        })
    }

    /// True when the cache key includes the token hash (`cacheType: Token`).
    pub fn caches_per_token(&self) -> bool {
        self.cache_type == Some(ServiceAccountCacheType::Token)
    }

    /// `provide` step 2: `Ok(None)` = run without a token (no service account, not required).
    pub async fn resolve(
        &self,
        pod: &PodContext,
        source: &dyn ServiceAccountTokenSource,
    ) -> Result<Option<ServiceAccountRequest>, ServiceAccountError> {
        let Some(sa) = pod
            .service_account
            .as_ref()
            .filter(|sa| !sa.name.is_empty())
        else {
            if self.require_service_account {
                return Err(ServiceAccountError::NameEmpty {
                    namespace: pod.namespace.clone(),
                    pod: pod.name.clone(),
                });
            }
            return Ok(None);
        };
        let mut annotations = BTreeMap::new();
        for key in &self.required_annotation_keys {
            let Some(value) = sa.annotations.get(key) else {
                return Err(ServiceAccountError::RequiredAnnotationMissing {
                    namespace: pod.namespace.clone(),
                    service_account: sa.name.clone(),
                    key: key.clone(),
                });
            };
            annotations.insert(key.clone(), value.clone());
        }
        for key in &self.optional_annotation_keys {
            if let Some(value) = sa.annotations.get(key) {
                annotations.insert(key.clone(), value.clone());
            }
        }
        let request = TokenRequest {
            namespace: pod.namespace.clone(),
            service_account_name: sa.name.clone(),
            service_account_uid: sa.uid.clone(),
            audience: self.audience.clone(),
            pod_name: pod.name.clone(),
            pod_uid: pod.uid.clone(),
        };
        let token = source
            .token(&request)
            .await
            .map_err(|error| ServiceAccountError::Token {
                namespace: pod.namespace.clone(),
                service_account: sa.name.clone(),
                error,
            })?;
        let hash = token_hash(&token);
        let cache_key = ServiceAccountCacheKey::new(ServiceAccountKeyParts {
            namespace: &pod.namespace,
            name: &sa.name,
            uid: &sa.uid,
            annotations: &annotations,
            token_hash: self.caches_per_token().then_some(hash.as_str()),
        })?;
        Ok(Some(ServiceAccountRequest {
            token,
            token_hash: hash,
            annotations,
            cache_key,
            coordinates: ServiceAccountCoordinates {
                namespace: pod.namespace.clone(),
                name: sa.name.clone(),
                uid: sa.uid.clone(),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_matches_kubelet_vector() {
        // response_cases: token "token" hashes to the value embedded in the Token cache keys.
        assert_eq!(
            token_hash(&Secret::new("token")),
            "sha256:3c469e9d6c5875d37a43f353d4f88e61fcf812c66eee3457465a40b0da4153e0"
        );
        assert_eq!(token_hash(&Secret::new("")), "");
    }

    #[test]
    fn mode_needs_gate_and_audience() {
        let attrs = ServiceAccountTokenAttributes {
            service_account_token_audience: "aud".to_owned(),
            cache_type: "Token".to_owned(),
            require_service_account: Some(true),
            ..Default::default()
        };
        assert!(ServiceAccountMode::from_attributes(Some(&attrs), false).is_none());
        let mode = ServiceAccountMode::from_attributes(Some(&attrs), true).unwrap();
        assert!(mode.caches_per_token() && mode.require_service_account);
        let empty = ServiceAccountTokenAttributes::default();
        assert!(ServiceAccountMode::from_attributes(Some(&empty), true).is_none());
    }
}
