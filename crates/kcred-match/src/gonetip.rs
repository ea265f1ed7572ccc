//! Go `net/netip.ParseAddr`, as far as `net/url` uses it to check a bracketed host
//! (Go 1.24.8+ / 1.25.2+, CVE-2025-47912): whether the text is an IPv4 address, an IPv6
//! address (and whether that is IPv4-mapped), or which error Go reports, with Go's exact text.

use std::fmt;

use kcred_api::gostr::strconv_quote_bytes;

/// What `netip.ParseAddr` made of a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParsedAddr {
    /// `Addr.Is4()`.
    V4,
    /// An IPv6 address (any zone); `ipv4_mapped` is `Addr.Is4In6()` (`::ffff:a.b.c.d`).
    V6 {
        /// `Addr.Is4In6()`.
        ipv4_mapped: bool,
    },
}

/// Go's `parseAddrError`: `ParseAddr("<in>"): <msg>` with an optional ` (at "<at>")`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParseAddrError {
    input: Vec<u8>,
    msg: &'static str,
    at: Vec<u8>,
}

impl ParseAddrError {
    fn new(input: &[u8], msg: &'static str) -> Self {
        ParseAddrError {
            input: input.to_vec(),
            msg,
            at: Vec::new(),
        }
    }

    fn at(input: &[u8], msg: &'static str, at: &[u8]) -> Self {
        ParseAddrError {
            input: input.to_vec(),
            msg,
            at: at.to_vec(),
        }
    }

    /// The explanation (`unable to parse IP`, `IPv4 address too short`, ...).
    pub fn message(&self) -> &'static str {
        self.msg
    }
}

impl fmt::Display for ParseAddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ParseAddr({}): {}",
            strconv_quote_bytes(&self.input),
            self.msg
        )?;
        if !self.at.is_empty() {
            write!(f, " (at {})", strconv_quote_bytes(&self.at))?;
        }
        Ok(())
    }
}

/// Go `netip.ParseAddr(s)`: the first `.`, `:` or `%` decides how `s` is read.
pub(crate) fn parse_addr(s: &[u8]) -> Result<ParsedAddr, ParseAddrError> {
    for &c in s {
        match c {
            b'.' => {
                parse_ipv4_fields(s, 0, s.len(), &mut [0; 4])?;
                return Ok(ParsedAddr::V4);
            }
            b':' => return parse_ipv6(s),
            b'%' => return Err(ParseAddrError::new(s, "missing IPv6 address")),
            _ => {}
        }
    }
    Err(ParseAddrError::new(s, "unable to parse IP"))
}

/// Go `parseIPv4Fields(in, off, end, fields)`.
fn parse_ipv4_fields(
    input: &[u8],
    off: usize,
    end: usize,
    fields: &mut [u8],
) -> Result<(), ParseAddrError> {
    let (mut val, mut pos, mut dig_len) = (0u32, 0usize, 0usize);
    let s = &input[off..end];
    for (i, &c) in s.iter().enumerate() {
        if c.is_ascii_digit() {
            if dig_len == 1 && val == 0 {
                return Err(ParseAddrError::new(
                    input,
                    "IPv4 field has octet with leading zero",
                ));
            }
            val = val * 10 + u32::from(c - b'0');
            dig_len += 1;
            if val > 255 {
                return Err(ParseAddrError::new(input, "IPv4 field has value >255"));
            }
        } else if c == b'.' {
            if i == 0 || i == s.len() - 1 || s[i - 1] == b'.' {
                return Err(ParseAddrError::at(
                    input,
                    "IPv4 field must have at least one digit",
                    &s[i..],
                ));
            }
            if pos == 3 {
                return Err(ParseAddrError::new(input, "IPv4 address too long"));
            }
            fields[pos] = val as u8;
            pos += 1;
            val = 0;
            dig_len = 0;
        } else {
            return Err(ParseAddrError::at(input, "unexpected character", &s[i..]));
        }
    }
    if pos < 3 {
        return Err(ParseAddrError::new(input, "IPv4 address too short"));
    }
    fields[3] = val as u8;
    Ok(())
}

fn hex_digit(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'f' => Some(u32::from(c - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(c - b'A' + 10)),
        _ => None,
    }
}

