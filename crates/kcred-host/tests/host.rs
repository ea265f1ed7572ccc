//! `Host`: registration (`RegisterCredentialProviderPlugins`), `credentials()` (the external keyring), keyring_cases rows `external_keyring*`
//! and `provider_call_count`, registry coalescing, echo token, metrics and hot reload.
#![cfg(unix)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use kcred_api::Secret;
use kcred_host::keyring::external_keyring;
use kcred_host::trace::ProvideTrace;
use kcred_host::{
    CredentialsReport, Host, HostError, HostOptions, PodContext, ProvideOutcome,
    ProvidedCredentials, ReloadEvent, ServiceAccount, ServiceAccountCoordinates, StaticTokenSource,
};
use kcred_match::keyring::{DockerConfig, DockerConfigEntry};
use serde_json::{json, Value};

fn options() -> HostOptions {
    HostOptions {
        exec_timeout: Duration::from_millis(2000),
        ..HostOptions::default()
    }
}

/// Writes a v1 CredentialProviderConfig with `providers` (JSON values) to `path`.
fn write_config(path: &Path, providers: Value) {
    let doc = json!({
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": providers,
    });
    std::fs::write(path, doc.to_string()).unwrap();
}

fn provider_json(name: &str, match_images: &[&str], args: &[String]) -> Value {
    json!({
        "name": name,
        "matchImages": match_images,
        "defaultCacheDuration": "1m",
        "apiVersion": V1,
        "args": args,
    })
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Writes `providers` to the bin dir's `config.json` and loads a host from it with
/// [`options`].
fn load_host(bin: &BinDir, providers: Value) -> Host {
    load_host_with(bin, providers, options())
}

/// [`load_host`] with `opts`.
fn load_host_with(bin: &BinDir, providers: Value, opts: HostOptions) -> Host {
    let cfg = bin.file("config.json");
    write_config(&cfg, providers);
    Host::load(&cfg, bin.path(), opts).unwrap()
}

/// Provider `p` for `r.io` answering `u:p`, appending a line to `count` per exec, with
/// `plugin_args` in between.
fn counted_provider(count: &Path, plugin_args: &[&str]) -> Value {
    let mut all = vec!["--count-file", count.to_str().unwrap()];
    all.extend_from_slice(plugin_args);
    all.extend_from_slice(&["--auth", "r.io=u:p"]);
    provider_json("p", &["r.io"], &args(&all))
}

/// `credentials` for every image at once, each in its own task; the reports in image order.
async fn credentials_concurrently(
    host: &Host,
    images: impl IntoIterator<Item = String>,
) -> Vec<CredentialsReport> {
    let tasks: Vec<_> = images
        .into_iter()
        .map(|image| {
            let host = host.clone();
            tokio::spawn(async move {
                host.credentials(&image, &PodContext::default())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut reports = Vec::with_capacity(tasks.len());
    for t in tasks {
        reports.push(t.await.unwrap());
    }
    reports
}

fn keyring_rows(kind: &str) -> Vec<Value> {
    conformance("keyring_cases.json")
        .into_iter()
        .filter(|r| r["kind"] == kind)
        .collect()
}

fn outcome(provider: &str, cfg: &Value, coords: &Value) -> ProvideOutcome {
    let docker_config: DockerConfig = cfg
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                DockerConfigEntry {
                    username: v["username"].as_str().unwrap().to_owned(),
                    password: Secret::new(v["password"].as_str().unwrap()),
                    ..Default::default()
                },
            )
        })
        .collect();
    ProvideOutcome {
        provider: provider.to_owned(),
        result: Ok(ProvidedCredentials {
            docker_config: Arc::new(docker_config),
            service_account: coords.as_object().map(|_| ServiceAccountCoordinates {
                namespace: coords["namespace"].as_str().unwrap().to_owned(),
                name: coords["name"].as_str().unwrap().to_owned(),
                uid: coords["uid"].as_str().unwrap().to_owned(),
            }),
        }),
        trace: ProvideTrace::new("test.registry.io/image:tag"),
    }
}

/// `external_keyring` rows with per-provider outputs: the keyring assembly (one fresh
/// keyring, config order, SA coordinates as the source). The coordinates per provider
/// differ in these rows, which a real pod (one service account) cannot produce, so they are
/// fed as outcomes; the real-exec versions follow.
#[test]
fn external_keyring_assembly_rows() {
    let rows = keyring_rows("external_keyring");
    assert_eq!(rows.len(), 6);
    let mut checked = 0;
    for row in rows.iter().filter(|r| r.get("providers").is_some()) {
        let outcomes: Vec<ProvideOutcome> = row["providers"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, p)| {
                outcome(
                    &format!("p{i}"),
                    &p["dockerConfig"],
                    &p["serviceAccountCoordinates"],
                )
            })
            .collect();
        let image = row["image"].as_str().unwrap();
        let found = external_keyring(&outcomes).lookup(image);
        let what = row["description"].as_str().unwrap();
        assert_eq!(
            !found.is_empty(),
            row["expected_found"].as_bool().unwrap(),
            "{what}"
        );
        assert_eq!(
            found.len() as u64,
            row["expected_count"].as_u64().unwrap(),
            "{what}"
        );
        for c in &found {
            // Each credential traces back to the provider and `auth` entry it came from.
            let from = &outcomes[c.config_index];
            let entry = from
                .docker_config()
                .get(&*c.location)
                .expect("origin entry");
            assert_eq!(entry.username, c.username, "{what}");
            assert_eq!(from.service_account().cloned(), c.source, "{what}");
        }
        if let Some(want) = row["expected_some_credential_has_service_account_source"].as_bool() {
            assert_eq!(found.iter().any(|c| c.source.is_some()), want, "{what}");
        }
        if row.get("expected_order_note").is_some() {
            let users: Vec<&str> = found.iter().map(|c| c.username.as_str()).collect();
            assert_eq!(
                users,
                ["user1", "user2"],
                "{what}: provider order under one key"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 5);
}

/// The same rows through `Host::credentials` with real plugins (rows whose providers carry
/// no or identical coordinates; "no providers" cannot be a valid config).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_keyring_rows_with_real_plugins() {
    let bin = BinDir::new(&["first", "second"]);
    let cfg = bin.file("config.json");
    let auth = |u: &str, p: &str| format!("test.registry.io={u}:{p}");
    write_config(
        &cfg,
        json!([
            provider_json(
                "first",
                &["*.registry.io"],
                &args(&["--auth", &auth("user1", "pass1"), "--cache-duration", "0s"])
            ),
            provider_json(
                "second",
                &["*.registry.io"],
                &args(&["--auth", &auth("user2", "pass2"), "--cache-duration", "0s"])
            ),
        ]),
    );
    let host = Host::load(&cfg, bin.path(), options()).unwrap();
    let report = host
        .credentials("test.registry.io/image:tag", &PodContext::default())
        .await
        .unwrap();
    assert_eq!(report.image, "test.registry.io/image");
    let names: Vec<&str> = report
        .outcomes
        .iter()
        .map(|o| o.provider.as_str())
        .collect();
    assert_eq!(names, ["first", "second"], "config order");
    assert!(report.found());
    let users: Vec<&str> = report
        .credentials
        .iter()
        .map(|c| c.username.as_str())
        .collect();
    assert_eq!(users, ["user1", "user2"]);
    assert!(report.credentials.iter().all(|c| c.source.is_none()));
    let origins: Vec<(&str, Option<&str>, &str, &str)> = report
        .credentials_with_providers()
        .map(|(c, provider)| (c.username.as_str(), provider, &*c.key, &*c.location))
        .collect();
    assert_eq!(
        origins,
        [
            (
                "user1",
                Some("first"),
                "test.registry.io",
                "test.registry.io"
            ),
            (
                "user2",
                Some("second"),
                "test.registry.io",
                "test.registry.io"
            ),
        ]
    );

    // "provider with empty config": a plugin answering no auth gives nothing.
    write_config(
        &cfg,
        json!([provider_json(
            "first",
            &["*.registry.io"],
            &args(&["--cache-duration", "0s"])
        )]),
    );
    let host = Host::load(&cfg, bin.path(), options()).unwrap();
    let report = host
        .credentials("test.registry.io/image:tag", &PodContext::default())
        .await
        .unwrap();
    assert!(!report.found());
    assert_eq!(report.outcomes.len(), 1);

    // "single provider with service account coordinates": SA mode with the pod's SA.
    let mut sa_provider = provider_json(
        "first",
        &["*.registry.io"],
        &args(&["--auth", &auth("user1", "pass1")]),
    );
    sa_provider["tokenAttributes"] = json!({
        "serviceAccountTokenAudience": "aud",
        "cacheType": "ServiceAccount",
        "requireServiceAccount": true,
    });
    write_config(&cfg, json!([sa_provider]));
    let opts = HostOptions {
        token_source: Arc::new(StaticTokenSource::new("sa-token")),
        ..options()
    };
    let host = Host::load(&cfg, bin.path(), opts).unwrap();
    let pod =
        PodContext::new("test-namespace", "pod", "pod-uid").with_service_account(ServiceAccount {
            name: "test-sa".into(),
            uid: "test-uid".into(),
            ..Default::default()
        });
    let report = host
        .credentials("test.registry.io/image:tag", &pod)
        .await
        .unwrap();
    assert_eq!(report.credentials.len(), 1);
    let source = report.credentials[0].source.clone().expect("SA source");
    assert_eq!(
        (
            source.namespace.as_str(),
            source.name.as_str(),
            source.uid.as_str()
        ),
        ("test-namespace", "test-sa", "test-uid")
    );
}

/// `TestExternalCredentialProviderKeyringLookupConcurrency`: 10 tasks x 5 lookups, every
/// lookup asks the provider (50 provide calls) and finds the one credential.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_keyring_concurrency_row() {
    let row = keyring_rows("external_keyring")
        .into_iter()
        .find(|r| r.get("expected").is_some())
        .unwrap();
    let bin = BinDir::new(&["p"]);
    let host = load_host(
        &bin,
        json!([provider_json(
            "p",
            &["test.registry.io"],
            &args(&["--auth", "test.registry.io=u:p"])
        )]),
    );
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let host = host.clone();
        let image = row["image"].as_str().unwrap().to_owned();
        tasks.push(tokio::spawn(async move {
            let mut provides = 0;
            for _ in 0..5 {
                let r = host
                    .credentials(&image, &PodContext::default())
                    .await
                    .unwrap();
                assert_eq!(r.credentials.len(), 1);
                provides += r.outcomes.len();
            }
            provides
        }));
    }
    let mut calls = 0;
    for t in tasks {
        calls += t.await.unwrap();
    }
    assert_eq!(
        calls as u64,
        row["expected"]["providerCalls"].as_u64().unwrap()
    );
}

