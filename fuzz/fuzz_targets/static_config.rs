//! static-credential-provider: its docker `config.json` (or `.dockercfg`) file, decoded with
//! the provider's own first pass (which names the entry and rule in errors) and then
//! kcred-match's docker config parser.
//!
//! `dockerconfig.rs` is kcred-static-provider's own source file, compiled here without the
//! binary around it (the crate has no library).
#![no_main]

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/kcred-static-provider/src/dockerconfig.rs"]
mod dockerconfig;

use kcred_fuzz::assert_no_secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match dockerconfig::parse(data) {
        Ok(file) => assert_no_secret(data, "static config Debug", &format!("{file:?}")),
        // ParseError has no Display of its own: its fields are what the error line shows.
        Err(e) => assert_no_secret(data, "static config error", &format!("{e:?}")),
    }
});
