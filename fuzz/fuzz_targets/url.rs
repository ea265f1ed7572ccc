//! Go URL parsing: `ParseSchemelessURL` (matchImages and images) and `url.Parse` +
//! `Hostname()` (the ECR plugin).
#![no_main]

use kcred_match::gourl::{parse_schemeless_url, split_url, url_hostname};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    match parse_schemeless_url(&s) {
        Ok(url) => {
            let _ = (url.host(), url.path());
            let _ = split_url(&url);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Err(e) = url_hostname(&s) {
        let _ = e.to_string();
    }
});
