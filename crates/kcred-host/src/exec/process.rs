//! One plugin process: spawn without a shell, feed stdin, collect stdout/stderr within a
//! byte bound, enforce the deadline with SIGKILL, and always reap.
//!
//! Beyond Go's `CommandContext`: the plugin runs in its own process group and the whole
//! group is killed on timeout or overflow, so a grandchild holding the pipes open cannot
//! keep the host waiting; and output is bounded so a runaway plugin cannot exhaust memory.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

/// Which output stream went over its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The plugin's stdout.
    Stdout,
    /// The plugin's stderr.
    Stderr,
}

impl Stream {
    /// `stdout` or `stderr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// How a run ended when it did not end with an exit status.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessFailure {
    /// The process could not be started.
    Spawn(io::Error),
    /// The deadline passed; the process group was killed and the process reaped.
    TimedOut,
    /// A stream exceeded the byte bound; the process group was killed and reaped.
    OutputTooLarge(Stream),
    /// Reading a pipe or waiting for the process failed.
    Io(io::Error),
}

/// What one run produced. `stdout`/`stderr` hold what was read (at most the bound each),
/// also when the run failed.
///
/// `Debug` shows only the lengths of the streams: stdout is the plugin's response, with
/// its passwords.
pub struct ProcessRun {
    /// The exit status, or why there is none.
    pub result: Result<ExitStatus, ProcessFailure>,
    /// Bytes read from stdout.
    pub stdout: Vec<u8>,
    /// Bytes read from stderr.
    pub stderr: Vec<u8>,
}

/// Everything needed to start a plugin process.
///
/// `Debug` shows only the length of `stdin` (the request, with the service-account token)
/// and the names of the environment variables (the configured `env` may hold secrets).
pub struct ProcessSpec<'a> {
    /// Path of the executable (used as is: no shell, no PATH lookup).
    pub program: &'a Path,
    /// Arguments, exactly as configured.
    pub args: &'a [String],
    /// The full environment of the process.
    pub env: Vec<(OsString, OsString)>,
    /// Bytes written to stdin (then stdin is closed).
    pub stdin: &'a [u8],
    /// Deadline for the whole run.
    pub timeout: Duration,
    /// Byte bound for stdout and for stderr, each.
    pub output_limit: usize,
}

impl fmt::Debug for ProcessRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessRun")
            .field("result", &self.result)
            .field("stdout", &format_args!("<{} bytes>", self.stdout.len()))
            .field("stderr", &format_args!("<{} bytes>", self.stderr.len()))
            .finish()
    }
}

impl fmt::Debug for ProcessSpec<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env_names: Vec<&OsString> = self.env.iter().map(|(name, _)| name).collect();
        f.debug_struct("ProcessSpec")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &env_names)
            .field("stdin", &format_args!("<{} bytes>", self.stdin.len()))
            .field("timeout", &self.timeout)
            .field("output_limit", &self.output_limit)
            .finish()
    }
}

/// Runs the process to completion, deadline or overflow; never leaves a zombie.
///
/// Needs a tokio runtime with the time and IO drivers enabled (`enable_all`). If the
/// returned future is dropped early (a cancelled lookup, a `tokio::time::timeout`, a
/// signal handled by [`crate::signals::until_signal`]), the plugin's process group is
/// SIGKILLed at once and the plugin is reaped by a task on the same runtime; the plugin
/// stays in [`live_plugins`] until it is reaped.
pub async fn run_process(spec: ProcessSpec<'_>) -> ProcessRun {
    let mut cmd = tokio::process::Command::new(spec.program);
    cmd.args(spec.args)
        .env_clear()
        .envs(spec.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);

    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return ProcessRun {
                result: Err(ProcessFailure::Spawn(e)),
                stdout: Vec::new(),
                stderr: Vec::new(),
            }
        }
    };
    let mut live = LivePlugin::new(child);
    let stdin_pipe = live.child().stdin.take();
    let stdout_pipe = live.child().stdout.take();
    let stderr_pipe = live.child().stderr.take();
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();

    let outcome = {
        let work = async {
            let feed = async {
                if let Some(mut pipe) = stdin_pipe {
                    // Like Go, a plugin that exits without reading stdin is not an error.
                    let _ = pipe.write_all(spec.stdin).await;
                    let _ = pipe.shutdown().await;
                }
                Ok::<(), ProcessFailure>(())
            };
            let read_out =
                read_bounded(stdout_pipe, &mut stdout, spec.output_limit, Stream::Stdout);
            let read_err =
                read_bounded(stderr_pipe, &mut stderr, spec.output_limit, Stream::Stderr);
            tokio::try_join!(feed, read_out, read_err)?;
            let status = live.child().wait().await.map_err(ProcessFailure::Io);
            if status.is_ok() {
                // Reaped: its pid (the group id) may be reused from now on.
                live.reaped();
            }
            status
        };
        match tokio::time::timeout(spec.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(ProcessFailure::TimedOut),
        }
    };

    if outcome.is_err() {
        live.kill_and_reap().await;
    }
    ProcessRun {
        result: outcome,
        stdout,
        stderr,
    }
}

/// The plugins this process has started and not reaped yet, by pid (which is also the id
/// of each one's process group).
static LIVE: OnceLock<watch::Sender<BTreeSet<u32>>> = OnceLock::new();

