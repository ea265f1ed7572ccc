//! The command-line contract: arguments, `--version`, `--help`, and the `plugin_io` rows of
//! `tests/conformance/ecr_cases.json` (upstream `Test_runPlugin`).

use crate::common::{failure, run_plugin, stderr, stdout};
use kcred_api::{ApiVersion, GoDuration, Secret};
use kcred_ecr::EcrCredentials;
use serde_json::Value;

const ENV: [(&str, &str); 1] = [("AWS_EC2_METADATA_DISABLED", "true")];

fn plugin_io_rows() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/ecr_cases.json"
    );
    let all: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all.into_iter()
        .filter(|c| c["kind"] == "plugin_io")
        .collect()
}

#[test]
fn version_and_help() {
    let out = run_plugin(&["--version"], "", &ENV);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with("ecr-credential-provider version v"),
        "{}",
        stdout(&out)
    );
    let out = run_plugin(&["--help"], "", &ENV);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Usage: ecr-credential-provider"));
}

#[test]
fn unknown_flags_fail_before_reading_stdin() {
    let out = run_plugin(&["--region=us-west-2"], "", &ENV);
    let err = failure(&out);
    assert!(err.contains("unknown flag: --region=us-west-2"), "{err}");
}

#[test]
fn positional_arguments_and_klog_flags_are_accepted() {
    // `get-credentials` (from old configs) and `--v=4` must not fail the run: the failure
    // here comes from the request, not from the arguments.
    let out = run_plugin(
        &["get-credentials", "--v=4"],
        &crate::common::request(""),
        &ENV,
    );
    let err = failure(&out);
    assert!(err.contains("image in plugin request was empty"), "{err}");
}

#[test]
fn plugin_io_rows_from_the_conformance_table() {
    let rows = plugin_io_rows();
    assert_eq!(rows.len(), 3);
    for row in rows {
        let note = row["note"].as_str().unwrap_or("");
        if let Some(want) = row["expect"]["stdout"].as_str() {
            // Upstream's row runs runPlugin with a fake GetCredentials answering 10m for
            // `*.registry.io`; kcred's equivalent is encoding those credentials.
            let creds = EcrCredentials {
                auth_key: "*.registry.io".to_owned(),
                username: "user".to_owned(),
                password: Secret::new("password"),
                cache_duration: GoDuration(600 * 1_000_000_000),
            };
            let bytes = creds.into_response(ApiVersion::V1).encode();
            assert_eq!(String::from_utf8(bytes).unwrap(), want, "{note}");
            continue;
        }
        let out = run_plugin(&[], row["stdin"].as_str().unwrap(), &ENV);
        assert_eq!(
            out.status.code(),
            row["expect_exit_code"].as_i64().map(|c| c as i32)
        );
        assert_eq!(
            stdout(&out),
            row["expect_stdout"].as_str().unwrap(),
            "{note}"
        );
        let err = stderr(&out);
        match row["error"].as_str() {
            Some("(any decode error)") => assert!(err.contains("CredentialProviderFoo"), "{err}"),
            Some(msg) => assert!(err.contains(msg), "{msg:?} in {err}"),
            None => unreachable!("rows without stdout carry an error"),
        }
    }
}
