//! `decode_config` beyond the conformance rows: the kubelet's other decode messages.

use kcred_api::config::{CredentialProviderConfig, ExecEnvVar, ServiceAccountTokenAttributes};
use kcred_api::{decode_config, GoDuration};

fn err(doc: &str) -> String {
    decode_config(doc.as_bytes()).unwrap_err().to_string()
}

const V1_HEADER: &str = "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\n";

#[test]
fn yaml_type_errors_name_the_go_field() {
    assert_eq!(
        err(&format!("{V1_HEADER}providers:\n- name: 1\n")),
        "json: cannot unmarshal number into Go struct field CredentialProvider.providers.name of type string"
    );
    // YAML 1.1 (go-yaml v2): an unquoted `yes` is a boolean.
    assert_eq!(
        err(&format!("{V1_HEADER}providers:\n- name: a\n  env:\n  - name: X\n    value: yes\n")),
        "json: cannot unmarshal bool into Go struct field ExecEnvVar.providers.env.value of type string"
    );
    assert_eq!(
        err(&format!("{V1_HEADER}providers:\n  name: a\n")),
        "json: cannot unmarshal object into Go struct field CredentialProviderConfig.providers of type []v1.CredentialProvider"
    );
    assert_eq!(
        err(&format!("{V1_HEADER}providers:\n- tokenAttributes:\n    requireServiceAccount: \"true\"\n")),
        "json: cannot unmarshal string into Go struct field ServiceAccountTokenAttributes.providers.tokenAttributes.requireServiceAccount of type bool"
    );
}

#[test]
fn durations_are_go_durations() {
    assert_eq!(
        err(&format!(
            "{V1_HEADER}providers:\n- name: a\n  defaultCacheDuration: abc\n"
        )),
        "time: invalid duration \"abc\""
    );
    assert_eq!(
        err(&format!("{V1_HEADER}providers:\n- name: a\n  defaultCacheDuration: 10\n")),
        "json: cannot unmarshal number into Go struct field CredentialProvider.providers.defaultCacheDuration of type string"
    );
    let config = decode_config(
        format!("{V1_HEADER}providers:\n- name: a\n  defaultCacheDuration: null\n").as_bytes(),
    )
    .unwrap();
    assert_eq!(config.providers[0].default_cache_duration, None);
}

#[test]
fn strict_errors_are_collected() {
    // JSON keeps document order.
    let json = r#"{"kind":"CredentialProviderConfig","apiVersion":"kubelet.config.k8s.io/v1","providers":[{"name":"a","zeta":1,"alpha":2,"name":"b"}],"kind":"CredentialProviderConfig"}"#;
    assert_eq!(
        err(json),
        "strict decoding error: unknown field \"providers[0].zeta\", unknown field \"providers[0].alpha\", duplicate field \"providers[0].name\", duplicate field \"kind\""
    );
    // YAML goes through a Go map first: keys come sorted, duplicates are go-yaml's report.
    let yaml = format!("{V1_HEADER}providers:\n- name: a\n  zeta: 1\n  alpha: 2\n  name: b\n");
    assert_eq!(
        err(&yaml),
        "strict decoding error: yaml: unmarshal errors:\n  line 7: key \"name\" already set in map, unknown field \"providers[0].alpha\", unknown field \"providers[0].zeta\""
    );
}

#[test]
fn type_errors_win_over_strict_errors() {
    let yaml = format!("{V1_HEADER}providers:\n- name: a\n  unknown: 1\n  args: 5\n");
    assert_eq!(
        err(&yaml),
        "json: cannot unmarshal number into Go struct field CredentialProvider.providers.args of type []string"
    );
}

