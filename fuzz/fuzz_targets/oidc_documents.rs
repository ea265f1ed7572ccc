//! What `kcred oidc check` and the verifying cloud stubs read from a live issuer: a JWKS and
//! a discovery document (kcred-oidc). Never panics; a usable key round-trips through its JWK.
#![no_main]

use kcred_oidc::verify::{check_documents, parse_jwks, IssuerView};
use kcred_oidc::PublicKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = parse_jwks(data) {
        for e in &entries {
            if let Ok(key) = &e.key {
                let jwk: serde_json::Value = serde_json::from_str(&key.jwk_json()).expect("JSON");
                assert_eq!(PublicKey::from_jwk(&jwk).as_ref(), Ok(key));
            }
        }
        let config = serde_json::from_slice(data).unwrap_or(serde_json::Value::Null);
        let view = IssuerView { issuer: "https://issuer.example".to_owned(), config, keys: entries };
        let _ = check_documents(&view).render_verdicts(&kcred_oidc::Cloud::ALL);
    }
});
