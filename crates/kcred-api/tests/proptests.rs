//! Property tests: the parsers and decoders never panic or hang on any input, and
//! encoders round-trip through their decoders.

use kcred_api::request::CredentialProviderRequest;
use kcred_api::response::{AuthConfig, CacheKeyType, CredentialProviderResponse};
use kcred_api::strict::interpret_gvk;
use kcred_api::{decode_config, ApiVersion, GoDuration, Secret};
use proptest::prelude::*;

fn api_version() -> impl Strategy<Value = ApiVersion> {
    prop_oneof![
        Just(ApiVersion::V1Alpha1),
        Just(ApiVersion::V1Beta1),
        Just(ApiVersion::V1)
    ]
}

/// Text made of the characters that matter to the JSON and YAML grammars.
fn document_like() -> impl Strategy<Value = String> {
    "[{}\\[\\]:,\"'\\\\ \\n\\t#&*!|>%@`a-z0-9.\\-_~]{0,80}"
}

proptest! {
    #[test]
    fn duration_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = GoDuration::parse_bytes(&bytes);
    }

    #[test]
    fn duration_parse_never_panics_on_duration_like_text(s in "[-+]?([0-9.]{0,25}(ns|us|µs|μs|ms|s|m|h|d|x)?){0,4}") {
        let _ = GoDuration::parse(&s);
    }

    #[test]
    fn duration_format_parses_back(nanos in any::<i64>()) {
        let d = GoDuration(nanos);
        prop_assert_eq!(GoDuration::parse(&d.to_string()), Ok(d));
    }

    #[test]
    fn config_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_config(&bytes);
    }

    #[test]
    fn config_decode_never_panics_on_document_like_text(s in document_like()) {
        let _ = decode_config(s.as_bytes());
        let _ = decode_config(format!("kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n- {s}").as_bytes());
        let _ = decode_config(format!("{{\"kind\":\"CredentialProviderConfig\",\"apiVersion\":\"kubelet.config.k8s.io/v1\",\"providers\":[{s}]}}").as_bytes());
    }

    #[test]
    fn response_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), version in api_version()) {
        let _ = CredentialProviderResponse::decode(&bytes, version);
        let _ = interpret_gvk(&bytes);
    }

    #[test]
    fn response_decode_never_panics_on_json_like_text(s in document_like(), version in api_version()) {
        let doc = format!("{{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"{version}\",{s}}}");
        let _ = CredentialProviderResponse::decode(doc.as_bytes(), version);
        let _ = CredentialProviderResponse::decode(s.as_bytes(), version);
    }

    #[test]
    fn request_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), s in document_like()) {
        let _ = CredentialProviderRequest::decode(&bytes);
        let doc = format!("{{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",{s}}}");
        let _ = CredentialProviderRequest::decode(doc.as_bytes());
    }

    #[test]
    fn request_round_trips(
        image in any::<String>(),
        token in any::<String>(),
        annotations in proptest::collection::btree_map(any::<String>(), any::<String>(), 0..4),
    ) {
        let mut request = CredentialProviderRequest::new(ApiVersion::V1, image);
        if !token.is_empty() {
            request.service_account_token = Some(Secret::new(token));
        }
        request.service_account_annotations = annotations;
        prop_assert_eq!(CredentialProviderRequest::decode(&request.encode()), Ok(request));
    }

    #[test]
    fn response_round_trips(
        version in api_version(),
        nanos in proptest::option::of(any::<i64>()),
        auth in proptest::collection::btree_map(any::<String>(), (any::<String>(), any::<String>()), 0..4),
    ) {
        let mut response = CredentialProviderResponse::new(version, CacheKeyType::Image);
        response.cache_duration = nanos.map(GoDuration);
        response.auth = auth
            .into_iter()
            .map(|(k, (username, password))| (k, AuthConfig { username, password: Secret::new(password) }))
            .collect();
        prop_assert_eq!(CredentialProviderResponse::decode(&response.encode(), version), Ok(response));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    // JSON: Go's limit is 10000 levels.
    let deep_json = format!("{}{}", "{\"a\":".repeat(20_000), "}".repeat(20_000));
    let err = decode_config(deep_json.as_bytes()).unwrap_err().to_string();
    assert_eq!(
        err,
        "couldn't get version/kind; json parse error: invalid character '{' exceeded max depth"
    );
    let ok_depth = format!("{}1{}", "{\"a\":".repeat(9_999), "}".repeat(9_999));
    let err = decode_config(ok_depth.as_bytes()).unwrap_err().to_string();
    assert!(
        err.starts_with("Object 'Kind' is missing in"),
        "{}",
        &err[..60]
    );
    // YAML: the parser's recursion limit.
    let deep_yaml = "[".repeat(100_000);
    assert!(decode_config(deep_yaml.as_bytes()).is_err());
    let deep_response = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    assert!(CredentialProviderResponse::decode(deep_response.as_bytes(), ApiVersion::V1).is_err());
}

