//! `--enable` presets: the providers kcred ships, with upstream's documented `matchImages`,
//! `args` and cache durations.
//!
//! - `ecr`: kubernetes/cloud-provider-aws `docs/credential_provider.md` (the list EKS AL2023
//!   writes to `/etc/eks/image-credential-provider/config.json`), `12h`.
//! - `acr`: kubernetes-sigs/cloud-provider-azure `docs/.../credential-provider.md`,
//!   args `/etc/kubernetes/azure.json`, `10m`.
//! - `gcp`: kubernetes/cloud-provider-gcp `cmd/auth-provider-gcp/README.md`,
//!   args `get-credentials --v=3`, `1m`.
//! - `static`: kcred's static provider (docs/static-provider.md): the docker-config file is
//!   its required argument; the patterns are the operator's.
//! - `helper`: kcred's docker-credential-helper bridge (docs/docker-credential-provider.md):
//!   `--helper NAME` is required; the patterns are the operator's.

use kcred_api::config::{decode_config, CredentialProvider};

/// A provider kcred can enable with one flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preset {
    /// `ecr-credential-provider`.
    Ecr,
    /// `acr-credential-provider`.
    Acr,
    /// `auth-provider-gcp`.
    Gcp,
    /// `static-credential-provider` with its docker-config file and patterns.
    Static {
        /// The docker config JSON file the provider serves (node path).
        file: String,
        /// `matchImages`.
        match_images: Vec<String>,
    },
    /// `docker-credential-provider` with the helper's name and patterns.
    Helper {
        /// The helper (`pass` runs `docker-credential-pass`).
        helper: String,
        /// `matchImages`.
        match_images: Vec<String>,
    },
}

/// A preset that misses a required setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PresetError {
    /// `--enable` names no preset.
    #[error("unknown preset {0:?} for --enable: want ecr, acr, gcp, static or helper")]
    Unknown(String),
    /// A required option is missing.
    #[error("--enable {preset} needs {option}")]
    Missing {
        /// The preset.
        preset: &'static str,
        /// The missing option.
        option: &'static str,
    },
}

/// The binary name of every provider kcred ships, with the preset that enables it.
pub const KCRED_PLUGINS: [&str; 5] = [
    "ecr-credential-provider",
    "acr-credential-provider",
    "auth-provider-gcp",
    "static-credential-provider",
    "docker-credential-provider",
];

/// Whether `name` is one of kcred's plugin binaries.
pub fn is_kcred_plugin(name: &str) -> bool {
    KCRED_PLUGINS.contains(&name)
}

fn quoted_list(items: &[String]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_default())
        .collect();
    format!("[{}]", items.join(", "))
}

impl Preset {
    /// Builds a preset from its `--enable` name and the options the static and helper
    /// presets need.
    pub fn from_name(
        name: &str,
        static_file: Option<&str>,
        helper: Option<&str>,
        match_images: &[String],
    ) -> Result<Preset, PresetError> {
        let need_match = |preset| {
            if match_images.is_empty() {
                Err(PresetError::Missing {
                    preset,
                    option: "at least one --match-image PATTERN",
                })
            } else {
                Ok(match_images.to_vec())
            }
        };
        match name {
            "ecr" => Ok(Preset::Ecr),
            "acr" => Ok(Preset::Acr),
            "gcp" => Ok(Preset::Gcp),
            "static" => Ok(Preset::Static {
                file: static_file
                    .ok_or(PresetError::Missing {
                        preset: "static",
                        option: "--static-file FILE (the docker config JSON it serves)",
                    })?
                    .to_owned(),
                match_images: need_match("static")?,
            }),
            "helper" => Ok(Preset::Helper {
                helper: helper
                    .ok_or(PresetError::Missing {
                        preset: "helper",
                        option: "--helper NAME (runs docker-credential-NAME)",
                    })?
                    .to_owned(),
                match_images: need_match("helper")?,
            }),
            other => Err(PresetError::Unknown(other.to_owned())),
        }
    }

