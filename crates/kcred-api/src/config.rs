//! `kubelet.config.k8s.io` `CredentialProviderConfig` (v1alpha1, v1beta1, v1).
//!
//! The types here are the version-independent ("internal") form the kubelet validates.
//! Values are kept as written (strings, optional fields) so validation can quote them.

use crate::duration::GoDuration;

/// A decoded `CredentialProviderConfig` document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialProviderConfig {
    /// `providers`, in document order.
    pub providers: Vec<CredentialProvider>,
}

/// One entry of `providers`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialProvider {
    /// `name`: the executable's name in the bin dir.
    pub name: String,
    /// `matchImages`: patterns matched against the image (see `kcred-match`).
    pub match_images: Vec<String>,
    /// `defaultCacheDuration`; `None` when absent (a validation error).
    pub default_cache_duration: Option<GoDuration>,
    /// `apiVersion` of the request/response the plugin speaks, as written.
    pub api_version: String,
    /// `args` passed to the plugin.
    pub args: Vec<String>,
    /// `env` added to the plugin's environment, in order.
    pub env: Vec<ExecEnvVar>,
    /// `tokenAttributes` (v1 config only).
    pub token_attributes: Option<ServiceAccountTokenAttributes>,
}

/// One `env` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecEnvVar {
    /// `name`
    pub name: String,
    /// `value`
    pub value: String,
}

/// `tokenAttributes`: service-account token mode (KEP-4412).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceAccountTokenAttributes {
    /// `serviceAccountTokenAudience`
    pub service_account_token_audience: String,
    /// `cacheType` as written (`Token` or `ServiceAccount` when valid).
    pub cache_type: String,
    /// `requireServiceAccount`; `None` when absent (a validation error).
    pub require_service_account: Option<bool>,
    /// `requiredServiceAccountAnnotationKeys`
    pub required_service_account_annotation_keys: Vec<String>,
    /// `optionalServiceAccountAnnotationKeys`
    pub optional_service_account_annotation_keys: Vec<String>,
}

/// `tokenAttributes.cacheType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceAccountCacheType {
    /// `Token`: the cache key includes the token's hash.
    Token,
    /// `ServiceAccount`: credentials are shared by all pods of a service account.
    ServiceAccount,
}

impl ServiceAccountCacheType {
    /// Parses the wire value (case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Token" => Some(Self::Token),
            "ServiceAccount" => Some(Self::ServiceAccount),
            _ => None,
        }
    }
}
