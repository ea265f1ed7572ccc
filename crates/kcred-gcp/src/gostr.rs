//! Go's `%q` (`strconv.Quote`) for the values quoted in upstream's error messages.

use std::fmt::Write;

/// Quotes `s` as Go's `strconv.Quote` does for the characters that occur in flag values
/// and environment variables: `\` and `"` escaped, C escapes for control characters,
/// `\xNN` for other ASCII controls and `\uNNNN` for C1 controls; printable text verbatim.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if ('\u{80}'..='\u{9f}').contains(&c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote("bad-flow"), "\"bad-flow\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("x\ny\t\u{1}"), "\"x\\ny\\t\\x01\"");
        assert_eq!(quote("é\u{85}"), "\"é\\u0085\"");
    }
}
