//! Issue 12, host side: faults that used to cost twice the timeout, orphan plugins, freeze
//! the runtime or leak secrets. Each test runs the real `kcred-test-plugin`.
#![cfg(unix)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use kcred_host::{ExecLimits, PodContext};

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
        leader
            .error
            .as_deref()
            .unwrap_or("")
            .contains("context deadline exceeded"),
        "{leader:?}"
    );
    assert!(waiter.trace.waited_for_registry, "{}", waiter.trace);
    let err = waiter.error.as_deref().unwrap_or("");
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
    assert!(
        leader
            .error
            .as_deref()
            .unwrap_or("")
            .contains("exit status 1"),
        "{leader:?}"
    );
    assert!(waiter.trace.waited_for_registry);
    assert!(
        waiter
            .error
            .as_deref()
            .unwrap_or("")
            .contains("exit status 1"),
        "{waiter:?}"
    );
    assert_eq!(count_lines(&count), 1);
    // Nothing was cached: the next lookup runs the plugin again.
    let again = p.provide("r.io/b", &PodContext::default()).await;
    assert!(again.error.is_some());
    assert!(!again.trace.waited_for_registry);
    assert_eq!(count_lines(&count), 2);
}
