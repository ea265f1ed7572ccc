//! Signals to a process that runs plugins: SIGINT, SIGTERM and SIGHUP stop the work, kill
//! every plugin's process group and reap the plugins before the process exits.
//!
//! Plugins run in their own process group (so a grandchild holding the pipes can be
//! killed with them), which also means a Ctrl-C at the terminal reaches only kcred, and a
//! `kill` of kcred never reaches the plugins. Without this, a signal ends kcred with its
//! default action and leaves the plugins running under init. The kubelet has the same
//! layout problem in reverse (Go puts no plugin in its own group, so a Ctrl-C reaches the
//! plugin, but a SIGTERM to the kubelet does not).
//!
//! [`until_signal`] is the one mechanism for every kcred binary that runs plugins
//! (`kcred get`, `docker-credential-kcred`): wrap the whole async work in it, then exit
//! with [`Interrupted::exit_code`] (128 + the signal number, the shell's convention).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::exec::process::{all_reaped, kill_all_plugins};

/// How long [`until_signal`] waits for the killed plugins to be reaped (SIGKILL is not
/// ignorable, so this only matters for a process stuck in the kernel).
pub const REAP_GRACE: Duration = Duration::from_secs(5);

/// The work was stopped by a signal; every plugin was killed (and reaped, unless
/// `all_reaped` is false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted {
    /// The signal number (`libc::SIGINT`, `libc::SIGTERM` or `libc::SIGHUP`).
    pub signal: i32,
    /// True when every plugin was reaped within [`REAP_GRACE`].
    pub all_reaped: bool,
}

impl Interrupted {
    /// The signal's name: `SIGINT`, `SIGTERM`, `SIGHUP`.
    pub fn name(&self) -> &'static str {
        match self.signal {
            SIGINT => "SIGINT",
            SIGTERM => "SIGTERM",
            SIGHUP => "SIGHUP",
            _ => "signal",
        }
    }

    /// The conventional exit status of a process stopped by the signal: 128 + its number
    /// (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal).unwrap_or(255)
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interrupted by {}: ", self.name())?;
        if self.all_reaped {
            f.write_str("the running plugins were killed and reaped")
        } else {
            f.write_str("the running plugins were killed; some were not reaped yet")
        }
    }
}

#[cfg(unix)]
const SIGINT: i32 = libc::SIGINT;
#[cfg(unix)]
const SIGTERM: i32 = libc::SIGTERM;
#[cfg(unix)]
const SIGHUP: i32 = libc::SIGHUP;
#[cfg(not(unix))]
const SIGINT: i32 = 2;
#[cfg(not(unix))]
const SIGTERM: i32 = 15;
#[cfg(not(unix))]
const SIGHUP: i32 = 1;

/// Runs `work` until it finishes or SIGINT, SIGTERM or SIGHUP arrives. On a signal, `work`
/// is dropped (which kills the process group of each plugin it was running), any other
/// plugin of this process is killed too, and the plugins are reaped (at most
/// [`REAP_GRACE`]) before this returns [`Interrupted`].
///
/// Must run inside a tokio runtime with the IO and time drivers (`enable_all`). The
/// handlers are installed when this is first polled, before `work` is, and stay installed for the life of
/// the process (tokio never uninstalls them): call it once, around the whole run. If the
/// handlers cannot be installed the work simply runs unguarded.
pub async fn until_signal<F: Future>(work: F) -> Result<F::Output, Interrupted> {
    // Boxed so that it can be dropped (killing its plugins) before the reaping below.
    let mut work = Box::pin(work);
    let signal = wait_for_signal();
    tokio::pin!(signal);
    let signal = tokio::select! {
        out = &mut work => return Ok(out),
        signal = &mut signal => signal,
    };
    drop(work);
    kill_all_plugins();
    let all_reaped = all_reaped(REAP_GRACE).await;
    Err(Interrupted { signal, all_reaped })
}

/// Installs the handlers now (before any plugin can start) and returns a future resolving
/// with the number of the first of SIGINT, SIGTERM, SIGHUP; it never resolves if the
/// handlers cannot be installed.
#[cfg(unix)]
fn wait_for_signal() -> impl Future<Output = i32> {
    use tokio::signal::unix::{signal, SignalKind};
    let installed = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    );
    async move {
        let (Ok(mut int), Ok(mut term), Ok(mut hup)) = installed else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => SIGINT,
            _ = term.recv() => SIGTERM,
            _ = hup.recv() => SIGHUP,
        }
    }
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn wait_for_signal() -> impl Future<Output = i32> {
    async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => SIGINT,
            Err(_) => std::future::pending().await,
        }
    }
}
