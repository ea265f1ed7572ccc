//! Failures: bad files, bad command lines, bad requests; and the permission warning.
//! Every failure exits 1 with nothing on stdout and a message that never holds a secret.

use crate::common::*;

const PW: &str = "pw-7Yq!zz";

/// Asserts a failed run: exit 1, empty stdout, one error line starting with the plugin name
/// and containing every `needle`, and no `secret`.
fn assert_fails(out: &Run, needles: &[&str], secrets: &[&str]) {
    assert_eq!(
        out.code,
        Some(1),
        "stdout: {} stderr: {}",
        out.stdout,
        out.stderr
    );
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.starts_with("static-credential-provider: "),
        "{}",
        out.stderr
    );
    for n in needles {
        assert!(out.stderr.contains(n), "missing {n:?} in {}", out.stderr);
    }
    for s in secrets {
        assert!(!out.stderr.contains(s), "secret {s:?} in {}", out.stderr);
    }
}

#[test]
fn missing_file() {
    let files = Files::new();
    let path = files.dir.path().join("absent.json");
    let out = serve(&path, "registry.io/app", &[]);
    assert_fails(
        &out,
        &[
            &format!("reading docker config {:?}: ", path),
            "No such file or directory",
        ],
        &[],
    );
}

#[test]
fn directory_instead_of_file() {
    let files = Files::new();
    let out = serve(files.dir.path(), "registry.io/app", &[]);
    assert_fails(&out, &["is not a regular file"], &[]);
}

#[test]
fn not_json() {
    let files = Files::new();
    for (content, rule) in [
        (
            "",
            "is not valid JSON: unexpected end of input at line 1 column 0",
        ),
        (
            "auths:\n  registry.io: {}\n",
            "is not valid JSON: syntax error at line 1 column 1",
        ),
        (
            &format!("{{\"auths\": {{\"r.io\": {{\"password\": \"{PW}\",}}}}}}"),
            "is not valid JSON: syntax error",
        ),
    ] {
        let cfg = files.write("config.json", content, 0o600);
        let out = serve(&cfg, "registry.io/app", &[]);
        assert_fails(&out, &[&format!("docker config {:?} {rule}", cfg)], &[PW]);
    }
}

#[test]
fn wrong_shapes() {
    let files = Files::new();
    for (content, rule) in [
        ("[]", "the top level must be a JSON object"),
        (r#"{"auths": ["registry.io"]}"#, "\"auths\" must be an object mapping registries to credentials, found an array"),
        (r#"{"registry.io": "user:pass"}"#, "entry \"registry.io\": must be an object with \"auth\" or \"username\"/\"password\", found a string"),
        (r#"{"AUTHS": 5}"#, "\"AUTHS\" must be an object mapping registries to credentials, found a number"),
        (r#"{"auths": {"registry.io": [1]}}"#, "entry \"auths.registry.io\": must be an object"),
    ] {
        let cfg = files.write("config.json", content, 0o600);
        let out = serve(&cfg, "registry.io/app", &[]);
        assert_fails(&out, &[&format!("docker config {:?}: {rule}", cfg)], &["user:pass"]);
    }
}

#[test]
fn bad_auth_fields() {
    let files = Files::new();
    let no_colon = b64(PW);
    for (auth, rule) in [("!!!not-base64!!!", "auth"), (no_colon.as_str(), "auth")] {
        let cfg = files.write(
            "config.json",
            &serde_json::json!({"auths": {"registry.io": {"auth": auth}}}).to_string(),
            0o600,
        );
        // A bad entry fails the whole file, whichever registry is asked for.
        for image in ["registry.io/app", "other.io/app"] {
            let out = serve(&cfg, image, &["--v=9"]);
            assert_fails(
                &out,
                &[
                    &format!("docker config {:?}: entry \"auths.registry.io\": ", cfg),
                    rule,
                ],
                &[PW, auth],
            );
        }
    }
}

#[test]
fn wrong_field_types() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &serde_json::json!({"auths": {"registry.io": {"username": "u", "password": 12345678}}})
            .to_string(),
        0o600,
    );
    let out = serve(&cfg, "registry.io/app", &[]);
    assert_fails(
        &out,
        &["entry \"auths.registry.io\": field \"password\" must be a string, found a number"],
        &["12345678"],
    );
}

#[cfg(unix)]
#[test]
fn group_or_other_access_is_warned_about() {
    let files = Files::new();
    for (mode, warned) in [
        (0o600, false),
        (0o400, false),
        (0o640, true),
        (0o604, true),
        (0o620, true),
        (0o666, true),
    ] {
        let cfg = files.write(
            "config.json",
            &config_json(&[("registry.io", "robot", PW)]),
            mode,
        );
        let out = serve(&cfg, "registry.io/app", &["--v=9"]);
        // The warning never stops the answer.
        assert_eq!(auth_of(&out.json()).len(), 1, "{mode:o}");
        let warning = format!(
            "static-credential-provider: warning: docker config {:?} holds registry credentials but its mode {:04o} lets group or others access it; run: chmod 600 {:?}\n",
            cfg, mode, cfg
        );
        assert_eq!(
            out.stderr.contains(&warning),
            warned,
            "{mode:o}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains(PW));
    }
}

#[test]
fn bad_command_lines() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &config_json(&[("registry.io", "robot", PW)]),
        0o600,
    );
    let cfg_s = cfg.to_str().unwrap();
    let req = request(V1, "registry.io/app");
    for (args, needle) in [
        (vec![], "missing the docker config path"),
        (
            vec![cfg_s, "second.json"],
            "unexpected argument \"second.json\"",
        ),
        (
            vec!["--cache-duration=5 minutes", cfg_s],
            "invalid value \"5 minutes\" for flag --cache-duration: time: ",
        ),
        (
            vec!["--cache-duration=-1m", cfg_s],
            "must be greater than or equal to 0",
        ),
        (
            vec![cfg_s, "--cache-duration"],
            "flag needs an argument: --cache-duration",
        ),
        (
            vec!["--registry=x", cfg_s],
            "flag provided but not defined: --registry",
        ),
        (vec!["--v=x", cfg_s], "invalid value \"x\" for flag --v"),
    ] {
        let out = run_raw(&args, &req);
        assert_fails(&out, &[needle], &[PW]);
    }
}

#[test]
fn help_is_printed_on_stdout() {
    let out = run_raw(&["--help"], b"");
    assert_eq!(out.code, Some(0));
    assert!(
        out.stdout.starts_with(
            "Usage: static-credential-provider [--v=N] [--cache-duration D] <docker config.json>"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Logging flags"));
}

#[test]
fn bad_requests() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &config_json(&[("registry.io", "robot", PW)]),
        0o600,
    );
    let cfg_s = cfg.to_str().unwrap();
    for stdin in [
        &b""[..],
        b"{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v2\",\"image\":\"registry.io/app\"}",
        b"{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"image\":\"registry.io/app\",\"extra\":true}",
    ] {
        let out = run_raw(&[cfg_s], stdin);
        assert_fails(&out, &["decoding the CredentialProviderRequest on stdin"], &[PW]);
    }
    let out = run_raw(&[cfg_s], &request(V1, "registry.io//app"));
    assert_fails(&out, &["invalid image \"registry.io//app\""], &[PW]);
}
