//! `cacheKeyType` and `cacheDuration` of the answer.
//!
//! Upstream's knobs are kept: `KUBE_SIDECAR_CACHE_TYPE` (`image` | `registry` | `global`,
//! lower-case) and `KUBE_SIDECAR_CACHE_DURATION` (a Go duration, sent verbatim when set).
//! Upstream sends `0s` when the duration is unset, which the kubelet reads as "do not
//! cache", so every pull re-runs the plugin. kcred instead derives the duration from the
//! token's real lifetime minus [`EXPIRY_MARGIN`], and omits it when the lifetime is unknown
//! (the provider's `defaultCacheDuration` then applies). `KUBE_SIDECAR_CACHE_DURATION=0s`
//! restores upstream's behaviour.

use std::collections::BTreeMap;
use std::time::Duration;

use kcred_api::gostr::strconv_quote;
use kcred_api::response::{CacheKeyType, CredentialProviderResponse};
use kcred_api::{ApiVersion, GoDuration};
use thiserror::Error;

use crate::provider::Credentials;

/// Environment variable fixing `cacheDuration` (upstream).
pub(crate) const CACHE_DURATION_ENV: &str = "KUBE_SIDECAR_CACHE_DURATION";
/// Environment variable choosing `cacheKeyType` (upstream).
pub(crate) const CACHE_TYPE_ENV: &str = "KUBE_SIDECAR_CACHE_TYPE";
/// Credentials are cached until this long before the token expires, so a pull never
/// starts with a token about to lapse.
pub(crate) const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// A cache environment variable with a bad value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum CacheEnvError {
    /// `KUBE_SIDECAR_CACHE_TYPE` is not `image`, `registry` or `global` (upstream's text).
    #[error("Unknown cache key {}", strconv_quote(.0))]
    UnknownCacheKey(String),
    /// `KUBE_SIDECAR_CACHE_DURATION` is not a Go duration (Go's text).
    #[error("{0}")]
    InvalidDuration(String),
}

/// How answers are to be cached by the kubelet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CachePolicy {
    /// `cacheKeyType`.
    pub key_type: CacheKeyType,
    /// `KUBE_SIDECAR_CACHE_DURATION`, when set.
    pub fixed_duration: Option<GoDuration>,
}

impl CachePolicy {
    /// From the values of the two variables (`None` or empty = unset).
    pub(crate) fn from_env_values(
        duration: Option<&str>,
        key_type: Option<&str>,
    ) -> Result<CachePolicy, CacheEnvError> {
        let key_type = match key_type.unwrap_or("") {
            "" | "image" => CacheKeyType::Image,
            "registry" => CacheKeyType::Registry,
            "global" => CacheKeyType::Global,
            other => return Err(CacheEnvError::UnknownCacheKey(other.to_owned())),
        };
        let fixed_duration = match duration.unwrap_or("") {
            "" => None,
            text => Some(
                GoDuration::parse(text)
                    .map_err(|e| CacheEnvError::InvalidDuration(e.to_string()))?,
            ),
        };
        Ok(CachePolicy {
            key_type,
            fixed_duration,
        })
    }

    /// `cacheDuration` for credentials valid for `lifetime`: the fixed value when set; else
    /// the lifetime minus [`EXPIRY_MARGIN`] in whole seconds (`0s` when shorter); else none.
    pub(crate) fn duration_for(&self, lifetime: Option<Duration>) -> Option<GoDuration> {
        if let Some(fixed) = self.fixed_duration {
            return Some(fixed);
        }
        let usable = lifetime?.saturating_sub(EXPIRY_MARGIN).as_secs();
        let nanos = i64::try_from(usable)
            .ok()
            .and_then(|s| s.checked_mul(1_000_000_000))
            .unwrap_or(i64::MAX);
        Some(GoDuration(nanos))
    }

    /// `cacheDuration` of an answer without credentials (`--upstream-compat-exit0`): the
    /// fixed value, else `0s` as upstream, so nothing is cached.
    pub(crate) fn failure_duration(&self) -> GoDuration {
        self.fixed_duration.unwrap_or(GoDuration(0))
    }
}

/// The answer for `credentials`.
pub(crate) fn success_response(
    version: ApiVersion,
    policy: &CachePolicy,
    credentials: Credentials,
) -> CredentialProviderResponse {
    CredentialProviderResponse {
        api_version: version,
        cache_key_type: policy.key_type.as_str().to_owned(),
        cache_duration: policy.duration_for(credentials.lifetime),
        auth: credentials.auth,
    }
}

/// Upstream's answer when the provider failed: no `auth`, `cacheDuration` per
/// [`CachePolicy::failure_duration`].
pub(crate) fn empty_response(
    version: ApiVersion,
    policy: &CachePolicy,
) -> CredentialProviderResponse {
    CredentialProviderResponse {
        api_version: version,
        cache_key_type: policy.key_type.as_str().to_owned(),
        cache_duration: Some(policy.failure_duration()),
        auth: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_duration_subtracts_the_margin() {
        let p = CachePolicy::from_env_values(None, None).unwrap();
        assert_eq!(
            p.duration_for(Some(Duration::from_secs(3599))),
            Some(GoDuration(3539 * 1_000_000_000))
        );
        assert_eq!(
            p.duration_for(Some(Duration::from_secs(30))),
            Some(GoDuration(0))
        );
        assert_eq!(p.duration_for(None), None);
        assert_eq!(p.failure_duration(), GoDuration(0));
    }

    #[test]
    fn fixed_duration_wins() {
        let p = CachePolicy::from_env_values(Some("0s"), Some("registry")).unwrap();
        assert_eq!(
            p.duration_for(Some(Duration::from_secs(3599))),
            Some(GoDuration(0))
        );
        assert_eq!(p.key_type, CacheKeyType::Registry);
    }
}
