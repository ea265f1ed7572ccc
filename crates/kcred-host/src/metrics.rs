//! The kubelet's credential provider metrics (kubernetes/kubernetes
//! `pkg/credentialprovider/plugin/metrics.go`), in a per-[`crate::Host`] registry, plus
//! kcred's cache hit/miss counters.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// `kubelet_credential_provider_plugin_duration`
pub const PLUGIN_DURATION: &str = "kubelet_credential_provider_plugin_duration";
/// `kubelet_credential_provider_plugin_errors_total`
pub const PLUGIN_ERRORS: &str = "kubelet_credential_provider_plugin_errors_total";
/// `kubelet_credential_provider_config_info`
pub const CONFIG_INFO: &str = "kubelet_credential_provider_config_info";
/// `kcred_credential_provider_cache_hits_total`
pub const CACHE_HITS: &str = "kcred_credential_provider_cache_hits_total";
/// `kcred_credential_provider_cache_misses_total`
pub const CACHE_MISSES: &str = "kcred_credential_provider_cache_misses_total";

/// Failure to set up the metrics (a name clash in the registry).
#[derive(Debug, thiserror::Error)]
#[error("registering credential provider metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

/// The metrics of one host.
#[derive(Debug, Clone)]
pub struct HostMetrics {
    registry: Registry,
    duration: HistogramVec,
    errors: IntCounterVec,
    config_info: IntGaugeVec,
    cache_hits: IntCounterVec,
    cache_misses: IntCounterVec,
}

impl HostMetrics {
    /// Creates the metrics, named as the newest kubelet names them, in a fresh registry.
    pub fn new() -> Result<Self, MetricsError> {
        Self::for_kubelet(kcred_kubelet::KubeletVersion::NEWEST)
    }

    /// Creates the metrics named as `kubelet` names them (`…_plugin_errors` before 1.34);
    /// the config-info gauge is registered only where that kubelet has it.
    pub fn for_kubelet(kubelet: kcred_kubelet::KubeletVersion) -> Result<Self, MetricsError> {
        let names = kubelet.metric_names();
        let registry = Registry::new();
        let duration = HistogramVec::new(
            HistogramOpts::new(
                names.duration,
                "Duration of execution in seconds for credential provider plugin",
            )
            .buckets(prometheus::DEFAULT_BUCKETS.to_vec()),
            &["plugin_name"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                names.errors,
                "Number of errors from credential provider plugin",
            ),
            &["plugin_name"],
        )?;
        let config_info = IntGaugeVec::new(
            Opts::new(
                names.config_info.unwrap_or(CONFIG_INFO),
                "Information about the last applied credential provider configuration with hash as label",
            ),
            &["hash"],
        )?;
        let cache_hits = IntCounterVec::new(
            Opts::new(
                CACHE_HITS,
                "Number of provide calls answered from a credential provider's cache",
            ),
            &["plugin_name"],
        )?;
        let cache_misses = IntCounterVec::new(
            Opts::new(
                CACHE_MISSES,
                "Number of provide calls that missed a credential provider's cache",
            ),
            &["plugin_name"],
        )?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        if names.config_info.is_some() {
            registry.register(Box::new(config_info.clone()))?;
        }
        registry.register(Box::new(cache_hits.clone()))?;
        registry.register(Box::new(cache_misses.clone()))?;
        Ok(HostMetrics {
            registry,
            duration,
            errors,
            config_info,
            cache_hits,
            cache_misses,
        })
    }

    /// The registry holding these metrics (to gather or to merge into an embedder's).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Observes one exec's wall time.
    pub fn observe_plugin_duration(&self, plugin: &str, d: Duration) {
        self.duration
            .with_label_values(&[plugin])
            .observe(d.as_secs_f64());
    }

    /// Counts one exec failure.
    pub fn inc_plugin_errors(&self, plugin: &str) {
        self.errors.with_label_values(&[plugin]).inc();
    }

    /// Exposes `hash` as the applied config (only the last one is exposed).
    pub fn set_config_hash(&self, hash: &str) {
        self.config_info.reset();
        self.config_info.with_label_values(&[hash]).set(1);
    }

    /// Counts a provide call answered from the cache.
    pub fn inc_cache_hit(&self, plugin: &str) {
        self.cache_hits.with_label_values(&[plugin]).inc();
    }

    /// Counts a provide call that missed the cache.
    pub fn inc_cache_miss(&self, plugin: &str) {
        self.cache_misses.with_label_values(&[plugin]).inc();
    }

    /// The errors counter's value for `plugin`.
    pub fn plugin_errors(&self, plugin: &str) -> u64 {
        self.errors.with_label_values(&[plugin]).get()
    }

    /// How many durations were observed for `plugin`.
    pub fn plugin_duration_count(&self, plugin: &str) -> u64 {
        self.duration
            .with_label_values(&[plugin])
            .get_sample_count()
    }

    /// Cache (hits, misses) for `plugin`.
    pub fn cache_counts(&self, plugin: &str) -> (u64, u64) {
        (
            self.cache_hits.with_label_values(&[plugin]).get(),
            self.cache_misses.with_label_values(&[plugin]).get(),
        )
    }

    /// The Prometheus text exposition of every metric.
    pub fn gather_text(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metric families.
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_every_name_and_one_hash() {
        let m = HostMetrics::new().unwrap();
        m.observe_plugin_duration("p", Duration::from_millis(20));
        m.inc_plugin_errors("p");
        m.inc_cache_hit("p");
        m.inc_cache_miss("p");
        m.set_config_hash("sha256:aa");
        m.set_config_hash("sha256:bb");
        let text = m.gather_text();
        for name in [
            PLUGIN_DURATION,
            PLUGIN_ERRORS,
            CONFIG_INFO,
            CACHE_HITS,
            CACHE_MISSES,
        ] {
            assert!(text.contains(name), "{name} missing in {text}");
        }
        assert!(text.contains(
            "kubelet_credential_provider_plugin_duration_bucket{plugin_name=\"p\",le=\"0.025\"} 1"
        ));
        assert!(text.contains("hash=\"sha256:bb\"} 1"));
        assert!(!text.contains("sha256:aa"));
        assert_eq!(m.plugin_errors("p"), 1);
        assert_eq!(m.plugin_duration_count("p"), 1);
    }
}
