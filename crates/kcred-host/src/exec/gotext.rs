//! How Go prints a finished process and a failed `exec`, so kcred's errors read like the
//! kubelet's: `exit status 1`, `signal: killed`, `fork/exec /p: no such file or directory`.

use std::io;
use std::path::Path;
use std::process::ExitStatus;

/// Go's `ProcessState.String()`: `exit status N`, `signal: <name>`, plus ` (core dumped)`.
pub fn exit_status_text(status: &ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let mut s = format!("signal: {}", signal_name(sig));
            if status.core_dumped() {
                s.push_str(" (core dumped)");
            }
            return s;
        }
    }
    match status.code() {
        #[cfg(windows)]
        Some(code) if (code as u32) >= 1 << 16 => format!("exit status 0x{:x}", code as u32),
        Some(code) => format!("exit status {code}"),
        None => "exit status unknown".to_owned(),
    }
}

/// Go's `syscall.Signal.String()` on Linux (`signal N` for numbers it has no name for).
#[cfg(unix)]
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "hangup",
        libc::SIGINT => "interrupt",
        libc::SIGQUIT => "quit",
        libc::SIGILL => "illegal instruction",
        libc::SIGTRAP => "trace/breakpoint trap",
        libc::SIGABRT => "aborted",
        libc::SIGBUS => "bus error",
        libc::SIGFPE => "floating point exception",
        libc::SIGKILL => "killed",
        libc::SIGUSR1 => "user defined signal 1",
        libc::SIGSEGV => "segmentation fault",
        libc::SIGUSR2 => "user defined signal 2",
        libc::SIGPIPE => "broken pipe",
        libc::SIGALRM => "alarm clock",
        libc::SIGTERM => "terminated",
        #[cfg(any(target_os = "linux", target_os = "android"))]
        libc::SIGSTKFLT => "stack fault",
        libc::SIGCHLD => "child exited",
        libc::SIGCONT => "continued",
        libc::SIGSTOP => "stopped (signal)",
        libc::SIGTSTP => "stopped",
        libc::SIGTTIN => "stopped (tty input)",
        libc::SIGTTOU => "stopped (tty output)",
        libc::SIGURG => "urgent I/O condition",
        libc::SIGXCPU => "CPU time limit exceeded",
        libc::SIGXFSZ => "file size limit exceeded",
        libc::SIGVTALRM => "virtual timer expired",
        libc::SIGPROF => "profiling timer expired",
        libc::SIGWINCH => "window changed",
        libc::SIGIO => "I/O possible",
        #[cfg(any(target_os = "linux", target_os = "android"))]
        libc::SIGPWR => "power failure",
        libc::SIGSYS => "bad system call",
        _ => return format!("signal {sig}"),
    };
    name.to_owned()
}

/// Go's text for an OS error: the C library's message with a lower-case first letter
/// (Go's errno table is glibc's, lower-cased), without Rust's ` (os error N)` suffix.
pub fn os_error_text(err: &io::Error) -> String {
    kcred_api::go::os::errno_text(err)
}

/// Go's error for a process that could not be started: `fork/exec <path>: <errno text>`.
pub fn spawn_error_text(path: &Path, err: &io::Error) -> String {
    format!("fork/exec {}: {}", path.display(), os_error_text(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn errno_texts_match_go() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(os_error_text(&e), "no such file or directory");
        let e = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(os_error_text(&e), "permission denied");
        assert_eq!(
            spawn_error_text(
                Path::new("/x/p"),
                &io::Error::from_raw_os_error(libc::ENOEXEC)
            ),
            "fork/exec /x/p: exec format error"
        );
    }

    #[cfg(unix)]
    #[test]
    fn statuses_match_go() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            exit_status_text(&ExitStatus::from_raw(1 << 8)),
            "exit status 1"
        );
        assert_eq!(exit_status_text(&ExitStatus::from_raw(9)), "signal: killed");
        assert_eq!(
            exit_status_text(&ExitStatus::from_raw(11 | 0x80)),
            "signal: segmentation fault (core dumped)"
        );
        assert_eq!(signal_name(64), "signal 64");
    }
}
