//! `kcred oidc discovery --key FILE`: PEM public keys (kcred-oidc). Every key parsed
//! re-encodes to PEM and JWK that parse back to the same key with the same kid; a private key
//! block is refused and no error quotes the input's base64.
#![no_main]

use kcred_oidc::{parse_public_keys_pem, PublicKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_public_keys_pem("fuzz.pem", data) {
        Ok(keys) => {
            assert!(!keys.is_empty());
            for key in keys {
                let again = parse_public_keys_pem("again.pem", key.to_pem().as_bytes())
                    .expect("kcred's own PEM parses");
                assert_eq!(again, vec![key.clone()]);
                let jwk: serde_json::Value =
                    serde_json::from_str(&key.jwk_json()).expect("JWK is JSON");
                assert_eq!(PublicKey::from_jwk(&jwk).as_ref(), Ok(&key));
                assert_eq!(jwk["kid"].as_str(), Some(key.key_id().as_str()));
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("fuzz.pem"), "errors name the input: {msg}");
        }
    }
});
