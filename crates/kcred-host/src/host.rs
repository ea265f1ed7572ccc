//! [`Host`]: the registered providers and `externalCredentialProviderKeyring.Lookup`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use kcred_config::{
    load_path_for, validate_for, FeatureGates, LoadError, LoadedConfig, ValidationErrors,
};
use kcred_kubelet::{KubeletVersion, ProviderOrder};
use kcred_match::image::{ImageError, ImageRef};
use kcred_match::keyring::TrackedAuthConfig;
use tokio::sync::broadcast;

use crate::clock::{Clock, SystemClock};
use crate::exec::{ExecLimits, DEFAULT_EXEC_TIMEOUT, DEFAULT_OUTPUT_LIMIT};
use crate::keyring::external_keyring_as;
use crate::metrics::{HostMetrics, MetricsError};
use crate::provider::{PluginProvider, ProvideOutcome, ProviderContext, ProviderError};
use crate::registration::{check_bin_dir, look_path, RegistrationError};
use crate::reload::{self, ReloadEvent};
use crate::scrub::KnownSecrets;
use crate::service_account::{NoTokenSource, PodContext, ServiceAccountTokenSource};

/// How a [`Host`] runs its providers.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Deadline of one exec (kubelet: fixed 1 minute).
    pub exec_timeout: Duration,
    /// Byte bound on a plugin's stdout and on its stderr, each.
    pub output_limit: usize,
    /// Feature gates (validation and SA mode).
    pub feature_gates: FeatureGates,
    /// Where service-account tokens come from (default: none, SA-mode providers then fail).
    pub token_source: Arc<dyn ServiceAccountTokenSource>,
    /// Time source of the caches.
    pub clock: Arc<dyn Clock>,
    /// Coalesce concurrent misses for one registry (kcred; `false` = kubelet behaviour).
    pub coalesce_registries: bool,
    /// The kubelet to emulate (default: the newest kcred knows): its Go URL parsing, config
    /// types, provider order, global cache key, echoed-token check and metric names. Set
    /// `feature_gates` to [`FeatureGates::for_kubelet`] of the same version for its gate
    /// defaults ([`HostOptions::for_kubelet`] does both).
    pub kubelet_version: KubeletVersion,
}

impl HostOptions {
    /// The defaults, emulating `kubelet` (with its feature-gate defaults).
    pub fn for_kubelet(kubelet: KubeletVersion) -> Self {
        HostOptions {
            feature_gates: FeatureGates::for_kubelet(kubelet),
            kubelet_version: kubelet,
            ..HostOptions::default()
        }
    }
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            exec_timeout: DEFAULT_EXEC_TIMEOUT,
            output_limit: DEFAULT_OUTPUT_LIMIT,
            feature_gates: FeatureGates::default(),
            token_source: Arc::new(NoTokenSource),
            clock: Arc::new(SystemClock),
            coalesce_registries: true,
            kubelet_version: KubeletVersion::NEWEST,
        }
    }
}

/// Why a host could not be built or a lookup could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// Bin dir or plugin executable problems (`RegisterCredentialProviderPlugins`).
    #[error(transparent)]
    Registration(#[from] RegistrationError),
    /// The config could not be read (`readCredentialProviderConfig`).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The config is invalid (`validateCredentialProviderConfig`).
    #[error("failed to validate credential provider config: {0}")]
    Validate(ValidationErrors),
    /// A provider cannot be built.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The metrics could not be registered.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// The image name is not a valid reference (the pull stops before any provider runs).
    #[error("couldn't parse image name {image:?}: {source}")]
    InvalidImage {
        /// The image as given.
        image: String,
        /// The parser's error.
        source: ImageError,
    },
    /// [`Host::watch_config`]/[`Host::reload`] on a host built without a config path.
    #[error("this host was built from a config value: there is no config path to reload")]
    NoConfigPath,
}

/// The providers in force, in the order the kubelet asks them (config order; sorted by name
/// before 1.33).
#[derive(Debug, Default)]
pub struct ProviderSet {
    /// Providers in the kubelet's order.
    pub providers: Vec<Arc<PluginProvider>>,
    /// The config hash (`sha256:<hex>`).
    pub hash: String,
    /// The config files read.
    pub files: Vec<PathBuf>,
}