/// `TestProvidersDockerKeyring`: every lookup calls provide again (no keyring-level cache).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_call_count_row() {
    let rows = keyring_rows("provider_call_count");
    assert_eq!(rows.len(), 1);
    let want: Vec<u64> = rows[0]["expected"]["provideCallsAfterLookups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let bin = BinDir::new(&["p"]);
    let count = bin.file("count");
    let host = load_host(
        &bin,
        json!([provider_json(
            "p",
            &["docker.io"],
            &args(&[
                "--count-file",
                count.to_str().unwrap(),
                "--cache-duration",
                "0s"
            ])
        )]),
    );
    for n in want {
        host.credentials(rows[0]["image"].as_str().unwrap(), &PodContext::default())
            .await
            .unwrap();
        assert_eq!(count_lines(&count) as u64, n);
    }
}

/// `external_keyring_construction`: pod data reaches providers only with the gate on,
/// providers keep config order, a repeated name is fatal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_keyring_construction_row() {
    assert_eq!(keyring_rows("external_keyring_construction").len(), 1);
    let bin = BinDir::new(&["b", "a"]);
    let cfg = bin.file("config.json");
    let request = bin.file("request");
    write_config(
        &cfg,
        json!([
            provider_json(
                "b",
                &["*.io"],
                &args(&["--print-request", request.to_str().unwrap()])
            ),
            provider_json("a", &["*.io"], &[]),
        ]),
    );
    let host = Host::load(&cfg, bin.path(), options()).unwrap();
    let names: Vec<String> = host
        .providers()
        .providers
        .iter()
        .map(|p| p.name().to_owned())
        .collect();
    assert_eq!(names, ["b", "a"], "config order, not name order");

    // Gate off: tokenAttributes are refused; and pods reach providers empty.
    let mut sa = provider_json("b", &["*.io"], &[]);
    sa["tokenAttributes"] = json!({"serviceAccountTokenAudience": "aud", "cacheType": "Token", "requireServiceAccount": false});
    write_config(&cfg, json!([sa]));
    let mut gate_off = options();
    gate_off
        .feature_gates
        .service_account_token_for_credential_providers = false;
    let err = Host::load(&cfg, bin.path(), gate_off.clone())
        .unwrap_err()
        .to_string();
    assert!(err.contains("tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"), "{err}");

    // Gate on: the SA token reaches the plugin; gate off (no tokenAttributes): nothing does.
    let opts = HostOptions {
        token_source: Arc::new(StaticTokenSource::new("tok")),
        ..options()
    };
    let host = Host::load(&cfg, bin.path(), opts).unwrap();
    let pod = PodContext::new("ns", "pod", "uid").with_service_account(ServiceAccount {
        name: "sa".into(),
        ..Default::default()
    });
    let report = host.credentials("a.io/x", &pod).await.unwrap();
    assert!(
        report.outcomes[0].error().is_none(),
        "{:?}",
        report.outcomes[0].error()
    );

    write_config(
        &cfg,
        json!([provider_json(
            "b",
            &["*.io"],
            &args(&["--print-request", request.to_str().unwrap()])
        )]),
    );
    let host = Host::load(&cfg, bin.path(), gate_off).unwrap();
    host.credentials("a.io/x", &pod).await.unwrap();
    let sent: Value = serde_json::from_slice(&std::fs::read(&request).unwrap()).unwrap();
    assert!(sent.get("serviceAccountToken").is_none());

    // Duplicate names are fatal at read time.
    write_config(
        &cfg,
        json!([
            provider_json("a", &["*.io"], &[]),
            provider_json("a", &["*.io"], &[])
        ]),
    );
    let err = Host::load(&cfg, bin.path(), options())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "duplicate provider name \"a\" found in configuration file(s)"
    );
}

