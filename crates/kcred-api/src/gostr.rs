//! Go standard-library string formatting kcred reproduces: `strconv.Quote` / `%q`, `time`'s
//! `quote`, `encoding/json` string encoding, `utf8` rune decoding, `unicode.ToLower`.
//!
//! The kubelet and the cloud plugins quote values in their error messages and write JSON with
//! Go's standard library; kcred prints the same bytes. This module is the single home of that
//! behaviour for every kcred crate.
//!
//! | Go                                  | here                                        |
//! |-------------------------------------|---------------------------------------------|
//! | `strconv.Quote(s)`, `fmt` `%q`      | [`strconv_quote`], [`strconv_quote_bytes`]  |
//! | `strconv.IsPrint`, `unicode.IsPrint`| [`is_print`]                                |
//! | `time`'s private `quote`            | [`time_quote`]                              |
//! | `encoding/json`'s `quoteChar`       | [`json_quote_char`]                         |
//! | `json.Marshal` of a string          | [`json_string`], [`push_json_string`], [`json_string_list`] |
//! | `utf8.DecodeRune`, `utf8.RuneError` | [`decode_rune`], [`RUNE_ERROR`]             |
//! | `unicode.ToLower`, `strings.ToLower`| [`to_lower_rune`], [`to_lower`], [`has_upper`] |
//!
//! Go strings are byte strings that need not be valid UTF-8, so the functions that Go applies
//! to arbitrary bytes take `&[u8]`.
//!
//! `time_quote` and `strconv_quote` differ on purpose, as they do in Go: `time` writes every
//! byte of a non-ASCII character as `\xNN` (`"12\xc2\xb5s"`), `strconv` keeps printable
//! characters (`"12µs"`).

/// Go's `utf8.RuneError` (U+FFFD), what [`decode_rune`] returns for invalid input.
pub const RUNE_ERROR: char = '\u{FFFD}';

/// Hex digits as Go writes them (lowercase).
const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// Decodes the first rune of `b` as Go's `utf8.DecodeRune` does: the rune and its width in
/// bytes. An invalid or truncated sequence (overlong forms, surrogates, values above
/// U+10FFFF included) yields `(RUNE_ERROR, 1)`; an empty input yields `(RUNE_ERROR, 0)`.
/// A genuine U+FFFD in the input yields `(RUNE_ERROR, 3)`.
pub fn decode_rune(b: &[u8]) -> (char, usize) {
    let Some(&first) = b.first() else {
        return (RUNE_ERROR, 0);
    };
    if first < 0x80 {
        return (char::from(first), 1);
    }
    let width = match first {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (RUNE_ERROR, 1),
    };
    // `from_utf8` rejects exactly the sequences Go treats as invalid.
    match b.get(..width).map(std::str::from_utf8) {
        Some(Ok(s)) => match s.chars().next() {
            Some(c) => (c, width),
            None => (RUNE_ERROR, 1),
        },
        _ => (RUNE_ERROR, 1),
    }
}

/// Go's `strconv.IsPrint` (the same set as `unicode.IsPrint`): letters, marks, numbers,
/// punctuation, symbols and the ASCII space.
///
/// The complement (categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than the space) is
/// exactly what Rust's debug escaping escapes, so this reads Rust's Unicode tables through
/// `str::escape_debug`: a character that is not the first of a string comes out of it
/// unchanged exactly when it is printable. (The first character is also escaped when it is
/// a grapheme extender, hence the `a` put in front.) Go and Rust may ship different Unicode
/// versions; characters assigned in between are the only possible difference.
pub fn is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    let mut buf = [0u8; 5];
    buf[0] = b'a';
    let encoded_len = c.encode_utf8(&mut buf[1..]).len();
    let Ok(s) = std::str::from_utf8(&buf[..=encoded_len]) else {
        return false;
    };
    s.escape_debug().skip(1).eq(std::iter::once(c))
}

/// Go's `strconv.Quote` (what `fmt`'s `%q` prints for a string).
///
/// `"` and `\` are backslashed; printable characters ([`is_print`]) are kept;
/// `\a \b \f \n \r \t \v` are named; other controls below U+0020 and DEL become `\xNN`;
/// other non-printable characters `\uNNNN` or `\UNNNNNNNN`.
pub fn strconv_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped_rune(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `strconv.Quote` of a Go string holding arbitrary bytes: as [`strconv_quote`], and
/// each byte that is not part of valid UTF-8 becomes `\xNN`.
pub fn strconv_quote_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_escaped_rune(&mut out, c, '"');
        }
        // Go decodes an invalid sequence one byte at a time, and every byte of a
        // maximal invalid prefix is itself invalid there, so each gets its own `\xNN`.
        for &byte in chunk.invalid() {
            push_hex_byte(&mut out, byte);
        }
    }
    out.push('"');
    out
}

