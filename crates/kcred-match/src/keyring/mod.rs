//! The docker keyring: the kubelet's `BasicDockerKeyring` (kubernetes/kubernetes
//! `pkg/credentialprovider/keyring.go`), plus the
//! docker credential file formats it is filled from ([`parse_config_json`],
//! [`parse_dockercfg`]).
//!
//! [`DockerKeyring::add`] normalises each location to a key (`https://` prepended, Go URL
//! parse, a leading `/v1/` or `/v2/` dropped, `host + path`) and keeps the keys in reverse
//! byte order. [`DockerKeyring::lookup`] returns the credentials of **every** key that
//! matches the image, in that order, and falls back to Docker Hub's `index.docker.io`
//! credentials when nothing matched and the image is a Docker Hub image.
//!
//! Every credential a lookup returns says where it was found (kcred; the kubelet does not
//! track it): the normalised key it is filed under, the location as written in the docker
//! config, which [`DockerKeyring::add`] call filed it, and whether only the Docker Hub
//! fallback made it apply. The key and location texts are shared (`Arc<str>`), so carrying
//! them costs a lookup no allocation.
//!
//! Keys are parsed once when added, so a lookup parses only the image.

mod docker_config;

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{btree_map, BTreeMap};
use std::sync::Arc;

use kcred_api::Secret;

pub use docker_config::{
    decode_auth_field, decode_entry, parse_config_json, parse_docker_config, parse_dockercfg,
    AuthFieldError, DockerConfig, DockerConfigEntry, DockerConfigError, DockerConfigFile,
    DockerConfigFormat, PartialEntry, RawDockerConfigEntry,
};

use crate::gourl::{parse_after_scheme_as, GoUrlParsing, UrlError};
use crate::pattern::{MatchImage, MatchTarget};

/// The key under which Docker Hub credentials are found (`https://index.docker.io/v1/`).
const DEFAULT_REGISTRY_KEY: &[u8] = b"index.docker.io";

/// Where a credential came from: the service account whose token a plugin was given (the
/// kubelet's `CredentialSource.ServiceAccount` coordinates, 1.34+).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialSource {
    /// Service account namespace.
    pub namespace: String,
    /// Service account name.
    pub name: String,
    /// Service account UID.
    pub uid: String,
}

/// One credential returned by a lookup: the kubelet's `TrackedAuthConfig` (without the
/// `AuthConfigHash`, which the image-pull tracking computes), plus where in the keyring it
/// was found (`key`, `location`, `config_index`, `docker_hub_fallback`; kcred only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedAuthConfig {
    /// Registry username.
    pub username: String,
    /// Registry password or token.
    pub password: Secret,
    /// Email, as given in the docker config.
    pub email: String,
    /// The service account the credential was obtained for, if any.
    pub source: Option<CredentialSource>,
    /// The normalised key it is filed under (`https://r.io/v2/` → `r.io`; lossy UTF-8 if
    /// an escape decoded to invalid UTF-8), shared by every credential under that key.
    pub key: Arc<str>,
    /// The location as written in the docker config it came from (`https://r.io/v2/`).
    pub location: Arc<str>,
    /// Which [`DockerKeyring::add`] call filed it, counting from 0 (the calls that added
    /// nothing are counted too), so a caller that adds one config per source can tell the
    /// sources apart.
    pub config_index: usize,
    /// True when the lookup returned it only through the Docker Hub fallback: no key
    /// matched the image, and it is filed under `index.docker.io`.
    pub docker_hub_fallback: bool,
}

/// A location [`DockerKeyring::add`] skipped because Go's `url.Parse` rejects it (the
/// kubelet logs it and goes on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLocation {
    /// The location as written in the docker config.
    pub location: String,
    /// Go's parse error.
    pub error: UrlError,
}

/// One normalised key with its pre-parsed pattern and its credentials in add order.
#[derive(Debug, Clone)]
struct KeyEntry {
    /// The key's text, shared with its credentials.
    key_text: Arc<str>,
    /// `None` when the key itself does not re-parse (then it never matches, as in Go).
    pattern: Option<MatchImage>,
    credentials: Vec<TrackedAuthConfig>,
}

/// The kubelet's `BasicDockerKeyring`.
#[derive(Debug, Clone, Default)]
pub struct DockerKeyring {
    /// By key (as Go bytes), iterated in reverse byte order. A map, not a sorted list: a
    /// plugin may answer with a hundred thousand `auth` keys, and inserting each into a
    /// list is quadratic.
    entries: BTreeMap<Reverse<Box<[u8]>>, KeyEntry>,
    /// How many times [`DockerKeyring::add`] was called.
    configs_added: usize,
    /// The Go URL parsing of keys and images (default: the newest kubelet's).
    url_parsing: GoUrlParsing,
}

/// The keyring key for a docker config location: `BasicDockerKeyring.Add`'s normalisation
/// as Go bytes.
fn normalize_key_bytes(location: &str, url_parsing: GoUrlParsing) -> Result<Vec<u8>, UrlError> {
    let bytes = location.as_bytes();
    let (prefix, rest): (&[u8], &[u8]) = if let Some(rest) = bytes.strip_prefix(b"https://") {
        (b"https://", rest)
    } else if let Some(rest) = bytes.strip_prefix(b"http://") {
        (b"http://", rest)
    } else {
        (b"https://", bytes)
    };
    let (mut host, path) = parse_after_scheme_as(prefix, rest, url_parsing)?.into_parts();
    let path = if path.starts_with(b"/v1/") || path.starts_with(b"/v2/") {
        &path[3..]
    } else {
        &path[..]
    };
    if !path.is_empty() && path != b"/" {
        host.extend_from_slice(path);
    }
    Ok(host)
}