#[test]
fn yaml_alias_bombs_are_rejected() {
    let mut doc = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    let mut prev = 'a';
    for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] {
        doc.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        prev = name;
    }
    assert!(decode_config(doc.as_bytes()).is_err());
}

#[test]
fn many_keys_and_duplicates_stay_linear() {
    // 50k repeated keys in YAML and JSON: reported (JSON: at most 100 issues), not slow.
    let yaml: String = (0..50_000).map(|i| format!("k{}: {i}\n", i % 2)).collect();
    let err = decode_config(yaml.as_bytes()).unwrap_err().to_string();
    assert!(
        err.starts_with("Object 'Kind' is missing"),
        "{}",
        &err[..40]
    );
    let body: String = (0..50_000)
        .map(|i| format!(",\"x{}\":{i}", i % 2))
        .collect();
    let json = format!("{{\"kind\":\"CredentialProviderConfig\",\"apiVersion\":\"kubelet.config.k8s.io/v1\"{body}}}");
    let err = decode_config(json.as_bytes()).unwrap_err().to_string();
    assert_eq!(
        err.matches("unknown field").count(),
        2,
        "deduplicated: {}",
        &err[..200]
    );
}

mod go_layer {
    use kcred_api::go::json::equal_fold;
    use kcred_api::go::lenient::{decode_request, ACR, ECR, GCP};
    use kcred_api::go::strconv::parse_bool;
    use proptest::prelude::*;

    const GO_BOOLS: [(&str, bool); 12] = [
        ("1", true),
        ("t", true),
        ("T", true),
        ("TRUE", true),
        ("true", true),
        ("True", true),
        ("0", false),
        ("f", false),
        ("F", false),
        ("FALSE", false),
        ("false", false),
        ("False", false),
    ];

    proptest! {
        #[test]
        fn parse_bool_accepts_exactly_gos_twelve(s in "[01tTfFrRuUeEaAlLsS ]{0,6}") {
            let want = GO_BOOLS.iter().find(|(w, _)| *w == s).map(|(_, b)| *b);
            match parse_bool(&s) {
                Ok(b) => prop_assert_eq!(Some(b), want),
                Err(e) => {
                    prop_assert_eq!(want, None);
                    prop_assert!(e.to_string().starts_with("strconv.ParseBool: parsing \""));
                }
            }
        }

        #[test]
        fn folding_ascii_keys_is_ascii_case_insensitivity(key in "[a-zA-Z0-9_]{0,8}", field in "[a-zA-Z0-9_]{0,8}") {
            prop_assert_eq!(equal_fold(&key, &field), key.eq_ignore_ascii_case(&field));
        }

        #[test]
        fn lenient_request_decoding_never_panics(doc in super::document_like()) {
            for policy in [ECR, ACR, GCP] {
                let _ = decode_request(doc.as_bytes(), &policy);
            }
        }

        #[test]
        fn lenient_errors_never_quote_the_token(token in "[a-z]{12,20}", image in prop_oneof![Just("1".to_owned()), Just("[]".to_owned()), Just("{}".to_owned()), Just("\"i\"".to_owned())]) {
            let doc = format!(r#"{{"serviceAccountToken":"{token}","image":{image},"kind":"{token}""#);
            for suffix in ["}", ""] {
                for policy in [ECR, ACR, GCP] {
                    if let Err(e) = decode_request(format!("{doc}{suffix}").as_bytes(), &policy) {
                        prop_assert!(!e.to_string().contains(&token), "{}", e);
                    }
                }
            }
        }
    }
}
