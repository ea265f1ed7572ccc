//! Host benchmarks: cached `credentials()` latency, exec overhead per plugin call (against
//! `kcred-test-plugin`), and the memory held by 10,000 cached entries (RSS from
//! /proc/self/status, printed before the timings).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use kcred_api::config::CredentialProvider;
use kcred_api::{ApiVersion, GoDuration, Secret};
use kcred_host::cache::{CacheKey, ServiceAccountCacheKey};
use kcred_host::exec::{ExecLimits, PluginRunner};
use kcred_host::provider::ProviderContext;
use kcred_host::{Host, HostOptions, PluginProvider, PodContext};
use kcred_match::keyring::{DockerConfig, DockerConfigEntry};

fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = kcred_testutil::bin("kcred-test-plugin", "kcred-test-plugin");
    std::os::unix::fs::symlink(bin, dir.path().join("p")).expect("symlink");
    dir
}

fn write_config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("config.json");
    let doc = serde_json::json!({
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [{
            "name": "p",
            "matchImages": ["*.registry.io", "registry.io"],
            "defaultCacheDuration": "1h",
            "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            "args": ["--cache-key-type", "Registry", "--auth", "*.registry.io=user:pass"],
        }],
    });
    std::fs::write(&path, doc.to_string()).expect("write config");
    path
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn cached_credentials(c: &mut Criterion) {
    let dir = plugin_dir();
    let cfg = write_config(dir.path());
    let rt = runtime();
    let host = Host::load(&cfg, dir.path(), HostOptions::default()).expect("host");
    let pod = PodContext::default();
    let warm = rt
        .block_on(host.credentials("a.registry.io/team/app:v1", &pod))
        .expect("warm");
    assert!(warm.found());
    c.bench_function("credentials_cached", |b| {
        b.iter(|| {
            let r = rt
                .block_on(host.credentials(black_box("a.registry.io/team/app:v1"), &pod))
                .expect("lookup");
            black_box(r.credentials.len())
        })
    });
}

fn exec_overhead(c: &mut Criterion) {
    let dir = plugin_dir();
    let rt = runtime();
    let runner = PluginRunner::new(
        "p",
        dir.path().join("p"),
        vec!["--auth".into(), "registry.io=user:pass".into()],
        Vec::new(),
        ApiVersion::V1,
        ExecLimits::default(),
    );
    let annotations = BTreeMap::new();
    let mut group = c.benchmark_group("exec");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("exec_per_call", |b| {
        b.iter(|| {
            let out = rt.block_on(runner.exec("registry.io/app", None, &annotations));
            black_box(out.result.expect("exec").auth.len())
        })
    });
    group.finish();
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Fills one provider's cache with 10,000 image-keyed entries (one credential each, like a
/// typical plugin answer) and prints the RSS growth.
fn memory_at_10k_entries() {
    let dir = plugin_dir();
    let def = CredentialProvider {
        name: "p".into(),
        match_images: vec!["*.registry.io".into()],
        default_cache_duration: Some(GoDuration(3_600_000_000_000)),
        api_version: "credentialprovider.kubelet.k8s.io/v1".into(),
        ..Default::default()
    };
    let provider = PluginProvider::new(def, dir.path().join("p"), ProviderContext::default())
        .expect("provider");
    let sa = ServiceAccountCacheKey::empty();
    let before = rss_kib();
    let started = Instant::now();
    let expires = provider.cache().now() + Duration::from_secs(3600);
    for i in 0..10_000 {
        let image = format!("a.registry.io/team-{}/application-{i}", i % 50);
        let mut cfg = DockerConfig::new();
        cfg.insert(
            image.clone(),
            DockerConfigEntry {
                username: "AWS".into(),
                password: Secret::new(format!("{:0>1200}", i)),
                ..Default::default()
            },
        );
        let key = CacheKey::new(&image, &sa).expect("key");
        provider.cache().insert(key, Arc::new(cfg), expires);
    }
    let fill = started.elapsed();
    let after = rss_kib();
    let grown = after.saturating_sub(before);
    println!(
        "memory: 10000 cached entries (1.2 KB password each): RSS {before} KiB -> {after} KiB (+{grown} KiB, ~{} B/entry); filled in {fill:?}",
        grown * 1024 / 10_000
    );
    assert_eq!(provider.cache().len(), 10_000);
}

criterion_group!(benches, cached_credentials, exec_overhead);

fn main() {
    memory_at_10k_entries();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
