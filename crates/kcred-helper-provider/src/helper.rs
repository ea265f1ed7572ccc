//! Finding and running `docker-credential-NAME get`.
//!
//! The helper runs in its own process group with the provider's environment (the kubelet's,
//! plus the provider's `env` from the config: where `GNUPGHOME`, `PASSWORD_STORE_DIR`,
//! `AWS_PROFILE`, … come from). The server URL is written to its stdin without a newline,
//! as the Go client does. Its stdout and stderr are read to a bound; after the timeout the
//! whole group is killed.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::args::HelperName;
use crate::protocol::{is_not_found_message, parse_get_answer, AnswerError, HelperCredentials};

/// The most bytes kept from the helper's stdout (an answer is a few hundred bytes; tokens
/// can be a few KiB).
pub(crate) const STDOUT_LIMIT: usize = 1024 * 1024;

/// The most bytes kept from the helper's stderr.
pub(crate) const STDERR_LIMIT: usize = 64 * 1024;

/// The longest helper error message relayed.
pub(crate) const MESSAGE_LIMIT: usize = 400;

/// What a helper said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HelperAnswer {
    /// Credentials for the server URL.
    Found(HelperCredentials),
    /// The helper has none ([`crate::protocol::CREDENTIALS_NOT_FOUND`]).
    NotFound,
}

