//! Property tests: validation, lint and loading never panic, whatever the input.

use std::path::PathBuf;

use kcred_api::config::{CredentialProvider, ExecEnvVar, ServiceAccountTokenAttributes};
use kcred_api::GoDuration;
use kcred_config::{lint, load_files, validate, FeatureGates};
use proptest::prelude::*;

/// Strings biased towards the characters the rules care about.
fn field_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        "[a-zA-Z0-9./:*?\\[\\]%@ _-]{0,24}",
        Just(String::new()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("credentialprovider.kubelet.k8s.io/v1".to_owned()),
    ]
}

fn token_attributes() -> impl Strategy<Value = ServiceAccountTokenAttributes> {
    (
        field_text(),
        prop_oneof![
            Just("Token".to_owned()),
            Just("ServiceAccount".to_owned()),
            field_text()
        ],
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(field_text(), 0..4),
        proptest::collection::vec(field_text(), 0..4),
    )
        .prop_map(|(aud, cache_type, require, required, optional)| {
            ServiceAccountTokenAttributes {
                service_account_token_audience: aud,
                cache_type,
                require_service_account: require,
                required_service_account_annotation_keys: required,
                optional_service_account_annotation_keys: optional,
            }
        })
}

fn provider() -> impl Strategy<Value = CredentialProvider> {
    (
        field_text(),
        proptest::collection::vec(field_text(), 0..5),
        proptest::option::of(any::<i64>()),
        field_text(),
        proptest::collection::vec(field_text(), 0..3),
        proptest::collection::vec((field_text(), field_text()), 0..3),
        proptest::option::of(token_attributes()),
    )
        .prop_map(
            |(name, match_images, dur, api_version, args, env, token_attributes)| {
                CredentialProvider {
                    name,
                    match_images,
                    default_cache_duration: dur.map(GoDuration),
                    api_version,
                    args,
                    env: env
                        .into_iter()
                        .map(|(name, value)| ExecEnvVar { name, value })
                        .collect(),
                    token_attributes,
                }
            },
        )
}

proptest! {
    #[test]
    fn validate_and_lint_never_panic(
        providers in proptest::collection::vec(provider(), 0..4),
        gate in any::<bool>(),
    ) {
        let gates = FeatureGates { service_account_token_for_credential_providers: gate };
        match validate(&providers, gates) {
            Ok(()) => prop_assert!(!providers.is_empty()),
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.is_empty());
                prop_assert!(!e.errors().is_empty());
                // Several errors are bracketed, one is bare.
                prop_assert_eq!(msg.starts_with('['), e.errors().len() > 1);
            }
        }
        for l in lint(&providers) {
            prop_assert!(providers.iter().any(|p| p.name == l.provider));
            prop_assert!(!l.to_string().is_empty());
        }
    }

    #[test]
    fn loading_arbitrary_bytes_never_panics(
        files in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..3),
    ) {
        let named = files
            .into_iter()
            .enumerate()
            .map(|(i, b)| (PathBuf::from(format!("{i}.yaml")), b))
            .collect();
        let _ = load_files(named);
    }

    #[test]
    fn loading_config_shaped_text_never_panics(
        name in field_text(),
        image in field_text(),
        dur in field_text(),
        version in field_text(),
    ) {
        let doc = format!(
            "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n  - name: {name:?}\n    matchImages: [{image:?}]\n    defaultCacheDuration: {dur:?}\n    apiVersion: {version:?}\n"
        );
        if let Ok(loaded) = load_files(vec![(PathBuf::from("c.yaml"), doc.into_bytes())]) {
            let _ = validate(&loaded.providers, FeatureGates::default());
            let _ = lint(&loaded.providers);
        }
    }
}
