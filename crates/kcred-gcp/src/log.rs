//! klog-style logging to stderr.
//!
//! The kubelet captures a plugin's stderr and logs it when the plugin fails, and GKE passes
//! `--v=3`, so messages keep klog's shape: a severity letter, `MMDD hh:mm:ss.uuuuuu` (UTC),
//! the pid, `auth-provider-gcp]`, then the message. `--skip_headers` drops the prefix.
//!
//! Nothing here ever receives a secret: callers format [`kcred_api::Secret`] values, which
//! print `<redacted>`.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::time::civil_from_unix;

static VERBOSITY: AtomicU32 = AtomicU32::new(0);
static SKIP_HEADERS: AtomicBool = AtomicBool::new(false);

/// klog severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `I`
    Info,
    /// `W`
    Warning,
    /// `E`
    Error,
}

impl Severity {
    fn letter(self) -> char {
        match self {
            Severity::Info => 'I',
            Severity::Warning => 'W',
            Severity::Error => 'E',
        }
    }
}

/// Sets the process-wide verbosity (`--v`) and header switch (`--skip_headers`).
pub fn configure(verbosity: u32, skip_headers: bool) {
    VERBOSITY.store(verbosity, Ordering::Relaxed);
    SKIP_HEADERS.store(skip_headers, Ordering::Relaxed);
}

/// True when `V(level)` messages are enabled.
pub fn enabled(level: u32) -> bool {
    VERBOSITY.load(Ordering::Relaxed) >= level
}

/// Formats one log line (without the trailing newline) as klog would.
pub fn format_line(severity: Severity, now: SystemTime, pid: u32, msg: &str) -> String {
    if SKIP_HEADERS.load(Ordering::Relaxed) {
        return msg.to_owned();
    }
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    let c = civil_from_unix(secs);
    format!(
        "{}{:02}{:02} {:02}:{:02}:{:02}.{:06} {:>7} auth-provider-gcp] {}",
        severity.letter(),
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        since.subsec_micros(),
        pid,
        msg
    )
}

/// Writes one line to stderr. Write errors are ignored: logging must never fail a pull.
pub fn emit(severity: Severity, args: fmt::Arguments<'_>) {
    let line = format_line(
        severity,
        SystemTime::now(),
        std::process::id(),
        &args.to_string(),
    );
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// `klog.V(level).Infof`.
#[macro_export]
macro_rules! info {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($crate::log::Severity::Info, format_args!($($arg)*));
        }
    };
}

/// `klog.Warningf`.
#[macro_export]
macro_rules! warning {
    ($($arg:tt)*) => {
        $crate::log::emit($crate::log::Severity::Warning, format_args!($($arg)*))
    };
}

/// `klog.Errorf`.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => {
        $crate::log::emit($crate::log::Severity::Error, format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn line_has_klog_shape() {
        // 2026-11-23T18:47:05.000123Z
        let t = UNIX_EPOCH + Duration::new(1_795_459_625, 123_000);
        let line = format_line(Severity::Error, t, 42, "boom");
        assert_eq!(
            line,
            "E1123 18:47:05.000123      42 auth-provider-gcp] boom"
        );
    }
}
