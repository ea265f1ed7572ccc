//! The external providers keyring (§6): every provider's config added, in config order, to
//! one fresh `BasicDockerKeyring`, with the service-account coordinates as the source.

use kcred_match::keyring::DockerKeyring;

use crate::provider::ProvideOutcome;

/// Builds the keyring `externalCredentialProviderKeyring.Lookup` searches: one fresh
/// keyring, each outcome's config added in order (so under an identical key, earlier
/// providers' credentials come first).
pub fn external_keyring(outcomes: &[ProvideOutcome]) -> DockerKeyring {
    let mut keyring = DockerKeyring::new();
    for outcome in outcomes {
        // Locations Go's url.Parse rejects are skipped, as the kubelet does (it only logs them).
        let _skipped = keyring.add(outcome.service_account.clone(), &outcome.docker_config);
    }
    keyring
}
