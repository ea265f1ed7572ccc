//! Shared setup: a plugin directory holding `kcred-test-plugin` under several provider names,
//! kubelet configs, and running `docker-credential-kcred` like a docker client does.

#![allow(dead_code)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kcred_testutil::pass::run_with_stdin;
use serde_json::{json, Value};

/// The helper under test.
pub(crate) const HELPER: &str = env!("CARGO_BIN_EXE_docker-credential-kcred");

/// The not-found answer docker clients recognise.
pub(crate) const NOT_FOUND: &str = "credentials not found in native keychain\n";

/// A kubelet node's provider setup in a temporary directory.
pub(crate) struct Node {
    /// Holds everything.
    pub dir: tempfile::TempDir,
    /// The plugin directory.
    pub bin_dir: PathBuf,
    /// The config file.
    pub config: PathBuf,
}

/// One provider: its name (a symlink to kcred-test-plugin), `matchImages` and plugin args.
pub(crate) struct ProviderSpec<'a> {
    /// Provider name.
    pub name: &'a str,
    /// `matchImages`.
    pub match_images: &'a [&'a str],
    /// `args` of kcred-test-plugin.
    pub args: &'a [&'a str],
}

impl Node {
    /// A node whose config lists `providers`, all backed by kcred-test-plugin.
    pub(crate) fn new(providers: &[ProviderSpec<'_>]) -> Node {
        let plugin = kcred_testutil::bin("kcred-test-plugin", "kcred-test-plugin");
        let dir = tempfile::tempdir().unwrap();
        let bin_dir = dir.path().join("bin");
        std::fs::create_dir(&bin_dir).unwrap();
        let mut list = Vec::new();
        for p in providers {
            let link = bin_dir.join(p.name);
            if !link.exists() {
                symlink(&plugin, &link).unwrap();
            }
            list.push(json!({
                "name": p.name,
                "matchImages": p.match_images,
                "defaultCacheDuration": "1m",
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                "args": p.args,
            }));
        }
        let config = dir.path().join("credential-provider-config.json");
        write_config(&config, list);
        Node {
            dir,
            bin_dir,
            config,
        }
    }

    /// Runs the helper with `args`, the node's paths in the environment, `stdin` as input.
    pub(crate) fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = Command::new(HELPER);
        cmd.args(args)
            .env("KCRED_CONFIG", &self.config)
            .env("KCRED_BIN_DIR", &self.bin_dir)
            .env("XDG_CACHE_HOME", self.cache_home())
            .env_remove("KCRED_NO_CACHE");
        run(cmd, stdin)
    }

    /// The `$XDG_CACHE_HOME` the helper runs with (inside the node's directory).
    pub(crate) fn cache_home(&self) -> PathBuf {
        self.dir.path().join("cache-home")
    }

    /// `get` for a server URL.
    pub(crate) fn get(&self, server_url: &str) -> Output {
        self.run(&["get"], server_url)
    }
}

/// Writes a v1 CredentialProviderConfig holding `providers`.
pub(crate) fn write_config(path: &Path, providers: Vec<Value>) {
    let doc = json!({
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": providers,
    });
    std::fs::write(path, doc.to_string()).unwrap();
}

/// Runs `cmd` with `stdin` and collects its output.
pub(crate) fn run(mut cmd: Command, stdin: &str) -> Output {
    run_with_stdin(&mut cmd, stdin)
}

/// Lossy text.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `get` answer of a successful run.
pub(crate) fn answer(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Asserts a failed run (exit 1) whose stdout is exactly `message` plus a newline.
pub(crate) fn assert_fails_with(out: &Output, message: &str) {
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{message}\n"));
}
