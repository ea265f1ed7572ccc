//! TLS trust roots found the way Go's `crypto/x509` finds the system roots on Linux, so the
//! ACR and GCP plugins trust exactly what their Go upstreams trust on the same node.
//!
//! Go's rules (`loadSystemRoots` in golang/go `src/crypto/x509/root_unix.go`, the lists in
//! `src/crypto/x509/root_linux.go`, golang/go commit 11e0a184a82a):
//!
//! 1. Files: `SSL_CERT_FILE` when set and non-empty, else [`CERT_FILES`]. They are tried in
//!    order and the first one that can be read is used; a missing file is skipped silently,
//!    any other read error (permission, a directory) is remembered as the *first error*.
//! 2. Directories: `SSL_CERT_DIR` (colon-separated) when set and non-empty, else
//!    [`CERT_DIRECTORIES`]. **All** of them are read, in addition to the file of step 1; every
//!    entry except a symlink whose target has no `/` (a hash link to a file already in the
//!    directory) is read, unreadable entries are skipped; a missing directory is skipped,
//!    any other error is remembered as the first error if none is yet.
//! 3. The result is the certificates found. If none were found and a first error was
//!    remembered, loading fails with it ([`TrustError::Load`], Go's "x509: failed to load
//!    system roots and no roots provided"). If none were found and nothing failed, the pool is
//!    empty: Go would then fail every handshake with "certificate signed by unknown
//!    authority"; kcred fails before dialling with [`TrustError::Empty`], which says where it
//!    looked.
//!
//! There is no bundled fallback (Go has none on Linux): a node without a CA bundle gets a
//! clear error, never a silently different trust store.

use std::io::Read;
use std::path::{Path, PathBuf};

use thiserror::Error;
use ureq::tls::{Certificate, PemItem};

/// The bundle files Go tries on Linux, in order (golang/go `src/crypto/x509/root_linux.go`).
pub const CERT_FILES: [&str; 6] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The directories Go reads on Linux, all of them (golang/go `src/crypto/x509/root_linux.go`).
pub const CERT_DIRECTORIES: [&str; 4] = [
    "/etc/ssl/certs",
    "/etc/pki/tls/certs",
    "/system/etc/security/cacerts",
    "/data/misc/keychain/certs-added",
];

/// Where the system trust roots are looked for: Go's `SSL_CERT_FILE` and `SSL_CERT_DIR`
/// overrides, or the built-in lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustSources {
    /// `SSL_CERT_FILE` (replaces [`CERT_FILES`]); `None` when unset or empty.
    pub cert_file: Option<PathBuf>,
    /// `SSL_CERT_DIR` split at `:` (replaces [`CERT_DIRECTORIES`]); empty when unset or empty.
    pub cert_dirs: Vec<PathBuf>,
}

impl TrustSources {
    /// From the values of `SSL_CERT_FILE` and `SSL_CERT_DIR` (unset and empty are the same,
    /// as Go's `os.Getenv(…) != ""`).
    pub fn from_env_values(cert_file: Option<&str>, cert_dir: Option<&str>) -> Self {
        TrustSources {
            cert_file: cert_file.filter(|s| !s.is_empty()).map(PathBuf::from),
            cert_dirs: cert_dir
                .filter(|s| !s.is_empty())
                .map(|d| d.split(':').map(PathBuf::from).collect())
                .unwrap_or_default(),
        }
    }

    /// From the process environment.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok();
        Self::from_env_values(
            var("SSL_CERT_FILE").as_deref(),
            var("SSL_CERT_DIR").as_deref(),
        )
    }

    /// Loads the roots by Go's rules (module docs). The certificates are DER, in the order
    /// found; duplicates are kept (a pool ignores them).
    pub fn load(&self) -> Result<Vec<Certificate<'static>>, TrustError> {
        let mut certs = Vec::new();
        let mut first_err: Option<TrustError> = None;
        let remember = |first: &mut Option<TrustError>, op: &'static str, path: &Path, e| {
            if first.is_none() {
                *first = Some(TrustError::Load {
                    op,
                    path: path.display().to_string(),
                    reason: go_os_reason(&e),
                });
            }
        };

        let files: Vec<&Path> = match &self.cert_file {
            Some(f) => vec![f.as_path()],
            None => CERT_FILES.iter().map(Path::new).collect(),
        };
        for file in files {
            match read_file(file) {
                Ok(data) => {
                    certs.extend(pem_certificates(&data));
                    break;
                }
                Err((_, e)) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err((op, e)) => remember(&mut first_err, op, file, e),
            }
        }

        let dirs: Vec<&Path> = if self.cert_dirs.is_empty() {
            CERT_DIRECTORIES.iter().map(Path::new).collect()
        } else {
            self.cert_dirs.iter().map(PathBuf::as_path).collect()
        };
        for dir in dirs {
            let entries = match unique_directory_entries(dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    remember(&mut first_err, "open", dir, e);
                    continue;
                }
            };
            for path in entries {
                if let Ok(data) = read_file(&path) {
                    certs.extend(pem_certificates(&data));
                }
            }
        }

        match (certs.is_empty(), first_err) {
            (false, _) => Ok(certs),
            (true, Some(e)) => Err(e),
            (true, None) => Err(TrustError::Empty {
                searched: self.searched(),
            }),
        }
    }

    /// What [`TrustError::Empty`] names: the overriding file, else `SSL_CERT_DIR`, else the
    /// first system bundle.
    fn searched(&self) -> String {
        match &self.cert_file {
            Some(f) => f.display().to_string(),
            None if !self.cert_dirs.is_empty() => "SSL_CERT_DIR".to_owned(),
            None => CERT_FILES[0].to_owned(),
        }
    }
}

