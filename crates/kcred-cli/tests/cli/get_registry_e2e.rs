//! End to end: a real registry (Debian `docker-registry` with htpasswd auth), the real
//! `static-credential-provider` serving its credentials, `kcred get --output auth-json`, and
//! `skopeo inspect --authfile` using the file: it succeeds with it and fails without it or
//! with a wrong password.
//!
//! Skipped (with a message) when the tools are missing, unless `CI` is set.

use std::path::Path;
use std::process::Command;

use crate::get_support::{basic, provider, Fixture, Plugin};
use kcred_testutil::registry::{Registry, RegistryTools, SkopeoOutcome};

const USER: &str = "kcred-e2e";
const PASSWORD: &str = "e2e-Pa55-htpasswd";
const REPO_TAG: &str = "team/app:v1";

/// `skopeo inspect docker://IMAGE` with `--authfile` (or none), isolated from any auth file
/// of the user running the test.
fn skopeo_inspect(
    tools: &RegistryTools,
    home: &Path,
    image: &str,
    authfile: Option<&Path>,
) -> SkopeoOutcome {
    let mut cmd = Command::new(&tools.skopeo);
    cmd.env("HOME", home)
        .env("XDG_RUNTIME_DIR", home)
        .env("XDG_CONFIG_HOME", home)
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG")
        .arg("inspect")
        .arg("--tls-verify=false");
    if let Some(f) = authfile {
        cmd.arg("--authfile").arg(f);
    }
    cmd.arg(format!("docker://{image}"));
    SkopeoOutcome::run(&mut cmd)
}

#[test]
fn auth_json_from_kcred_get_lets_skopeo_pull_from_an_htpasswd_registry() {
    let Some(tools) = RegistryTools::find_or_skip(
        "auth_json_from_kcred_get_lets_skopeo_pull_from_an_htpasswd_registry",
    ) else {
        return;
    };
    let registry = Registry::start(&tools, &[(USER, PASSWORD)]).expect("registry starts");
    let digest = registry
        .push_test_image(REPO_TAG, USER, PASSWORD)
        .expect("push test image");
    let image = registry.image(REPO_TAG);

    // The node's credentials, served by the static provider for the registry's host:port.
    let f = Fixture::new();
    let home = f.path("home");
    std::fs::create_dir(&home).expect("home");
    let node_credentials = f.write(
        "node-config.json",
        &format!(
            "{{\"auths\":{{\"{}\":{{\"auth\":\"{}\"}}}}}}",
            registry.addr(),
            basic(USER, PASSWORD)
        ),
    );
    let node_credentials = node_credentials.display().to_string();
    f.plugin("static-credential-provider", Plugin::Static)
        .config(&[provider(
            "static-credential-provider",
            &[&registry.addr()],
            &["--cache-duration", "5m", &node_credentials],
            "",
        )]);

    let get = f.get(&image, &["--output", "auth-json"]);
    assert_eq!(get.code, 0, "{get:?}");
    let authfile = f.write("auth.json", &get.stdout);

    let with = skopeo_inspect(&tools, &home, &image, Some(&authfile));
    assert!(
        with.success,
        "skopeo with kcred's auth file: {}\nregistry log:\n{}",
        with.stderr,
        registry.log()
    );
    let inspected: serde_json::Value = serde_json::from_str(&with.stdout).expect("inspect JSON");
    assert_eq!(inspected["Digest"], digest.as_str());

    let without = skopeo_inspect(&tools, &home, &image, None);
    assert!(!without.success, "anonymous inspect must fail: {without:?}");
    assert!(
        without.stderr.contains("authentication required")
            || without.stderr.contains("unauthorized"),
        "{}",
        without.stderr
    );

    let wrong = f.write(
        "wrong.json",
        &get.stdout
            .replace(&basic(USER, PASSWORD), &basic(USER, "not-the-password")),
    );
    assert_ne!(
        std::fs::read_to_string(&wrong).expect("read"),
        get.stdout,
        "the wrong file differs"
    );
    let with_wrong = skopeo_inspect(&tools, &home, &image, Some(&wrong));
    assert!(
        !with_wrong.success,
        "wrong password must fail: {with_wrong:?}"
    );

    // The table shows the same credential, redacted.
    let table = f.get(&image, &[]);
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.stdout.contains(&format!(
        "  1. username \"{USER}\", password <redacted>, from provider \"static-credential-provider\" (auth key \"{}\")",
        registry.addr()
    )), "{}", table.stdout);
    assert!(!table.all().contains(PASSWORD));
}
