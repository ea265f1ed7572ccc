//! `KubeletVersion`: which kubelet kcred emulates.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::table::{self, CredentialProviderFeatures, KubeletRelease, MetricNames};
use crate::table::{ProviderOrder, TokenAttributesSupport, ValidationMessages};
use crate::url_parsing::GoUrlParsing;
use crate::{supported_range, NEWEST_MINOR, OLDEST_MINOR};

/// A kubelet version kcred emulates: `1.NN` (the newest patch of that minor kcred knows) or
/// `1.NN.P`. A leading `v` is accepted (`v1.34.2`, as `kubelet --version` prints it).
///
/// Equality and order compare the release as written: `1.34` (newest patch) sorts after
/// every `1.34.P`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KubeletVersion {
    minor: u16,
    patch: Option<u16>,
}

/// A `--kubelet-version` value kcred cannot emulate. Every message names the supported range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KubeletVersionError {
    /// Not `1.NN` or `1.NN.P`.
    #[error("invalid kubelet version {input:?}: want 1.NN or 1.NN.P, e.g. 1.34 or 1.34.2 (kcred emulates kubelet {})", supported_range())]
    Malformed {
        /// The value as given.
        input: String,
    },
    /// A minor before 1.26.
    #[error("kubelet 1.{minor} is not supported (kcred emulates kubelet {}): {}", supported_range(), too_old_reason(*.minor))]
    TooOld {
        /// The minor asked for.
        minor: u16,
    },
    /// A minor after the newest kcred knows.
    #[error("kubelet 1.{minor} is not known to kcred (kcred emulates kubelet {}); its credential-provider behaviour may differ, so kcred will not guess", supported_range())]
    TooNew {
        /// The minor asked for.
        minor: u16,
    },
    /// A patch after the last patch of a minor that has no more releases.
    #[error("kubelet 1.{minor}.{patch} does not exist: the last 1.{minor} release is 1.{minor}.{last} (kcred emulates kubelet {})", supported_range())]
    UnknownPatch {
        /// The minor asked for.
        minor: u16,
        /// The patch asked for.
        patch: u16,
        /// The minor's last patch.
        last: u16,
    },
}

/// Why a kubelet before 1.26 cannot run what kcred checks.
fn too_old_reason(minor: u16) -> &'static str {
    match minor {
        0..=19 => "kubelets before 1.20 have no exec credential providers (alpha in 1.20)",
        20..=23 => {
            "it knows only kubelet.config.k8s.io/v1alpha1 and credentialprovider.kubelet.k8s.io/v1alpha1; \
             kubelet.config.k8s.io/v1 is unknown there (v1 is GA from 1.26, kubernetes/kubernetes#111616), \
             so a v1 config fails to decode and the kubelet exits"
        }
        _ => {
            "kubelet.config.k8s.io/v1 and credentialprovider.kubelet.k8s.io/v1 are unknown there \
             (v1 is GA from 1.26, kubernetes/kubernetes#111616): a v1 config fails to decode and the \
             kubelet exits; it knows only v1alpha1 and v1beta1"
        }
    }
}

impl KubeletVersion {
    /// The newest kubelet kcred emulates (1.37, newest patch): the default everywhere.
    pub const NEWEST: KubeletVersion = KubeletVersion {
        minor: NEWEST_MINOR,
        patch: None,
    };

