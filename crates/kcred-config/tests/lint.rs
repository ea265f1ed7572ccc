//! Each lint rule fires on the mistake it describes, and stays quiet on ordinary patterns.

use kcred_api::config::CredentialProvider;
use kcred_api::GoDuration;
use kcred_config::{lint, Lint, LintRule};

fn provider(patterns: &[&str]) -> CredentialProvider {
    CredentialProvider {
        name: "p".to_owned(),
        match_images: patterns.iter().map(|s| s.to_string()).collect(),
        default_cache_duration: Some(GoDuration(600_000_000_000)),
        api_version: "credentialprovider.kubelet.k8s.io/v1".to_owned(),
        ..Default::default()
    }
}

fn lints(patterns: &[&str]) -> Vec<Lint> {
    lint(&[provider(patterns)])
}

fn rules(pattern: &str) -> Vec<LintRule> {
    lints(&[pattern]).into_iter().map(|l| l.rule).collect()
}

#[test]
fn ordinary_patterns_are_quiet() {
    for ok in [
        "*.dkr.ecr.*.amazonaws.com",
        "*.azurecr.io",
        "gcr.io",
        "*.gcr.io",
        "*.pkg.dev",
        "registry.k8s.io/pause",
        "docker.io",
        "prefix.*.io",
        "[::1]",
    ] {
        assert_eq!(rules(ok), vec![], "{ok}");
    }
}

#[test]
fn wildcard_over_a_top_level_domain() {
    let l = lints(&["*.io"]);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].rule, LintRule::WildcardLabel);
    assert_eq!(l[0].pattern.as_deref(), Some("*.io"));
    assert!(
        l[0].message.contains("\"registry.k8s.io\""),
        "{}",
        l[0].message
    );
    assert_eq!(rules("**.example.com"), vec![LintRule::WildcardLabel]);
}

#[test]
fn path_is_a_literal_prefix() {
    let l = lints(&["registry.io/*"]);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].rule, LintRule::PathLiteralPrefix);
    assert!(l[0].message.contains("\"/*\""), "{}", l[0].message);
    let q = lints(&["registry.io/team?x"]);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].rule, LintRule::PathLiteralPrefix);
    assert!(
        q[0].message.contains("\"registry.io/team\""),
        "{}",
        q[0].message
    );
}

#[test]
fn port_must_match() {
    let l = lints(&["registry.io:5000"]);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].rule, LintRule::PortMustMatch);
    assert!(l[0].message.contains("5000"));
    // An empty port after ':' equals no port.
    assert_eq!(rules("registry.io:"), vec![]);
}

#[test]
fn bare_wildcard() {
    let l = lints(&["*"]);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].rule, LintRule::BareWildcard);
    assert!(l[0].message.contains("localhost") && l[0].message.contains("docker.io"));
}

#[test]
fn uppercase_host() {
    assert_eq!(rules("Registry.io"), vec![LintRule::UppercaseHost]);
}

#[test]
fn unmatchable_patterns() {
    assert_eq!(rules("https://registry.io"), vec![LintRule::Unmatchable]);
    assert_eq!(rules("registry..io"), vec![LintRule::Unmatchable]);
    assert_eq!(rules(".registry.io"), vec![LintRule::Unmatchable]);
    // A malformed class: refused by kubelets built with Go 1.24.8+ (CVE-2025-47912), never
    // matching before.
    assert_eq!(rules("a[.registry.io"), vec![LintRule::VersionDependent]);
    let old = kcred_kubelet::KubeletVersion::parse("1.30").expect("known");
    let provider = kcred_api::config::CredentialProvider {
        name: "p".to_owned(),
        match_images: vec!["a[.registry.io".to_owned()],
        ..Default::default()
    };
    let old_rules: Vec<LintRule> = kcred_config::lint_for(&[provider], old)
        .into_iter()
        .map(|l| l.rule)
        .collect();
    assert_eq!(
        old_rules,
        vec![LintRule::VersionDependent, LintRule::Unmatchable]
    );
    assert_eq!(rules("reg_istry.io"), vec![LintRule::Unmatchable]);
    assert_eq!(rules("registry.io/Team"), vec![LintRule::Unmatchable]);
    assert_eq!(rules("/only/a/path"), vec![LintRule::Unmatchable]);
    let scheme = &lints(&["https://registry.io"])[0];
    assert!(
        scheme.message.contains("\"registry.io\""),
        "{}",
        scheme.message
    );
}

#[test]
fn zero_cache_duration() {
    let mut p = provider(&["registry.io"]);
    p.default_cache_duration = Some(GoDuration(0));
    let l = lint(&[p]);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].rule, LintRule::NoCaching);
    assert_eq!(l[0].pattern, None);
    assert!(l[0]
        .to_string()
        .starts_with("provider \"p\": defaultCacheDuration is 0"));
}

#[test]
fn duplicate_patterns() {
    let l = lints(&["a.io", "b.io", "a.io"]);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].rule, LintRule::DuplicatePattern);
    assert_eq!(l[0].pattern.as_deref(), Some("a.io"));
}

#[test]
fn invalid_patterns_are_left_to_validation() {
    assert_eq!(rules("%invalid%"), vec![]);
}

#[test]
fn display_names_provider_pattern_and_rule() {
    let l = &lints(&["*"])[0];
    let s = l.to_string();
    assert!(s.starts_with("provider \"p\": matchImages \"*\": "), "{s}");
    assert!(s.ends_with(" [bare-wildcard]"), "{s}");
}

/// The quoted strings of a lint message, in order.
fn quoted(message: &str) -> Vec<String> {
    message
        .split('"')
        .skip(1)
        .step_by(2)
        .map(|q| q.replace("\\\\", "\\"))
        .collect()
}

fn pattern_matches(pattern: &str, host: &str) -> bool {
    let p = kcred_match::MatchImage::parse(pattern).expect("pattern");
    let t = kcred_match::MatchTarget::parse(&format!("{host}/app")).expect("image");
    p.matches(&t)
}

/// Issue 12, defect 8: the host cited as matching really matches (it used to be
/// `k8s.<tld>` whatever the first label was), and the deeper host really does not.
#[test]
fn wildcard_label_cites_hosts_that_really_match() {
    for pattern in [
        "*.io",
        "ecr-*.com",
        "*-registry.io",
        "reg*y.dev",
        "a*b*c.example",
    ] {
        let l = lints(&[pattern]);
        let wildcard: Vec<&Lint> = l
            .iter()
            .filter(|l| l.rule == LintRule::WildcardLabel)
            .collect();
        assert_eq!(wildcard.len(), 1, "{pattern}: {l:?}");
        let q = quoted(&wildcard[0].message);
        // [pattern host, a matching host, a deeper host, the suggested extra pattern]
        assert_eq!(q.len(), 4, "{pattern}: {q:?}");
        assert!(
            pattern_matches(pattern, &q[1]),
            "{pattern} must match {q:?}"
        );
        assert!(
            !pattern_matches(pattern, &q[2]),
            "{pattern} must not match {q:?}"
        );
        assert!(
            pattern_matches(&q[3], &q[2]),
            "{q:?}: suggestion must match the deeper host"
        );
    }
    let l = &lints(&["*.io"])[0];
    assert!(l.message.contains("\"registry.k8s.io\""), "{}", l.message);
}
