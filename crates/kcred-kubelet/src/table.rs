//! The version table: one row per run of kubelet patch releases that behave alike.
//!
//! Sources for every row are in `docs/kubelet-versions.md`; keep the two in step.

use crate::url_parsing::GoUrlParsing;

/// The patch releases of one minor that a [`KubeletRelease`] row covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PatchRange {
    /// The first patch of the row.
    pub first: u16,
    /// The last patch of the row; `None` for the newest row of a minor whose newest patch
    /// kcred does not pin (later patches are assumed to behave like this row).
    pub last: Option<u16>,
}

impl PatchRange {
    /// Whether `patch` falls in this range.
    pub fn contains(&self, patch: u16) -> bool {
        patch >= self.first && self.last.is_none_or(|last| patch <= last)
    }
}

/// In which order the kubelet asks its providers for one pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderOrder {
    /// Sorted by provider name (kubelets before 1.33, despite the docs).
    SortedByName,
    /// In config order (merged file order for a directory), duplicate names fatal (1.33+,
    /// kubernetes/kubernetes#129669).
    ConfigOrder,
}

/// Service-account token mode (`tokenAttributes`, KEP-4412) in one kubelet release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenAttributesSupport {
    /// The default of the `KubeletServiceAccountTokenForCredentialProviders` feature gate.
    pub gate_default: bool,
    /// The gate's stage (`alpha`, `beta`).
    pub gate_stage: &'static str,
    /// Whether `tokenAttributes.cacheType` exists and is required (1.34+,
    /// kubernetes/kubernetes#132617). Where false, the field is unknown and a config that
    /// sets it fails strict decoding.
    pub cache_type_required: bool,
}

/// The credential-provider metric names a kubelet release registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetricNames {
    /// The exec-duration histogram.
    pub duration: &'static str,
    /// The exec-error counter.
    pub errors: &'static str,
    /// The config-hash info gauge, if this release has it (1.34+,
    /// kubernetes/kubernetes#133016).
    pub config_info: Option<&'static str>,
}

/// Which wording a kubelet release's config validation uses where the wording changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidationMessages {
    /// Up to 1.33: `Required value: apiVersion is required`, `Invalid value: -1m0s:
    /// defaultCacheDuration must be greater than or equal to 0`.
    NamedFields,
    /// 1.34 and later: `Required value`, `Invalid value: "-1m0s": must be greater than or
    /// equal to 0`.
    Plain,
}

impl ValidationMessages {
    /// The detail of the `Required value` error for `field` (`apiVersion`,
    /// `defaultCacheDuration`, `serviceAccountTokenAudience`, `requireServiceAccount`):
    /// `"<field> is required"` up to 1.33, empty from 1.34.
    pub fn required_detail(self, field: &str) -> String {
        match self {
            ValidationMessages::NamedFields => format!("{field} is required"),
            ValidationMessages::Plain => String::new(),
        }
    }

    /// The detail for a negative `defaultCacheDuration`.
    pub fn negative_default_cache_duration(self) -> &'static str {
        match self {
            ValidationMessages::NamedFields => {
                "defaultCacheDuration must be greater than or equal to 0"
            }
            ValidationMessages::Plain => "must be greater than or equal to 0",
        }
    }

    /// Whether a duration value is shown JSON-quoted (`"-1m0s"`, 1.34+) rather than bare
    /// (`-1m0s`, Go's `String()` as older apimachinery printed it).
    pub fn quotes_duration_values(self) -> bool {
        self == ValidationMessages::Plain
    }
}

/// What a kubelet release does with credential providers, apart from URL parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CredentialProviderFeatures {
    /// The `CredentialProviderConfig` apiVersions it decodes.
    pub config_api_versions: &'static [&'static str],
    /// The `CredentialProviderRequest`/`Response` apiVersions a provider may name.
    pub request_api_versions: &'static [&'static str],
    /// Service-account token mode, if this release has it (1.33+).
    pub token_attributes: Option<TokenAttributesSupport>,
    /// Whether `--image-credential-provider-config` may name a directory (1.34+,
    /// kubernetes/kubernetes#131658).
    pub config_directory: bool,
    /// In which order providers are asked.
    pub provider_order: ProviderOrder,
    /// The cache key of a `cacheKeyType: Global` response (`global` before 1.34,
    /// `<global>` from 1.34).
    pub global_cache_key: &'static str,
    /// Whether a response whose password equals the service-account token is refused
    /// unless `cacheType` is `Token` (1.34+, kubernetes/kubernetes#132617).
    pub echoed_token_check: bool,
    /// The metric names.
    pub metrics: MetricNames,
    /// The wording of the validation messages that changed.
    pub validation_messages: ValidationMessages,
}

