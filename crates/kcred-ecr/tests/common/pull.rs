//! A real registry for pull tests: Debian's `docker-registry` (distribution 2.8) with
//! htpasswd basic auth on loopback, an image pushed with `skopeo copy`, and `skopeo inspect`
//! to check credentials.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The tools the pull test needs, or why they are missing.
pub fn tools_present() -> Result<(), String> {
    for tool in ["docker-registry", "htpasswd", "skopeo"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
            .unwrap_or(false);
        if !found {
            return Err(format!(
                "{tool} not found (apt-get install docker-registry apache2-utils skopeo)"
            ));
        }
    }
    Ok(())
}

/// A running `docker-registry serve` with one htpasswd user; killed on drop.
pub struct BasicAuthRegistry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl BasicAuthRegistry {
    /// Starts a registry accepting only `user` / `password` and waits until it listens.
    pub fn start(user: &str, password: &str) -> BasicAuthRegistry {
        let dir = tempfile::tempdir().expect("temp dir");
        let htpasswd = dir.path().join("htpasswd");
        let status = Command::new("htpasswd")
            .arg("-Bbc")
            .arg(&htpasswd)
            .args([user, password])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("htpasswd runs");
        assert!(status.success(), "htpasswd failed");
        let port = kcred_testutil::moto::free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog: {{level: error}}\nstorage: {{filesystem: {{rootdirectory: {}}}}}\n\
                 http: {{addr: 127.0.0.1:{port}}}\n\
                 auth: {{htpasswd: {{realm: basic-realm, path: {}}}}}\n",
                dir.path().join("data").display(),
                htpasswd.display()
            ),
        )
        .expect("write registry config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let registry = BasicAuthRegistry {
            child,
            port,
            _dir: dir,
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "docker-registry did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    /// `127.0.0.1:<port>`.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Pushes a one-layer image as `<repo>:<tag>` with `skopeo copy`.
    pub fn push(&self, repo: &str, tag: &str, user: &str, password: &str, work: &Path) {
        let layout = write_oci_layout(work, tag);
        let out = skopeo(&[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &format!("{user}:{password}"),
            &format!("oci:{}:{tag}", layout.display()),
            &format!("docker://{}/{repo}:{tag}", self.host_port()),
        ]);
        assert!(
            out.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `skopeo inspect` of `<repo>:<tag>` with `user` / `password`.
    pub fn inspect(&self, repo: &str, tag: &str, user: &str, password: &str) -> Output {
        skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--creds",
            &format!("{user}:{password}"),
            &format!("docker://{}/{repo}:{tag}", self.host_port()),
        ])
    }
}

impl Drop for BasicAuthRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn skopeo(args: &[&str]) -> Output {
    Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("skopeo runs")
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes an OCI image layout with one empty (uncompressed tar) layer; returns its path.
fn write_oci_layout(work: &Path, tag: &str) -> PathBuf {
    let root = work.join("oci");
    let blobs = root.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("layout dir");
    let put = |data: &[u8]| -> (String, usize) {
        let hex = sha256_hex(data);
        std::fs::write(blobs.join(&hex), data).expect("blob");
        (format!("sha256:{hex}"), data.len())
    };
    // An empty tar archive: two zero blocks.
    let layer = vec![0u8; 1024];
    let (layer_digest, layer_size) = put(&layer);
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    })
    .to_string();
    let (config_digest, config_size) = put(config.as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer_digest,
            "size": layer_size,
        }],
    })
    .to_string();
    let (manifest_digest, manifest_size) = put(manifest.as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    })
    .to_string();
    std::fs::write(root.join("index.json"), index).expect("index.json");
    std::fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("oci-layout");
    root
}