/// The keyring key for a docker config location, e.g. `https://quay.io/v1/` → `quay.io`
/// and `https://r.io:5000/team` → `r.io:5000/team` (lossy UTF-8 if an escape decoded to
/// invalid UTF-8).
///
/// ```
/// use kcred_match::keyring::normalize_key;
/// assert_eq!(normalize_key("https://index.docker.io/v1/").unwrap(), "index.docker.io");
/// assert_eq!(normalize_key("*.docker.io/path:1111").unwrap(), "*.docker.io/path:1111");
/// ```
pub fn normalize_key(location: &str) -> Result<String, UrlError> {
    normalize_key_bytes(location, GoUrlParsing::default())
        .map(|k| String::from_utf8_lossy(&k).into_owned())
}

/// The kubelet's `isDefaultRegistryMatch`: whether an image string names a Docker Hub image
/// (a single component, a `docker.io` / `index.docker.io` first component, or a first
/// component with neither `.` nor `:`).
pub fn is_default_registry_match(image: &str) -> bool {
    let (first, has_rest) = match image.split_once('/') {
        Some((first, _)) => (first, true),
        None => (image, false),
    };
    if first.is_empty() {
        return false;
    }
    if !has_rest || first == "docker.io" || first == "index.docker.io" {
        return true;
    }
    !first.contains(['.', ':'])
}

impl DockerKeyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty keyring that parses keys and images with the Go URL rules of a given
    /// kubelet (`KubeletVersion::url_parsing`); [`DockerKeyring::new`] uses the newest.
    pub fn with_url_parsing(url_parsing: GoUrlParsing) -> Self {
        DockerKeyring {
            url_parsing,
            ..Self::default()
        }
    }

    /// `BasicDockerKeyring.Add(src, cfg)`: files every entry under its normalised key,
    /// after any credentials already under that key. Locations Go cannot parse are skipped
    /// and returned. (Go walks the map in random order; here locations are taken in
    /// `DockerConfig` order, so two locations with the same key keep a stable order.)
    ///
    /// The credentials filed remember this call's number (see
    /// [`TrackedAuthConfig::config_index`]).
    pub fn add(
        &mut self,
        source: Option<CredentialSource>,
        cfg: &DockerConfig,
    ) -> Vec<SkippedLocation> {
        let config_index = self.configs_added;
        self.configs_added += 1;
        let mut skipped = Vec::new();
        for (location, entry) in cfg {
            let key = match normalize_key_bytes(location, self.url_parsing) {
                Ok(key) => key,
                Err(error) => {
                    skipped.push(SkippedLocation {
                        location: location.clone(),
                        error,
                    });
                    continue;
                }
            };
            let filed = match self.entries.entry(Reverse(key.into_boxed_slice())) {
                btree_map::Entry::Occupied(o) => o.into_mut(),
                btree_map::Entry::Vacant(v) => {
                    let key = &v.key().0;
                    let pattern = MatchImage::parse_bytes_as(key, self.url_parsing).ok();
                    let key_text = Arc::from(String::from_utf8_lossy(key));
                    v.insert(KeyEntry {
                        key_text,
                        pattern,
                        credentials: Vec::with_capacity(1),
                    })
                }
            };
            filed.credentials.push(TrackedAuthConfig {
                username: entry.username.clone(),
                password: entry.password.clone(),
                email: entry.email.clone(),
                source: source.clone(),
                key: filed.key_text.clone(),
                location: Arc::from(location.as_str()),
                config_index,
                docker_hub_fallback: false,
            });
        }
        skipped
    }

    /// `BasicDockerKeyring.Lookup(image)`: the credentials of every key that matches the
    /// image (`URLsMatchStr(key, image)`), keys in reverse byte order; if none matched and
    /// [`is_default_registry_match`], the credentials under `index.docker.io` (marked
    /// [`TrackedAuthConfig::docker_hub_fallback`]). Empty means not found.
    pub fn lookup(&self, image: &str) -> Vec<TrackedAuthConfig> {
        let mut found = Vec::new();
        if let Ok(target) = MatchTarget::parse_as(image, self.url_parsing) {
            for entry in self.entries.values() {
                if entry.pattern.as_ref().is_some_and(|p| p.matches(&target)) {
                    found.extend(entry.credentials.iter().cloned());
                }
            }
        }
        if found.is_empty() && is_default_registry_match(image) {
            if let Some(hub) = self.entries.get(&Reverse(Box::from(DEFAULT_REGISTRY_KEY))) {
                found.extend(hub.credentials.iter().map(|c| TrackedAuthConfig {
                    docker_hub_fallback: true,
                    ..c.clone()
                }));
            }
        }
        found
    }

    /// The normalised keys in lookup order (reverse byte order).
    pub fn keys(&self) -> impl ExactSizeIterator<Item = Cow<'_, str>> + '_ {
        self.entries.values().map(|e| Cow::Borrowed(&*e.key_text))
    }

    /// The number of distinct keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
