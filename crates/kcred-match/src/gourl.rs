//! Go `net/url` parsing as the kubelet uses it (`ParseSchemelessURL`, `SplitURL`), and
//! `URL.Hostname()`.
//!
//! The kubelet parses every `matchImages` entry, every auth key and every image with
//! `url.Parse("https://" + s)` and then ignores the scheme. This module reproduces what that
//! call observably does (spec kubelet-host.md §3.1, Go 1.24 `net/url`):
//!
//! - a control byte (< 0x20 or 0x7f) before the first `#` is an error;
//! - the fragment (after the first `#`) and the query (after the first `?`) are dropped,
//!   though an invalid `%` escape in the fragment is still an error;
//! - the authority runs up to the first `/`; userinfo (up to the last `@`) is validated and
//!   dropped;
//! - the host keeps its port; a bracketed host needs a `]`; the text after the port colon must
//!   be digits; only `%25` and escapes of non-ASCII bytes are allowed in the host, and only
//!   the characters `A-Za-z0-9 - . _ ~ ! $ & ' ( ) * + , ; = : [ ] < > "`;
//! - the path is percent-decoded; an invalid escape is an error.
//!
//! Go strings are byte strings and a decoded escape such as `%ff` is not UTF-8, so hosts and
//! paths are kept as bytes; [`SchemelessUrl::host`] and [`SchemelessUrl::path`] give lossy
//! UTF-8 views for display.
//!
//! [`url_hostname`] is the general `url.Parse(raw)` then `URL.Hostname()` (any scheme or
//! none), as the ECR plugin reads an image's registry host.
//!
//! Host parsing changed in the Go releases that built kubelets 1.26 to 1.37: every parse
//! takes a [`GoUrlParsing`] variant from the kubelet version table (`kcred-kubelet`):
//!
//! - before CVE-2025-47912 (Go ≤ 1.24.7): only a leading `[` is special and its content is
//!   not checked;
//! - CVE-2025-47912 (Go 1.24.8+/1.25.2+): the last `[` anywhere opens an IP literal that must
//!   be an IPv6 address (`invalid host: ParseAddr(…)`, `invalid IP-literal`); text before it
//!   is dropped; Go 1.24.8–1.24.9/1.25.2–1.25.3 also refuse IPv4-mapped addresses
//!   (`invalid IPv6 host`);
//! - CVE-2026-25679 (Go 1.25.8+/1.26.1+): a `[` that does not start the host is
//!   `invalid IP-literal`;
//! - strict colons (Go 1.26 with `godebug default=go1.26`): the port starts at the first
//!   colon of an `http(s)` host, so a second colon is `invalid port`.
//!
//! The functions without a variant use [`default_url_parsing`], the newest kubelet's.
//! [`rejecting_rule`] says which of these changes rejected an input.
//! [`url_hostname`] (the ECR plugin's registry host, not a kubelet parse) keeps the
//! pre-CVE-2025-47912 rules.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use kcred_api::gostr::strconv_quote_bytes;
pub use kcred_kubelet::GoUrlParsing;
use kcred_kubelet::KubeletVersion;

use crate::gonetip::{parse_addr, ParseAddrError, ParsedAddr};

/// The URL parsing of the newest kubelet kcred knows: what the functions without a variant
/// use.
pub fn default_url_parsing() -> GoUrlParsing {
    KubeletVersion::NEWEST.url_parsing()
}

/// The scheme the kubelet prepends before parsing (`ParseSchemelessURL`).
const HTTPS_PREFIX: &[u8] = b"https://";

/// A URL parsed by [`parse_schemeless_url`]: Go's `url.URL` with only the parts the
/// kubelet reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchemelessUrl {
    host: Vec<u8>,
    path: Vec<u8>,
}

impl SchemelessUrl {
    /// `u.Host`: the decoded host including any `:port` (lossy UTF-8 view).
    pub fn host(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.host)
    }

    /// `u.Path`: the percent-decoded path, without query or fragment (lossy UTF-8 view).
    pub fn path(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.path)
    }

    /// `u.Host` as the exact bytes Go holds.
    pub fn host_bytes(&self) -> &[u8] {
        &self.host
    }

    /// `u.Path` as the exact bytes Go holds.
    pub fn path_bytes(&self) -> &[u8] {
        &self.path
    }

    pub(crate) fn into_parts(self) -> (Vec<u8>, Vec<u8>) {
        (self.host, self.path)
    }
}

