//! Docker config files (`config.json` and legacy `.dockercfg`), `auth` fields, and the
//! keyring built from them: file the entries and look an image up (input is
//! `config NUL image`). Errors never show a password or an `auth` field.
#![no_main]

use kcred_fuzz::{assert_no_secret, split_pair};
use kcred_match::keyring::{decode_auth_field, parse_config_json, parse_dockercfg, DockerKeyring};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let config = &data[..split];
    let (_, image) = split_pair(data);
    for parsed in [parse_config_json(config), parse_dockercfg(config)] {
        match parsed {
            Err(e) => {
                assert_no_secret(config, "docker config error", &e.to_string());
                assert_no_secret(config, "docker config error (Debug)", &format!("{e:?}"));
            }
            Ok(cfg) => {
                assert_no_secret(config, "docker config Debug", &format!("{cfg:?}"));
                let mut keyring = DockerKeyring::new();
                for skipped in keyring.add(None, &cfg) {
                    let _ = skipped.error.to_string();
                }
                let _ = keyring.lookup(&image);
                let _ = keyring.keys().count();
            }
        }
    }
    let field = String::from_utf8_lossy(config);
    if let Err(e) = decode_auth_field(&field) {
        let message = e.to_string();
        // A field made only of the error text's own words (letters, digits, spaces) proves
        // nothing; any other field must never appear in the message.
        let plain_text = field.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
        assert!(
            field.len() < 6 || plain_text || !message.contains(&*field),
            "auth field error shows the field: {message}"
        );
    }
});