/// The `time` package's private `quote` (used in `time.ParseDuration`'s errors): ASCII is
/// kept (with `"` and `\` backslashed, DEL kept as is); every byte of a control or
/// non-ASCII character, and every invalid byte, is written as `\xNN`.
///
/// Unlike [`strconv_quote`] it keeps no non-ASCII character: `"12\xc2\xb5s"`, not `"12µs"`.
pub fn time_quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            if (c as u32) < 0x20 || !c.is_ascii() {
                let mut buf = [0u8; 4];
                for &byte in c.encode_utf8(&mut buf).as_bytes() {
                    push_hex_byte(&mut out, byte);
                }
            } else {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        for &byte in chunk.invalid() {
            push_hex_byte(&mut out, byte);
        }
    }
    out.push('"');
    out
}

/// `encoding/json`'s `quoteChar`: how the JSON scanner names an offending byte in
/// `invalid character 'x' ...`. Go quotes the byte as the rune U+00XX, between single quotes.
pub fn json_quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        _ => {
            let mut out = String::from("'");
            push_escaped_rune(&mut out, char::from(c), '"');
            out.push('\'');
            out
        }
    }
}

/// `strconv.appendEscapedRune` for a valid rune, with `quote` the quote character.
fn push_escaped_rune(out: &mut String, c: char, quote: char) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        _ => {
            let r = u32::from(c);
            match u8::try_from(r) {
                Ok(byte) if r < 0x20 || r == 0x7f => push_hex_byte(out, byte),
                _ if r < 0x10000 => {
                    out.push_str("\\u");
                    push_hex_digits(out, r, 4);
                }
                _ => {
                    out.push_str("\\U");
                    push_hex_digits(out, r, 8);
                }
            }
        }
    }
}

/// `\xNN` for one byte.
fn push_hex_byte(out: &mut String, b: u8) {
    out.push_str("\\x");
    push_hex_digits(out, u32::from(b), 2);
}

/// The `n` low lowercase hex digits of `r`, most significant first.
fn push_hex_digits(out: &mut String, r: u32, n: u32) {
    for i in (0..n).rev() {
        let nibble = (r >> (4 * i)) & 0xF;
        out.push(char::from(LOWER_HEX[nibble as usize]));
    }
}

/// Appends `s` as `encoding/json` encodes a string with HTML escaping on (`json.Marshal`
/// and `json.Encoder`'s default, which apimachinery's serializer uses): `"` `\` backslashed;
/// `\b \f \n \r \t` named (Go 1.22 and later; older Go wrote `\u0008` and `\u000c`); other
/// controls below U+0020 as `\u00NN`; `<` `>` `&` U+2028 U+2029 as `\uNNNN`; DEL and every
/// other character kept.
pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                out.push_str("\\u");
                push_hex_digits(out, u32::from(c), 4);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `s` encoded as `json.Marshal` encodes a string (see [`push_json_string`]).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_string(&mut out, s);
    out
}

/// A list of strings encoded as `json.Marshal` encodes a `[]string` (`[]` when empty).
pub fn json_string_list(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, item);
    }
    out.push(']');
    out
}

