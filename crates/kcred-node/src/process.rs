//! Finding the running kubelet through `/proc/*/cmdline`, and asking a binary its version.
//!
//! A kubelet is a process whose `argv[0]` (or `comm`) is `kubelet` (kubeadm, AKS, EKS, kind,
//! MicroK8s' `kubelite` runs it in-process: see [`ProcessKind`]). RKE2 runs the kubelet
//! binary as a child process with all flags on its command line. k3s embeds the kubelet in
//! `k3s server` / `k3s agent`: its flags are not on any command line, so they come from the
//! k3s config files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::kubelet::{parse_reported, KubeletVersion};

/// What kind of process runs the kubelet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessKind {
    /// A `kubelet` binary; its flags are its arguments.
    Kubelet,
    /// `k3s server|agent` with the kubelet embedded.
    K3s,
    /// MicroK8s' `kubelite` (flags from `/var/snap/microk8s/current/args/kubelet`).
    Kubelite,
}

/// A running kubelet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeletProcess {
    /// Process ID.
    pub pid: u32,
    /// The command line.
    pub argv: Vec<String>,
    /// What runs the kubelet.
    pub kind: ProcessKind,
    /// `/proc/PID/exe`.
    pub exe: PathBuf,
}

/// Reads `/proc/PID/cmdline` as NUL-separated arguments.
pub fn read_cmdline(proc_dir: &Path, pid: u32) -> Option<Vec<String>> {
    let bytes = std::fs::read(proc_dir.join(pid.to_string()).join("cmdline")).ok()?;
    if bytes.is_empty() {
        return None;
    }
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(&bytes);
    Some(
        bytes
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Classifies a command line.
pub fn classify(argv: &[String]) -> Option<ProcessKind> {
    let first = argv.first()?;
    match basename(first) {
        "kubelet" => Some(ProcessKind::Kubelet),
        "kubelite" => Some(ProcessKind::Kubelite),
        "k3s" if matches!(argv.get(1).map(String::as_str), Some("server" | "agent")) => {
            Some(ProcessKind::K3s)
        }
        _ => None,
    }
}

/// Every kubelet-running process under `proc_dir` (normally `/proc`), by PID.
pub fn find_kubelets(proc_dir: &Path) -> Vec<KubeletProcess> {
    let Ok(entries) = std::fs::read_dir(proc_dir) else {
        return Vec::new();
    };
    let mut out: Vec<KubeletProcess> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter_map(|pid| {
            let argv = read_cmdline(proc_dir, pid)?;
            let kind = classify(&argv)?;
            Some(KubeletProcess {
                pid,
                argv,
                kind,
                exe: proc_dir.join(pid.to_string()).join("exe"),
            })
        })
        .collect();
    out.sort_by_key(|p| p.pid);
    out
}

/// Finds `v1.N[.P]` in a `--version` answer (`Kubernetes v1.34.2`,
/// `k3s version v1.33.4+k3s1 (…)`).
pub fn parse_version_output(out: &str) -> Option<KubeletVersion> {
    out.split_whitespace()
        .filter(|w| w.starts_with("v1."))
        .find_map(|w| parse_reported(w).ok())
}

/// Runs `exe --version` (at most `timeout`), returning its stdout.
pub fn run_version(exe: &Path, timeout: Duration) -> Option<String> {
    let mut child = Command::new(exe)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut out = String::new();
    use std::io::Read;
    child
        .stdout
        .take()?
        .take(64 * 1024)
        .read_to_string(&mut out)
        .ok()?;
    Some(out)
}

/// A kubelet's version from its binary, if it answers `--version` with one.
pub fn version_of(exe: &Path) -> Option<KubeletVersion> {
    parse_version_output(&run_version(exe, Duration::from_secs(10))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        let v = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            classify(&v("/usr/bin/kubelet --v=2")),
            Some(ProcessKind::Kubelet)
        );
        assert_eq!(
            classify(&v("/usr/local/bin/k3s server")),
            Some(ProcessKind::K3s)
        );
        assert_eq!(classify(&v("/usr/local/bin/k3s kubectl get")), None);
        assert_eq!(
            classify(&v("/snap/microk8s/123/kubelite --kubelet-args-file=x")),
            Some(ProcessKind::Kubelite)
        );
        assert_eq!(classify(&v("/usr/bin/containerd")), None);
    }

    #[test]
    fn versions_from_output() {
        assert_eq!(
            parse_version_output("Kubernetes v1.34.2\n").map(|v| v.minor()),
            Some(34)
        );
        assert_eq!(
            parse_version_output("k3s version v1.33.4+k3s1 (abc)\ngo version go1.24.5\n")
                .map(|v| v.to_string()),
            Some("1.33.4".to_owned())
        );
        assert_eq!(parse_version_output("sleep (GNU coreutils) 9.1"), None);
    }
}
