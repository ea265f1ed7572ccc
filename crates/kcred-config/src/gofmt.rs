//! Go's text formatting for paths, so messages read byte for byte as the kubelet prints them.
//!
//! Go's general string formatting (`strconv.Quote` / `%q`, `encoding/json` strings) lives in
//! [`kcred_api::gostr`]; this module adds what is specific to paths:
//!
//! - [`go_quote_path`]: `%q` of a path (bytes that are not UTF-8 become `\xNN`).

use std::path::Path;

use kcred_api::gostr::strconv_quote_bytes;

/// Quotes a path as Go's `%q` would quote the same path string.
pub fn go_quote_path(path: &Path) -> String {
    strconv_quote_bytes(&path_bytes(path))
}

/// The bytes of a path as the OS holds them (lossy outside Unix).
pub(crate) fn path_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

/// A path's text as Go would print it with `%s` (invalid UTF-8 shown as U+FFFD).
pub(crate) fn path_text(path: &Path) -> String {
    String::from_utf8_lossy(&path_bytes(path)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn quote_path_escapes_non_utf8_bytes() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;

        let path = Path::new(OsStr::from_bytes(b"/etc/k\xffcred/\"x\".yaml"));
        assert_eq!(go_quote_path(path), "\"/etc/k\\xffcred/\\\"x\\\".yaml\"");
        assert_eq!(path_text(path), "/etc/k\u{fffd}cred/\"x\".yaml");
    }

    #[test]
    fn quote_path_keeps_printable_text() {
        assert_eq!(go_quote_path(Path::new("/etc/kcred é")), "\"/etc/kcred é\"");
        assert_eq!(go_quote_path(Path::new("a\tb")), "\"a\\tb\"");
    }
}