const ALL_CONFIG_VERSIONS: &[&str] = &[
    "kubelet.config.k8s.io/v1alpha1",
    "kubelet.config.k8s.io/v1beta1",
    "kubelet.config.k8s.io/v1",
];
const ALL_REQUEST_VERSIONS: &[&str] = &[
    "credentialprovider.kubelet.k8s.io/v1alpha1",
    "credentialprovider.kubelet.k8s.io/v1beta1",
    "credentialprovider.kubelet.k8s.io/v1",
];
const METRICS_1_26: MetricNames = MetricNames {
    duration: "kubelet_credential_provider_plugin_duration",
    errors: "kubelet_credential_provider_plugin_errors",
    config_info: None,
};
const METRICS_1_34: MetricNames = MetricNames {
    duration: "kubelet_credential_provider_plugin_duration",
    errors: "kubelet_credential_provider_plugin_errors_total",
    config_info: Some("kubelet_credential_provider_config_info"),
};

/// 1.26 to 1.32: v1 GA, providers sorted by name, no token mode.
const FEATURES_1_26: CredentialProviderFeatures = CredentialProviderFeatures {
    config_api_versions: ALL_CONFIG_VERSIONS,
    request_api_versions: ALL_REQUEST_VERSIONS,
    token_attributes: None,
    config_directory: false,
    provider_order: ProviderOrder::SortedByName,
    global_cache_key: "global",
    echoed_token_check: false,
    metrics: METRICS_1_26,
    validation_messages: ValidationMessages::NamedFields,
};
/// 1.33: token mode (alpha, gate off), config order.
const FEATURES_1_33: CredentialProviderFeatures = CredentialProviderFeatures {
    token_attributes: Some(TokenAttributesSupport {
        gate_default: false,
        gate_stage: "alpha",
        cache_type_required: false,
    }),
    provider_order: ProviderOrder::ConfigOrder,
    ..FEATURES_1_26
};
/// 1.34 onwards: token mode beta (gate on) with cacheType, directories, `<global>`, echo
/// check, new metrics and plain validation messages.
const FEATURES_1_34: CredentialProviderFeatures = CredentialProviderFeatures {
    config_api_versions: ALL_CONFIG_VERSIONS,
    request_api_versions: ALL_REQUEST_VERSIONS,
    token_attributes: Some(TokenAttributesSupport {
        gate_default: true,
        gate_stage: "beta",
        cache_type_required: true,
    }),
    config_directory: true,
    provider_order: ProviderOrder::ConfigOrder,
    global_cache_key: "<global>",
    echoed_token_check: true,
    metrics: METRICS_1_34,
    validation_messages: ValidationMessages::Plain,
};

/// One row of the version table: a run of patch releases of one kubelet minor that were
/// built with the same Go URL parsing and share the minor's credential-provider features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KubeletRelease {
    /// The minor (`34` for 1.34).
    pub minor: u16,
    /// The patches this row covers.
    pub patches: PatchRange,
    /// The Go release(s) that built these patches, as people read them (`1.24.9`).
    pub go: &'static str,
    /// How that Go parses URLs (with the kubelet's `godebug` default).
    pub url_parsing: GoUrlParsing,
    /// Everything else.
    pub features: CredentialProviderFeatures,
}

const fn row(
    minor: u16,
    first: u16,
    last: Option<u16>,
    go: &'static str,
    url_parsing: GoUrlParsing,
    features: CredentialProviderFeatures,
) -> KubeletRelease {
    KubeletRelease {
        minor,
        patches: PatchRange { first, last },
        go,
        url_parsing,
        features,
    }
}

use GoUrlParsing::{
    BeforeCve2025_47912 as BEFORE, BracketsIpv6Only as IPV6_ONLY,
    BracketsIpv6OnlyIpv4MappedRegression as REGRESSION, Ipv6LiteralStartsHost as STARTS_HOST,
    StrictColons as STRICT,
};

/// The version table, oldest first: every kubelet release kcred emulates. Rows of one minor
/// are contiguous and in patch order; the last row of each minor may be open-ended.
pub const RELEASES: &[KubeletRelease] = &[
    row(26, 0, Some(15), "1.19–1.21", BEFORE, FEATURES_1_26),
    row(27, 0, Some(16), "1.20–1.22", BEFORE, FEATURES_1_26),
    row(28, 0, Some(15), "1.20–1.23", BEFORE, FEATURES_1_26),
    row(29, 0, Some(15), "1.21–1.23", BEFORE, FEATURES_1_26),
    row(30, 0, Some(14), "1.22–1.23", BEFORE, FEATURES_1_26),
    row(31, 0, None, "1.22–1.23", BEFORE, FEATURES_1_26),
    row(32, 0, Some(10), "1.23", BEFORE, FEATURES_1_26),
    row(32, 11, None, "≥ 1.24.10", IPV6_ONLY, FEATURES_1_26),
    row(33, 0, Some(5), "≤ 1.24.7", BEFORE, FEATURES_1_33),
    row(33, 6, Some(6), "1.24.9", REGRESSION, FEATURES_1_33),
    row(33, 7, Some(10), "≥ 1.24.10", IPV6_ONLY, FEATURES_1_33),
    row(33, 11, None, "≥ 1.25.8", STARTS_HOST, FEATURES_1_33),
    row(34, 0, Some(1), "≤ 1.24.7", BEFORE, FEATURES_1_34),
    row(34, 2, Some(2), "1.24.9", REGRESSION, FEATURES_1_34),
    row(34, 3, Some(6), "≥ 1.24.10", IPV6_ONLY, FEATURES_1_34),
    row(34, 7, None, "≥ 1.25.9", STARTS_HOST, FEATURES_1_34),
    row(35, 0, Some(3), "1.25.5–1.25.7", IPV6_ONLY, FEATURES_1_34),
    row(35, 4, None, "≥ 1.25.9", STARTS_HOST, FEATURES_1_34),
    row(36, 0, None, "1.26", STARTS_HOST, FEATURES_1_34),
    row(37, 0, None, "1.26", STRICT, FEATURES_1_34),
];

