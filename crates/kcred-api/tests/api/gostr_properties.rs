//! Property tests for `kcred_api::gostr`: no panic on any input, and the relations Go's
//! functions have with each other and with a JSON decoder.

use kcred_api::gostr::{
    decode_rune, has_upper, is_print, json_string, json_string_list, strconv_quote,
    strconv_quote_bytes, time_quote, to_lower, to_lower_rune, RUNE_ERROR,
};
use proptest::prelude::*;

proptest! {
    #[test]
    fn decode_rune_agrees_with_std_utf8(bytes in proptest::collection::vec(any::<u8>(), 0..8)) {
        let (r, width) = decode_rune(&bytes);
        prop_assert!(width <= bytes.len());
        prop_assert_eq!(width == 0, bytes.is_empty());
        // A valid prefix decodes to the char std reads; anything else is (RuneError, 1).
        let valid_prefix = bytes.utf8_chunks().next().map(|c| c.valid()).unwrap_or("");
        match valid_prefix.chars().next() {
            Some(c) => prop_assert_eq!((r, width), (c, c.len_utf8())),
            None if bytes.is_empty() => prop_assert_eq!((r, width), (RUNE_ERROR, 0)),
            None => prop_assert_eq!((r, width), (RUNE_ERROR, 1)),
        }
    }

    #[test]
    fn quoting_valid_bytes_equals_quoting_the_string(s in any::<String>()) {
        prop_assert_eq!(strconv_quote_bytes(s.as_bytes()), strconv_quote(&s));
    }

    #[test]
    fn strconv_quote_leaves_no_raw_unprintable(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let quoted = strconv_quote_bytes(&bytes);
        prop_assert!(quoted.starts_with('"') && quoted.ends_with('"') && quoted.len() >= 2);
        prop_assert!(quoted.chars().all(is_print), "{:?}", quoted);
    }

    #[test]
    fn time_quote_is_printable_ascii(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let quoted = time_quote(&bytes);
        prop_assert!(quoted.bytes().all(|b| (0x20..=0x7f).contains(&b)), "{:?}", quoted);
    }

    #[test]
    fn json_string_round_trips(s in any::<String>()) {
        let encoded = json_string(&s);
        let decoded: String = serde_json::from_str(&encoded).expect("valid JSON");
        prop_assert_eq!(&decoded, &s);
        let html_unsafe = ['<', '>', '&', '\u{2028}', '\u{2029}'];
        prop_assert!(!encoded.contains(html_unsafe), "{:?}", encoded);
    }

    #[test]
    fn json_string_list_round_trips(items in proptest::collection::vec(any::<String>(), 0..4)) {
        let decoded: Vec<String> = serde_json::from_str(&json_string_list(&items)).expect("valid JSON");
        prop_assert_eq!(decoded, items);
    }

    #[test]
    fn to_lower_maps_rune_for_rune(s in any::<String>()) {
        let lower = to_lower(&s);
        prop_assert_eq!(lower.chars().count(), s.chars().count());
        prop_assert_eq!(has_upper(&s), lower != s);
        prop_assert!(s.chars().zip(lower.chars()).all(|(c, l)| to_lower_rune(c) == l));
    }
}
