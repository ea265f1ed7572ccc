//! Go package `strconv`: quoting and `ParseBool`.

use std::fmt;

pub use crate::gostr::{is_print, strconv_quote as quote, strconv_quote_bytes as quote_bytes};

/// Go's `strconv.ParseBool`: exactly `1 t T TRUE true True` are true and
/// `0 f F FALSE false False` are false; anything else (including `yes`, `on`, ` true`, `tRUE`)
/// is an error whose text is Go's `*strconv.NumError`.
///
/// ```
/// use kcred_api::go::strconv::parse_bool;
/// assert_eq!(parse_bool("T"), Ok(true));
/// assert_eq!(parse_bool("False"), Ok(false));
/// assert_eq!(
///     parse_bool("yes").unwrap_err().to_string(),
///     r#"strconv.ParseBool: parsing "yes": invalid syntax"#
/// );
/// ```
pub fn parse_bool(s: &str) -> Result<bool, ParseBoolError> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(ParseBoolError {
            input: s.to_owned(),
        }),
    }
}

/// `strconv.ParseBool`'s error (Go `*strconv.NumError` with `ErrSyntax`).
///
/// `Display` is `strconv.ParseBool: parsing "<input>": invalid syntax`, the input quoted
/// with [`quote`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseBoolError {
    input: String,
}

impl ParseBoolError {
    /// The rejected input, as given.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for ParseBoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "strconv.ParseBool: parsing {}: invalid syntax",
            quote(&self.input)
        )
    }
}

impl std::error::Error for ParseBoolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_exactly_gos_set() {
        for s in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(s), Ok(true), "{s}");
        }
        for s in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(s), Ok(false), "{s}");
        }
        for s in [
            "", "yes", "no", "on", "off", "y", "n", "tRUE", "fALSE", " true", "true ", "01", "2",
            "TrUe", "\u{0}",
        ] {
            assert!(parse_bool(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn error_text_is_gos() {
        assert_eq!(
            parse_bool("maybe").unwrap_err().to_string(),
            r#"strconv.ParseBool: parsing "maybe": invalid syntax"#
        );
        assert_eq!(
            parse_bool("").unwrap_err().to_string(),
            r#"strconv.ParseBool: parsing "": invalid syntax"#
        );
        assert_eq!(
            parse_bool("a\"\n\u{7f}").unwrap_err().to_string(),
            r#"strconv.ParseBool: parsing "a\"\n\x7f": invalid syntax"#
        );
        assert_eq!(parse_bool("x").unwrap_err().input(), "x");
    }
}
