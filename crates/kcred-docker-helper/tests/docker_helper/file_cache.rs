//! The per-user file cache of `docker-credential-kcred`, counted with `kcred-test-plugin`'s
//! `--count-file` (one line per plugin run): `cacheKeyType` and `cacheDuration` hold across
//! processes, a config change or expiry means a new run, concurrent clients share the file,
//! and unsafe or corrupt cache files are refused or replaced.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use serde_json::{json, Value};

/// A node with one provider running `kcred-test-plugin` with `args` plus a count file.
struct Counted {
    node: Node,
    count: PathBuf,
}

impl Counted {
    fn new(match_images: &[&str], args: &[&str]) -> Counted {
        let node = Node::new(&[ProviderSpec {
            name: "counted",
            match_images: &["placeholder.invalid"],
            args: &[],
        }]);
        let count = node.dir.path().join("count");
        let counted = Counted { node, count };
        counted.configure(match_images, args, "1m");
        counted
    }

    /// Rewrites the config (a new config hash).
    fn configure(&self, match_images: &[&str], args: &[&str], default_cache_duration: &str) {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.push("--count-file".into());
        all.push(self.count.to_string_lossy().into_owned());
        write_config(
            &self.node.config,
            vec![json!({
                "name": "counted",
                "matchImages": match_images,
                "defaultCacheDuration": default_cache_duration,
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                "args": all,
            })],
        );
    }

    fn execs(&self) -> usize {
        std::fs::read_to_string(&self.count)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    fn get(&self, url: &str) -> Value {
        let out = self.node.get(url);
        assert!(
            !text(&out.stderr).contains("pw-"),
            "secret on stderr: {}",
            text(&out.stderr)
        );
        answer(&out)
    }

    fn cache_dir(&self) -> PathBuf {
        self.node.cache_home().join("kcred")
    }

    fn cache_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.cache_dir())
            .map(|d| {
                d.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }
}

const OK: &[&str] = &["--mode", "ok", "--auth", "*.example.com=robot:pw-secret"];

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o777
}

#[test]
fn two_gets_run_the_plugin_once_and_the_file_is_private() {
    let c = Counted::new(&["*.example.com"], OK);
    for _ in 0..2 {
        let v = c.get("https://a.example.com");
        assert_eq!(v["Username"], "robot");
        assert_eq!(v["Secret"], "pw-secret");
    }
    assert_eq!(c.execs(), 1);
    assert_eq!(mode(&c.cache_dir()), 0o700);
    let files = c.cache_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&files[0]), 0o600);
    // Only the cache file and its lock file, no temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(c.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    for name in &names {
        assert_eq!(mode(&c.cache_dir().join(name)), 0o600, "{name}");
    }
}

#[test]
fn registry_keys_cover_the_registry_and_image_keys_one_image() {
    let c = Counted::new(&["*.example.com"], OK);
    c.get("a.example.com");
    c.get("a.example.com/team/app");
    assert_eq!(c.execs(), 1, "Registry key: one run for the registry");
    c.get("b.example.com");
    assert_eq!(c.execs(), 2, "another registry");

    let mut args = OK.to_vec();
    args.extend(["--cache-key-type", "Image"]);
    c.configure(&["*.example.com"], &args, "1m");
    let before = c.execs();
    c.get("a.example.com/team/app");
    c.get("a.example.com/team/app");
    assert_eq!(c.execs() - before, 1, "Image key: one run for one image");
    c.get("a.example.com/team/other");
    assert_eq!(c.execs() - before, 2, "Image key: another image runs again");

    let mut args = OK.to_vec();
    args.extend(["--cache-key-type", "Global"]);
    c.configure(&["*.example.com"], &args, "1m");
    let before = c.execs();
    c.get("a.example.com");
    c.get("b.example.com");
    assert_eq!(c.execs() - before, 1, "Global key: one run for everything");
}

#[test]
fn expiry_and_zero_durations_mean_a_new_run() {
    let mut args = OK.to_vec();
    args.extend(["--cache-duration", "1s"]);
    let c = Counted::new(&["*.example.com"], &args);
    c.get("a.example.com");
    c.get("a.example.com");
    assert_eq!(c.execs(), 1);
    std::thread::sleep(std::time::Duration::from_millis(1300));
    c.get("a.example.com");
    assert_eq!(c.execs(), 2, "an expired entry is never served");

    // cacheDuration 0: never cached.
    let mut args = OK.to_vec();
    args.extend(["--cache-duration", "0s"]);
    c.configure(&["*.example.com"], &args, "1m");
    let before = c.execs();
    c.get("a.example.com");
    c.get("a.example.com");
    assert_eq!(c.execs() - before, 2);

    // No cacheDuration: defaultCacheDuration applies; 0 means never cached.
    c.configure(&["*.example.com"], OK, "0s");
    let before = c.execs();
    c.get("a.example.com");
    c.get("a.example.com");
    assert_eq!(c.execs() - before, 2);
    c.configure(&["*.example.com"], OK, "5m");
    let before = c.execs();
    c.get("a.example.com");
    c.get("a.example.com");
    assert_eq!(c.execs() - before, 1);
}

