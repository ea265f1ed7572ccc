//! `kcred oidc check --token FILE`: compact JWS parsing (kcred-oidc). Never panics; errors
//! name the input and never quote the signature part; Debug redacts the signature.
#![no_main]

use kcred_oidc::Jwt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Jwt::parse("token", text) {
        Ok(jwt) => {
            let sig = text.trim().rsplit('.').next().unwrap_or("");
            let debug = format!("{jwt:?}");
            if sig.len() > 8 {
                assert!(!debug.contains(sig), "Debug shows the signature");
            }
            let _ = jwt.audiences();
            let _ = jwt.claim_time("exp");
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("token: not a JWT: "), "{msg}");
            let sig = text.trim().rsplit('.').next().unwrap_or("");
            if sig.len() > 16 && text.matches('.').count() == 2 {
                assert!(!msg.contains(sig), "the error quotes the signature");
            }
        }
    }
});
