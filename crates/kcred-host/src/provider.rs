//! `pluginProvider.provide`: one provider's answer for one image (kubernetes/kubernetes
//! `pkg/credentialprovider/plugin/plugin.go`; steps in docs/host.md), with its cache,
//! singleflight, service-account mode and a trace of what happened.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use kcred_api::config::CredentialProvider;
use kcred_api::gostr::strconv_quote;
use kcred_api::response::{CacheKeyType, CredentialProviderResponse};
use kcred_api::ApiVersion;
use kcred_match::keyring::{DockerConfig, DockerConfigEntry};
use kcred_match::pattern::{MatchImage, MatchTarget};

use crate::cache::{
    parse_registry, single_flight_key, CacheKey, KeyTooLong, ProviderCache, ServiceAccountCacheKey,
};
use crate::clock::{Clock, SystemClock};
use crate::exec::{ExecError, ExecLimits, ExecOutcome, PluginRunner};
use crate::metrics::HostMetrics;
use crate::registry_flight::{
    wait_for_leader, Admission, FlightEnd, RegistryFlights, RegistryScope,
};
use crate::scrub::KnownSecrets;
use crate::service_account::{
    NoTokenSource, PodContext, ServiceAccountError, ServiceAccountMode, ServiceAccountRequest,
    ServiceAccountTokenSource,
};
use crate::singleflight::Group;
use crate::trace::{CacheTrace, ExecTrace, MatchTrace, ProvideTrace, StoreTrace};

/// What every provider of a host shares: limits, clock, metrics, token source, gates.
#[derive(Debug, Clone)]
pub struct ProviderContext {
    /// Exec timeout and output bound.
    pub limits: ExecLimits,
    /// Time source of the caches.
    pub clock: Arc<dyn Clock>,
    /// Where exec and cache metrics go (`None`: not recorded).
    pub metrics: Option<Arc<HostMetrics>>,
    /// Where service-account tokens come from.
    pub token_source: Arc<dyn ServiceAccountTokenSource>,
    /// `KubeletServiceAccountTokenForCredentialProviders`.
    pub service_account_gate: bool,
    /// kcred's registry coalescing (see [`crate::registry_flight`]); off = kubelet behaviour.
    pub coalesce_registries: bool,
    /// The tokens sent and passwords received so far, scrubbed from echoed plugin stderr
    /// (see [`crate::scrub`]); shared by the providers of a host.
    pub secrets: KnownSecrets,
    /// The kubelet emulated: Go URL parsing of `matchImages`, global cache key, echoed-token
    /// check.
    pub kubelet: kcred_kubelet::KubeletVersion,
}

impl Default for ProviderContext {
    fn default() -> Self {
        ProviderContext {
            limits: ExecLimits::default(),
            clock: Arc::new(SystemClock),
            metrics: None,
            token_source: Arc::new(NoTokenSource),
            service_account_gate: true,
            coalesce_registries: true,
            secrets: KnownSecrets::new(),
            kubelet: kcred_kubelet::KubeletVersion::NEWEST,
        }
    }
}

/// What one provider returned for one image: the credentials, or why there are none.
#[derive(Debug, Clone)]
pub struct ProvideOutcome {
    /// The provider's name.
    pub provider: String,
    /// The credentials (an empty config when the image did not match or the plugin had
    /// none), or the failure, which the kubelet only logs: it then uses an empty config and
    /// caches nothing.
    pub result: Result<ProvidedCredentials, ProvideFailure>,
    /// What happened, step by step, for humans.
    pub trace: ProvideTrace,
}

/// Credentials a provider returned (possibly none).
#[derive(Debug, Clone, Default)]
pub struct ProvidedCredentials {
    /// The credentials, keyed by the `auth` keys of the plugin's response.
    pub docker_config: Arc<DockerConfig>,
    /// The service account the credentials were obtained with (SA mode with a token).
    pub service_account: Option<crate::service_account::ServiceAccountCoordinates>,
}