    /// Parses `1.NN`, `1.NN.P` or either with a leading `v`.
    ///
    /// ```
    /// use kcred_kubelet::KubeletVersion;
    /// assert_eq!(KubeletVersion::parse("v1.34.2").unwrap().to_string(), "1.34.2");
    /// assert!(KubeletVersion::parse("1.25").unwrap_err().to_string()
    ///     .contains("kubelet.config.k8s.io/v1"));
    /// assert!(KubeletVersion::parse("1.x").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<KubeletVersion, KubeletVersionError> {
        let malformed = || KubeletVersionError::Malformed {
            input: input.to_owned(),
        };
        let trimmed = input.strip_prefix('v').unwrap_or(input);
        let mut parts = trimmed.split('.');
        let (Some(major), Some(minor)) = (parts.next(), parts.next()) else {
            return Err(malformed());
        };
        let patch = parts.next();
        if parts.next().is_some() || major != "1" {
            return Err(malformed());
        }
        let number = |s: &str| -> Option<u16> {
            let canonical = s == "0" || (!s.starts_with('0') && !s.is_empty());
            (canonical && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let minor = number(minor).ok_or_else(malformed)?;
        let patch = match patch {
            None => None,
            Some(p) => Some(number(p).ok_or_else(malformed)?),
        };
        if minor < OLDEST_MINOR {
            return Err(KubeletVersionError::TooOld { minor });
        }
        if minor > NEWEST_MINOR {
            return Err(KubeletVersionError::TooNew { minor });
        }
        if let (Some(patch), Some(last)) = (patch, table::last_patch(minor)) {
            if patch > last {
                return Err(KubeletVersionError::UnknownPatch { minor, patch, last });
            }
        }
        Ok(KubeletVersion { minor, patch })
    }

    /// `1.minor` (newest patch) if the minor is supported.
    pub fn newest_of(minor: u16) -> Option<KubeletVersion> {
        (OLDEST_MINOR..=NEWEST_MINOR)
            .contains(&minor)
            .then_some(KubeletVersion { minor, patch: None })
    }

    /// The minor (`34` for 1.34.2).
    pub fn minor(self) -> u16 {
        self.minor
    }

    /// The patch, or `None` for "the newest patch kcred knows".
    pub fn patch(self) -> Option<u16> {
        self.patch
    }

    /// This version's row of the version table.
    pub fn release(self) -> &'static KubeletRelease {
        // `parse` and `newest_of` only build versions the table covers.
        table::lookup(self.minor, self.patch)
            .or_else(|| table::lookup(self.minor, None))
            .unwrap_or(&table::RELEASES[table::RELEASES.len() - 1])
    }

    /// Every version the table distinguishes: the first patch of each row, oldest first
    /// (the versions to evaluate to learn how an answer depends on the kubelet).
    pub fn representatives() -> impl Iterator<Item = KubeletVersion> {
        table::RELEASES.iter().map(|r| KubeletVersion {
            minor: r.minor,
            patch: Some(r.patches.first),
        })
    }

    /// The Go release(s) that built this kubelet (`1.24.9`, `1.26`).
    pub fn go(self) -> &'static str {
        self.release().go
    }

    /// How this kubelet's Go parses `matchImages` patterns, images and auth keys.
    pub fn url_parsing(self) -> GoUrlParsing {
        self.release().url_parsing
    }

    /// All credential-provider features of this kubelet.
    pub fn features(self) -> &'static CredentialProviderFeatures {
        &self.release().features
    }

    /// The `CredentialProviderConfig` apiVersions this kubelet decodes.
    pub fn config_api_versions(self) -> &'static [&'static str] {
        self.features().config_api_versions
    }

    /// The plugin request/response apiVersions this kubelet knows.
    pub fn request_api_versions(self) -> &'static [&'static str] {
        self.features().request_api_versions
    }

    /// Service-account token mode (`tokenAttributes`), if this kubelet has it.
    pub fn token_attributes(self) -> Option<TokenAttributesSupport> {
        self.features().token_attributes
    }

    /// Whether the config path may be a directory.
    pub fn config_directory(self) -> bool {
        self.features().config_directory
    }

    /// In which order providers are asked.
    pub fn provider_order(self) -> ProviderOrder {
        self.features().provider_order
    }

    /// The cache key of a `Global` response.
    pub fn global_cache_key(self) -> &'static str {
        self.features().global_cache_key
    }

    /// Whether a response echoing the service-account token is refused.
    pub fn echoed_token_check(self) -> bool {
        self.features().echoed_token_check
    }

    /// The metric names.
    pub fn metric_names(self) -> MetricNames {
        self.features().metrics
    }

    /// The wording of the validation messages that changed.
    pub fn validation_messages(self) -> ValidationMessages {
        self.features().validation_messages
    }

    /// "kubelet 1.37 (Go 1.26)": the version as given, with the Go that built it.
    pub fn describe(self) -> String {
        format!("kubelet {self} (Go {})", self.go())
    }
}

impl Default for KubeletVersion {
    fn default() -> Self {
        KubeletVersion::NEWEST
    }
}

impl PartialOrd for KubeletVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KubeletVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let key = |v: &KubeletVersion| (v.minor, v.patch.map_or(u32::MAX, u32::from));
        key(self).cmp(&key(other))
    }
}

impl fmt::Display for KubeletVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            None => write!(f, "1.{}", self.minor),
            Some(p) => write!(f, "1.{}.{p}", self.minor),
        }
    }
}

impl FromStr for KubeletVersion {
    type Err = KubeletVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KubeletVersion::parse(s)
    }
}