/// Go `parseIPv6(in)`.
fn parse_ipv6(input: &[u8]) -> Result<ParsedAddr, ParseAddrError> {
    let mut s = input;
    let mut zone: &[u8] = &[];
    if let Some(i) = input.iter().position(|&b| b == b'%') {
        s = &input[..i];
        zone = &input[i + 1..];
        if zone.is_empty() {
            return Err(ParseAddrError::new(
                input,
                "zone must be a non-empty string",
            ));
        }
    }
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if s.len() >= 2 && s[0] == b':' && s[1] == b':' {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Ok(classify(&ip));
        }
    }
    let mut i = 0usize;
    while i < 16 {
        let mut off = 0usize;
        let mut acc = 0u32;
        while off < s.len() {
            let Some(d) = hex_digit(s[off]) else { break };
            acc = (acc << 4) + d;
            if off > 3 {
                return Err(ParseAddrError::at(
                    input,
                    "each group must have 4 or less digits",
                    s,
                ));
            }
            if acc > 0xffff {
                return Err(ParseAddrError::at(input, "IPv6 field has value >=2^16", s));
            }
            off += 1;
        }
        if off == 0 {
            return Err(ParseAddrError::at(
                input,
                "each colon-separated field must have at least one digit",
                s,
            ));
        }
        if off < s.len() && s[off] == b'.' {
            if ellipsis.is_none() && i != 12 {
                return Err(ParseAddrError::at(
                    input,
                    "embedded IPv4 address must replace the final 2 fields of the address",
                    s,
                ));
            }
            if i + 4 > 16 {
                return Err(ParseAddrError::at(
                    input,
                    "too many hex fields to fit an embedded IPv4 at the end of the address",
                    s,
                ));
            }
            let mut end = input.len();
            if !zone.is_empty() {
                end -= zone.len() + 1;
            }
            parse_ipv4_fields(input, end - s.len(), end, &mut ip[i..i + 4])?;
            s = &[];
            i += 4;
            break;
        }
        ip[i] = (acc >> 8) as u8;
        ip[i + 1] = acc as u8;
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' {
            return Err(ParseAddrError::at(
                input,
                "unexpected character, want colon",
                s,
            ));
        } else if s.len() == 1 {
            return Err(ParseAddrError::at(
                input,
                "colon must be followed by more characters",
                s,
            ));
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return Err(ParseAddrError::at(input, "multiple :: in address", s));
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return Err(ParseAddrError::at(
            input,
            "trailing garbage after address",
            s,
        ));
    }
    if i < 16 {
        let Some(ell) = ellipsis else {
            return Err(ParseAddrError::new(input, "address string too short"));
        };
        let n = 16 - i;
        for j in (ell..i).rev() {
            ip[j + n] = ip[j];
        }
        ip[ell..ell + n].fill(0);
    } else if ellipsis.is_some() {
        return Err(ParseAddrError::new(
            input,
            "the :: must expand to at least one field of zeros",
        ));
    }
    Ok(classify(&ip))
}

fn classify(ip: &[u8; 16]) -> ParsedAddr {
    ParsedAddr::V6 {
        ipv4_mapped: ip[..10].iter().all(|&b| b == 0) && ip[10] == 0xff && ip[11] == 0xff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        parse_addr(s.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn classifies() {
        assert_eq!(parse_addr(b"1.2.3.4"), Ok(ParsedAddr::V4));
        assert_eq!(
            parse_addr(b"::1"),
            Ok(ParsedAddr::V6 { ipv4_mapped: false })
        );
        assert_eq!(
            parse_addr(b"::ffff:1.2.3.4"),
            Ok(ParsedAddr::V6 { ipv4_mapped: true })
        );
        assert_eq!(
            parse_addr(b"0:0:0:0:0:ffff:7f00:1%eth0"),
            Ok(ParsedAddr::V6 { ipv4_mapped: true })
        );
        assert_eq!(parse_addr(b"::"), Ok(ParsedAddr::V6 { ipv4_mapped: false }));
    }

    #[test]
    fn go_error_texts() {
        assert_eq!(err("host"), r#"ParseAddr("host"): unable to parse IP"#);
        assert_eq!(err("%x"), r#"ParseAddr("%x"): missing IPv6 address"#);
        assert_eq!(
            err("1.2.3"),
            r#"ParseAddr("1.2.3"): IPv4 address too short"#
        );
        assert_eq!(
            err("1..2.3"),
            r#"ParseAddr("1..2.3"): IPv4 field must have at least one digit (at ".2.3")"#
        );
        assert_eq!(
            err("1.2.3.4x"),
            r#"ParseAddr("1.2.3.4x"): unexpected character (at "x")"#
        );
        assert_eq!(
            err("2001:db8::g"),
            r#"ParseAddr("2001:db8::g"): each colon-separated field must have at least one digit (at "g")"#
        );
        assert_eq!(
            err("::1%"),
            r#"ParseAddr("::1%"): zone must be a non-empty string"#
        );
        assert_eq!(
            err("1:2:3:4:5:6:7:8:9"),
            r#"ParseAddr("1:2:3:4:5:6:7:8:9"): trailing garbage after address (at "9")"#
        );
    }
}
