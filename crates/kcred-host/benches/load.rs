//! Load benchmark: `Host::credentials` for many images across many registries from many
//! concurrent tasks, against real `kcred-test-plugin` processes. Prints a table; asserts
//! nothing about time (see docs/fuzzing.md, "Load benchmark").
//!
//! Scenarios (each on a fresh host, so caches start empty):
//! - `registry`: the plugin answers with `cacheKeyType: Registry`;
//! - `image`: `cacheKeyType: Image` (every image needs its own run);
//! - `fail`: the plugin exits 1 (nothing is cached; every lookup may run it);
//! - `hang`: the plugin never answers; the exec timeout is short.
//!
//! Columns: plugin execs (counted by the plugin itself), execs per cache key (registry or
//! image), p50/p99/max latency of one lookup (max = the worst-case wait), wall time, and
//! the bench process's peak RSS during the scenario (VmHWM, reset between scenarios).
//!
//! `cargo bench -p kcred-host --bench load`; environment: `KCRED_LOAD_IMAGES` (10000),
//! `KCRED_LOAD_REGISTRIES` (50), `KCRED_LOAD_TASKS` (200), `KCRED_LOAD_TIMEOUT_MS` (1000,
//! the exec timeout of the `hang` scenario), `KCRED_LOAD_SCENARIOS` (comma list),
//! `KCRED_LOAD_COALESCE` (1; 0 = the kubelet's behaviour, no registry coalescing).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kcred_host::{Host, HostOptions, PodContext};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One scenario: plugin arguments, exec timeout, and how cache keys are counted.
struct Scenario {
    name: &'static str,
    args: Vec<String>,
    timeout: Duration,
    per_image_keys: bool,
}

struct Row {
    name: &'static str,
    lookups: usize,
    found: usize,
    execs: usize,
    keys: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    wall: Duration,
    peak_rss_kib: u64,
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux `clear_refs` value 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn write_config(dir: &Path, args: &[String]) -> PathBuf {
    let path = dir.join("config.json");
    let doc = serde_json::json!({
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [{
            "name": "load-plugin",
            "matchImages": ["*.registry.io"],
            "defaultCacheDuration": "1h",
            "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            "args": args,
        }],
    });
    std::fs::write(&path, doc.to_string()).expect("write config");
    path
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn run(scenario: &Scenario, images: &Arc<Vec<String>>, tasks: usize, coalesce: bool) -> Row {
    let dir = tempfile::tempdir().expect("tempdir");
    let plugin = kcred_testutil::bin("kcred-test-plugin", "kcred-test-plugin");
    std::os::unix::fs::symlink(plugin, dir.path().join("load-plugin")).expect("symlink");
    let count = dir.path().join("count");
    let mut args = scenario.args.clone();
    args.push("--count-file".into());
    args.push(count.to_string_lossy().into_owned());
    let config = write_config(dir.path(), &args);
    let options = HostOptions {
        exec_timeout: scenario.timeout,
        coalesce_registries: coalesce,
        ..HostOptions::default()
    };
    let host = Host::load(&config, dir.path(), options).expect("host");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    reset_peak_rss();
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let (mut latencies, found) = runtime.block_on(async {
        let mut handles = Vec::with_capacity(tasks);
        for _ in 0..tasks {
            let host = host.clone();
            let images = images.clone();
            let next = next.clone();
            handles.push(tokio::spawn(async move {
                let pod = PodContext::default();
                let mut latencies = Vec::new();
                let mut found = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(image) = images.get(i) else { break };
                    let t = Instant::now();
                    let report = host.credentials(image, &pod).await.expect("valid image");
                    latencies.push(t.elapsed());
                    found += usize::from(report.found());
                }
                (latencies, found)
            }));
        }
        let mut all = Vec::with_capacity(images.len());
        let mut found = 0;
        for h in handles {
            let (l, f) = h.await.expect("task");
            all.extend(l);
            found += f;
        }
        (all, found)
    });
    let wall = start.elapsed();
    let peak_rss_kib = status_kib("VmHWM:");
    drop(runtime);
    latencies.sort();
    let execs = std::fs::read_to_string(&count)
        .map(|s| s.lines().count())
        .unwrap_or(0);
    let registries: std::collections::BTreeSet<&str> = images
        .iter()
        .map(|i| i.split('/').next().unwrap_or(""))
        .collect();
    Row {
        name: scenario.name,
        lookups: latencies.len(),
        found,
        execs,
        keys: if scenario.per_image_keys {
            images.len()
        } else {
            registries.len()
        },
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
        wall,
        peak_rss_kib,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful either.
    let n_images = env_usize("KCRED_LOAD_IMAGES", 10_000);
    let n_registries = env_usize("KCRED_LOAD_REGISTRIES", 50).max(1);
    let tasks = env_usize("KCRED_LOAD_TASKS", 200).max(1);
    let timeout = Duration::from_millis(env_usize("KCRED_LOAD_TIMEOUT_MS", 1000) as u64);
    let coalesce = std::env::var("KCRED_LOAD_COALESCE").map_or(true, |v| v != "0");
    let wanted: Option<Vec<String>> = std::env::var("KCRED_LOAD_SCENARIOS")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let images: Arc<Vec<String>> = Arc::new(
        (0..n_images)
            .map(|i| format!("r{}.registry.io/team/app{i}:v1", i % n_registries))
            .collect(),
    );
    let ok = |key_type: &str| -> Vec<String> {
        [
            "--mode",
            "ok",
            "--cache-key-type",
            key_type,
            "--auth",
            "*.registry.io=user:pass",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let scenarios = [
        Scenario {
            name: "registry",
            args: ok("Registry"),
            timeout: Duration::from_secs(60),
            per_image_keys: false,
        },
        Scenario {
            name: "image",
            args: ok("Image"),
            timeout: Duration::from_secs(60),
            per_image_keys: true,
        },
        Scenario {
            name: "fail",
            args: vec!["--mode".into(), "fail".into()],
            timeout: Duration::from_secs(60),
            per_image_keys: false,
        },
        Scenario {
            name: "hang",
            args: vec!["--mode".into(), "hang".into()],
            timeout,
            per_image_keys: false,
        },
    ];
    println!(
        "load: {n_images} images across {n_registries} registries, {tasks} concurrent tasks, \
         registry coalescing {}, hang timeout {} ms, {} CPUs",
        if coalesce { "on" } else { "off" },
        timeout.as_millis(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<9} {:>7} {:>7} {:>7} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "scenario",
        "lookups",
        "found",
        "execs",
        "keys",
        "exec/key",
        "p50 ms",
        "p99 ms",
        "max ms",
        "wall s",
        "peak RSS"
    );
    for scenario in &scenarios {
        if let Some(w) = &wanted {
            if !w.iter().any(|n| n == scenario.name) {
                continue;
            }
        }
        let r = run(scenario, &images, tasks, coalesce);
        println!(
            "{:<9} {:>7} {:>7} {:>7} {:>6} {:>9.2} {:>9} {:>9} {:>9} {:>9.1} {:>7} MiB",
            r.name,
            r.lookups,
            r.found,
            r.execs,
            r.keys,
            r.execs as f64 / r.keys as f64,
            ms(r.p50),
            ms(r.p99),
            ms(r.max),
            r.wall.as_secs_f64(),
            r.peak_rss_kib / 1024
        );
    }
}