/// The row for `minor` and `patch` (`None` = the newest row of the minor).
pub(crate) fn lookup(minor: u16, patch: Option<u16>) -> Option<&'static KubeletRelease> {
    let mut rows = RELEASES.iter().filter(|r| r.minor == minor);
    match patch {
        None => rows.next_back(),
        Some(p) => rows.find(|r| r.patches.contains(p)),
    }
}

/// The newest patch kcred pins for `minor`, if the minor's newest row is closed.
pub(crate) fn last_patch(minor: u16) -> Option<u16> {
    RELEASES
        .iter()
        .rfind(|r| r.minor == minor)
        .and_then(|r| r.patches.last)
}

/// The version table as a Markdown table, one line per row, as `docs/kubelet-versions.md`
/// shows it (a test keeps the two identical).
pub fn render_markdown_table() -> String {
    let mut out = String::from(
        "| kubelet | Go | URL parsing | config apiVersions | tokenAttributes (gate default) | cacheType required | config directory | provider order | global cache key | echoed-token check | errors metric | validation wording |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in RELEASES {
        let patches = match r.patches.last {
            Some(last) if last == r.patches.first => format!("1.{}.{}", r.minor, last),
            Some(last) => format!("1.{}.{}–1.{}.{}", r.minor, r.patches.first, r.minor, last),
            None => format!("1.{}.{}+", r.minor, r.patches.first),
        };
        let f = &r.features;
        let versions: Vec<&str> = f
            .config_api_versions
            .iter()
            .map(|v| v.rsplit('/').next().unwrap_or(v))
            .collect();
        let token = match f.token_attributes {
            None => "no (unknown field)".to_owned(),
            Some(t) => format!(
                "{} ({})",
                t.gate_stage,
                if t.gate_default { "on" } else { "off" }
            ),
        };
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        out.push_str(&format!(
            "| {patches} | {} | `{}` | {} | {token} | {} | {} | {} | `{}` | {} | `{}` | {} |\n",
            r.go,
            r.url_parsing.name(),
            versions.join(", "),
            yes_no(f.token_attributes.is_some_and(|t| t.cache_type_required)),
            yes_no(f.config_directory),
            match f.provider_order {
                ProviderOrder::SortedByName => "sorted by name",
                ProviderOrder::ConfigOrder => "config order",
            },
            f.global_cache_key,
            yes_no(f.echoed_token_check),
            f.metrics.errors,
            match f.validation_messages {
                ValidationMessages::NamedFields => "named fields",
                ValidationMessages::Plain => "plain",
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NEWEST_MINOR, OLDEST_MINOR};

    #[test]
    fn rows_cover_every_minor_contiguously_in_order() {
        for minor in OLDEST_MINOR..=NEWEST_MINOR {
            let rows: Vec<_> = RELEASES.iter().filter(|r| r.minor == minor).collect();
            assert!(!rows.is_empty(), "1.{minor} has no row");
            assert_eq!(rows[0].patches.first, 0, "1.{minor} starts at .0");
            for pair in rows.windows(2) {
                assert_eq!(
                    pair[0].patches.last.map(|l| l + 1),
                    Some(pair[1].patches.first),
                    "1.{minor} rows must be contiguous"
                );
            }
        }
        for pair in RELEASES.windows(2) {
            assert!(pair[0].minor <= pair[1].minor, "rows sorted by minor");
        }
    }

    #[test]
    fn lookup_finds_rows() {
        assert_eq!(lookup(34, Some(2)).unwrap().url_parsing, REGRESSION);
        assert_eq!(lookup(34, Some(99)).unwrap().url_parsing, STARTS_HOST);
        assert_eq!(lookup(34, None).unwrap().url_parsing, STARTS_HOST);
        assert_eq!(lookup(26, Some(16)), None);
        assert_eq!(lookup(25, None), None);
        assert_eq!(last_patch(26), Some(15));
        assert_eq!(last_patch(37), None);
    }

    #[test]
    fn validation_wording() {
        assert_eq!(
            ValidationMessages::NamedFields.required_detail("apiVersion"),
            "apiVersion is required"
        );
        assert_eq!(ValidationMessages::Plain.required_detail("apiVersion"), "");
    }
}
