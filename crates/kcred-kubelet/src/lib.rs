//! What each kubelet release does with credential providers.
//!
//! One table ([`RELEASES`]) says, for every kubelet release kcred emulates (1.26 to 1.37),
//! which Go built it (and so how `net/url` parses `matchImages` patterns), which config and
//! plugin apiVersions it knows, whether it has service-account token mode and with which
//! feature-gate default, whether `cacheType` is required, whether the config may be a
//! directory, in which order it asks providers, its global cache key, whether it rejects a
//! plugin that echoes the token, its metric names and its validation messages. Every
//! version-dependent behaviour in kcred reads it; nothing else branches on version numbers.
//! Pure: no IO. The table is rendered, with sources, in `docs/kubelet-versions.md`.
//!
//! # API
//!
//! - [`KubeletVersion`]: `1.NN` (the newest patch kcred knows) or `1.NN.P`.
//!   [`KubeletVersion::parse`] (also [`std::str::FromStr`]) gives a
//!   [`KubeletVersionError`] whose message always lists the supported range;
//!   [`KubeletVersion::NEWEST`] is the default everywhere (1.37).
//!   [`parse_kubelet_version_arg`] is the same parser, shaped for clap's `value_parser`:
//!
//!   ```ignore
//!   #[arg(long, env = "KCRED_KUBELET_VERSION", default_value_t = KubeletVersion::NEWEST,
//!         value_parser = kcred_kubelet::parse_kubelet_version_arg)]
//!   kubelet_version: KubeletVersion,
//!   ```
//! - Behaviour accessors on [`KubeletVersion`]: [`go`](KubeletVersion::go),
//!   [`url_parsing`](KubeletVersion::url_parsing),
//!   [`config_api_versions`](KubeletVersion::config_api_versions),
//!   [`request_api_versions`](KubeletVersion::request_api_versions),
//!   [`token_attributes`](KubeletVersion::token_attributes),
//!   [`config_directory`](KubeletVersion::config_directory),
//!   [`provider_order`](KubeletVersion::provider_order),
//!   [`global_cache_key`](KubeletVersion::global_cache_key),
//!   [`echoed_token_check`](KubeletVersion::echoed_token_check),
//!   [`metric_names`](KubeletVersion::metric_names),
//!   [`validation_messages`](KubeletVersion::validation_messages); all of them read
//!   [`KubeletVersion::release`], the table row.
//! - [`GoUrlParsing`]: the five ways Go's `url.Parse` has treated hosts since Go 1.19, with
//!   the rule each one adds ([`GoUrlParsing::rule`]) and its lineage
//!   ([`GoUrlParsing::lineage`]) so a parser can say which Go change rejected an input.
//! - [`VersionSplit`] / [`split_versions`]: evaluates a predicate under every row of the
//!   table and says in words which kubelets accept and which refuse ("accepted by kubelet
//!   1.26–1.34.1; refused from 1.34.2").
//!
//! ```
//! use kcred_kubelet::{GoUrlParsing, KubeletVersion, ProviderOrder};
//! let v = KubeletVersion::parse("1.32").unwrap();
//! assert_eq!(v.provider_order(), ProviderOrder::SortedByName);
//! assert_eq!(KubeletVersion::NEWEST.url_parsing(), GoUrlParsing::StrictColons);
//! let err = KubeletVersion::parse("1.99").unwrap_err();
//! assert!(err.to_string().contains("1.26 to 1.37"));
//! ```

#![forbid(unsafe_code)]

mod split;
mod table;
mod url_parsing;
mod version;

pub use split::{split_versions, VersionRange, VersionSplit};
pub use table::{
    render_markdown_table, CredentialProviderFeatures, KubeletRelease, MetricNames, PatchRange,
    ProviderOrder, TokenAttributesSupport, ValidationMessages, RELEASES,
};
pub use url_parsing::GoUrlParsing;
pub use version::{parse_kubelet_version_arg, KubeletVersion, KubeletVersionError};

/// The oldest kubelet minor kcred emulates (`1.26`, where the v1 APIs became GA).
pub const OLDEST_MINOR: u16 = 26;
/// The newest kubelet minor kcred emulates; the default everywhere.
pub const NEWEST_MINOR: u16 = 37;

/// The supported range as people read it: `1.26 to 1.37`.
pub fn supported_range() -> String {
    format!("1.{OLDEST_MINOR} to 1.{NEWEST_MINOR}")
}
