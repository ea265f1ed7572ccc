//! response_cases.json rows about keys and the store: `service_account_cache_key`,
//! `cache_key`, `cache_key_property`, `cache_sequence`, plus `exec_env` (pure env merging).
#![cfg(unix)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use crate::common::{go_unescape, response_rows, string_map};
use kcred_api::config::ExecEnvVar;
use kcred_host::cache::{CacheKey, ProviderCache, ServiceAccountCacheKey, ServiceAccountKeyParts};
use kcred_host::exec::merge_env;
use kcred_host::FakeClock;
use serde_json::Value;

fn sa_key(input: &Value) -> ServiceAccountCacheKey {
    let annotations = string_map(&input["annotations"]);
    let token = input["cacheType"] == "Token";
    ServiceAccountCacheKey::new(ServiceAccountKeyParts {
        namespace: input["namespace"].as_str().unwrap(),
        name: input["serviceAccountName"].as_str().unwrap(),
        uid: input["serviceAccountUID"].as_str().unwrap(),
        annotations: &annotations,
        token_hash: token.then(|| input["saTokenHash"].as_str().unwrap()),
    })
    .unwrap()
}

#[test]
fn service_account_cache_key_rows() {
    let rows = response_rows("service_account_cache_key");
    assert_eq!(rows.len(), 5);
    for row in rows {
        let key = sa_key(&row["input"]);
        let want_hex = row["expected"]["key_hex"].as_str().unwrap();
        assert_eq!(
            hex::encode(key.as_bytes()),
            want_hex,
            "{}",
            row["description"]
        );
        let escaped = row["expected"]["key_go_escaped"].as_str().unwrap();
        assert_eq!(
            key.as_bytes(),
            go_unescape(escaped),
            "{}",
            row["description"]
        );
        assert_eq!(
            format!("{key:?}"),
            format!("ServiceAccountCacheKey(\"{escaped}\")"),
            "{}",
            row["description"]
        );
    }
}

#[test]
fn cache_key_rows() {
    let rows = response_rows("cache_key");
    assert_eq!(rows.len(), 2);
    for row in rows {
        let input = &row["input"];
        let sa = hex::decode(input["serviceAccountCacheKey_hex"].as_str().unwrap()).unwrap();
        let key = CacheKey::new(
            input["baseKey"].as_str().unwrap(),
            &ServiceAccountCacheKey::from_bytes(sa),
        )
        .unwrap();
        assert_eq!(
            hex::encode(key.as_bytes()),
            row["expected"]["key_hex"].as_str().unwrap(),
            "{}",
            row["description"]
        );
        let escaped = row["expected"]["key_go_escaped"].as_str().unwrap();
        assert_eq!(key.as_bytes(), go_unescape(escaped));
        // Debug prints the key as Go's %q does.
        assert_eq!(format!("{key:?}"), format!("CacheKey(\"{escaped}\")"));
    }
}

/// `TestGenerateServiceAccountCacheKey_Deterministic`: over the 16x16 cross product, keys
/// are equal iff (namespace, name, uid, annotations) are equal.
#[test]
fn cache_key_property_row() {
    let rows = response_rows("cache_key_property");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["expected"]["injective"], true);
    let namespaces = ["default", "kube-system"];
    let names = ["service-account1", "service-account2"];
    let uids = [
        "633a81d0-0f58-4a43-9e84-113145201b72",
        "1408a4e6-e40b-4bbf-9019-4d86bfea73ae",
    ];
    let annotation_sets: [BTreeMap<String, String>; 2] = [
        BTreeMap::from([
            ("domain.io/identity-id".to_owned(), "1234567890".to_owned()),
            ("domain.io/role".to_owned(), "admin".to_owned()),
        ]),
        BTreeMap::from([
            ("domain.io/identity-id".to_owned(), "0987654321".to_owned()),
            ("domain.io/role".to_owned(), "viewer".to_owned()),
        ]),
    ];
    let mut combos = Vec::new();
    for ns in namespaces {
        for name in names {
            for uid in uids {
                for ann in &annotation_sets {
                    let sa = ServiceAccountCacheKey::new(ServiceAccountKeyParts {
                        namespace: ns,
                        name,
                        uid,
                        annotations: ann,
                        token_hash: None,
                    })
                    .unwrap();
                    let key = CacheKey::new("registry.io/image", &sa).unwrap();
                    combos.push(((ns, name, uid, ann.clone()), sa, key));
                }
            }
        }
    }
    assert_eq!(combos.len(), 16);
    for a in &combos {
        for b in &combos {
            assert_eq!(a.0 == b.0, a.1 == b.1);
            assert_eq!(a.0 == b.0, a.2 == b.2);
        }
    }
}

