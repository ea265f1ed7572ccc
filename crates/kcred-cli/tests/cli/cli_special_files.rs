//! Issue 12, defect 6: a FIFO named `*.yaml` in a config directory used to hang
//! `validate`, `explain` and `get` forever; now each exits at once with an error naming
//! the file (`validate`: 1, an invalid config; `explain`, `get`: 2, a usage error).
#![cfg(unix)]

use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{config_yaml, provider_yaml, write};

#[test]
fn a_fifo_in_the_config_dir_is_a_clear_error_for_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("conf");
    std::fs::create_dir(&config_dir).unwrap();
    write(
        &config_dir,
        "a.yaml",
        &config_yaml(&[provider_yaml("p", &["r.io"], "")]),
    );
    mkfifo(&config_dir.join("b.yaml"));
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let conf = config_dir.to_str().unwrap();
    let bin = bin_dir.to_str().unwrap();
    for args in [
        vec!["validate", conf],
        vec!["explain", "r.io/app", "--config", conf],
        vec!["get", "r.io/app", "--config", conf, "--bin-dir", bin],
    ] {
        let (code, _, stderr) = run_bounded(&args);
        let expected = if args[0] == "validate" { 1 } else { 2 };
        assert_eq!(code, Some(expected), "{args:?}: {stderr}");
        assert!(
            stderr.contains("b.yaml\" is a named pipe (FIFO), not a regular file"),
            "{args:?}: {stderr}"
        );
    }
}

/// Makes a FIFO at `path` (its directory created).
fn mkfifo(path: &std::path::Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// Runs kcred with `args`, failing the test if it has not exited within 20 s.
fn run_bounded(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kcred"))
        .args(args)
        .env_remove("KCRED_KUBELET_VERSION")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{args:?} hung on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A kubeadm node root with its flag files, and `fifo` (a node path) made a FIFO.
fn kubeadm_root_with_fifo(fifo: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let files = [
        (
            "var/lib/kubelet/kubeadm-flags.env",
            "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n",
        ),
        ("etc/default/kubelet", "KUBELET_EXTRA_ARGS=\n"),
    ];
    for (path, text) in files {
        if path != fifo.trim_start_matches('/') {
            let p = root.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }
    mkfifo(&root.path().join(fifo.trim_start_matches('/')));
    root
}

#[test]
fn fifos_on_a_node_are_clear_errors_for_install_and_doctor() {
    let ecr = kcred_testutil::bin("kcred-ecr", "ecr-credential-provider");
    let plugins = ecr.parent().unwrap().to_str().unwrap();
    // install: the provider config, a flag file, or the plugin it would replace.
    for fifo in [
        "/etc/kubernetes/credential-providers/config.yaml",
        "/etc/default/kubelet",
        "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/ecr-credential-provider",
    ] {
        let root = kubeadm_root_with_fifo(fifo);
        let r = root.path().to_str().unwrap();
        let (code, stdout, stderr) = run_bounded(&[
            "install",
            "--root",
            r,
            "--profile",
            "kubeadm",
            "--kubelet-version",
            "1.34",
            "--enable",
            "ecr",
            "--bin-dir-source",
            plugins,
        ]);
        assert_eq!(code, Some(1), "{fifo}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!("reading {fifo}: not a regular file")),
            "{fifo}: {stderr}"
        );
        assert!(stderr.contains("nothing was written"), "{fifo}: {stderr}");
    }
    // install --provider-config naming a FIFO on this machine.
    let dir = tempfile::tempdir().unwrap();
    let fragment = dir.path().join("fragment.yaml");
    mkfifo(&fragment);
    let root = kubeadm_root_with_fifo("/tmp/unrelated");
    let (code, _, stderr) = run_bounded(&[
        "install",
        "--root",
        root.path().to_str().unwrap(),
        "--profile",
        "kubeadm",
        "--kubelet-version",
        "1.34",
        "--provider-config",
        fragment.to_str().unwrap(),
        "--dry-run",
    ]);
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    // doctor: a flag file that is a FIFO fails, named, instead of hanging.
    let root = kubeadm_root_with_fifo("/var/lib/kubelet/kubeadm-flags.env");
    let (code, stdout, _) = run_bounded(&[
        "doctor",
        "--root",
        root.path().to_str().unwrap(),
        "--profile",
        "kubeadm",
        "--kubelet-version",
        "1.34",
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL  flags.file")
            && stdout.contains("/var/lib/kubelet/kubeadm-flags.env: reading /var/lib/kubelet/kubeadm-flags.env: not a regular file"),
        "{stdout}"
    );
}
