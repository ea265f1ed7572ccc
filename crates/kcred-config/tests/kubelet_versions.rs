//! Config reading, validation and lints follow the kubelet version table.

use kcred_api::config::{CredentialProvider, ServiceAccountTokenAttributes};
use kcred_api::GoDuration;
use kcred_config::{lint_for, load_files_for, load_path_for, validate_for, FeatureGates, LintRule};
use kcred_kubelet::KubeletVersion;

fn v(s: &str) -> KubeletVersion {
    KubeletVersion::parse(s).expect("known version")
}

fn provider(pattern: &str) -> CredentialProvider {
    CredentialProvider {
        name: "p".to_owned(),
        match_images: vec![pattern.to_owned()],
        default_cache_duration: Some(GoDuration(60_000_000_000)),
        api_version: "credentialprovider.kubelet.k8s.io/v1".to_owned(),
        ..Default::default()
    }
}

fn errors(p: CredentialProvider, version: &str) -> String {
    let kubelet = v(version);
    match validate_for(&[p], FeatureGates::for_kubelet(kubelet), kubelet) {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn match_images_validity_follows_the_go_of_each_kubelet() {
    let p = || provider("myacr.[a-z]cr");
    assert_eq!(errors(p(), "1.30"), "ok");
    assert_eq!(errors(p(), "1.34.1"), "ok");
    assert_eq!(
        errors(p(), "1.34.2"),
        r#"providers.matchImages: Invalid value: "myacr.[a-z]cr": match image is invalid: parse "https://myacr.[a-z]cr": invalid port "cr" after host"#
    );
    assert_eq!(
        errors(p(), "1.37"),
        r#"providers.matchImages: Invalid value: "myacr.[a-z]cr": match image is invalid: parse "https://myacr.[a-z]cr": invalid IP-literal"#
    );
    assert!(errors(provider("[::ffff:10.0.0.1]:5000"), "1.33.6").contains("invalid IPv6 host"));
    assert_eq!(errors(provider("[::ffff:10.0.0.1]:5000"), "1.33.7"), "ok");
    assert!(errors(provider("reg:5000:1"), "1.37").contains(r#"invalid port ":5000:1" after host"#));
    assert_eq!(errors(provider("reg:5000:1"), "1.36"), "ok");
}

#[test]
fn messages_before_1_34_name_the_field() {
    let mut p = provider("registry.io");
    p.api_version = String::new();
    p.default_cache_duration = Some(GoDuration(-60_000_000_000));
    assert_eq!(
        errors(p.clone(), "1.33"),
        "[providers.apiVersion: Required value: apiVersion is required, \
providers.defaultCacheDuration: Invalid value: -1m0s: defaultCacheDuration must be greater than or equal to 0]"
    );
    assert_eq!(
        errors(p, "1.34"),
        "[providers.apiVersion: Required value, \
providers.defaultCacheDuration: Invalid value: \"-1m0s\": must be greater than or equal to 0]"
    );
}

#[test]
fn token_mode_by_version() {
    let mut p = provider("registry.io");
    p.token_attributes = Some(ServiceAccountTokenAttributes {
        service_account_token_audience: "aud".to_owned(),
        require_service_account: Some(true),
        ..Default::default()
    });
    // 1.33: alpha gate off by default; no cacheType to require.
    assert_eq!(
        errors(p.clone(), "1.33"),
        "providers.tokenAttributes: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"
    );
    let gates = FeatureGates {
        service_account_token_for_credential_providers: true,
    };
    assert!(validate_for(std::slice::from_ref(&p), gates, v("1.33")).is_ok());
    // 1.34: gate on, cacheType required.
    assert!(errors(p, "1.34")
        .starts_with("providers.tokenAttributes.cacheType: Required value: cacheType is required"));
}

const V1_TOKEN: &str = "apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: p
  matchImages: [registry.io]
  defaultCacheDuration: 1m
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  tokenAttributes:
    serviceAccountTokenAudience: aud
    requireServiceAccount: true
    cacheType: Token
";

#[test]
fn fields_a_kubelet_lacks_fail_decoding() {
    let file = || vec![("c.yaml".into(), V1_TOKEN.as_bytes().to_vec())];
    let err = load_files_for(file(), v("1.32")).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"error decoding config "c.yaml": strict decoding error: unknown field "providers[0].tokenAttributes""#
    );
    assert!(err.version_note().unwrap().contains("added in 1.33"));
    let err = load_files_for(file(), v("1.33")).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"error decoding config "c.yaml": strict decoding error: unknown field "providers[0].tokenAttributes.cacheType""#
    );
    assert!(load_files_for(file(), v("1.34")).is_ok());
}

#[test]
fn directories_need_1_34() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.yaml"), V1_TOKEN).expect("write");
    assert!(load_path_for(dir.path(), v("1.34")).is_ok());
    let err = load_path_for(dir.path(), v("1.33"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "unable to read external registry credential provider configuration from {:?}: read {}: is a directory",
            dir.path().display().to_string(),
            dir.path().display()
        )
    );
}

#[test]
fn version_dependent_patterns_get_a_lint() {
    let lints = lint_for(&[provider("myacr.[a-z]cr")], v("1.30"));
    let lint = lints
        .iter()
        .find(|l| l.rule == LintRule::VersionDependent)
        .expect("version lint");
    assert_eq!(
        lint.message,
        "the kubelet's Go URL parsing changed: accepted by kubelet 1.26–1.32.10, 1.33.0–1.33.5, \
1.34.0–1.34.1; refused by kubelet 1.32.11 and later 1.32 patches, 1.33.6 and later 1.33 patches, \
1.34.2–1.37 (there the whole config is refused: square brackets in the host may hold only an \
IPv6 address (CVE-2025-47912, golang/go#75678))"
    );
    let lints = lint_for(&[provider("reg:1:2")], v("1.30"));
    assert!(lints.iter().any(|l| l.rule == LintRule::VersionDependent
        && l.message
            .contains("accepted by kubelet 1.26–1.36; refused by kubelet 1.37")));
    assert!(lint_for(&[provider("*.registry.io")], v("1.30"))
        .iter()
        .all(|l| l.rule != LintRule::VersionDependent));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// No pattern panics validation or lints under any kubelet in the table, and a pattern
    /// the version-dependence lint calls accepted by a kubelet validates under it.
    #[test]
    fn any_pattern_under_any_version(pattern in "[a-z.:\\[\\]%0-9@/*?]{0,20}") {
        let p = provider(&pattern);
        let split_message = kcred_config::lint::version_dependence(&pattern);
        for kubelet in KubeletVersion::representatives() {
            let gates = FeatureGates::for_kubelet(kubelet);
            let valid = validate_for(std::slice::from_ref(&p), gates, kubelet).is_ok();
            let _ = lint_for(std::slice::from_ref(&p), kubelet);
            let parses = kcred_match::gourl::parse_schemeless_url_as(&pattern, kubelet.url_parsing()).is_ok();
            proptest::prop_assert_eq!(valid, parses, "{} under {}", pattern, kubelet);
        }
        if let Some(message) = split_message {
            proptest::prop_assert!(message.contains("accepted by kubelet") && message.contains("refused by kubelet"));
        }
    }
}
