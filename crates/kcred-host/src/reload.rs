//! Hot reload (kcred only; the kubelet reads its config once at startup).
//!
//! [`Host::watch_config`] polls the config path; when the content of its files changes it
//! loads, validates and looks up the new providers and swaps them in atomically, keeping
//! the providers (and caches) whose definition is unchanged. An invalid config keeps the
//! old set. Each change produces one [`ReloadEvent`].

use std::path::Path;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use kcred_config::load::{is_config_file_name, read_config_file};
use kcred_config::load_path_for;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use crate::host::{build_provider_set, Host, HostError};

/// The shortest poll interval of [`Host::watch_config`]; shorter ones are raised to it.
pub const MIN_WATCH_INTERVAL: Duration = Duration::from_millis(10);

/// The result of a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadEvent {
    /// The new config is in force.
    Applied {
        /// Its hash (`kubelet_credential_provider_config_info{hash}`).
        hash: String,
    },
    /// The new config was refused; the previous providers stay in force.
    Rejected {
        /// The error, as the kubelet would report it at startup.
        reason: String,
    },
}

/// A cheap identity of the config's current content: SHA-256 over the names and bytes of
/// the files the loader would read (or over the error that prevents reading them).
///
/// Blocking file IO: async code calls it (and [`Host::reload`],
/// [`Host::reload_if_changed`]) through `spawn_blocking`, as [`Host::watch_config`] does.
pub fn fingerprint(path: &Path) -> String {
    let mut h = Sha256::new();
    match std::fs::metadata(path) {
        Err(e) => h.update(format!("error: {:?}", e.kind())),
        Ok(meta) if meta.is_dir() => match std::fs::read_dir(path) {
            Err(e) => h.update(format!("error: {:?}", e.kind())),
            Ok(entries) => {
                let mut files: Vec<_> = entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().map(|t| !t.is_dir()).unwrap_or(false))
                    .filter(|e| is_config_file_name(e.file_name().as_encoded_bytes()))
                    .map(|e| e.path())
                    .collect();
                files.sort_by(|a, b| {
                    a.as_os_str()
                        .as_encoded_bytes()
                        .cmp(b.as_os_str().as_encoded_bytes())
                });
                for f in files {
                    hash_file(&mut h, &f);
                }
            }
        },
        Ok(_) => hash_file(&mut h, path),
    }
    hex::encode(h.finalize())
}

fn hash_file(h: &mut Sha256, path: &Path) {
    let name = path.as_os_str().as_encoded_bytes();
    h.update((name.len() as u64).to_be_bytes());
    h.update(name);
    // The loader's reader: a FIFO or device is refused without blocking, size is capped.
    match read_config_file(path) {
        Ok(bytes) => {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(&bytes);
        }
        Err(e) => h.update(format!("error: {e}")),
    }
}

impl Host {
    /// Reads the config path again and swaps in the result (unconditionally), publishing the
    /// [`ReloadEvent`] to [`Host::reload_events`] subscribers.
    pub fn reload(&self) -> Result<ReloadEvent, HostError> {
        let path = self
            .shared
            .config_path
            .clone()
            .ok_or(HostError::NoConfigPath)?;
        let fp = fingerprint(&path);
        *self
            .shared
            .fingerprint
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(fp);
        let event = self.apply(&path);
        let _ = self.shared.events.send(event.clone());
        Ok(event)
    }

    fn apply(&self, path: &Path) -> ReloadEvent {
        let config = match load_path_for(path, self.shared.options.kubelet_version) {
            Ok(c) => c,
            Err(e) => {
                return ReloadEvent::Rejected {
                    reason: e.to_string(),
                }
            }
        };
        let previous = self.providers();
        let set = match build_provider_set(
            config,
            &self.shared.bin_dir,
            &self.shared.context,
            self.shared.options.feature_gates,
            Some(&previous),
        ) {
            Ok(s) => s,
            Err(e) => {
                return ReloadEvent::Rejected {
                    reason: e.to_string(),
                }
            }
        };
        let hash = set.hash.clone();
        *self
            .shared
            .providers
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
        self.shared.metrics.set_config_hash(&hash);
        ReloadEvent::Applied { hash }
    }

    /// Reloads if the config's content changed since the last load or reload; returns the
    /// event when something changed.
    pub fn reload_if_changed(&self) -> Result<Option<ReloadEvent>, HostError> {
        let path = self
            .shared
            .config_path
            .clone()
            .ok_or(HostError::NoConfigPath)?;
        let fp = fingerprint(&path);
        {
            let last = self
                .shared
                .fingerprint
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.as_deref() == Some(fp.as_str()) {
                return Ok(None);
            }
        }
        self.reload().map(Some)
    }

    /// Polls the config every `interval` (at least [`MIN_WATCH_INTERVAL`]) and reloads on
    /// change (see [`Host::reload_events`]). The task runs until aborted; on a host without
    /// a config path it ends at once.
    ///
    /// The file IO runs on tokio's blocking pool, never on the runtime's threads, so a
    /// slow file system cannot stall lookups; a FIFO or device named like a config file is
    /// refused without being opened for a blocking read (a rejected reload).
    pub fn watch_config(&self, interval: Duration) -> JoinHandle<()> {
        let host = self.clone();
        // tokio's `interval` panics on a zero period.
        let interval = interval.max(MIN_WATCH_INTERVAL);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let polled = host.clone();
                match tokio::task::spawn_blocking(move || polled.reload_if_changed()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) | Err(_) => return,
                }
            }
        })
    }
}
