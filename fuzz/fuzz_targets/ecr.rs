//! ECR: the request on stdin, the registry an image names (private ECR, ECR Public, regions,
//! FIPS and dual-stack hosts) and `GetAuthorizationToken`'s token (base64 `user:password`).
//!
//! The three modules are kcred-ecr's own source files, compiled here without the rest of the
//! crate (which needs the AWS SDK); they only use kcred-api, kcred-match and base64.
#![no_main]

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/kcred-ecr/src/registry.rs"]
mod registry;
#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/kcred-ecr/src/request.rs"]
mod request;
#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/kcred-ecr/src/token.rs"]
mod token;

use kcred_api::Secret;
use kcred_fuzz::assert_no_secret;
use libfuzzer_sys::fuzz_target;
use registry::{PrivateRegistry, Registry};
use request::decode_request;
use token::decode_authorization_token;

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
            let _ = (
                reg.auth_key(),
                reg.api().action(),
                reg.region(),
                reg.private(),
            );
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
            // The messages are fixed texts plus a byte offset: a token that is itself a piece
            // of those texts (letters, digits, spaces) proves nothing; any other token must
            // never appear in the message.
            let plain_text = token
                .expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b' ');
            assert!(
                token.expose().len() < 6 || plain_text || !message.contains(token.expose())
            );
        }
    }
});
