//! Test support: build and locate the workspace's binaries, so a test can exec a real
//! plugin or CLI that lives in another package of the workspace.
//!
//! Cargo gives `CARGO_BIN_EXE_<name>` only for binaries of the package under test; a host
//! test that execs `kcred-test-plugin` or `static-credential-provider` calls [`bin`] instead.
//! It runs `cargo build -p <package> --bin <name>` once per process (a no-op when up to date;
//! cargo releases its build lock before tests run) and returns the path under `target/debug`.

pub mod http_stub;
pub mod moto;
pub mod registry;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// The target directory: `$CARGO_TARGET_DIR` or `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                workspace_root().join(d)
            }
        }
        None => workspace_root().join("target"),
    }
}

/// Builds binary `name` of workspace package `package` (debug profile) and returns its path.
///
/// Panics (failing the calling test) when the build fails.
pub fn bin(package: &str, name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(name) {
        return p.clone();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", package, "--bin", name])
        .current_dir(workspace_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p {package} --bin {name} failed");
    let path = target_dir().join("debug").join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    built.insert(name.to_owned(), path.clone());
    path
}
