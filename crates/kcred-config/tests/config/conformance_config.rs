//! Every row of `tests/conformance/config_cases.json`: the read stage through `load_path` on
//! real files in a temporary directory, the validate stage through `decode_config` + `validate`.

use std::path::Path;

use kcred_api::config::{
    decode_config, CredentialProvider, ExecEnvVar, ServiceAccountTokenAttributes,
};
use kcred_api::GoDuration;
use kcred_config::{load_path, validate, FeatureGates};
use serde_json::Value;

const CASES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/conformance/config_cases.json"
));

fn cases() -> Vec<Value> {
    serde_json::from_str(CASES).expect("config_cases.json parses")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Builds the expected provider from the row's v1-API-shaped JSON.
fn expected_provider(v: &Value) -> CredentialProvider {
    CredentialProvider {
        name: v["name"].as_str().expect("name").to_owned(),
        match_images: strings(&v["matchImages"]),
        default_cache_duration: v["defaultCacheDuration"]
            .as_str()
            .map(|d| GoDuration::parse(d).expect("duration")),
        api_version: v["apiVersion"].as_str().unwrap_or_default().to_owned(),
        args: strings(&v["args"]),
        env: v["env"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| ExecEnvVar {
                        name: e["name"].as_str().expect("env name").to_owned(),
                        value: e["value"].as_str().expect("env value").to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        token_attributes: v.get("tokenAttributes").filter(|t| !t.is_null()).map(|t| {
            ServiceAccountTokenAttributes {
                service_account_token_audience: t["serviceAccountTokenAudience"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                cache_type: t["cacheType"].as_str().unwrap_or_default().to_owned(),
                require_service_account: t["requireServiceAccount"].as_bool(),
                required_service_account_annotation_keys: strings(
                    &t["requiredServiceAccountAnnotationKeys"],
                ),
                optional_service_account_annotation_keys: strings(
                    &t["optionalServiceAccountAnnotationKeys"],
                ),
            }
        }),
    }
}

fn run_read_case(case: &Value) {
    let name = case["name"].as_str().unwrap_or_default();
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = if case["is_dir"].as_bool() == Some(true) {
        let dir = tmp.path().join("config.d");
        std::fs::create_dir(&dir).expect("mkdir");
        for file in case["files"].as_array().expect("files") {
            let file_name = file["name"].as_str().expect("file name");
            let content = file["content"].as_str().expect("file content");
            std::fs::write(dir.join(file_name), content).expect("write");
        }
        dir
    } else {
        let file = tmp.path().join("config.yaml");
        std::fs::write(&file, case["config"].as_str().expect("config")).expect("write");
        file
    };

    let result = load_path(Path::new(&path));
    if case["valid"].as_bool() == Some(true) {
        let loaded = result.unwrap_or_else(|e| panic!("{name}: unexpected error: {e}"));
        let want: Vec<CredentialProvider> = case["expected_providers"]
            .as_array()
            .expect("expected_providers")
            .iter()
            .map(expected_provider)
            .collect();
        assert_eq!(loaded.providers, want, "{name}: providers");
        assert_eq!(
            loaded.hash,
            case["expected_config_hash"].as_str().expect("hash"),
            "{name}: config hash"
        );
    } else {
        let err = match result {
            Ok(loaded) => panic!("{name}: expected an error, got {loaded:?}"),
            Err(e) => e.to_string(),
        };
        let want = case["error_contains"].as_str().expect("error_contains");
        assert!(
            err.contains(want),
            "{name}: error {err:?} does not contain {want:?}"
        );
    }
}

fn run_validate_case(case: &Value) {
    let name = case["name"].as_str().unwrap_or_default();
    let gate = case["feature_gates"]["KubeletServiceAccountTokenForCredentialProviders"]
        .as_bool()
        .expect("feature gate");
    let gates = FeatureGates {
        service_account_token_for_credential_providers: gate,
    };
    let config = decode_config(case["config"].as_str().expect("config").as_bytes())
        .unwrap_or_else(|e| panic!("{name}: decode failed: {e}"));
    let result = validate(&config.providers, gates);
    if case["valid"].as_bool() == Some(true) {
        if let Err(e) = result {
            panic!("{name}: unexpected validation error: {e}");
        }
        return;
    }
    let err = match result {
        Ok(()) => panic!("{name}: expected a validation error"),
        Err(e) => e.to_string(),
    };
    let want = case["error_contains"].as_str().expect("error_contains");
    if case["error_exact"].as_bool() == Some(true) {
        assert_eq!(err, want, "{name}: exact message");
    } else {
        assert!(
            err.contains(want),
            "{name}: error {err:?} does not contain {want:?}"
        );
    }
}

#[test]
fn every_config_case_passes() {
    let cases = cases();
    assert_eq!(cases.len(), 46, "row count");
    let (mut read, mut validated, mut exact) = (0, 0, 0);
    for case in &cases {
        match case["stage"].as_str() {
            Some("read") => {
                run_read_case(case);
                read += 1;
            }
            Some("validate") => {
                run_validate_case(case);
                validated += 1;
                if case["error_exact"].as_bool() == Some(true) {
                    exact += 1;
                }
            }
            other => panic!("unknown stage {other:?}"),
        }
    }
    assert_eq!((read, validated), (19, 27));
    assert_eq!(exact, 25, "validate rows compared on the whole message");
}
