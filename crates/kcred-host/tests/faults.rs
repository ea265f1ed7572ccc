//! Issue 12, host side: faults that used to cost twice the timeout, orphan plugins, freeze
//! the runtime or leak secrets. Each test runs the real `kcred-test-plugin`.
#![cfg(unix)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use kcred_host::{ExecLimits, PodContext};

/// The outcome's failure as text (empty when it succeeded).
fn error_text(outcome: &kcred_host::ProvideOutcome) -> String {
    outcome.error().map(|e| e.to_string()).unwrap_or_default()
}

/// A context with coalescing on and a `timeout` exec deadline.
fn coalescing_context(timeout: Duration) -> kcred_host::ProviderContext {
    let (mut ctx, _) = context();
    ctx.limits = ExecLimits {
        timeout,
        ..ctx.limits
    };
    ctx.coalesce_registries = true;
    ctx
}

/// Defect 7: a lookup that waited on the failed (timed-out) in-flight run of its registry
/// does not run its own plugin for a second full timeout: it shares the failure. Logical
/// bound: one exec for both lookups; the waiter's elapsed time is far under two timeouts
/// (before the fix it was one timeout of waiting plus one of its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_on_a_timed_out_registry_run_does_not_exec_again() {
    let timeout = Duration::from_secs(2);
    let bin = BinDir::new(&["p"]);
    let count = bin.file("count");
    let def = provider(
        "p",
        &["r.io"],
        &["--mode", "hang", "--count-file", count.to_str().unwrap()],
    );
    let p = std::sync::Arc::new(plugin_provider(&bin, def, coalescing_context(timeout)));
    let leader = {
        let p = p.clone();
        tokio::spawn(async move { p.provide("r.io/a", &PodContext::default()).await })
    };
    // Let the leader take the registry's flight first.
    while count_lines(&count) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    let waiter = p.provide("r.io/b", &PodContext::default()).await;
    let waited = started.elapsed();
    let leader = leader.await.unwrap();

    assert!(
        error_text(&leader).contains("context deadline exceeded"),
        "{leader:?}"
    );
    assert!(waiter.trace.waited_for_registry, "{}", waiter.trace);
    let err = error_text(&waiter);
    assert!(err.contains("context deadline exceeded"), "{err}");
    assert!(
        err.contains("\"r.io/a\""),
        "the waiter names the run it shared: {err}"
    );
    assert_eq!(count_lines(&count), 1, "one exec for both lookups");
    assert!(
        waited < timeout + timeout / 2,
        "waiter took {waited:?}, over one timeout ({timeout:?}) plus margin"
    );
}

/// Defect 7: a failed (not timed-out) leader is shared the same way: one exec.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_on_a_failed_registry_run_shares_the_failure() {
    let bin = BinDir::new(&["p"]);
    let count = bin.file("count");
    let def = provider(
        "p",
        &["r.io"],
        &[
            "--mode",
            "fail",
            "--sleep-ms",
            "500",
            "--count-file",
            count.to_str().unwrap(),
        ],
    );
    let p = std::sync::Arc::new(plugin_provider(
        &bin,
        def,
        coalescing_context(Duration::from_secs(10)),
    ));
    let leader = {
        let p = p.clone();
        tokio::spawn(async move { p.provide("r.io/a", &PodContext::default()).await })
    };
    while count_lines(&count) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let waiter = p.provide("r.io/b", &PodContext::default()).await;
    let leader = leader.await.unwrap();
    assert!(error_text(&leader).contains("exit status 1"), "{leader:?}");
    assert!(waiter.trace.waited_for_registry);
    assert!(error_text(&waiter).contains("exit status 1"), "{waiter:?}");
    assert_eq!(count_lines(&count), 1);
    // Nothing was cached: the next lookup runs the plugin again.
    let again = p.provide("r.io/b", &PodContext::default()).await;
    assert!(again.error().is_some());
    assert!(!again.trace.waited_for_registry);
    assert_eq!(count_lines(&count), 2);
}

/// Pids a `--pid-file` holds (the plugin first, then its child).
fn pids(file: &std::path::Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

/// The state letter of `/proc/<pid>/stat` (`R`, `S`, `Z` ...), `None` when the process is
/// gone (reaped).
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(") ")?.1;
    after.chars().next()
}