/// Why a provider returned no credentials for an image (`pluginProvider.provide`'s error
/// paths). `Display` is the kubelet's log text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProvideFailure {
    /// Service-account mode could not get what the plugin needs (`provide` step 2).
    #[error(transparent)]
    ServiceAccount(#[from] ServiceAccountError),
    /// The cache lookup key could not be built.
    #[error("Failed to get cached docker config: {0}")]
    CacheLookup(KeyTooLong),
    /// The singleflight key could not be built.
    #[error("Error generating singleflight key: {0}")]
    SingleFlightKey(KeyTooLong),
    /// kcred's registry-coalescing scope key could not be built.
    #[error("{0}")]
    RegistryScope(KeyTooLong),
    /// Running the plugin or decoding its response failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The plugin echoed the service-account token as a password without `Token` caching.
    #[error("Credential provider plugin returned the service account token as the password for image {}, which is not allowed when service account cache type is not set to 'Token'", strconv_quote(.image))]
    EchoedToken {
        /// The image of the request.
        image: String,
    },
    /// The response's `cacheKeyType` is not `Image`, `Registry` or `Global`.
    #[error("credential provider plugin did not return a valid cacheKeyType: {}", strconv_quote(.0))]
    InvalidCacheKeyType(String),
    /// The cache key for storing the response could not be built.
    #[error("Error generating cache key: {0}")]
    CacheKey(KeyTooLong),
    /// kcred's registry coalescing: this lookup waited for the run of the plugin for
    /// another image of the same registry, which failed; the plugin was not run again, so
    /// a coalesced lookup takes at most one plugin timeout (see [`crate::registry_flight`]).
    #[error(
        "not run: kcred coalesced this lookup with the plugin's run for image {} of the same registry, which failed: {error}",
        strconv_quote(.leader_image)
    )]
    CoalescedRunFailed {
        /// The image the failed run was for.
        leader_image: String,
        /// Its failure.
        error: Box<ProvideFailure>,
    },
}

impl ProvideFailure {
    /// What the kubelet's message leaves out, for verbose output: the decoder's cause when
    /// the plugin's response failed the strict decode ([`ExecError::detail`]). It never holds
    /// a credential, but it may name the response's fields and `auth` keys, so show it to the
    /// operator, not to other users.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ProvideFailure::Exec(e) => e.detail(),
            ProvideFailure::CoalescedRunFailed { error, .. } => error.detail(),
            _ => None,
        }
    }

    /// The plugin stderr this failure quotes, if any (for [`crate::scrub`]).
    pub(crate) fn plugin_stderr_mut(&mut self) -> Option<&mut String> {
        match self {
            ProvideFailure::Exec(ExecError::Run { stderr, .. }) => Some(stderr),
            ProvideFailure::CoalescedRunFailed { error, .. } => error.plugin_stderr_mut(),
            _ => None,
        }
    }
}

impl ProvideOutcome {
    /// The credentials; empty when there are none or the provider failed.
    pub fn docker_config(&self) -> &DockerConfig {
        static EMPTY: DockerConfig = DockerConfig::new();
        self.result.as_ref().map_or(&EMPTY, |p| &p.docker_config)
    }

    /// The service account the credentials were obtained with.
    pub fn service_account(&self) -> Option<&crate::service_account::ServiceAccountCoordinates> {
        self.result
            .as_ref()
            .ok()
            .and_then(|p| p.service_account.as_ref())
    }

    /// The failure, if the provider failed.
    pub fn error(&self) -> Option<&ProvideFailure> {
        self.result.as_ref().err()
    }

    /// [`ProvideFailure::detail`] of the failure, if any.
    pub fn error_detail(&self) -> Option<&str> {
        self.error().and_then(ProvideFailure::detail)
    }
}

/// A provider definition that cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// `apiVersion` is not one of the three versions (validation rejects this first).
    #[error("provider {name:?}: unsupported apiVersion {api_version:?}")]
    ApiVersion {
        /// Provider name.
        name: String,
        /// The value configured.
        api_version: String,
    },
}

