//! A real client and a real registry: `skopeo inspect`, with an auth file whose
//! `credHelpers` sends the registry to `docker-credential-kcred`, against Debian's
//! `docker-registry` with htpasswd auth. The credentials come from a kubelet provider
//! (`kcred-test-plugin`) through the kubelet config; with a config that matches nothing the
//! helper answers "not found", skopeo goes anonymous and the registry refuses it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;
use kcred_testutil::registry::{Registry, RegistryTools};
use serde_json::json;

const USER: &str = "kubelet-robot";
const PASSWORD: &str = "pw-registry-e2e";

/// `skopeo inspect` with `authfile`, PATH starting with the helper's directory, the
/// provider config in `KCRED_CONFIG`.
fn inspect(
    registry: &Registry,
    authfile: &Path,
    config: &Path,
    bin_dir: &Path,
    home: &Path,
) -> Output {
    let helper_dir = Path::new(HELPER).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(helper_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    Command::new("skopeo")
        .args([
            "--insecure-policy",
            "inspect",
            "--tls-verify=false",
            "--authfile",
        ])
        .arg(authfile)
        .arg(format!("docker://{}", registry.image("team/app:v1")))
        .env("PATH", path)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("REGISTRY_AUTH_FILE")
        .env("KCRED_CONFIG", config)
        .env("KCRED_BIN_DIR", bin_dir)
        .output()
        .unwrap()
}

fn provider(name: &str, match_image: &str, auth: &str) -> serde_json::Value {
    json!({
        "name": name,
        "matchImages": [match_image],
        "defaultCacheDuration": "1m",
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "args": ["--mode", "ok", "--auth", auth],
    })
}

#[test]
fn skopeo_pulls_with_the_kubelets_credentials_through_cred_helpers() {
    let Some(tools) = RegistryTools::find_or_skip("skopeo_e2e") else {
        return;
    };
    let registry = Registry::start(&tools, &[(USER, PASSWORD)]).unwrap();
    let digest = registry
        .push_test_image("team/app:v1", USER, PASSWORD)
        .unwrap();
    let addr = registry.addr();

    let node = Node::new(&[ProviderSpec {
        name: "registry-creds",
        match_images: &[],
        args: &[],
    }]);
    let work = node.dir.path();
    let home: PathBuf = work.join("home");
    std::fs::create_dir(&home).unwrap();
    let authfile = work.join("auth.json");
    std::fs::write(
        &authfile,
        json!({"credHelpers": {addr.clone(): "kcred"}}).to_string(),
    )
    .unwrap();
    let auth = format!("{addr}={USER}:{PASSWORD}");

    // The provider matches the registry: skopeo gets the credentials and succeeds.
    let matching = work.join("matching.json");
    write_config(&matching, vec![provider("registry-creds", &addr, &auth)]);
    let out = inspect(&registry, &authfile, &matching, &node.bin_dir, &home);
    assert!(
        out.status.success(),
        "skopeo: {}\nregistry log:\n{}",
        text(&out.stderr),
        registry.log()
    );
    let image: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(image["Digest"], digest);
    assert!(!text(&out.stderr).contains(PASSWORD));

    // The provider matches nothing: "not found", skopeo goes anonymous, the registry says no.
    let unmatched = work.join("unmatched.json");
    write_config(
        &unmatched,
        vec![provider("registry-creds", "elsewhere.example.com", &auth)],
    );
    let out = inspect(&registry, &authfile, &unmatched, &node.bin_dir, &home);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("authentication required") || stderr.contains("unauthorized"),
        "{stderr}"
    );

    // The provider matches but gives a wrong password: the registry refuses it too.
    let wrong = work.join("wrong.json");
    write_config(
        &wrong,
        vec![provider(
            "registry-creds",
            &addr,
            &format!("{addr}={USER}:not-the-password"),
        )],
    );
    let out = inspect(&registry, &authfile, &wrong, &node.bin_dir, &home);
    assert!(!out.status.success());
}
