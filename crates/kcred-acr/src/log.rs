//! klog-style lines on stderr (`I0102 15:04:05.000000    1234 acr-credential-provider] message`),
//! filtered by `-v`: kcred-plugin's [`Klog`] under this plugin's name.
//! Secrets never reach here: callers log identities, endpoints and statuses only.

pub(crate) use kcred_plugin::log::Klog;

/// The process's logger; the dialect (`app`) sets `-v` once the command line is parsed.
pub(crate) static LOG: Klog = Klog::new("acr-credential-provider");

#[cfg(test)]
mod tests {
    use super::*;
    use kcred_plugin::log::Severity;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn header_format() {
        // 2024-02-29 13:14:15.000123 UTC
        let t = UNIX_EPOCH + Duration::from_micros(1_709_212_455_000_123);
        let h = LOG.format_line(Severity::Info, t, std::process::id(), "");
        assert!(h.starts_with("I0229 13:14:15.000123 "), "{h}");
    }
}
