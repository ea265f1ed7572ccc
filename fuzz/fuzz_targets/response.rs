//! CredentialProviderResponse as the host reads it from a plugin's stdout, for each of the
//! three expected versions (first byte picks it). Round trip: encode then decode gives the
//! same response. Errors, their detail and `Debug` never show a password.
#![no_main]

use kcred_api::response::CredentialProviderResponse;
use kcred_api::ApiVersion;
use kcred_fuzz::assert_no_secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, stdout)) = data.split_first() else {
        return;
    };
    let version = match pick % 3 {
        0 => ApiVersion::V1,
        1 => ApiVersion::V1Beta1,
        _ => ApiVersion::V1Alpha1,
    };
    match CredentialProviderResponse::decode(stdout, version) {
        Err(e) => {
            assert_no_secret(stdout, "response decode error", &e.to_string());
            if let Some(detail) = e.detail() {
                assert_no_secret(stdout, "response decode detail", &detail);
            }
        }
        Ok(response) => {
            assert_no_secret(stdout, "response Debug", &format!("{response:?}"));
            let encoded = response.encode();
            let again =
                CredentialProviderResponse::decode(&encoded, version).expect("encoded response decodes");
            assert_eq!(again, response, "response round trip");
        }
    }
});
