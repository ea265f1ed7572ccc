//! The kubelet's three response checks (kubelet `pkg/credentialprovider/plugin/plugin.go`, `decodeResponse`), their order and their messages.

use kcred_api::response::{
    AuthConfig, CacheKeyType, CredentialProviderResponse, ResponseDecodeError,
};
use kcred_api::{ApiVersion, GoDuration, Secret};

const V1: &str = "credentialprovider.kubelet.k8s.io/v1";

fn decode(stdout: &str) -> Result<CredentialProviderResponse, ResponseDecodeError> {
    CredentialProviderResponse::decode(stdout.as_bytes(), ApiVersion::V1)
}

/// The detail of a check-3 failure (its `Display` never carries it).
fn detail(stdout: &str) -> String {
    let err = decode(stdout).unwrap_err();
    assert_eq!(
        err.to_string(),
        "error decoding credential provider plugin response from stdout"
    );
    err.detail().expect("check-3 failures have a detail")
}

fn response(fields: &str) -> String {
    format!(r#"{{"kind":"CredentialProviderResponse","apiVersion":"{V1}",{fields}}}"#)
}

#[test]
fn check_1_requires_json() {
    let msg = |s: &str| decode(s).unwrap_err().to_string();
    assert_eq!(
        msg("kind: CredentialProviderResponse\napiVersion: credentialprovider.kubelet.k8s.io/v1\n"),
        "error reading GVK from response: couldn't get version/kind; json parse error: invalid character 'k' looking for beginning of value"
    );
    assert_eq!(
        msg(""),
        "error reading GVK from response: couldn't get version/kind; json parse error: unexpected end of JSON input"
    );
    assert_eq!(
        msg(&(response(r#""cacheKeyType":"Image""#) + "\nextra")),
        "error reading GVK from response: couldn't get version/kind; json parse error: invalid character 'e' after top-level value"
    );
    assert_eq!(
        msg(r#"{"kind":1}"#),
        "error reading GVK from response: couldn't get version/kind; json parse error: json: cannot unmarshal number into Go struct field .kind of type string"
    );
    assert_eq!(
        msg(r#"{"apiVersion":"a/b/c"}"#),
        "error reading GVK from response: unexpected GroupVersion string: a/b/c"
    );
}

#[test]
fn check_2_compares_the_api_version_exactly() {
    let err = CredentialProviderResponse::decode(
        response(r#""cacheKeyType":"Image""#).as_bytes(),
        ApiVersion::V1Beta1,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "apiVersion from credential plugin response did not match expected apiVersion:credentialprovider.kubelet.k8s.io/v1beta1, actual apiVersion:credentialprovider.kubelet.k8s.io/v1"
    );
    assert_eq!(
        decode(r#"{"kind":"CredentialProviderResponse","apiVersion":"v1"}"#).unwrap_err().to_string(),
        "apiVersion from credential plugin response did not match expected apiVersion:credentialprovider.kubelet.k8s.io/v1, actual apiVersion:v1"
    );
    assert_eq!(
        decode("null").unwrap_err().to_string(),
        "apiVersion from credential plugin response did not match expected apiVersion:credentialprovider.kubelet.k8s.io/v1, actual apiVersion:"
    );
}

#[test]
fn the_sniff_is_case_insensitive_but_the_decode_is_not() {
    let stdout = format!(
        r#"{{"KIND":"CredentialProviderResponse","APIVERSION":"{V1}","cacheKeyType":"Image"}}"#
    );
    assert_eq!(
        detail(&stdout),
        "strict decoding error: unknown field \"KIND\", unknown field \"APIVERSION\""
    );
}

#[test]
fn cache_duration_must_be_a_go_duration_string() {
    assert_eq!(
        detail(&response(r#""cacheKeyType":"Image","cacheDuration":60"#)),
        "json: cannot unmarshal number into Go struct field CredentialProviderResponse.cacheDuration of type string"
    );
    assert_eq!(
        detail(&response(r#""cacheKeyType":"Image","cacheDuration":"1d""#)),
        "time: unknown unit \"d\" in duration \"1d\""
    );
    let decoded = decode(&response(r#""cacheKeyType":"Image","cacheDuration":null"#)).unwrap();
    assert_eq!(decoded.cache_duration, None);
    let decoded = decode(&response(r#""cacheKeyType":"Image","cacheDuration":"0s""#)).unwrap();
    assert_eq!(decoded.cache_duration, Some(GoDuration::ZERO));
}

#[test]
fn unknown_and_duplicate_fields_are_rejected() {
    assert_eq!(
        detail(&response(r#""cacheKeyType":"Image","extra":1"#)),
        "strict decoding error: unknown field \"extra\""
    );
    assert_eq!(
        detail(&response(
            r#""cacheKeyType":"Image","cacheKeyType":"Global""#
        )),
        "strict decoding error: duplicate field \"cacheKeyType\""
    );
    assert_eq!(
        detail(&response(
            r#""cacheKeyType":"Image","auth":{"r.io":{"username":"u","password":"p","password":"q","token":"t"},"r.io":{}}"#
        )),
        "strict decoding error: duplicate field \"auth.r.io.password\", unknown field \"auth.r.io.token\", duplicate field \"auth.r.io\""
    );
}

#[test]
fn wrong_types_name_the_go_field() {
    assert_eq!(
        detail(&response(r#""cacheKeyType":"Image","auth":{"r.io":{"username":1}}"#)),
        "json: cannot unmarshal number into Go struct field AuthConfig.auth.username of type string"
    );
    assert_eq!(
        detail(&response(r#""cacheKeyType":"Image","auth":[]"#)),
        "json: cannot unmarshal array into Go struct field CredentialProviderResponse.auth of type map[string]v1.AuthConfig"
    );
    assert_eq!(
        detail(&response(r#""cacheKeyType":true"#)),
        "json: cannot unmarshal bool into Go struct field CredentialProviderResponse.cacheKeyType of type v1.PluginCacheKeyType"
    );
}

#[test]
fn other_kinds_fail_check_3() {
    assert_eq!(
        detail(&format!(r#"{{"kind":"CredentialProviderRequest","apiVersion":"{V1}","image":"x"}}"#)),
        "failed to decode CredentialProviderResponse, unexpected Kind: \"CredentialProviderRequest\""
    );
}

#[test]
fn details_never_quote_the_document() {
    let stdout = format!(
        r#"{{"apiVersion":"{V1}","auth":{{"r.io":{{"username":"u","password":"SECRET"}}}}}}"#
    );
    let err = decode(&stdout).unwrap_err();
    assert_eq!(
        err.detail().as_deref(),
        Some("Object 'Kind' is missing in '<redacted>'")
    );
    assert!(!format!("{err:?}").contains("SECRET"));
}

#[test]
fn decodes_a_full_response() {
    let decoded = decode(&response(
        r#""cacheKeyType":"Registry","cacheDuration":"1h30m","auth":{"*.reg.io":{"username":"u","password":"p"},"b.io":null,"c.io":{}}"#,
    ))
    .unwrap();
    assert_eq!(decoded.api_version, ApiVersion::V1);
    assert_eq!(decoded.cache_key_type(), Some(CacheKeyType::Registry));
    assert_eq!(decoded.cache_duration, Some(GoDuration(5_400_000_000_000)));
    assert_eq!(decoded.auth.len(), 3);
    assert_eq!(decoded.auth["*.reg.io"].password.expose(), "p");
    assert_eq!(decoded.auth["b.io"], AuthConfig::default());
    // An unknown cacheKeyType still decodes; the kubelet rejects it later.
    let decoded = decode(&response(r#""cacheKeyType":"image","auth":null"#)).unwrap();
    assert_eq!(decoded.cache_key_type(), None);
    assert!(decoded.auth.is_empty());
}

#[test]
fn encode_matches_go_plugins_and_round_trips() {
    let mut response = CredentialProviderResponse::new(ApiVersion::V1, CacheKeyType::Registry);
    response.cache_duration = Some(GoDuration(600_000_000_000));
    response.auth.insert(
        "*.registry.io".into(),
        AuthConfig {
            username: "user".into(),
            password: Secret::new("password"),
        },
    );
    let bytes = response.encode();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"10m0s\",\"auth\":{\"*.registry.io\":{\"username\":\"user\",\"password\":\"password\"}}}\n"
    );
    assert_eq!(
        CredentialProviderResponse::decode(&bytes, ApiVersion::V1),
        Ok(response)
    );

    let empty = CredentialProviderResponse::new(ApiVersion::V1Alpha1, CacheKeyType::Global);
    assert_eq!(
        String::from_utf8(empty.encode()).unwrap(),
        "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1alpha1\",\"cacheKeyType\":\"Global\"}\n"
    );
}