    /// The provider's name (= its binary's name).
    pub fn provider_name(&self) -> &'static str {
        match self {
            Preset::Ecr => "ecr-credential-provider",
            Preset::Acr => "acr-credential-provider",
            Preset::Gcp => "auth-provider-gcp",
            Preset::Static { .. } => "static-credential-provider",
            Preset::Helper { .. } => "docker-credential-provider",
        }
    }

    /// The provider entry as a v1 config document (YAML).
    pub fn config_yaml(&self) -> String {
        let body = match self {
            Preset::Ecr => "  - name: ecr-credential-provider\n    matchImages:\n      - \"*.dkr.ecr.*.amazonaws.com\"\n      - \"*.dkr.ecr.*.amazonaws.com.cn\"\n      - \"*.dkr.ecr-fips.*.amazonaws.com\"\n      - \"*.dkr.ecr.*.c2s.ic.gov\"\n      - \"*.dkr.ecr.*.sc2s.sgov.gov\"\n    defaultCacheDuration: \"12h\"\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n".to_owned(),
            Preset::Acr => "  - name: acr-credential-provider\n    matchImages:\n      - \"*.azurecr.io\"\n      - \"*.azurecr.cn\"\n      - \"*.azurecr.de\"\n      - \"*.azurecr.us\"\n    defaultCacheDuration: \"10m\"\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    args:\n      - /etc/kubernetes/azure.json\n".to_owned(),
            Preset::Gcp => "  - name: auth-provider-gcp\n    matchImages:\n      - \"container.cloud.google.com\"\n      - \"gcr.io\"\n      - \"*.gcr.io\"\n      - \"*.pkg.dev\"\n    defaultCacheDuration: \"1m\"\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    args:\n      - get-credentials\n      - --v=3\n".to_owned(),
            Preset::Static { file, match_images } => format!(
                "  - name: static-credential-provider\n    matchImages: {}\n    defaultCacheDuration: \"10m\"\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    args: [{}]\n",
                quoted_list(match_images),
                serde_json::to_string(file).unwrap_or_default()
            ),
            Preset::Helper { helper, match_images } => format!(
                "  - name: docker-credential-provider\n    matchImages: {}\n    defaultCacheDuration: \"5m\"\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    args: [\"--helper\", {}]\n",
                quoted_list(match_images),
                serde_json::to_string(helper).unwrap_or_default()
            ),
        };
        format!("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n{body}")
    }

    /// The provider entry, decoded by the kubelet's decoder.
    pub fn provider(&self) -> Result<CredentialProvider, kcred_api::config::ConfigDecodeError> {
        let mut config = decode_config(self.config_yaml().as_bytes())?;
        Ok(config.providers.remove(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcred_config::{validate, FeatureGates};

    #[test]
    fn every_preset_is_a_valid_provider() {
        let m = vec![
            "registry.example.com".to_owned(),
            "*.example.org:5000".to_owned(),
        ];
        let presets = [
            Preset::from_name("ecr", None, None, &[]).unwrap(),
            Preset::from_name("acr", None, None, &[]).unwrap(),
            Preset::from_name("gcp", None, None, &[]).unwrap(),
            Preset::from_name(
                "static",
                Some("/etc/kubernetes/registry \"auth\".json"),
                None,
                &m,
            )
            .unwrap(),
            Preset::from_name("helper", None, Some("pass"), &m).unwrap(),
        ];
        let providers: Vec<_> = presets.iter().map(|p| p.provider().unwrap()).collect();
        validate(&providers, FeatureGates::default()).unwrap();
        for (p, provider) in presets.iter().zip(&providers) {
            assert_eq!(p.provider_name(), provider.name);
            assert!(is_kcred_plugin(&provider.name));
        }
        assert_eq!(
            providers[3].args,
            vec!["/etc/kubernetes/registry \"auth\".json"]
        );
        assert_eq!(providers[4].args, vec!["--helper", "pass"]);
    }

    #[test]
    fn required_options() {
        assert!(matches!(
            Preset::from_name("static", None, None, &["x".into()]),
            Err(PresetError::Missing {
                preset: "static",
                ..
            })
        ));
        assert!(matches!(
            Preset::from_name("helper", None, Some("pass"), &[]),
            Err(PresetError::Missing {
                preset: "helper",
                ..
            })
        ));
        assert!(matches!(
            Preset::from_name("quay", None, None, &[]),
            Err(PresetError::Unknown(_))
        ));
    }
}