/// The answer to [`Host::credentials`].
#[derive(Debug, Clone)]
pub struct CredentialsReport {
    /// The normalised image the providers were asked about.
    pub image: String,
    /// What each provider did, in config order.
    pub outcomes: Vec<ProvideOutcome>,
    /// The keyring lookup: every matching credential, in keyring order. Each says which
    /// normalised key it was filed under, the `auth` key the plugin returned it under, and
    /// whether only the Docker Hub fallback made it apply; [`CredentialsReport::provider_of`]
    /// gives the provider.
    pub credentials: Vec<TrackedAuthConfig>,
}

impl CredentialsReport {
    /// True when at least one credential was found.
    pub fn found(&self) -> bool {
        !self.credentials.is_empty()
    }

    /// The outcome of the provider that returned `credential` (one of
    /// [`CredentialsReport::credentials`]): the keyring was filled with one config per
    /// outcome, in order, so the credential's
    /// [`config_index`](TrackedAuthConfig::config_index) is that outcome's index.
    pub fn provider_of(&self, credential: &TrackedAuthConfig) -> Option<&ProvideOutcome> {
        self.outcomes.get(credential.config_index)
    }

    /// [`CredentialsReport::credentials`] in keyring order, each with the name of the
    /// provider that returned it (`None` only for a credential that did not come from this
    /// report's outcomes, which a report built by [`Host::credentials`] does not hold).
    pub fn credentials_with_providers(
        &self,
    ) -> impl ExactSizeIterator<Item = (&TrackedAuthConfig, Option<&str>)> + '_ {
        self.credentials
            .iter()
            .map(|c| (c, self.provider_of(c).map(|o| o.provider.as_str())))
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) bin_dir: PathBuf,
    pub(crate) config_path: Option<PathBuf>,
    pub(crate) options: HostOptions,
    pub(crate) context: ProviderContext,
    pub(crate) metrics: Arc<HostMetrics>,
    pub(crate) providers: RwLock<Arc<ProviderSet>>,
    pub(crate) events: broadcast::Sender<ReloadEvent>,
    pub(crate) fingerprint: Mutex<Option<String>>,
}

/// The kubelet side of the credential provider system: registered providers, their caches,
/// metrics and the external keyring lookup. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct Host {
    pub(crate) shared: Arc<Shared>,
}

impl Host {
    /// Registers providers like the kubelet's `RegisterCredentialProviderPlugins`: stat the bin dir, read and validate the
    /// config, set the config-hash metric, look up every plugin executable.
    pub fn load(
        config_path: impl AsRef<Path>,
        bin_dir: impl AsRef<Path>,
        options: HostOptions,
    ) -> Result<Host, HostError> {
        let config_path = config_path.as_ref();
        let bin_dir = bin_dir.as_ref();
        check_bin_dir(bin_dir)?;
        let fingerprint = reload::fingerprint(config_path);
        let config = load_path_for(config_path, options.kubelet_version)?;
        let host = Host::build(config, bin_dir, Some(config_path.to_path_buf()), options)?;
        *host
            .shared
            .fingerprint
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(fingerprint);
        Ok(host)
    }

    /// For embedders: registers an already-read config (e.g. from
    /// [`kcred_config::load_files`]); validation and executable lookups as in [`Host::load`].
    /// Such a host cannot [`Host::reload`].
    pub fn from_config(
        config: LoadedConfig,
        bin_dir: impl AsRef<Path>,
        options: HostOptions,
    ) -> Result<Host, HostError> {
        check_bin_dir(bin_dir.as_ref())?;
        Host::build(config, bin_dir.as_ref(), None, options)
    }

    fn build(
        config: LoadedConfig,
        bin_dir: &Path,
        config_path: Option<PathBuf>,
        options: HostOptions,
    ) -> Result<Host, HostError> {
        let metrics = Arc::new(HostMetrics::for_kubelet(options.kubelet_version)?);
        let context = ProviderContext {
            limits: ExecLimits {
                timeout: options.exec_timeout,
                output_limit: options.output_limit,
            },
            clock: options.clock.clone(),
            metrics: Some(metrics.clone()),
            token_source: options.token_source.clone(),
            service_account_gate: options
                .feature_gates
                .service_account_token_for_credential_providers,
            coalesce_registries: options.coalesce_registries,
            secrets: KnownSecrets::new(),
            kubelet: options.kubelet_version,
        };
        let set = build_provider_set(config, bin_dir, &context, options.feature_gates, None)?;
        metrics.set_config_hash(&set.hash);
        let (events, _) = broadcast::channel(16);
        Ok(Host {
            shared: Arc::new(Shared {
                bin_dir: bin_dir.to_path_buf(),
                config_path,
                options,
                context,
                metrics,
                providers: RwLock::new(Arc::new(set)),
                events,
                fingerprint: Mutex::new(None),
            }),
        })
    }

