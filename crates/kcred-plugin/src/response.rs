//! [`PluginResponse`]: what a provider's handler answers.

use std::collections::BTreeMap;
use std::time::Duration;

use kcred_api::response::{AuthConfig, CacheKeyType, CredentialProviderResponse};
use kcred_api::{ApiVersion, GoDuration, Secret};

/// A response under construction. The SDK encodes it in the request's `apiVersion`.
///
/// ```
/// use kcred_plugin::{CacheKeyType, PluginResponse};
/// use std::time::Duration;
///
/// let r = PluginResponse::registry("registry.io:5000", "robot", "s3cret")
///     .with_cache_ttl(Duration::from_secs(600));
/// assert_eq!(r.cache_key_type(), CacheKeyType::Registry);
/// assert_eq!(r.auth()["registry.io:5000"].username, "robot");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginResponse {
    cache_key_type: CacheKeyType,
    cache_duration: Option<GoDuration>,
    auth: BTreeMap<String, AuthConfig>,
}

impl PluginResponse {
    /// A response with no credentials. With a cache duration in force the kubelet caches the
    /// emptiness too, so use it for "this provider has nothing for that registry".
    pub fn empty(cache_key_type: CacheKeyType) -> Self {
        PluginResponse {
            cache_key_type,
            cache_duration: None,
            auth: BTreeMap::new(),
        }
    }

    /// Credentials for one registry, cached by the kubelet per registry (`cacheKeyType: Registry`).
    /// `registry` is the `auth` key: usually [`PluginRequest::registry`](crate::PluginRequest::registry).
    pub fn registry(
        registry: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        Self::empty(CacheKeyType::Registry).with_auth(registry, username, password)
    }

    /// Credentials for one image, cached by the kubelet per image (`cacheKeyType: Image`).
    pub fn image(
        image: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        Self::empty(CacheKeyType::Image).with_auth(image, username, password)
    }

    /// Adds (or replaces) the credentials under `key`, a `matchImages`-style pattern the
    /// kubelet's keyring matches against the image (`registry.io`, `*.registry.io`,
    /// `registry.io:5000/team`).
    pub fn with_auth(
        mut self,
        key: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        self.auth.insert(
            key.into(),
            AuthConfig {
                username: username.into(),
                password: password.into(),
            },
        );
        self
    }

    /// Sets `cacheDuration`. Without it the provider's `defaultCacheDuration` applies;
    /// zero means "do not cache"; a negative value is cached already expired.
    pub fn with_cache_duration(mut self, duration: GoDuration) -> Self {
        self.cache_duration = Some(duration);
        self
    }

    /// Sets `cacheDuration` from a `std` duration (saturating at Go's ~292 years).
    pub fn with_cache_ttl(self, ttl: Duration) -> Self {
        let nanos = i64::try_from(ttl.as_nanos()).unwrap_or(i64::MAX);
        self.with_cache_duration(GoDuration(nanos))
    }

    /// Sets `cacheDuration: 0s`: the kubelet will exec the plugin again for the next pull.
    pub fn without_caching(self) -> Self {
        self.with_cache_duration(GoDuration(0))
    }

    /// `cacheKeyType`.
    pub fn cache_key_type(&self) -> CacheKeyType {
        self.cache_key_type
    }

    /// `cacheDuration` (`None`: the provider's `defaultCacheDuration`).
    pub fn cache_duration(&self) -> Option<GoDuration> {
        self.cache_duration
    }

    /// `auth`: key → credentials.
    pub fn auth(&self) -> &BTreeMap<String, AuthConfig> {
        &self.auth
    }

    /// The wire response in `api_version`.
    pub fn into_wire(self, api_version: ApiVersion) -> CredentialProviderResponse {
        CredentialProviderResponse {
            api_version,
            cache_key_type: self.cache_key_type.as_str().to_owned(),
            cache_duration: self.cache_duration,
            auth: self.auth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_set_key_type_and_auth() {
        let r = PluginResponse::registry("r.io", "u", "p");
        assert_eq!(r.cache_key_type(), CacheKeyType::Registry);
        assert_eq!(r.auth().len(), 1);
        assert_eq!(r.auth()["r.io"].password.expose(), "p");
        assert_eq!(r.cache_duration(), None);

        let r = PluginResponse::image("r.io/a/b", "u", Secret::new("p")).without_caching();
        assert_eq!(r.cache_key_type(), CacheKeyType::Image);
        assert_eq!(r.cache_duration(), Some(GoDuration(0)));

        let r = PluginResponse::empty(CacheKeyType::Global)
            .with_auth("*.r.io", "a", "1")
            .with_auth("*.r.io", "b", "2");
        assert_eq!(r.auth()["*.r.io"].username, "b");
    }

    #[test]
    fn ttl_converts_and_saturates() {
        let r =
            PluginResponse::empty(CacheKeyType::Image).with_cache_ttl(Duration::from_millis(1500));
        assert_eq!(r.cache_duration(), Some(GoDuration(1_500_000_000)));
        let r = PluginResponse::empty(CacheKeyType::Image).with_cache_ttl(Duration::MAX);
        assert_eq!(r.cache_duration(), Some(GoDuration(i64::MAX)));
    }

    #[test]
    fn into_wire_keeps_everything() {
        let w = PluginResponse::registry("r.io", "u", "p")
            .with_cache_duration(GoDuration(60_000_000_000))
            .into_wire(ApiVersion::V1Beta1);
        assert_eq!(w.api_version, ApiVersion::V1Beta1);
        assert_eq!(w.cache_key_type, "Registry");
        assert_eq!(w.cache_duration, Some(GoDuration(60_000_000_000)));
        assert_eq!(w.auth["r.io"].username, "u");
    }

    #[test]
    fn debug_never_shows_passwords() {
        let r = PluginResponse::registry("r.io", "u", "hunter2");
        assert!(!format!("{r:?}").contains("hunter2"));
    }
}
