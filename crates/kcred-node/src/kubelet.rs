//! What `kcred install` and `kcred doctor` need to know about a kubelet version.
//!
//! A small interface over the kubelet version table: which minor versions kcred supports,
//! the default of the service-account token feature gate, and which config features a version
//! reads. Facts (kubernetes/kubernetes pull requests):
//!
//! - 1.26: `kubelet.config.k8s.io/v1` and `credentialprovider.kubelet.k8s.io/v1` GA
//!   (kubernetes/kubernetes#111616); older kubelets do not know `v1`
//!   (kubernetes-sigs/cluster-api-provider-azure#4110).
//! - 1.33: `tokenAttributes` behind `KubeletServiceAccountTokenForCredentialProviders`, alpha,
//!   default off (kubernetes/kubernetes#128372).
//! - 1.34: the gate is beta and on by default (kubernetes/kubernetes#133017); the config path
//!   may be a directory (kubernetes/kubernetes#131658).

use std::fmt;

/// Oldest kubelet minor version kcred installs for (the first with the `v1` config API).
pub const MIN_MINOR: u32 = 26;
/// Newest kubelet minor version kcred knows.
pub const MAX_KNOWN_MINOR: u32 = 37;

/// A kubelet version `1.MINOR[.PATCH]`, as given to `--kubelet-version` or printed by
/// `kubelet --version` (`Kubernetes v1.33.4`, k3s's `v1.33.4+k3s1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeletVersion {
    /// The minor version (`33` of `1.33.4`).
    pub minor: u32,
    /// The patch version, when known.
    pub patch: Option<u32>,
}

/// A version string that is not `[v]1.MINOR[.PATCH][-pre][+build]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid kubelet version {input:?}: want 1.MINOR or 1.MINOR.PATCH (e.g. 1.34 or v1.34.2), with 1.{MIN_MINOR} <= version")]
pub struct VersionError {
    /// The rejected input.
    pub input: String,
}

impl KubeletVersion {
    /// The newest version kcred knows, used when a node's version cannot be found.
    pub const LATEST: KubeletVersion = KubeletVersion {
        minor: MAX_KNOWN_MINOR,
        patch: None,
    };

    /// Parses `1.34`, `v1.34.2`, `Kubernetes v1.34.2`, `v1.33.4+k3s1`, `v1.35.0-rc.1`.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let err = || VersionError {
            input: input.to_owned(),
        };
        let s = input.trim();
        let s = s.strip_prefix("Kubernetes ").unwrap_or(s);
        let s = s.strip_prefix('v').unwrap_or(s);
        let core = s.split(['+', '-']).next().unwrap_or("");
        let mut parts = core.split('.');
        let major = parts.next().ok_or_else(err)?;
        let minor = parts.next().ok_or_else(err)?;
        let patch = parts.next();
        if parts.next().is_some() || major != "1" {
            return Err(err());
        }
        let number = |p: &str| -> Result<u32, VersionError> {
            if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            p.parse().map_err(|_| err())
        };
        let minor = number(minor)?;
        let patch = patch.map(number).transpose()?;
        if minor < MIN_MINOR {
            return Err(err());
        }
        Ok(KubeletVersion { minor, patch })
    }

    /// The default of `KubeletServiceAccountTokenForCredentialProviders`, or `None` before
    /// 1.33 (the gate and `tokenAttributes` do not exist there).
    pub fn token_gate_default(self) -> Option<bool> {
        match self.minor {
            m if m < 33 => None,
            33 => Some(false),
            _ => Some(true),
        }
    }

    /// Whether `tokenAttributes` exists at all (1.33+).
    pub fn supports_token_attributes(self) -> bool {
        self.token_gate_default().is_some()
    }

    /// Whether `--image-credential-provider-config` may name a directory (1.34+).
    pub fn supports_config_directory(self) -> bool {
        self.minor >= 34
    }

    /// Whether kcred knows this version's behaviour (1.26 to 1.37).
    pub fn is_known(self) -> bool {
        self.minor <= MAX_KNOWN_MINOR
    }
}

impl fmt::Display for KubeletVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "1.{}.{p}", self.minor),
            None => write!(f, "1.{}", self.minor),
        }
    }
}

impl std::str::FromStr for KubeletVersion {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KubeletVersion::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_kubelets_print() {
        for (s, minor, patch) in [
            ("1.34", 34, None),
            ("v1.34.2", 34, Some(2)),
            ("Kubernetes v1.33.4", 33, Some(4)),
            ("v1.33.4+k3s1", 33, Some(4)),
            ("v1.35.0-rc.1", 35, Some(0)),
            ("v1.32.1+rke2r1", 32, Some(1)),
        ] {
            assert_eq!(
                KubeletVersion::parse(s),
                Ok(KubeletVersion { minor, patch }),
                "{s}"
            );
        }
    }

    #[test]
    fn rejects_others() {
        for s in ["", "1", "2.30", "1.25", "1.x", "1.34.2.1", "v1..2", "1.99999"] {
            assert!(KubeletVersion::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn token_gate_by_version() {
        let v = |s| KubeletVersion::parse(s).unwrap();
        assert_eq!(v("1.32").token_gate_default(), None);
        assert_eq!(v("1.33.1").token_gate_default(), Some(false));
        assert_eq!(v("1.34").token_gate_default(), Some(true));
        assert!(!v("1.33").supports_config_directory());
        assert!(v("1.34").supports_config_directory());
    }
}
