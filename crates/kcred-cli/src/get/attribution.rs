//! Which provider and which `auth` key each credential of a lookup came from.
//!
//! [`CredentialsReport::credentials`] is the keyring's answer, in the order the kubelet tries
//! it, but without origins. The keyring's rules are public (kubelet-host.md §6): every
//! `auth` key is normalised, the keys that match the image contribute, in reverse byte order
//! of the key and, under one key, in provider order; Docker Hub images fall back to
//! `index.docker.io` when nothing matched. Replaying them over the per-provider answers gives
//! the origins; the replay is used only when it reproduces the report exactly, otherwise the
//! credentials are shown without origins.

use kcred_host::{CredentialsReport, ProvideOutcome};
use kcred_match::keyring::{
    is_default_registry_match, normalize_key, DockerConfigEntry, TrackedAuthConfig,
};
use kcred_match::pattern::{MatchImage, MatchTarget};

/// The normalised key of Docker Hub credentials (`https://index.docker.io/v1/`).
const DOCKER_HUB_KEY: &str = "index.docker.io";

/// Where one credential came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The provider that returned it.
    pub provider: &'a str,
    /// The `auth` key as the plugin returned it.
    pub key: &'a str,
    /// True when it applies only through the Docker Hub fallback.
    pub docker_hub_fallback: bool,
}

/// One credential the kubelet would try.
#[derive(Debug, Clone)]
pub struct AttributedCredential<'a> {
    /// The credential as the keyring returned it.
    pub credential: &'a TrackedAuthConfig,
    /// Where it came from, when the replay reproduced the report.
    pub origin: Option<Origin<'a>>,
}

/// One `auth` entry considered by the replay.
struct Candidate<'a> {
    normalised_key: String,
    origin: Origin<'a>,
    entry: &'a DockerConfigEntry,
    outcome: &'a ProvideOutcome,
}

/// The report's credentials, in order, each with its origin when it can be worked out.
pub fn attribute(report: &CredentialsReport) -> Vec<AttributedCredential<'_>> {
    let origins = replay(report);
    let reproduced = origins.len() == report.credentials.len()
        && origins
            .iter()
            .zip(&report.credentials)
            .all(|(c, found)| same_credential(c, found));
    report
        .credentials
        .iter()
        .enumerate()
        .map(|(i, credential)| AttributedCredential {
            credential,
            origin: if reproduced {
                origins.get(i).map(|c| c.origin.clone())
            } else {
                None
            },
        })
        .collect()
}

fn same_credential(c: &Candidate<'_>, found: &TrackedAuthConfig) -> bool {
    c.entry.username == found.username
        && c.entry.password == found.password
        && c.entry.email == found.email
        && c.outcome.service_account == found.source
}

/// The keyring lookup replayed with origins kept.
fn replay(report: &CredentialsReport) -> Vec<Candidate<'_>> {
    let Ok(target) = MatchTarget::parse(&report.image) else {
        return Vec::new();
    };
    let mut candidates = Vec::new();
    for outcome in &report.outcomes {
        for (location, entry) in outcome.docker_config.iter() {
            // Locations Go's url.Parse rejects are skipped by the keyring too.
            let Ok(normalised_key) = normalize_key(location) else {
                continue;
            };
            candidates.push(Candidate {
                normalised_key,
                origin: Origin {
                    provider: &outcome.provider,
                    key: location,
                    docker_hub_fallback: false,
                },
                entry,
                outcome,
            });
        }
    }
    let matches = |c: &Candidate<'_>| {
        MatchImage::parse(&c.normalised_key).is_ok_and(|pattern| pattern.matches(&target))
    };
    let mut selected: Vec<Candidate<'_>> = if candidates.iter().any(matches) {
        candidates.into_iter().filter(matches).collect()
    } else if is_default_registry_match(&report.image) {
        candidates
            .into_iter()
            .filter(|c| c.normalised_key == DOCKER_HUB_KEY)
            .map(|mut c| {
                c.origin.docker_hub_fallback = true;
                c
            })
            .collect()
    } else {
        Vec::new()
    };
    // Reverse byte order of the key; stable, so provider order is kept under one key.
    selected.sort_by(|a, b| b.normalised_key.as_bytes().cmp(a.normalised_key.as_bytes()));
    selected
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kcred_api::Secret;
    use kcred_host::trace::ProvideTrace;
    use kcred_match::keyring::{DockerConfig, DockerKeyring};

    use super::*;

    fn outcome(provider: &str, entries: &[(&str, &str, &str)]) -> ProvideOutcome {
        let config: DockerConfig = entries
            .iter()
            .map(|(key, user, pass)| {
                (
                    (*key).to_owned(),
                    DockerConfigEntry {
                        username: (*user).to_owned(),
                        password: Secret::new(*pass),
                        ..Default::default()
                    },
                )
            })
            .collect();
        ProvideOutcome {
            provider: provider.to_owned(),
            docker_config: Arc::new(config),
            service_account: None,
            error: None,
            trace: ProvideTrace::new("img"),
        }
    }

    /// The report the host builds: every outcome added to one keyring, then looked up.
    fn report(image: &str, outcomes: Vec<ProvideOutcome>) -> CredentialsReport {
        let mut keyring = DockerKeyring::new();
        for o in &outcomes {
            keyring.add(o.service_account.clone(), &o.docker_config);
        }
        CredentialsReport {
            image: image.to_owned(),
            credentials: keyring.lookup(image),
            outcomes,
        }
    }

    fn origins(report: &CredentialsReport) -> Vec<(String, String, String)> {
        attribute(report)
            .into_iter()
            .map(|a| {
                let o = a.origin.expect("attributed");
                (
                    o.provider.to_owned(),
                    o.key.to_owned(),
                    a.credential.username.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn longer_keys_first_then_provider_order() {
        let r = report(
            "r.io/team/app",
            vec![
                outcome(
                    "a",
                    &[("r.io", "a-host", "p"), ("r.io/team", "a-team", "p")],
                ),
                outcome(
                    "b",
                    &[("https://r.io/v2/", "b-host", "p"), ("q.io", "b-q", "p")],
                ),
            ],
        );
        assert_eq!(
            origins(&r),
            vec![
                ("a".into(), "r.io/team".into(), "a-team".into()),
                ("a".into(), "r.io".into(), "a-host".into()),
                ("b".into(), "https://r.io/v2/".into(), "b-host".into()),
            ]
        );
    }

    #[test]
    fn docker_hub_fallback_is_marked() {
        let r = report(
            "docker.io/library/nginx",
            vec![outcome("hub", &[("https://index.docker.io/v1/", "u", "p")])],
        );
        let attributed = attribute(&r);
        assert_eq!(attributed.len(), 1);
        let origin = attributed[0].origin.clone().expect("attributed");
        assert!(origin.docker_hub_fallback);
        assert_eq!(origin.key, "https://index.docker.io/v1/");
    }

    #[test]
    fn no_origin_when_the_replay_disagrees() {
        let mut r = report("r.io/app", vec![outcome("a", &[("r.io", "u", "p")])]);
        // A report the replay cannot reproduce (e.g. a future keyring rule).
        r.credentials[0].username = "someone-else".to_owned();
        let attributed = attribute(&r);
        assert_eq!(attributed.len(), 1);
        assert!(attributed[0].origin.is_none());
    }
}