#[test]
fn kind_and_version_errors() {
    assert_eq!(
        err("kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\n"),
        "failed to decode \"KubeletConfiguration\" (wrong Kind)"
    );
    assert_eq!(
        err("kind: CredentialProviderRequest\napiVersion: credentialprovider.kubelet.k8s.io/v1\nimage: x\n"),
        "failed to decode \"CredentialProviderRequest\" (wrong Kind)"
    );
    assert_eq!(
        err("kind: CredentialProviderRequest\napiVersion: credentialprovider.kubelet.k8s.io/v1\nfoo: x\n"),
        "strict decoding error: unknown field \"foo\""
    );
    assert_eq!(
        err("kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v2\n"),
        "no kind \"CredentialProviderConfig\" is registered for version \"kubelet.config.k8s.io/v2\" in scheme \"pkg/runtime/scheme.go:100\""
    );
    assert_eq!(
        err("apiVersion: kubelet.config.k8s.io/v1\n"),
        "Object 'Kind' is missing in 'apiVersion: kubelet.config.k8s.io/v1\n'"
    );
    assert_eq!(
        err("kind: CredentialProviderConfig\n"),
        "Object 'apiVersion' is missing in 'kind: CredentialProviderConfig\n'"
    );
    assert_eq!(err(""), "Object 'Kind' is missing in ''");
    assert_eq!(
        err("- a\n"),
        "couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }"
    );
    assert_eq!(
        err("{\"kind\": \"CredentialProviderConfig\",}"),
        "couldn't get version/kind; json parse error: invalid character '}' looking for beginning of object key string"
    );
    assert!(
        err("kind: [").starts_with("yaml: line "),
        "{}",
        err("kind: [")
    );
}

#[test]
fn v1_token_attributes_decode() {
    let yaml = format!(
        "{V1_HEADER}providers:\n- name: a\n  matchImages: [\"*.io\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  \
         tokenAttributes:\n    serviceAccountTokenAudience: aud\n    cacheType: ServiceAccount\n    requireServiceAccount: false\n    \
         optionalServiceAccountAnnotationKeys: [a.io/x]\n  env:\n  - name: FOO\n    value: \"1\"\n"
    );
    let config = decode_config(yaml.as_bytes()).unwrap();
    let provider = &config.providers[0];
    assert_eq!(
        provider.default_cache_duration,
        Some(GoDuration(60_000_000_000))
    );
    assert_eq!(
        provider.env,
        vec![ExecEnvVar {
            name: "FOO".into(),
            value: "1".into()
        }]
    );
    assert_eq!(
        provider.token_attributes,
        Some(ServiceAccountTokenAttributes {
            service_account_token_audience: "aud".into(),
            cache_type: "ServiceAccount".into(),
            require_service_account: Some(false),
            required_service_account_annotation_keys: vec![],
            optional_service_account_annotation_keys: vec!["a.io/x".into()],
        })
    );
    // Round trip through the v1 JSON encoding.
    let again: CredentialProviderConfig = decode_config(&config.encode_v1()).unwrap();
    assert_eq!(again, config);
}

#[test]
fn v1_encoding_follows_go_omitempty() {
    let config = decode_config(
        format!("{V1_HEADER}providers:\n- name: a\n  tokenAttributes: {{}}\n").as_bytes(),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(config.encode_v1()).unwrap(),
        "{\"kind\":\"CredentialProviderConfig\",\"apiVersion\":\"kubelet.config.k8s.io/v1\",\"providers\":[{\"name\":\"a\",\"matchImages\":null,\"defaultCacheDuration\":null,\"apiVersion\":\"\",\"tokenAttributes\":{\"serviceAccountTokenAudience\":\"\",\"cacheType\":\"\",\"requireServiceAccount\":null}}]}\n"
    );
}

#[test]
fn yaml_1_1_booleans_are_not_strings() {
    // go-yaml v2 reads an unquoted `N` as false (the "Norway problem"), so the kubelet
    // rejects this env name; quoting it makes it a string.
    assert_eq!(
        err(&format!("{V1_HEADER}providers:\n- env:\n  - name: N\n")),
        "json: cannot unmarshal bool into Go struct field ExecEnvVar.providers.env.name of type string"
    );
    let config =
        decode_config(format!("{V1_HEADER}providers:\n- env:\n  - name: \"N\"\n").as_bytes())
            .unwrap();
    assert_eq!(config.providers[0].env[0].name, "N");
}
