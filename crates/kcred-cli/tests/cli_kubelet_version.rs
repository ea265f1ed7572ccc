//! `--kubelet-version` / `KCRED_KUBELET_VERSION` on validate, match, explain and get.

mod common;

use std::process::Command;

use common::{config_yaml, kcred, provider_yaml, write, Run};
use proptest::prelude::*;

fn kcred_env(args: &[&str], version: &str) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_kcred"))
        .args(args)
        .env("KCRED_KUBELET_VERSION", version)
        .output()
        .expect("run kcred");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("utf-8"),
        stderr: String::from_utf8(out.stderr).expect("utf-8"),
    }
}

#[test]
fn version_says_the_default() {
    let run = kcred(&["--version"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .contains("(emulates kubelet 1.26 to 1.37; default --kubelet-version 1.37)"),
        "{run:?}"
    );
}

#[test]
fn bracket_class_pattern_fails_under_the_newest_kubelet() {
    let run = kcred(&["match", "myacr.[a-z]cr", "myacr.gcr/library/nginx"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.starts_with(
            "error: invalid pattern \"myacr.[a-z]cr\": match image is invalid: parse \"https://myacr.[a-z]cr\": invalid IP-literal\n\
             note: kubelet 1.37 (Go 1.26): square brackets in the host may hold only an IPv6 address"
        ),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("accepted by kubelet 1.26–1.32.10, 1.33.0–1.33.5, 1.34.0–1.34.1;"),
        "{run:?}"
    );
    let old = kcred(&[
        "match",
        "--kubelet-version",
        "1.34.1",
        "myacr.[a-z]cr",
        "myacr.gcr/library/nginx",
    ]);
    assert_eq!(old.code, 0, "{old:?}");
    assert!(old.stderr.contains("[version-dependent]"), "{old:?}");
    let env = kcred_env(
        &["match", "myacr.[a-z]cr", "myacr.gcr/library/nginx"],
        "1.30",
    );
    assert_eq!(env.code, 0, "{env:?}");
    // The flag wins over the environment.
    let both = kcred_env(
        &[
            "match",
            "--kubelet-version",
            "1.37",
            "myacr.[a-z]cr",
            "myacr.gcr/x",
        ],
        "1.30",
    );
    assert_eq!(both.code, 2, "{both:?}");
}

#[test]
fn strict_colons_name_go_1_26() {
    let run = kcred(&["match", "localhost:80:80", "localhost/x"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("note: kubelet 1.37 (Go 1.26): colons in the host are rejected"),
        "{run:?}"
    );
    let run = kcred(&[
        "match",
        "--kubelet-version",
        "1.36",
        "localhost:80:80",
        "localhost/x",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
}

#[test]
fn bad_versions_exit_2_with_the_range_on_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "c.yaml",
        &config_yaml(&[provider_yaml("p", &["registry.io"], "")]),
    );
    let config = config.to_str().expect("utf-8");
    let bin = dir.path().to_str().expect("utf-8");
    for bad in ["1.x", "1.99", "1.25", "2.0", "", "1.26.99", "latest"] {
        let commands: [Vec<&str>; 4] = [
            vec!["validate", config],
            vec!["match", "registry.io", "registry.io/x"],
            vec!["explain", "registry.io/x", "--config", config],
            vec!["get", "registry.io/x", "--config", config, "--bin-dir", bin],
        ];
        for mut args in commands {
            args.extend(["--kubelet-version", bad]);
            let run = kcred(&args);
            assert_eq!(run.code, 2, "{args:?}: {run:?}");
            assert!(run.stderr.contains("1.26 to 1.37"), "{args:?}: {run:?}");
            assert!(!run.stderr.contains("panicked"), "{run:?}");
            let env = kcred_env(&args[..args.len() - 2], bad);
            assert_eq!(env.code, 2, "env {bad:?}: {env:?}");
        }
    }
}

#[test]
fn validate_1_25_explains_that_v1_is_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "c.yaml",
        &config_yaml(&[provider_yaml("p", &["registry.io"], "")]),
    );
    let run = kcred(&[
        "validate",
        config.to_str().expect("utf-8"),
        "--kubelet-version",
        "1.25",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "kubelet 1.25 is not supported (kcred emulates kubelet 1.26 to 1.37): \
             kubelet.config.k8s.io/v1 and credentialprovider.kubelet.k8s.io/v1 are unknown there"
        ),
        "{run:?}"
    );
}

#[test]
fn validate_follows_the_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "c.yaml",
        &config_yaml(&[provider_yaml("p", &["myacr.[a-z]cr"], "")]),
    );
    let path = config.to_str().expect("utf-8");
    let old = kcred(&["validate", path, "--kubelet-version", "1.34.1"]);
    assert_eq!(old.code, 0, "{old:?}");
    assert!(
        old.stderr.contains("refused by kubelet 1.32.11 and later 1.32 patches, 1.33.6 and later 1.33 patches, 1.34.2–1.37")
            && old.stderr.contains("[version-dependent]"),
        "{old:?}"
    );
    let new = kcred(&["validate", path, "--kubelet-version", "1.34.2"]);
    assert_eq!(new.code, 1, "{new:?}");
    assert!(
        new.stderr.contains("invalid port \"cr\" after host")
            && new.stderr.contains("note: kubelet 1.34.2 (Go 1.24.9) rejects matchImages \"myacr.[a-z]cr\": square brackets"),
        "{new:?}"
    );
    // Directories need 1.34.
    let run = kcred(&[
        "validate",
        dir.path().to_str().expect("utf-8"),
        "--kubelet-version",
        "1.33",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("is a directory"), "{run:?}");
    assert!(
        run.stderr.contains("directories need kubelet 1.34"),
        "{run:?}"
    );
    // tokenAttributes is unknown before 1.33.
    let token = write(
        dir.path(),
        "t.yaml",
        &config_yaml(&[provider_yaml(
            "p",
            &["registry.io"],
            "    tokenAttributes:\n      serviceAccountTokenAudience: a\n      requireServiceAccount: true\n      cacheType: Token\n",
        )]),
    );
    let token = token.to_str().expect("utf-8");
    let run = kcred(&["validate", token, "--kubelet-version", "1.32"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("unknown field \"providers[0].tokenAttributes\""),
        "{run:?}"
    );
    assert_eq!(kcred(&["validate", token]).code, 0);
}

#[test]
fn explain_lists_providers_in_the_kubelets_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "c.yaml",
        &config_yaml(&[
            provider_yaml("zeta", &["*.registry.io"], ""),
            provider_yaml("alpha", &["*.registry.io"], ""),
        ]),
    );
    let path = config.to_str().expect("utf-8");
    let order = |version: &str| {
        let run = kcred(&[
            "explain",
            "a.registry.io/x",
            "--config",
            path,
            "--kubelet-version",
            version,
        ]);
        assert_eq!(run.code, 0, "{run:?}");
        run.stdout
            .lines()
            .find(|l| l.starts_with("result:"))
            .expect("result line")
            .to_owned()
    };
    assert!(order("1.32").ends_with("in this order: alpha, zeta"));
    assert!(order("1.33").ends_with("in this order: zeta, alpha"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// No pattern or image panics `kcred match` under any kubelet version.
    #[test]
    fn match_never_panics(
        pattern in "[a-z.:\\[\\]%0-9@/*]{0,16}",
        image in "[a-z.:\\[\\]%0-9@/]{1,16}",
        minor in 26u16..=37,
    ) {
        let version = format!("1.{minor}");
        let run = kcred(&["match", "--kubelet-version", &version, "--", &pattern, &image]);
        prop_assert!([0, 1, 2].contains(&run.code), "{run:?}");
        prop_assert!(!run.stderr.contains("panicked"), "{run:?}");
    }
}
