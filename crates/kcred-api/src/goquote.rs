//! Go's ways of quoting text in error messages: `strconv.Quote` (`%q`), the `time`
//! package's private `quote`, and `encoding/json`'s `quoteChar`.

/// Hex digits as Go writes them (lowercase).
const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// The `time` package's `quote`: ASCII is kept (with `"` and `\` backslashed); every byte
/// of a non-ASCII or control character, and every invalid byte, is written as `\xNN`.
pub(crate) fn time_quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            if (c as u32) < 0x20 || (c as u32) >= 0x80 {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    push_hex_byte(&mut out, b);
                }
            } else {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        for &b in chunk.invalid() {
            push_hex_byte(&mut out, b);
        }
    }
    out.push('"');
    out
}

/// `\xNN` for one byte.
fn push_hex_byte(out: &mut String, b: u8) {
    out.push_str("\\x");
    out.push(char::from(LOWER_HEX[usize::from(b >> 4)]));
    out.push(char::from(LOWER_HEX[usize::from(b & 0xF)]));
}

/// Go's `strconv.Quote` (what `%q` prints for a string).
pub(crate) fn strconv_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped_rune(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// `encoding/json`'s `quoteChar`: how the JSON scanner names an offending byte.
pub(crate) fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        _ => {
            // Go converts the byte to the rune U+00XX and quotes that.
            let mut out = String::from("'");
            push_escaped_rune(&mut out, char::from(c), '"');
            out.push('\'');
            out
        }
    }
}

/// `strconv.appendEscapedRune` for a valid rune.
fn push_escaped_rune(out: &mut String, c: char, quote: char) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_go_print(c) {
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
            let r = c as u32;
            if r < 0x20 || r == 0x7f {
                // Both bounds make the value fit a byte.
                push_hex_byte(out, (r & 0xFF) as u8);
            } else if r < 0x10000 {
                out.push_str("\\u");
                push_hex_digits(out, r, 4);
            } else {
                out.push_str("\\U");
                push_hex_digits(out, r, 8);
            }
        }
    }
}

/// `n` lowercase hex digits of `r`, most significant first.
fn push_hex_digits(out: &mut String, r: u32, n: u32) {
    for i in (0..n).rev() {
        let nibble = (r >> (4 * i)) & 0xF;
        out.push(char::from(LOWER_HEX[nibble as usize]));
    }
}

/// Go's `unicode.IsPrint`, closely approximated: letters, marks, numbers, punctuation,
/// symbols and the ASCII space are printable; controls, non-ASCII spaces, line and
/// paragraph separators, format characters, private-use characters and noncharacters
/// are not. Unassigned code points (which Go also treats as unprintable) are printed.
pub(crate) fn is_go_print(c: char) -> bool {
    let r = c as u32;
    if r < 0x80 {
        return (0x20..0x7f).contains(&r);
    }
    if c.is_control() {
        return false;
    }
    let unprintable = matches!(
        r,
        // Zs (other than ' '), Zl, Zp
        0xA0 | 0x1680 | 0x2000..=0x200A | 0x2028 | 0x2029 | 0x202F | 0x205F | 0x3000
        // Cf
        | 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890 | 0x891 | 0x8E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
        // Co
        | 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD
        // noncharacters
        | 0xFDD0..=0xFDEF
    ) || (r & 0xFFFE) == 0xFFFE;
    !unprintable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_quote_escapes_non_ascii_bytes() {
        assert_eq!(time_quote(b"1d"), "\"1d\"");
        assert_eq!(time_quote("12µs".as_bytes()), "\"12\\xc2\\xb5s\"");
        assert_eq!(time_quote(b"\x85\x85"), "\"\\x85\\x85\"");
        assert_eq!(time_quote("\u{FFFD}".as_bytes()), "\"\\xef\\xbf\\xbd\"");
        assert_eq!(time_quote(b"a\"b\\c\t"), "\"a\\\"b\\\\c\\x09\"");
    }

    #[test]
    fn strconv_quote_matches_go() {
        assert_eq!(strconv_quote("providers[0].x"), "\"providers[0].x\"");
        assert_eq!(strconv_quote("a\"b\\"), "\"a\\\"b\\\\\"");
        assert_eq!(strconv_quote("\u{0}\u{7f}\n"), "\"\\x00\\x7f\\n\"");
        assert_eq!(strconv_quote("é\u{a0}\u{2028}"), "\"é\\u00a0\\u2028\"");
        assert_eq!(strconv_quote("\u{10ffff}"), "\"\\U0010ffff\"");
    }

    #[test]
    fn quote_char_matches_go() {
        assert_eq!(quote_char(b'x'), "'x'");
        assert_eq!(quote_char(b'\''), "'\\''");
        assert_eq!(quote_char(b'"'), "'\"'");
        assert_eq!(quote_char(b'\\'), "'\\\\'");
        assert_eq!(quote_char(0), "'\\x00'");
        assert_eq!(quote_char(0x85), "'\\u0085'");
        assert_eq!(quote_char(0xff), "'ÿ'");
    }
}
