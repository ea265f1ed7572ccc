//! GCP (`auth-provider-gcp`): the request on stdin, and the metadata server / STS token
//! response. Errors never show the token.
#![no_main]

use kcred_fuzz::assert_no_secret;
use kcred_gcp::{decode_request, parse_token_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match decode_request(data) {
        Err(e) => assert_no_secret(data, "GCP request error", &e.to_string()),
        Ok(r) => {
            let _ = r.response_version();
            assert_no_secret(data, "GCP request Debug", &format!("{r:?}"));
        }
    }
    match parse_token_response(data) {
        Err(e) => assert_no_secret(data, "GCP token response error", &e.to_string()),
        Ok(t) => assert_no_secret(data, "GCP token Debug", &format!("{t:?}")),
    }
});
