//! Every row of `tests/conformance/url_variant_cases.json`: Go's `url.Parse("https://" + s)`
//! as each Go URL-parsing variant that built a kubelet does it (generated from real Go
//! toolchains by `scripts/gen-url-variant-cases.py`), against `parse_schemeless_url_as`.

use std::collections::BTreeMap;

use kcred_match::gourl::{parse_schemeless_url_as, rejecting_rule, GoUrlParsing};
use serde::Deserialize;

#[derive(Deserialize)]
struct Doc {
    toolchains: BTreeMap<String, String>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    input: String,
    results: BTreeMap<String, GoResult>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct GoResult {
    host: Option<String>,
    path: Option<String>,
    error: Option<String>,
}

fn doc() -> Doc {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/url_variant_cases.json"
    ))
    .expect("url_variant_cases.json is readable");
    serde_json::from_str(&text).expect("url_variant_cases.json parses")
}

/// Go's `encoding/json` replaces each byte of invalid UTF-8 with U+FFFD.
fn go_json_string(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                out.push('\u{FFFD}');
                rest = &bad[1..];
            }
        }
    }
    out
}

fn ours(input: &str, variant: GoUrlParsing) -> GoResult {
    match parse_schemeless_url_as(input, variant) {
        Ok(u) => GoResult {
            host: Some(go_json_string(u.host_bytes())),
            path: Some(go_json_string(u.path_bytes())),
            error: None,
        },
        Err(e) => GoResult {
            host: None,
            path: None,
            error: Some(e.to_string()),
        },
    }
}

#[test]
fn every_variant_parses_like_its_go() {
    let doc = doc();
    assert_eq!(doc.toolchains.len(), GoUrlParsing::ALL.len());
    assert!(doc.cases.len() >= 300, "{} cases", doc.cases.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &doc.cases {
        for variant in GoUrlParsing::ALL {
            let want = case
                .results
                .get(variant.name())
                .unwrap_or_else(|| panic!("{:?} lacks {variant}", case.input));
            let got = ours(&case.input, variant);
            checked += 1;
            if &got != want {
                failures.push(format!(
                    "{:?} under {variant}: Go {want:?}, kcred {got:?}",
                    case.input
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn each_variant_has_rows_where_it_differs_from_the_one_before() {
    let doc = doc();
    for pair in GoUrlParsing::ALL.windows(2) {
        let differs = doc
            .cases
            .iter()
            .filter(|c| c.results[pair[0].name()] != c.results[pair[1].name()])
            .count();
        assert!(differs >= 3, "{} vs {}: {differs} rows", pair[0], pair[1]);
    }
}

#[test]
fn rejections_name_the_go_change() {
    let rule = |s: &str, v| rejecting_rule(s, v).map(|(r, _)| r);
    use GoUrlParsing::*;
    assert_eq!(rule("myacr.[a-z]cr", BeforeCve2025_47912), None);
    assert_eq!(
        rule("myacr.[a-z]cr", BracketsIpv6Only),
        Some(BracketsIpv6Only)
    );
    assert_eq!(rule("myacr.[a-z]cr", StrictColons), Some(BracketsIpv6Only));
    assert_eq!(rule("[1.2.3.4]", StrictColons), Some(BracketsIpv6Only));
    assert_eq!(
        rule("[::ffff:1.2.3.4]", BracketsIpv6OnlyIpv4MappedRegression),
        Some(BracketsIpv6OnlyIpv4MappedRegression)
    );
    assert_eq!(rule("[::ffff:1.2.3.4]", StrictColons), None);
    assert_eq!(
        rule("evil.com[::1]:80", StrictColons),
        Some(Ipv6LiteralStartsHost)
    );
    assert_eq!(rule("localhost:80:80", StrictColons), Some(StrictColons));
    assert_eq!(rule("localhost:80:80", Ipv6LiteralStartsHost), None);
    assert_eq!(rule("h.io/%zz", StrictColons), Some(BeforeCve2025_47912));
}

#[test]
fn keyring_keys_follow_the_variant() {
    use kcred_match::keyring::{DockerConfig, DockerConfigEntry, DockerKeyring};
    let mut cfg = DockerConfig::new();
    cfg.insert(
        "myacr.[a-z]cr".to_owned(),
        DockerConfigEntry {
            username: "u".to_owned(),
            ..Default::default()
        },
    );
    let mut old = DockerKeyring::with_url_parsing(GoUrlParsing::BeforeCve2025_47912);
    assert!(old.add(None, &cfg).is_empty());
    assert_eq!(old.lookup("myacr.gcr/x").len(), 1);
    // The newest kubelet's Go cannot parse the key: skipped, as the kubelet skips it.
    let mut new = DockerKeyring::new();
    let skipped = new.add(None, &cfg);
    assert_eq!(skipped.len(), 1);
    assert!(new.lookup("myacr.gcr/x").is_empty());
}