/// One registered provider (`pluginProvider`): its definition, plugin runner, cache and
/// in-flight calls. Shared by all pulls.
#[derive(Debug)]
pub struct PluginProvider {
    definition: CredentialProvider,
    match_images: Vec<(String, Result<MatchImage, String>)>,
    default_cache_duration_nanos: i64,
    runner: PluginRunner,
    service_account: Option<ServiceAccountMode>,
    cache: ProviderCache<Arc<DockerConfig>>,
    group: Group<Vec<u8>, ExecOutcome>,
    flights: RegistryFlights,
    context: ProviderContext,
}

impl PluginProvider {
    /// Builds a provider whose plugin is `program` (normally `bin_dir/name`).
    pub fn new(
        definition: CredentialProvider,
        program: PathBuf,
        context: ProviderContext,
    ) -> Result<Self, ProviderError> {
        let api_version = ApiVersion::parse(&definition.api_version).ok_or_else(|| {
            ProviderError::ApiVersion {
                name: definition.name.clone(),
                api_version: definition.api_version.clone(),
            }
        })?;
        let mut runner = PluginRunner::new(
            definition.name.clone(),
            program,
            definition.args.clone(),
            definition.env.clone(),
            api_version,
            context.limits,
        );
        if let Some(m) = &context.metrics {
            runner = runner.with_metrics(m.clone());
        }
        runner = runner.with_secrets(context.secrets.clone());
        let match_images = definition
            .match_images
            .iter()
            .map(|p| {
                let parsed = MatchImage::parse_as(p, context.kubelet.url_parsing());
                (p.clone(), parsed.map_err(|e| e.to_string()))
            })
            .collect();
        let service_account = ServiceAccountMode::from_attributes(
            definition.token_attributes.as_ref(),
            context.service_account_gate,
        );
        Ok(PluginProvider {
            default_cache_duration_nanos: definition.default_cache_duration.map_or(0, |d| d.0),
            match_images,
            runner,
            service_account,
            cache: ProviderCache::new(context.clock.clone())
                .with_global_key(context.kubelet.global_cache_key()),
            group: Group::new(),
            flights: RegistryFlights::new(),
            definition,
            context,
        })
    }

    /// The provider's name.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// The definition it was built from.
    pub fn definition(&self) -> &CredentialProvider {
        &self.definition
    }

    /// Its cache.
    pub fn cache(&self) -> &ProviderCache<Arc<DockerConfig>> {
        &self.cache
    }

    /// Its plugin runner.
    pub fn runner(&self) -> &PluginRunner {
        &self.runner
    }

    /// Its service-account mode, if active.
    pub fn service_account_mode(&self) -> Option<&ServiceAccountMode> {
        self.service_account.as_ref()
    }

    /// The exec limits in force.
    pub fn limits(&self) -> ExecLimits {
        self.runner.limits()
    }

    /// `isImageAllowed`: the first pattern matching `image`, or why none did.
    pub fn match_image(&self, image: &str) -> MatchTrace {
        let target = match MatchTarget::parse_as(image, self.context.kubelet.url_parsing()) {
            Ok(t) => t,
            Err(e) => {
                return MatchTrace::NotMatched {
                    reasons: vec![format!("image {image:?} is not a valid URL: {e}")],
                }
            }
        };
        let mut reasons = Vec::with_capacity(self.match_images.len());
        for (text, pattern) in &self.match_images {
            match pattern {
                Ok(p) if p.matches(&target) => {
                    return MatchTrace::Matched {
                        pattern: text.clone(),
                    }
                }
                Ok(p) => reasons.push(format!("{text}: {}", p.check(&target))),
                Err(e) => reasons.push(format!("{text}: invalid pattern: {e}")),
            }
        }
        MatchTrace::NotMatched { reasons }
    }