/// Why no trust roots could be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TrustError {
    /// Nothing was found and a source failed to read (Go's `SystemRootsError`).
    #[error("x509: failed to load system roots and no roots provided; {op} {path}: {reason}")]
    Load {
        /// Go's `PathError` operation: `open` or `read`.
        op: &'static str,
        /// The file or directory.
        path: String,
        /// The OS error in Go's words (`permission denied`, `is a directory`).
        reason: String,
    },
    /// Nothing was found and nothing failed: every source is missing or holds no certificate.
    #[error("no TLS trust roots found (looked at {searched}); set SSL_CERT_FILE to a PEM bundle")]
    Empty {
        /// The overriding file, `SSL_CERT_DIR`, or the first system bundle.
        searched: String,
    },
    /// A CA file given explicitly (not a system source) could not be used.
    #[error("loading CA certificates from {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// The OS error in Go's words, or `no valid certificates found`.
        reason: String,
    },
}

/// The certificates of one explicitly configured PEM file (no system sources, no fallback);
/// an unreadable file or one without certificates is an error.
pub fn load_ca_file(path: &Path) -> Result<Vec<Certificate<'static>>, TrustError> {
    let ca_error = |reason: String| TrustError::CaFile {
        path: path.display().to_string(),
        reason,
    };
    let data = read_file(path).map_err(|(_, e)| ca_error(go_os_reason(&e)))?;
    let certs: Vec<_> = pem_certificates(&data).collect();
    if certs.is_empty() {
        return Err(ca_error("no valid certificates found".to_owned()));
    }
    Ok(certs)
}

/// The `CERTIFICATE` blocks of a PEM text; other blocks and garbage are skipped, as Go's
/// `AppendCertsFromPEM` does.
fn pem_certificates(data: &[u8]) -> impl Iterator<Item = Certificate<'static>> + '_ {
    ureq::tls::parse_pem(data).filter_map(|item| match item {
        Ok(PemItem::Certificate(c)) => Some(c),
        _ => None,
    })
}

/// `os.ReadFile`: the error comes with Go's operation name (`open` or `read`).
fn read_file(path: &Path) -> Result<Vec<u8>, (&'static str, std::io::Error)> {
    let mut file = std::fs::File::open(path).map_err(|e| ("open", e))?;
    let mut data = Vec::new();
    file.read_to_end(&mut data).map_err(|e| ("read", e))?;
    Ok(data)
}

/// Go's `readUniqueDirectoryEntries`: the entries of `dir` except symlinks whose target has
/// no `/` (they point at a file of the same directory, read anyway).
fn unique_directory_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let same_dir_link = entry.file_type().is_ok_and(|t| t.is_symlink())
            && std::fs::read_link(entry.path())
                .is_ok_and(|target| !target.as_os_str().as_encoded_bytes().contains(&b'/'));
        if !same_dir_link {
            out.push(entry.path());
        }
    }
    Ok(out)
}

