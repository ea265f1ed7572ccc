//! Property tests of the key encodings: never panic, and decode what they encode.

use std::collections::BTreeMap;

use kcred_host::cache::{
    single_flight_key, CacheKey, ServiceAccountCacheKey, ServiceAccountKeyParts,
};
use proptest::prelude::*;

proptest! {
    #[test]
    fn cache_key_base_round_trips(base in ".{0,300}", sa in proptest::collection::vec(any::<u8>(), 0..300)) {
        let key = CacheKey::new(&base, &ServiceAccountCacheKey::from_bytes(sa.clone())).unwrap();
        prop_assert_eq!(key.base(), Some(base.as_str()));
        prop_assert_eq!(key.as_bytes().len(), 4 + base.len() + sa.len());
        prop_assert_eq!(&key.as_bytes()[key.as_bytes().len() - sa.len()..], &sa[..]);
    }

    #[test]
    fn base_of_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = CacheKey::from_bytes(bytes).base();
    }

    #[test]
    fn debug_of_any_key_is_printable_and_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        let s = format!("{:?}", CacheKey::from_bytes(bytes));
        prop_assert!(!s.chars().any(|c| (c as u32) < 0x20 || c as u32 == 0x7f));
    }

    #[test]
    fn sa_keys_are_injective(
        a in proptest::collection::vec(".{0,8}", 3..=3),
        b in proptest::collection::vec(".{0,8}", 3..=3),
        ann_a in proptest::collection::btree_map(".{0,6}", ".{0,6}", 0..3),
        ann_b in proptest::collection::btree_map(".{0,6}", ".{0,6}", 0..3),
    ) {
        let key = |p: &[String], ann: &BTreeMap<String, String>| ServiceAccountCacheKey::new(ServiceAccountKeyParts {
            namespace: &p[0], name: &p[1], uid: &p[2], annotations: ann, token_hash: None,
        }).unwrap();
        prop_assert_eq!(a == b && ann_a == ann_b, key(&a, &ann_a) == key(&b, &ann_b));
        let sf = |img: &str, ann: &BTreeMap<String, String>| single_flight_key(img, Some(("", ann))).unwrap();
        prop_assert_eq!(a[0] == b[0] && ann_a == ann_b, sf(&a[0], &ann_a) == sf(&b[0], &ann_b));
    }
}
