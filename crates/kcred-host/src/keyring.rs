//! The external providers keyring (kubernetes/kubernetes
//! `pkg/credentialprovider/plugin/plugin.go`, `externalCredentialProviderKeyring`): every provider's config added, in config order, to
//! one fresh `BasicDockerKeyring`, with the service-account coordinates as the source.
//!
//! Each outcome is added exactly once, in order, failed and unmatched providers included
//! (their configs are empty), so a credential's
//! [`config_index`](kcred_match::keyring::TrackedAuthConfig::config_index) is the index of
//! the outcome, and so of the provider, it came from.

use kcred_match::keyring::DockerKeyring;

use crate::provider::ProvideOutcome;

/// Builds the keyring `externalCredentialProviderKeyring.Lookup` searches: one fresh
/// keyring, each outcome's config added in order (so under an identical key, earlier
/// providers' credentials come first), one `add` per outcome (so `config_index` is the
/// outcome's index).
pub fn external_keyring(outcomes: &[ProvideOutcome]) -> DockerKeyring {
    external_keyring_as(outcomes, kcred_match::GoUrlParsing::default())
}

/// [`external_keyring`] parsing keys and the image with the Go URL rules of the kubelet
/// emulated.
pub fn external_keyring_as(
    outcomes: &[ProvideOutcome],
    url_parsing: kcred_match::GoUrlParsing,
) -> DockerKeyring {
    let mut keyring = DockerKeyring::with_url_parsing(url_parsing);
    for outcome in outcomes {
        // Locations Go's url.Parse rejects are skipped, as the kubelet does (it only logs them).
        let _skipped = keyring.add(outcome.service_account().cloned(), outcome.docker_config());
    }
    keyring
}
