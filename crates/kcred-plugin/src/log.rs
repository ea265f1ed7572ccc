//! Leveled logging to stderr for plugins: [`Logger`] (the SDK's, `<name>: <message>` lines,
//! secrets scrubbed) and [`Klog`] (klog-shaped lines for plugins that mimic a Go upstream).
//!
//! stdout belongs to the response, so every line goes to stderr. The kubelet shows a plugin's
//! stderr only when the plugin fails (in its error message), so logs are for debugging a
//! failing plugin or a run by hand (`kcred get -v`, a shell).
//!
//! Secrets: [`kcred_api::Secret`] already prints as `<redacted>`. On top of that [`Logger`]
//! scrubs every value registered with [`Logger::redact`] (the SDK registers the request's
//! service-account token) from every line it writes, including the final error line, so a
//! token pasted into an error message by a library still does not leak. Both loggers also
//! scrub every secret registered process-wide ([`crate::secrets`]): the token of a request
//! decoded by a dialect, client secrets, tokens a plugin obtained.
//!
//! klog lines: [`Klog`] is a process-wide logger (a `static`, configured once from the command
//! line) writing `Lmmdd hh:mm:ss.uuuuuu PPPPPPP name] message`, the shape Go plugins print
//! through klog ([`klog_header`]; the date from [`civil_from_unix`], UTC).

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use kcred_api::Secret;

pub use crate::secrets::REDACTED;

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
        crate::secrets::add(&mut lock(&self.inner.secrets), value);
    }

    /// `text` with every secret registered here or process-wide
    /// ([`crate::secrets::register`]) replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        let own = crate::secrets::scrub_with(text, &lock(&self.inner.secrets));
        crate::secrets::scrub(&own)
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

/// klog severities: the letter that starts a klog line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `I` (`klog.Info`, `klog.V(n).Info`).
    Info,
    /// `W` (`klog.Warning`).
    Warning,
    /// `E` (`klog.Error`).
    Error,
}

impl Severity {
    /// The line's first character: `I`, `W` or `E`.
    pub fn letter(self) -> char {
        match self {
            Severity::Info => 'I',
            Severity::Warning => 'W',
            Severity::Error => 'E',
        }
    }
}

/// A UTC calendar time, second resolution (proleptic Gregorian calendar, no leap seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year (proleptic Gregorian; may be zero or negative far from the epoch).
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    /// 0..=23
    pub hour: u32,
    /// 0..=59
    pub minute: u32,
    /// 0..=59
    pub second: u32,
}

/// The UTC calendar time of a Unix timestamp in seconds (Howard Hinnant's
/// `civil_from_days`); defined for every `i64`, no time zone database needed.
pub fn civil_from_unix(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Every value below is within its documented range, so the conversions cannot fail.
    let small = |v: i64| u32::try_from(v).unwrap_or(0);
    Civil {
        year,
        month: small(month),
        day: small(day),
        hour: small(rem / 3600),
        minute: small(rem % 3600 / 60),
        second: small(rem % 60),
    }
}

/// klog's line header for a message logged at `now` by process `pid`, with `name` where
/// klog puts `file:line`: `E1123 18:47:05.000123      42 name]` (severity letter, UTC
/// `MMDD hh:mm:ss.uuuuuu`, the pid right-aligned in 7 columns, `name]`). No trailing space:
/// the message follows after one.
pub fn klog_header(severity: Severity, now: SystemTime, pid: u32, name: &str) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    let c = civil_from_unix(secs);
    format!(
        "{}{:02}{:02} {:02}:{:02}:{:02}.{:06} {:>7} {name}]",
        severity.letter(),
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        since.subsec_micros(),
        pid,
    )
}

/// A process-wide klog-style logger: lines `<klog header> <message>` on stderr, `V(level)`
/// lines filtered by the verbosity, headers dropped by klog's `--skip_headers`.
///
/// Meant to be a `static` of a plugin that keeps its Go upstream's stderr shape, configured
/// once the command line is parsed (before that: verbosity 0, headers on):
///
/// ```
/// use kcred_plugin::log::Klog;
///
/// static LOG: Klog = Klog::new("my-provider");
///
/// LOG.configure(2, false);
/// LOG.info(2, format_args!("using {} for {}", "managed identity", "r.example.com"));
/// LOG.error(format_args!("no credentials"));
/// assert!(LOG.enabled(2) && !LOG.enabled(3));
/// ```
///
/// Every line is scrubbed of the secrets registered process-wide ([`crate::secrets`]).
/// Write errors are ignored: logging must never fail a pull.
#[derive(Debug)]
pub struct Klog {
    name: &'static str,
    verbosity: AtomicU32,
    skip_headers: AtomicBool,
}

