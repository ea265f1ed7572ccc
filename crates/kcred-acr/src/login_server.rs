//! Which ACR login server an image belongs to, and `--registry-mirror`.
//!
//! Upstream (`parseACRLoginServerFromImage`) rewrites mirrors by string prefix and, after its
//! anchored regex, falls back to `strings.Index(image, suffix)`, which on every built-in cloud
//! finds `azurecr.io` anywhere in the image (`foo.azurecr.io.example/x` → `foo.azurecr.io`).
//! kcred looks only at the image's host (the text before the first `/`) and accepts it when the
//! whole host is `<name>[.<region>.geo].<suffix>`, where `<name>` is alphanumeric with at most one
//! `-` (a domain-name-label registry, `name-hash`), and mirror sources match the whole host.

use std::collections::BTreeMap;

/// The ACR suffixes every cloud accepts (upstream's regex list, including legacy Germany).
pub const BUILTIN_ACR_SUFFIXES: [&str; 4] =
    ["azurecr.io", "azurecr.cn", "azurecr.de", "azurecr.us"];

/// The ACR DNS suffixes in force: the four built-in ones plus the cloud's own suffix when it is
/// another one (Azure Stack, custom clouds).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AcrSuffixes {
    custom: Option<String>,
}

impl AcrSuffixes {
    /// The built-in suffixes plus `environment_suffix` (the cloud's `ContainerRegistryDNSSuffix`,
    /// with or without a leading dot; empty or built-in means none extra).
    pub fn new(environment_suffix: &str) -> Self {
        let s = environment_suffix.trim().trim_start_matches('.');
        let custom = if s.is_empty() || BUILTIN_ACR_SUFFIXES.contains(&s) {
            None
        } else {
            Some(s.to_owned())
        };
        AcrSuffixes { custom }
    }

    fn all(&self) -> impl Iterator<Item = &str> {
        BUILTIN_ACR_SUFFIXES
            .iter()
            .copied()
            .chain(self.custom.as_deref())
    }
}

/// True when `host` is a whole ACR login server host under one of `suffixes`.
pub(crate) fn is_acr_host(host: &str, suffixes: &AcrSuffixes) -> bool {
    suffixes.all().any(|suffix| {
        host.strip_suffix(suffix)
            .and_then(|p| p.strip_suffix('.'))
            .is_some_and(is_registry_prefix)
    })
}

/// `<name>` or `<name>.<region>.geo`.
fn is_registry_prefix(prefix: &str) -> bool {
    let labels: Vec<&str> = prefix.split('.').collect();
    match labels.as_slice() {
        [name] => is_registry_name(name),
        [name, region, "geo"] => is_registry_name(name) && is_alnum(region),
        _ => false,
    }
}

/// Alphanumerics with at most one inner `-` (DNL registries are `<name>-<hash>`).
fn is_registry_name(name: &str) -> bool {
    match name.split_once('-') {
        None => is_alnum(name),
        Some((a, b)) => is_alnum(a) && is_alnum(b),
    }
}

fn is_alnum(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The host part of an image reference: the text before the first `/`.
pub(crate) fn image_host(image: &str) -> &str {
    image.split('/').next().unwrap_or(image)
}

/// The login server of `image` when its host is an ACR host.
pub(crate) fn acr_login_server(image: &str, suffixes: &AcrSuffixes) -> Option<String> {
    let host = image_host(image);
    is_acr_host(host, suffixes).then(|| host.to_owned())
}

/// A `--registry-mirror` problem, reported as a warning (upstream logs and drops the entry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MirrorWarning {
    /// An entry that is not `src:dst`.
    #[error("registry mirror entry {0:?} is not of the form src:dst; ignored")]
    Malformed(String),
    /// `:dst`: upstream's empty source matches every image; kcred ignores it.
    #[error("registry mirror entry {0:?} has an empty source; ignored")]
    EmptySource(String),
    /// `src:`: nothing to map to.
    #[error("registry mirror entry {0:?} has an empty target; ignored")]
    EmptyTarget(String),
}

/// The `--registry-mirror` map, matched by whole host (or whole path prefix).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistryMirrors {
    /// Exactly upstream's parsed map (empty source/target entries included).
    map: BTreeMap<String, String>,
    /// Usable entries, longest source first (deterministic precedence).
    ordered: Vec<(String, String)>,
}

impl RegistryMirrors {
    /// Parses `src:dst[,src:dst…]` as upstream: spaces removed, split on `,` then `:`, an entry
    /// without exactly two parts dropped, the last duplicate source winning.
    pub fn parse(flag: &str) -> (Self, Vec<MirrorWarning>) {
        let compact: String = flag.chars().filter(|c| *c != ' ').collect();
        let mut map = BTreeMap::new();
        let mut warnings = Vec::new();
        for entry in compact.split(',').filter(|e| !e.is_empty()) {
            let parts: Vec<&str> = entry.split(':').collect();
            match parts.as_slice() {
                [src, dst] => {
                    map.insert((*src).to_owned(), (*dst).to_owned());
                }
                _ => warnings.push(MirrorWarning::Malformed(entry.to_owned())),
            }
        }
        let mut ordered = Vec::new();
        for (src, dst) in &map {
            if src.is_empty() {
                warnings.push(MirrorWarning::EmptySource(format!("{src}:{dst}")));
            } else if dst.is_empty() {
                warnings.push(MirrorWarning::EmptyTarget(format!("{src}:{dst}")));
            } else {
                ordered.push((src.clone(), dst.clone()));
            }
        }
        ordered.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        (RegistryMirrors { map, ordered }, warnings)
    }