#[test]
fn registration_errors_read_like_the_kubelet() {
    let bin = BinDir::new(&["p"]);
    let cfg = bin.file("config.json");
    write_config(&cfg, json!([provider_json("missing", &["*.io"], &[])]));
    let err = Host::load(&cfg, bin.path(), options()).unwrap_err();
    assert!(matches!(err, HostError::Registration(_)));
    let text = err.to_string();
    assert!(
        text.starts_with("plugin binary executable  did not exist\n"),
        "{text}"
    );
    assert!(text.contains(&*bin.plugin("missing").to_string_lossy()));

    let missing_dir = bin.file("nodir");
    let err = Host::load(&cfg, &missing_dir, options())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "plugin binary directory {} did not exist",
            missing_dir.display()
        )
    );
    let err = Host::load("", bin.path(), options())
        .unwrap_err()
        .to_string();
    assert_eq!(err, "credential provider config path is empty");

    write_config(&cfg, json!([provider_json("p", &[], &[])]));
    let err = Host::load(&cfg, bin.path(), options())
        .unwrap_err()
        .to_string();
    assert_eq!(err, "failed to validate credential provider config: providers.matchImages: Required value: at least 1 item in matchImages is required");

    write_config(&cfg, json!([provider_json("p", &["*.io"], &[])]));
    let host = Host::load(&cfg, bin.path(), options()).unwrap();
    let err = futures_block(host.credentials("UPPER/Case", &PodContext::default()));
    assert!(matches!(err, Err(HostError::InvalidImage { .. })));
}

