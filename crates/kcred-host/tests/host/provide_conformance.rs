//! response_cases.json rows that need a plugin, run against the real `kcred-test-plugin`:
//! `provide`, `provide_concurrent`, `singleflight`, `cache_key_generation`,
//! `encode_request`, `decode_response`, `exec`.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::*;
use kcred_api::config::CredentialProvider;
use kcred_api::{GoDuration, Secret};
use kcred_host::provider::ProviderContext;
use kcred_host::service_account::{TokenError, TokenFuture, TokenRequest};
use kcred_host::{PodContext, ServiceAccount, ServiceAccountTokenSource, StaticTokenSource};
use serde_json::{json, Value};

/// Token source of a row: a fixed token, an error, or a new token per call.
#[derive(Debug)]
enum RowTokens {
    Fixed(Secret),
    Fail(String),
    Fresh(AtomicUsize),
}

impl ServiceAccountTokenSource for RowTokens {
    fn token<'a>(&'a self, _request: &'a TokenRequest) -> TokenFuture<'a> {
        let result = match self {
            RowTokens::Fixed(t) => Ok(t.clone()),
            RowTokens::Fail(e) => Err(TokenError(e.clone())),
            RowTokens::Fresh(n) => Ok(Secret::new(format!(
                "token-{}",
                n.fetch_add(1, Ordering::SeqCst)
            ))),
        };
        Box::pin(async move { result })
    }
}

/// Everything a `provide`-style row sets up.
struct RowSetup {
    bin: BinDir,
    def: CredentialProvider,
    pod: PodContext,
    tokens: Arc<dyn ServiceAccountTokenSource>,
}

impl RowSetup {
    fn count_file(&self) -> std::path::PathBuf {
        self.bin.file("count")
    }
}

fn setup_row(row: &Value, extra_args: &[&str]) -> RowSetup {
    let setup = &row["setup"];
    let name = setup["name"].as_str().unwrap_or("test-plugin");
    let bin = BinDir::new(&[name]);
    let count = bin.file("count");
    let request = bin.file("request");
    let mut args: Vec<String> = vec![
        "--count-file".into(),
        count.to_string_lossy().into_owned(),
        "--print-request".into(),
        request.to_string_lossy().into_owned(),
    ];
    if !row["response"].is_null() {
        args.push("--response".into());
        args.push(response_text(&row["response"]));
    }
    if let Some(code) = setup["pluginExit"].as_i64() {
        args.extend([
            "--mode".into(),
            "fail".into(),
            "--exit".into(),
            code.to_string(),
        ]);
    }
    if let Some(text) = setup["pluginStderr"].as_str() {
        args.extend(["--stderr".into(), text.to_owned()]);
    }
    args.extend(extra_args.iter().map(|s| s.to_string()));
    let match_images: Vec<&str> = setup["matchImages"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap()).collect())
        .unwrap_or_else(|| vec!["*.io", "*.*.io", "*.*.*.io"]);
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut def = provider(name, &match_images, &args_ref);
    if let Some(v) = setup["apiVersion"].as_str() {
        def.api_version = v.to_owned();
    }
    if let Some(d) = setup["defaultCacheDuration"].as_str() {
        def.default_cache_duration = Some(GoDuration::parse(d).unwrap());
    }

    let sap = &setup["serviceAccountProvider"];
    let mut tokens: Arc<dyn ServiceAccountTokenSource> =
        Arc::new(RowTokens::Fixed(Secret::new("")));
    let mut sa_uid = String::new();
    let mut sa_annotations = BTreeMap::new();
    if sap.is_object() {
        let keys = |f: &str| -> Vec<String> {
            sap[f]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        let required = keys("requiredServiceAccountAnnotationKeys");
        let optional = keys("optionalServiceAccountAnnotationKeys");
        let req: Vec<&str> = required.iter().map(String::as_str).collect();
        let opt: Vec<&str> = optional.iter().map(String::as_str).collect();
        let mut attrs = token_attributes(
            sap["cacheType"].as_str().unwrap_or(""),
            sap["requireServiceAccount"].as_bool().unwrap_or(false),
            &req,
            &opt,
        );
        if let Some(a) = sap["audience"].as_str() {
            attrs.service_account_token_audience = a.to_owned();
        }
        def.token_attributes = Some(attrs);
        let token = setup["token"]
            .as_str()
            .or(sap["token"].as_str())
            .unwrap_or("");
        tokens = Arc::new(RowTokens::Fixed(Secret::new(token)));
        if let Some(err) = setup["tokenRequest"].as_str() {
            tokens = Arc::new(RowTokens::Fail(
                err.strip_prefix("error: ").unwrap_or(err).to_owned(),
            ));
        }
        sa_uid = sap["serviceAccountUID"].as_str().unwrap_or("").to_owned();
        sa_annotations = string_map(&sap["serviceAccountAnnotations"]);
    }
    let sa_name = setup["serviceAccountName"].as_str().unwrap_or("");
    let mut pod = PodContext::new(
        setup["podNamespace"].as_str().unwrap_or(""),
        setup["podName"].as_str().unwrap_or(""),
        setup["podUID"].as_str().unwrap_or(""),
    );
    if !sa_name.is_empty() {
        let sa = &setup["serviceAccount"];
        pod = pod.with_service_account(ServiceAccount {
            name: sa_name.to_owned(),
            uid: sa["uid"].as_str().map_or(sa_uid, str::to_owned),
            annotations: if sa.is_object() {
                string_map(&sa["annotations"])
            } else {
                sa_annotations
            },
        });
    }
    RowSetup {
        bin,
        def,
        pod,
        tokens,
    }
}

