//! Property tests: the parsers never panic (or hang) on any input, and a host kcred calls ACR
//! is always a whole `<name>[.<region>.geo].<suffix>` host.

use kcred_acr::{
    decode_request, parse_args, parse_auth_params, parse_azure_config, parse_challenge,
    parse_login_server, AcrSuffixes, RegistryMirrors, BUILTIN_ACR_SUFFIXES,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn auth_params_never_panic(s in ".{0,80}", t in r#"[a-z =",\\\t]{0,40}"#) {
        let _ = parse_auth_params(&s);
        if let Ok(p) = parse_auth_params(&t) {
            prop_assert!(p.keys().all(|k| !k.is_empty()));
        }
        let _ = parse_challenge(401, &[format!("Bearer {t}")]);
        let _ = parse_challenge(401, std::slice::from_ref(&s));
    }

    #[test]
    fn login_server_parsing_is_strict(image in r"[a-zA-Z0-9._:@/-]{0,60}", mirrors in r"[a-z.:,/ ]{0,40}") {
        let (m, _) = RegistryMirrors::parse(&mirrors);
        let suffixes = AcrSuffixes::new("azurecr.io");
        if let Some(hit) = parse_login_server(&image, &m, &suffixes) {
            let t = hit.target.as_str();
            prop_assert!(!t.contains('/') && !t.contains(':') && !t.contains('@'), "{}", t);
            prop_assert!(BUILTIN_ACR_SUFFIXES.iter().any(|s| t.ends_with(&format!(".{s}"))), "{}", t);
            if hit.source.is_none() {
                prop_assert!(image == t || image.starts_with(&format!("{t}/")), "{} {}", image, t);
            }
        }
    }

    #[test]
    fn other_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), args in proptest::collection::vec("[-a-z=:.]{0,12}", 0..5)) {
        let _ = parse_azure_config(&bytes);
        let _ = decode_request(&bytes);
        let _ = parse_args(&args);
    }
}
