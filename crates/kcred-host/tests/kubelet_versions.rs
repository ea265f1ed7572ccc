//! `HostOptions::kubelet_version`: provider order, global cache key, echoed-token check,
//! metric names, Go URL parsing and config types follow the kubelet version table.
#![cfg(unix)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use kcred_config::FeatureGates;
use kcred_host::cache::ServiceAccountCacheKey;
use kcred_host::{
    CacheKey, Host, HostError, HostMetrics, HostOptions, PodContext, ServiceAccount,
    StaticTokenSource,
};
use kcred_kubelet::KubeletVersion;
use serde_json::{json, Value};

fn v(s: &str) -> KubeletVersion {
    KubeletVersion::parse(s).expect("known version")
}

fn options(kubelet: &str) -> HostOptions {
    HostOptions {
        exec_timeout: Duration::from_secs(10),
        coalesce_registries: false,
        ..HostOptions::for_kubelet(v(kubelet))
    }
}

fn provider(name: &str, patterns: &[&str], args: &[&str]) -> Value {
    json!({
        "name": name,
        "matchImages": patterns,
        "defaultCacheDuration": "1m",
        "apiVersion": V1,
        "args": args,
    })
}

fn load(bin: &BinDir, providers: Value, opts: HostOptions) -> Result<Host, HostError> {
    let cfg = bin.file("config.json");
    let doc = json!({
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": providers,
    });
    std::fs::write(&cfg, doc.to_string()).expect("write config");
    Host::load(&cfg, bin.path(), opts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_are_asked_sorted_by_name_before_1_33() {
    let bin = BinDir::new(&["zeta", "alpha"]);
    let providers = json!([
        provider("zeta", &["r.io"], &["--auth", "r.io=z:z"]),
        provider("alpha", &["r.io"], &["--auth", "r.io=a:a"]),
    ]);
    for (kubelet, order) in [("1.32", ["alpha", "zeta"]), ("1.33", ["zeta", "alpha"])] {
        let host = load(&bin, providers.clone(), options(kubelet)).expect("loads");
        let report = host
            .credentials("r.io/app", &PodContext::default())
            .await
            .expect("lookup");
        let asked: Vec<&str> = report
            .outcomes
            .iter()
            .map(|o| o.provider.as_str())
            .collect();
        assert_eq!(asked, order, "kubelet {kubelet}");
        // Same key, so credentials come in provider order.
        assert_eq!(report.credentials[0].username, order[0][..1]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoed_token_is_refused_only_from_1_34() {
    let bin = BinDir::new(&["p"]);
    let pod = PodContext::new("ns", "pod", "uid").with_service_account(ServiceAccount {
        name: "sa".into(),
        uid: "sa-uid".into(),
        ..Default::default()
    });
    for (kubelet, cache_type, refused) in [
        ("1.33", None, false),
        ("1.34", Some("ServiceAccount"), true),
    ] {
        let mut p = provider(
            "p",
            &["r.io"],
            &["--mode", "echo-token", "--auth", "r.io=user:x"],
        );
        p["tokenAttributes"] =
            json!({"serviceAccountTokenAudience": "aud", "requireServiceAccount": true});
        if let Some(t) = cache_type {
            p["tokenAttributes"]["cacheType"] = json!(t);
        }
        let opts = HostOptions {
            token_source: Arc::new(StaticTokenSource::new("the-token")),
            // 1.33's gate is alpha and off by default: turn it on as an operator would.
            feature_gates: FeatureGates {
                service_account_token_for_credential_providers: true,
            },
            ..options(kubelet)
        };
        let host = load(&bin, json!([p]), opts).expect("loads");
        let report = host.credentials("r.io/app", &pod).await.expect("lookup");
        assert_eq!(report.found(), !refused, "kubelet {kubelet}: {report:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_responses_are_cached_under_the_versions_key() {
    let bin = BinDir::new(&["p"]);
    for (kubelet, key) in [("1.33", "global"), ("1.34", "<global>")] {
        let count = bin.file(&format!("count-{kubelet}"));
        let p = provider(
            "p",
            &["*.io"],
            &[
                "--count-file",
                count.to_str().expect("utf-8"),
                "--cache-key-type",
                "Global",
                "--auth",
                "*.io=u:p",
            ],
        );
        let host = load(&bin, json!([p]), options(kubelet)).expect("loads");
        for image in ["a.io/x", "b.io/y"] {
            let report = host
                .credentials(image, &PodContext::default())
                .await
                .expect("lookup");
            assert!(report.found(), "{kubelet} {image}");
        }
        assert_eq!(
            count_lines(&count),
            1,
            "the second image is a global cache hit"
        );
        let provider = host.providers().providers[0].clone();
        let stored = CacheKey::new(key, &ServiceAccountCacheKey::default()).expect("key");
        assert!(
            provider.cache().get(&stored).is_some(),
            "kubelet {kubelet} stores under {key:?}"
        );
    }
}

#[test]
fn metric_names_follow_the_version() {
    let old = HostMetrics::for_kubelet(v("1.33")).expect("metrics");
    old.inc_plugin_errors("p");
    old.set_config_hash("sha256:x");
    let text = old.gather_text();
    assert!(
        text.contains("kubelet_credential_provider_plugin_errors{plugin_name=\"p\"} 1"),
        "{text}"
    );
    assert!(
        !text.contains("errors_total") && !text.contains("config_info"),
        "{text}"
    );
    let new = HostMetrics::for_kubelet(v("1.34")).expect("metrics");
    new.inc_plugin_errors("p");
    new.set_config_hash("sha256:x");
    let text = new.gather_text();
    assert!(
        text.contains("kubelet_credential_provider_plugin_errors_total{plugin_name=\"p\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("kubelet_credential_provider_config_info{hash=\"sha256:x\"} 1"),
        "{text}"
    );
}

#[test]
fn patterns_and_configs_follow_the_version() {
    let bin = BinDir::new(&["p"]);
    let class = json!([provider("p", &["myacr.[a-z]cr"], &[])]);
    assert!(load(&bin, class.clone(), options("1.34.1")).is_ok());
    let err = load(&bin, class, options("1.37"))
        .expect_err("refused")
        .to_string();
    assert!(err.contains("invalid IP-literal"), "{err}");
    let mut token = provider("p", &["r.io"], &[]);
    token["tokenAttributes"] = json!({"serviceAccountTokenAudience": "a", "requireServiceAccount": true, "cacheType": "Token"});
    let err = load(&bin, json!([token]), options("1.32"))
        .expect_err("unknown field")
        .to_string();
    assert!(
        err.contains("unknown field \"providers[0].tokenAttributes\""),
        "{err}"
    );
}
