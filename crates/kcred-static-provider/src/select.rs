//! Which file entries serve which registry, with the kubelet's keyring semantics.
//!
//! Each file key is normalised as the kubelet's `BasicDockerKeyring.Add` does it (scheme
//! stripped, a leading `/v1/` or `/v2/` path dropped) and split into a host part and a path
//! part. An entry serves registry `R` when its host part matches `R` under `URLsMatchStr`
//! (same port, same number of labels, `filepath.Match` per label) — so `registry.io` never
//! serves `registry.io.evil.com` or `registry.io:5000`, and `*.r.io` serves `a.r.io` only.
//! The Docker Hub names `docker.io`, `index.docker.io` and `registry-1.docker.io` serve one
//! another.
//!
//! Each served entry becomes an `auth` key `R` + its path (`registry.io`,
//! `registry.io/team-a`), so the kubelet still applies a path-scoped entry only to images
//! under that path, and the whole answer depends on `R` alone: `cacheKeyType: Registry` is
//! exact. When several entries give the same `auth` key, the one the kubelet's keyring would
//! try first wins (exact hosts before globs: reverse byte order of the normalised keys; for
//! Docker Hub, a direct match, then `index.docker.io`, then the other aliases).

use std::cmp::Reverse;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use kcred_match::keyring::normalize_key;
use kcred_match::pattern::urls_match_str;

use crate::dockerconfig::FileEntry;

/// The Docker Hub host names, in the order their entries are preferred.
pub(crate) const DOCKER_HUB_HOSTS: [&str; 3] =
    ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// A file key normalised as `BasicDockerKeyring.Add` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NormalizedKey {
    /// Host, with port if any (may hold globs).
    pub host: String,
    /// Path (`""` or starting with `/`), after `/v1/` or `/v2/` was dropped.
    pub path: String,
}

impl NormalizedKey {
    /// Normalises a file key with the keyring's own normalisation; `None` when the
    /// kubelet's `url.Parse` rejects it (the kubelet skips such an entry).
    pub(crate) fn parse(raw: &str) -> Option<NormalizedKey> {
        let key = normalize_key(raw).ok()?;
        // The host ends at the first `/` (Go's authority never contains one).
        let (host, path) = match key.find('/') {
            Some(i) => key.split_at(i),
            None => (key.as_str(), ""),
        };
        Some(NormalizedKey {
            host: host.to_owned(),
            path: path.to_owned(),
        })
    }

    /// The keyring index key: host + path.
    pub(crate) fn key(&self) -> String {
        format!("{}{}", self.host, self.path)
    }
}

/// How an entry serves a registry; lower is preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum MatchKind {
    /// The key's host matches the registry under `URLsMatchStr`.
    Host,
    /// Both are Docker Hub names; the value is the key's position in [`DOCKER_HUB_HOSTS`].
    DockerHubAlias(usize),
}

/// One `auth` entry of the answer.
#[derive(Debug, Clone)]
pub(crate) struct Served<'a> {
    /// The `auth` key: the registry plus the entry's path.
    pub auth_key: String,
    /// The file entry it comes from.
    pub from: &'a FileEntry,
    /// Why it serves the registry.
    pub how: MatchKind,
}

/// The outcome of selecting entries for one registry.
#[derive(Debug, Default)]
pub(crate) struct Selection<'a> {
    /// The answer's `auth` entries, by `auth` key.
    pub served: BTreeMap<String, Served<'a>>,
    /// Entries that matched but lost to another entry with the same `auth` key.
    pub shadowed: Vec<(&'a FileEntry, String)>,
    /// Entries that matched but hold no username or password (skipped).
    pub empty: Vec<&'a FileEntry>,
    /// Keys the kubelet would skip because they do not parse as URLs.
    pub unparsable: Vec<&'a FileEntry>,
}

/// How `key` serves `registry`, if at all.
pub(crate) fn match_kind(key: &NormalizedKey, registry: &str) -> Option<MatchKind> {
    if urls_match_str(&key.host, registry).unwrap_or(false) {
        return Some(MatchKind::Host);
    }
    if DOCKER_HUB_HOSTS.contains(&registry) {
        if let Some(pos) = DOCKER_HUB_HOSTS.iter().position(|h| *h == key.host) {
            return Some(MatchKind::DockerHubAlias(pos));
        }
    }
    None
}

