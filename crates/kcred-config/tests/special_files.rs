//! Issue 12, defect 6: config files that are not regular files (a FIFO, a device, a
//! symlink to `/dev/zero`) and oversized files get a clear error naming the file, without
//! blocking and without reading more than the cap. The kubelet would block on a FIFO and
//! read `/dev/zero` until memory runs out; kcred deliberately differs (docs/reliability.md).
#![cfg(unix)]

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use kcred_config::load::MAX_CONFIG_FILE_BYTES;
use kcred_config::{load_path, LoadError};

const CONFIG: &str =
    "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n";

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// Runs `load_path(path)` on a thread and fails (after unblocking it by opening the FIFO
/// `unblock` for writing, if given) when it has not returned within 20 s.
fn load_with_watchdog(path: &Path, unblock: Option<&Path>) -> Result<(), LoadError> {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(load_path(&p).map(|_| ()));
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(r) => r,
        Err(_) => {
            if let Some(fifo) = unblock {
                // A writer that closes at once gives the stuck reader EOF.
                drop(std::fs::OpenOptions::new().write(true).open(fifo));
            }
            panic!("load_path({}) blocked", path.display());
        }
    }
}

fn dir_with_config() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), CONFIG).unwrap();
    dir
}

#[test]
fn a_fifo_in_a_config_dir_is_an_error_naming_it() {
    let dir = dir_with_config();
    let fifo: PathBuf = dir.path().join("b.yaml");
    mkfifo(&fifo);
    let err = load_with_watchdog(dir.path(), Some(&fifo)).unwrap_err();
    assert!(matches!(err, LoadError::NotRegularFile { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("{:?}", fifo.display().to_string())),
        "{text}"
    );
    assert!(
        text.contains("is a named pipe (FIFO), not a regular file"),
        "{text}"
    );
}

#[test]
fn a_fifo_as_the_config_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("config.yaml");
    mkfifo(&fifo);
    let err = load_with_watchdog(&fifo, Some(&fifo)).unwrap_err();
    assert!(matches!(err, LoadError::NotRegularFile { .. }), "{err:?}");
}

#[test]
fn a_symlink_to_dev_zero_or_a_device_is_an_error() {
    let dir = dir_with_config();
    let link = dir.path().join("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let err = load_with_watchdog(dir.path(), None).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LoadError::NotRegularFile { .. }), "{err:?}");
    assert!(
        text.contains("zero.yaml") && text.contains("is a character device"),
        "{text}"
    );
    let err = load_with_watchdog(Path::new("/dev/null"), None).unwrap_err();
    assert!(
        err.to_string()
            .contains("\"/dev/null\" is a character device"),
        "{err}"
    );
}

#[test]
fn files_over_the_cap_are_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    let mut content = CONFIG.as_bytes().to_vec();
    // Padding of spaces: a long blank last line (newlines would hit the YAML node limit).
    content.resize(MAX_CONFIG_FILE_BYTES as usize + 1, b' ');
    std::fs::write(&big, &content).unwrap();
    let err = load_with_watchdog(&big, None).unwrap_err();
    assert!(matches!(err, LoadError::TooLarge { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&format!(
            "larger than kcred's limit of {MAX_CONFIG_FILE_BYTES} bytes"
        )),
        "{err}"
    );
    // Exactly at the cap is fine.
    content.truncate(MAX_CONFIG_FILE_BYTES as usize);
    std::fs::write(&big, &content).unwrap();
    load_with_watchdog(&big, None).unwrap();
}