    /// `provide`: the kubelet's `pluginProvider.provide` exactly (docs/host.md lists the steps). Errors give an empty config with the error recorded;
    /// nothing is cached then.
    pub async fn provide(&self, image: &str, pod: &PodContext) -> ProvideOutcome {
        let mut out = Outcome::new(self.name(), image);
        // 1. matchImages
        out.trace.matched = self.match_image(image);
        if !matches!(out.trace.matched, MatchTrace::Matched { .. }) {
            return out.finish();
        }
        // 2. service-account mode
        let sa: Option<ServiceAccountRequest> = match &self.service_account {
            None => None,
            Some(mode) => match mode.resolve(pod, &*self.context.token_source).await {
                Ok(sa) => sa,
                Err(e) => return out.fail(e.into()),
            },
        };
        if let Some(sa) = &sa {
            out.service_account = Some(sa.coordinates.clone());
            self.context.secrets.learn(sa.token.expose());
        }
        let sa_key = sa
            .as_ref()
            .map_or_else(ServiceAccountCacheKey::empty, |s| s.cache_key.clone());
        // 3. cache
        match self.cached(image, &sa_key, &mut out) {
            Err(e) => return out.fail(e),
            Ok(true) => return out.finish(),
            Ok(false) => {}
        }
        // 4. singleflight (plus kcred's registry coalescing)
        let sf_key = match single_flight_key(
            image,
            sa.as_ref().map(|s| (s.token_hash.as_str(), &s.annotations)),
        ) {
            Ok(k) => k,
            Err(e) => return out.fail(ProvideFailure::SingleFlightKey(e)),
        };
        let registry = parse_registry(image);
        let mut leader = None;
        if self.context.coalesce_registries && !self.group.in_flight(&sf_key) {
            let scope = match CacheKey::new(registry, &sa_key) {
                Ok(k) => k,
                Err(e) => return out.fail(ProvideFailure::RegistryScope(e)),
            };
            match self.flights.admit(registry, scope.as_bytes(), &sf_key) {
                Admission::Lead(guard) => leader = Some(guard),
                Admission::Bypass => {}
                Admission::Wait(done) => {
                    out.trace.waited_for_registry = true;
                    if let FlightEnd::Failed {
                        image: leader_image,
                        error,
                    } = wait_for_leader(done).await
                    {
                        // Bounded by one plugin timeout: share the failure, do not exec.
                        return out.fail(ProvideFailure::CoalescedRunFailed {
                            leader_image,
                            error: Box::new(error),
                        });
                    }
                    match self.cached(image, &sa_key, &mut out) {
                        Err(e) => return out.fail(e),
                        Ok(true) => return out.finish(),
                        Ok(false) => {}
                    }
                }
            }
        }
        if let Some(m) = &self.context.metrics {
            m.inc_cache_miss(self.name());
        }
        // 5. exec
        let empty = BTreeMap::new();
        let (token, annotations) = match &sa {
            Some(s) => (Some(&s.token), &s.annotations),
            None => (None, &empty),
        };
        let shared = self
            .group
            .run(sf_key, || self.runner.exec(image, token, annotations))
            .await;
        out.trace.exec = Some(ExecTrace {
            duration: shared.value.duration,
            joined: !shared.executed,
        });
        let outcome = match shared.value.result {
            Ok(response) => self.use_response(image, &response, sa.as_ref(), &sa_key, out),
            Err(e) => out.fail(e.into()),
        };
        if let (Some(leader), Err(error)) = (leader.as_mut(), &outcome.result) {
            leader.fail(image, error.clone());
        }
        outcome
    }

    /// Step 3: looks the image up; `Ok(true)` when `out` now holds a cached config.
    fn cached(
        &self,
        image: &str,
        sa_key: &ServiceAccountCacheKey,
        out: &mut Outcome,
    ) -> Result<bool, ProvideFailure> {
        let hit = self
            .cache
            .lookup(image, sa_key)
            .map_err(ProvideFailure::CacheLookup)?;
        match hit {
            Some(hit) => {
                if let Some(m) = &self.context.metrics {
                    m.inc_cache_hit(self.name());
                }
                out.trace.cache = CacheTrace::Hit {
                    base: hit.base,
                    expires_in: hit.expires_at.saturating_duration_since(self.cache.now()),
                };
                out.trace.auth_keys = hit.value.keys().cloned().collect();
                out.docker_config = hit.value;
                Ok(true)
            }
            None => {
                out.trace.cache = CacheTrace::Miss;
                Ok(false)
            }
        }
    }

