//! `tests/conformance/config_cases.json` rows with `stage: "read"` that are single files.
//! (Directory rows and merging belong to kcred-config.)

use kcred_api::config::{encode_providers_v1, CredentialProvider};
use kcred_api::{decode_config, GoDuration};
use serde_json::Value;

fn single_file_read_rows() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/config_cases.json"
    );
    let text = std::fs::read_to_string(path).expect("read config_cases.json");
    let all: Vec<Value> = serde_json::from_str(&text).expect("parse config_cases.json");
    all.into_iter()
        .filter(|row| row["stage"] == "read" && row["is_dir"] == false)
        .collect()
}

/// The table writes durations as in the upstream test source (`10m`); Go prints them with
/// `Duration.String` (`10m0s`), which is what the encoder writes.
fn normalise_durations(providers: &mut Value) {
    for provider in providers.as_array_mut().expect("provider list") {
        if let Some(d) = provider.get_mut("defaultCacheDuration") {
            let text = d.as_str().expect("duration string");
            *d = Value::String(GoDuration::parse(text).expect("valid duration").to_string());
        }
    }
}

fn encoded(providers: &[CredentialProvider]) -> Value {
    serde_json::from_str(&encode_providers_v1(providers)).expect("encoder writes JSON")
}

#[test]
fn single_file_read_rows_decode_as_the_kubelet_does() {
    let rows = single_file_read_rows();
    assert_eq!(rows.len(), 12);
    for row in rows {
        let name = row["name"].as_str().expect("name");
        let config = row["config"].as_str().expect("config text");
        let result = decode_config(config.as_bytes());
        if row["valid"] == true {
            let decoded = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut expected = row["expected_providers"].clone();
            normalise_durations(&mut expected);
            assert_eq!(encoded(&decoded.providers), expected, "{name}");
        } else {
            let err = result.expect_err(name).to_string();
            let wanted = row["error_contains"].as_str().expect("error_contains");
            assert!(
                err.contains(wanted),
                "{name}: {err:?} does not contain {wanted:?}"
            );
        }
    }
}
