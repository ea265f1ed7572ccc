//! `tests/conformance/keyring_cases.json`: the rows without `kind` (BasicDockerKeyring Add and
//! Lookup) and the `is_default_registry_match` rows.
//!
//! Rows of kind `external_keyring`, `external_keyring_construction` and
//! `provider_call_count` describe the plugin-backed keyring (providers called per lookup),
//! which lives in kcred-host; they are tested there, not here.

use kcred_match::keyring::{is_default_registry_match, parse_dockercfg, DockerKeyring};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Debug, PartialEq, Eq)]
struct Cred {
    username: String,
    password: String,
    email: String,
}

#[derive(Deserialize)]
struct Row {
    description: String,
    kind: Option<String>,
    image: Option<String>,
    docker_config: Option<Value>,
    normalized_keys: Option<Vec<String>>,
    expected_found: Option<bool>,
    expected_first: Option<Cred>,
    expected: Option<Value>,
    expected_order_exact: Option<bool>,
    expected_max_len: Option<usize>,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/keyring_cases.json"
    ))
    .expect("keyring_cases.json is readable");
    serde_json::from_str(&text).expect("keyring_cases.json parses")
}

fn creds(found: &[kcred_match::TrackedAuthConfig]) -> Vec<Cred> {
    found
        .iter()
        .map(|c| Cred {
            username: c.username.clone(),
            password: c.password.expose().to_owned(),
            email: c.email.clone(),
        })
        .collect()
}

#[test]
fn keyring_rows_without_kind() {
    let rows: Vec<Row> = rows().into_iter().filter(|r| r.kind.is_none()).collect();
    assert_eq!(rows.len(), 36, "36 keyring rows have no kind");
    for row in rows {
        let what = &row.description;
        let config = serde_json::to_vec(row.docker_config.as_ref().expect("docker_config"))
            .expect("re-encode docker_config");
        let cfg = parse_dockercfg(&config).unwrap_or_else(|e| panic!("{what}: {e}"));
        let mut keyring = DockerKeyring::new();
        let skipped = keyring.add(None, &cfg);
        assert!(skipped.is_empty(), "{what}: skipped {skipped:?}");

        let keys: Vec<String> = keyring.keys().map(|k| k.into_owned()).collect();
        assert_eq!(
            Some(&keys),
            row.normalized_keys.as_ref(),
            "{what}: normalized keys in index order"
        );

        let image = row.image.as_deref().expect("image");
        let tracked = keyring.lookup(image);
        for c in &tracked {
            // Every credential names the key it was filed under and where that came from.
            assert!(
                keys.iter().any(|k| **k == *c.key),
                "{what}: key {:?}",
                c.key
            );
            assert_eq!(
                kcred_match::keyring::normalize_key(&c.location)
                    .ok()
                    .as_deref(),
                Some(&*c.key),
                "{what}: location {:?}",
                c.location
            );
            assert_eq!(c.config_index, 0, "{what}: one add");
            assert_eq!(
                c.docker_hub_fallback,
                !kcred_match::urls_match_str(&c.key, image).unwrap_or(false),
                "{what}: fallback flag of {:?}",
                c.key
            );
        }
        let found = creds(&tracked);
        assert_eq!(
            Some(!found.is_empty()),
            row.expected_found,
            "{what}: found for {image:?}"
        );
        if let Some(first) = &row.expected_first {
            assert_eq!(found.first(), Some(first), "{what}: first credential");
        }
        if let Some(expected) = &row.expected {
            let expected: Vec<Cred> =
                serde_json::from_value(expected.clone()).expect("expected credential list");
            if row.expected_order_exact == Some(true) {
                assert_eq!(found, expected, "{what}: credentials in order");
            } else {
                assert_eq!(found.len(), expected.len(), "{what}: credential count");
                for cred in &expected {
                    assert!(found.contains(cred), "{what}: missing {cred:?}");
                }
            }
        }
        if let Some(max) = row.expected_max_len {
            assert!(
                found.len() <= max,
                "{what}: {} credentials > {max}",
                found.len()
            );
        }
    }
}

#[test]
fn is_default_registry_match_rows() {
    let rows: Vec<Row> = rows()
        .into_iter()
        .filter(|r| r.kind.as_deref() == Some("is_default_registry_match"))
        .collect();
    assert_eq!(rows.len(), 8);
    for row in rows {
        let image = row.image.as_deref().expect("image");
        let expected = row
            .expected
            .as_ref()
            .and_then(Value::as_bool)
            .expect("bool");
        assert_eq!(is_default_registry_match(image), expected, "{image:?}");
    }
}
