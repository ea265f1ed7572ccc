//! ECR: the request on stdin, the registry an image names (private ECR, ECR Public, regions,
//! FIPS and dual-stack hosts) and `GetAuthorizationToken`'s token (base64 `user:password`).
#![no_main]

use kcred_api::Secret;
use kcred_ecr::registry::{PrivateRegistry, Registry};
use kcred_ecr::request::decode_request;
use kcred_ecr::token::decode_authorization_token;
use kcred_fuzz::assert_no_secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match decode_request(data) {
        Err(e) => assert_no_secret(data, "ECR request error", &e.to_string()),
        Ok(r) => {
            if let Ok(reg) = Registry::from_image(&r.image) {
                let _ = (reg.auth_key(), reg.api(), reg.region());
            }
        }
    }
    let text = String::from_utf8_lossy(data);
    match Registry::from_image(&text) {
        Ok(reg) => {
            let _ = (reg.auth_key(), reg.api().action(), reg.region(), reg.private());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Some(p) = PrivateRegistry::parse(&text) {
        let _ = p.dualstack_domain();
    }
    let token = Secret::new(text.into_owned());
    match decode_authorization_token(&token) {
        Ok(c) => {
            let _ = format!("{c:?}");
        }
        Err(e) => {
            let message = e.to_string();
            assert!(token.expose().len() < 6 || !message.contains(token.expose()));
        }
    }
});
