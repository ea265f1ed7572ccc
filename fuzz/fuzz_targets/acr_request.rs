//! ACR: the request on the plugin's stdin, and which login server an image names (with a
//! registry mirror flag: input `request NUL mirrors`).
#![no_main]

use kcred_acr::{decode_request, parse_login_server, AcrSuffixes, RegistryMirrors};
use kcred_fuzz::{assert_no_secret, split_pair};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let request = &data[..split];
    let (_, mirrors) = split_pair(data);
    let (mirrors, _warnings) = RegistryMirrors::parse(&mirrors);
    match decode_request(request) {
        Err(e) => assert_no_secret(request, "ACR request error", &e.to_string()),
        Ok(r) => {
            for suffixes in [AcrSuffixes::new(""), AcrSuffixes::new("azurecr.cn")] {
                let _ = parse_login_server(&r.image, &mirrors, &suffixes);
            }
        }
    }
    let image = String::from_utf8_lossy(request);
    let _ = parse_login_server(&image, &mirrors, &AcrSuffixes::new(""));
});
