//! The host of a URL as Go's `net/url` finds it: `url.Parse(raw)` then `URL.Hostname()`.
//!
//! Upstream's `parseHostFromImageReference` prefixes `https://` to an image without `://` and
//! parses it with `url.Parse`; the registry host and the auth key come from `Hostname()`. That
//! decides some surprising results a drop-in must reproduce: `#` starts a fragment (so
//! `a.b#c` has host `a.b`), the port is dropped, IPv6 brackets are stripped, case is kept, and
//! a space or an invalid `%` escape anywhere fails the whole parse. This module follows the Go
//! 1.19 `net/url` algorithm for the parts that decide the host or an error; it keeps no path,
//! query or user information.

use std::fmt;

/// Why Go's `url.Parse` rejects a URL. `Display` is Go's `err.Error()`:
/// `parse "<url>": <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse {}: {reason}", go_quote(url))]
pub struct GoUrlError {
    /// The URL as Go reports it (without the fragment when the error is not in the fragment).
    pub url: String,
    /// Go's reason.
    pub reason: UrlErrorReason,
}

/// The reason part of a [`GoUrlError`], with Go's wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlErrorReason {
    /// A byte below 0x20 or 0x7f.
    ControlCharacter,
    /// `:` before any scheme character.
    MissingScheme,
    /// A schemeless URL whose first path segment has a colon.
    ColonInFirstSegment,
    /// A character that may not appear in a host name (Go `InvalidHostError`).
    InvalidHostCharacter(String),
    /// A malformed or forbidden `%` escape (Go `EscapeError`).
    InvalidEscape(String),
    /// `[` without a closing `]`.
    MissingBracket,
    /// A port that is not all digits.
    InvalidPort(String),
    /// User information with characters Go does not allow.
    InvalidUserinfo,
}

impl fmt::Display for UrlErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ControlCharacter => f.write_str("net/url: invalid control character in URL"),
            Self::MissingScheme => f.write_str("missing protocol scheme"),
            Self::ColonInFirstSegment => {
                f.write_str("first path segment in URL cannot contain colon")
            }
            Self::InvalidHostCharacter(c) => {
                write!(f, "invalid character {} in host name", go_quote(c))
            }
            Self::InvalidEscape(s) => write!(f, "invalid URL escape {}", go_quote(s)),
            Self::MissingBracket => f.write_str("missing ']' in host"),
            Self::InvalidPort(p) => write!(f, "invalid port {} after host", go_quote(p)),
            Self::InvalidUserinfo => f.write_str("net/url: invalid userinfo"),
        }
    }
}

/// What `url.Parse(raw)` then `Hostname()` returns: the host without port and brackets,
/// `%`-escapes decoded, case kept. An URL without an authority has host `""`.
pub fn hostname(raw: &str) -> Result<String, GoUrlError> {
    let (without_fragment, fragment) = match raw.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (raw, None),
    };
    let host = parse_host_part(without_fragment).map_err(|reason| GoUrlError {
        url: without_fragment.to_owned(),
        reason,
    })?;
    if let Some(fragment) = fragment {
        unescape(fragment, Mode::Fragment).map_err(|reason| GoUrlError {
            url: raw.to_owned(),
            reason,
        })?;
    }
    Ok(split_host_port(&host).to_owned())
}

/// Go's `parse(rawURL, viaRequest=false)`, returning `URL.Host` (with port).
fn parse_host_part(raw: &str) -> Result<String, UrlErrorReason> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(UrlErrorReason::ControlCharacter);
    }
    let (scheme, rest) = split_scheme(raw)?;
    let rest = match rest.split_once('?') {
        Some((before, _query)) => before,
        None => rest,
    };
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            // A rootless path: an opaque URL, no host.
            return Ok(String::new());
        }
        let first_segment = rest.split('/').next().unwrap_or("");
        if first_segment.contains(':') {
            return Err(UrlErrorReason::ColonInFirstSegment);
        }
    }
    let mut host = String::new();
    let mut path = rest;
    if (!scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_and_path = &rest[2..];
        let (authority, p) = match authority_and_path.find('/') {
            Some(i) => authority_and_path.split_at(i),
            None => (authority_and_path, ""),
        };
        host = parse_authority(authority)?;
        path = p;
    }
    unescape(path, Mode::Path)?;
    Ok(host)
}

/// Go's `getScheme`: the scheme (possibly empty) and the rest.
fn split_scheme(raw: &str) -> Result<(&str, &str), UrlErrorReason> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err(UrlErrorReason::MissingScheme);
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

/// Go's `parseAuthority`: validates user information and returns the parsed host.
fn parse_authority(authority: &str) -> Result<String, UrlErrorReason> {
    match authority.rfind('@') {
        None => parse_host(authority),
        Some(i) => {
            let host = parse_host(&authority[i + 1..])?;
            let userinfo = &authority[..i];
            if !valid_userinfo(userinfo) {
                return Err(UrlErrorReason::InvalidUserinfo);
            }
            match userinfo.split_once(':') {
                Some((user, password)) => {
                    unescape(user, Mode::UserPassword)?;
                    unescape(password, Mode::UserPassword)?;
                }
                None => {
                    unescape(userinfo, Mode::UserPassword)?;
                }
            }
            Ok(host)
        }
    }
}