    /// Steps 6–10: echo check, cacheKeyType, DockerConfig, caching.
    fn use_response(
        &self,
        image: &str,
        response: &CredentialProviderResponse,
        sa: Option<&ServiceAccountRequest>,
        sa_key: &ServiceAccountCacheKey,
        mut out: Outcome,
    ) -> ProvideOutcome {
        out.trace.cache_key_type = Some(response.cache_key_type.clone());
        out.trace.cache_duration = response.cache_duration.map(|d| d.to_string());
        out.trace.auth_keys = response.auth.keys().cloned().collect();
        for auth in response.auth.values() {
            self.context.secrets.learn(auth.password.expose());
        }
        let registry = parse_registry(image);
        // 6. echoed token (1.34+)
        let echo_check = self.context.kubelet.echoed_token_check();
        if let (true, Some(sa), Some(mode)) = (echo_check, sa, &self.service_account) {
            if !sa.token.is_empty()
                && !mode.caches_per_token()
                && response.auth.values().any(|a| a.password == sa.token)
            {
                return out.fail(ProvideFailure::EchoedToken {
                    image: image.to_owned(),
                });
            }
        }
        // 7. cacheKeyType
        let Some(key_type) = CacheKeyType::parse(&response.cache_key_type) else {
            return out.fail(ProvideFailure::InvalidCacheKeyType(
                response.cache_key_type.clone(),
            ));
        };
        let base = match key_type {
            CacheKeyType::Image => image,
            CacheKeyType::Registry => registry,
            CacheKeyType::Global => self.context.kubelet.global_cache_key(),
        };
        // 8. DockerConfig
        let config: DockerConfig = response
            .auth
            .iter()
            .map(|(k, a)| {
                (
                    k.clone(),
                    DockerConfigEntry {
                        username: a.username.clone(),
                        password: a.password.clone(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        let config = Arc::new(config);
        // 9. caching
        let ttl = match response.cache_duration {
            Some(d) if d.0 == 0 => None,
            Some(d) => Some(d.0),
            None if self.default_cache_duration_nanos == 0 => None,
            None => Some(self.default_cache_duration_nanos),
        };
        let shared_scope = match ttl {
            None => {
                out.trace.stored = StoreTrace::NotStored {
                    reason: if response.cache_duration.is_some() {
                        "cacheDuration is 0"
                    } else {
                        "no cacheDuration and defaultCacheDuration is 0"
                    },
                };
                false
            }
            Some(ttl) => {
                let key = match CacheKey::new(base, sa_key) {
                    Ok(k) => k,
                    Err(e) => return out.fail(ProvideFailure::CacheKey(e)),
                };
                self.cache.insert_for(key, config.clone(), ttl);
                out.trace.stored = StoreTrace::Stored {
                    base: key_type.as_str(),
                    ttl: kcred_api::GoDuration(ttl).to_string(),
                };
                key_type != CacheKeyType::Image
            }
        };
        if self.context.coalesce_registries {
            let scope = if shared_scope {
                RegistryScope::Shared
            } else {
                RegistryScope::PerImage
            };
            self.flights.record(registry, scope);
        }
        out.docker_config = config;
        out.finish()
    }
}

/// A [`ProvideOutcome`] under construction.
struct Outcome {
    provider: String,
    docker_config: Arc<DockerConfig>,
    service_account: Option<crate::service_account::ServiceAccountCoordinates>,
    trace: ProvideTrace,
}

impl Outcome {
    fn new(provider: &str, image: &str) -> Self {
        Outcome {
            provider: provider.to_owned(),
            docker_config: Arc::new(DockerConfig::new()),
            service_account: None,
            trace: ProvideTrace::new(image),
        }
    }

    fn finish(self) -> ProvideOutcome {
        ProvideOutcome {
            provider: self.provider,
            result: Ok(ProvidedCredentials {
                docker_config: self.docker_config,
                service_account: self.service_account,
            }),
            trace: self.trace,
        }
    }

    fn fail(self, error: ProvideFailure) -> ProvideOutcome {
        let mut trace = self.trace;
        trace.error = Some(error.to_string());
        trace.auth_keys.clear();
        ProvideOutcome {
            provider: self.provider,
            result: Err(error),
            trace,
        }
    }
}