/// An OS error as Go prints it after `op path: ` (`no such file or directory`, `is a
/// directory`).
fn go_os_reason(e: &std::io::Error) -> String {
    kcred_api::go::os::errno_text(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A self-signed CA made by the `openssl` CLI, as PEM.
    fn ca_pem(dir: &Path, name: &str) -> Vec<u8> {
        let out = dir.join(format!("{name}.pem"));
        let status = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .arg("-keyout")
            .arg(dir.join(format!("{name}.key")))
            .arg("-out")
            .arg(&out)
            .args(["-subj", &format!("/CN={name}")])
            .output()
            .expect("openssl is installed (scripts/test-all.sh)");
        assert!(status.status.success(), "{status:?}");
        let pem = std::fs::read(&out).unwrap();
        std::fs::remove_file(&out).unwrap();
        pem
    }

    fn sources(file: Option<&Path>, dirs: &[&Path]) -> TrustSources {
        TrustSources {
            cert_file: file.map(Path::to_path_buf),
            cert_dirs: dirs.iter().map(|d| d.to_path_buf()).collect(),
        }
    }

    #[test]
    fn env_values_follow_getenv_semantics() {
        let s = TrustSources::from_env_values(Some(""), Some("/a:/b"));
        assert_eq!(s.cert_file, None);
        assert_eq!(s.cert_dirs, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(
            TrustSources::from_env_values(Some("/f"), Some("")),
            sources(Some(Path::new("/f")), &[])
        );
    }

    #[test]
    fn the_file_and_every_directory_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let (d1, d2) = (tmp.path().join("d1"), tmp.path().join("d2"));
        std::fs::create_dir_all(&d1).unwrap();
        std::fs::create_dir_all(&d2).unwrap();
        let file = tmp.path().join("bundle.pem");
        let mut bundle = ca_pem(tmp.path(), "a");
        bundle.extend(b"not pem at all\n");
        bundle.extend(ca_pem(tmp.path(), "b"));
        std::fs::write(&file, bundle).unwrap();
        std::fs::write(d1.join("c.pem"), ca_pem(tmp.path(), "c")).unwrap();
        std::fs::write(d2.join("d.pem"), ca_pem(tmp.path(), "d")).unwrap();
        // A hash link to a file of the same directory is not read twice (Go's isSameDirSymlink).
        std::os::unix::fs::symlink("c.pem", d1.join("1234abcd.0")).unwrap();
        // A missing directory in the list is skipped.
        let missing = tmp.path().join("missing");
        let certs = sources(Some(&file), &[&d1, &missing, &d2]).load().unwrap();
        assert_eq!(certs.len(), 4);
    }

    #[test]
    fn a_missing_file_is_skipped_and_an_empty_pool_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("nonexistent.pem");
        let err = sources(Some(&file), &[tmp.path()]).load().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no TLS trust roots found (looked at {}); set SSL_CERT_FILE to a PEM bundle",
                file.display()
            )
        );
        std::fs::write(tmp.path().join("x.pem"), ca_pem(tmp.path(), "x")).unwrap();
        assert_eq!(sources(Some(&file), &[tmp.path()]).load().unwrap().len(), 1);
    }

    #[test]
    fn an_unreadable_file_fails_only_when_nothing_else_is_found() {
        let tmp = tempfile::tempdir().unwrap();
        let (unreadable, empty, full) = (
            tmp.path().join("a-directory"),
            tmp.path().join("empty"),
            tmp.path().join("full"),
        );
        for d in [&unreadable, &empty, &full] {
            std::fs::create_dir_all(d).unwrap();
        }
        // Go: os.ReadFile of a directory fails with "read <path>: is a directory".
        let err = sources(Some(&unreadable), &[&empty]).load().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "x509: failed to load system roots and no roots provided; read {}: is a directory",
                unreadable.display()
            )
        );
        std::fs::write(full.join("ca.pem"), ca_pem(tmp.path(), "ca")).unwrap();
        assert_eq!(
            sources(Some(&unreadable), &[&empty, &full])
                .load()
                .unwrap()
                .len(),
            1
        );
        // A "directory" that is a file is remembered the same way.
        let file_not_dir = full.join("ca.pem");
        let err = sources(Some(&tmp.path().join("none")), &[&file_not_dir])
            .load()
            .unwrap_err();
        assert!(
            matches!(&err, TrustError::Load { op: "open", reason, .. } if reason == "not a directory"),
            "{err:?}"
        );
    }

    #[test]
    fn explicit_ca_files_must_hold_a_certificate() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("ca.crt");
        let err = load_ca_file(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "loading CA certificates from {}: no such file or directory",
                path.display()
            )
        );
        std::fs::write(&path, "garbage").unwrap();
        assert!(err_text(load_ca_file(&path)).ends_with(": no valid certificates found"));
        std::fs::write(&path, ca_pem(tmp.path(), "ca")).unwrap();
        assert_eq!(load_ca_file(&path).unwrap().len(), 1);
    }

    fn err_text<T: std::fmt::Debug>(r: Result<T, TrustError>) -> String {
        r.unwrap_err().to_string()
    }
}
