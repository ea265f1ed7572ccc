//! A moto server (PyPI `moto[server]`) on loopback: AWS ECR and STS for the ECR plugin's
//! tests.
//!
//! Found at `$KCRED_MOTO_SERVER`, else `<workspace>/target/test-venv/bin/moto_server` (what
//! `scripts/test-all.sh` installs), else `moto_server` on `PATH`. When it is missing, tests
//! fail if `CI` is set and are skipped (with a loud message) otherwise.
//!
//! [`MotoServer::shared`] starts one server for all the tests of a test binary that are
//! running at the same time; it is killed when the last of them drops its handle.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// How long moto may take to start (Python imports on a busy 2-core machine).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server; killed and reaped on drop.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    port: u16,
}

/// Where the moto server executable is, if anywhere.
pub fn find_moto_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KCRED_MOTO_SERVER") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
    }
    let venv = crate::workspace_root().join("target/test-venv/bin/moto_server");
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.is_file())
}

/// A free TCP port on 127.0.0.1 (bound and released; a tiny race is possible).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral loopback port")
}

impl MotoServer {
    /// Starts a new moto server on a free loopback port and waits until it answers HTTP.
    ///
    /// Returns `None` (after printing why) when moto is not installed and `CI` is unset;
    /// panics when it is not installed and `CI` is set, or when it does not start.
    pub fn start() -> Option<MotoServer> {
        let Some(exe) = find_moto_server() else {
            let msg = "moto_server not found (set KCRED_MOTO_SERVER, or run scripts/test-all.sh \
                       to install it into target/test-venv)";
            if std::env::var_os("CI").is_some() {
                panic!("{msg}");
            }
            eprintln!("\n!!!!! SKIPPING moto-backed test: {msg} !!!!!\n");
            return None;
        };
        let port = free_port();
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", exe.display()));
        let server = MotoServer { child, port };
        server.wait_ready();
        Some(server)
    }

    /// One server shared by the tests of this process that run concurrently; started on
    /// first use and killed when the last handle is dropped.
    pub fn shared() -> Option<Arc<MotoServer>> {
        static SHARED: Mutex<Weak<MotoServer>> = Mutex::new(Weak::new());
        let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(server) = slot.upgrade() {
            return Some(server);
        }
        let server = Arc::new(MotoServer::start()?);
        *slot = Arc::downgrade(&server);
        Some(server)
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The endpoint URL, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < STARTUP_TIMEOUT {
            if self.answers_http() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "moto_server did not answer on port {} within {:?}",
            self.port, STARTUP_TIMEOUT
        );
    }

    fn answers_http(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = format!(
            "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
