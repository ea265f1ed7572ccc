//! ACR: the `/v2/` challenge (`Www-Authenticate` values, one per line; first byte picks the
//! status) and RFC 7235 auth-params.
#![no_main]

use kcred_acr::{parse_auth_params, parse_challenge};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let status = if pick % 8 == 0 { 200 } else { 401 };
    let headers: Vec<String> = text.split('\n').map(str::to_owned).collect();
    match parse_challenge(status, &headers) {
        Ok(c) => assert!(!c.realm.is_empty() && !c.service.is_empty()),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = parse_challenge(401, &headers[..1]);
    if let Err(e) = parse_auth_params(&text) {
        let _ = e.to_string();
    }
});
