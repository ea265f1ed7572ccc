//! The kubelet feature gates that change how the config is validated.

use kcred_api::go::strconv::{parse_bool, ParseBoolError};

/// Name of the gate that allows `tokenAttributes` (service-account token mode).
pub const SERVICE_ACCOUNT_TOKEN_GATE: &str = "KubeletServiceAccountTokenForCredentialProviders";

/// Feature gates relevant to credential providers, with the kubelet 1.34 defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureGates {
    /// `KubeletServiceAccountTokenForCredentialProviders` (beta, default on since 1.34).
    pub service_account_token_for_credential_providers: bool,
}

impl Default for FeatureGates {
    fn default() -> Self {
        FeatureGates {
            service_account_token_for_credential_providers: true,
        }
    }
}

/// A malformed `--feature-gates` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureGateError {
    /// An entry without `=`.
    #[error("missing bool value for {0}")]
    MissingValue(String),
    /// A value `strconv.ParseBool` rejects.
    #[error("invalid value of {name}={value}, err: {source}")]
    InvalidValue {
        /// The gate's name.
        name: String,
        /// The value as written.
        value: String,
        /// Go's `strconv.ParseBool` error.
        source: ParseBoolError,
    },
}

impl FeatureGates {
    /// The defaults of a given kubelet (the token gate is off in 1.33, alpha, and absent
    /// before).
    pub fn for_kubelet(kubelet: kcred_kubelet::KubeletVersion) -> Self {
        FeatureGates {
            service_account_token_for_credential_providers: kubelet
                .token_attributes()
                .is_some_and(|t| t.gate_default),
        }
    }

    /// Applies a kubelet `--feature-gates` value (`Name=bool,Name2=bool`).
    ///
    /// Entries are trimmed; empty entries are skipped; values are parsed as Go's
    /// `strconv.ParseBool`. Gates other than the ones kcred knows are ignored and returned,
    /// so a kubelet's full flag value can be passed unchanged.
    pub fn apply(&mut self, spec: &str) -> Result<Vec<String>, FeatureGateError> {
        let mut ignored = Vec::new();
        for entry in spec.split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let Some((name, value)) = entry.split_once('=') else {
                return Err(FeatureGateError::MissingValue(entry.to_owned()));
            };
            let (name, value) = (name.trim(), value.trim());
            let enabled = parse_bool(value).map_err(|source| FeatureGateError::InvalidValue {
                name: name.to_owned(),
                value: value.to_owned(),
                source,
            })?;
            if name == SERVICE_ACCOUNT_TOKEN_GATE {
                self.service_account_token_for_credential_providers = enabled;
            } else {
                ignored.push(name.to_owned());
            }
        }
        Ok(ignored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_on() {
        assert!(FeatureGates::default().service_account_token_for_credential_providers);
    }

    #[test]
    fn applies_known_and_reports_unknown() {
        let mut g = FeatureGates::default();
        let ignored = g
            .apply(" KubeletServiceAccountTokenForCredentialProviders=false , Other=true,")
            .expect("valid");
        assert!(!g.service_account_token_for_credential_providers);
        assert_eq!(ignored, vec!["Other".to_owned()]);
        g.apply("KubeletServiceAccountTokenForCredentialProviders=T")
            .expect("valid");
        assert!(g.service_account_token_for_credential_providers);
    }

    #[test]
    fn rejects_malformed() {
        let mut g = FeatureGates::default();
        assert_eq!(
            g.apply("Foo").unwrap_err().to_string(),
            "missing bool value for Foo"
        );
        assert_eq!(
            g.apply("Foo=yes").unwrap_err().to_string(),
            "invalid value of Foo=yes, err: strconv.ParseBool: parsing \"yes\": invalid syntax"
        );
    }
}
