//! Property tests for the parsers: no panic and no hang on any input, and the private host
//! pattern recovers the parts a host was built from.

use kcred_api::Secret;
use kcred_ecr::{decode_authorization_token, PrivateRegistry, Registry, RegistryKind};
use kcred_match::gourl::url_hostname as hostname;
use proptest::prelude::*;

const SUFFIXES: [&str; 9] = [
    "amazonaws.com",
    "amazonaws.com.cn",
    "amazonaws.eu",
    "on.aws",
    "on.amazonwebservices.com.cn",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
];

proptest! {
    #[test]
    fn any_image_parses_or_fails_cleanly(image in "\\PC{0,80}") {
        match Registry::from_image(&image) {
            Ok(r) => prop_assert!(!r.host.contains('/')),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn url_like_inputs_never_panic(s in "[a-z:/@\\[\\]%#?0-9. A-F\u{0}-\u{1f}é]{0,40}") {
        let _ = hostname(&s);
        let _ = hostname(&format!("https://{s}"));
    }

    #[test]
    fn private_hosts_round_trip(
        account in "[0-9]{12}",
        dash in any::<bool>(),
        fips in any::<bool>(),
        region in "[a-z][a-z0-9_-]{0,20}",
        suffix in 0usize..SUFFIXES.len(),
        port in proptest::option::of(1u16..),
        path in "(/[a-z0-9]{1,8}){0,3}",
    ) {
        let sep = if dash { "-" } else { "." };
        let fips_part = if fips { "-fips" } else { "" };
        let host = format!("{account}.dkr{sep}ecr{fips_part}.{region}.{}", SUFFIXES[suffix]);
        let image = match port {
            Some(p) => format!("{host}:{p}{path}"),
            None => format!("{host}{path}"),
        };
        let registry = Registry::from_image(&image).unwrap();
        prop_assert_eq!(&registry.host, &host);
        let RegistryKind::Private(p) = registry.kind else {
            return Err(TestCaseError::fail(format!("{host} not private")));
        };
        prop_assert_eq!(p, PrivateRegistry {
            registry_id: account,
            region,
            fips,
            dualstack_form: dash,
            suffix: SUFFIXES[suffix].to_owned(),
        });
    }

    #[test]
    fn non_ascii_digits_never_make_an_account(
        digits in proptest::collection::vec(prop_oneof![Just('٣'), Just('۵'), Just('５'), Just('7')], 12),
    ) {
        let account: String = digits.iter().collect();
        let host = format!("{account}.dkr.ecr.us-west-2.amazonaws.com");
        let parsed = PrivateRegistry::parse(&host);
        prop_assert_eq!(parsed.is_some(), account.chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn tokens_decode_or_fail_cleanly(token in "[A-Za-z0-9+/=:\n]{0,64}") {
        let _ = decode_authorization_token(&Secret::new(token));
    }
}
