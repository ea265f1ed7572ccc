//! Every row of `tests/conformance/go_filepath_match_cases.json` (Go `filepath.Match`,
//! Unix semantics).

use kcred_match::{go_filepath_match, BadPattern};
use serde::Deserialize;

#[derive(Deserialize)]
struct Table {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    pattern: String,
    name: String,
    #[serde(rename = "match")]
    expected: bool,
    err_bad_pattern: bool,
}

#[test]
fn every_filepath_match_case_agrees_with_go() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/go_filepath_match_cases.json"
    ))
    .expect("go_filepath_match_cases.json is readable");
    let table: Table = serde_json::from_str(&text).expect("table parses");
    assert_eq!(table.cases.len(), 56, "the table has 56 cases");
    let mut failures = Vec::new();
    for case in &table.cases {
        let want = if case.err_bad_pattern {
            Err(BadPattern)
        } else {
            Ok(case.expected)
        };
        let got = go_filepath_match(&case.pattern, &case.name);
        if got != want {
            failures.push(format!(
                "Match({:?}, {:?}) = {got:?}, want {want:?}",
                case.pattern, case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}
