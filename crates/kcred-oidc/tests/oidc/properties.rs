//! Property tests: the parsers never panic on arbitrary input, and what kcred writes it reads
//! back unchanged.

use base64::Engine;
use kcred_oidc::der::Reader;
use kcred_oidc::key::Curve;
use kcred_oidc::verify::parse_jwks;
use kcred_oidc::{parse_public_keys_pem, Jwt, PublicKey};
use proptest::prelude::*;

proptest! {
    #[test]
    fn pem_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_public_keys_pem("fuzz", &bytes);
    }

    #[test]
    fn pem_parser_never_panics_on_armoured_garbage(label in "[A-Z ]{0,20}", body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let pem = format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", base64::engine::general_purpose::STANDARD.encode(&body));
        let _ = parse_public_keys_pem("fuzz", pem.as_bytes());
        let spki = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", base64::engine::general_purpose::STANDARD.encode(&body));
        let _ = parse_public_keys_pem("fuzz", spki.as_bytes());
    }

    #[test]
    fn der_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256), tag in any::<u8>()) {
        let mut r = Reader::new(&bytes);
        let _ = r.read(tag);
        let mut r = Reader::new(&bytes);
        let _ = r.read_unsigned();
        let _ = r.read_bit_string();
    }

    #[test]
    fn jwt_parser_never_panics(text in "[A-Za-z0-9_.=-]{0,300}") {
        let _ = Jwt::parse("fuzz", &text);
    }

    #[test]
    fn jwks_parser_never_panics(text in ".{0,300}") {
        let _ = parse_jwks(text.as_bytes());
    }

    #[test]
    fn rsa_keys_round_trip_through_pem_and_jwk(n in proptest::collection::vec(any::<u8>(), 1..300), e in proptest::collection::vec(any::<u8>(), 1..8)) {
        let strip = |v: Vec<u8>| { let s = v.iter().position(|&b| b != 0).unwrap_or(v.len()); v[s..].to_vec() };
        let (n, e) = (strip(n), strip(e));
        prop_assume!(!n.is_empty() && !e.is_empty());
        let key = PublicKey::Rsa { n, e };
        let back = parse_public_keys_pem("k", key.to_pem().as_bytes()).unwrap();
        prop_assert_eq!(&back, &vec![key.clone()]);
        let jwk: serde_json::Value = serde_json::from_str(&key.jwk_json()).unwrap();
        prop_assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), key.clone());
        prop_assert_eq!(jwk["kid"].as_str().unwrap(), key.key_id());
    }

    #[test]
    fn ec_keys_round_trip(seed in any::<u8>(), which in 0usize..3) {
        let curve = [Curve::P256, Curve::P384, Curve::P521][which];
        let len = curve.coordinate_len();
        let key = PublicKey::Ec { curve, x: vec![seed; len], y: vec![seed ^ 0x5a; len] };
        let back = parse_public_keys_pem("k", key.to_pem().as_bytes()).unwrap();
        prop_assert_eq!(&back, &vec![key.clone()]);
        let jwk: serde_json::Value = serde_json::from_str(&key.jwk_json()).unwrap();
        prop_assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), key);
    }
}
