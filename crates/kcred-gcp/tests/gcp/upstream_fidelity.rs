//! Issue 11 item 5: upstream's `auth-provider-gcp` (cloud-provider-gcp 4e24531) reports every
//! error through cobra (`Error: …`, then the usage and a blank line, or the `--help` hint for
//! an unknown command), then `main` logs it with klog. stderr is compared byte for byte after
//! the klog header (time, pid, file) is replaced by `<klog>] `.

use std::io::Write;
use std::process::{Command, Stdio};

use kcred_gcp::ERROR_USAGE;

fn run(args: &[&str], env: &[(&str, &str)], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth-provider-gcp"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        // Nothing here may reach a network.
        .env("KCRED_GCP_METADATA_URL", "http://127.0.0.1:9")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr)
        .unwrap()
        .split_inclusive('\n')
        .map(|line| {
            let b = line.as_bytes();
            let klog = b.len() > 5
                && b"IWEF".contains(&b[0])
                && b[1..5].iter().all(u8::is_ascii_digit)
                && b[5] == b' ';
            match line.find("] ") {
                Some(i) if klog => format!("<klog>{}", &line[i..]),
                _ => line.to_owned(),
            }
        })
        .collect();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        stderr,
    )
}

/// A flag or `RunE` error as upstream prints it.
fn cobra_error(message: &str) -> String {
    format!("Error: {message}\n{ERROR_USAGE}\n<klog>] {message}\n")
}

#[test]
fn request_json_errors_are_go_encoding_json_messages() {
    for (stdin, reason) in [
        (
            r#"{"image":x}"#,
            "invalid character 'x' looking for beginning of value",
        ),
        (
            "not json",
            "invalid character 'o' in literal null (expecting 'u')",
        ),
        (
            "{nope}",
            "invalid character 'n' looking for beginning of object key string",
        ),
        ("", "unexpected end of JSON input"),
        (
            r#"{"image":1}"#,
            "json: cannot unmarshal number into Go struct field CredentialProviderRequest.image of type string",
        ),
    ] {
        let (code, stdout, stderr) = run(&["get-credentials"], &[], stdin);
        assert_eq!((code, stdout.as_str()), (1, ""), "{stdin:?}");
        assert_eq!(
            stderr,
            cobra_error(&format!(
                "error unmarshaling auth credential request: {reason}"
            )),
            "{stdin:?}"
        );
    }
}

#[test]
fn flag_and_environment_errors_get_cobras_error_line_and_usage() {
    for (args, env, message) in [
        (
            vec!["get-credentials", "--bogus"],
            vec![],
            "unknown flag: --bogus",
        ),
        (
            vec!["get-credentials", "--authFlow=x"],
            vec![],
            r#"invalid value "x" for authFlow (must be one of "gcr", "dockercfg", or "dockercfg-url")"#,
        ),
        (
            vec!["get-credentials"],
            vec![("KUBE_SIDECAR_CACHE_TYPE", "Registry")],
            r#"error getting authentication response from provider: Unknown cache key "Registry""#,
        ),
    ] {
        let (code, stdout, stderr) = run(&args, &env, r#"{"image":"gcr.io/p/i"}"#);
        assert_eq!((code, stdout.as_str()), (1, ""), "{args:?}");
        assert_eq!(stderr, cobra_error(message), "{args:?}");
    }
}

#[test]
fn unknown_command_gets_cobras_help_hint() {
    let (code, stdout, stderr) = run(&["foo"], &[], "{}");
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        concat!(
            "Error: unknown command \"foo\" for \"auth-provider-gcp\"\n",
            "Run 'auth-provider-gcp --help' for usage.\n",
            "<klog>] unknown command \"foo\" for \"auth-provider-gcp\"\n"
        )
    );
}

#[test]
fn unknown_command_near_a_subcommand_gets_cobras_suggestion() {
    let (code, stdout, stderr) = run(&["get"], &[], "{}");
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        concat!(
            "Error: unknown command \"get\" for \"auth-provider-gcp\"\n\nDid you mean this?\n\tget-credentials\n\n",
            "Run 'auth-provider-gcp --help' for usage.\n",
            "<klog>] unknown command \"get\" for \"auth-provider-gcp\"\n\nDid you mean this?\n\tget-credentials\n"
        )
    );
}
