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

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.sa-token-payload.sig";
const PASSWORD: &str = "hunter2-Pa55word";

/// Issue 12, defect 4: a failing SA-mode plugin that writes the token to its stderr: the
/// token appears nowhere in kcred's output, in any format.
#[test]
fn a_token_echoed_on_stderr_is_scrubbed() {
    let f = Fixture::new();
    f.plugin("sa", Plugin::Test).config(&[provider(
        "sa",
        &["r.io"],
        &["--mode", "fail", "--stderr-token"],
        "    tokenAttributes:\n      serviceAccountTokenAudience: r.io\n      cacheType: ServiceAccount\n      requireServiceAccount: true\n",
    )]);
    let token_file = f.write("token", TOKEN);
    let token_arg = token_file.display().to_string();
    for format in ["table", "json", "auth-json"] {
        let run = f.get(
            "r.io/app",
            &[
                "-o",
                format,
                "--service-account",
                "builder",
                "--service-account-token",
                &token_arg,
            ],
        );
        assert_eq!(run.code, 1, "{format}: {run:?}");
        assert!(!run.all().contains(TOKEN), "{format}: {run:?}");
        assert!(
            run.stderr.contains("exit status 1: token was <redacted>"),
            "{format}: {run:?}"
        );
    }
}

/// Issue 12, defect 4: a password kcred received from one provider, echoed on another
/// provider's stderr (before or after it in config order), is scrubbed.
#[test]
fn a_known_password_echoed_on_stderr_is_scrubbed() {
    let f = Fixture::new();
    let auth = format!("r.io=alice:{PASSWORD}");
    let echo = format!("denied for {PASSWORD}\n");
    f.plugin("good", Plugin::Test)
        .plugin("echo-before", Plugin::Test)
        .plugin("echo-after", Plugin::Test)
        .config(&[
            provider(
                "echo-before",
                &["r.io"],
                &["--mode", "fail", "--stderr", &echo],
                "",
            ),
            provider("good", &["r.io"], &["--auth", &auth], ""),
            provider(
                "echo-after",
                &["r.io"],
                &["--mode", "fail", "--stderr", &echo],
                "",
            ),
        ]);
    for format in ["table", "json"] {
        let run = f.get("r.io/app", &["-o", format]);
        assert_eq!(run.code, 1, "{format}: {run:?}");
        assert!(!run.all().contains(PASSWORD), "{format}: {run:?}");
        assert_eq!(
            run.stderr
                .matches("exit status 1: denied for <redacted>")
                .count(),
            2,
            "{format}: {run:?}"
        );
    }
    // With --show-secrets the password is shown where it belongs (the credential), and
    // still not in the echoed stderr.
    let run = f.get("r.io/app", &["--show-secrets"]);
    assert!(run.stdout.contains(PASSWORD), "{run:?}");
    assert!(!run.stderr.contains(PASSWORD), "{run:?}");
}

/// Issue 12, defect 5: ESC, CR, LF and other controls in a plugin's stderr never reach the
/// terminal raw: they are escaped Go-style (`\x1b`, `\r`, `\n`), so a plugin cannot clear
/// the screen or forge report lines.
#[test]
fn terminal_escapes_on_stderr_are_escaped() {
    let f = Fixture::new();
    let hostile = "\u{1b}[2J\u{1b}[Hfake\rresult: 1 credential\nprovider \"x\": ok\u{7}\u{9b}31m";
    let hex: String = hostile.bytes().map(|b| format!("{b:02x}")).collect();
    f.plugin("p", Plugin::Test).config(&[provider(
        "p",
        &["r.io"],
        &["--mode", "fail", "--stderr-hex", &hex],
        "",
    )]);
    for format in ["table", "json", "dockerconfigjson"] {
        let run = f.get("r.io/app", &["-o", format]);
        assert_eq!(run.code, 1, "{format}: {run:?}");
        for raw in ['\u{1b}', '\r', '\u{7}', '\u{9b}'] {
            assert!(!run.all().contains(raw), "{format}: {raw:?} in {run:?}");
        }
        assert!(
            run.stderr.contains(
                "exit status 1: \\x1b[2J\\x1b[Hfake\\rresult: 1 credential\\nprovider \"x\": ok\\a\\u009b31m\n"
            ),
            "{format}: {run:?}"
        );
        // One line per error on stderr: the plugin's LF did not start a new line.
        assert!(
            !run.stderr.lines().any(|l| l.starts_with("provider \"x\"")),
            "{run:?}"
        );
    }
}

/// Issue 12, defect 1: `kcred get` with a real plugin and stdout on a full disk: exit 4 and
/// the cause on stderr, never a panic, in every output format.
#[test]
fn get_to_a_full_disk_exits_4() {
    let f = Fixture::new();
    f.plugin("p", Plugin::Test).config(&[provider(
        "p",
        &["r.io"],
        &["--auth", "r.io=u:pw-1234"],
        "",
    )]);
    for format in ["table", "json", "auth-json", "dockerconfigjson"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kcred"))
            .args(["get", "r.io/app", "-o", format, "--config"])
            .arg(f.config_path())
            .arg("--bin-dir")
            .arg(f.bin_dir())
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");
        assert_eq!(out.status.code(), Some(4), "{format}: {stderr}");
        assert!(
            stderr.contains("error: cannot write to stdout: No space left on device"),
            "{format}: {stderr}"
        );
    }
}
