//! docker-credential-provider: a docker credential helper's `get` answer on its stdout
//! (JSON with `Username`/`Secret`, decoded as Go's client does) and its "not found" message.
//!
//! `protocol.rs` is kcred-helper-provider's own source file, compiled here without the binary
//! around it (the crate has no library); it only uses kcred-api, serde_json and thiserror.
#![no_main]

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/kcred-helper-provider/src/protocol.rs"]
mod protocol;

use kcred_fuzz::assert_no_secret;
use libfuzzer_sys::fuzz_target;
use protocol::{is_not_found_message, parse_get_answer, server_url_for_registry};

fuzz_target!(|data: &[u8]| {
    let _ = is_not_found_message(data);
    let _ = server_url_for_registry(&String::from_utf8_lossy(data));
    match parse_get_answer(data) {
        Ok(creds) => {
            // Debug must redact the secret (unless the username, which is shown, holds it).
            let secret = creds.secret.expose();
            let shown = format!("{creds:?}");
            assert!(
                secret.len() < 6 || creds.username.contains(secret) || !shown.contains(secret),
                "helper credentials Debug shows the secret: {shown}"
            );
        }
        Err(e) => assert_no_secret(data, "helper answer error", &e.to_string()),
    }
});
