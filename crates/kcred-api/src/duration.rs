//! Go `time.Duration`: `time.ParseDuration` and `Duration.String`, exactly.
//!
//! `metav1.Duration` (the type of `defaultCacheDuration` and `cacheDuration`) is parsed
//! with `time.ParseDuration` and printed with `Duration.String`, so kcred reproduces both,
//! including Go's overflow rules, its float arithmetic for fractions and its error texts.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::gostr::time_quote;

/// A Go duration in nanoseconds (may be negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GoDuration(pub i64);

/// Nanoseconds per unit.
const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000 * NANOSECOND;
const MILLISECOND: u64 = 1_000 * MICROSECOND;
const SECOND: u64 = 1_000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

/// `1 << 63`: the magnitude of `math.MinInt64`, the largest value Go accumulates.
const LIMIT: u64 = 1 << 63;

/// Why `time.ParseDuration` rejected its input. `Display` is Go's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Not of the form `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, empty, or out of range.
    #[error("time: invalid duration {}", time_quote(.input))]
    Invalid {
        /// The whole input.
        input: Vec<u8>,
    },
    /// A number without a unit, e.g. `"3"`.
    #[error("time: missing unit in duration {}", time_quote(.input))]
    MissingUnit {
        /// The whole input.
        input: Vec<u8>,
    },
    /// A unit other than `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`.
    #[error("time: unknown unit {} in duration {}", time_quote(.unit), time_quote(.input))]
    UnknownUnit {
        /// The unknown unit.
        unit: Vec<u8>,
        /// The whole input.
        input: Vec<u8>,
    },
}

impl GoDuration {
    /// The zero duration.
    pub const ZERO: GoDuration = GoDuration(0);

    /// Go `time.ParseDuration`.
    pub fn parse(s: &str) -> Result<GoDuration, DurationError> {
        Self::parse_bytes(s.as_bytes())
    }

    /// Go `time.ParseDuration` on raw bytes (Go strings may hold invalid UTF-8; such
    /// input is always rejected, and quoted byte by byte in the error).
    pub fn parse_bytes(input: &[u8]) -> Result<GoDuration, DurationError> {
        let invalid = || DurationError::Invalid {
            input: input.to_vec(),
        };
        let mut s = input;
        let mut negative = false;
        if let Some((&sign, rest)) = s.split_first() {
            if sign == b'-' || sign == b'+' {
                negative = sign == b'-';
                s = rest;
            }
        }
        if s == b"0" {
            return Ok(GoDuration::ZERO);
        }
        if s.is_empty() {
            return Err(invalid());
        }
        let mut total: u64 = 0;
        while let Some(&first) = s.first() {
            if !(first == b'.' || first.is_ascii_digit()) {
                return Err(invalid());
            }
            let before = s.len();
            let (whole, rest) = leading_int(s).ok_or_else(invalid)?;
            s = rest;
            let has_whole = before != s.len();

            let mut fraction = 0u64;
            let mut scale = 1f64;
            let mut has_fraction = false;
            if let Some((b'.', rest)) = s.split_first() {
                let before = rest.len();
                let (f, sc, rest) = leading_fraction(rest);
                fraction = f;
                scale = sc;
                has_fraction = before != rest.len();
                s = rest;
            }
            if !has_whole && !has_fraction {
                return Err(invalid());
            }

            let unit_len = s
                .iter()
                .position(|&c| c == b'.' || c.is_ascii_digit())
                .unwrap_or(s.len());
            if unit_len == 0 {
                return Err(DurationError::MissingUnit {
                    input: input.to_vec(),
                });
            }
            let (unit_text, rest) = s.split_at(unit_len);
            s = rest;
            let unit = unit_nanos(unit_text).ok_or_else(|| DurationError::UnknownUnit {
                unit: unit_text.to_vec(),
                input: input.to_vec(),
            })?;
            if whole > LIMIT / unit {
                return Err(invalid());
            }
            let mut value = whole * unit;
            if fraction > 0 {
                // Go uses float64 here so fractions of hours stay nanosecond accurate;
                // the product is at most 3.6e12, so the conversion cannot saturate.
                let extra = (fraction as f64 * (unit as f64 / scale)) as u64;
                value = value.wrapping_add(extra);
                if value > LIMIT {
                    return Err(invalid());
                }
            }
            // Go adds in uint64 and may wrap exactly at 1<<64; mirror that.
            total = total.wrapping_add(value);
            if total > LIMIT {
                return Err(invalid());
            }
        }
        if negative {
            // -Duration(d): the conversion and the negation both wrap in Go.
            return Ok(GoDuration((total as i64).wrapping_neg()));
        }
        if total > LIMIT - 1 {
            return Err(invalid());
        }
        Ok(GoDuration(total as i64))
    }

