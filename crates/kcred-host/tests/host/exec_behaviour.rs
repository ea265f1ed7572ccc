//! The plugin runner against a misbehaving real plugin: hangs (killed at the timeout, no
//! zombie), huge output (bounded), garbage, wrong version/kind, crashes, spawn failures,
//! environment and args.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use kcred_api::config::ExecEnvVar;
use kcred_api::ApiVersion;
use kcred_host::exec::{ExecError, ExecLimits, PluginRunner, RunFailure};
use kcred_host::HostMetrics;

fn runner(bin: &BinDir, args: &[&str], limits: ExecLimits) -> (PluginRunner, Arc<HostMetrics>) {
    let metrics = Arc::new(HostMetrics::new().unwrap());
    let r = PluginRunner::new(
        "p",
        bin.plugin("p"),
        args.iter().map(|s| s.to_string()).collect(),
        Vec::new(),
        ApiVersion::V1,
        limits,
    )
    .with_metrics(metrics.clone());
    (r, metrics)
}

fn short() -> ExecLimits {
    ExecLimits {
        timeout: Duration::from_millis(500),
        output_limit: 64 * 1024,
    }
}

async fn exec_err(r: &PluginRunner) -> ExecError {
    match r
        .exec("registry.io/app", None, &BTreeMap::new())
        .await
        .result
    {
        Ok(resp) => panic!("expected an error, got {resp:?}"),
        Err(e) => e,
    }
}

/// A process is gone (reaped, not a zombie) when /proc/<pid> no longer exists.
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => panic!("process {pid} still exists: {stat}"),
    }
}