fn futures_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// kcred's registry coalescing: 200 simultaneous calls for different images of one registry
/// exec once when the plugin answers `Registry`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_images_of_one_registry_exec_once() {
    let bin = BinDir::new(&["p"]);
    let count = bin.file("count");
    let host = load_host(
        &bin,
        json!([counted_provider(
            &count,
            &["--sleep-ms", "200", "--cache-key-type", "Registry"]
        )]),
    );
    let images = (0..200).map(|i| format!("r.io/team/image-{i}:v1"));
    for report in credentials_concurrently(&host, images).await {
        assert_eq!(report.credentials.len(), 1, "{}", report.outcomes[0].trace);
    }
    assert_eq!(count_lines(&count), 1);
    let (hits, misses) = host.metrics().cache_counts("p");
    assert_eq!((hits, misses), (199, 1));
}

/// After an `Image` answer the registry is not serialized: each image execs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_scoped_answers_are_not_coalesced() {
    let bin = BinDir::new(&["p"]);
    let count = bin.file("count");
    let host = load_host(
        &bin,
        json!([counted_provider(&count, &["--cache-key-type", "Image"])]),
    );
    host.credentials("r.io/first", &PodContext::default())
        .await
        .unwrap();
    let images = (0..8).map(|i| format!("r.io/image-{i}"));
    for report in credentials_concurrently(&host, images).await {
        assert!(!report.outcomes[0].trace.waited_for_registry);
        assert!(report.found());
    }
    assert_eq!(count_lines(&count), 9);
}

