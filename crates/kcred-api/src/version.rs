//! [`ApiVersion`]: the versions of `credentialprovider.kubelet.k8s.io`.

use std::fmt;

/// The API group of requests and responses.
pub const GROUP: &str = "credentialprovider.kubelet.k8s.io";

/// A version of the `credentialprovider.kubelet.k8s.io` API, as named by a provider's
/// `apiVersion` in the config and by the `apiVersion` of requests and responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiVersion {
    /// `credentialprovider.kubelet.k8s.io/v1alpha1` (kubelet 1.20).
    V1Alpha1,
    /// `credentialprovider.kubelet.k8s.io/v1beta1` (kubelet 1.24).
    V1Beta1,
    /// `credentialprovider.kubelet.k8s.io/v1` (kubelet 1.26); the only one carrying
    /// service-account tokens.
    V1,
}

impl ApiVersion {
    /// All versions, in the sorted order the kubelet lists them in messages.
    pub const ALL: [ApiVersion; 3] = [ApiVersion::V1, ApiVersion::V1Alpha1, ApiVersion::V1Beta1];

    /// The full `group/version` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1Alpha1 => "credentialprovider.kubelet.k8s.io/v1alpha1",
            ApiVersion::V1Beta1 => "credentialprovider.kubelet.k8s.io/v1beta1",
            ApiVersion::V1 => "credentialprovider.kubelet.k8s.io/v1",
        }
    }

    /// Parses a full `group/version` string; exact and case-sensitive.
    pub fn parse(s: &str) -> Option<ApiVersion> {
        ApiVersion::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The version alone: `v1alpha1`, `v1beta1` or `v1`.
    pub fn version(self) -> &'static str {
        match self {
            ApiVersion::V1Alpha1 => "v1alpha1",
            ApiVersion::V1Beta1 => "v1beta1",
            ApiVersion::V1 => "v1",
        }
    }

    /// The version of [`GROUP`] named `version`, if any.
    pub fn from_version(version: &str) -> Option<ApiVersion> {
        ApiVersion::ALL.into_iter().find(|v| v.version() == version)
    }

    /// True for `v1`, the only version whose requests carry service-account fields.
    pub fn supports_service_account_token(self) -> bool {
        self == ApiVersion::V1
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip() {
        for v in ApiVersion::ALL {
            assert_eq!(ApiVersion::parse(v.as_str()), Some(v));
            assert_eq!(ApiVersion::from_version(v.version()), Some(v));
            assert_eq!(v.as_str(), format!("{GROUP}/{}", v.version()));
        }
        assert_eq!(
            ApiVersion::parse("credentialprovider.kubelet.k8s.io/V1"),
            None
        );
        assert!(ApiVersion::V1.supports_service_account_token());
        assert!(!ApiVersion::V1Beta1.supports_service_account_token());
    }
}