fn pids(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_is_killed_at_the_timeout_and_reaped_with_its_children() {
    let bin = BinDir::new(&["p"]);
    let pid_file = bin.file("pids");
    let (r, metrics) = runner(
        &bin,
        &[
            "--mode",
            "hang",
            "--spawn-child",
            "--pid-file",
            pid_file.to_str().unwrap(),
            "--stderr",
            "stuck",
        ],
        short(),
    );
    let started = Instant::now();
    let err = exec_err(&r).await;
    let took = started.elapsed();
    assert_eq!(
        err.to_string(),
        "error execing credential provider plugin p for image registry.io/app: context deadline exceeded: stuck"
    );
    assert!(matches!(
        err,
        ExecError::Run {
            cause: RunFailure::DeadlineExceeded,
            ..
        }
    ));
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let pids = pids(&pid_file);
    assert_eq!(pids.len(), 2, "plugin and its child: {pids:?}");
    // The plugin is reaped by the runner; the grandchild (killed with the group) is reaped
    // by init, which may take a moment.
    assert!(process_gone(pids[0]));
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::metadata(format!("/proc/{}", pids[1])).is_ok() && Instant::now() < deadline {
        let state = std::fs::read_to_string(format!("/proc/{}/stat", pids[1])).unwrap_or_default();
        // A killed grandchild is either gone or a zombie awaiting init; never still running.
        assert!(
            state.is_empty() || state.contains(") Z ") || state.contains(") X "),
            "{state}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metrics.plugin_errors("p"), 1);
    assert_eq!(metrics.plugin_duration_count("p"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_stdout_and_stderr_are_bounded_errors() {
    let bin = BinDir::new(&["p"]);
    for (mode, stream) in [("huge-stdout", "stdout"), ("huge-stderr", "stderr")] {
        let pid_file = bin.file(&format!("pids-{mode}"));
        let (r, metrics) = runner(
            &bin,
            &[
                "--mode",
                mode,
                "--bytes",
                "5000000",
                "--pid-file",
                pid_file.to_str().unwrap(),
            ],
            short(),
        );
        let err = exec_err(&r).await;
        match &err {
            ExecError::Run {
                cause: RunFailure::OutputTooLarge { stream: s, limit },
                stderr,
                ..
            } => {
                assert_eq!(*s, stream);
                assert_eq!(*limit, 64 * 1024);
                assert!(stderr.len() <= 64 * 1024);
            }
            other => panic!("{mode}: {other:?}"),
        }
        assert!(err
            .to_string()
            .starts_with(&format!("error execing credential provider plugin p for image registry.io/app: {stream} exceeded the limit of 65536 bytes: ")));
        assert_eq!(metrics.plugin_errors("p"), 1);
        assert!(process_gone(pids(&pid_file)[0]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_wrong_version_and_wrong_kind_are_response_errors() {
    let bin = BinDir::new(&["p"]);
    let (r, metrics) = runner(&bin, &["--mode", "garbage"], short());
    let err = exec_err(&r).await;
    assert!(!err.is_run_failure());
    assert!(
        err.to_string()
            .starts_with("error reading GVK from response: "),
        "{err}"
    );

    let (r, _) = runner(&bin, &["--mode", "wrong-api-version"], short());
    assert_eq!(
        exec_err(&r).await.to_string(),
        "apiVersion from credential plugin response did not match expected apiVersion:credentialprovider.kubelet.k8s.io/v1, actual apiVersion:credentialprovider.kubelet.k8s.io/v1beta1"
    );

    let (r, _) = runner(&bin, &["--mode", "wrong-kind"], short());
    assert_eq!(
        exec_err(&r).await.to_string(),
        "error decoding credential provider plugin response from stdout"
    );
    assert_eq!(
        metrics.plugin_errors("p"),
        0,
        "response errors are not exec errors"
    );
    assert_eq!(metrics.plugin_duration_count("p"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_exit_and_spawn_failures_read_like_go() {
    let bin = BinDir::new(&["p"]);
    let (r, _) = runner(&bin, &["--mode", "crash", "--stderr", "dying"], short());
    assert_eq!(
        exec_err(&r).await.to_string(),
        "error execing credential provider plugin p for image registry.io/app: signal: killed: dying"
    );
    let (r, _) = runner(&bin, &["--mode", "crash", "--signal", "15"], short());
    assert!(exec_err(&r)
        .await
        .to_string()
        .ends_with(": signal: terminated: "));

    let (r, _) = runner(
        &bin,
        &["--mode", "fail", "--exit", "3", "--stderr", "boom"],
        short(),
    );
    assert_eq!(
        exec_err(&r).await.to_string(),
        "error execing credential provider plugin p for image registry.io/app: exit status 3: boom"
    );

    let missing = bin.plugin("missing");
    let metrics = Arc::new(HostMetrics::new().unwrap());
    let r = PluginRunner::new(
        "missing",
        &missing,
        Vec::new(),
        Vec::new(),
        ApiVersion::V1,
        short(),
    )
    .with_metrics(metrics.clone());
    assert_eq!(
        exec_err(&r).await.to_string(),
        format!(
            "error execing credential provider plugin missing for image registry.io/app: fork/exec {}: no such file or directory: ",
            missing.display()
        )
    );
    assert_eq!(metrics.plugin_errors("missing"), 1);
    assert_eq!(metrics.plugin_duration_count("missing"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_gets_host_env_then_configured_env_and_exact_args() {
    let bin = BinDir::new(&["p"]);
    let env_file = bin.file("env");
    std::env::set_var("KCRED_TEST_HOST_ONLY", "host");
    std::env::set_var("KCRED_TEST_OVERRIDDEN", "host");
    let r = PluginRunner::new(
        "p",
        bin.plugin("p"),
        vec![
            "--print-env".into(),
            env_file.to_string_lossy().into_owned(),
            "--auth".into(),
            "a.io=u:p w".into(),
        ],
        vec![
            ExecEnvVar {
                name: "KCRED_TEST_OVERRIDDEN".into(),
                value: "first".into(),
            },
            ExecEnvVar {
                name: "KCRED_TEST_OVERRIDDEN".into(),
                value: "config".into(),
            },
        ],
        ApiVersion::V1,
        short(),
    );
    let out = r.exec("a.io/x", None, &BTreeMap::new()).await;
    let resp = out.result.expect("ok");
    assert_eq!(
        resp.auth["a.io"].password.expose(),
        "p w",
        "args are passed without a shell"
    );
    let env = std::fs::read_to_string(&env_file).unwrap();
    assert!(env.lines().any(|l| l == "KCRED_TEST_HOST_ONLY=host"));
    assert!(
        env.lines().any(|l| l == "KCRED_TEST_OVERRIDDEN=config"),
        "{env}"
    );
    assert_eq!(
        env.lines()
            .filter(|l| l.starts_with("KCRED_TEST_OVERRIDDEN="))
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_in_the_request_version() {
    let bin = BinDir::new(&["p"]);
    for version in [ApiVersion::V1Alpha1, ApiVersion::V1Beta1, ApiVersion::V1] {
        let r = PluginRunner::new(
            "p",
            bin.plugin("p"),
            vec!["--cache-duration".into(), "5m".into()],
            Vec::new(),
            version,
            short(),
        );
        let resp = r
            .exec("a.io/x", None, &BTreeMap::new())
            .await
            .result
            .expect("ok");
        assert_eq!(resp.api_version, version);
        assert_eq!(resp.cache_duration.map(|d| d.0), Some(300_000_000_000));
    }
}
