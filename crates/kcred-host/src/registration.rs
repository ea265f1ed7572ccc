//! `RegisterCredentialProviderPlugins` checks (kubernetes/kubernetes
//! `pkg/credentialprovider/plugin/plugin.go`): the bin dir must exist and each
//! provider's executable must pass Go's `exec.LookPath`.
//!
//! **Quirk kept from the kubelet:** Go's `LookPath` returns `""` on failure and the kubelet
//! prints that, so the first line of a lookup error has an empty path
//! (`plugin binary executable  did not exist`). kcred adds a second line naming the path
//! that was actually looked up.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use kcred_api::gostr::strconv_quote;

use crate::exec::gotext::os_error_text;

/// A `stat`-style error as Go prints it: `<op> <path>: <errno text>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoPathError {
    /// The failing operation (`stat`).
    pub op: &'static str,
    /// The path.
    pub path: PathBuf,
    /// The OS error text (lower-case, as Go).
    pub error: String,
}

impl fmt::Display for GoPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.op, self.path.display(), self.error)
    }
}

impl std::error::Error for GoPathError {}

/// Why the bin dir or a plugin executable is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// `stat(binDir)` found nothing.
    #[error("plugin binary directory {} did not exist", .0.display())]
    BinDirMissing(PathBuf),
    /// `stat(binDir)` failed otherwise.
    #[error("error inspecting binary directory {}: {source}", .dir.display())]
    BinDirInspect {
        /// The bin dir.
        dir: PathBuf,
        /// The stat error.
        source: GoPathError,
    },
    /// The executable does not exist (the kubelet prints an empty path).
    #[error("plugin binary executable  did not exist\n  (kcred: looked for {})", .path.display())]
    PluginMissing {
        /// The path looked up (`bin_dir/name`).
        path: PathBuf,
    },
    /// The executable exists but cannot be run (a directory, not executable, ...).
    #[error("error inspecting binary executable : exec: {}: {reason}\n  (kcred: looked for {})", strconv_quote(&.path.to_string_lossy()), .path.display())]
    PluginInspect {
        /// The path looked up.
        path: PathBuf,
        /// Go's reason (`is a directory`, `permission denied`).
        reason: String,
    },
}

/// Step 1: `stat(binDir)` (it need not be a directory).
pub fn check_bin_dir(dir: &Path) -> Result<(), RegistrationError> {
    match std::fs::metadata(dir) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(RegistrationError::BinDirMissing(dir.to_path_buf()))
        }
        Err(e) => Err(RegistrationError::BinDirInspect {
            dir: dir.to_path_buf(),
            source: GoPathError {
                op: "stat",
                path: dir.to_path_buf(),
                error: os_error_text(&e),
            },
        }),
    }
}

/// Step 5: `exec.LookPath(filepath.Join(binDir, name))`; returns the path to run.
pub fn look_path(bin_dir: &Path, name: &str) -> Result<PathBuf, RegistrationError> {
    let path = join(bin_dir, name);
    #[cfg(windows)]
    {
        windows_look_path(&path)
    }
    #[cfg(not(windows))]
    {
        find_executable(&path)
            .map(|()| path.clone())
            .map_err(|e| lookup_error(path, e))
    }
}

/// Go's `filepath.Join(dir, name)`: an empty name gives the (cleaned) dir itself.
fn join(bin_dir: &Path, name: &str) -> PathBuf {
    if name.is_empty() {
        bin_dir.to_path_buf()
    } else {
        bin_dir.join(name)
    }
}

fn lookup_error(path: PathBuf, e: io::Error) -> RegistrationError {
    if e.kind() == io::ErrorKind::NotFound {
        RegistrationError::PluginMissing { path }
    } else {
        RegistrationError::PluginInspect {
            reason: os_error_text(&e),
            path,
        }
    }
}

/// Go's Unix `findExecutable`: stat; a directory is `EISDIR`; then `eaccess(X_OK)`.
#[cfg(unix)]
fn find_executable(path: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: c_path is a valid NUL-terminated string for the duration of the call.
    let rc = unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            c_path.as_ptr(),
            libc::X_OK,
            libc::AT_EACCESS,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        // Go falls back to the mode bits when eaccess is unsupported or refused.
        Some(libc::ENOSYS) | Some(libc::EPERM) => {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o111 != 0 {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(libc::EACCES))
            }
        }
        _ => Err(err),
    }
}

#[cfg(not(any(unix, windows)))]
fn find_executable(path: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::Other, "is a directory"));
    }
    Ok(())
}

/// Go's Windows `LookPath`: the path as given if it has an executable extension, else
/// with `.com`, `.exe`, `.bat`, `.cmd` appended (the default `PATHEXT`), first that exists.
#[cfg(windows)]
fn windows_look_path(path: &Path) -> Result<PathBuf, RegistrationError> {
    let exts: Vec<String> = std::env::var("PATHEXT")
        .ok()
        .map(|v| {
            v.split(';')
                .filter(|e| !e.is_empty())
                .map(|e| e.to_ascii_lowercase())
                .collect()
        })
        .filter(|v: &Vec<String>| !v.is_empty())
        .unwrap_or_else(|| [".com", ".exe", ".bat", ".cmd"].map(String::from).to_vec());
    let has_ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy().to_ascii_lowercase()))
        .is_some_and(|e| exts.contains(&e));
    let mut candidates = Vec::new();
    if has_ext {
        candidates.push(path.to_path_buf());
    }
    for e in &exts {
        let mut p = path.as_os_str().to_os_string();
        p.push(e);
        candidates.push(PathBuf::from(p));
    }
    let mut last = io::Error::from(io::ErrorKind::NotFound);
    for c in candidates {
        match std::fs::metadata(&c) {
            Ok(m) if !m.is_dir() => return Ok(c),
            Ok(_) => last = io::Error::new(io::ErrorKind::Other, "is a directory"),
            Err(e) => last = e,
        }
    }
    Err(lookup_error(path.to_path_buf(), last))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn messages_keep_the_empty_path_quirk_and_name_the_real_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = look_path(dir.path(), "nope").unwrap_err();
        let text = err.to_string();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("plugin binary executable  did not exist")
        );
        assert!(lines
            .next()
            .unwrap()
            .contains(&*dir.path().join("nope").to_string_lossy()));

        let err = look_path(dir.path(), "").unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "error inspecting binary executable : exec: \"{}\": is a directory",
                dir.path().display()
            )),
            "{err}"
        );

        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = look_path(dir.path(), "plain").unwrap_err().to_string();
        assert!(err.contains(": permission denied"), "{err}");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(look_path(dir.path(), "plain").unwrap(), file);
    }

    #[test]
    fn bin_dir_messages() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert_eq!(
            check_bin_dir(&missing).unwrap_err().to_string(),
            format!(
                "plugin binary directory {} did not exist",
                missing.display()
            )
        );
        assert!(check_bin_dir(dir.path()).is_ok());
        assert_eq!(
            check_bin_dir(Path::new("")).unwrap_err().to_string(),
            "plugin binary directory  did not exist"
        );
    }
}