fn live_set() -> &'static watch::Sender<BTreeSet<u32>> {
    LIVE.get_or_init(|| watch::Sender::new(BTreeSet::new()))
}

/// The pids of the plugins this process started that are not reaped yet.
pub fn live_plugins() -> Vec<u32> {
    live_set().borrow().iter().copied().collect()
}

/// SIGKILLs the process group of every plugin not reaped yet (the plugins and whatever
/// they started in their group). Their runs then end as failures (or, when abandoned, are
/// reaped in the background); see [`all_reaped`].
pub fn kill_all_plugins() {
    for pid in live_plugins() {
        kill_group(Some(pid));
    }
}

/// Waits until every plugin this process started has been reaped, at most `limit`;
/// true when none is left.
pub async fn all_reaped(limit: Duration) -> bool {
    let mut rx = live_set().subscribe();
    tokio::time::timeout(limit, rx.wait_for(BTreeSet::is_empty))
        .await
        .is_ok_and(|r| r.is_ok())
}

/// A running plugin: registered in [`live_plugins`] until reaped. Dropped before it was
/// reaped, it SIGKILLs the plugin's process group and hands the child to a reaper task.
struct LivePlugin {
    child: Option<tokio::process::Child>,
    pid: Option<u32>,
}

impl LivePlugin {
    fn new(child: tokio::process::Child) -> Self {
        let pid = child.id();
        if let Some(pid) = pid {
            live_set().send_modify(|s| {
                s.insert(pid);
            });
        }
        LivePlugin {
            child: Some(child),
            pid,
        }
    }

    fn child(&mut self) -> &mut tokio::process::Child {
        self.child
            .as_mut()
            .expect("the child is present until the plugin is reaped")
    }

    /// The plugin was reaped: its pid may be reused, so it is no longer ours to signal.
    fn reaped(&mut self) {
        if let Some(pid) = self.pid.take() {
            live_set().send_modify(|s| {
                s.remove(&pid);
            });
        }
    }

    /// SIGKILLs the group and waits for the plugin (a no-op once reaped).
    async fn kill_and_reap(&mut self) {
        if self.pid.is_none() {
            return;
        }
        kill_group(self.pid);
        // `kill` sends SIGKILL (a no-op if it already exited) and waits: the child is reaped.
        let _ = self.child().kill().await;
        self.reaped();
    }
}

impl Drop for LivePlugin {
    fn drop(&mut self) {
        let Some(pid) = self.pid.take() else {
            return;
        };
        kill_group(Some(pid));
        let Some(mut child) = self.child.take() else {
            return;
        };
        // Still registered; unregistered once the reaper has waited for it (or, without a
        // runtime to wait on, at once: tokio's orphan queue reaps it then).
        let unregister = Unregister(pid);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = child.wait().await;
                drop(unregister);
            });
        }
    }
}

/// Removes a pid from [`live_plugins`] when dropped.
struct Unregister(u32);

impl Drop for Unregister {
    fn drop(&mut self) {
        live_set().send_modify(|s| {
            s.remove(&self.0);
        });
    }
}

/// SIGKILLs the plugin's process group (the plugin and anything it started).
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        if pid > 0 {
            // SAFETY: kill(2) has no memory-safety preconditions; the group id is the
            // child's pid (process_group(0)) and the child is not reaped yet.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Reads a pipe to EOF into `buf`, failing (after keeping `limit` bytes) when it has more.
async fn read_bounded<R: AsyncRead + Unpin>(
    pipe: Option<R>,
    buf: &mut Vec<u8>,
    limit: usize,
    stream: Stream,
) -> Result<(), ProcessFailure> {
    let Some(mut pipe) = pipe else {
        return Ok(());
    };
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = pipe.read(&mut chunk).await.map_err(ProcessFailure::Io)?;
        if n == 0 {
            return Ok(());
        }
        let room = limit.saturating_sub(buf.len());
        if n > room {
            buf.extend_from_slice(&chunk[..room]);
            return Err(ProcessFailure::OutputTooLarge(stream));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `text` shows `secret` as text or as the byte list `Debug` prints for `[u8]`.
    fn shows(text: &str, secret: &str) -> bool {
        let bytes = format!("{:?}", secret.as_bytes());
        text.contains(secret) || text.contains(bytes.trim_matches(['[', ']']))
    }

    #[test]
    fn debug_never_shows_the_request_the_response_or_env_values() {
        let args = vec!["--flag".to_owned()];
        let spec = ProcessSpec {
            program: Path::new("/bin/plugin"),
            args: &args,
            env: vec![("API_KEY".into(), "env-secret-value".into())],
            stdin: br#"{"serviceAccountToken":"sa-token-secret"}"#,
            timeout: Duration::from_secs(1),
            output_limit: 10,
        };
        let text = format!("{spec:?}");
        assert!(!shows(&text, "sa-token-secret"), "{text}");
        assert!(!shows(&text, "env-secret-value"), "{text}");
        assert!(
            text.contains("API_KEY") && text.contains("/bin/plugin"),
            "{text}"
        );

        let run = ProcessRun {
            result: Err(ProcessFailure::TimedOut),
            stdout: br#"{"auth":{"r.io":{"password":"response-password"}}}"#.to_vec(),
            stderr: b"stderr".to_vec(),
        };
        let text = format!("{run:?}");
        assert!(!shows(&text, "response-password"), "{text}");
        assert!(text.contains("TimedOut"), "{text}");
    }
}
