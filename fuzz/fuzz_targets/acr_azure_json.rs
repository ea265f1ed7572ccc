//! ACR: the cloud config file (`azure.json`, JSON or YAML). Errors and `Debug` never show
//! `aadClientSecret` or the certificate password.
#![no_main]

use kcred_acr::parse_azure_config;
use kcred_fuzz::assert_no_secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| match parse_azure_config(data) {
    Err(e) => {
        assert_no_secret(data, "azure.json error", &e.to_string());
        assert_no_secret(data, "azure.json error (Debug)", &format!("{e:?}"));
    }
    Ok(cfg) => assert_no_secret(data, "azure.json Debug", &format!("{cfg:?}")),
});