/// Why Go's `url.Parse` rejected a URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UrlErrorReason {
    /// `net/url: invalid control character in URL`.
    ControlCharacter,
    /// `missing ']' in host`.
    MissingBracket,
    /// `invalid port ":x" after host`; holds the text from the colon on.
    InvalidPort(Vec<u8>),
    /// `invalid URL escape "%zz"`; holds up to three bytes from the `%`.
    InvalidEscape(Vec<u8>),
    /// `invalid character "c" in host name`.
    InvalidHostCharacter(u8),
    /// `net/url: invalid userinfo`.
    InvalidUserinfo,
    /// `missing protocol scheme`: the URL starts with `:` ([`url_hostname`] only).
    MissingScheme,
    /// `first path segment in URL cannot contain colon`: a relative URL such as `1:x`
    /// ([`url_hostname`] only).
    ColonInFirstSegment,
    /// `invalid host: ParseAddr(…): …`: bracketed text that is not an IP address
    /// (CVE-2025-47912 and later).
    InvalidIpLiteralHost(ParseAddrError),
    /// `invalid IP-literal`: an IPv4 address in brackets (CVE-2025-47912 fix as released in
    /// Go 1.24.10+/1.25.4+), or a `[` that does not start the host (CVE-2026-25679).
    InvalidIpLiteral,
    /// `invalid IPv6 host`: an IPv4 or IPv4-mapped address in brackets (Go 1.24.8–1.24.9,
    /// 1.25.2–1.25.3).
    InvalidIpv6Host,
}

impl fmt::Display for UrlErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ControlCharacter => f.write_str("net/url: invalid control character in URL"),
            Self::MissingBracket => f.write_str("missing ']' in host"),
            Self::InvalidPort(port) => {
                write!(f, "invalid port {} after host", strconv_quote_bytes(port))
            }
            Self::InvalidEscape(esc) => {
                write!(f, "invalid URL escape {}", strconv_quote_bytes(esc))
            }
            Self::InvalidHostCharacter(c) => {
                write!(
                    f,
                    "invalid character {} in host name",
                    strconv_quote_bytes(&[*c])
                )
            }
            Self::InvalidUserinfo => f.write_str("net/url: invalid userinfo"),
            Self::MissingScheme => f.write_str("missing protocol scheme"),
            Self::ColonInFirstSegment => {
                f.write_str("first path segment in URL cannot contain colon")
            }
            Self::InvalidIpLiteralHost(e) => write!(f, "invalid host: {e}"),
            Self::InvalidIpLiteral => f.write_str("invalid IP-literal"),
            Self::InvalidIpv6Host => f.write_str("invalid IPv6 host"),
        }
    }
}

/// Go's `*url.Error` from `url.Parse`: displays as `parse "https://<s>": <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UrlError {
    url: Vec<u8>,
    reason: UrlErrorReason,
}

impl UrlError {
    /// The URL Go names in the message (with the `https://` prefix; without the fragment
    /// unless the fragment itself was at fault).
    pub fn url(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.url)
    }

    /// What was wrong.
    pub fn reason(&self) -> &UrlErrorReason {
        &self.reason
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "parse {}: {}",
            strconv_quote_bytes(&self.url),
            self.reason
        )
    }
}

impl std::error::Error for UrlError {}

/// The kubelet's `ParseSchemelessURL`: Go `url.Parse("https://" + s)` with the scheme
/// cleared.
///
/// ```
/// use kcred_match::gourl::parse_schemeless_url;
/// let u = parse_schemeless_url("user@registry.io:5000/a%2Fb?q#f").unwrap();
/// assert_eq!(u.host(), "registry.io:5000");
/// assert_eq!(u.path(), "/a/b");
/// let err = parse_schemeless_url("%invalid%").unwrap_err();
/// assert_eq!(err.to_string(), r#"parse "https://%invalid%": invalid URL escape "%in""#);
/// ```
pub fn parse_schemeless_url(s: &str) -> Result<SchemelessUrl, UrlError> {
    parse_schemeless_bytes(s.as_bytes(), default_url_parsing())
}

