//! Go package `os` / `syscall` error texts: `open /x: no such file or directory`.
//!
//! Go prints an OS error as the C library's message starting in lower case (its errno
//! table is glibc's), and a failed file operation as `*os.PathError`:
//! `<op> <path>: <errno text>`. Rust's `io::Error` prints `No such file or directory
//! (os error 2)`; these functions give Go's text.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Go's `syscall.Errno.Error()` text for an OS error: Rust's message without its
/// ` (os error N)` suffix, first letter in lower case. A path with a NUL byte, which Rust
/// refuses before calling the kernel, is `invalid argument` (the kernel's `EINVAL`, what Go
/// reports).
///
/// ```
/// use kcred_api::go::os::errno_text;
/// let e = std::fs::File::open("/nonexistent/kcred").unwrap_err();
/// assert_eq!(errno_text(&e), "no such file or directory");
/// ```
pub fn errno_text(err: &io::Error) -> String {
    if err.raw_os_error().is_none() && err.kind() == io::ErrorKind::InvalidInput {
        return "invalid argument".to_owned();
    }
    let full = err.to_string();
    let text = match (err.raw_os_error(), full.rfind(" (os error ")) {
        (Some(_), Some(i)) => &full[..i],
        _ => full.as_str(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An OS error on a path, displayed as Go's `*os.PathError`: `<op> <path>: <errno text>`
/// (`open /etc/x: no such file or directory`). The path is printed lossily (invalid UTF-8
/// as U+FFFD).
#[derive(Debug)]
pub struct PathError {
    /// The operation as Go names it: `open`, `stat`, `read`, `readdirent`, `lstat`.
    pub op: &'static str,
    /// The path operated on.
    pub path: PathBuf,
    /// The underlying error.
    pub source: io::Error,
}

impl PathError {
    /// A path error for `op` on `path`.
    pub fn new(op: &'static str, path: impl AsRef<Path>, source: io::Error) -> Self {
        PathError {
            op,
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.op,
            self.path.to_string_lossy(),
            errno_text(&self.source)
        )
    }
}

impl std::error::Error for PathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_texts_are_gos() {
        assert_eq!(
            errno_text(&io::Error::from_raw_os_error(2)),
            "no such file or directory"
        );
        assert_eq!(
            errno_text(&io::Error::from_raw_os_error(13)),
            "permission denied"
        );
        assert_eq!(
            errno_text(&io::Error::from_raw_os_error(21)),
            "is a directory"
        );
        assert_eq!(
            errno_text(&io::Error::new(io::ErrorKind::InvalidInput, "nul byte")),
            "invalid argument"
        );
        // Not an OS error: the message as it is, first letter lowered.
        assert_eq!(
            errno_text(&io::Error::other("Custom (os error 5) text")),
            "custom (os error 5) text"
        );
    }

    #[test]
    fn path_error_text() {
        let e = PathError::new("open", "/x", io::Error::from_raw_os_error(2));
        assert_eq!(e.to_string(), "open /x: no such file or directory");
        assert!(std::error::Error::source(&e).is_some());
        let e = std::fs::File::open("/nonexistent/kcred/x")
            .map_err(|err| PathError::new("open", "/nonexistent/kcred/x", err))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "open /nonexistent/kcred/x: no such file or directory"
        );
    }
}