    /// The value as a [`std::time::Duration`]; `None` when negative.
    pub fn as_std(self) -> Option<Duration> {
        u64::try_from(self.0).ok().map(Duration::from_nanos)
    }

    /// A [`std::time::Duration`] as a Go duration; `None` when it exceeds `i64` nanoseconds.
    pub fn from_std(d: Duration) -> Option<GoDuration> {
        i64::try_from(d.as_nanos()).ok().map(GoDuration)
    }

    /// The value in nanoseconds.
    pub fn as_nanos(self) -> i64 {
        self.0
    }

    /// True when the duration is negative.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

/// Nanoseconds per unit, for the units Go knows.
fn unit_nanos(unit: &[u8]) -> Option<u64> {
    match unit {
        b"ns" => Some(NANOSECOND),
        // "µs" is U+00B5 MICRO SIGN, "μs" is U+03BC GREEK SMALL LETTER MU.
        b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => Some(MICROSECOND),
        b"ms" => Some(MILLISECOND),
        b"s" => Some(SECOND),
        b"m" => Some(MINUTE),
        b"h" => Some(HOUR),
        _ => None,
    }
}

/// Go `leadingInt`: consumes `[0-9]*`; `None` on overflow past `1 << 63`.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > LIMIT {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Go `leadingFraction`: consumes `[0-9]*`, keeping digits only while they fit.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let mut x: u64 = 0;
    let mut scale = 1f64;
    let mut overflow = false;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        i += 1;
        if overflow {
            continue;
        }
        if x > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > LIMIT {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[i..])
}

impl fmt::Display for GoDuration {
    /// Go `Duration.String`: `1h0m0s`, `1.5s`, `300ms`, `1µs`, `0s`, `-1m0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 32];
        let mut w = buf.len();
        let mut u = self.0.unsigned_abs();
        if u == 0 {
            return f.write_str("0s");
        }
        if u < SECOND {
            // Below a second: a single smaller unit, like 1.2ms.
            w -= 1;
            buf[w] = b's';
            w -= 1;
            let precision = if u < MICROSECOND {
                buf[w] = b'n';
                0
            } else if u < MILLISECOND {
                // U+00B5 'µ' is two bytes.
                w -= 1;
                buf[w..w + 2].copy_from_slice("µ".as_bytes());
                3
            } else {
                buf[w] = b'm';
                6
            };
            (w, u) = format_fraction(&mut buf, w, u, precision);
            w = format_int(&mut buf, w, u);
        } else {
            w -= 1;
            buf[w] = b's';
            (w, u) = format_fraction(&mut buf, w, u, 9);
            // u is now whole seconds.
            w = format_int(&mut buf, w, u % 60);
            u /= 60;
            if u > 0 {
                w -= 1;
                buf[w] = b'm';
                w = format_int(&mut buf, w, u % 60);
                u /= 60;
                // Hours are the largest unit (days vary in length).
                if u > 0 {
                    w -= 1;
                    buf[w] = b'h';
                    w = format_int(&mut buf, w, u);
                }
            }
        }
        if self.0 < 0 {
            w -= 1;
            buf[w] = b'-';
        }
        f.write_str(std::str::from_utf8(&buf[w..]).map_err(|_| fmt::Error)?)
    }
}

