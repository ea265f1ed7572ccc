//! CredentialProviderRequest as a plugin reads it from stdin (all three versions, strict).
//! Round trip: encode then decode gives the same request. Errors never show the token.
#![no_main]

use kcred_api::request::CredentialProviderRequest;
use kcred_fuzz::assert_no_secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match CredentialProviderRequest::decode(data) {
        Err(e) => {
            assert_no_secret(data, "request decode error", &e.to_string());
            assert_no_secret(data, "request decode error (Debug)", &format!("{e:?}"));
        }
        Ok(request) => {
            assert_no_secret(data, "request Debug", &format!("{request:?}"));
            let encoded = request.encode();
            let again = CredentialProviderRequest::decode(&encoded).expect("encoded request decodes");
            assert_eq!(again, request, "request round trip");
        }
    }
});
