//! klog-style logging to stderr.
//!
//! The kubelet captures a plugin's stderr and logs it when the plugin fails, and GKE passes
//! `--v=3`, so messages keep klog's shape: a severity letter, `MMDD hh:mm:ss.uuuuuu` (UTC),
//! the pid, `auth-provider-gcp]`, then the message. `--skip_headers` drops the prefix.
//! The implementation is kcred-plugin's [`Klog`], shared with the other plugins.
//!
//! Nothing here ever receives a secret: callers format [`kcred_api::Secret`] values, which
//! print `<redacted>`.

use kcred_plugin::log::Klog;

/// The process's logger: `auth-provider-gcp]` headers, `--v` and `--skip_headers` applied by
/// [`crate::app::run`] once the command line is parsed.
pub(crate) static LOG: Klog = Klog::new("auth-provider-gcp");

/// `klog.V(level).Infof`.
macro_rules! info {
    ($level:expr, $($arg:tt)*) => {
        $crate::log::LOG.info($level, format_args!($($arg)*))
    };
}

/// `klog.Warningf`.
macro_rules! warning {
    ($($arg:tt)*) => {
        $crate::log::LOG.warning(format_args!($($arg)*))
    };
}

/// `klog.Errorf`.
macro_rules! error {
    ($($arg:tt)*) => {
        $crate::log::LOG.error(format_args!($($arg)*))
    };
}

pub(crate) use {error, info, warning};

#[cfg(test)]
mod tests {
    use super::*;
    use kcred_plugin::log::Severity;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn line_has_klog_shape() {
        // 2026-11-23T18:47:05.000123Z
        let t = UNIX_EPOCH + Duration::new(1_795_459_625, 123_000);
        let line = LOG.format_line(Severity::Error, t, 42, "boom");
        assert_eq!(
            line,
            "E1123 18:47:05.000123      42 auth-provider-gcp] boom"
        );
    }
}