/// [`parse_schemeless_url`] as the Go of one kubelet parses it.
///
/// ```
/// use kcred_match::gourl::{parse_schemeless_url_as, GoUrlParsing};
/// assert!(parse_schemeless_url_as("myacr.[a-z]cr", GoUrlParsing::BeforeCve2025_47912).is_ok());
/// let err = parse_schemeless_url_as("myacr.[a-z]cr", GoUrlParsing::StrictColons).unwrap_err();
/// assert_eq!(err.to_string(), r#"parse "https://myacr.[a-z]cr": invalid IP-literal"#);
/// ```
pub fn parse_schemeless_url_as(s: &str, variant: GoUrlParsing) -> Result<SchemelessUrl, UrlError> {
    parse_schemeless_bytes(s.as_bytes(), variant)
}

/// When `s` fails to parse under `variant`: the variant of its lineage whose rule first
/// rejects it ([`GoUrlParsing::rule`] says it in words), with the error. `None` when `s`
/// parses.
///
/// ```
/// use kcred_match::gourl::{rejecting_rule, GoUrlParsing};
/// let (rule, _) = rejecting_rule("localhost:80:80", GoUrlParsing::StrictColons).unwrap();
/// assert_eq!(rule, GoUrlParsing::StrictColons);
/// let (rule, _) = rejecting_rule("%zz", GoUrlParsing::StrictColons).unwrap();
/// assert_eq!(rule, GoUrlParsing::BeforeCve2025_47912);
/// ```
pub fn rejecting_rule(s: &str, variant: GoUrlParsing) -> Option<(GoUrlParsing, UrlError)> {
    let err = parse_schemeless_url_as(s, variant).err()?;
    let rule = variant
        .lineage()
        .iter()
        .copied()
        .find(|v| parse_schemeless_url_as(s, *v).is_err())
        .unwrap_or(variant);
    Some((rule, err))
}

/// [`parse_schemeless_url`] on a Go byte string (keyring keys may hold decoded bytes).
pub(crate) fn parse_schemeless_bytes(
    s: &[u8],
    variant: GoUrlParsing,
) -> Result<SchemelessUrl, UrlError> {
    parse_after_scheme_as(HTTPS_PREFIX, s, variant)
}

/// Go `url.Parse(prefix + rest)` where `prefix` is a scheme and `//` (`"https://"`,
/// `"http://"`) or just `"//"`: `rest` starts with the authority; `variant` is the Go URL
/// parsing of the kubelet emulated.
pub(crate) fn parse_after_scheme_as(
    prefix: &[u8],
    rest: &[u8],
    variant: GoUrlParsing,
) -> Result<SchemelessUrl, UrlError> {
    let (before_fragment, fragment) = cut(rest, b'#');
    let error_without_fragment = |reason| UrlError {
        url: [prefix, before_fragment].concat(),
        reason,
    };

    if has_control_byte(before_fragment) {
        return Err(error_without_fragment(UrlErrorReason::ControlCharacter));
    }
    let (before_query, _query) = cut(before_fragment, b'?');
    let (authority, raw_path) = match before_query.iter().position(|&b| b == b'/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, &b""[..]),
    };
    // Go lowercases the scheme; only http and https hosts get strict colons.
    let scheme = prefix.strip_suffix(b"//").unwrap_or(prefix);
    let scheme = scheme.strip_suffix(b":").unwrap_or(scheme);
    let http = scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https");
    let host = parse_authority(authority, variant, http).map_err(error_without_fragment)?;
    let path = unescape(raw_path, Mode::Path)
        .map_err(error_without_fragment)?
        .into_owned();
    check_fragment(fragment, || [prefix, rest].concat())?;
    Ok(SchemelessUrl { host, path })
}

/// Go `url.Parse(raw)` then `URL.Hostname()`, for a URL with any scheme or none: the host
/// without its `:port` and without IPv6 brackets, `%`-escapes decoded, case kept; `""` when
/// the URL has no authority (`a/b`, `///x`, or an opaque URL such as `https:x`). A decoded
/// byte sequence that is not UTF-8 becomes U+FFFD, as Go's JSON encoding would show it.
///
/// Unlike [`split_url`] (Go `net.SplitHostPort`), `Hostname()` drops only a numeric port and
/// strips brackets without validating them: `a:b:80` gives `a:b`, `[::1]` gives `::1`.
///
/// ```
/// use kcred_match::gourl::url_hostname;
/// assert_eq!(url_hostname("https://[::1]:5000/x").unwrap(), "::1");
/// assert_eq!(url_hostname("http://Foo.io#x/y").unwrap(), "Foo.io");
/// let err = url_hostname("://a").unwrap_err();
/// assert_eq!(err.to_string(), r#"parse "://a": missing protocol scheme"#);
/// ```
pub fn url_hostname(raw: &str) -> Result<String, UrlError> {
    let url = parse_url(raw.as_bytes())?;
    Ok(String::from_utf8_lossy(hostname_of(&url.host)).into_owned())
}

