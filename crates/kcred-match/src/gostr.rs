//! Go string helpers: UTF-8 decoding as `utf8.DecodeRune` does it, `strconv.Quote`, and the
//! few case mappings the image parser needs. Go strings are byte strings, so these work on
//! `&[u8]`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Go's `utf8.RuneError` (U+FFFD).
pub(crate) const RUNE_ERROR: u32 = 0xFFFD;

/// Decodes the first rune of `b` the way Go's `utf8.DecodeRune` does: an invalid or
/// truncated sequence yields `(RUNE_ERROR, 1)`; an empty input yields `(RUNE_ERROR, 0)`.
pub(crate) fn decode_rune(b: &[u8]) -> (u32, usize) {
    let Some(&first) = b.first() else {
        return (RUNE_ERROR, 0);
    };
    if first < 0x80 {
        return (u32::from(first), 1);
    }
    let width = match first {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (RUNE_ERROR, 1),
    };
    // `from_utf8` rejects overlong forms, surrogates and values above U+10FFFF, exactly
    // the sequences Go treats as invalid.
    match b.get(..width).map(std::str::from_utf8) {
        Some(Ok(s)) => match s.chars().next() {
            Some(c) => (u32::from(c), width),
            None => (RUNE_ERROR, 1),
        },
        _ => (RUNE_ERROR, 1),
    }
}

/// Go's `strconv.Quote` applied to a byte string: `"` and `\` are backslashed, printable
/// runes are kept, `\a \b \f \n \r \t \v` are named, other control bytes become `\xHH`,
/// other non-printable runes `\uHHHH` / `\UHHHHHHHH`, and invalid UTF-8 bytes `\xHH`.
pub(crate) fn go_quote(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    let mut rest = b;
    while !rest.is_empty() {
        let (r, width) = decode_rune(rest);
        if width <= 1 && r == RUNE_ERROR {
            let byte = rest.first().copied().unwrap_or(0);
            let _ = write!(out, "\\x{byte:02x}");
            rest = rest.get(1..).unwrap_or_default();
            continue;
        }
        push_escaped_rune(&mut out, r);
        rest = rest.get(width.max(1)..).unwrap_or_default();
    }
    out.push('"');
    out
}

fn push_escaped_rune(out: &mut String, r: u32) {
    let Some(c) = char::from_u32(r) else {
        let _ = write!(out, "\\u{RUNE_ERROR:04x}");
        return;
    };
    match c {
        '"' | '\\' => {
            out.push('\\');
            out.push(c);
        }
        '\u{07}' => out.push_str("\\a"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0C}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0B}' => out.push_str("\\v"),
        _ if (c as u32) < 0x20 || c == '\u{7F}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        _ if is_go_printable(c) => out.push(c),
        _ if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        _ => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII
/// space. Rust's debug escaping uses the same classification (it escapes the categories
/// Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than the space), so a character that is not the
/// first of a string survives `str::escape_debug` unchanged exactly when Go prints it.
fn is_go_printable(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    let mut buf = [0u8; 8];
    buf[0] = b'a';
    let encoded_len = c.encode_utf8(&mut buf[1..]).len();
    let Ok(s) = std::str::from_utf8(&buf[..=encoded_len]) else {
        return false;
    };
    s.escape_debug().skip(1).eq(std::iter::once(c))
}

/// Lossy UTF-8 view of a Go byte string (borrowed when it is valid UTF-8).
pub(crate) fn lossy(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Go's `unicode.ToLower` for one rune (simple case mapping).
pub(crate) fn go_to_lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if c == '\u{130}' {
        // LATIN CAPITAL LETTER I WITH DOT ABOVE: Go's simple mapping is plain 'i'.
        return 'i';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Go's `strings.ToLower(s) != s`.
pub(crate) fn has_go_upper(s: &str) -> bool {
    s.chars().any(|c| go_to_lower(c) != c)
}

/// Go's `strings.ToLower`.
pub(crate) fn go_lowercase(s: &str) -> String {
    s.chars().map(go_to_lower).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_rune_follows_go() {
        assert_eq!(decode_rune(b"a"), (u32::from(b'a'), 1));
        assert_eq!(decode_rune("é".as_bytes()), (0xE9, 2));
        assert_eq!(decode_rune(b"\xff"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xc3"), (RUNE_ERROR, 1));
        // Surrogate half encoded as UTF-8 and an overlong '/' are invalid in Go.
        assert_eq!(decode_rune(b"\xed\xa0\x80"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(b"\xc0\xaf"), (RUNE_ERROR, 1));
        assert_eq!(decode_rune("\u{FFFD}".as_bytes()), (RUNE_ERROR, 3));
        assert_eq!(decode_rune(b""), (RUNE_ERROR, 0));
    }

    #[test]
    fn quote_matches_strconv_quote() {
        assert_eq!(go_quote(b"https://%invalid%"), "\"https://%invalid%\"");
        assert_eq!(go_quote(b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote(b"\x01\n\t\x7f"), "\"\\x01\\n\\t\\x7f\"");
        assert_eq!(go_quote(b"%a\xc3"), "\"%a\\xc3\"");
        assert_eq!(go_quote("ü☺".as_bytes()), "\"ü☺\"");
        assert_eq!(go_quote("\u{a0}\u{200b}".as_bytes()), "\"\\u00a0\\u200b\"");
        assert_eq!(go_quote("\u{e0000}".as_bytes()), "\"\\U000e0000\"");
        assert_eq!(go_quote("'".as_bytes()), "\"'\"");
    }

    #[test]
    fn lowercase_like_go() {
        assert_eq!(go_lowercase("AbC\u{212A}\u{130}"), "abcki");
        assert!(has_go_upper("É"));
        assert!(!has_go_upper("é-1_x"));
    }
}
