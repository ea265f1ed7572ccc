//! `kcred validate`: exit codes, the kubelet's messages, lint warnings, directories.

use crate::common::{config_yaml, kcred, provider_yaml, write};
use kcred_config::load::config_hash;

#[test]
fn valid_file_reports_counts_and_hash() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = config_yaml(&[provider_yaml("ecr", &["*.dkr.ecr.*.amazonaws.com"], "")]);
    let file = write(tmp.path(), "config.yaml", &text);
    let run = kcred(&["validate".as_ref(), file.as_os_str()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "valid: 1 provider from 1 file (hash {})\n",
            config_hash([text.as_bytes()])
        )
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn valid_directory_merges_files_in_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = config_yaml(&[provider_yaml("a", &["a.io"], "")]);
    let b = config_yaml(&[
        provider_yaml("b", &["b.io"], ""),
        provider_yaml("c", &["c.io"], ""),
    ]);
    write(tmp.path(), "10-a.yaml", &a);
    write(tmp.path(), "20-b.json.yml", &b);
    write(tmp.path(), "README.md", "ignored");
    let run = kcred(&["validate".as_ref(), tmp.path().as_os_str()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "valid: 3 providers from 2 files (hash {})\n",
            config_hash([a.as_bytes(), b.as_bytes()])
        )
    );
}

#[test]
fn validation_failure_prints_the_kubelet_message() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n  - name: foo bar\n    matchImages: []\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n";
    let file = write(tmp.path(), "c.yaml", text);
    let run = kcred(&["validate".as_ref(), file.as_os_str()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: failed to validate credential provider config: [providers.name: Invalid value: \"foo bar\": provider name cannot contain spaces, providers.matchImages: Required value: at least 1 item in matchImages is required, providers.defaultCacheDuration: Required value]\n"
    );
}

#[test]
fn feature_gate_controls_token_attributes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let attrs = "    tokenAttributes:\n      serviceAccountTokenAudience: my-audience\n      cacheType: ServiceAccount\n      requireServiceAccount: true\n";
    let file = write(
        tmp.path(),
        "c.yaml",
        &config_yaml(&[provider_yaml("sa", &["registry.io"], attrs)]),
    );
    let on = kcred(&["validate".as_ref(), file.as_os_str()]);
    assert_eq!(on.code, 0, "{on:?}");

    let off = kcred(&[
        "validate".as_ref(),
        file.as_os_str(),
        "--feature-gates".as_ref(),
        "KubeletServiceAccountTokenForCredentialProviders=false".as_ref(),
    ]);
    assert_eq!(off.code, 1, "{off:?}");
    assert_eq!(
        off.stderr,
        "error: failed to validate credential provider config: providers.tokenAttributes: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled\n"
    );
}

#[test]
fn read_errors_are_the_kubelet_messages() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("nope.yaml");
    let run = kcred(&["validate".as_ref(), missing.as_os_str()]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: unable to access path \"{0}\": stat {0}: no such file or directory\n",
            missing.display()
        )
    );

    let empty = tempfile::tempdir().expect("tempdir");
    let run = kcred(&["validate".as_ref(), empty.path().as_os_str()]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: no configuration files found in directory \"{}\"\n",
            empty.path().display()
        )
    );
}

#[test]
fn decode_errors_name_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = config_yaml(&[provider_yaml("a", &["a.io"], "    unknownField: 1\n")]);
    let file = write(tmp.path(), "c.yaml", &text);
    let run = kcred(&["validate".as_ref(), tmp.path().as_os_str()]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: error decoding config \"{}\": strict decoding error: unknown field \"providers[0].unknownField\"\n",
            file.display()
        )
    );
}

#[test]
fn duplicate_names_across_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        tmp.path(),
        "a.yaml",
        &config_yaml(&[provider_yaml("dup", &["a.io"], "")]),
    );
    write(
        tmp.path(),
        "b.yaml",
        &config_yaml(&[provider_yaml("dup", &["b.io"], "")]),
    );
    let run = kcred(&["validate".as_ref(), tmp.path().as_os_str()]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: duplicate provider name \"dup\" found in configuration file(s)\n"
    );
}

#[test]
fn lint_warnings_do_not_fail_unless_denied() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = write(
        tmp.path(),
        "c.yaml",
        &config_yaml(&[provider_yaml("p", &["*.io"], "")]),
    );
    let run = kcred(&["validate".as_ref(), file.as_os_str()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with("valid: 1 provider from 1 file"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .starts_with("warning: provider \"p\": matchImages \"*.io\": "),
        "{run:?}"
    );
    assert!(
        run.stderr.trim_end().ends_with("[wildcard-label]"),
        "{run:?}"
    );

    let denied = kcred(&[
        "validate".as_ref(),
        file.as_os_str(),
        "--deny-warnings".as_ref(),
    ]);
    assert_eq!(denied.code, 1, "{denied:?}");
    assert_eq!(denied.stdout, "");
    assert!(
        denied.stderr.contains("warning: provider \"p\""),
        "{denied:?}"
    );
    assert!(
        denied
            .stderr
            .ends_with("error: 1 warning and --deny-warnings is set\n"),
        "{denied:?}"
    );
}

#[test]
fn malformed_feature_gates_are_a_usage_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = write(
        tmp.path(),
        "c.yaml",
        &config_yaml(&[provider_yaml("p", &["a.io"], "")]),
    );
    let run = kcred(&[
        "validate".as_ref(),
        file.as_os_str(),
        "--feature-gates".as_ref(),
        "KubeletServiceAccountTokenForCredentialProviders".as_ref(),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: invalid --feature-gates: missing bool value for KubeletServiceAccountTokenForCredentialProviders\n"
    );
    let other = kcred(&[
        "validate".as_ref(),
        file.as_os_str(),
        "--feature-gates".as_ref(),
        "SomeOtherGate=true".as_ref(),
    ]);
    assert_eq!(other.code, 0, "{other:?}");
    assert!(
        other
            .stderr
            .contains("note: ignoring feature gate SomeOtherGate"),
        "{other:?}"
    );
}
