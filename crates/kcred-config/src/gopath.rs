//! Go's `path/filepath` helpers the kubelet uses on config paths (Unix semantics), and Go's
//! `*os.PathError` text, so paths and errors in messages read as the kubelet prints them.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::gofmt::{path_bytes, path_text};

/// Go's `filepath.Clean` on bytes.
pub(crate) fn clean(path: &[u8]) -> Vec<u8> {
    if path.is_empty() {
        return b".".to_vec();
    }
    let rooted = path[0] == b'/';
    let n = path.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let mut r = 0;
    let mut dotdot = 0;
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        let at_sep = |i: usize| i == n || path[i] == b'/';
        if path[r] == b'/' || (path[r] == b'.' && at_sep(r + 1)) {
            // Empty element, or `.`.
            r += 1;
        } else if path[r] == b'.' && r + 1 < n && path[r + 1] == b'.' && at_sep(r + 2) {
            r += 2;
            if out.len() > dotdot {
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && path[r] != b'/' {
                out.push(path[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// Go's `filepath.Join(dir, name)` for a non-empty `dir` and `name`.
pub(crate) fn join(dir: &Path, name: &[u8]) -> PathBuf {
    let mut joined = path_bytes(dir);
    joined.push(b'/');
    joined.extend_from_slice(name);
    path_from_bytes(clean(&joined))
}

/// Go's `filepath.Ext`: the suffix from the last `.` of the last element, or empty.
pub(crate) fn ext(name: &[u8]) -> &[u8] {
    for i in (0..name.len()).rev() {
        match name[i] {
            b'/' => break,
            b'.' => return &name[i..],
            _ => {}
        }
    }
    &[]
}

pub(crate) fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        PathBuf::from(std::ffi::OsString::from_vec(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// An OS error on a path, displayed as Go's `*os.PathError`: `<op> <path>: <errno text>`
/// (e.g. `stat /etc/x: no such file or directory`).
#[derive(Debug)]
pub struct GoPathError {
    /// The failed operation as Go names it (`stat`, `open`, `read`, `readdirent`).
    pub op: &'static str,
    /// The path operated on.
    pub path: PathBuf,
    /// The underlying error.
    pub source: io::Error,
}

impl GoPathError {
    pub(crate) fn new(op: &'static str, path: &Path, source: io::Error) -> Self {
        GoPathError {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for GoPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.op,
            path_text(&self.path),
            go_errno_text(&self.source)
        )
    }
}

impl std::error::Error for GoPathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Go's `syscall.Errno.Error()` text: the C library's message starting in lowercase,
/// without Rust's ` (os error N)` suffix.
fn go_errno_text(e: &io::Error) -> String {
    kcred_api::go::os::errno_text(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/", "abc"),
            ("a//b", "a/b"),
            ("./a/./b/", "a/b"),
            ("a/../b", "b"),
            ("../a", "../a"),
            ("../../a/..", "../.."),
            ("/../a", "/a"),
            ("/", "/"),
            ("//", "/"),
            ("a/b/../../..", ".."),
            ("/a/b/c/../../d", "/a/d"),
        ] {
            assert_eq!(
                String::from_utf8(clean(input.as_bytes())).unwrap(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn join_cleans() {
        assert_eq!(
            join(Path::new("./conf//"), b"a.yaml"),
            PathBuf::from("conf/a.yaml")
        );
        assert_eq!(
            join(Path::new("/etc/k/"), b"b.json"),
            PathBuf::from("/etc/k/b.json")
        );
    }

    #[test]
    fn ext_is_from_last_dot() {
        assert_eq!(ext(b"a.yaml"), b".yaml");
        assert_eq!(ext(b".json"), b".json");
        assert_eq!(ext(b"a.tar.yml"), b".yml");
        assert_eq!(ext(b"noext"), b"");
        assert_eq!(ext(b"a.YAML"), b".YAML");
    }

    #[test]
    fn path_error_text_is_go_like() {
        let e = GoPathError::new("stat", Path::new("/nope"), io::Error::from_raw_os_error(2));
        assert_eq!(e.to_string(), "stat /nope: no such file or directory");
    }
}