/// [`KubeletVersion::parse`] as a clap `value_parser` (a clap usage error exits 2 and prints
/// the message, which lists the supported range).
pub fn parse_kubelet_version_arg(s: &str) -> Result<KubeletVersion, KubeletVersionError> {
    KubeletVersion::parse(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_minor_and_patch() {
        let v = KubeletVersion::parse("1.34").unwrap();
        assert_eq!((v.minor(), v.patch()), (34, None));
        let v = KubeletVersion::parse("1.34.2").unwrap();
        assert_eq!((v.minor(), v.patch()), (34, Some(2)));
        assert_eq!(
            KubeletVersion::parse("v1.26.0").unwrap().to_string(),
            "1.26.0"
        );
        assert_eq!(KubeletVersion::default(), KubeletVersion::NEWEST);
        assert_eq!(KubeletVersion::NEWEST.to_string(), "1.37");
    }

    #[test]
    fn malformed_values_list_the_range() {
        for bad in [
            "",
            "1",
            "1.",
            "1.34.",
            "2.34",
            "1.34.2.1",
            "1.034",
            "1.3x",
            "1.-1",
            " 1.34",
            "1.34 ",
            "1.99999999",
            "vv1.34",
            "1.34.01",
            "１.34",
        ] {
            let err = KubeletVersion::parse(bad).unwrap_err();
            assert!(
                matches!(err, KubeletVersionError::Malformed { .. }),
                "{bad:?}: {err}"
            );
            assert!(err.to_string().contains("1.26 to 1.37"), "{err}");
        }
    }

    #[test]
    fn out_of_range_values_explain() {
        let err = KubeletVersion::parse("1.25").unwrap_err().to_string();
        assert!(err.contains("kubelet.config.k8s.io/v1 and credentialprovider.kubelet.k8s.io/v1 are unknown there"), "{err}");
        assert!(err.contains("1.26 to 1.37"), "{err}");
        let err = KubeletVersion::parse("1.38.0").unwrap_err().to_string();
        assert!(
            err.contains("1.38") && err.contains("1.26 to 1.37"),
            "{err}"
        );
        let err = KubeletVersion::parse("1.26.16").unwrap_err().to_string();
        assert!(err.contains("last 1.26 release is 1.26.15"), "{err}");
        assert!(KubeletVersion::parse("1.37.40").is_ok(), "open-ended minor");
    }

    #[test]
    fn order_puts_newest_patch_last() {
        let v = |s| KubeletVersion::parse(s).unwrap();
        assert!(v("1.34.2") < v("1.34.3"));
        assert!(v("1.34.99") < v("1.34"));
        assert!(v("1.34") < v("1.35.0"));
    }

    #[test]
    fn accessors_follow_the_table() {
        let v = |s| KubeletVersion::parse(s).unwrap();
        assert_eq!(v("1.32").provider_order(), ProviderOrder::SortedByName);
        assert_eq!(v("1.33").provider_order(), ProviderOrder::ConfigOrder);
        assert_eq!(v("1.32").token_attributes(), None);
        assert!(!v("1.33").token_attributes().unwrap().gate_default);
        assert!(v("1.34").token_attributes().unwrap().gate_default);
        assert!(v("1.34").token_attributes().unwrap().cache_type_required);
        assert_eq!(v("1.33").global_cache_key(), "global");
        assert_eq!(v("1.34").global_cache_key(), "<global>");
        assert!(!v("1.33").config_directory() && v("1.34").config_directory());
        assert!(!v("1.33").echoed_token_check() && v("1.34").echoed_token_check());
        assert_eq!(
            v("1.33").metric_names().errors,
            "kubelet_credential_provider_plugin_errors"
        );
        assert_eq!(
            v("1.34").metric_names().errors,
            "kubelet_credential_provider_plugin_errors_total"
        );
        assert_eq!(v("1.34.1").url_parsing(), GoUrlParsing::BeforeCve2025_47912);
        assert_eq!(
            v("1.34.2").url_parsing(),
            GoUrlParsing::BracketsIpv6OnlyIpv4MappedRegression
        );
        assert_eq!(v("1.37").describe(), "kubelet 1.37 (Go 1.26)");
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in "\\PC{0,12}", minor in 0u16..60, patch in 0u16..40) {
            let _ = KubeletVersion::parse(&s);
            let text = format!("1.{minor}.{patch}");
            if let Ok(v) = KubeletVersion::parse(&text) {
                proptest::prop_assert_eq!(v.to_string(), text);
                let _ = v.release();
                let _ = v.describe();
            }
        }
    }
}
