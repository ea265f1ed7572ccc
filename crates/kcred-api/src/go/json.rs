//! Go package `encoding/json`: the reader, the writer ([`JsonWriter`]), string encoding and
//! struct-field name folding.
//!
//! [`parse`] reads a document exactly like `encoding/json`'s scanner (same grammar, same
//! `invalid character 'x' looking for beginning of value` messages, the 10000-level nesting
//! limit, invalid UTF-8 and lone surrogates decoded to U+FFFD). The resulting [`Value`]
//! keeps object keys in document order, duplicates included, so callers can apply Go's
//! "last one wins" or a strict decoder's "duplicate field" rule.
//!
//! Field names: `json.Unmarshal` looks a key up by its exact name first, then by its folded
//! name (`encoding/json/fold.go`, `foldName`): ASCII letters fold to upper case and every
//! other rune to the smallest rune of its `unicode.SimpleFold` orbit. Go's decoders built on
//! `sigs.k8s.io/json` (apimachinery's codecs) do not fold at all.

pub use crate::gojson::{parse, JsonWriter, SyntaxError, Value};
pub use crate::gostr::{
    json_quote_char as quote_char, json_string as string, json_string_list as string_list,
    push_json_string as push_string,
};
pub use crate::strict::UnmarshalTypeError;

/// The non-ASCII runes whose `unicode.SimpleFold` orbit holds an ASCII letter, with that
/// orbit's smallest rune (what Go's `foldRune` returns): U+212A KELVIN SIGN is in `{K, k, K}`
/// and U+017F LATIN SMALL LETTER LONG S is in `{S, s, ſ}` (Unicode `CaseFolding.txt`). Every
/// other non-ASCII rune folds to a non-ASCII rune, so it can never match an ASCII name.
const NON_ASCII_FOLDING_TO_ASCII: [(char, char); 2] = [('\u{212A}', 'K'), ('\u{17F}', 'S')];

/// Go's `foldRune` for runes that can match an ASCII field name: the ASCII upper-case letter
/// for ASCII letters, KELVIN SIGN and LONG S; `None` for any other non-ASCII rune.
fn fold_to_ascii(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(c.to_ascii_uppercase());
    }
    NON_ASCII_FOLDING_TO_ASCII
        .iter()
        .find(|(from, _)| *from == c)
        .map(|(_, to)| *to)
}

/// Whether `foldName(key) == foldName(field)` in Go's `encoding/json` for an ASCII `field`
/// (every field name of the Go structs kcred decodes is ASCII).
///
/// ```
/// use kcred_api::go::json::equal_fold;
/// assert!(equal_fold("AUTHS", "auths"));
/// assert!(equal_fold("\u{212A}ind", "kind")); // KELVIN SIGN folds with k
/// assert!(equal_fold("pa\u{17F}\u{17F}word", "password")); // LONG S folds with s
/// assert!(!equal_fold("\u{130}mage", "image")); // İ is not in i's fold orbit
/// ```
///
/// # Panics
/// In debug builds, when `field` is not ASCII.
pub fn equal_fold(key: &str, field: &str) -> bool {
    debug_assert!(field.is_ascii(), "field names are ASCII: {field:?}");
    let mut key_chars = key.chars();
    for f in field.chars() {
        match key_chars.next().and_then(fold_to_ascii) {
            Some(k) if k == f.to_ascii_uppercase() => {}
            _ => return false,
        }
    }
    key_chars.next().is_none()
}

/// Go `encoding/json`'s struct field lookup for an object key: the field with exactly that
/// name, else the first field (in declaration order) whose folded name equals the key's.
///
/// ```
/// use kcred_api::go::json::field_index;
/// let fields = ["username", "password", "email", "auth"];
/// assert_eq!(field_index(&fields, "Auth"), Some(3));
/// assert_eq!(field_index(&fields, "e-mail"), None);
/// ```
pub fn field_index(fields: &[&str], key: &str) -> Option<usize> {
    fields
        .iter()
        .position(|f| *f == key)
        .or_else(|| fields.iter().position(|f| equal_fold(key, f)))
}

/// Go's text for a JSON value's kind in type errors: `string`, `number`, `bool`, `array`,
/// `object`, `null`.
pub fn kind_name(value: &Value) -> &'static str {
    value.go_kind()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_matches_go_fold_name() {
        // ASCII letters fold both ways; digits and punctuation only match themselves.
        assert!(equal_fold("ApIvErSiOn", "apiVersion"));
        assert!(equal_fold("http_headers", "HTTP_HEADERS"));
        assert!(!equal_fold("auth_", "auth-"));
        assert!(!equal_fold("auth", "auths"));
        assert!(!equal_fold("auths", "auth"));
        assert!(!equal_fold("", "a"));
        assert!(equal_fold("", ""));
        // The two non-ASCII runes whose fold orbit holds an ASCII letter.
        assert!(equal_fold("\u{212A}IND", "kind"));
        assert!(equal_fold("U\u{17F}ername", "username"));
        assert!(equal_fold("\u{17F}", "S"));
        // Runes whose upper or lower case is ASCII but whose fold orbit is not:
        // U+0130 (İ, lower-cases to i) and U+0131 (ı, upper-cases to I).
        assert!(!equal_fold("\u{130}mage", "image"));
        assert!(!equal_fold("\u{131}mage", "image"));
        // Full-width and other look-alikes do not fold.
        assert!(!equal_fold("\u{FF4B}ind", "kind"));
        assert!(!equal_fold("ki\u{301}nd", "kind"));
    }

    #[test]
    fn lookup_prefers_exact_then_first_folded() {
        let fields = ["Name", "name", "NAME"];
        assert_eq!(field_index(&fields, "name"), Some(1));
        assert_eq!(field_index(&fields, "NAME"), Some(2));
        assert_eq!(field_index(&fields, "nAmE"), Some(0));
        assert_eq!(field_index(&fields, "nom"), None);
    }

    #[test]
    fn reader_is_gos() {
        assert_eq!(
            parse(b"{\"a\":}").unwrap_err().to_string(),
            "invalid character '}' looking for beginning of value"
        );
        assert_eq!(
            parse(b"").unwrap_err().to_string(),
            "unexpected end of JSON input"
        );
        let v = parse(b"{\"a\":1,\"a\":\"\xff\"}").unwrap();
        let Value::Object(entries) = &v else {
            panic!("object expected: {v:?}")
        };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].1, Value::String("\u{FFFD}".into()));
        assert_eq!(kind_name(&entries[0].1), "number");
    }
}