/// Go's `unicode.ToLower` for one rune: the simple (one-to-one) lowercase mapping, or the
/// rune itself when it has none.
///
/// Rust's `char::to_lowercase` gives the full mapping, which differs only for U+0130 (`İ`,
/// full `i̇`, simple `i`).
pub fn to_lower_rune(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if c == '\u{130}' {
        return 'i';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Go's `strings.ToLower`: every rune mapped by [`to_lower_rune`], so the result has as many
/// runes as `s` (no final-sigma rule, `İ` becomes `i`).
pub fn to_lower(s: &str) -> String {
    s.chars().map(to_lower_rune).collect()
}

/// Go's `strings.ToLower(s) != s`, without building the lowered string.
pub fn has_upper(s: &str) -> bool {
    s.chars().any(|c| to_lower_rune(c) != c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_rune_follows_go() {
        assert_eq!(decode_rune(b"a"), ('a', 1));
        assert_eq!(decode_rune("é".as_bytes()), ('é', 2));
        assert_eq!(decode_rune("☺x".as_bytes()), ('☺', 3));
        assert_eq!(decode_rune("\u{10ffff}".as_bytes()), ('\u{10ffff}', 4));
        assert_eq!(decode_rune(b"\xff"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xc3"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xe2\x82"), (RUNE_ERROR, 1));
        // A UTF-8-encoded surrogate half, an overlong '/', and a value above U+10FFFF.
        assert_eq!(decode_rune(b"\xed\xa0\x80"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xc0\xaf"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xf4\x90\x80\x80"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune("\u{FFFD}".as_bytes()), (RUNE_ERROR, 3));
        assert_eq!(decode_rune(b""), (RUNE_ERROR, 0));
    }

    #[test]
    fn is_print_uses_unicode_categories() {
        let printable = " a~éÿ☺١\u{301}\u{1F600}\u{FFFD}";
        for c in printable.chars() {
            assert!(is_print(c), "{c:?} is printable in Go");
        }
        // Cc, Zs, Cf, Zl, Zp, Co, noncharacters, and unassigned (Cn) code points.
        let unprintable = "\u{0}\u{7f}\u{85}\u{a0}\u{3000}\u{ad}\u{200b}\u{feff}\u{e0001}\
                           \u{2028}\u{2029}\u{e000}\u{fdd0}\u{fffe}\u{10ffff}\u{378}\u{e0080}";
        for c in unprintable.chars() {
            assert!(!is_print(c), "{c:?} is not printable in Go");
        }
    }

    #[test]
    fn strconv_quote_plain_and_named_escapes() {
        assert_eq!(strconv_quote(""), "\"\"");
        assert_eq!(strconv_quote("foo bar"), "\"foo bar\"");
        assert_eq!(strconv_quote("bad-flow"), "\"bad-flow\"");
        assert_eq!(strconv_quote("providers[0].x"), "\"providers[0].x\"");
        assert_eq!(strconv_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(strconv_quote("a\"b\\"), "\"a\\\"b\\\\\"");
        assert_eq!(strconv_quote("'"), "\"'\"");
        assert_eq!(
            strconv_quote("\n\t\r\u{7}\u{8}\u{c}\u{b}"),
            "\"\\n\\t\\r\\a\\b\\f\\v\""
        );
        assert_eq!(strconv_quote("x\ny\t\u{1}"), "\"x\\ny\\t\\x01\"");
    }

    #[test]
    fn strconv_quote_hex_and_unicode_escapes() {
        assert_eq!(strconv_quote("\u{0}\u{1f}\u{7f}"), "\"\\x00\\x1f\\x7f\"");
        assert_eq!(strconv_quote("\u{0}\u{7f}\n"), "\"\\x00\\x7f\\n\"");
        assert_eq!(strconv_quote("héllo ✓ ü☺ ١٢"), "\"héllo ✓ ü☺ ١٢\"");
        assert_eq!(strconv_quote("é\u{85}"), "\"é\\u0085\"");
        assert_eq!(strconv_quote("\u{85}"), "\"\\u0085\"");
        assert_eq!(strconv_quote("héllo ✓"), "\"héllo ✓\"");
        assert_eq!(strconv_quote("é\u{a0}\u{2028}"), "\"é\\u00a0\\u2028\"");
        assert_eq!(
            strconv_quote("\u{200b}\u{a0}\u{feff}"),
            "\"\\u200b\\u00a0\\ufeff\""
        );
        assert_eq!(strconv_quote("\u{378}"), "\"\\u0378\"");
        assert_eq!(strconv_quote("\u{e0001}"), "\"\\U000e0001\"");
        assert_eq!(strconv_quote("\u{e0000}"), "\"\\U000e0000\"");
        assert_eq!(strconv_quote("\u{10ffff}"), "\"\\U0010ffff\"");
        // A combining mark is printable even at the start.
        assert_eq!(strconv_quote("\u{301}"), "\"\u{301}\"");
    }

    #[test]
    fn strconv_quote_bytes_escapes_invalid_utf8() {
        assert_eq!(
            strconv_quote_bytes(b"https://%invalid%"),
            "\"https://%invalid%\""
        );
        assert_eq!(strconv_quote_bytes(b"a\xffb\xc3"), "\"a\\xffb\\xc3\"");
        assert_eq!(strconv_quote_bytes(b"%a\xc3"), "\"%a\\xc3\"");
        assert_eq!(strconv_quote_bytes(b"\xe2\x82!"), "\"\\xe2\\x82!\"");
        assert_eq!(strconv_quote_bytes(b"\x01\n\t\x7f"), "\"\\x01\\n\\t\\x7f\"");
        // A real U+FFFD is printable and kept.
        assert_eq!(strconv_quote_bytes("\u{fffd}".as_bytes()), "\"\u{fffd}\"");
        assert_eq!(
            strconv_quote_bytes("\u{a0}\u{200b}".as_bytes()),
            "\"\\u00a0\\u200b\""
        );
        assert_eq!(strconv_quote_bytes("ü☺".as_bytes()), "\"ü☺\"");
    }

    #[test]
    fn time_quote_escapes_non_ascii_bytes() {
        assert_eq!(time_quote(b"1d"), "\"1d\"");
        assert_eq!(time_quote("12µs".as_bytes()), "\"12\\xc2\\xb5s\"");
        assert_eq!(time_quote(b"\x85\x85"), "\"\\x85\\x85\"");
        assert_eq!(time_quote("\u{FFFD}".as_bytes()), "\"\\xef\\xbf\\xbd\"");
        assert_eq!(time_quote(b"a\"b\\c\t"), "\"a\\\"b\\\\c\\x09\"");
        assert_eq!(time_quote(b"\x7f"), "\"\x7f\"");
    }

    #[test]
    fn time_quote_and_strconv_quote_differ_on_purpose() {
        assert_eq!(time_quote("µ".as_bytes()), "\"\\xc2\\xb5\"");
        assert_eq!(strconv_quote("µ"), "\"µ\"");
        assert_eq!(time_quote(b"\n"), "\"\\x0a\"");
        assert_eq!(strconv_quote("\n"), "\"\\n\"");
    }

    #[test]
    fn json_quote_char_matches_go() {
        assert_eq!(json_quote_char(b'x'), "'x'");
        assert_eq!(json_quote_char(b'\''), "'\\''");
        assert_eq!(json_quote_char(b'"'), "'\"'");
        assert_eq!(json_quote_char(b'\\'), "'\\\\'");
        assert_eq!(json_quote_char(b'\t'), "'\\t'");
        assert_eq!(json_quote_char(0), "'\\x00'");
        assert_eq!(json_quote_char(0x85), "'\\u0085'");
        assert_eq!(json_quote_char(0xef), "'ï'");
        assert_eq!(json_quote_char(0xff), "'ÿ'");
    }

    #[test]
    fn json_strings_are_html_safe() {
        assert_eq!(json_string(""), "\"\"");
        assert_eq!(json_string("-1m0s"), "\"-1m0s\"");
        assert_eq!(json_string("<a&b>"), "\"\\u003ca\\u0026b\\u003e\"");
        assert_eq!(json_string("a<b>&\"c"), r#""a\u003cb\u003e\u0026\"c""#);
        assert_eq!(
            json_string("\u{1}\u{8}\u{2028}\u{7f}"),
            "\"\\u0001\\b\\u2028\u{7f}\""
        );
        let mut s = String::from("x");
        push_json_string(
            &mut s,
            "<a&b>\"\\\u{1}\u{8}\u{c}\n\r\t\u{7f}\u{2028}\u{2029}é",
        );
        assert_eq!(
            s,
            r#"x"\u003ca\u0026b\u003e\"\\\u0001\b\f\n\r\t"#.to_owned()
                + "\u{7f}"
                + r#"\u2028\u2029é""#
        );
    }

    #[test]
    fn json_string_lists() {
        assert_eq!(
            json_string_list(&["a".to_string(), "b\"".to_string()]),
            "[\"a\",\"b\\\"\"]"
        );
        assert_eq!(json_string_list(&[]), "[]");
    }

    #[test]
    fn lowercase_is_go_simple_mapping() {
        assert_eq!(to_lower("AbC\u{212A}\u{130}"), "abcki");
        assert_eq!(to_lower("ABC-İ"), "abc-i");
        assert_eq!(to_lower("ΣΑΣ"), "σασ");
        assert_eq!(to_lower_rune('Σ'), 'σ');
        assert_eq!(to_lower_rune('1'), '1');
        assert!(has_upper("É"));
        assert!(has_upper("a\u{130}"));
        assert!(!has_upper("é-1_x"));
        assert!(!has_upper(""));
    }
}
