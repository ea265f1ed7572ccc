//! UTC calendar arithmetic: RFC 3339 `expireTime` values from the IAM Credentials API (the
//! tests check it against kcred-plugin's Unix time → calendar conversion of log headers). No
//! time zone database is needed: both are UTC or carry a fixed offset.

use thiserror::Error;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Why an RFC 3339 timestamp was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid RFC 3339 timestamp {value:?}")]
pub struct TimestampError {
    /// The rejected text.
    pub value: String,
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// Parses `YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)` into Unix seconds (fraction dropped).
pub(crate) fn parse_rfc3339(value: &str) -> Result<i64, TimestampError> {
    let err = || TimestampError {
        value: value.to_owned(),
    };
    let b = value.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return Err(err());
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err(err());
    }
    let year = digits(&b[0..4]).ok_or_else(err)?;
    let month = digits(&b[5..7]).ok_or_else(err)?;
    let day = digits(&b[8..10]).ok_or_else(err)?;
    let hour = digits(&b[11..13]).ok_or_else(err)?;
    let minute = digits(&b[14..16]).ok_or_else(err)?;
    let second = digits(&b[17..19]).ok_or_else(err)?;
    if !(1..=12).contains(&month) || day == 0 || day > 31 || hour > 23 || minute > 59 || second > 60
    {
        return Err(err());
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err(err());
        }
        rest = &rest[1 + n..];
    }
    let offset_secs: i64 = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let oh = digits(&[*h1, *h2]).ok_or_else(err)?;
            let om = digits(&[*m1, *m2]).ok_or_else(err)?;
            if oh > 23 || om > 59 {
                return Err(err());
            }
            let off = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return Err(err()),
    };
    let days = days_from_civil(i64::from(year), month, day);
    let local = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Ok(local - offset_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcred_plugin::log::civil_from_unix;
    use proptest::prelude::*;

    #[test]
    fn civil_round_trips_known_dates() {
        let c = civil_from_unix(0);
        assert_eq!((c.year, c.month, c.day, c.hour), (1970, 1, 1, 0));
        let c = civil_from_unix(1_795_459_625);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (2026, 11, 23, 18, 47, 5)
        );
        let c = civil_from_unix(951_782_400); // 2000-02-29
        assert_eq!((c.year, c.month, c.day), (2000, 2, 29));
    }

    #[test]
    fn rfc3339_forms() {
        assert_eq!(parse_rfc3339("2026-11-23T18:47:05Z"), Ok(1_795_459_625));
        assert_eq!(
            parse_rfc3339("2026-11-23T18:47:05.123456789Z"),
            Ok(1_795_459_625)
        );
        assert_eq!(
            parse_rfc3339("2026-11-23T19:47:05+01:00"),
            Ok(1_795_459_625)
        );
        assert_eq!(
            parse_rfc3339("2026-11-23T17:17:05-01:30"),
            Ok(1_795_459_625)
        );
        for bad in [
            "",
            "2026-11-23",
            "2026-13-23T18:47:05Z",
            "2026-11-23T18:47:05",
            "2026-11-23T18:47:05.Z",
            "2026-11-23T18:47:05+0100",
            "2026-11-23X18:47:05Z",
            "20a6-11-23T18:47:05Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = parse_rfc3339(&s);
        }

        #[test]
        fn civil_inverts_days_from_civil(secs in -10_000_000_000i64..10_000_000_000i64) {
            let c = civil_from_unix(secs);
            let back = days_from_civil(c.year, c.month, c.day) * 86_400
                + i64::from(c.hour * 3600 + c.minute * 60 + c.second);
            prop_assert_eq!(back, secs);
        }
    }
}
