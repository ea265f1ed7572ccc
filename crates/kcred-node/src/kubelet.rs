//! What `kcred install` and `kcred doctor` need to know about a kubelet version: an adapter
//! over the kubelet version table of `kcred-kubelet` (docs/kubelet-versions.md).
//!
//! - the default of the service-account token feature gate
//!   (`KubeletServiceAccountTokenForCredentialProviders`: alpha and off in 1.33,
//!   kubernetes/kubernetes#128372; beta and on from 1.34, kubernetes/kubernetes#133017);
//! - whether the config path may be a directory (1.34+, kubernetes/kubernetes#131658);
//! - reading the version a node reports (`Kubernetes v1.34.2`, k3s's `v1.33.4+k3s1`).

pub use kcred_kubelet::{KubeletVersion, KubeletVersionError};

/// The version-dependent behaviour install and doctor use.
pub trait NodeBehaviour {
    /// The token gate's default, or `None` before 1.33 (no `tokenAttributes` at all).
    fn token_gate_default(self) -> Option<bool>;
    /// Whether `tokenAttributes` exists (1.33+).
    fn supports_token_attributes(self) -> bool;
    /// Whether `--image-credential-provider-config` may name a directory (1.34+).
    fn supports_config_directory(self) -> bool;
}

impl NodeBehaviour for KubeletVersion {
    fn token_gate_default(self) -> Option<bool> {
        self.token_attributes().map(|t| t.gate_default)
    }

    fn supports_token_attributes(self) -> bool {
        self.token_attributes().is_some()
    }

    fn supports_config_directory(self) -> bool {
        self.config_directory()
    }
}

/// Reads a version as a node reports it: `Kubernetes v1.34.2`, `v1.33.4+k3s1`,
/// `v1.32.1+rke2r1`, `v1.35.0-rc.1`, `1.34`.
pub fn parse_reported(input: &str) -> Result<KubeletVersion, KubeletVersionError> {
    let s = input.trim();
    let s = s.strip_prefix("Kubernetes ").unwrap_or(s);
    let core = s.split(['+', '-']).next().unwrap_or("");
    KubeletVersion::parse(core)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_nodes_report() {
        for (s, want) in [
            ("Kubernetes v1.34.2", "1.34.2"),
            ("v1.33.4+k3s1", "1.33.4"),
            ("v1.32.1+rke2r1", "1.32.1"),
            ("v1.35.0-rc.1", "1.35.0"),
            ("1.34", "1.34"),
        ] {
            assert_eq!(parse_reported(s).unwrap().to_string(), want, "{s}");
        }
        assert!(parse_reported("1.25").is_err());
        assert!(parse_reported("sleep (GNU coreutils) 9.1").is_err());
    }

    #[test]
    fn token_gate_by_version() {
        let v = |s| KubeletVersion::parse(s).unwrap();
        assert_eq!(v("1.32").token_gate_default(), None);
        assert_eq!(v("1.33").token_gate_default(), Some(false));
        assert_eq!(v("1.34").token_gate_default(), Some(true));
        assert!(!v("1.33").supports_config_directory());
        assert!(v("1.34").supports_config_directory());
    }
}
