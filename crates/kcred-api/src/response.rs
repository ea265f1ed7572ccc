//! `CredentialProviderResponse`: what a plugin prints on stdout.

use std::collections::BTreeMap;

use crate::{ApiVersion, GoDuration, Secret};

/// A decoded response. Fields are identical in v1alpha1, v1beta1 and v1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialProviderResponse {
    /// `apiVersion` of the response.
    pub api_version: ApiVersion,
    /// `cacheKeyType` as written; see [`CacheKeyType::parse`]. The kubelet checks it
    /// only after decoding, so an unknown value decodes.
    pub cache_key_type: String,
    /// `cacheDuration`; `None` when absent or `null` (use `defaultCacheDuration`).
    pub cache_duration: Option<GoDuration>,
    /// `auth`: match pattern → credentials (empty when absent or `null`).
    pub auth: BTreeMap<String, AuthConfig>,
}

/// One `auth` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct AuthConfig {
    /// `username` (missing means `""`).
    #[serde(default)]
    pub username: String,
    /// `password` (missing means `""`). Redacted in `Debug`.
    #[serde(default)]
    pub password: Secret,
}

/// `cacheKeyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheKeyType {
    /// `Image`: cache under the image.
    Image,
    /// `Registry`: cache under the image's registry (host and port).
    Registry,
    /// `Global`: cache for every image this provider matches.
    Global,
}

impl CacheKeyType {
    /// Parses the wire value, exactly and case-sensitively.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Image" => Some(Self::Image),
            "Registry" => Some(Self::Registry),
            "Global" => Some(Self::Global),
            _ => None,
        }
    }

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "Image",
            Self::Registry => "Registry",
            Self::Global => "Global",
        }
    }
}
