//! klog-style lines on stderr (`I0102 15:04:05.000000 1234 acr.rs] message`), filtered by `-v`.
//! Secrets never reach here: callers log identities, endpoints and statuses only.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static VERBOSITY: AtomicU8 = AtomicU8::new(0);

/// Sets the `-v` level.
pub fn set_verbosity(v: u8) {
    VERBOSITY.store(v, Ordering::Relaxed);
}

/// True when lines at level `v` are printed.
pub fn enabled(v: u8) -> bool {
    VERBOSITY.load(Ordering::Relaxed) >= v
}

/// `(month, day)` of a day count since 1970-01-01 (proleptic Gregorian).
fn month_day(days: i64) -> (u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1))
}

/// The klog header for severity `sev` (`I`, `W`, `E`) at time `now`.
pub fn header(sev: char, now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(0);
    let (month, day) = month_day(secs.div_euclid(86_400));
    let tod = secs.rem_euclid(86_400);
    format!(
        "{sev}{month:02}{day:02} {:02}:{:02}:{:02}.{:06} {} acr-credential-provider]",
        tod / 3600,
        (tod % 3600) / 60,
        tod % 60,
        since.subsec_micros(),
        std::process::id()
    )
}

fn emit(sev: char, msg: &str) {
    let line = format!("{} {msg}\n", header(sev, SystemTime::now()));
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Logs `msg` at verbosity `v`.
pub fn info(v: u8, msg: impl AsRef<str>) {
    if enabled(v) {
        emit('I', msg.as_ref());
    }
}

/// Logs a warning (always).
pub fn warning(msg: impl AsRef<str>) {
    emit('W', msg.as_ref());
}

/// Logs an error (always).
pub fn error(msg: impl AsRef<str>) {
    emit('E', msg.as_ref());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn header_format() {
        // 2024-02-29 13:14:15.000123 UTC
        let t = UNIX_EPOCH + Duration::from_micros(1_709_212_455_000_123);
        let h = header('I', t);
        assert!(h.starts_with("I0229 13:14:15.000123 "), "{h}");
    }
}