/// Why a helper could not be used.
#[derive(Debug, Error)]
pub(crate) enum HelperError {
    /// No executable of that name.
    #[error("credential helper {name:?} not found: no executable {program} in {searched}")]
    NotInstalled {
        /// The helper name.
        name: String,
        /// `docker-credential-NAME`.
        program: String,
        /// Where it was looked for.
        searched: String,
    },
    /// The executable could not be started.
    #[error("cannot run {}: {source}", .path.display())]
    Spawn {
        /// The executable.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Waiting for it failed.
    #[error("waiting for {program} get: {source}")]
    Wait {
        /// `docker-credential-NAME`.
        program: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// It ran longer than the timeout.
    #[error("{program} get {server_url} did not finish within {timeout:?}: killed")]
    TimedOut {
        /// `docker-credential-NAME`.
        program: String,
        /// The server URL asked about.
        server_url: String,
        /// The timeout.
        timeout: Duration,
    },
    /// It exited non-zero with a message other than "not found".
    #[error("{program} get {server_url} failed ({status}): {message}")]
    Failed {
        /// `docker-credential-NAME`.
        program: String,
        /// The server URL asked about.
        server_url: String,
        /// `exit status N` or `killed by signal N`.
        status: String,
        /// The helper's message (stdout, else stderr), cleaned and shortened.
        message: String,
    },
    /// It exited 0 but its stdout is not a credentials object.
    #[error("{program} get {server_url} {reason} (output not shown: it may hold a secret)")]
    BadAnswer {
        /// `docker-credential-NAME`.
        program: String,
        /// The server URL asked about.
        server_url: String,
        /// What is wrong.
        reason: AnswerError,
    },
    /// It printed more than [`STDOUT_LIMIT`] bytes.
    #[error("{program} get {server_url} printed more than {limit} bytes on stdout")]
    OutputTooLarge {
        /// `docker-credential-NAME`.
        program: String,
        /// The server URL asked about.
        server_url: String,
        /// The bound.
        limit: usize,
    },
}

/// Finds `docker-credential-NAME`: in `dir` only when given, else in the directories of
/// `path_var` (`$PATH`; empty and relative entries are skipped). The file must be a regular
/// file with an execute bit.
pub(crate) fn locate(
    name: &HelperName,
    dir: Option<&Path>,
    path_var: Option<&OsStr>,
) -> Result<PathBuf, HelperError> {
    let program = name.program();
    let dirs: Vec<PathBuf> = match dir {
        Some(d) => vec![d.to_path_buf()],
        None => path_var
            .map(|p| {
                std::env::split_paths(p)
                    .filter(|d| d.is_absolute())
                    .collect()
            })
            .unwrap_or_default(),
    };
    dirs.iter()
        .map(|d| d.join(&program))
        .find(|candidate| is_executable_file(candidate))
        .ok_or_else(|| HelperError::NotInstalled {
            name: name.as_str().to_owned(),
            program: program.clone(),
            searched: match dir {
                Some(d) => format!("--helper-dir {}", d.display()),
                None if dirs.is_empty() => "$PATH (empty)".to_owned(),
                None => format!(
                    "$PATH ({})",
                    dirs.iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(":")
                ),
            },
        })
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `<path> get` with `server_url` on stdin and classifies the result.
pub(crate) fn get(
    path: &Path,
    server_url: &str,
    timeout: Duration,
) -> Result<HelperAnswer, HelperError> {
    let program = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let mut child = Command::new(path)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| HelperError::Spawn {
            path: path.to_path_buf(),
            source,
        })?;
    // The deadline covers writing stdin too: a helper that never reads a server URL larger
    // than the pipe buffer must not block the write past the timeout.
    let now = Instant::now();
    let deadline = now.checked_add(timeout).unwrap_or(now + FAR_FUTURE);
    let stdout = spawn_reader(child.stdout.take(), STDOUT_LIMIT);
    let stderr = spawn_reader(child.stderr.take(), STDERR_LIMIT);
    if let Some(mut stdin) = child.stdin.take() {
        let input = server_url.as_bytes().to_vec();
        // A helper that exits without reading gives EPIPE: its exit status tells the story.
        // When the helper is killed the write fails and the thread ends; the pipe closes
        // when it does.
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let status = match wait_until(&mut child, deadline) {
        Ok(Some(status)) => status,
        Ok(None) => {
            kill_group(&mut child);
            return Err(HelperError::TimedOut {
                program,
                server_url: server_url.to_owned(),
                timeout,
            });
        }
        Err(source) => {
            kill_group(&mut child);
            return Err(HelperError::Wait { program, source });
        }
    };
    // The pipes close when the helper and anything it left behind are gone. A daemon that
    // kept them open must not hold the answer: take what was printed after a short grace.
    let out = stdout.finish(PIPE_GRACE);
    let err = stderr.finish(PIPE_GRACE);
    classify(&program, server_url, status, out, err)
}

/// How long output pipes may stay open after the helper exited.
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// The deadline used when `now + timeout` does not fit in an [`Instant`] (about 30 years:
/// never reached by a credential helper run).
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// Output read from a pipe: the bytes kept and whether more were discarded.
#[derive(Debug, Default, Clone)]
struct Captured {
    bytes: Vec<u8>,
    overflow: bool,
}

/// A thread reading one pipe into a shared buffer.
struct PipeReader {
    captured: Arc<Mutex<Captured>>,
    done: mpsc::Receiver<()>,
}

impl PipeReader {
    /// Waits up to `grace` for the end of the output, then returns what was read.
    fn finish(self, grace: Duration) -> Captured {
        let _ = self.done.recv_timeout(grace);
        self.captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn spawn_reader<R: Read + Send + 'static>(pipe: Option<R>, limit: usize) -> PipeReader {
    let captured = Arc::new(Mutex::new(Captured::default()));
    let (tx, done) = mpsc::channel();
    let sink = captured.clone();
    thread::spawn(move || {
        if let Some(mut pipe) = pipe {
            let mut chunk = [0u8; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        let mut c = sink.lock().unwrap_or_else(PoisonError::into_inner);
                        let room = limit.saturating_sub(c.bytes.len());
                        c.bytes.extend_from_slice(&chunk[..n.min(room)]);
                        c.overflow |= n > room;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        let _ = tx.send(());
    });
    PipeReader { captured, done }
}

fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        thread::sleep((deadline - now).min(Duration::from_millis(5)));
    }
}

/// SIGKILLs the helper's process group, then reaps the helper.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group whose id is the
        // helper's pid (process_group(0)); the helper is not reaped yet, so the id is ours.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn classify(
    program: &str,
    server_url: &str,
    status: ExitStatus,
    out: Captured,
    err: Captured,
) -> Result<HelperAnswer, HelperError> {
    if is_not_found_message(&out.bytes) {
        return Ok(HelperAnswer::NotFound);
    }
    if !status.success() {
        return Err(HelperError::Failed {
            program: program.to_owned(),
            server_url: server_url.to_owned(),
            status: describe_status(status),
            message: helper_message(&out.bytes, &err.bytes),
        });
    }
    if out.overflow {
        return Err(HelperError::OutputTooLarge {
            program: program.to_owned(),
            server_url: server_url.to_owned(),
            limit: STDOUT_LIMIT,
        });
    }
    parse_get_answer(&out.bytes)
        .map(HelperAnswer::Found)
        .map_err(|reason| HelperError::BadAnswer {
            program: program.to_owned(),
            server_url: server_url.to_owned(),
            reason,
        })
}

fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}

/// The helper's error message: its stdout (the protocol's channel), else its stderr, on one
/// line, control characters replaced, at most [`MESSAGE_LIMIT`] characters.
///
/// A stdout that holds a JSON object is never relayed: it is the credentials channel (a helper
/// may print its answer and still fail), so it may hold a secret; stderr is used instead.
pub(crate) fn helper_message(stdout: &[u8], stderr: &[u8]) -> String {
    let pick = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_owned();
    // Checked on the text, not by decoding: the output may be cut at the byte bound.
    let stdout_is_object = String::from_utf8_lossy(stdout)
        .trim_start()
        .starts_with('{');
    let mut text = if stdout_is_object {
        String::new()
    } else {
        pick(stdout)
    };
    if text.is_empty() {
        text = pick(stderr);
    }
    if text.is_empty() {
        return if stdout_is_object {
            "it printed a JSON object (not shown: it may hold a secret)".to_owned()
        } else {
            "no message".to_owned()
        };
    }
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MESSAGE_LIMIT)
        .collect();
    if text.chars().count() > MESSAGE_LIMIT {
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_bounded_line() {
        assert_eq!(helper_message(b"  boom\n", b"ignored"), "boom");
        assert_eq!(
            helper_message(b"", b"on stderr\nsecond"),
            "on stderr second"
        );
        assert_eq!(helper_message(b"", b""), "no message");
        let long = "x".repeat(MESSAGE_LIMIT + 10);
        let msg = helper_message(long.as_bytes(), b"");
        assert_eq!(msg.chars().count(), MESSAGE_LIMIT + 1);
        assert!(msg.ends_with('…'));
        assert_eq!(helper_message(&[0xff, b'a'], b""), "\u{fffd}a");
    }

    #[test]
    fn a_credentials_object_on_stdout_is_never_relayed() {
        let answer = br#"{"ServerURL":"r","Username":"u","Secret":"hunter2"}"#;
        assert_eq!(helper_message(answer, b"locked\n"), "locked");
        assert_eq!(
            helper_message(answer, b""),
            "it printed a JSON object (not shown: it may hold a secret)"
        );
        for stdout in [
            &b"{\"Secret\":\"hunter2\"} oops"[..],
            b"{\"Secret\":12345678}",
            b" {\"Secret\":\"hunter2 (cut at the byte bound",
        ] {
            assert_eq!(
                helper_message(stdout, b""),
                "it printed a JSON object (not shown: it may hold a secret)"
            );
        }
        assert_eq!(
            helper_message(b"[\"not an object\"]", b""),
            "[\"not an object\"]"
        );
    }

    #[test]
    fn statuses_read_like_go() {
        assert_eq!(
            describe_status(ExitStatus::from_raw(1 << 8)),
            "exit status 1"
        );
        assert_eq!(
            describe_status(ExitStatus::from_raw(9)),
            "killed by signal 9"
        );
    }

    #[test]
    fn locate_searches_path_or_only_the_dir() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("docker-credential-x");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        let name = HelperName::parse("x").unwrap();
        let e = locate(&name, Some(dir.path()), None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("credential helper \"x\" not found: no executable docker-credential-x in --helper-dir "), "{e}");
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(locate(&name, Some(dir.path()), None).unwrap(), exe);
        let path = std::env::join_paths(["relative", "/nonexistent", dir.path().to_str().unwrap()])
            .unwrap();
        assert_eq!(locate(&name, None, Some(&path)).unwrap(), exe);
        let e = locate(&name, None, None).unwrap_err().to_string();
        assert!(e.ends_with("in $PATH (empty)"), "{e}");
        let e = locate(&HelperName::parse("y").unwrap(), None, Some(&path))
            .unwrap_err()
            .to_string();
        assert!(e.contains("$PATH (/nonexistent:"), "{e}");
    }
}