fn row_context(
    tokens: Arc<dyn ServiceAccountTokenSource>,
) -> (ProviderContext, Arc<kcred_host::HostMetrics>) {
    let (mut ctx, metrics) = context();
    ctx.token_source = tokens;
    (ctx, metrics)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provide_rows() {
    let rows = response_rows("provide");
    assert_eq!(rows.len(), 14);
    for row in rows {
        let what = row["description"].as_str().unwrap();
        let s = setup_row(&row, &[]);
        let (ctx, _metrics) = row_context(s.tokens.clone());
        let p = plugin_provider(&s.bin, s.def.clone(), ctx);
        let image = row["image"].as_str().unwrap();
        let out = p.provide(image, &s.pod).await;
        let expected = &row["expected"];

        assert_eq!(
            docker_config_json(out.docker_config()),
            expected["dockerConfig"],
            "{what}: {:?}",
            out.error()
        );
        if let Some(coords) = expected.get("serviceAccountCoordinates") {
            let got = out
                .service_account()
                .map(|c| json!({"namespace": c.namespace, "name": c.name, "uid": c.uid}))
                .unwrap_or(Value::Null);
            assert_eq!(&got, coords, "{what}");
        }
        if let Some(cached) = expected["cached"].as_bool() {
            assert_eq!(!p.cache().is_empty(), cached, "{what}");
        }
        if let Some(keys) = expected["cacheKeys"].as_array() {
            assert_eq!(p.cache().len(), keys.len(), "{what}");
        }
        if let Some(invoked) = expected["pluginInvoked"].as_bool() {
            assert_eq!(count_lines(&s.count_file()) == 1, invoked, "{what}");
            assert!(count_lines(&s.count_file()) <= 1, "{what}");
        } else if !expected["dockerConfig"].as_object().unwrap().is_empty() {
            assert_eq!(count_lines(&s.count_file()), 1, "{what}");
        }
        if let Some(log) = expected["log_contains"].as_str() {
            let err = out.error().map(ToString::to_string).unwrap_or_default();
            assert!(err.contains(log), "{what}: {err:?} lacks {log:?}");
            assert!(p.cache().is_empty(), "{what}: nothing is cached on error");
        }
        if let Some(req) = row.get("expected_request") {
            let sent: Value =
                serde_json::from_slice(&std::fs::read(s.bin.file("request")).unwrap()).unwrap();
            assert_eq!(&sent, req, "{what}");
        }
        if expected["dockerConfig"].as_object().unwrap().is_empty()
            && expected.get("log_contains").is_none()
        {
            // Empty without an error: only "image not matched".
            assert!(out.error().is_none(), "{what}: {:?}", out.error());
        }
    }
}

/// `Test_ProvideParallel`: 4 registries x 5 concurrent calls with random image paths.
/// Every call gets the config; with kcred's registry coalescing each registry execs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provide_concurrent_row() {
    let rows = response_rows("provide_concurrent");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let s = setup_row(row, &["--sleep-ms", "100"]);
    let (ctx, _m) = row_context(s.tokens.clone());
    let p = Arc::new(plugin_provider(&s.bin, s.def.clone(), ctx));
    let mut tasks = Vec::new();
    for r in 1..=4 {
        for i in 0..5 {
            let p = p.clone();
            let pod = s.pod.clone();
            tasks.push(tokio::spawn(async move {
                p.provide(&format!("test{r}.registry.io/img{i}x{r}"), &pod)
                    .await
            }));
        }
    }
    for t in tasks {
        let out = t.await.unwrap();
        assert_eq!(
            docker_config_json(out.docker_config()),
            row["expected"]["dockerConfig"]
        );
    }
    assert_eq!(count_lines(&s.count_file()), 4, "one exec per registry");
}

