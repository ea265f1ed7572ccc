//! Restarting the node's kubelet from the installer pod: the command runs in PID 1's mount
//! namespace (what `nsenter -t 1 -m` does), so `systemctl` and `snap` are the host's and talk
//! to the host's systemd. Needs `hostPID: true` and a privileged container.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus};

use crate::fs::{join, NodeFiles, RootFs};

/// Where the host's `systemctl`/`snap` may be.
const HOST_BIN_DIRS: [&str; 6] = [
    "/usr/bin",
    "/bin",
    "/usr/sbin",
    "/sbin",
    "/usr/local/bin",
    "/snap/bin",
];

/// Finds a program in the node's usual directories (node path).
pub fn find_host_program(root: &RootFs, name: &str) -> Option<String> {
    HOST_BIN_DIRS
        .iter()
        .map(|d| join(d, name))
        .find(|p| root.exists(p))
}

/// Why the restart could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestartError {
    /// The program is not on the node.
    #[error("{0} not found on the node (looked in /usr/bin, /bin, /usr/sbin, /sbin, /usr/local/bin, /snap/bin)")]
    NotFound(String),
    /// Entering the host's namespace or running the program failed.
    #[error("running {command}: {source}")]
    Io {
        /// The command line.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Runs `command` (e.g. `systemctl restart kubelet`) on the node under `root`: directly when
/// `root` is `/`, else inside PID 1's mount namespace.
pub fn restart_in_host(root: &RootFs, command: &[String]) -> Result<ExitStatus, RestartError> {
    let (prog, rest) = command
        .split_first()
        .ok_or_else(|| RestartError::NotFound(String::new()))?;
    let program =
        find_host_program(root, prog).ok_or_else(|| RestartError::NotFound(prog.clone()))?;
    let line = command.join(" ");
    let io = |source| RestartError::Io {
        command: line.clone(),
        source,
    };
    let mut cmd = Command::new(&program);
    cmd.args(rest);
    if root.root() != Path::new("/") {
        let ns = std::fs::File::open("/proc/1/ns/mnt").map_err(io)?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&ns);
        // SAFETY: setns is async-signal-safe; the child is single-threaded after fork.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNS) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let status = cmd.status().map_err(io)?;
        drop(ns);
        return Ok(status);
    }
    cmd.status().map_err(io)
}