#[test]
fn a_config_change_invalidates_the_cache() {
    let c = Counted::new(&["*.example.com"], OK);
    c.get("a.example.com");
    assert_eq!(c.execs(), 1);
    c.configure(
        &["*.example.com"],
        &["--mode", "ok", "--auth", "*.example.com=robot2:pw-new"],
        "1m",
    );
    let v = c.get("a.example.com");
    assert_eq!(c.execs(), 2);
    assert_eq!(v["Username"], "robot2");
    assert_eq!(v["Secret"], "pw-new");
    c.get("a.example.com");
    assert_eq!(c.execs(), 2);
}

#[test]
fn opting_out_by_flag_or_environment() {
    let c = Counted::new(&["*.example.com"], OK);
    for _ in 0..2 {
        answer(&c.node.run(&["--no-cache", "get"], "a.example.com"));
    }
    assert_eq!(c.execs(), 2);
    for _ in 0..2 {
        let mut cmd = Command::new(HELPER);
        cmd.arg("get")
            .env("KCRED_CONFIG", &c.node.config)
            .env("KCRED_BIN_DIR", &c.node.bin_dir)
            .env("XDG_CACHE_HOME", c.node.cache_home())
            .env("KCRED_NO_CACHE", "1");
        answer(&run(cmd, "a.example.com"));
    }
    assert_eq!(c.execs(), 4);
    assert!(c.cache_files().is_empty(), "nothing written");
}

#[test]
fn failures_are_not_cached() {
    let c = Counted::new(&["*.example.com"], &["--mode", "fail", "--stderr", "boom"]);
    for _ in 0..2 {
        let out = c.node.get("a.example.com");
        assert_eq!(text(&out.stdout), NOT_FOUND);
    }
    assert_eq!(c.execs(), 2);
    assert!(c.cache_files().is_empty());
}

#[test]
fn concurrent_clients_share_one_consistent_file() {
    let c = Counted::new(&["*.example.com"], OK);
    let hosts: Vec<String> = (0..6).map(|i| format!("r{i}.example.com")).collect();
    std::thread::scope(|s| {
        for host in &hosts {
            for _ in 0..2 {
                let c = &c;
                s.spawn(move || {
                    assert_eq!(c.get(host)["Username"], "robot");
                });
            }
        }
    });
    let first = c.execs();
    assert!((6..=12).contains(&first), "{first}");
    // Every registry's entry survived the concurrent writers: no further runs.
    for host in &hosts {
        c.get(host);
    }
    assert_eq!(c.execs(), first, "an entry was lost by a concurrent writer");
    let files = c.cache_files();
    assert_eq!(files.len(), 1);
    let file: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(file["providers"]["counted"].as_array().unwrap().len(), 6);
}

#[test]
fn a_corrupt_cache_file_is_ignored_and_replaced() {
    let c = Counted::new(&["*.example.com"], OK);
    c.get("a.example.com");
    let file = c.cache_files().pop().unwrap();
    for junk in [
        &b"\x00\xff not json"[..],
        b"{\"version\":1,",
        b"{\"version\":1,\"configHash\":5}",
        b"[]",
    ] {
        std::fs::write(&file, junk).unwrap();
        let before = c.execs();
        let out = c.node.get("a.example.com");
        assert_eq!(answer(&out)["Username"], "robot");
        assert_eq!(c.execs() - before, 1);
        assert!(
            text(&out.stderr).contains("not a valid cache file"),
            "{}",
            text(&out.stderr)
        );
        let replaced: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(replaced["version"], 1);
        c.get("a.example.com");
        assert_eq!(c.execs() - before, 1, "the replaced file serves");
    }
    // A well-formed file whose entry is already expired is not served.
    let mut v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    v["providers"]["counted"][0]["expiresUnixNanos"] = json!(1);
    std::fs::write(&file, v.to_string()).unwrap();
    let before = c.execs();
    c.get("a.example.com");
    assert_eq!(c.execs() - before, 1);
}

#[test]
fn unsafe_cache_locations_are_refused_and_the_lookup_goes_on() {
    let c = Counted::new(&["*.example.com"], OK);
    c.get("a.example.com");
    let dir = c.cache_dir();
    let file = c.cache_files().pop().unwrap();

    // A cache file readable by others.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = c.execs();
    let out = c.node.get("a.example.com");
    assert_eq!(answer(&out)["Secret"], "pw-secret");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cache not used") && stderr.contains("mode 0644"),
        "{stderr}"
    );
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert_eq!(c.execs() - before, 1);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();

    // A cache directory open to group and others.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = c.node.get("a.example.com");
    answer(&out);
    assert!(
        text(&out.stderr).contains("mode 0755"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(c.execs() - before, 2);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();

    // A cache file that is a symlink (e.g. planted to read or clobber another file).
    std::fs::remove_file(&file).unwrap();
    let target = c.node.dir.path().join("elsewhere");
    std::fs::write(&target, "precious").unwrap();
    std::os::unix::fs::symlink(&target, &file).unwrap();
    let out = c.node.get("a.example.com");
    answer(&out);
    assert!(
        text(&out.stderr).contains("symlink"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    std::fs::remove_file(&file).unwrap();

    // A cache directory owned by another user (needs root to set up).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc_geteuid() } == 0 {
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        let out = c.node.get("a.example.com");
        answer(&out);
        assert!(
            text(&out.stderr).contains("owned by uid 65534"),
            "{}",
            text(&out.stderr)
        );
        std::os::unix::fs::chown(&dir, Some(0), Some(0)).unwrap();
    }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}
