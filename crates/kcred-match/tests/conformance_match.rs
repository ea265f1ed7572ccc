//! Every row of `tests/conformance/match_cases.json` (kubelet `URLsMatchStr`, `pkg/credentialprovider/keyring.go`),
//! checked both the kubelet way (`urls_match_str`) and with pre-parsed patterns.

use kcred_match::{urls_match_str, MatchImage, MatchTarget};
use serde::Deserialize;

#[derive(Deserialize)]
struct Row {
    pattern: String,
    target: String,
    #[serde(rename = "match")]
    expected: bool,
    source: String,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/match_cases.json"
    ))
    .expect("match_cases.json is readable");
    serde_json::from_str(&text).expect("match_cases.json parses")
}

#[test]
fn every_match_case_agrees_with_the_kubelet() {
    let rows = rows();
    assert_eq!(rows.len(), 75, "the table has 75 rows");
    let mut failures = Vec::new();
    for row in &rows {
        let kubelet_way = urls_match_str(&row.pattern, &row.target);
        let pattern = MatchImage::parse(&row.pattern).expect("every pattern parses");
        let target = MatchTarget::parse(&row.target).expect("every target parses");
        let outcome = pattern.check(&target);
        if kubelet_way != Ok(row.expected)
            || pattern.matches(&target) != row.expected
            || outcome.is_match() != row.expected
        {
            failures.push(format!(
                "{:?} vs {:?}: want {}, urls_match_str {:?}, check: {} ({})",
                row.pattern, row.target, row.expected, kubelet_way, outcome, row.source
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "failing rows:\n{}",
        failures.join("\n")
    );
}

#[test]
fn non_matching_rows_name_a_reason() {
    for row in rows().iter().filter(|r| !r.expected) {
        let pattern = MatchImage::parse(&row.pattern).expect("pattern parses");
        let target = MatchTarget::parse(&row.target).expect("target parses");
        let text = pattern.check(&target).to_string();
        assert!(
            [
                "port differs",
                "host label count differs",
                "path differs",
                "label "
            ]
            .iter()
            .any(|p| text.starts_with(p)),
            "{:?} vs {:?}: {text}",
            row.pattern,
            row.target
        );
    }
}
