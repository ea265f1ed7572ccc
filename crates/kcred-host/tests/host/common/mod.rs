//! Shared helpers for kcred-host's integration tests: the real `kcred-test-plugin`,
//! provider definitions, conformance tables and Go-escaped key decoding.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kcred_api::config::{CredentialProvider, ServiceAccountTokenAttributes};
use kcred_api::GoDuration;
use kcred_host::provider::ProviderContext;
use kcred_host::{ExecLimits, HostMetrics, PluginProvider};
use serde_json::Value;

pub(crate) const V1: &str = "credentialprovider.kubelet.k8s.io/v1";

/// The built `kcred-test-plugin` binary.
pub(crate) fn plugin_bin() -> PathBuf {
    kcred_testutil::bin("kcred-test-plugin", "kcred-test-plugin")
}

/// A temporary bin dir holding the test plugin under `names`.
pub(crate) struct BinDir {
    pub dir: tempfile::TempDir,
}

impl BinDir {
    pub(crate) fn new(names: &[&str]) -> BinDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = plugin_bin();
        for name in names {
            std::os::unix::fs::symlink(&bin, dir.path().join(name)).expect("symlink plugin");
        }
        BinDir { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn plugin(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A file path inside the dir (for --count-file, --print-request ...).
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Lines appended to a `--count-file` (0 when it does not exist).
pub(crate) fn count_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// A provider definition.
pub(crate) fn provider(name: &str, match_images: &[&str], args: &[&str]) -> CredentialProvider {
    CredentialProvider {
        name: name.to_owned(),
        match_images: match_images.iter().map(|s| s.to_string()).collect(),
        default_cache_duration: Some(GoDuration(60_000_000_000)),
        api_version: V1.to_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        token_attributes: None,
    }
}

/// Token attributes for SA mode.
pub(crate) fn token_attributes(
    cache_type: &str,
    require: bool,
    required: &[&str],
    optional: &[&str],
) -> ServiceAccountTokenAttributes {
    ServiceAccountTokenAttributes {
        service_account_token_audience: "audience".to_owned(),
        cache_type: cache_type.to_owned(),
        require_service_account: Some(require),
        required_service_account_annotation_keys: required.iter().map(|s| s.to_string()).collect(),
        optional_service_account_annotation_keys: optional.iter().map(|s| s.to_string()).collect(),
    }
}

/// A context with metrics and a short timeout.
pub(crate) fn context() -> (ProviderContext, Arc<HostMetrics>) {
    let metrics = Arc::new(HostMetrics::new().expect("metrics"));
    let ctx = ProviderContext {
        limits: ExecLimits {
            timeout: Duration::from_secs(10),
            output_limit: 1024 * 1024,
        },
        metrics: Some(metrics.clone()),
        ..ProviderContext::default()
    };
    (ctx, metrics)
}

/// Builds a provider whose plugin lives in `bin`.
pub(crate) fn plugin_provider(
    bin: &BinDir,
    def: CredentialProvider,
    ctx: ProviderContext,
) -> PluginProvider {
    let program = bin.plugin(&def.name);
    PluginProvider::new(def, program, ctx).expect("provider")
}

/// Rows of a conformance table.
pub(crate) fn conformance(file: &str) -> Vec<Value> {
    let path = format!(
        "{}/../../tests/conformance/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match serde_json::from_str(&text).expect("conformance JSON") {
        Value::Array(rows) => rows,
        other => panic!("{file}: expected an array, got {other}"),
    }
}

/// Rows of `response_cases.json` of one kind.
pub(crate) fn response_rows(kind: &str) -> Vec<Value> {
    conformance("response_cases.json")
        .into_iter()
        .filter(|r| r["kind"] == kind)
        .collect()
}

/// Decodes Go `%q`-style escapes (`\x00`, `\t`, `\\` ...) into bytes.
pub(crate) fn go_unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'x' => {
                let hex = std::str::from_utf8(&b[i..i + 2]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'"' => out.push(b'"'),
            other => panic!("unsupported escape \\{}", other as char),
        }
    }
    out
}

/// A JSON object of strings as a map.
pub(crate) fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `{key: {username, password}}` of a docker config, for comparisons with tables.
pub(crate) fn docker_config_json(cfg: &kcred_match::keyring::DockerConfig) -> Value {
    let mut m = serde_json::Map::new();
    for (k, e) in cfg {
        m.insert(
            k.clone(),
            serde_json::json!({"username": e.username, "password": e.password.expose()}),
        );
    }
    Value::Object(m)
}

/// The response text a row's `response` stands for.
pub(crate) fn response_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