/// Go `url.Parse(raw)` for any URL; only the host and path are kept.
fn parse_url(raw: &[u8]) -> Result<SchemelessUrl, UrlError> {
    let (before_fragment, fragment) = cut(raw, b'#');
    let error_without_fragment = |reason| UrlError {
        url: before_fragment.to_vec(),
        reason,
    };
    if has_control_byte(before_fragment) {
        return Err(error_without_fragment(UrlErrorReason::ControlCharacter));
    }
    let scheme_end = scheme_colon(before_fragment)
        .map_err(error_without_fragment)?
        .map_or(0, |colon| colon + 1);
    let has_scheme = scheme_end > 0;
    let rest = &before_fragment[scheme_end..];
    if rest.starts_with(b"//") && (has_scheme || !rest.starts_with(b"///")) {
        let authority_start = scheme_end + 2;
        return parse_after_scheme_as(
            &raw[..authority_start],
            &raw[authority_start..],
            GoUrlParsing::BeforeCve2025_47912,
        );
    }
    // No authority, so no host: only the errors remain to be found.
    let (before_query, _query) = cut(rest, b'?');
    if !before_query.starts_with(b"/") {
        if has_scheme {
            // An opaque URL (`scheme:opaque`): Go keeps it unparsed.
            check_fragment(fragment, || raw.to_vec())?;
            return Ok(SchemelessUrl {
                host: Vec::new(),
                path: Vec::new(),
            });
        }
        let (first_segment, _) = cut(before_query, b'/');
        if first_segment.contains(&b':') {
            return Err(error_without_fragment(UrlErrorReason::ColonInFirstSegment));
        }
    }
    let path = unescape(before_query, Mode::Path)
        .map_err(error_without_fragment)?
        .into_owned();
    check_fragment(fragment, || raw.to_vec())?;
    Ok(SchemelessUrl {
        host: Vec::new(),
        path,
    })
}