/// With coalescing off, the kubelet's behaviour: concurrent different images each exec.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubelet_mode_execs_per_image() {
    let bin = BinDir::new(&["p"]);
    let count = bin.file("count");
    let host = load_host_with(
        &bin,
        json!([counted_provider(&count, &["--sleep-ms", "200"])]),
        HostOptions {
            coalesce_registries: false,
            ..options()
        },
    );
    let images = (0..5).map(|i| format!("r.io/i{i}"));
    for report in credentials_concurrently(&host, images).await {
        assert!(report.found());
    }
    assert_eq!(count_lines(&count), 5);
}

/// A plugin echoing the SA token is refused unless cacheType is Token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoed_token_needs_token_cache_type() {
    let bin = BinDir::new(&["p"]);
    let cfg = bin.file("config.json");
    let pod = PodContext::new("ns", "pod", "uid").with_service_account(ServiceAccount {
        name: "sa".into(),
        uid: "sa-uid".into(),
        ..Default::default()
    });
    for (cache_type, refused) in [("ServiceAccount", true), ("Token", false)] {
        let mut p = provider_json(
            "p",
            &["r.io"],
            &args(&["--mode", "echo-token", "--auth", "r.io=user:ignored"]),
        );
        p["tokenAttributes"] = json!({"serviceAccountTokenAudience": "aud", "cacheType": cache_type, "requireServiceAccount": true});
        write_config(&cfg, json!([p]));
        let opts = HostOptions {
            token_source: Arc::new(StaticTokenSource::new("the-token")),
            ..options()
        };
        let host = Host::load(&cfg, bin.path(), opts).unwrap();
        let report = host.credentials("r.io/app", &pod).await.unwrap();
        let provider = host.providers().providers[0].clone();
        if refused {
            assert!(!report.found());
            assert_eq!(
                report.outcomes[0].error().map(ToString::to_string).as_deref(),
                Some("Credential provider plugin returned the service account token as the password for image \"r.io/app\", which is not allowed when service account cache type is not set to 'Token'")
            );
            assert!(provider.cache().is_empty());
        } else {
            assert_eq!(report.credentials[0].password.expose(), "the-token");
            assert_eq!(provider.cache().len(), 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_text_has_every_family() {
    let bin = BinDir::new(&["p", "bad"]);
    let host = load_host(
        &bin,
        json!([
            provider_json("p", &["r.io"], &args(&["--auth", "r.io=u:p"])),
            provider_json("bad", &["r.io"], &args(&["--mode", "fail"])),
        ]),
    );
    host.credentials("r.io/a", &PodContext::default())
        .await
        .unwrap();
    host.credentials("r.io/a", &PodContext::default())
        .await
        .unwrap();
    let text = host.gather_metrics();
    for needle in [
        "kubelet_credential_provider_plugin_duration_bucket{plugin_name=\"p\",le=\"0.005\"}",
        "kubelet_credential_provider_plugin_duration_count{plugin_name=\"p\"} 1",
        "kubelet_credential_provider_plugin_errors_total{plugin_name=\"bad\"} 2",
        &format!(
            "kubelet_credential_provider_config_info{{hash=\"{}\"}} 1",
            host.config_hash()
        ),
        "kcred_credential_provider_cache_hits_total{plugin_name=\"p\"} 1",
        "kcred_credential_provider_cache_misses_total{plugin_name=\"p\"} 1",
    ] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
    assert!(host.config_hash().starts_with("sha256:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_applies_good_changes_and_rejects_bad_ones() {
    let bin = BinDir::new(&["keep", "other"]);
    let dir = bin.file("conf.d");
    std::fs::create_dir(&dir).unwrap();
    let cfg = dir.join("10-providers.yaml");
    write_config(
        &cfg,
        json!([provider_json(
            "keep",
            &["r.io"],
            &args(&["--auth", "r.io=u:p"])
        )]),
    );
    let host = Host::load(&dir, bin.path(), options()).unwrap();
    let mut events = host.reload_events();
    let watcher = host.watch_config(Duration::from_millis(50));
    host.credentials("r.io/a", &PodContext::default())
        .await
        .unwrap();
    let kept = host.providers().providers[0].clone();
    assert_eq!(kept.cache().len(), 1);
    let first_hash = host.config_hash();

    // A good change: add a provider; the unchanged one keeps its cache.
    write_config(
        &cfg,
        json!([
            provider_json("keep", &["r.io"], &args(&["--auth", "r.io=u:p"])),
            provider_json("other", &["o.io"], &[]),
        ]),
    );
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    let ReloadEvent::Applied { hash } = event else {
        panic!("{event:?}")
    };
    assert_ne!(hash, first_hash);
    assert_eq!(host.config_hash(), hash);
    let set = host.providers();
    assert_eq!(set.providers.len(), 2);
    assert!(
        Arc::ptr_eq(&set.providers[0], &kept),
        "unchanged provider (and cache) kept"
    );
    assert!(host.gather_metrics().contains(&hash));

    // A bad change: rejected once, old set kept.
    std::fs::write(
        dir.join("20-broken.json"),
        "{\"kind\": \"CredentialProviderConfig\"",
    )
    .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    let ReloadEvent::Rejected { reason } = event else {
        panic!("{event:?}")
    };
    assert!(reason.starts_with("error decoding config"), "{reason}");
    assert_eq!(host.config_hash(), hash);
    assert_eq!(host.providers().providers.len(), 2);
    // Nothing changes, so no further events.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), events.recv())
            .await
            .is_err()
    );
    watcher.abort();
}

/// A zero poll interval (e.g. from a flag) must not panic the watcher (tokio's `interval`
/// panics on zero, which aborts a `panic = "abort"` build); it polls as often as it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_config_with_a_zero_interval_still_watches() {
    let bin = BinDir::new(&["keep", "other"]);
    let cfg = bin.file("config.json");
    write_config(&cfg, json!([provider_json("keep", &["r.io"], &[])]));
    let host = Host::load(&cfg, bin.path(), options()).unwrap();
    let mut events = host.reload_events();
    let watcher = host.watch_config(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!watcher.is_finished(), "the watcher ended early");
    write_config(
        &cfg,
        json!([
            provider_json("keep", &["r.io"], &[]),
            provider_json("other", &["o.io"], &[]),
        ]),
    );
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("a reload event")
        .unwrap();
    assert!(matches!(event, ReloadEvent::Applied { .. }), "{event:?}");
    assert_eq!(host.providers().providers.len(), 2);
    watcher.abort();
}

/// The trace tells a human what happened at each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_explains_each_step() {
    let bin = BinDir::new(&["p", "nomatch", "bad"]);
    let host = load_host(
        &bin,
        json!([
            provider_json(
                "p",
                &["r.io"],
                &args(&["--auth", "r.io=u:secret-pass", "--cache-duration", "1m"])
            ),
            provider_json("nomatch", &["other.io", "r.io:5000"], &[]),
            provider_json(
                "bad",
                &["r.io"],
                &args(&["--mode", "fail", "--stderr", "boom"])
            ),
        ]),
    );
    let first = host
        .credentials("r.io/app", &PodContext::default())
        .await
        .unwrap();
    let t = first.outcomes[0].trace.to_string();
    for line in [
        "match: \"r.io\" matches \"r.io/app\"",
        "cache: miss",
        "exec: plugin ran for ",
        "cacheKeyType: Registry",
        "cacheDuration: 1m0s",
        "cached: under the Registry key for 1m0s",
        "auth keys: r.io",
    ] {
        assert!(t.contains(line), "{line:?} missing in\n{t}");
    }
    assert!(!t.contains("secret-pass"));
    let t = first.outcomes[1].trace.to_string();
    assert!(
        t.contains("match: no matchImages entry matches \"r.io/app\""),
        "{t}"
    );
    assert_eq!(t.lines().filter(|l| l.starts_with("  ")).count(), 2, "{t}");
    let t = first.outcomes[2].trace.to_string();
    assert!(t.contains("error: error execing credential provider plugin bad for image r.io/app: exit status 1: boom"), "{t}");

    let second = host
        .credentials("r.io/app", &PodContext::default())
        .await
        .unwrap();
    let t = second.outcomes[0].trace.to_string();
    assert!(t.contains("cache: hit (Registry key, expires in "), "{t}");
    assert!(!t.contains("exec:"), "{t}");
}

/// Credentials name their provider even when providers before them failed or did not match,
/// and a response that fails the strict decode keeps the decoder's cause (without the
/// secret) next to the kubelet's message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_name_their_provider_and_decode_failures_keep_their_cause() {
    const SECRET: &str = "do-not-print-me";
    let bin = BinDir::new(&["undecodable", "crashing", "unmatched", "good"]);
    let response = format!(
        r#"{{"kind":"CredentialProviderResponse","apiVersion":"{V1}","cacheKeyType":"Registry","auth":{{"r.io":{{"username":"u","password":"{SECRET}","extra":1}}}}}}"#
    );
    let host = load_host(
        &bin,
        json!([
            provider_json("undecodable", &["r.io"], &args(&["--response", &response])),
            provider_json("crashing", &["r.io"], &args(&["--mode", "fail"])),
            provider_json("unmatched", &["quay.io"], &args(&["--auth", "r.io=x:y"])),
            provider_json(
                "good",
                &["r.io"],
                &args(&["--auth", "https://r.io/v2/=alice:pw"])
            ),
        ]),
    );
    let report = host
        .credentials("r.io/app:v1", &PodContext::default())
        .await
        .unwrap();

    let undecodable = &report.outcomes[0];
    assert_eq!(
        undecodable.error().map(ToString::to_string).as_deref(),
        Some("error decoding credential provider plugin response from stdout")
    );
    assert_eq!(
        undecodable.error_detail(),
        Some("strict decoding error: unknown field \"auth.r.io.extra\"")
    );
    assert!(!format!("{undecodable:?}").contains(SECRET));
    let crashing = &report.outcomes[1];
    assert!(crashing.error().is_some());
    assert_eq!(crashing.error_detail(), None, "its message is complete");
    for ok in &report.outcomes[2..] {
        assert_eq!((ok.error(), ok.error_detail()), (None, None));
    }

    let found: Vec<_> = report
        .credentials_with_providers()
        .map(|(c, provider)| {
            (
                c.username.as_str(),
                provider,
                &*c.key,
                &*c.location,
                c.config_index,
                c.docker_hub_fallback,
            )
        })
        .collect();
    assert_eq!(
        found,
        [("alice", Some("good"), "r.io", "https://r.io/v2/", 3, false)]
    );
    let good = report
        .provider_of(&report.credentials[0])
        .expect("provider");
    assert_eq!(good.provider, "good");
}