/// Go's `parseHost` (1.19): port syntax and host characters.
fn parse_host(host: &str) -> Result<String, UrlErrorReason> {
    if host.starts_with('[') {
        let close = host.rfind(']').ok_or(UrlErrorReason::MissingBracket)?;
        let colon_port = &host[close + 1..];
        if !valid_optional_port(colon_port) {
            return Err(UrlErrorReason::InvalidPort(colon_port.to_owned()));
        }
        if let Some(zone) = host[..close].find("%25") {
            let mut out = unescape(&host[..zone], Mode::Host)?;
            out.push_str(&unescape(&host[zone..close], Mode::Zone)?);
            out.push_str(&unescape(&host[close..], Mode::Host)?);
            return Ok(out);
        }
    } else if let Some(i) = host.rfind(':') {
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(UrlErrorReason::InvalidPort(colon_port.to_owned()));
        }
    }
    unescape(host, Mode::Host)
}

/// Go's `validOptionalPort`: empty, or `:` followed by ASCII digits only.
fn valid_optional_port(port: &str) -> bool {
    if port.is_empty() {
        return true;
    }
    match port.strip_prefix(':') {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// Go's `validUserinfo`.
fn valid_userinfo(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | ':'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
                    | '@'
            )
    })
}

/// Go's `splitHostPort` as used by `URL.Hostname()`.
fn split_host_port(host_port: &str) -> &str {
    let mut host = host_port;
    if let Some(colon) = host.rfind(':') {
        if valid_optional_port(&host[colon..]) {
            host = &host[..colon];
        }
    }
    if host.len() >= 2 && host.starts_with('[') && host.ends_with(']') {
        host = &host[1..host.len() - 1];
    }
    host
}

/// The escaping contexts of Go's `unescape` that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Host,
    Zone,
    Path,
    UserPassword,
    Fragment,
}

/// Go's `unescape(s, mode)`: decodes `%XX` escapes, rejecting what Go rejects.
fn unescape(s: &str, mode: Mode) -> Result<String, UrlErrorReason> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
            let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                let end = (i + 3).min(bytes.len());
                return Err(UrlErrorReason::InvalidEscape(lossy(&bytes[i..end])));
            };
            let escape = &bytes[i..i + 3];
            if mode == Mode::Host && hi < 8 && escape != b"%25" {
                return Err(UrlErrorReason::InvalidEscape(lossy(escape)));
            }
            if mode == Mode::Zone {
                let v = (hi * 16 + lo) as u8;
                if escape != b"%25" && v != b' ' && should_escape(v, Mode::Host) {
                    return Err(UrlErrorReason::InvalidEscape(lossy(escape)));
                }
            }
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                return Err(UrlErrorReason::InvalidHostCharacter(
                    (c as char).to_string(),
                ));
            }
            out.push(c);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Go's `shouldEscape` for the modes used here.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => return false,
            Mode::Host | Mode::Zone => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

/// Go's `%q` (`strconv.Quote`) for the strings that appear in these messages: `"` and `\`
/// escaped, control and non-space whitespace characters as Go escapes, other characters
/// kept.
pub fn go_quote(s: &str) -> String {
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
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> String {
        match hostname(s) {
            Ok(h) => h,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn hosts_as_go_finds_them() {
        assert_eq!(host("https://a.b:443/x"), "a.b");
        assert_eq!(host("https://[::1]:5000/x"), "::1");
        assert_eq!(host("https://[::1]/x"), "::1");
        assert_eq!(host("https://A.B/x"), "A.B");
        assert_eq!(host("https://a.b#c.d/x"), "a.b");
        assert_eq!(host("https://user:pw@a.b/x"), "a.b");
        assert_eq!(host("https://a%C3%A9b/x"), "a\u{e9}b");
        assert_eq!(host("https://a.b?x=1"), "a.b");
        assert_eq!(host("https:///x"), "");
        assert_eq!(host("https:opaque"), "");
        assert_eq!(host("http://foobar"), "foobar");
        assert_eq!(host("https://a.b:/x"), "a.b");
    }

    #[test]
    fn errors_with_go_wording() {
        let e = |s: &str| hostname(s).unwrap_err().to_string();
        assert_eq!(
            e("https://foobar  "),
            r#"parse "https://foobar  ": invalid character " " in host name"#
        );
        assert_eq!(
            e("https://a.b:x/y"),
            r#"parse "https://a.b:x/y": invalid port ":x" after host"#
        );
        assert_eq!(
            e("https://a.b/%zz"),
            r#"parse "https://a.b/%zz": invalid URL escape "%zz""#
        );
        assert_eq!(
            e("https://a%41b/"),
            r#"parse "https://a%41b/": invalid URL escape "%41""#
        );
        assert_eq!(
            e("https://a%2Eb/x"),
            r#"parse "https://a%2Eb/x": invalid URL escape "%2E""#
        );
        assert_eq!(
            e("https://[::1/x"),
            r#"parse "https://[::1/x": missing ']' in host"#
        );
        assert_eq!(
            e("https://a\nb"),
            r#"parse "https://a\nb": net/url: invalid control character in URL"#
        );
        assert_eq!(e("://a"), r#"parse "://a": missing protocol scheme"#);
        assert_eq!(
            e("1://a"),
            r#"parse "1://a": first path segment in URL cannot contain colon"#
        );
        assert_eq!(
            e("https://a b@c/"),
            r#"parse "https://a b@c/": net/url: invalid userinfo"#
        );
        assert_eq!(
            e("https://a.b/#%zz"),
            r#"parse "https://a.b/#%zz": invalid URL escape "%zz""#
        );
        assert_eq!(
            e("https://a.b/%4"),
            r#"parse "https://a.b/%4": invalid URL escape "%4""#
        );
    }

    #[test]
    fn quote_like_go() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("\u{1}"), r#""\x01""#);
        assert_eq!(go_quote("\u{a0}"), r#""\u00a0""#);
        assert_eq!(go_quote("١٢"), "\"١٢\"");
    }
}