impl Klog {
    /// A logger whose lines name `name` (where klog puts `file:line`); verbosity 0, headers on.
    pub const fn new(name: &'static str) -> Self {
        Klog {
            name,
            verbosity: AtomicU32::new(0),
            skip_headers: AtomicBool::new(false),
        }
    }

    /// The name in every header.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Sets the verbosity (klog `-v`) and whether headers are dropped (`--skip_headers`).
    pub fn configure(&self, verbosity: u32, skip_headers: bool) {
        self.verbosity.store(verbosity, Ordering::Relaxed);
        self.skip_headers.store(skip_headers, Ordering::Relaxed);
    }

    /// The verbosity set by [`configure`](Self::configure) (0 before).
    pub fn verbosity(&self) -> u32 {
        self.verbosity.load(Ordering::Relaxed)
    }

    /// True when `V(level)` lines are written (`level <= verbosity`).
    pub fn enabled(&self, level: u32) -> bool {
        level <= self.verbosity()
    }

    /// One line as written, without the trailing newline: the [`klog_header`] and the
    /// message, or the message alone with `--skip_headers`.
    pub fn format_line(
        &self,
        severity: Severity,
        now: SystemTime,
        pid: u32,
        message: &str,
    ) -> String {
        if self.skip_headers.load(Ordering::Relaxed) {
            return message.to_owned();
        }
        format!("{} {message}", klog_header(severity, now, pid, self.name))
    }

    /// Writes one line at `severity` now, whatever the verbosity.
    pub fn emit(&self, severity: Severity, message: fmt::Arguments<'_>) {
        let mut line = self.format_line(
            severity,
            SystemTime::now(),
            std::process::id(),
            &crate::secrets::scrub(&message.to_string()),
        );
        // klog ends a line with `\n` only when the message does not already.
        if !line.ends_with('\n') {
            line.push('\n');
        }
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    /// `klog.V(level).Info`: an `I` line when `level` is enabled (formatted only then).
    pub fn info(&self, level: u32, message: fmt::Arguments<'_>) {
        if self.enabled(level) {
            self.emit(Severity::Info, message);
        }
    }

    /// `klog.Warning`: a `W` line at every verbosity.
    pub fn warning(&self, message: fmt::Arguments<'_>) {
        self.emit(Severity::Warning, message);
    }

    /// `klog.Error`: an `E` line at every verbosity.
    pub fn error(&self, message: fmt::Arguments<'_>) {
        self.emit(Severity::Error, message);
    }
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

    #[test]
    fn civil_dates() {
        let c = civil_from_unix(0);
        assert_eq!((c.year, c.month, c.day, c.hour), (1970, 1, 1, 0));
        let c = civil_from_unix(951_782_400); // 2000-02-29
        assert_eq!((c.year, c.month, c.day), (2000, 2, 29));
        let c = civil_from_unix(-1);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (1969, 12, 31, 23, 59, 59)
        );
        let _ = civil_from_unix(i64::MAX);
        let _ = civil_from_unix(i64::MIN);
    }

    #[test]
    fn klog_lines() {
        use std::time::Duration;
        // 2026-11-23T18:47:05.000123Z
        let t = UNIX_EPOCH + Duration::new(1_795_459_625, 123_000);
        assert_eq!(
            klog_header(Severity::Error, t, 42, "p"),
            "E1123 18:47:05.000123      42 p]"
        );
        assert_eq!(
            klog_header(Severity::Warning, t, 12_345_678, "p"),
            "W1123 18:47:05.000123 12345678 p]"
        );
        assert!(
            klog_header(Severity::Info, UNIX_EPOCH, 1, "p").starts_with("I0101 00:00:00.000000 ")
        );
        let log = Klog::new("p");
        assert_eq!((log.name(), log.verbosity()), ("p", 0));
        assert!(log.enabled(0) && !log.enabled(1));
        assert_eq!(
            log.format_line(Severity::Info, t, 7, "hi"),
            "I1123 18:47:05.000123       7 p] hi"
        );
        log.configure(3, true);
        assert!(log.enabled(3) && !log.enabled(4));
        assert_eq!(log.format_line(Severity::Info, t, 7, "hi"), "hi");
    }
}