/// Go `getScheme`: the position of the `:` ending the scheme, `None` when the URL has no
/// scheme (it starts with a digit, `+`, `-`, `.` or a character a scheme cannot hold, or has
/// no `:`).
fn scheme_colon(raw: &[u8]) -> Result<Option<usize>, UrlErrorReason> {
    for (i, &c) in raw.iter().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err(UrlErrorReason::MissingScheme),
            b':' => return Ok(Some(i)),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// Go `url.splitHostPort` as `URL.Hostname()` uses it: drops a trailing `:digits` (or a
/// bare `:`), then one pair of enclosing brackets.
fn hostname_of(host: &[u8]) -> &[u8] {
    let mut name = host;
    if let Some(colon) = name.iter().rposition(|&b| b == b':') {
        if valid_optional_port(&name[colon..]) {
            name = &name[..colon];
        }
    }
    match name {
        [b'[', inner @ .., b']'] => inner,
        _ => name,
    }
}

/// Go `strings.Cut(s, sep)`: the bytes before the first `sep`, and those after it if found.
fn cut(s: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&b| b == sep) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

/// Go `stringContainsCTLByte`: a byte below 0x20 or 0x7f.
fn has_control_byte(s: &[u8]) -> bool {
    s.iter().any(|&b| b < 0x20 || b == 0x7f)
}

/// Go `URL.setFragment` as `Parse` calls it: an invalid escape in a non-empty fragment is an
/// error naming the whole URL (`whole_url`).
fn check_fragment(
    fragment: Option<&[u8]>,
    whole_url: impl FnOnce() -> Vec<u8>,
) -> Result<(), UrlError> {
    match fragment.filter(|f| !f.is_empty()) {
        Some(fragment) => match unescape(fragment, Mode::Fragment) {
            Ok(_) => Ok(()),
            Err(reason) => Err(UrlError {
                url: whole_url(),
                reason,
            }),
        },
        None => Ok(()),
    }
}

/// Go `parseAuthority`: host first, then the userinfo before the last `@`.
fn parse_authority(
    authority: &[u8],
    variant: GoUrlParsing,
    http: bool,
) -> Result<Vec<u8>, UrlErrorReason> {
    let at = authority.iter().rposition(|&b| b == b'@');
    let host_part = match at {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    let host = parse_host(host_part, variant, http)?;
    if let Some(i) = at {
        let userinfo = &authority[..i];
        if !valid_userinfo(userinfo) {
            return Err(UrlErrorReason::InvalidUserinfo);
        }
        match userinfo.iter().position(|&b| b == b':') {
            Some(colon) => {
                unescape(&userinfo[..colon], Mode::UserPassword)?;
                unescape(&userinfo[colon + 1..], Mode::UserPassword)?;
            }
            None => {
                unescape(userinfo, Mode::UserPassword)?;
            }
        }
    }
    Ok(host)
}

/// Go `parseHost` as `variant` does it (`http`: the scheme is http or https).
fn parse_host(host: &[u8], variant: GoUrlParsing, http: bool) -> Result<Vec<u8>, UrlErrorReason> {
    if !variant.ip_literal_must_be_ipv6() {
        return parse_host_before_cve_2025_47912(host);
    }
    if let Some(open) = host.iter().rposition(|&b| b == b'[') {
        if open > 0 && variant.ip_literal_must_start_host() {
            return Err(UrlErrorReason::InvalidIpLiteral);
        }
        return parse_ip_literal(host, open, variant);
    }
    if let Some(first) = host.iter().position(|&b| b == b':') {
        let last = host.iter().rposition(|&b| b == b':').unwrap_or(first);
        let colon = if variant.strict_colons() && http {
            first
        } else {
            last
        };
        let colon_port = &host[colon..];
        if !valid_optional_port(colon_port) {
            return Err(UrlErrorReason::InvalidPort(colon_port.to_vec()));
        }
    }
    Ok(unescape(host, Mode::Host)?.into_owned())
}

/// Go 1.24.8+/1.25.2+ `parseHost` for a host holding `[` at `open` (the last one): the text
/// between it and the last `]` must be an IPv6 address; text before `open` is dropped.
fn parse_ip_literal(
    host: &[u8],
    open: usize,
    variant: GoUrlParsing,
) -> Result<Vec<u8>, UrlErrorReason> {
    let close = host
        .iter()
        .rposition(|&b| b == b']')
        .ok_or(UrlErrorReason::MissingBracket)?;
    let colon_port = &host[close + 1..];
    if !valid_optional_port(colon_port) {
        return Err(UrlErrorReason::InvalidPort(colon_port.to_vec()));
    }
    // `close > open` here: a `]` before the last `[` leaves that `[` in `colon_port`.
    let hostname = &host[open + 1..close];
    let mut unescaped = match find(hostname, b"%25") {
        Some(zone) => {
            let mut out = unescape(&hostname[..zone], Mode::Host)?.into_owned();
            out.extend_from_slice(&unescape(&hostname[zone..], Mode::Zone)?);
            out
        }
        None => unescape(hostname, Mode::Host)?.into_owned(),
    };
    match parse_addr(&unescaped).map_err(UrlErrorReason::InvalidIpLiteralHost)? {
        ParsedAddr::V4 if variant.rejects_ipv4_mapped() => {
            return Err(UrlErrorReason::InvalidIpv6Host)
        }
        ParsedAddr::V4 => return Err(UrlErrorReason::InvalidIpLiteral),
        ParsedAddr::V6 { ipv4_mapped: true } if variant.rejects_ipv4_mapped() => {
            return Err(UrlErrorReason::InvalidIpv6Host)
        }
        ParsedAddr::V6 { .. } => {}
    }
    let mut out = Vec::with_capacity(unescaped.len() + colon_port.len() + 2);
    out.push(b'[');
    out.append(&mut unescaped);
    out.push(b']');
    out.extend_from_slice(colon_port);
    Ok(out)
}

/// Go `parseHost` before CVE-2025-47912 (Go ≤ 1.24.7, ≤ 1.25.1).
fn parse_host_before_cve_2025_47912(host: &[u8]) -> Result<Vec<u8>, UrlErrorReason> {
    if host.first() == Some(&b'[') {
        let close = host
            .iter()
            .rposition(|&b| b == b']')
            .ok_or(UrlErrorReason::MissingBracket)?;
        let colon_port = &host[close + 1..];
        if !valid_optional_port(colon_port) {
            return Err(UrlErrorReason::InvalidPort(colon_port.to_vec()));
        }
        if let Some(zone) = find(&host[..close], b"%25") {
            let mut out = unescape(&host[..zone], Mode::Host)?.into_owned();
            out.extend_from_slice(&unescape(&host[zone..close], Mode::Zone)?);
            out.extend_from_slice(&unescape(&host[close..], Mode::Host)?);
            return Ok(out);
        }
    } else if let Some(colon) = host.iter().rposition(|&b| b == b':') {
        let colon_port = &host[colon..];
        if !valid_optional_port(colon_port) {
            return Err(UrlErrorReason::InvalidPort(colon_port.to_vec()));
        }
    }
    Ok(unescape(host, Mode::Host)?.into_owned())
}

/// Go `validOptionalPort`: empty, or `:` followed by digits only.
fn valid_optional_port(port: &[u8]) -> bool {
    match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

/// Go `validUserinfo` (RFC 3986 §3.2.1 characters, plus `%` and `@`).
fn valid_userinfo(userinfo: &[u8]) -> bool {
    userinfo.iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b':'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'%'
                    | b'@'
            )
    })
}

