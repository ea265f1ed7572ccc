//! Answers `get` and `list` through a kcred [`Host`]: the kubelet's providers, run as the
//! kubelet runs them, and its keyring lookup.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kcred_host::{Host, HostError, HostOptions, PodContext};

use crate::cli::Paths;
use kcred_docker_helper::{server_url_for_registry, HelperCredentials, RegistryQuery};

/// Why credentials could not be resolved (as opposed to "none found").
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResolveError {
    /// The config or plugin directory could not be registered (what would stop a kubelet).
    #[error("kubelet credential provider config {} (plugins in {}): {source}", .config.display(), .bin_dir.display())]
    Load {
        /// The config path.
        config: PathBuf,
        /// The plugin directory.
        bin_dir: PathBuf,
        /// The host's error.
        #[source]
        source: Box<HostError>,
    },
    /// The lookup could not start (the image built from the server URL was refused).
    #[error("looking up {image}: {source}")]
    Lookup {
        /// The image asked about.
        image: String,
        /// The host's error.
        #[source]
        source: Box<HostError>,
    },
}

/// A provider that failed during a lookup (the kubelet logs these and goes on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderFailure {
    /// The provider's name.
    pub provider: String,
    /// The host's error text (never holds credentials).
    pub error: String,
}

/// The result of `get`.
#[derive(Debug, Clone)]
pub(crate) struct GetReport {
    /// The first credential the kubelet would try, if any.
    pub credentials: Option<HelperCredentials>,
    /// Providers that failed.
    pub failures: Vec<ProviderFailure>,
}

/// The result of `list`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListReport {
    /// Server URL → username of the first credential.
    pub entries: BTreeMap<String, String>,
    /// `matchImages` entries not listed because they hold a glob.
    pub skipped_patterns: Vec<String>,
    /// Providers that failed.
    pub failures: Vec<ProviderFailure>,
}

/// A loaded host, ready to answer.
#[derive(Debug, Clone)]
pub(crate) struct Resolver {
    host: Host,
}

impl Resolver {
    /// Registers the providers of `paths` as the kubelet does (bin dir, config, validation,
    /// plugin executables).
    pub(crate) fn load(paths: &Paths, options: HostOptions) -> Result<Resolver, ResolveError> {
        Host::load(&paths.config, &paths.bin_dir, options)
            .map(Resolver::from_host)
            .map_err(|source| ResolveError::Load {
                config: paths.config.clone(),
                bin_dir: paths.bin_dir.clone(),
                source: Box::new(source),
            })
    }

    /// Wraps an existing host.
    pub(crate) fn from_host(host: Host) -> Resolver {
        Resolver { host }
    }

    /// The host answering.
    pub(crate) fn host(&self) -> &Host {
        &self.host
    }

    /// The credentials the kubelet would use first for an image of the queried registry.
    /// No pod context is given: service-account-token providers cannot answer (they fail,
    /// and are reported in [`GetReport::failures`]).
    pub(crate) async fn get(&self, query: &RegistryQuery) -> Result<GetReport, ResolveError> {
        let report = self
            .host
            .credentials(query.image(), &PodContext::default())
            .await
            .map_err(|source| ResolveError::Lookup {
                image: query.image().to_owned(),
                source: Box::new(source),
            })?;
        let failures = report
            .outcomes
            .iter()
            .filter_map(|o| {
                o.error().map(|e| ProviderFailure {
                    provider: o.provider.clone(),
                    error: e.to_string(),
                })
            })
            .collect();
        let credentials = report.credentials.first().map(|c| HelperCredentials {
            server_url: query.server_url().to_owned(),
            username: c.username.clone(),
            secret: c.password.clone(),
        });
        Ok(GetReport {
            credentials,
            failures,
        })
    }

    /// The literal `matchImages` entries of `registry` that carry a repository path (a
    /// registry-level lookup does not match them).
    pub(crate) fn path_scoped_patterns(&self, registry: &str) -> Vec<String> {
        let mut found = Vec::new();
        for provider in &self.host.providers().providers {
            for pattern in &provider.definition().match_images {
                let scoped = RegistryQuery::parse(pattern)
                    .is_ok_and(|q| q.repository_given() && q.registry() == registry);
                if scoped && !found.contains(pattern) {
                    found.push(pattern.clone());
                }
            }
        }
        found
    }

    /// Every literal registry of the config's `matchImages` (no glob) that yields
    /// credentials, keyed as docker clients key them.
    pub(crate) async fn list(&self) -> Result<ListReport, ResolveError> {
        let mut report = ListReport::default();
        let mut queries: BTreeMap<String, RegistryQuery> = BTreeMap::new();
        for provider in &self.host.providers().providers {
            for pattern in &provider.definition().match_images {
                if pattern.contains(['*', '?', '[', '\\']) {
                    report.skipped_patterns.push(pattern.clone());
                    continue;
                }
                let Ok(query) = RegistryQuery::parse(pattern) else {
                    report.skipped_patterns.push(pattern.clone());
                    continue;
                };
                let key = if query.repository_given() {
                    query.server_url().to_owned()
                } else {
                    server_url_for_registry(query.registry()).to_owned()
                };
                queries.entry(key).or_insert(query);
            }
        }
        for (key, query) in queries {
            let got = self.get(&query).await?;
            for failure in got.failures {
                if !report.failures.contains(&failure) {
                    report.failures.push(failure);
                }
            }
            if let Some(credentials) = got.credentials {
                report.entries.insert(key, credentials.username);
            }
        }
        Ok(report)
    }
}