    /// The parsed map, as upstream's `parseRegistryMirror` returns it.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.map
    }

    /// The first (longest) source matching `image`, and the image rewritten to its target.
    pub(crate) fn rewrite(&self, image: &str) -> Option<(&str, String)> {
        self.ordered.iter().find_map(|(src, dst)| {
            let rest = image.strip_prefix(src.as_str())?;
            let boundary = rest.is_empty()
                || rest.starts_with('/')
                || (src.contains('/') && (rest.starts_with(':') || rest.starts_with('@')));
            boundary.then(|| (src.as_str(), format!("{dst}{rest}")))
        })
    }
}

/// Where an image's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginServerMatch {
    /// The ACR login server to authenticate against.
    pub target: String,
    /// The mirror source the image named, when a mirror rewrite produced `target`.
    pub source: Option<String>,
}

/// Upstream's `parseACRLoginServerFromImage` with kcred's strict host rules: `None` when the
/// image is not an ACR image (directly or through a mirror).
pub fn parse_login_server(
    image: &str,
    mirrors: &RegistryMirrors,
    suffixes: &AcrSuffixes,
) -> Option<LoginServerMatch> {
    if let Some((source, rewritten)) = mirrors.rewrite(image) {
        return acr_login_server(&rewritten, suffixes).map(|target| LoginServerMatch {
            target,
            source: Some(source.to_owned()),
        });
    }
    acr_login_server(image, suffixes).map(|target| LoginServerMatch {
        target,
        source: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> AcrSuffixes {
        AcrSuffixes::new("azurecr.io")
    }

    #[test]
    fn whole_host_only() {
        let s = public();
        assert!(is_acr_host("foo.azurecr.io", &s));
        assert!(is_acr_host("foo-abc123.azurecr.io", &s));
        assert!(is_acr_host("foo.eastus2.geo.azurecr.cn", &s));
        for bad in [
            "foo.azurecr.io.example",
            "foo.azurecr.io:443",
            "azurecr.io",
            ".azurecr.io",
            "a-b-c.azurecr.io",
            "foo.eastus2.data.azurecr.io",
            "FOO.AZURECR.IO",
            "foo_bar.azurecr.io",
            "-foo.azurecr.io",
        ] {
            assert!(!is_acr_host(bad, &s), "{bad}");
        }
    }

    #[test]
    fn custom_suffix_with_or_without_dot() {
        let s = AcrSuffixes::new(".azurecr.my.cloud");
        assert_eq!(s.custom.as_deref(), Some("azurecr.my.cloud"));
        assert!(is_acr_host("foo.azurecr.my.cloud", &s));
        assert!(!is_acr_host("foo.azurecr.my.cloud.evil", &s));
        assert_eq!(AcrSuffixes::new("azurecr.cn").custom.as_deref(), None);
    }

    #[test]
    fn mirrors_match_whole_host() {
        let (m, w) = RegistryMirrors::parse("mcr.microsoft.com:abc.azurecr.io");
        assert!(w.is_empty());
        let s = public();
        let hit = parse_login_server("mcr.microsoft.com/x:v1", &m, &s).unwrap();
        assert_eq!(hit.target, "abc.azurecr.io");
        assert_eq!(hit.source.as_deref(), Some("mcr.microsoft.com"));
        assert_eq!(
            parse_login_server("mcr.microsoft.com.evil.io/x", &m, &s),
            None
        );
        assert_eq!(parse_login_server("mcr.microsoft.comx/y", &m, &s), None);
        assert_eq!(parse_login_server("mcr.microsoft.com:5000/y", &m, &s), None);
    }

    #[test]
    fn longest_source_wins_and_empty_entries_are_ignored() {
        let (m, w) = RegistryMirrors::parse(
            "docker.io:a.azurecr.io,docker.io/team:b.azurecr.io,:c.azurecr.io,x:",
        );
        assert_eq!(w.len(), 2);
        assert_eq!(m.as_map().len(), 4);
        let s = public();
        let hit = parse_login_server("docker.io/team/app", &m, &s).unwrap();
        assert_eq!(hit.target, "b.azurecr.io");
        assert_eq!(hit.source.as_deref(), Some("docker.io/team"));
        let hit = parse_login_server("docker.io/other/app", &m, &s).unwrap();
        assert_eq!(hit.target, "a.azurecr.io");
        assert_eq!(parse_login_server("quay.io/x", &m, &s), None);
    }
}