    /// The providers in force (a snapshot; a reload swaps in a new set).
    pub fn providers(&self) -> Arc<ProviderSet> {
        self.shared
            .providers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The hash of the config in force.
    pub fn config_hash(&self) -> String {
        self.providers().hash.clone()
    }

    /// The options the host was built with.
    pub fn options(&self) -> &HostOptions {
        &self.shared.options
    }

    /// The host's metrics.
    pub fn metrics(&self) -> &HostMetrics {
        &self.shared.metrics
    }

    /// All metrics in the Prometheus text format.
    pub fn gather_metrics(&self) -> String {
        self.shared.metrics.gather_text()
    }

    /// `externalCredentialProviderKeyring.Lookup(image)` for a pod: normalise the image, ask
    /// every provider in config order (sequentially), add every config to one fresh keyring
    /// (service-account coordinates as the source) and look the image up. Every credential
    /// of the report can be traced to its provider ([`CredentialsReport::provider_of`]).
    pub async fn credentials(
        &self,
        image: &str,
        pod: &PodContext,
    ) -> Result<CredentialsReport, HostError> {
        let image_ref = ImageRef::parse(image).map_err(|source| HostError::InvalidImage {
            image: image.to_owned(),
            source,
        })?;
        let name = image_ref.name().to_owned();
        // With the gate off the kubelet passes no pod information to providers.
        let pod: Cow<'_, PodContext> = if self.shared.context.service_account_gate {
            Cow::Borrowed(pod)
        } else {
            Cow::Owned(PodContext::default())
        };
        let set = self.providers();
        let mut outcomes = Vec::with_capacity(set.providers.len());
        for provider in &set.providers {
            outcomes.push(provider.provide(&name, &pod).await);
        }
        // A provider's error may quote a secret another provider returned later in this
        // lookup: scrub every error again with all the secrets known now.
        let secrets = &self.shared.context.secrets;
        for outcome in &mut outcomes {
            if let Err(failure) = &mut outcome.result {
                if let Some(stderr) = failure.plugin_stderr_mut() {
                    *stderr = secrets.scrub(stderr, &[]);
                }
            }
            if let Some(text) = outcome.trace.error.as_mut() {
                *text = secrets.scrub(text, &[]);
            }
        }
        let credentials =
            external_keyring_as(&outcomes, self.shared.options.kubelet_version.url_parsing())
                .lookup(&name);
        Ok(CredentialsReport {
            image: name,
            outcomes,
            credentials,
        })
    }

    /// Subscribes to reload results ([`ReloadEvent`]).
    pub fn reload_events(&self) -> broadcast::Receiver<ReloadEvent> {
        self.shared.events.subscribe()
    }
}

/// Builds providers for a loaded config: validate, look up executables, and reuse the
/// providers (and so the caches) of `previous` whose definition and executable are unchanged.
pub(crate) fn build_provider_set(
    config: LoadedConfig,
    bin_dir: &Path,
    context: &ProviderContext,
    gates: FeatureGates,
    previous: Option<&ProviderSet>,
) -> Result<ProviderSet, HostError> {
    let kubelet = context.kubelet;
    validate_for(&config.providers, gates, kubelet).map_err(HostError::Validate)?;
    let mut definitions = config.providers;
    if kubelet.provider_order() == ProviderOrder::SortedByName {
        // Before 1.33 the kubelet asked its providers sorted by name.
        definitions.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    }
    let mut providers = Vec::with_capacity(definitions.len());
    for definition in definitions {
        let program = look_path(bin_dir, &definition.name)?;
        let reused = previous.and_then(|set| {
            set.providers
                .iter()
                .find(|p| p.definition() == &definition && p.runner().program() == program)
        });
        match reused {
            Some(p) => providers.push(p.clone()),
            None => providers.push(Arc::new(PluginProvider::new(
                definition,
                program,
                context.clone(),
            )?)),
        }
    }
    Ok(ProviderSet {
        providers,
        hash: config.hash,
        files: config.files,
    })
}
