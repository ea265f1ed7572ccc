//! Test support: build and locate the workspace's binaries, so a test can exec a real
//! plugin or CLI that lives in another package of the workspace.
//!
//! Cargo gives `CARGO_BIN_EXE_<name>` only for binaries of the package under test; a host
//! test that execs `kcred-test-plugin` or `static-credential-provider` calls [`bin`] instead.
//! It runs `cargo build -p <package> --bin <name>` once per process (a no-op when up to date;
//! cargo releases its build lock before tests run) and returns the path under `target/debug`.

pub mod aad_stub;
pub mod google_sts_stub;
pub mod http_stub;
pub mod kube_apiserver_stub;
pub mod kubelet;
pub mod moto;
pub mod oidc_idp;
pub mod pass;
pub mod pki;
pub mod process;
pub mod registry;
pub mod sts_stub;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The workspace root of the test being run.
///
/// Cargo sets `CARGO_MANIFEST_DIR` for every test process to the package under test, a
/// member two levels below the root; that is preferred over this crate's compile-time path
/// so a build shared between checkouts never points at another checkout.
pub fn workspace_root() -> PathBuf {
    let member = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    member
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// The profile directory holding the workspace's binaries (`target/debug`).
///
/// Derived from the running test executable (`<target>/debug/deps/<test>`), which is
/// right whatever `CARGO_TARGET_DIR` or `build.target-dir` says; falls back to
/// `$CARGO_TARGET_DIR/debug` or `<workspace>/target/debug`.
pub fn profile_dir() -> PathBuf {
    if let Ok(exe) = std::env::current_exe() {
        if let Some(deps) = exe.parent() {
            if deps.file_name().is_some_and(|n| n == "deps") {
                if let Some(profile) = deps.parent() {
                    return profile.to_path_buf();
                }
            }
        }
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if PathBuf::from(&d).is_absolute() => PathBuf::from(d),
        Some(d) => workspace_root().join(d),
        None => workspace_root().join("target"),
    };
    target.join("debug")
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
    let profile = profile_dir();
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", package, "--bin", name]);
    if profile.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd
        .current_dir(workspace_root())
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "cargo build -p {package} --bin {name} failed"
    );
    let path = profile.join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    built.insert(name.to_owned(), path.clone());
    path
}
