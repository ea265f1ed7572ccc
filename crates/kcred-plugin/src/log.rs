//! [`Logger`]: klog-style leveled logging to stderr, with secrets scrubbed.
//!
//! stdout belongs to the response, so every line goes to stderr. The kubelet shows a plugin's
//! stderr only when the plugin fails (in its error message), so logs are for debugging a
//! failing plugin or a run by hand (`kcred get -v`, a shell).
//!
//! Secrets: [`kcred_api::Secret`] already prints as `<redacted>`. On top of that the logger
//! scrubs every value registered with [`Logger::redact`] (the SDK registers the request's
//! service-account token) from every line it writes, including the final error line, so a
//! token pasted into an error message by a library still does not leak.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

use kcred_api::Secret;

/// What replaces a scrubbed secret.
pub const REDACTED: &str = "<redacted>";

/// A leveled logger writing `<name>: <message>` lines to stderr (or a test sink).
///
/// Cheap to clone; clones share the sink and the redaction list.
#[derive(Clone)]
pub struct Logger {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    verbosity: i32,
    secrets: Mutex<Vec<String>>,
    sink: Mutex<Box<dyn Write + Send>>,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("name", &self.inner.name)
            .field("verbosity", &self.inner.verbosity)
            .finish_non_exhaustive()
    }
}

impl Logger {
    /// A logger for plugin `name` at `verbosity` (klog `-v`) writing to the process's stderr.
    pub fn stderr(name: impl Into<String>, verbosity: i32) -> Self {
        Self::with_sink(name, verbosity, Box::new(std::io::stderr()))
    }

    /// A logger writing to `sink` instead of stderr (tests, embedding).
    pub fn with_sink(name: impl Into<String>, verbosity: i32, sink: Box<dyn Write + Send>) -> Self {
        Logger {
            inner: Arc::new(Inner {
                name: name.into(),
                verbosity,
                secrets: Mutex::new(Vec::new()),
                sink: Mutex::new(sink),
            }),
        }
    }

    /// The plugin name every line starts with.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The verbosity set by `-v` (0 by default).
    pub fn verbosity(&self) -> i32 {
        self.inner.verbosity
    }

    /// True when messages at `level` are written (`level <= verbosity`), like klog's `V(level)`.
    pub fn enabled(&self, level: i32) -> bool {
        level <= self.inner.verbosity
    }

    /// Writes `<name>: <message>` when `level` is enabled. Prefer the [`log!`](crate::log!) macro.
    pub fn info(&self, level: i32, message: fmt::Arguments<'_>) {
        if self.enabled(level) {
            self.write_line("", message);
        }
    }

    /// Writes `<name>: warning: <message>` at every verbosity. Prefer [`warn!`](crate::warn!).
    pub fn warn(&self, message: fmt::Arguments<'_>) {
        self.write_line("warning: ", message);
    }

    /// Writes `<name>: <message>` at every verbosity (the SDK's final error line).
    pub fn error(&self, message: fmt::Arguments<'_>) {
        self.write_line("", message);
    }

    /// Scrubs `secret`'s value from every later line (ignored when empty).
    pub fn redact(&self, secret: &Secret) {
        self.redact_str(secret.expose());
    }

    pub(crate) fn redact_str(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut secrets = lock(&self.inner.secrets);
        if !secrets.iter().any(|s| s == value) {
            secrets.push(value.to_owned());
            // Longest first, so a secret containing another is scrubbed whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every registered secret replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        let secrets = lock(&self.inner.secrets);
        let mut out = text.to_owned();
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        out
    }

    fn write_line(&self, prefix: &str, message: fmt::Arguments<'_>) {
        let text = self.scrub(&message.to_string());
        let line = format!("{}: {prefix}{text}\n", self.inner.name);
        let mut sink = lock(&self.inner.sink);
        // stderr is best effort: a closed stderr must not turn into a plugin failure.
        let _ = sink.write_all(line.as_bytes());
        let _ = sink.flush();
    }
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Logs at a klog verbosity level: `log!(logger, 2, "matched {}", key)`.
///
/// The message is formatted only when the level is enabled.
#[macro_export]
macro_rules! log {
    ($logger:expr, $level:expr, $($arg:tt)+) => {{
        let logger: &$crate::Logger = &$logger;
        let level: i32 = $level;
        if logger.enabled(level) {
            logger.info(level, ::std::format_args!($($arg)+));
        }
    }};
}

/// Logs a warning at every verbosity: `warn!(logger, "file {} is world-readable", p)`.
#[macro_export]
macro_rules! warn {
    ($logger:expr, $($arg:tt)+) => {{
        let logger: &$crate::Logger = &$logger;
        logger.warn(::std::format_args!($($arg)+));
    }};
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A sink tests can read back.
    #[derive(Clone, Default)]
    pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        pub(crate) fn text(&self) -> String {
            String::from_utf8_lossy(&lock(&self.0)).into_owned()
        }
    }

    fn logger(v: i32) -> (Logger, Captured) {
        let c = Captured::default();
        (Logger::with_sink("p", v, Box::new(c.clone())), c)
    }

    #[test]
    fn levels_gate_messages() {
        let (l, out) = logger(2);
        crate::log!(l, 0, "zero");
        crate::log!(l, 2, "two {}", 2);
        crate::log!(l, 3, "three");
        crate::warn!(l, "careful");
        assert_eq!(out.text(), "p: zero\np: two 2\np: warning: careful\n");
        assert!(l.enabled(2) && !l.enabled(3));
    }

    #[test]
    fn disabled_levels_do_not_format() {
        struct Boom;
        impl fmt::Display for Boom {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("formatted a disabled message")
            }
        }
        let (l, out) = logger(0);
        crate::log!(l, 1, "{}", Boom);
        assert_eq!(out.text(), "");
    }

    #[test]
    fn registered_secrets_are_scrubbed_everywhere() {
        let (l, out) = logger(5);
        l.redact(&Secret::new("tok"));
        l.redact(&Secret::new("tok-longer"));
        l.redact(&Secret::new(""));
        crate::log!(l, 1, "value tok-longer and tok");
        l.error(format_args!("failed with tok"));
        crate::log!(l, 1, "secret type prints {}", Secret::new("hunter2"));
        assert_eq!(
            out.text(),
            "p: value <redacted> and <redacted>\np: failed with <redacted>\np: secret type prints <redacted>\n"
        );
    }

    #[test]
    fn clones_share_sink_and_redactions() {
        let (l, out) = logger(0);
        let l2 = l.clone();
        l2.redact(&Secret::new("s3cret"));
        crate::warn!(l, "s3cret");
        assert_eq!(out.text(), "p: warning: <redacted>\n");
        assert!(format!("{l:?}").contains("verbosity: 0"));
    }
}
