//! `tests/conformance/response_cases.json` rows of kind `encode_request` and `decode_response`.

use std::collections::BTreeMap;

use kcred_api::request::CredentialProviderRequest;
use kcred_api::response::CredentialProviderResponse;
use kcred_api::{ApiVersion, GoDuration, Secret};
use serde_json::Value;

fn rows(kind: &str) -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/response_cases.json"
    );
    let text = std::fs::read_to_string(path).expect("read response_cases.json");
    let all: Vec<Value> = serde_json::from_str(&text).expect("parse response_cases.json");
    all.into_iter().filter(|row| row["kind"] == kind).collect()
}

#[test]
fn encode_request_rows() {
    let rows = rows("encode_request");
    assert_eq!(rows.len(), 4);
    for row in rows {
        let input = &row["input"];
        let api_version = ApiVersion::parse(input["apiVersion"].as_str().expect("apiVersion"))
            .expect("known version");
        let mut request =
            CredentialProviderRequest::new(api_version, row["image"].as_str().expect("image"));
        let token = input["serviceAccountToken"].as_str().unwrap_or("");
        if !token.is_empty() {
            request.service_account_token = Some(Secret::new(token));
        }
        if let Some(annotations) = input["serviceAccountAnnotations"].as_object() {
            for (k, v) in annotations {
                request
                    .service_account_annotations
                    .insert(k.clone(), v.as_str().expect("annotation value").to_owned());
            }
        }
        let expected = row["expected"]["stdin_bytes"]
            .as_str()
            .expect("stdin_bytes");
        assert_eq!(
            String::from_utf8(request.encode()).expect("utf-8"),
            expected,
            "{}",
            row["description"]
        );
        // A plugin decodes the same bytes back into the same request.
        assert_eq!(
            CredentialProviderRequest::decode(expected.as_bytes()),
            Ok(request)
        );
    }
}

/// The rows are `decodeResponse` facts (no configured version to compare with): the
/// provider is taken to be configured with the response's own version, or with v1beta1
/// when the response names no known version.
fn expected_version(response: &str) -> ApiVersion {
    let gvk = kcred_api::strict::interpret_gvk(response.as_bytes()).expect("sniffable response");
    ApiVersion::parse(&gvk.group_version()).unwrap_or(ApiVersion::V1Beta1)
}

#[test]
fn decode_response_rows() {
    let rows = rows("decode_response");
    assert_eq!(rows.len(), 5);
    for row in rows {
        let response = row["response"].as_str().expect("response text");
        let result =
            CredentialProviderResponse::decode(response.as_bytes(), expected_version(response));
        let expected = &row["expected"];
        if expected["error"] == true {
            let err = result.expect_err(row["description"].as_str().unwrap_or("error row"));
            // Whatever failed, nothing secret is shown.
            assert!(!err.to_string().contains("password\""), "{err}");
            continue;
        }
        let decoded = &expected["decoded"];
        let response = result.expect("decodes");
        assert_eq!(
            response.cache_key_type,
            decoded["cacheKeyType"].as_str().expect("cacheKeyType")
        );
        let seconds = decoded["cacheDuration_seconds"].as_i64().expect("seconds");
        assert_eq!(
            response.cache_duration,
            Some(GoDuration(seconds * 1_000_000_000))
        );
        let mut auth = BTreeMap::new();
        for (key, entry) in decoded["auth"].as_object().expect("auth") {
            auth.insert(
                key.clone(),
                (
                    entry["username"].as_str().expect("username").to_owned(),
                    entry["password"].as_str().expect("password").to_owned(),
                ),
            );
        }
        let got: BTreeMap<String, (String, String)> = response
            .auth
            .iter()
            .map(|(k, a)| {
                (
                    k.clone(),
                    (a.username.clone(), a.password.expose().to_owned()),
                )
            })
            .collect();
        assert_eq!(got, auth);
    }
}

#[test]
fn wrong_kind_fails_in_the_strict_decode_with_its_cause() {
    let response = r#"{"kind":"WrongKind","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","cacheKeyType":"Registry","cacheDuration":"1m","auth":{"*.registry.io":{"username":"user","password":"password"}}}"#;
    let err =
        CredentialProviderResponse::decode(response.as_bytes(), ApiVersion::V1Beta1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "error decoding credential provider plugin response from stdout"
    );
    assert_eq!(
        err.detail().as_deref(),
        Some("no kind \"WrongKind\" is registered for version \"credentialprovider.kubelet.k8s.io/v1beta1\" in scheme \"pkg/runtime/scheme.go:100\"")
    );
}

#[test]
fn wrong_group_fails_the_api_version_check() {
    let response = r#"{"kind":"CredentialProviderResponse","apiVersion":"foobar.kubelet.k8s.io/v1beta1","cacheKeyType":"Registry"}"#;
    let err =
        CredentialProviderResponse::decode(response.as_bytes(), ApiVersion::V1Beta1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "apiVersion from credential plugin response did not match expected apiVersion:credentialprovider.kubelet.k8s.io/v1beta1, actual apiVersion:foobar.kubelet.k8s.io/v1beta1"
    );
    assert_eq!(err.detail(), None);
}
