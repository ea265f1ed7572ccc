//! Go's text quoting, so messages read byte for byte as the kubelet prints them.
//!
//! - [`go_quote`]: `strconv.Quote` / `fmt`'s `%q` for strings.
//! - [`go_quote_bytes`]: the same for arbitrary bytes (invalid UTF-8 becomes `\xNN`), used for paths.
//! - [`go_json_string`]: `encoding/json`'s encoding of a string (HTML-safe, as `json.Marshal`).

use std::fmt::Write as _;
use std::path::Path;

/// Quotes `s` as Go's `strconv.Quote` (and `fmt`'s `%q`) does.
///
/// Printable characters are kept; `"` and `\` are backslashed; control characters use
/// `\a \b \f \n \r \t \v` or `\xNN`; other non-printable characters use `\uNNNN` / `\UNNNNNNNN`.
///
/// Go decides "printable" from Unicode tables. This uses the categories that can be told
/// apart without tables (controls, separators other than the space, format characters,
/// private use, noncharacters); unassigned code points are treated as printable.
pub fn go_quote(s: &str) -> String {
    go_quote_bytes(s.as_bytes())
}

/// Quotes arbitrary bytes as Go's `strconv.Quote` quotes a Go string holding them:
/// each byte that is not part of valid UTF-8 becomes `\xNN`.
pub fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_escaped_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
    out
}

/// Quotes a path as Go's `%q` would quote the same path string.
pub fn go_quote_path(path: &Path) -> String {
    go_quote_bytes(&path_bytes(path))
}

/// The bytes of a path as the OS holds them (lossy outside Unix).
pub(crate) fn path_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

/// A path's text as Go would print it with `%s` (invalid UTF-8 shown as U+FFFD).
pub(crate) fn path_text(path: &Path) -> String {
    String::from_utf8_lossy(&path_bytes(path)).into_owned()
}

fn push_escaped_char(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        c if is_go_printable(c) => out.push(c),
        '\u{07}' => out.push_str("\\a"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// Approximates Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space are printable; controls, other separators, format characters, private
/// use and noncharacters are not.
fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !(is_format_char(u) || is_private_use(u) || is_noncharacter(u))
}

/// Unicode general category `Cf` (format), as of Unicode 15.
fn is_format_char(u: u32) -> bool {
    matches!(
        u,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

fn is_private_use(u: u32) -> bool {
    matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
}

fn is_noncharacter(u: u32) -> bool {
    (0xFDD0..=0xFDEF).contains(&u) || (u & 0xFFFE) == 0xFFFE
}

/// Encodes `s` as Go's `json.Marshal` encodes a string: `"` `\` and controls escaped
/// (`\b \f \n \r \t`, else `\u00NN`), `<` `>` `&` and U+2028/U+2029 as `\uNNNN`.
pub fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Encodes a list of strings as Go's `json.Marshal` encodes a `[]string`.
pub fn go_json_string_list(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&go_json_string(item));
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_plain_and_escapes() {
        assert_eq!(go_quote("foo bar"), "\"foo bar\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(
            go_quote("\n\t\r\u{7}\u{8}\u{c}\u{b}"),
            "\"\\n\\t\\r\\a\\b\\f\\v\""
        );
        assert_eq!(go_quote("\u{0}\u{1f}\u{7f}"), "\"\\x00\\x1f\\x7f\"");
        assert_eq!(go_quote("héllo ✓"), "\"héllo ✓\"");
        assert_eq!(
            go_quote("\u{200b}\u{a0}\u{feff}"),
            "\"\\u200b\\u00a0\\ufeff\""
        );
        assert_eq!(go_quote("\u{e0001}"), "\"\\U000e0001\"");
        assert_eq!(go_quote("\u{85}"), "\"\\u0085\"");
    }

    #[test]
    fn quote_invalid_utf8_bytes() {
        assert_eq!(go_quote_bytes(b"a\xffb\xc3"), "\"a\\xffb\\xc3\"");
        assert_eq!(go_quote_bytes("\u{fffd}".as_bytes()), "\"\u{fffd}\"");
    }

    #[test]
    fn json_strings_are_html_safe() {
        assert_eq!(go_json_string("-1m0s"), "\"-1m0s\"");
        assert_eq!(go_json_string("<a&b>"), "\"\\u003ca\\u0026b\\u003e\"");
        assert_eq!(
            go_json_string("\u{1}\u{8}\u{2028}\u{7f}"),
            "\"\\u0001\\b\\u2028\u{7f}\""
        );
        assert_eq!(
            go_json_string_list(&["a".to_string(), "b\"".to_string()]),
            "[\"a\",\"b\\\"\"]"
        );
        assert_eq!(go_json_string_list(&[]), "[]");
    }
}
