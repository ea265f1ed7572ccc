//! klog-style logging to stderr.
//!
//! The kubelet captures a plugin's stderr and logs it when the plugin fails, and GKE passes
//! `--v=3`, so messages keep klog's shape: a severity letter, `MMDD hh:mm:ss.uuuuuu` (UTC),
//! the pid, `auth-provider-gcp]`, then the message. `--skip_headers` drops the prefix.
//! The implementation is kcred-plugin's [`Klog`], shared with the other plugins.
//!
//! Nothing here ever receives a secret: callers format [`kcred_api::Secret`] values, which
//! print `<redacted>`.

use std::time::SystemTime;

pub use kcred_plugin::log::{Klog, Severity};

/// The process's logger: `auth-provider-gcp]` headers, `--v` and `--skip_headers` applied by
/// [`crate::app::run`] once the command line is parsed.
pub static LOG: Klog = Klog::new("auth-provider-gcp");

/// Formats one log line (without the trailing newline) as klog would.
pub fn format_line(severity: Severity, now: SystemTime, pid: u32, msg: &str) -> String {
    LOG.format_line(severity, now, pid, msg)
}

/// `klog.V(level).Infof`.
#[macro_export]
macro_rules! info {
    ($level:expr, $($arg:tt)*) => {
        $crate::log::LOG.info($level, format_args!($($arg)*))
    };
}

/// `klog.Warningf`.
#[macro_export]
macro_rules! warning {
    ($($arg:tt)*) => {
        $crate::log::LOG.warning(format_args!($($arg)*))
    };
}

/// `klog.Errorf`.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => {
        $crate::log::LOG.error(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

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