/// Which part of the URL is being unescaped (Go's `encoding` modes that `Parse` uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

/// Go `shouldEscape(c, encodeHost)` for an ASCII byte: false for the characters a host may
/// hold as they are.
fn host_byte_needs_escape(c: u8) -> bool {
    !(c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'_'
                | b'.'
                | b'~'
                | b'!'
                | b'$'
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
        ))
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Go `unescape(s, mode)`: checks every `%` escape (and, in host modes, the characters),
/// then decodes the escapes. `+` is kept as is in every mode used here.
fn unescape(s: &[u8], mode: Mode) -> Result<Cow<'_, [u8]>, UrlErrorReason> {
    let mut escapes = 0usize;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'%' {
            let (Some(hi), Some(lo)) = (
                s.get(i + 1).copied().and_then(hex_value),
                s.get(i + 2).copied().and_then(hex_value),
            ) else {
                let end = (i + 3).min(s.len());
                return Err(UrlErrorReason::InvalidEscape(s[i..end].to_vec()));
            };
            let escape = &s[i..i + 3];
            match mode {
                Mode::Host if hi < 8 && escape != b"%25" => {
                    return Err(UrlErrorReason::InvalidEscape(escape.to_vec()));
                }
                Mode::Zone => {
                    let v = (hi << 4) | lo;
                    if escape != b"%25" && v != b' ' && (v >= 0x80 || host_byte_needs_escape(v)) {
                        return Err(UrlErrorReason::InvalidEscape(escape.to_vec()));
                    }
                }
                _ => {}
            }
            escapes += 1;
            i += 3;
        } else {
            if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && host_byte_needs_escape(c) {
                return Err(UrlErrorReason::InvalidHostCharacter(c));
            }
            i += 1;
        }
    }
    if escapes == 0 {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = Vec::with_capacity(s.len() - 2 * escapes);
    let mut i = 0;
    while i < s.len() {
        match (
            s[i],
            s.get(i + 1).copied().and_then(hex_value),
            s.get(i + 2).copied().and_then(hex_value),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi << 4) | lo);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(Cow::Owned(out))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Go `net.SplitHostPort`: `Ok((host, port))` as byte ranges into `hostport`, or `Err(())`
/// where Go returns an error (missing port, too many colons, misplaced brackets).
fn split_host_port(hostport: &[u8]) -> Result<(Range<usize>, Range<usize>), ()> {
    let last_colon = hostport.iter().rposition(|&b| b == b':').ok_or(())?;
    let (host, no_open_from, no_close_from) = if hostport.first() == Some(&b'[') {
        let end = hostport.iter().position(|&b| b == b']').ok_or(())?;
        if end + 1 != last_colon {
            // Either nothing follows `]`, `]` is not followed by the last colon, or there is
            // more than one colon after it: Go reports an error in every case.
            return Err(());
        }
        (1..end, 1, end + 1)
    } else {
        if hostport[..last_colon].contains(&b':') {
            return Err(());
        }
        (0..last_colon, 0, 0)
    };
    if hostport[no_open_from..].contains(&b'[') || hostport[no_close_from..].contains(&b']') {
        return Err(());
    }
    Ok((host, last_colon + 1..hostport.len()))
}

/// The kubelet's `SplitURL` on a host: `net.SplitHostPort`, falling back to the whole host
/// and an empty port when Go reports an error. Returns `(hostname, port)` ranges.
pub(crate) fn split_host_lenient(host: &[u8]) -> (Range<usize>, Range<usize>) {
    split_host_port(host).unwrap_or((0..host.len(), host.len()..host.len()))
}

/// The kubelet's `SplitURL(u)`: the host's labels (split on `.`) and its port (`""` when
/// there is none, when the host ends in `:`, or when `net.SplitHostPort` fails).
///
/// ```
/// use kcred_match::gourl::{parse_schemeless_url, split_url};
/// let u = parse_schemeless_url("[::1]:5000/x").unwrap();
/// assert_eq!(split_url(&u), (vec!["::1".into()], "5000".into()));
/// let u = parse_schemeless_url("a.b.io/x").unwrap();
/// assert_eq!(split_url(&u), (vec!["a".into(), "b".into(), "io".into()], "".into()));
/// ```
pub fn split_url(url: &SchemelessUrl) -> (Vec<Cow<'_, str>>, Cow<'_, str>) {
    let (hostname, port) = split_host_lenient(&url.host);
    let labels = url.host[hostname]
        .split(|&b| b == b'.')
        .map(String::from_utf8_lossy)
        .collect();
    (labels, String::from_utf8_lossy(&url.host[port]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        match parse_schemeless_url(s) {
            Ok(u) => panic!("{s:?} parsed as {u:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn ok(s: &str) -> (String, String) {
        match parse_schemeless_url(s) {
            Ok(u) => (u.host().into_owned(), u.path().into_owned()),
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    #[test]
    fn upstream_invalid_escape_message() {
        assert_eq!(
            err("%invalid%"),
            r#"parse "https://%invalid%": invalid URL escape "%in""#
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            err("a\x01b"),
            r#"parse "https://a\x01b": net/url: invalid control character in URL"#
        );
        assert_eq!(
            err("registry.io:x/app"),
            r#"parse "https://registry.io:x/app": invalid port ":x" after host"#
        );
        assert_eq!(
            err("reg{x}.io"),
            r#"parse "https://reg{x}.io": invalid character "{" in host name"#
        );
        assert_eq!(err("[::1"), r#"parse "https://[::1": missing ']' in host"#);
        assert_eq!(
            err("a b@host"),
            r#"parse "https://a b@host": net/url: invalid userinfo"#
        );
        assert_eq!(
            err("host/%zz?q#frag"),
            r#"parse "https://host/%zz?q": invalid URL escape "%zz""#
        );
        assert_eq!(
            err("host/ok#%zz"),
            r#"parse "https://host/ok#%zz": invalid URL escape "%zz""#
        );
        assert_eq!(
            err("host/%4"),
            r#"parse "https://host/%4": invalid URL escape "%4""#
        );
        assert_eq!(
            err("%41.io"),
            r#"parse "https://%41.io": invalid URL escape "%41""#
        );
        assert_eq!(
            err("host/%aé"),
            r#"parse "https://host/%aé": invalid URL escape "%a\xc3""#
        );
        assert_eq!(
            err("a:ü"),
            r#"parse "https://a:ü": invalid port ":ü" after host"#
        );
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(ok("registry.io/a/b"), ("registry.io".into(), "/a/b".into()));
        assert_eq!(ok("*.io:5000"), ("*.io:5000".into(), "".into()));
        assert_eq!(ok("u:p@w@h.io/x"), ("h.io".into(), "/x".into()));
        assert_eq!(ok("h.io/a%2Fb%20c"), ("h.io".into(), "/a/b c".into()));
        assert_eq!(ok("h.io/x?y/z#w"), ("h.io".into(), "/x".into()));
        assert_eq!(ok("h.io#frag\x01"), ("h.io".into(), "".into()));
        assert_eq!(
            ok("[fe80::1%25en0]:80/p"),
            ("[fe80::1%en0]:80".into(), "/p".into())
        );
        assert_eq!(ok("%c3%bc.io"), ("ü.io".into(), "".into()));
        assert_eq!(ok("a%25b"), ("a%b".into(), "".into()));
        assert_eq!(ok("h:"), ("h:".into(), "".into()));
        assert_eq!(ok(""), ("".into(), "".into()));
        assert_eq!(ok("a<b>\"c"), ("a<b>\"c".into(), "".into()));
    }

    fn hostname(s: &str) -> String {
        match url_hostname(s) {
            Ok(h) => h,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    #[test]
    fn hostnames_as_go_finds_them() {
        assert_eq!(hostname("https://a.b:443/x"), "a.b");
        assert_eq!(hostname("https://[::1]:5000/x"), "::1");
        assert_eq!(hostname("https://[::1]/x"), "::1");
        assert_eq!(hostname("https://A.B/x"), "A.B");
        assert_eq!(hostname("https://a.b#c.d/x"), "a.b");
        assert_eq!(hostname("https://user:pw@a.b/x"), "a.b");
        assert_eq!(hostname("https://a%C3%A9b/x"), "a\u{e9}b");
        assert_eq!(hostname("https://a.b?x=1"), "a.b");
        assert_eq!(hostname("https://a.b:/x"), "a.b");
        assert_eq!(hostname("http://foobar"), "foobar");
        assert_eq!(hostname("HTTP+x-1.z://h.io/p"), "h.io");
        // `Hostname()` is not `net.SplitHostPort`: only a numeric port goes.
        assert_eq!(hostname("https://a:b:80/x"), "a:b");
        // No authority: no host.
        assert_eq!(hostname("https:///x"), "");
        assert_eq!(hostname("https:opaque"), "");
        assert_eq!(hostname("a/b://c"), "");
        assert_eq!(hostname("///x"), "");
        assert_eq!(hostname("/x://y"), "");
        assert_eq!(hostname("1a/x://y"), "");
        assert_eq!(hostname("//h.io:5000/x://y"), "h.io");
        assert_eq!(hostname(""), "");
    }

    #[test]
    fn hostname_errors_with_go_wording() {
        let e = |s: &str| match url_hostname(s) {
            Ok(h) => panic!("{s:?} gave host {h:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            e("https://foobar  "),
            r#"parse "https://foobar  ": invalid character " " in host name"#
        );
        assert_eq!(
            e("https://a.b:x/y"),
            r#"parse "https://a.b:x/y": invalid port ":x" after host"#
        );
        assert_eq!(
            e("https://a%2Eb/x#f"),
            r#"parse "https://a%2Eb/x": invalid URL escape "%2E""#
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
            e("_x://a?b#c"),
            r#"parse "_x://a?b": first path segment in URL cannot contain colon"#
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
            e("https:opaque#%zz"),
            r#"parse "https:opaque#%zz": invalid URL escape "%zz""#
        );
        assert_eq!(
            e("a/%zz://b"),
            r#"parse "a/%zz://b": invalid URL escape "%zz""#
        );
        assert_eq!(
            e("a/b://c#%z"),
            r#"parse "a/b://c#%z": invalid URL escape "%z""#
        );
        assert_eq!(e("//[::1/x"), r#"parse "//[::1/x": missing ']' in host"#);
    }

    proptest::proptest! {
        /// With the `https://` prefix, `url_hostname` is `ParseSchemelessURL` (with the
        /// pre-CVE-2025-47912 rules it keeps) then `Hostname()`: the same error, or the same
        /// host less port and brackets.
        #[test]
        fn hostname_agrees_with_schemeless_parse(
            s in "[a-zA-Z:/@\\[\\]%#?0-9. _+é\u{1}]{0,30}",
        ) {
            let with_scheme = url_hostname(&format!("https://{s}"));
            match parse_schemeless_url_as(&s, GoUrlParsing::BeforeCve2025_47912) {
                Ok(u) => proptest::prop_assert_eq!(
                    with_scheme,
                    Ok(String::from_utf8_lossy(hostname_of(u.host_bytes())).into_owned())
                ),
                Err(e) => proptest::prop_assert_eq!(with_scheme, Err(e)),
            }
            // Any raw input (any scheme or none) parses or fails without panicking.
            let _ = url_hostname(&s);
        }
    }

    #[test]
    fn split_host_port_like_go() {
        let split = |s: &str| {
            split_host_port(s.as_bytes())
                .map(|(h, p)| (s[h].to_string(), s[p].to_string()))
                .ok()
        };
        assert_eq!(split("a.io:80"), Some(("a.io".into(), "80".into())));
        assert_eq!(split("a.io:"), Some(("a.io".into(), "".into())));
        assert_eq!(split("[::1]:80"), Some(("::1".into(), "80".into())));
        assert_eq!(split("a.io"), None);
        assert_eq!(split("[::1]"), None);
        assert_eq!(split("a:b:80"), None);
        assert_eq!(split("[a]b:80"), None);
        assert_eq!(split("[a]:8:0"), None);
        assert_eq!(split("a[b:80"), None);
        assert_eq!(split("a]b:80"), None);
    }
}
