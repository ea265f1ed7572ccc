//! `kcred get` against hostile plugins and answers (issue 12): usernames an auth file
//! cannot carry, secrets and terminal escapes echoed on a plugin's stderr.

mod get_support;

use get_support::{provider, Fixture, Plugin};

fn response_with_user(user: &str, pass: &str) -> String {
    serde_json::json!({
        "kind": "CredentialProviderResponse",
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "cacheKeyType": "Registry",
        "auth": {"r.io": {"username": user, "password": pass}},
    })
    .to_string()
}

/// Issue 12, defect 8: `auth` is base64 of `user:password`, split at the first ':' by every
/// reader, so a username holding ':' would be read as a different user. Refused, naming
/// the rule; nothing on stdout.
#[test]
fn auth_files_refuse_a_username_with_a_colon() {
    let f = Fixture::new();
    let response = response_with_user("ali:ce", "pw-secret");
    f.plugin("p", Plugin::Test)
        .config(&[provider("p", &["r.io"], &["--response", &response], "")]);
    for format in ["auth-json", "dockerconfigjson"] {
        let run = f.get("r.io/app", &["-o", format]);
        assert_eq!(run.code, 2, "{format}: {run:?}");
        assert_eq!(run.stdout, "", "{format}: {run:?}");
        assert!(
            run.stderr.contains("username \"ali:ce\" contains ':'"),
            "{format}: {run:?}"
        );
        assert!(!run.all().contains("pw-secret"), "{format}: {run:?}");
    }
    // The report formats show it as it is.
    let table = f.get("r.io/app", &[]);
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.stdout.contains("username \"ali:ce\""), "{table:?}");
}