/// Selects the entries of `entries` that serve `registry` (a host with optional port).
pub(crate) fn select<'a>(registry: &str, entries: &'a [FileEntry]) -> Selection<'a> {
    let mut selection = Selection::default();
    let mut candidates = Vec::new();
    for entry in entries {
        let Some(key) = NormalizedKey::parse(&entry.key) else {
            selection.unparsable.push(entry);
            continue;
        };
        let Some(how) = match_kind(&key, registry) else {
            continue;
        };
        if entry.entry.username.is_empty() && entry.entry.password.is_empty() {
            selection.empty.push(entry);
            continue;
        }
        candidates.push((how, key, entry));
    }
    // Preference: direct host matches in the kubelet's reverse byte order of index keys,
    // then Docker Hub aliases in DOCKER_HUB_HOSTS order. Entries with identical normalised
    // keys (which Go visits in random map order) are taken in file-key byte order, the order
    // `kcred_match::DockerKeyring::add` files them in.
    candidates.sort_by(|(how_a, key_a, entry_a), (how_b, key_b, entry_b)| {
        (how_a, Reverse(key_a.key()), &entry_a.key).cmp(&(
            how_b,
            Reverse(key_b.key()),
            &entry_b.key,
        ))
    });
    for (how, key, entry) in candidates {
        let auth_key = format!("{registry}{}", key.path);
        match selection.served.entry(auth_key.clone()) {
            Entry::Vacant(v) => {
                v.insert(Served {
                    auth_key,
                    from: entry,
                    how,
                });
            }
            Entry::Occupied(o) => selection.shadowed.push((entry, o.get().from.key.clone())),
        }
    }
    selection
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcred_api::Secret;
    use kcred_match::keyring::DockerConfigEntry;

    fn entry(key: &str, user: &str) -> FileEntry {
        FileEntry {
            key: key.to_owned(),
            entry: DockerConfigEntry {
                username: user.to_owned(),
                password: Secret::new(format!("pw-{user}")),
                email: String::new(),
            },
        }
    }

    fn served(registry: &str, entries: &[FileEntry]) -> Vec<(String, String)> {
        select(registry, entries)
            .served
            .into_values()
            .map(|s| (s.auth_key, s.from.entry.username.clone()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn normalisation_matches_keyring_add() {
        for (raw, host, path) in [
            ("https://index.docker.io/v1/", "index.docker.io", ""),
            ("http://r.io/v2/", "r.io", ""),
            ("r.io:5000", "r.io:5000", ""),
            ("https://r.io/v1/team", "r.io", "/team"),
            ("r.io/team/", "r.io", "/team/"),
            ("r.io/", "r.io", ""),
            ("*.r.io/path", "*.r.io", "/path"),
            ("r.io/v3/x", "r.io", "/v3/x"),
        ] {
            let k = NormalizedKey::parse(raw).unwrap();
            assert_eq!((k.host.as_str(), k.path.as_str()), (host, path), "{raw}");
        }
        assert_eq!(NormalizedKey::parse("r.io:port"), None);
        assert_eq!(NormalizedKey::parse("%zz"), None);
    }

    #[test]
    fn only_the_requested_registry_is_served() {
        let entries = [entry("registry.io", "a"), entry("other.io", "b")];
        assert_eq!(
            served("registry.io", &entries),
            pairs(&[("registry.io", "a")])
        );
        assert_eq!(served("other.io", &entries), pairs(&[("other.io", "b")]));
        assert!(served("third.io", &entries).is_empty());
    }

    #[test]
    fn hosts_that_merely_contain_the_name_are_other_registries() {
        let entries = [entry("registry.io", "a")];
        for hostile in [
            "registry.io.evil.com",
            "evilregistry.io",
            "registry.io:5000",
            "sub.registry.io",
            "registry.iox",
            "xregistry.io",
        ] {
            assert!(served(hostile, &entries).is_empty(), "{hostile}");
        }
        let entries = [entry("registry.io.evil.com", "evil")];
        assert!(served("registry.io", &entries).is_empty());
    }

    #[test]
    fn ports_must_agree() {
        let entries = [entry("r.io:5000", "p"), entry("r.io", "n")];
        assert_eq!(served("r.io:5000", &entries), pairs(&[("r.io:5000", "p")]));
        assert_eq!(served("r.io", &entries), pairs(&[("r.io", "n")]));
        assert!(served("r.io:443", &entries).is_empty());
    }

    #[test]
    fn docker_hub_aliases_serve_docker_io() {
        for key in [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "https://docker.io",
            "registry-1.docker.io",
            "https://registry-1.docker.io/v2/",
        ] {
            let entries = [entry(key, "hub")];
            assert_eq!(
                served("docker.io", &entries),
                pairs(&[("docker.io", "hub")]),
                "{key}"
            );
            assert!(served("docker.io.evil.com", &entries).is_empty(), "{key}");
            assert!(served("quay.io", &entries).is_empty(), "{key}");
        }
    }

    #[test]
    fn docker_hub_preference_follows_the_kubelet() {
        let entries = [
            entry("https://index.docker.io/v1/", "index"),
            entry("registry-1.docker.io", "r1"),
            entry("docker.io", "direct"),
        ];
        let s = select("docker.io", &entries);
        assert_eq!(s.served["docker.io"].from.entry.username, "direct");
        let losers: Vec<_> = s.shadowed.iter().map(|(e, _)| e.key.as_str()).collect();
        assert_eq!(
            losers,
            ["https://index.docker.io/v1/", "registry-1.docker.io"]
        );

        let s = select("docker.io", &entries[..2]);
        assert_eq!(s.served["docker.io"].from.entry.username, "index");
    }

    #[test]
    fn globs_follow_url_match_rules() {
        let entries = [entry("*.r.io", "glob"), entry("a.r.io", "exact")];
        assert_eq!(served("a.r.io", &entries), pairs(&[("a.r.io", "exact")]));
        assert_eq!(served("b.r.io", &entries), pairs(&[("b.r.io", "glob")]));
        assert!(served("r.io", &entries).is_empty());
        assert!(served("x.a.r.io", &entries).is_empty());
    }

    #[test]
    fn paths_stay_scoped() {
        let entries = [
            entry("r.io/team-a", "a"),
            entry("r.io", "all"),
            entry("https://r.io/v1/team-b", "b"),
        ];
        assert_eq!(
            served("r.io", &entries),
            pairs(&[("r.io", "all"), ("r.io/team-a", "a"), ("r.io/team-b", "b")])
        );
    }

    #[test]
    fn empty_and_unparsable_entries_are_reported_not_served() {
        let mut empty = entry("r.io", "");
        empty.entry.password = Secret::new("");
        let entries = [empty, entry("r.io:bad", "x")];
        let s = select("r.io", &entries);
        assert!(s.served.is_empty());
        assert_eq!(s.empty.len(), 1);
        assert_eq!(s.unparsable.len(), 1);
    }

    /// File keys and images around one registry family, with the traps: globs, ports,
    /// paths, Docker Hub forms and a host that contains another's name.
    const KEYS: [&str; 16] = [
        "r.io",
        "*.r.io",
        "a.r.io",
        "r.io:5000",
        "r.io/team",
        "a.r.io/team",
        "*.r.io/team",
        "https://r.io/v1/",
        "http://a.r.io/v2/team",
        "index.docker.io",
        "https://index.docker.io/v1/",
        "docker.io",
        "r.io.evil.com",
        "*.io",
        "a.r.io:5000/team",
        "r.io/team-a",
    ];
    const IMAGES: [&str; 11] = [
        "r.io/team/app",
        "r.io/app",
        "a.r.io/x",
        "a.r.io/team/x",
        "r.io:5000/x",
        "docker.io/library/nginx",
        "b.r.io/team",
        "r.io.evil.com/x",
        "a.r.io:5000/team/y",
        "x.io/y",
        "r.io/team-a/z",
    ];

    fn creds(found: Vec<kcred_match::TrackedAuthConfig>) -> Vec<String> {
        found.into_iter().map(|c| c.username).collect()
    }

    /// The kubelet's keyring over the whole file, looked up with `image`.
    fn kubelet_direct(entries: &[FileEntry], image: &str) -> Vec<String> {
        let cfg: kcred_match::DockerConfig = entries
            .iter()
            .map(|e| (e.key.clone(), e.entry.clone()))
            .collect();
        let mut keyring = kcred_match::DockerKeyring::new();
        keyring.add(None, &cfg);
        creds(keyring.lookup(image))
    }

    /// The kubelet's keyring over this provider's answer for `image`.
    fn kubelet_via_provider(entries: &[FileEntry], image: &str) -> Vec<String> {
        let registry = kcred_match::ImageRef::parse(image)
            .unwrap()
            .registry()
            .to_owned();
        let cfg: kcred_match::DockerConfig = select(&registry, entries)
            .served
            .into_values()
            .map(|s| (s.auth_key, s.from.entry.clone()))
            .collect();
        let mut keyring = kcred_match::DockerKeyring::new();
        assert!(keyring.add(None, &cfg).is_empty());
        creds(keyring.lookup(image))
    }

    proptest::proptest! {
        /// Against the kubelet reading the file itself: never a credential it would not use
        /// for that image, never nothing when it has something, and the same first choice
        /// unless a glob host and a path-scoped key compete (then both are still offered).
        #[test]
        fn agrees_with_the_kubelet_keyring(
            picks in proptest::sample::subsequence(KEYS.to_vec(), 0..=KEYS.len()),
            image in proptest::sample::select(IMAGES.to_vec()),
        ) {
            let entries: Vec<FileEntry> = picks.iter().map(|k| entry(k, k)).collect();
            let direct = kubelet_direct(&entries, image);
            let via = kubelet_via_provider(&entries, image);
            for c in &via {
                proptest::prop_assert!(direct.contains(c), "{} got {:?}, kubelet {:?}", image, via, direct);
            }
            proptest::prop_assert_eq!(via.is_empty(), direct.is_empty(), "{} got {:?}, kubelet {:?}", image, via, direct);
            let glob_and_path = picks.iter().any(|k| k.contains('*'))
                && picks.iter().any(|k| NormalizedKey::parse(k).is_some_and(|n| !n.path.is_empty()));
            if !glob_and_path {
                proptest::prop_assert_eq!(via.first(), direct.first(), "{} got {:?}, kubelet {:?}", image, via, direct);
            }
        }
    }
}
