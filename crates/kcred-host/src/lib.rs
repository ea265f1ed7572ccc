//! The kubelet's credential provider host: run plugins, cache, and answer keyring lookups.
//!
//! Each module maps to a kubelet concept (spec: `kubelet-host.md`):
//! - [`exec`]: `execPlugin` — [`PluginRunner`] runs `bin_dir/name` with the request on stdin,
//!   a timeout (SIGKILL, reaped) and bounded output; the kubelet's error texts.
//! - [`cache`]: `generateCacheKey` / `cacheEntry` — byte-exact [`CacheKey`]s and the
//!   per-provider expiring [`ProviderCache`].
//! - [`singleflight`]: the `singleflight.Group` of `provide`.
//! - [`registry_flight`]: kcred's registry-wide coalescing of concurrent misses.
//! - [`service_account`]: KEP-4412 service-account token mode.
//! - [`provider`]: `pluginProvider.provide` — [`PluginProvider`] and [`ProvideOutcome`].
//! - [`keyring`]: the external providers keyring.
//! - [`registration`]: the startup checks (bin dir, `LookPath`).
//! - [`metrics`]: the kubelet's metrics in a per-host registry.
//! - [`reload`]: kcred's hot reload of the config.
//! - [`scrub`]: secrets scrubbed and control characters escaped in echoed plugin stderr.
//! - [`signals`]: SIGINT/SIGTERM/SIGHUP kill and reap the running plugins before exit.
//! - [`Host`]: all of it together; [`Host::credentials`] is `Lookup(image)` for one pod.

pub mod cache;
pub mod clock;
pub mod exec;
mod host;
pub mod keyring;
pub mod metrics;
pub mod provider;
pub mod registration;
pub mod registry_flight;
pub mod reload;
pub mod scrub;
pub mod service_account;
pub mod signals;
pub mod singleflight;
pub mod trace;

pub use cache::{CacheKey, ProviderCache};
pub use clock::{Clock, FakeClock, SystemClock};
pub use exec::{ExecError, ExecLimits, PluginRunner};
pub use host::{CredentialsReport, Host, HostError, HostOptions, ProviderSet};
pub use metrics::HostMetrics;
pub use provider::{
    PluginProvider, ProvideFailure, ProvideOutcome, ProvidedCredentials, ProviderContext,
    ProviderError,
};
pub use reload::ReloadEvent;
pub use service_account::{
    PodContext, ServiceAccount, ServiceAccountCoordinates, ServiceAccountTokenSource,
    StaticTokenSource,
};
pub use trace::ProvideTrace;
