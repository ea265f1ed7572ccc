//! Plugin text shown to people: a failing plugin's stderr goes into kcred's errors (as the
//! kubelet's `execPlugin` error does), so it is scrubbed of every secret kcred knows and
//! its control characters are escaped before anyone sees it.
//!
//! - **Secrets.** [`KnownSecrets`] holds the service-account tokens kcred sent and the
//!   passwords plugins returned (shared by all providers of a host, the most recent
//!   [`KnownSecrets::CAPACITY`]). Each occurrence becomes `<redacted>`. Secrets shorter
//!   than [`MIN_SECRET_LEN`] bytes are not scrubbed: they would garble every message and
//!   protect nothing.
//! - **Escapes.** Control and other non-printable characters are written as Go's
//!   `strconv.Quote` writes them (`\x1b`, `\r`, `\n`, `\a`, `\u009b`), and `\` as `\\`,
//!   so a plugin can neither drive the terminal nor forge lines of kcred's report. Printable
//!   text (quotes included) is kept, so ordinary stderr reads exactly as in the kubelet's
//!   message. Trailing white space (the usual final newline) is dropped.
//!
//! The kubelet does neither: it embeds the raw stderr in its error and log.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use kcred_api::gostr::{is_print, strconv_quote, strconv_quote_bytes};

/// What a scrubbed secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this (in bytes) are not scrubbed.
pub const MIN_SECRET_LEN: usize = 4;

/// The secrets a host has seen: tokens it sent, passwords it received. Cloning shares the
/// set. `Debug` shows only how many there are.
#[derive(Clone, Default)]
pub struct KnownSecrets {
    secrets: Arc<Mutex<VecDeque<String>>>,
}

impl fmt::Debug for KnownSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KnownSecrets(<{} secrets>)", self.lock().len())
    }
}

impl KnownSecrets {
    /// How many secrets are kept (the oldest are forgotten first).
    pub const CAPACITY: usize = 256;

    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        self.secrets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers `secret` (ignored when shorter than [`MIN_SECRET_LEN`]).
    pub fn learn(&self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        let mut secrets = self.lock();
        if let Some(i) = secrets.iter().position(|s| s == secret) {
            secrets.remove(i);
        } else if secrets.len() >= Self::CAPACITY {
            secrets.pop_front();
        }
        secrets.push_back(secret.to_owned());
    }

    /// `text` with every known secret, and every one of `extra`, replaced by `<redacted>`
    /// (raw and in its escaped form, so text already passed through
    /// [`plugin_text`] is covered too).
    pub fn scrub(&self, text: &str, extra: &[&str]) -> String {
        let mut secrets: Vec<String> = self.lock().iter().cloned().collect();
        secrets.extend(
            extra
                .iter()
                .filter(|s| s.len() >= MIN_SECRET_LEN)
                .map(|s| (*s).to_owned()),
        );
        scrub_all(text, secrets)
    }
}

/// Replaces each secret (and its escaped form), longest first, by `<redacted>`.
fn scrub_all(text: &str, secrets: Vec<String>) -> String {
    let mut forms: Vec<String> = Vec::with_capacity(secrets.len() * 2);
    for s in secrets {
        let escaped = escape(s.as_bytes());
        if escaped != s && escaped.len() >= MIN_SECRET_LEN {
            forms.push(escaped);
        }
        forms.push(s);
    }
    forms.sort_by_key(|s| std::cmp::Reverse(s.len()));
    forms.dedup();
    let mut out = text.to_owned();
    for secret in &forms {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

/// A plugin's stderr as kcred shows it: secrets (known ones and `extra`) scrubbed, trailing
/// white space dropped, non-printable characters and `\` escaped Go-style.
pub fn plugin_text(stderr: &[u8], secrets: Option<&KnownSecrets>, extra: &[&str]) -> String {
    let end = stderr
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let escaped = escape(&stderr[..end]);
    match secrets {
        Some(known) => known.scrub(&escaped, extra),
        None => scrub_all(
            &escaped,
            extra
                .iter()
                .filter(|s| s.len() >= MIN_SECRET_LEN)
                .map(|s| (*s).to_owned())
                .collect(),
        ),
    }
}

/// Go-style escapes for the non-printable characters and `\` of `bytes` (invalid UTF-8
/// bytes become `\xNN`); everything else is kept as is.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c != '\\' && is_print(c) {
                out.push(c);
            } else {
                let mut buf = [0u8; 4];
                let quoted = strconv_quote(c.encode_utf8(&mut buf));
                out.push_str(&quoted[1..quoted.len() - 1]);
            }
        }
        for &b in chunk.invalid() {
            let quoted = strconv_quote_bytes(&[b]);
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_printable_text_kept() {
        assert_eq!(escape(b"plain \"text\" ok"), "plain \"text\" ok");
        assert_eq!(
            escape("\u{1b}[2J\r\n\t\u{7}\u{9b}\\é".as_bytes()),
            "\\x1b[2J\\r\\n\\t\\a\\u009b\\\\é"
        );
        assert_eq!(escape(b"a\xffb"), "a\\xffb");
        assert_eq!(plugin_text(b"boom\n\n", None, &[]), "boom");
    }

    #[test]
    fn known_and_extra_secrets_are_scrubbed_longest_first() {
        let known = KnownSecrets::new();
        known.learn("pass-word");
        known.learn("pass-word-longer");
        known.learn("abc"); // too short: ignored
        assert_eq!(
            known.scrub("x pass-word-longer y pass-word z abc", &["tok-en"]),
            "x <redacted> y <redacted> z abc"
        );
        assert_eq!(known.scrub("tok-en!", &["tok-en"]), "<redacted>!");
        // A secret with a control character is found in escaped text too.
        known.learn("pw\u{1b}zz");
        assert_eq!(
            plugin_text("say pw\u{1b}zz".as_bytes(), Some(&known), &[]),
            "say <redacted>"
        );
        assert!(!format!("{known:?}").contains("pass"));
    }

    #[test]
    fn capacity_is_bounded() {
        let known = KnownSecrets::new();
        for i in 0..(KnownSecrets::CAPACITY + 10) {
            known.learn(&format!("secret-{i}"));
        }
        assert_eq!(known.lock().len(), KnownSecrets::CAPACITY);
        assert_eq!(known.scrub("secret-0", &[]), "secret-0");
        let last = format!("secret-{}", KnownSecrets::CAPACITY + 9);
        assert_eq!(known.scrub(&last, &[]), REDACTED);
    }
}