/// Parses `T0`, `T0+1m`, `T0+2m`.
fn at(clock: &FakeClock, spec: &str) -> std::time::Instant {
    let rest = spec.strip_prefix("T0").unwrap();
    match rest.strip_prefix('+') {
        None => clock.start(),
        Some(d) => clock.start() + go_duration(d),
    }
}

fn go_duration(s: &str) -> Duration {
    let (n, unit) = s.split_at(s.len() - 1);
    let n: u64 = n.parse().unwrap();
    match unit {
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(60 * n),
        other => panic!("unit {other}"),
    }
}

fn creds(v: &Value) -> Value {
    v.clone()
}

/// `Test_getCachedCredentials` and its SA variant: expiry, delete-on-get, 15-minute purge.
#[test]
fn cache_sequence_rows() {
    let rows = response_rows("cache_sequence");
    assert_eq!(rows.len(), 2);
    // The SA row only lists lookups: it reuses the adds/advances of the first row with keys
    // generateCacheKey('image1'|'image2', saKey) and a raw key for image3.
    let plain_steps = rows[0]["steps"].as_array().unwrap().clone();
    let annotations = BTreeMap::from([
        ("prefix.io/annotation-1".to_owned(), "value1".to_owned()),
        ("prefix.io/annotation-2".to_owned(), "value2".to_owned()),
    ]);
    let sa = ServiceAccountCacheKey::new(ServiceAccountKeyParts {
        namespace: "namespace",
        name: "serviceAccountName",
        uid: "service-account-uid",
        annotations: &annotations,
        token_hash: None,
    })
    .unwrap();
    for (row_index, row) in rows.iter().enumerate() {
        let with_sa = row_index == 1;
        let clock = Arc::new(FakeClock::new());
        let cache: ProviderCache<Value> = ProviderCache::new(clock.clone());
        let sa_key = if with_sa {
            sa.clone()
        } else {
            ServiceAccountCacheKey::empty()
        };
        for (i, step) in row["steps"].as_array().unwrap().iter().enumerate() {
            let plain = &plain_steps[i];
            let add = &plain["add"];
            let raw = go_unescape(add["key_go_escaped"].as_str().unwrap());
            let key = if with_sa && i < 2 {
                let image = CacheKey::from_bytes(raw).base().unwrap().to_owned();
                CacheKey::new(&image, &sa).unwrap()
            } else {
                CacheKey::from_bytes(raw)
            };
            cache.insert(
                key,
                creds(&add["credentials"]),
                at(&clock, add["expiresAt"].as_str().unwrap()),
            );
            clock.advance(go_duration(plain["advance"].as_str().unwrap()));
            let lookup = step["lookup"].as_str().unwrap();
            let got = cache.lookup(lookup, &sa_key).unwrap().map(|h| h.value);
            let want = if step["expect"].is_null() {
                None
            } else {
                Some(step["expect"].clone())
            };
            assert_eq!(got, want, "{} step {i}", row["description"]);
            assert_eq!(
                cache.len(),
                step["cacheKeyCountAfter"].as_u64().unwrap() as usize,
                "{} step {i}",
                row["description"]
            );
        }
    }
}

#[test]
fn exec_env_rows() {
    let rows = response_rows("exec_env");
    assert_eq!(rows.len(), 5);
    for row in rows {
        let host: Vec<OsString> = row["input"]["hostEnv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| OsString::from(v.as_str().unwrap()))
            .collect();
        let configured: Vec<ExecEnvVar> = row["input"]["configEnv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| ExecEnvVar {
                name: v["name"].as_str().unwrap().to_owned(),
                value: v["value"].as_str().unwrap().to_owned(),
            })
            .collect();
        let merged: Vec<String> = merge_env(host, &configured)
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect();
        let want: Vec<String> = row["expected"]["mergedEnvList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(merged, want, "{}", row["description"]);
    }
}
