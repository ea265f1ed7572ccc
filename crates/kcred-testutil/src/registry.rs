//! A real image registry for end-to-end tests: Debian's `docker-registry` (distribution
//! 2.8) with htpasswd basic auth on a loopback port, and `skopeo` to push a generated test
//! image and to check credentials the way a container runtime uses them.
//!
//! ```no_run
//! use kcred_testutil::registry::{free_loopback_port, Registry, RegistryTools};
//!
//! let Some(tools) = RegistryTools::find_or_skip("my_e2e_test") else { return };
//! let port = free_loopback_port();
//! // ... obtain `user`/`password` from the plugin under test for image 127.0.0.1:<port>/team/app
//! # let (user, password) = ("u", "p");
//! let reg = Registry::start_on(&tools, port, &[(user, password)]).unwrap();
//! reg.push_test_image("team/app:v1", user, password).unwrap();
//! assert!(reg.inspect("team/app:v1", Some((user, password))).success);
//! assert!(!reg.inspect("team/app:v1", None).success);
//! ```
//!
//! Tools are looked up on `PATH`. When one is missing, [`RegistryTools::find_or_skip`]
//! fails the test if `CI` is set and otherwise prints why the test is skipped. Everything a
//! [`Registry`] creates lives in one temporary directory, removed with the registry process
//! when the value is dropped. Uses only `std` and the commands `docker-registry`, `skopeo`,
//! `htpasswd` (apache2-utils), `tar` and `sha256sum`.

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// bcrypt (required by distribution's htpasswd support) ignores bytes after the 72nd.
pub const MAX_HTPASSWD_PASSWORD_BYTES: usize = 72;

/// Paths of the external commands the harness runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryTools {
    /// `docker-registry` (Debian package `docker-registry`).
    pub docker_registry: PathBuf,
    /// `skopeo`.
    pub skopeo: PathBuf,
    /// `htpasswd` (Debian package `apache2-utils`).
    pub htpasswd: PathBuf,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

impl RegistryTools {
    /// Finds the tools on `PATH`; the error names the missing ones and their packages.
    pub fn find() -> Result<RegistryTools, String> {
        let wanted = [
            ("docker-registry", "docker-registry"),
            ("skopeo", "skopeo"),
            ("htpasswd", "apache2-utils"),
            ("tar", "tar"),
            ("sha256sum", "coreutils"),
        ];
        let missing: Vec<String> = wanted
            .iter()
            .filter(|(cmd, _)| on_path(cmd).is_none())
            .map(|(cmd, pkg)| format!("{cmd} (apt-get install {pkg})"))
            .collect();
        if !missing.is_empty() {
            return Err(format!("missing: {}", missing.join(", ")));
        }
        Ok(RegistryTools {
            docker_registry: on_path("docker-registry").unwrap_or_default(),
            skopeo: on_path("skopeo").unwrap_or_default(),
            htpasswd: on_path("htpasswd").unwrap_or_default(),
        })
    }