/// `TestSingleflightProvide`: 5 concurrent calls for one image; (a) no SA: 1 exec;
/// (b) SA with an empty token: 1 exec; (c) a different token per call: 5 execs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn singleflight_row() {
    let rows = response_rows("singleflight");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let want: Vec<usize> = row["expected"]["execCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let image = row["image"].as_str().unwrap();
    for (phase, want_execs) in want.into_iter().enumerate() {
        // The upstream fake sleeps 1s; 300ms is enough to overlap 5 calls.
        let mut s = setup_row(row, &["--sleep-ms", "300"]);
        if phase > 0 {
            s.def.token_attributes = Some(token_attributes("ServiceAccount", false, &[], &[]));
            s.tokens = if phase == 1 {
                Arc::new(StaticTokenSource::new(""))
            } else {
                Arc::new(RowTokens::Fresh(AtomicUsize::new(0)))
            };
        }
        let (ctx, _m) = row_context(s.tokens.clone());
        let p = Arc::new(plugin_provider(&s.bin, s.def.clone(), ctx));
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let p = p.clone();
            let pod = s.pod.clone();
            let image = image.to_owned();
            tasks.push(tokio::spawn(async move { p.provide(&image, &pod).await }));
        }
        for t in tasks {
            let out = t.await.unwrap();
            assert!(out.error().is_none(), "{:?}", out.error());
            assert_eq!(out.docker_config().len(), 1);
        }
        assert_eq!(count_lines(&s.count_file()), want_execs, "phase {phase}");
    }
}

/// `Test_CacheKeyGeneration`: the exact key stored, and the second call served from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_key_generation_rows() {
    let rows = response_rows("cache_key_generation");
    assert_eq!(rows.len(), 9);
    for row in rows {
        let what = row["description"].as_str().unwrap();
        let s = setup_row(&row, &[]);
        let (ctx, _m) = row_context(s.tokens.clone());
        let p = plugin_provider(&s.bin, s.def.clone(), ctx);
        let image = row["image"].as_str().unwrap();
        let first = p.provide(image, &s.pod).await;
        assert!(first.error().is_none(), "{what}: {:?}", first.error());
        assert_eq!(
            docker_config_json(first.docker_config()),
            row["expected"]["dockerConfig"],
            "{what}"
        );
        let keys: Vec<String> = p
            .cache()
            .keys()
            .iter()
            .map(|k| hex::encode(k.as_bytes()))
            .collect();
        let want: Vec<String> = row["expected"]["cacheKeys_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys, want, "{what}");
        for (k, esc) in p
            .cache()
            .keys()
            .iter()
            .zip(row["expected"]["cacheKeys_go_escaped"].as_array().unwrap())
        {
            assert_eq!(k.as_bytes(), go_unescape(esc.as_str().unwrap()), "{what}");
        }
        let second = p.provide(image, &s.pod).await;
        assert_eq!(
            docker_config_json(second.docker_config()),
            row["expected"]["dockerConfig"]
        );
        let served = row["expected"]["secondCallServedFromCache"]
            .as_bool()
            .unwrap();
        assert_eq!(count_lines(&s.count_file()) == 1, served, "{what}");
        assert!(
            matches!(
                second.trace.cache,
                kcred_host::trace::CacheTrace::Hit { .. }
            ) == served
        );
    }
}