/// Go `fmtFrac`: writes `.digits` of `v / 10^precision` before `w`, without trailing
/// zeros (and without the point when the fraction is zero). Returns the new start and
/// the integer part.
fn format_fraction(buf: &mut [u8; 32], mut w: usize, mut v: u64, precision: u32) -> (usize, u64) {
    let mut print = false;
    for _ in 0..precision {
        let digit = (v % 10) as u8;
        print = print || digit != 0;
        if print {
            w -= 1;
            buf[w] = digit + b'0';
        }
        v /= 10;
    }
    if print {
        w -= 1;
        buf[w] = b'.';
    }
    (w, v)
}

/// Go `fmtInt`: writes the decimal digits of `v` before `w`.
fn format_int(buf: &mut [u8; 32], mut w: usize, mut v: u64) -> usize {
    if v == 0 {
        w -= 1;
        buf[w] = b'0';
        return w;
    }
    while v > 0 {
        w -= 1;
        buf[w] = (v % 10) as u8 + b'0';
        v /= 10;
    }
    w
}

impl FromStr for GoDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GoDuration::parse(s)
    }
}

impl serde::Serialize for GoDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl serde::de::Visitor<'_> for DurationVisitor {
            type Value = GoDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Go duration string such as \"1m30s\"")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<GoDuration, E> {
                GoDuration::parse(v).map_err(E::custom)
            }

            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<GoDuration, E> {
                GoDuration::parse_bytes(v).map_err(E::custom)
            }
        }

        d.deserialize_str(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_match_go() {
        let msg = |s: &str| GoDuration::parse(s).unwrap_err().to_string();
        assert_eq!(msg(""), "time: invalid duration \"\"");
        assert_eq!(msg("3"), "time: missing unit in duration \"3\"");
        assert_eq!(msg("1d"), "time: unknown unit \"d\" in duration \"1d\"");
        assert_eq!(
            msg("1.5µ"),
            "time: unknown unit \"\\xc2\\xb5\" in duration \"1.5\\xc2\\xb5\""
        );
        assert_eq!(msg(".s"), "time: invalid duration \".s\"");
        assert_eq!(
            msg("9223372036854775808ns"),
            "time: invalid duration \"9223372036854775808ns\""
        );
        let bytes = GoDuration::parse_bytes(b"\xffff").unwrap_err().to_string();
        assert_eq!(bytes, "time: invalid duration \"\\xffff\"");
    }

    #[test]
    fn wraps_like_go_at_two_to_the_64() {
        // Go accumulates in uint64 and wraps exactly at 1<<64 without noticing.
        let d = GoDuration::parse("9223372036854775808ns9223372036854775808ns").unwrap();
        assert_eq!(d, GoDuration(0));
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(GoDuration(3_600_000_000_000).to_string(), "1h0m0s");
        assert_eq!(GoDuration(1_500_000_000).to_string(), "1.5s");
        assert_eq!(GoDuration(-60_000_000_000).to_string(), "-1m0s");
        assert_eq!(GoDuration(1_000).to_string(), "1µs");
        assert_eq!(GoDuration(300_000_000).to_string(), "300ms");
        assert_eq!(GoDuration(-1).to_string(), "-1ns");
    }

    #[test]
    fn std_conversions() {
        assert_eq!(GoDuration(5).as_std(), Some(Duration::from_nanos(5)));
        assert_eq!(GoDuration(-5).as_std(), None);
        assert_eq!(
            GoDuration::from_std(Duration::from_secs(2)),
            Some(GoDuration(2_000_000_000))
        );
        assert_eq!(GoDuration::from_std(Duration::MAX), None);
    }

    #[test]
    fn serde_uses_strings() {
        let d: GoDuration = serde_json::from_str("\"1m\"").unwrap();
        assert_eq!(d, GoDuration(60_000_000_000));
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"1m0s\"");
        assert!(serde_json::from_str::<GoDuration>("60").is_err());
        let err = serde_json::from_str::<GoDuration>("\"1d\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("time: unknown unit \"d\" in duration \"1d\""),
            "{err}"
        );
    }
}
