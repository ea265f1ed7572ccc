//! The per-user file cache of the providers' answers.
//!
//! Each `docker-credential-kcred` run is a new process, so the host's in-memory provider
//! caches (the kubelet's `cacheEntry` store) die with it. This module carries them across
//! runs: before a lookup the unexpired entries on disk are put back into each provider's
//! cache, the host then does its usual image → registry → global walk (so `cacheKeyType`
//! and `cacheDuration`, or `defaultCacheDuration` when absent, mean exactly what they mean
//! in the kubelet), and afterwards the entries the host stored are written back.
//!
//! - One file per config: its name is a hash of the config hash and the plugin directory, so
//!   a config change starts from an empty cache.
//! - Per user: `$XDG_CACHE_HOME/kcred` (an absolute `$XDG_CACHE_HOME`), else
//!   `$HOME/.cache/kcred`. The directory is created mode 0700, files mode 0600; a directory or
//!   file that is not owned by the user, is reachable by group or others, or is a symlink
//!   or special file is refused with an error naming it, and the run goes on without a
//!   cache.
//! - Writes go to a temporary file that is renamed over the cache file; readers take a
//!   shared `flock` on a separate lock file and writers an exclusive one, re-reading and
//!   merging under it, so concurrent clients never see or leave a torn file and never lose
//!   each other's entries.
//! - Expired entries are never restored (expiry is wall-clock time, checked against the
//!   monotonic clock of the host once restored); an entry stored "in the future" (the clock
//!   went back) is dropped. A file that does not parse is ignored and replaced.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kcred_api::Secret;
use kcred_host::{CacheKey, Host};
use kcred_match::keyring::{DockerConfig, DockerConfigEntry};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cli::ENV_NO_CACHE;

/// The directory under the user's cache directory.
pub(crate) const CACHE_SUBDIR: &str = "kcred";

/// The file format version (a file of another version is ignored and replaced).
pub(crate) const FORMAT_VERSION: u32 = 1;

/// A cache file larger than this is ignored (and replaced).
pub(crate) const MAX_CACHE_FILE_BYTES: u64 = 8 << 20;

/// At most this many entries are kept per provider (those expiring last win).
pub(crate) const MAX_ENTRIES_PER_PROVIDER: usize = 1024;

/// Why the cache cannot be used (the run then goes on without it).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CacheError {
    /// Neither `$XDG_CACHE_HOME` nor `$HOME` names a directory.
    #[error("no cache directory: set an absolute $XDG_CACHE_HOME or $HOME")]
    NoDirectory,
    /// A file system operation failed.
    #[error("{action} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// Owned by someone else.
    #[error("{} is owned by uid {owner}, not by you (uid {me}): refusing to use it", .path.display())]
    NotOwned {
        /// The path.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The effective uid.
        me: u32,
    },
    /// Group or others have access.
    #[error("{} has mode {mode:04o}, open to group or others (want {want:04o}): refusing to use it", .path.display())]
    Mode {
        /// The path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// What the cache creates.
        want: u32,
    },
    /// A symlink, special file, or a file where a directory belongs (or the reverse).
    #[error("{} is not a {want} (symlinks and special files are refused): refusing to use it", .path.display())]
    Kind {
        /// The path.
        path: PathBuf,
        /// `directory` or `regular file`.
        want: &'static str,
    },
}