/// Polls until `pid` is reaped (gone from /proc), at most 10 s.
async fn wait_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while proc_state(pid).is_some() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Asserts the plugin (first pid) was reaped by kcred, and its grandchild is dead (gone, or
/// a zombie waiting for init to reap it: killed either way, never still running).
async fn assert_plugin_and_child_dead(pids: &[u32]) {
    assert_eq!(pids.len(), 2, "plugin and its child: {pids:?}");
    assert!(
        wait_gone(pids[0]).await,
        "plugin {} not reaped: state {:?}",
        pids[0],
        proc_state(pids[0])
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match proc_state(pids[1]) {
            None | Some('Z') | Some('X') => break,
            Some(state) => assert!(
                Instant::now() < deadline,
                "grandchild {} still running (state {state})",
                pids[1]
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn hanging_host(bin: &BinDir, pid_file: &std::path::Path) -> kcred_host::Host {
    let cfg = bin.file("config.json");
    let doc = serde_json::json!({
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [{
            "name": "p",
            "matchImages": ["r.io"],
            "defaultCacheDuration": "1m",
            "apiVersion": V1,
            "args": ["--mode", "hang", "--spawn-child", "--pid-file", pid_file.to_str().unwrap()],
        }],
    });
    std::fs::write(&cfg, doc.to_string()).unwrap();
    let options = kcred_host::HostOptions {
        exec_timeout: Duration::from_secs(120),
        ..kcred_host::HostOptions::default()
    };
    kcred_host::Host::load(&cfg, bin.path(), options).unwrap()
}

/// Defect 2, library side: dropping a `Host::credentials` future (here: the caller gives
/// up) kills the plugin's process group and reaps the plugin, on the same runtime.
async fn dropped_lookup_kills_and_reaps_the_plugin() {
    let bin = BinDir::new(&["p"]);
    let pid_file = bin.file("pids");
    let host = hanging_host(&bin, &pid_file);
    let pod = PodContext::default();
    let mut lookup = Box::pin(host.credentials("r.io/app", &pod));
    let deadline = Instant::now() + Duration::from_secs(30);
    while pids(&pid_file).len() < 2 {
        assert!(Instant::now() < deadline, "plugin did not start");
        tokio::select! {
            r = &mut lookup => panic!("a hanging lookup finished: {r:?}"),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    }
    drop(lookup);
    assert_plugin_and_child_dead(&pids(&pid_file)).await;
}

#[tokio::test(flavor = "current_thread")]
async fn dropped_lookup_kills_and_reaps_the_plugin_current_thread() {
    dropped_lookup_kills_and_reaps_the_plugin().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_lookup_kills_and_reaps_the_plugin_multi_thread() {
    dropped_lookup_kills_and_reaps_the_plugin().await;
}

/// Defect 2, library side: a lookup cancelled by `tokio::time::timeout` does the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_lookup_kills_and_reaps_the_plugin() {
    let bin = BinDir::new(&["p"]);
    let pid_file = bin.file("pids");
    let host = hanging_host(&bin, &pid_file);
    let pod = PodContext::default();
    let lookup = tokio::time::timeout(Duration::from_secs(2), host.credentials("r.io/app", &pod));
    assert!(lookup.await.is_err(), "a hanging lookup finished");
    assert_plugin_and_child_dead(&pids(&pid_file)).await;
}

fn mkfifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// Defect 3: a FIFO named `*.yaml` appearing in the watched config directory does not
/// freeze the process. The watcher refuses it (a rejected reload naming the file) and
/// lookups keep answering, on `flavor`. Runs on its own thread under a watchdog: before
/// the fix the runtime froze and even `tokio::time::timeout` never fired.
fn fifo_in_watched_dir_does_not_freeze(flavor: &'static str) {
    let bin = BinDir::new(&["p"]);
    let dir = tempfile::tempdir().unwrap();
    let doc = serde_json::json!({
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [{
            "name": "p",
            "matchImages": ["r.io"],
            "defaultCacheDuration": "1m",
            "apiVersion": V1,
            "args": ["--auth", "r.io=u:pw-1234"],
        }],
    });
    std::fs::write(dir.path().join("a.yaml"), doc.to_string()).unwrap();
    let fifo = dir.path().join("b.yaml");
    let (tx, rx) = std::sync::mpsc::channel();
    let config_dir = dir.path().to_path_buf();
    let bin_path = bin.path().to_path_buf();
    let fifo_in_thread = fifo.clone();
    std::thread::spawn(move || {
        let runtime = match flavor {
            "current_thread" => tokio::runtime::Builder::new_current_thread(),
            _ => tokio::runtime::Builder::new_multi_thread(),
        }
        .enable_all()
        .build()
        .unwrap();
        let result = runtime.block_on(async move {
            let host = kcred_host::Host::load(&config_dir, &bin_path, Default::default()).unwrap();
            let mut events = host.reload_events();
            let watcher = host.watch_config(Duration::from_millis(20));
            mkfifo(&fifo_in_thread);
            let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
                .await
                .expect("a reload event")
                .unwrap();
            let lookup = tokio::time::timeout(
                Duration::from_secs(10),
                host.credentials("r.io/app", &PodContext::default()),
            )
            .await
            .expect("lookup answered")
            .unwrap();
            watcher.abort();
            (event, lookup.found())
        });
        let _ = tx.send(result);
    });
    let (event, found) = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(r) => r,
        Err(_) => {
            // Give the stuck reader EOF so the thread can end, then fail.
            drop(std::fs::OpenOptions::new().write(true).open(&fifo));
            panic!("{flavor}: the runtime froze on a FIFO in the watched directory");
        }
    };
    match event {
        kcred_host::ReloadEvent::Rejected { reason } => {
            assert!(reason.contains("b.yaml"), "{reason}");
            assert!(reason.contains("named pipe (FIFO)"), "{reason}");
        }
        other => panic!("{flavor}: expected a rejected reload, got {other:?}"),
    }
    assert!(found, "{flavor}: the old providers stay in force");
}

#[test]
fn fifo_in_watched_dir_does_not_freeze_current_thread() {
    fifo_in_watched_dir_does_not_freeze("current_thread");
}

#[test]
fn fifo_in_watched_dir_does_not_freeze_multi_thread() {
    fifo_in_watched_dir_does_not_freeze("multi_thread");
}

/// A runner for the test plugin `p` with `args` and a `timeout` deadline.
fn runner(bin: &BinDir, args: &[&str], timeout: Duration) -> kcred_host::PluginRunner {
    kcred_host::PluginRunner::new(
        "p",
        bin.plugin("p"),
        args.iter().map(|s| s.to_string()).collect(),
        Vec::new(),
        kcred_api::ApiVersion::V1,
        ExecLimits {
            timeout,
            output_limit: 64 * 1024,
        },
    )
}

/// Runs `r` once; the error text (or "ok") and the time taken.
async fn run_once(r: &kcred_host::PluginRunner) -> (String, Duration) {
    let started = Instant::now();
    let outcome = r
        .exec("r.io/app", None, &std::collections::BTreeMap::new())
        .await;
    let text = match outcome.result {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.to_string(),
    };
    (text, started.elapsed())
}

/// Slow output: a plugin that keeps writing (one byte every 50 ms) is still stopped at the
/// deadline: the deadline covers the whole run, output does not extend it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_output_does_not_extend_the_deadline() {
    let bin = BinDir::new(&["p"]);
    let r = runner(
        &bin,
        &["--auth", "r.io=u:p", "--trickle-ms", "50"],
        Duration::from_millis(700),
    );
    let (text, took) = run_once(&r).await;
    assert!(text.contains(": context deadline exceeded: "), "{text}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

/// A grandchild holding stdout after the plugin answered and exited: the run ends at the
/// deadline (the pipe never reaches EOF), and the grandchild, in the plugin's process
/// group, is killed with it. (The kubelet's `cmd.Run` would wait for the pipe forever.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grandchild_holding_stdout_is_killed_at_the_deadline() {
    let bin = BinDir::new(&["p"]);
    let pid_file = bin.file("pids");
    let r = runner(
        &bin,
        &[
            "--auth",
            "r.io=u:p",
            "--spawn-child",
            "--pid-file",
            pid_file.to_str().unwrap(),
        ],
        Duration::from_millis(700),
    );
    let (text, took) = run_once(&r).await;
    assert!(text.contains(": context deadline exceeded: "), "{text}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_plugin_and_child_dead(&pids(&pid_file)).await;
}

/// A grandchild that escapes the process group with setsid(2) and holds stdout: kcred is
/// not held past the deadline and reaps the plugin, but cannot kill the escaped process
/// (it left the group on purpose; only a cgroup could catch it). Its pipes are closed, so
/// its next write fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setsid_escapee_does_not_hold_kcred_past_the_deadline() {
    let bin = BinDir::new(&["p"]);
    let pid_file = bin.file("pids");
    let r = runner(
        &bin,
        &[
            "--auth",
            "r.io=u:p",
            "--spawn-child",
            "--escape-child",
            "--pid-file",
            pid_file.to_str().unwrap(),
        ],
        Duration::from_millis(700),
    );
    let (text, took) = run_once(&r).await;
    let pids = pids(&pid_file);
    assert_eq!(pids.len(), 2, "{pids:?}");
    let escapee_state = proc_state(pids[1]);
    // Clean up the escapee before asserting.
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is the escaped child's.
    unsafe {
        libc::kill(i32::try_from(pids[1]).unwrap(), libc::SIGKILL);
    }
    assert!(text.contains(": context deadline exceeded: "), "{text}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(wait_gone(pids[0]).await, "plugin not reaped");
    assert!(
        matches!(escapee_state, Some(s) if s != 'Z'),
        "the escapee is outside the group and still running: {escapee_state:?}"
    );
}
