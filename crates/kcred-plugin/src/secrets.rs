//! The secrets a plugin process knows, and the discipline for echoing text it did not write.
//!
//! Every plugin learns secrets during a run: the request's service-account token, a client
//! secret from its configuration, tokens it obtains. [`register`] adds one to a process-wide
//! list; every line the SDK's loggers write ([`Logger`](crate::Logger) and
//! [`Klog`](crate::log::Klog)) is passed through [`scrub`], so a secret never reaches stderr,
//! even inside an error message built by a library or a relayed server reply.
//!
//! Text from elsewhere (a metadata server's, AAD's or STS's error body) goes through
//! [`remote_text`] before it is put in a message: cut, scrubbed of every registered secret
//! (an echoing server cannot leak the token it was sent), and with every non-printable
//! character escaped as Go's `strconv.Quote` escapes it (`\x1b`, `\r`, `\n`, `\u202e`), so a
//! reply cannot move the cursor, clear the screen or forge a log line. Printable text,
//! quotes included, is kept as is, so upstream's messages (`… failed with status 400:
//! {"error": "invalid_grant"}`) read the same.

use std::sync::Mutex;

use kcred_api::gostr::{is_print, strconv_quote};

/// What replaces a scrubbed secret.
pub const REDACTED: &str = "<redacted>";

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn secrets() -> std::sync::MutexGuard<'static, Vec<String>> {
    SECRETS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Adds `value` to the secrets scrubbed from every later log line of this process (ignored
/// when empty).
pub fn register(value: &str) {
    if value.is_empty() {
        return;
    }
    add(&mut secrets(), value);
}

/// Adds `value` to `list` once, keeping the list longest first, so that a secret containing
/// another is scrubbed whole.
pub(crate) fn add(list: &mut Vec<String>, value: &str) {
    if list.iter().any(|s| s == value) {
        return;
    }
    let at = list
        .iter()
        .position(|s| s.len() < value.len())
        .unwrap_or(list.len());
    list.insert(at, value.to_owned());
}

/// `text` with every [`register`]ed secret replaced by [`REDACTED`].
pub fn scrub(text: &str) -> String {
    scrub_with(text, &secrets())
}

pub(crate) fn scrub_with(text: &str, list: &[String]) -> String {
    let mut out = text.to_owned();
    for s in list {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

/// `text` with each non-printable character escaped as Go's `strconv.Quote` escapes it
/// (`\n`, `\x1b`, `\u202e`, …); printable characters, `"` and `\` included, are kept.
pub fn escape_nonprintable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_print(c) {
            out.push(c);
        } else {
            let quoted = strconv_quote(c.encode_utf8(&mut [0u8; 4]));
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
    }
    out
}

/// A remote body made safe to put in a message: lossy UTF-8 of at most `max_bytes` bytes
/// (`...` appended when cut), trimmed, [`scrub`]bed, then [`escape_nonprintable`].
pub fn remote_text(body: &[u8], max_bytes: usize) -> String {
    let cut = &body[..body.len().min(max_bytes)];
    let mut text = String::from_utf8_lossy(cut).trim().to_owned();
    if body.len() > max_bytes {
        text.push_str("...");
    }
    escape_nonprintable(&scrub(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_keeps_one_copy_longest_first() {
        let mut list = Vec::new();
        for v in ["77", "7777", "9", "777", "7777", "xy"] {
            add(&mut list, v);
        }
        assert_eq!(list, ["7777", "777", "77", "xy", "9"]);
        assert_eq!(
            scrub_with("7777 777 xy", &list),
            format!("{REDACTED} {REDACTED} {REDACTED}")
        );
    }

    #[test]
    fn registered_secrets_are_scrubbed_longest_first() {
        register("remote-secret-aaa");
        register("remote-secret-aaa-longer");
        register("");
        assert_eq!(
            scrub("x remote-secret-aaa-longer y remote-secret-aaa"),
            "x <redacted> y <redacted>"
        );
    }

    #[test]
    fn remote_text_escapes_controls_and_keeps_quotes() {
        register("eyJ.remote.token");
        let body =
            b"{\"error\": \"bad\"}\r\n\x1b[2J fake line\n echo: eyJ.remote.token \xe2\x80\xae";
        assert_eq!(
            remote_text(body, 1000),
            "{\"error\": \"bad\"}\\r\\n\\x1b[2J fake line\\n echo: <redacted> \\u202e"
        );
        assert_eq!(remote_text(b"  abcdef ", 4), "ab...");
        assert_eq!(remote_text(b"\xff ok", 10), "\u{fffd} ok");
        assert_eq!(escape_nonprintable("tab\there"), "tab\\there");
    }
}