/// Where the cache lives, or `None` when it is turned off (`--no-cache`, [`ENV_NO_CACHE`]).
pub(crate) fn location(
    no_cache_flag: bool,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Option<PathBuf>, CacheError> {
    let no_cache_env = env(ENV_NO_CACHE).is_some_and(|v| {
        let v = v.to_string_lossy().to_ascii_lowercase();
        !(v.is_empty() || v == "0" || v == "false")
    });
    if no_cache_flag || no_cache_env {
        return Ok(None);
    }
    let xdg = env("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = match xdg {
        Some(base) => base,
        None => env("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".cache"))
            .ok_or(CacheError::NoDirectory)?,
    };
    Ok(Some(base.join(CACHE_SUBDIR)))
}

/// The cache file of one config and plugin directory.
#[derive(Debug)]
pub(crate) struct FileCache {
    dir: PathBuf,
    data: PathBuf,
    lock: File,
    lock_path: PathBuf,
    config_hash: String,
    bin_dir: String,
    /// Problems worth telling the person running the helper (a corrupt file was ignored).
    pub warnings: Vec<String>,
}

/// What [`FileCache::restore`] put back, so [`FileCache::persist`] writes only new entries.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    keys: BTreeSet<(String, Vec<u8>)>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CacheFile {
    version: u32,
    config_hash: String,
    bin_dir: String,
    providers: BTreeMap<String, Vec<StoredEntry>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StoredEntry {
    /// The host's cache key bytes (`generateCacheKey`), hex.
    key: String,
    /// When it was stored (Unix nanoseconds).
    stored_unix_nanos: u64,
    /// When it expires (Unix nanoseconds).
    expires_unix_nanos: u64,
    /// The provider's `auth` map as the host keeps it.
    auth: BTreeMap<String, StoredAuth>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredAuth {
    username: String,
    password: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    email: String,
}

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn geteuid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Owner and mode checks shared by the directory and the files.
fn check_owner_mode(path: &Path, meta: &std::fs::Metadata, want: u32) -> Result<(), CacheError> {
    let me = geteuid();
    if meta.uid() != me {
        return Err(CacheError::NotOwned {
            path: path.to_owned(),
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(CacheError::Mode {
            path: path.to_owned(),
            mode,
            want,
        });
    }
    Ok(())
}

fn check_file(path: &Path, file: &File) -> Result<(), CacheError> {
    let meta = file.metadata().map_err(|source| CacheError::Io {
        action: "inspecting",
        path: path.to_owned(),
        source,
    })?;
    if !meta.file_type().is_file() {
        return Err(CacheError::Kind {
            path: path.to_owned(),
            want: "regular file",
        });
    }
    check_owner_mode(path, &meta, 0o600)
}

/// Opens `path` without following a symlink (`O_NOFOLLOW`: a symlink fails with `ELOOP`).
fn open_nofollow(path: &Path, options: &mut OpenOptions) -> Result<File, CacheError> {
    options
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .map_err(|source| {
            if source.raw_os_error() == Some(libc::ELOOP) {
                CacheError::Kind {
                    path: path.to_owned(),
                    want: "regular file",
                }
            } else {
                CacheError::Io {
                    action: "opening",
                    path: path.to_owned(),
                    source,
                }
            }
        })
}

/// A held `flock`, released on drop.
struct FlockGuard<'a>(&'a File);

impl<'a> FlockGuard<'a> {
    fn acquire(file: &'a File, path: &Path, exclusive: bool) -> Result<Self, CacheError> {
        let op = if exclusive {
            libc::LOCK_EX
        } else {
            libc::LOCK_SH
        };
        loop {
            // SAFETY: the descriptor is open for the guard's lifetime.
            if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
                return Ok(FlockGuard(file));
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(CacheError::Io {
                    action: "locking",
                    path: path.to_owned(),
                    source: err,
                });
            }
        }
    }
}

impl Drop for FlockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: as above; unlocking a held lock cannot fail in a way we could act on.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

impl FileCache {
    /// Opens (creating if needed) the cache directory and the lock file of the config with
    /// hash `config_hash` and plugin directory `bin_dir`, checking ownership and modes.
    pub(crate) fn open(
        dir: &Path,
        config_hash: &str,
        bin_dir: &Path,
    ) -> Result<FileCache, CacheError> {
        if let Some(parent) = dir.parent() {
            if !parent.as_os_str().is_empty() && !parent.exists() {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)
                    .map_err(|source| CacheError::Io {
                        action: "creating",
                        path: parent.to_owned(),
                        source,
                    })?;
            }
        }
        match DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(CacheError::Io {
                    action: "creating",
                    path: dir.to_owned(),
                    source,
                })
            }
        }
        let meta = std::fs::symlink_metadata(dir).map_err(|source| CacheError::Io {
            action: "inspecting",
            path: dir.to_owned(),
            source,
        })?;
        if !meta.file_type().is_dir() {
            return Err(CacheError::Kind {
                path: dir.to_owned(),
                want: "directory",
            });
        }
        check_owner_mode(dir, &meta, 0o700)?;

        let mut hasher = Sha256::new();
        hasher.update(config_hash.as_bytes());
        hasher.update([0]);
        hasher.update(bin_dir.as_os_str().as_bytes());
        let name = hex::encode(&hasher.finalize()[..16]);
        let data = dir.join(format!("docker-credential-kcred-{name}.json"));
        let lock_path = dir.join(format!("docker-credential-kcred-{name}.lock"));
        let lock = open_nofollow(
            &lock_path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600),
        )?;
        check_file(&lock_path, &lock)?;
        Ok(FileCache {
            dir: dir.to_owned(),
            data,
            lock,
            lock_path,
            config_hash: config_hash.to_owned(),
            bin_dir: bin_dir.to_string_lossy().into_owned(),
            warnings: Vec::new(),
        })
    }

    /// The cache file's path.
    #[cfg(test)]
    pub(crate) fn data_path(&self) -> &Path {
        &self.data
    }

    /// Reads the cache file (caller holds the lock). A missing, corrupt, oversized or
    /// foreign file reads as empty (with a warning when corrupt); a file with the wrong
    /// owner, mode or type is an error.
    fn read(&mut self) -> Result<BTreeMap<String, Vec<StoredEntry>>, CacheError> {
        let file = match open_nofollow(&self.data, OpenOptions::new().read(true)) {
            Ok(f) => f,
            Err(CacheError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Ok(BTreeMap::new())
            }
            Err(e) => return Err(e),
        };
        check_file(&self.data, &file)?;
        let mut bytes = Vec::new();
        file.take(MAX_CACHE_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| CacheError::Io {
                action: "reading",
                path: self.data.clone(),
                source,
            })?;
        if bytes.len() as u64 > MAX_CACHE_FILE_BYTES {
            self.warnings.push(format!(
                "ignoring cache file {}: larger than {MAX_CACHE_FILE_BYTES} bytes (it will be replaced)",
                self.data.display()
            ));
            return Ok(BTreeMap::new());
        }
        // The decoder's message is not shown: it may quote a stored password.
        match serde_json::from_slice::<CacheFile>(&bytes) {
            Ok(f)
                if f.version == FORMAT_VERSION
                    && f.config_hash == self.config_hash
                    && f.bin_dir == self.bin_dir =>
            {
                Ok(f.providers)
            }
            Ok(_) => Ok(BTreeMap::new()),
            Err(_) => {
                self.warnings.push(format!(
                    "ignoring cache file {}: not a valid cache file (it will be replaced)",
                    self.data.display()
                ));
                Ok(BTreeMap::new())
            }
        }
    }

    /// Puts every unexpired entry of the file back into the host's provider caches.
    pub(crate) fn restore(&mut self, host: &Host) -> Result<Restored, CacheError> {
        let stored = {
            let lock = self.lock.try_clone().map_err(|source| CacheError::Io {
                action: "opening",
                path: self.lock_path.clone(),
                source,
            })?;
            let _guard = FlockGuard::acquire(&lock, &self.lock_path, false)?;
            self.read()?
        };
        let now = unix_nanos(SystemTime::now());
        let mut restored = Restored::default();
        for provider in &host.providers().providers {
            let Some(entries) = stored.get(provider.name()) else {
                continue;
            };
            let cache = provider.cache();
            for entry in entries {
                if entry.expires_unix_nanos <= now || entry.stored_unix_nanos > now {
                    continue;
                }
                let Ok(key) = hex::decode(&entry.key) else {
                    continue;
                };
                let left = Duration::from_nanos(entry.expires_unix_nanos - now);
                let Some(expires_at) = cache.now().checked_add(left) else {
                    continue;
                };
                let config: DockerConfig = entry
                    .auth
                    .iter()
                    .map(|(k, a)| {
                        (
                            k.clone(),
                            DockerConfigEntry {
                                username: a.username.clone(),
                                password: Secret::new(a.password.clone()),
                                email: a.email.clone(),
                            },
                        )
                    })
                    .collect();
                cache.insert(
                    CacheKey::from_bytes(key.clone()),
                    Arc::new(config),
                    expires_at,
                );
                restored.keys.insert((provider.name().to_owned(), key));
            }
        }
        Ok(restored)
    }

    /// Writes the entries the host stored during this run (those not restored) into the
    /// file, merged with what other clients wrote meanwhile; expired entries are dropped.
    /// Returns how many new entries were written.
    pub(crate) fn persist(
        &mut self,
        host: &Host,
        restored: &Restored,
    ) -> Result<usize, CacheError> {
        let now = unix_nanos(SystemTime::now());
        let mut fresh: BTreeMap<String, Vec<StoredEntry>> = BTreeMap::new();
        let mut count = 0;
        for provider in &host.providers().providers {
            let cache = provider.cache();
            for key in cache.keys() {
                let bytes = key.as_bytes().to_vec();
                if restored
                    .keys
                    .contains(&(provider.name().to_owned(), bytes.clone()))
                {
                    continue;
                }
                let Some((value, expires_at)) = cache.get(&key) else {
                    continue;
                };
                let left = expires_at.saturating_duration_since(cache.now());
                let left = u64::try_from(left.as_nanos()).unwrap_or(u64::MAX);
                let auth = value
                    .iter()
                    .map(|(k, e)| {
                        (
                            k.clone(),
                            StoredAuth {
                                username: e.username.clone(),
                                password: e.password.expose().to_owned(),
                                email: e.email.clone(),
                            },
                        )
                    })
                    .collect();
                fresh
                    .entry(provider.name().to_owned())
                    .or_default()
                    .push(StoredEntry {
                        key: hex::encode(&bytes),
                        stored_unix_nanos: now,
                        expires_unix_nanos: now.saturating_add(left),
                        auth,
                    });
                count += 1;
            }
        }
        if count == 0 {
            return Ok(0);
        }
        let lock = self.lock.try_clone().map_err(|source| CacheError::Io {
            action: "opening",
            path: self.lock_path.clone(),
            source,
        })?;
        let _guard = FlockGuard::acquire(&lock, &self.lock_path, true)?;
        let mut merged = self.read()?;
        // Other clients may have written after `now` while this one waited for the lock.
        let now = unix_nanos(SystemTime::now());
        for (provider, entries) in fresh {
            let list = merged.entry(provider).or_default();
            for entry in entries {
                list.retain(|e| e.key != entry.key);
                list.push(entry);
            }
        }
        for list in merged.values_mut() {
            list.retain(|e| e.expires_unix_nanos > now && e.stored_unix_nanos <= now);
            if list.len() > MAX_ENTRIES_PER_PROVIDER {
                list.sort_by_key(|e| std::cmp::Reverse(e.expires_unix_nanos));
                list.truncate(MAX_ENTRIES_PER_PROVIDER);
            }
        }
        merged.retain(|_, list| !list.is_empty());
        let file = CacheFile {
            version: FORMAT_VERSION,
            config_hash: self.config_hash.clone(),
            bin_dir: self.bin_dir.clone(),
            providers: merged,
        };
        let mut bytes = serde_json::to_vec(&file).map_err(|e| CacheError::Io {
            action: "encoding",
            path: self.data.clone(),
            source: io::Error::other(e),
        })?;
        bytes.push(b'\n');
        self.write_atomically(&bytes)?;
        Ok(count)
    }

    /// Writes `bytes` to a new 0600 file in the cache directory and renames it over the
    /// cache file.
    fn write_atomically(&self, bytes: &[u8]) -> Result<(), CacheError> {
        let nanos = unix_nanos(SystemTime::now());
        let name = self
            .data
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = self
            .dir
            .join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
        let io_err = |action, source| CacheError::Io {
            action,
            path: temp.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&temp)
            .map_err(|e| io_err("creating", e))?;
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| io_err("writing", e))
            .and_then(|()| check_file(&temp, &file))
            .and_then(|()| {
                std::fs::rename(&temp, &self.data).map_err(|source| CacheError::Io {
                    action: "replacing",
                    path: self.data.clone(),
                    source,
                })
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |var| {
            pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn location_prefers_absolute_xdg_then_home() {
        let env = env_of(&[("XDG_CACHE_HOME", "/x/cache"), ("HOME", "/home/u")]);
        assert_eq!(
            location(false, &env).unwrap(),
            Some(PathBuf::from("/x/cache/kcred"))
        );
        let env = env_of(&[("XDG_CACHE_HOME", "relative"), ("HOME", "/home/u")]);
        assert_eq!(
            location(false, &env).unwrap(),
            Some(PathBuf::from("/home/u/.cache/kcred"))
        );
        let env = env_of(&[]);
        assert!(matches!(
            location(false, &env),
            Err(CacheError::NoDirectory)
        ));
    }

    #[test]
    fn opt_out_by_flag_or_environment() {
        let env = env_of(&[("HOME", "/home/u")]);
        assert_eq!(location(true, &env).unwrap(), None);
        for on in ["1", "true", "yes"] {
            let pairs: &'static [(&'static str, &'static str)] =
                Box::leak(Box::new([("HOME", "/home/u"), (ENV_NO_CACHE, on)]));
            assert_eq!(location(false, &env_of(pairs)).unwrap(), None, "{on}");
        }
        for off in ["", "0", "false", "FALSE"] {
            let pairs: &'static [(&'static str, &'static str)] =
                Box::leak(Box::new([("HOME", "/home/u"), (ENV_NO_CACHE, off)]));
            assert!(location(false, &env_of(pairs)).unwrap().is_some(), "{off}");
        }
    }

    #[test]
    fn refuses_open_directory_and_symlinked_files() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("kcred");
        let cache = FileCache::open(&dir, "sha256:abc", Path::new("/bin")).unwrap();
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o700);
        let lock_meta = std::fs::metadata(&cache.lock_path).unwrap();
        assert_eq!(lock_meta.mode() & 0o777, 0o600);
        let data = cache.data_path().to_owned();
        drop(cache);

        // A data file open to others is refused.
        std::fs::write(&data, "{}").unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut cache = FileCache::open(&dir, "sha256:abc", Path::new("/bin")).unwrap();
        let err = cache.read().unwrap_err();
        assert!(matches!(err, CacheError::Mode { mode: 0o644, .. }), "{err}");
        assert!(err.to_string().contains(&data.display().to_string()));
        std::fs::remove_file(&data).unwrap();

        // A symlink in its place is refused.
        std::os::unix::fs::symlink("/etc/passwd", &data).unwrap();
        let err = cache.read().unwrap_err();
        assert!(matches!(err, CacheError::Kind { .. }), "{err}");
        std::fs::remove_file(&data).unwrap();

        // A directory open to others is refused.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = FileCache::open(&dir, "sha256:abc", Path::new("/bin")).unwrap_err();
        assert!(matches!(err, CacheError::Mode { mode: 0o755, .. }), "{err}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();

        // A symlinked directory is refused.
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let err = FileCache::open(&link, "sha256:abc", Path::new("/bin")).unwrap_err();
        assert!(matches!(err, CacheError::Kind { .. }), "{err}");
    }

    #[test]
    fn corrupt_or_foreign_files_read_as_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("kcred");
        let mut cache = FileCache::open(&dir, "sha256:abc", Path::new("/bin")).unwrap();
        let data = cache.data_path().to_owned();
        let write = |bytes: &[u8]| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(&data, bytes).unwrap();
            std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o600)).unwrap();
        };
        for junk in [
            &b""[..],
            b"\xff\xfe garbage",
            b"{\"version\":1",
            b"{\"version\":1,\"configHash\":\"sha256:abc\",\"binDir\":\"/bin\",\"providers\":{\"p\":[{\"key\":\"00\",\"storedUnixNanos\":\"secret-pw\",\"expiresUnixNanos\":1,\"auth\":{}}]}}",
        ] {
            write(junk);
            cache.warnings.clear();
            assert!(cache.read().unwrap().is_empty());
            assert_eq!(cache.warnings.len(), 1, "{:?}", String::from_utf8_lossy(junk));
            assert!(!cache.warnings[0].contains("secret-pw"));
        }
        // Another config's file (same name only by a hash collision) is not used.
        write(b"{\"version\":1,\"configHash\":\"sha256:other\",\"binDir\":\"/bin\",\"providers\":{\"p\":[]}}");
        cache.warnings.clear();
        assert!(cache.read().unwrap().is_empty());
        assert!(cache.warnings.is_empty());
    }
}
