//! Helpers for the `kcred get` tests: a temporary bin dir holding real plugins under
//! provider names, a config, and a way to run `kcred get` (optionally with stdin).

#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which real plugin binary a provider runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Plugin {
    /// `kcred-test-plugin` (configurable misbehaviour).
    Test,
    /// `static-credential-provider` (serves a docker config.json).
    Static,
}

impl Plugin {
    fn path(self) -> PathBuf {
        match self {
            Plugin::Test => kcred_testutil::bin("kcred-test-plugin", "kcred-test-plugin"),
            Plugin::Static => {
                kcred_testutil::bin("kcred-static-provider", "static-credential-provider")
            }
        }
    }
}

/// The result of one `kcred` run.
#[derive(Debug)]
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together, for "never printed anywhere" checks.
    pub(crate) fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// stdout parsed as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A temporary directory with `bin/` (plugins) and a config.
pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("bin")).expect("bin dir");
        Fixture { dir }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn bin_dir(&self) -> PathBuf {
        self.path("bin")
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.path("config.yaml")
    }

    /// Installs `plugin` in the bin dir as `name` (a symlink, as package managers do).
    pub(crate) fn plugin(&self, name: &str, plugin: Plugin) -> &Fixture {
        std::os::unix::fs::symlink(plugin.path(), self.bin_dir().join(name)).expect("symlink");
        self
    }

    /// Writes the config holding `providers` (see [`provider`]).
    pub(crate) fn config(&self, providers: &[String]) -> &Fixture {
        let doc = format!(
            "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n{}",
            providers.concat()
        );
        std::fs::write(self.config_path(), doc).expect("write config");
        self
    }

    /// Writes `content` to `name` in the fixture and returns its path.
    pub(crate) fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).expect("write");
        p
    }

    /// `kcred get IMAGE --config … --bin-dir … EXTRA…`
    pub(crate) fn get(&self, image: &str, extra: &[&str]) -> Run {
        self.get_with_stdin(image, extra, None)
    }

    /// Like [`Fixture::get`], feeding `stdin`.
    pub(crate) fn get_with_stdin(&self, image: &str, extra: &[&str], stdin: Option<&str>) -> Run {
        let mut args: Vec<String> = vec![
            "get".into(),
            image.into(),
            "--config".into(),
            self.config_path().display().to_string(),
            "--bin-dir".into(),
            self.bin_dir().display().to_string(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        kcred(&args, stdin)
    }
}

/// Runs the built `kcred` binary.
pub(crate) fn kcred<S: AsRef<std::ffi::OsStr>>(args: &[S], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kcred"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kcred");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait kcred");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// A v1 provider entry: `name`, `matchImages`, `args`, plus extra YAML lines (indented 4).
pub(crate) fn provider(name: &str, patterns: &[&str], args: &[&str], extra: &str) -> String {
    let quote = |s: &&str| serde_json::to_string(s).expect("json string");
    let patterns: Vec<String> = patterns.iter().map(quote).collect();
    let args: Vec<String> = args.iter().map(quote).collect();
    format!(
        "  - name: {name}\n    matchImages: [{}]\n    defaultCacheDuration: 10m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    args: [{}]\n{extra}",
        patterns.join(", "),
        args.join(", ")
    )
}

/// Reads a file the test plugin wrote, or `None` when it was never written.
pub(crate) fn read_if_exists(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// base64 of `user:pass`, as auth files hold it.
pub(crate) fn basic(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}