/// `Test_encodeRequest`: the exact bytes the plugin receives on stdin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encode_request_rows() {
    let rows = response_rows("encode_request");
    assert_eq!(rows.len(), 4);
    for row in rows {
        let input = &row["input"];
        let bin = BinDir::new(&["p"]);
        let request = bin.file("request");
        let mut def = provider(
            "p",
            &["*.registry.io"],
            &["--print-request", request.to_str().unwrap()],
        );
        def.api_version = input["apiVersion"].as_str().unwrap().to_owned();
        let token = input["serviceAccountToken"].as_str().unwrap_or("");
        let (mut ctx, _m) = context();
        let mut pod = PodContext::new("ns", "pod", "pod-uid");
        if !token.is_empty() {
            let annotations = string_map(&input["serviceAccountAnnotations"]);
            let keys: Vec<&str> = annotations.keys().map(String::as_str).collect();
            def.token_attributes = Some(token_attributes("Token", true, &keys, &[]));
            ctx.token_source = Arc::new(StaticTokenSource::new(token));
            pod = pod.with_service_account(ServiceAccount {
                name: "sa".into(),
                uid: "sa-uid".into(),
                annotations,
            });
        }
        let p = plugin_provider(&bin, def, ctx);
        let out = p.provide(row["image"].as_str().unwrap(), &pod).await;
        assert!(out.error().is_none(), "{:?}", out.error());
        let sent = String::from_utf8(std::fs::read(&request).unwrap()).unwrap();
        assert_eq!(
            sent,
            row["expected"]["stdin_bytes"].as_str().unwrap(),
            "{}",
            row["description"]
        );
    }
}

/// `Test_decodeResponse`, through a real exec: the provider is configured with the
/// response's version (v1beta1 for the wrong-group row, so the GVK check refuses it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_response_rows() {
    let rows = response_rows("decode_response");
    assert_eq!(rows.len(), 5);
    for row in rows {
        let what = row["description"].as_str().unwrap();
        let text = response_text(&row["response"]);
        let v: Value = serde_json::from_str(&text).unwrap();
        let version = v["apiVersion"].as_str().unwrap();
        let bin = BinDir::new(&["p"]);
        let mut def = provider("p", &["*.registry.io"], &["--response", &text]);
        def.api_version = if version.starts_with("credentialprovider.kubelet.k8s.io/") {
            version.to_owned()
        } else {
            "credentialprovider.kubelet.k8s.io/v1beta1".to_owned()
        };
        let (ctx, metrics) = context();
        let p = plugin_provider(&bin, def, ctx);
        let out = p.provide("a.registry.io/x", &PodContext::default()).await;
        let expected = &row["expected"];
        if expected["error"] == true {
            assert!(out.error().is_some(), "{what}");
            assert!(out.docker_config().is_empty());
            assert_eq!(
                metrics.plugin_errors("p"),
                0,
                "decode errors are not exec errors"
            );
        } else {
            let d = &expected["decoded"];
            assert!(out.error().is_none(), "{what}: {:?}", out.error());
            assert_eq!(docker_config_json(out.docker_config()), d["auth"], "{what}");
            assert_eq!(
                out.trace.cache_key_type.as_deref(),
                d["cacheKeyType"].as_str()
            );
            let secs = d["cacheDuration_seconds"].as_i64().unwrap();
            assert_eq!(
                out.trace.cache_duration,
                Some(GoDuration(secs * 1_000_000_000).to_string())
            );
        }
    }
}

/// Derived exec-level rows: error texts, metrics, nothing cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_rows() {
    let rows = response_rows("exec");
    assert_eq!(rows.len(), 4);
    for row in rows {
        let what = row["description"].as_str().unwrap();
        let s = setup_row(&row, &[]);
        let name = s.def.name.clone();
        let (ctx, metrics) = row_context(s.tokens.clone());
        let p = plugin_provider(&s.bin, s.def.clone(), ctx);
        let out = p.provide(row["image"].as_str().unwrap(), &s.pod).await;
        let expected = &row["expected"];
        assert_eq!(
            docker_config_json(out.docker_config()),
            expected["dockerConfig"],
            "{what}"
        );
        let err = out.error().map(ToString::to_string).unwrap_or_default();
        if let Some(e) = expected["error"].as_str() {
            assert_eq!(err, e, "{what}");
        }
        if let Some(log) = expected["log"].as_str() {
            assert_eq!(err, log, "{what}");
        }
        if let Some(inc) = expected["errorsMetricIncremented"].as_bool() {
            assert_eq!(metrics.plugin_errors(&name) == 1, inc, "{what}");
        }
        if expected["durationObserved"] == true {
            assert_eq!(metrics.plugin_duration_count(&name), 1, "{what}");
        }
        assert!(p.cache().is_empty(), "{what}: nothing cached");
    }
}