    /// The tools, or `None` after printing `SKIPPED <test>: ...` when one is missing and
    /// `CI` is unset. Under `CI` a missing tool fails the test (panics).
    pub fn find_or_skip(test: &str) -> Option<RegistryTools> {
        match Self::find() {
            Ok(t) => Some(t),
            Err(why) if std::env::var_os("CI").is_some() => {
                panic!("{test}: registry tools required under CI: {why} (scripts/test-all.sh installs them)")
            }
            Err(why) => {
                eprintln!("SKIPPED {test}: {why}; scripts/test-all.sh installs them");
                None
            }
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago (bound, then released).
pub fn free_loopback_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// A fresh directory under the system temp dir.
fn scratch_dir(prefix: &str) -> std::io::Result<PathBuf> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{:?} failed ({}): {}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `sha256:<hex>` of a file (via `sha256sum`).
pub fn sha256_digest(path: &Path) -> Result<String, String> {
    let out = run(Command::new("sha256sum").arg(path))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text.split_whitespace().next().unwrap_or("");
    if hex.len() != 64 {
        return Err(format!("unexpected sha256sum output {text:?}"));
    }
    Ok(format!("sha256:{hex}"))
}

fn add_blob(layout: &Path, file: &Path) -> Result<(String, u64), String> {
    let digest = sha256_digest(file)?;
    let size = std::fs::metadata(file).map_err(|e| e.to_string())?.len();
    let hex = digest.trim_start_matches("sha256:");
    let dest = layout.join("blobs/sha256").join(hex);
    std::fs::rename(file, &dest).map_err(|e| format!("move blob: {e}"))?;
    Ok((digest, size))
}

/// Writes a minimal single-layer OCI image layout (`oci-layout`, `index.json`, blobs: an
/// uncompressed tar layer holding `hello.txt`, a config and a manifest) to `layout`, with
/// `tag` as its reference name. Returns the manifest digest.
pub fn write_oci_layout(layout: &Path, tag: &str) -> Result<String, String> {
    let io = |e: std::io::Error| e.to_string();
    std::fs::create_dir_all(layout.join("blobs/sha256")).map_err(io)?;
    let work = layout.join("work");
    std::fs::create_dir_all(work.join("rootfs")).map_err(io)?;
    std::fs::write(work.join("rootfs/hello.txt"), b"hello from kcred\n").map_err(io)?;
    let layer = work.join("layer.tar");
    run(Command::new("tar")
        .arg("-cf")
        .arg(&layer)
        .arg("-C")
        .arg(work.join("rootfs"))
        .arg("hello.txt"))?;
    let (layer_digest, layer_size) = add_blob(layout, &layer)?;

    let config = work.join("config.json");
    std::fs::write(
        &config,
        format!(
            "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{{}},\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{layer_digest}\"]}}}}"
        ),
    )
    .map_err(io)?;
    let (config_digest, config_size) = add_blob(layout, &config)?;

    let manifest = work.join("manifest.json");
    std::fs::write(
        &manifest,
        format!(
            "{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{config_digest}\",\"size\":{config_size}}},\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{layer_digest}\",\"size\":{layer_size}}}]}}"
        ),
    )
    .map_err(io)?;
    let (manifest_digest, manifest_size) = add_blob(layout, &manifest)?;

    std::fs::write(
        layout.join("index.json"),
        format!(
            "{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"{manifest_digest}\",\"size\":{manifest_size},\"annotations\":{{\"org.opencontainers.image.ref.name\":\"{tag}\"}}}}]}}"
        ),
    )
    .map_err(io)?;
    std::fs::write(
        layout.join("oci-layout"),
        "{\"imageLayoutVersion\":\"1.0.0\"}",
    )
    .map_err(io)?;
    std::fs::remove_dir_all(&work).map_err(io)?;
    Ok(manifest_digest)
}

/// What a `skopeo` run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkopeoOutcome {
    /// Exit status 0.
    pub success: bool,
    /// Standard output (`inspect`: the image's JSON).
    pub stdout: String,
    /// Standard error (`unauthorized: authentication required` on bad credentials).
    pub stderr: String,
}

impl SkopeoOutcome {
    /// Runs a prepared `skopeo` command; a skopeo that cannot be started is a failed outcome
    /// whose stderr says so.
    pub fn run(cmd: &mut Command) -> SkopeoOutcome {
        match cmd.output() {
            Ok(out) => out.into(),
            Err(e) => SkopeoOutcome {
                success: false,
                stdout: String::new(),
                stderr: format!("cannot run skopeo: {e}"),
            },
        }
    }
}

impl From<Output> for SkopeoOutcome {
    fn from(out: Output) -> Self {
        SkopeoOutcome {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A running `docker-registry serve` with htpasswd basic auth on `127.0.0.1:<port>`.
pub struct Registry {
    tools: RegistryTools,
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("addr", &self.addr())
            .field("dir", &self.dir)
            .finish()
    }
}

impl Registry {
    /// Starts a registry on a free loopback port accepting `users` (`(name, password)`).
    pub fn start(tools: &RegistryTools, users: &[(&str, &str)]) -> Result<Registry, String> {
        Self::start_on(tools, free_loopback_port(), users)
    }

    /// Starts a registry on `127.0.0.1:port` accepting `users` (`(name, password)`;
    /// passwords of at most [`MAX_HTPASSWD_PASSWORD_BYTES`] bytes). Waits until it answers
    /// `GET /v2/` (401), at most 20 s.
    pub fn start_on(
        tools: &RegistryTools,
        port: u16,
        users: &[(&str, &str)],
    ) -> Result<Registry, String> {
        if users.is_empty() {
            return Err("at least one htpasswd user is required".to_owned());
        }
        let dir = scratch_dir("kcred-registry").map_err(|e| e.to_string())?;
        let htpasswd = dir.join("htpasswd");
        for (i, (user, password)) in users.iter().enumerate() {
            if password.len() > MAX_HTPASSWD_PASSWORD_BYTES {
                return Err(format!(
                    "password for {user:?} is {} bytes; bcrypt uses only {MAX_HTPASSWD_PASSWORD_BYTES}",
                    password.len()
                ));
            }
            // -B bcrypt (required by distribution), -b password on the command line,
            // -c create the file for the first user.
            let flags = if i == 0 { "-Bbc" } else { "-Bb" };
            run(Command::new(&tools.htpasswd)
                .arg(flags)
                .arg(&htpasswd)
                .arg(user)
                .arg(password))?;
        }
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  htpasswd:\n    realm: basic-realm\n    path: {htpasswd}\n",
                data = dir.join("data").display(),
                htpasswd = htpasswd.display(),
            ),
        )
        .map_err(|e| e.to_string())?;
        let log = std::fs::File::create(dir.join("registry.log")).map_err(|e| e.to_string())?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(&tools.docker_registry)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot start docker-registry: {e}"))?;
        let mut reg = Registry {
            tools: tools.clone(),
            child,
            port,
            dir,
        };
        reg.wait_ready(Duration::from_secs(20))?;
        Ok(reg)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("docker-registry exited ({status}): {}", self.log()));
            }
            if self.probe_v2().is_some_and(|line| line.contains(" 401")) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "docker-registry not ready after {limit:?}: {}",
            self.log()
        ))
    }

    /// The status line of an anonymous `GET /v2/`.
    fn probe_v2(&self) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(b"GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .ok()?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf[..n]);
        text.lines().next().map(str::to_owned)
    }

    /// `127.0.0.1:<port>`: the registry host as it appears in image names.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:<port>/<repo_tag>`.
    pub fn image(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.addr())
    }

    /// The registry's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default()
    }

    /// Generates a one-layer OCI image and pushes it as `repo_tag` (`team/app:v1`) with
    /// `skopeo copy`, authenticating as `user`. Returns the digest of the manifest as the
    /// registry stores it (what `skopeo inspect` reports).
    pub fn push_test_image(
        &self,
        repo_tag: &str,
        user: &str,
        password: &str,
    ) -> Result<String, String> {
        let tag = repo_tag.rsplit_once(':').map_or("latest", |(_, t)| t);
        let name = repo_tag.replace(['/', ':'], "_");
        let layout = self.dir.join(format!("layout-{name}"));
        let digest_file = self.dir.join(format!("digest-{name}"));
        write_oci_layout(&layout, tag)?;
        run(Command::new(&self.tools.skopeo)
            .arg("--insecure-policy")
            .arg("copy")
            .arg("--digestfile")
            .arg(&digest_file)
            .arg("--dest-tls-verify=false")
            .arg("--dest-creds")
            .arg(format!("{user}:{password}"))
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}", self.image(repo_tag))))
        .map_err(|e| format!("{e}\nregistry log:\n{}", self.log()))?;
        std::fs::read_to_string(&digest_file)
            .map(|d| d.trim().to_owned())
            .map_err(|e| format!("skopeo wrote no digest file: {e}"))
    }

    /// `skopeo inspect` of `repo_tag`, with `creds` (`(user, password)`) or anonymously.
    pub fn inspect(&self, repo_tag: &str, creds: Option<(&str, &str)>) -> SkopeoOutcome {
        let mut cmd = Command::new(&self.tools.skopeo);
        cmd.arg("--insecure-policy")
            .arg("inspect")
            .arg("--tls-verify=false");
        match creds {
            Some((user, password)) => cmd.arg("--creds").arg(format!("{user}:{password}")),
            None => cmd.arg("--no-creds"),
        };
        cmd.arg(format!("docker://{}", self.image(repo_tag)));
        SkopeoOutcome::run(&mut cmd)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
