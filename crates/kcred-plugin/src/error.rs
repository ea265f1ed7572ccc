//! Errors: [`PluginError`] (a handler's failure) and [`RunError`] (why a run failed).

use std::fmt;

use kcred_api::request::RequestDecodeError;
use thiserror::Error;

use crate::flags::FlagError;

/// A handler's failure. The SDK prints `<plugin name>: <message>` on stderr and exits 1.
///
/// Any [`std::error::Error`] converts into it with `?`; the message is the error followed by
/// its `source()` chain, joined by `": "`. Add context with [`Context::context`] or
/// [`PluginError::context`]. (Like `anyhow::Error`, it does not itself implement
/// `std::error::Error`, which is what allows the blanket conversion.)
pub struct PluginError {
    message: String,
}

impl PluginError {
    /// An error with `message`.
    pub fn new(message: impl fmt::Display) -> Self {
        PluginError {
            message: message.to_string(),
        }
    }

    /// Prefixes the message: `"<context>: <message>"`.
    pub fn context(self, context: impl fmt::Display) -> Self {
        PluginError {
            message: format!("{context}: {}", self.message),
        }
    }

    /// The full message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl<E: std::error::Error> From<E> for PluginError {
    fn from(err: E) -> Self {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            let text = s.to_string();
            // thiserror messages often already end with their source; do not repeat it.
            if !message.ends_with(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        PluginError { message }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PluginError").field(&self.message).finish()
    }
}

/// `.context("…")` on any `Result` whose error converts into [`PluginError`].
pub trait Context<T> {
    /// Turns the error into a [`PluginError`] prefixed with `context`.
    fn context(self, context: impl fmt::Display) -> Result<T, PluginError>;

    /// Like [`context`](Context::context), building the prefix only on error.
    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, PluginError>;
}

impl<T, E: Into<PluginError>> Context<T> for Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T, PluginError> {
        self.map_err(|e| e.into().context(context))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T, PluginError> {
        self.map_err(|e| e.into().context(context()))
    }
}

/// Why a plugin run failed; printed as `<plugin name>: <this>` on stderr.
#[derive(Debug, Error)]
pub enum RunError {
    /// The command line was not accepted.
    #[error("{0} (see --help)")]
    Flags(#[from] FlagError),
    /// stdin could not be read.
    #[error("reading the request from stdin: {0}")]
    ReadStdin(#[source] std::io::Error),
    /// stdin held more than the configured limit.
    #[error("the request on stdin is larger than {limit} bytes")]
    RequestTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// stdin was not a valid `CredentialProviderRequest`.
    #[error("decoding the CredentialProviderRequest on stdin: {0}")]
    DecodeRequest(#[source] RequestDecodeError),
    /// The handler failed.
    #[error("{0}")]
    Handler(PluginError),
    /// The response could not be written.
    #[error("writing the response to stdout: {0}")]
    WriteStdout(#[source] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn from_error_joins_the_source_chain() {
        let e: PluginError = Outer(std::io::Error::other("inner")).into();
        assert_eq!(e.message(), "outer: inner");
        assert_eq!(e.to_string(), "outer: inner");
    }

    #[test]
    fn context_prefixes() {
        let r: Result<(), std::io::Error> = Err(std::io::Error::other("boom"));
        let e = r.context("reading x").unwrap_err();
        assert_eq!(e.to_string(), "reading x: boom");
        let r: Result<(), PluginError> = Err(PluginError::new("no"));
        let e = r.with_context(|| format!("step {}", 2)).unwrap_err();
        assert_eq!(e.to_string(), "step 2: no");
        assert_eq!(format!("{e:?}"), "PluginError(\"step 2: no\")");
    }

    #[test]
    fn run_error_messages() {
        assert_eq!(
            RunError::Flags(FlagError::UnknownFlag("--x".into())).to_string(),
            "flag provided but not defined: --x (see --help)"
        );
        assert_eq!(
            RunError::RequestTooLarge { limit: 10 }.to_string(),
            "the request on stdin is larger than 10 bytes"
        );
    }
}
