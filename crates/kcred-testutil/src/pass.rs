//! A throwaway `pass` password store for tests of Debian's `docker-credential-pass`
//! (golang-docker-credential-helpers): its own gpg home and key, removed (agent stopped) on
//! drop, plus running a program with text on its stdin.
//!
//! ```no_run
//! use kcred_testutil::pass::{pass_tools_present, PassStore};
//!
//! if pass_tools_present("my_test") {
//!     let store = PassStore::create();
//!     store.store("registry.example", "alice", "s3cret");
//! }
//! ```
//!
//! Uses only `std`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Whether `name` is a file in a directory of `PATH`.
pub fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

/// `pass`, `gpg`, `gpgconf` and `docker-credential-pass` are on `PATH`, or `false` after
/// saying why `test` is skipped (a failure under `CI`).
pub fn pass_tools_present(test: &str) -> bool {
    let missing: Vec<&str> = ["pass", "gpg", "gpgconf", "docker-credential-pass"]
        .into_iter()
        .filter(|t| !on_path(t))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "missing {} (apt-get install pass gnupg golang-docker-credential-helpers)",
        missing.join(", ")
    );
    assert!(std::env::var_os("CI").is_none(), "{test}: {why}");
    eprintln!("SKIPPED {test}: {why}");
    false
}

/// Lossy text.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `cmd` with `input` on its stdin and collects its output.
///
/// Panics (failing the calling test) when it cannot be run.
pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A password store with its own gpg home and key, removed (agent stopped) on drop.
#[derive(Debug)]
pub struct PassStore {
    dir: PathBuf,
}

impl PassStore {
    /// `GNUPGHOME`.
    pub fn gnupghome(&self) -> PathBuf {
        self.dir.join("g")
    }

    /// `PASSWORD_STORE_DIR`.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.join("s")
    }

    /// `program` with `GNUPGHOME` and `PASSWORD_STORE_DIR` set to this store's.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("GNUPGHOME", self.gnupghome())
            .env("PASSWORD_STORE_DIR", self.store_dir());
        cmd
    }

    /// Creates the gpg home, a passphrase-less key and `pass init` with it.
    ///
    /// Panics (failing the calling test) when a step fails.
    pub fn create() -> PassStore {
        // A short path: gpg-agent's socket may live in GNUPGHOME (108-byte limit).
        let dir = crate::kubelet::scratch_dir_in(std::path::Path::new("/tmp"), "kcp").unwrap();
        let store = PassStore { dir };
        std::fs::create_dir(store.gnupghome()).unwrap();
        std::fs::set_permissions(
            store.gnupghome(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let out = store
            .command("gpg")
            .args(["--batch", "--passphrase", "", "--quick-gen-key"])
            .args([
                "kcred test <kcred-test@example.invalid>",
                "future-default",
                "default",
                "never",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "gpg: {}", text(&out.stderr));
        let out = store
            .command("gpg")
            .args(["--batch", "--with-colons", "--list-keys"])
            .output()
            .unwrap();
        let listing = text(&out.stdout);
        let fingerprint = listing
            .lines()
            .find_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_owned())
            })
            .expect("a key fingerprint");
        let out = store
            .command("pass")
            .args(["init", &fingerprint])
            .output()
            .unwrap();
        assert!(out.status.success(), "pass init: {}", text(&out.stderr));
        store
    }

    /// `docker-credential-pass store` of `user`/`secret` for `server_url`.
    pub fn store(&self, server_url: &str, user: &str, secret: &str) {
        let creds = format!(
            "{{\"ServerURL\":{},\"Username\":{},\"Secret\":{}}}",
            crate::kubelet::json_quote(server_url),
            crate::kubelet::json_quote(user),
            crate::kubelet::json_quote(secret)
        );
        let out = run_with_stdin(self.command("docker-credential-pass").arg("store"), &creds);
        assert!(
            out.status.success(),
            "docker-credential-pass store: {}",
            text(&out.stdout)
        );
    }
}

impl Drop for PassStore {
    fn drop(&mut self) {
        let _ = self
            .command("gpgconf")
            .args(["--kill", "gpg-agent"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
