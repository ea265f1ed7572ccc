//! CredentialProviderConfig files: decode (JSON or YAML, strict), merge as a config
//! directory, validate with both gate settings, lint. Round trip: a valid config encoded as
//! v1 decodes to the same providers.
#![no_main]

use kcred_api::config::decode_config;
use kcred_config::{lint, load_files, validate, FeatureGates};
use kcred_fuzz::assert_no_secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = decode_config(data);
    if let Err(e) = &decoded {
        assert_no_secret(data, "config decode error", &e.to_string());
    }
    // The same bytes as two files of a config directory (split at the first form feed).
    let (a, b) = match data.iter().position(|&c| c == 0x0c) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let merged = load_files(vec![
        ("10-a.yaml".into(), a.to_vec()),
        ("20-b.json".into(), b.to_vec()),
    ]);
    if let Err(e) = &merged {
        assert_no_secret(data, "config load error", &e.to_string());
    }
    let Ok(config) = decoded else { return };
    for gate in [true, false] {
        let gates = FeatureGates {
            service_account_token_for_credential_providers: gate,
        };
        if let Err(e) = validate(&config.providers, gates) {
            let _ = e.to_string();
        }
    }
    for l in lint(&config.providers) {
        let _ = l.to_string();
    }
    if validate(&config.providers, FeatureGates::default()).is_ok() {
        let encoded = config.encode_v1();
        let again = decode_config(&encoded).expect("encoded config decodes");
        assert_eq!(again.providers, config.providers, "v1 round trip");
    }
});
