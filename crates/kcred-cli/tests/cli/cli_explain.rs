//! `kcred explain`: per-provider verdicts in config order, directory configs, exit codes.

use crate::common::{config_yaml, kcred, provider_yaml, reason, write};
use serde_json::Value;

/// A config directory: ECR and a service-account provider in one file, Docker Hub in another.
fn config_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sa = "    tokenAttributes:\n      serviceAccountTokenAudience: hub-audience\n      cacheType: ServiceAccount\n      requireServiceAccount: false\n";
    write(
        tmp.path(),
        "10-cloud.yaml",
        &config_yaml(&[
            provider_yaml(
                "ecr-credential-provider",
                &["*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn"],
                "",
            ),
            provider_yaml("hub-sa", &["docker.io/team"], sa),
        ]),
    );
    write(
        tmp.path(),
        "20-hub.yaml",
        &config_yaml(&[provider_yaml("hub", &["docker.io", "*.docker.io"], "")]),
    );
    tmp
}

#[test]
fn explains_each_provider_in_config_order() {
    let dir = config_dir();
    let run = kcred(&[
        "explain".as_ref(),
        "nginx:1.27".as_ref(),
        "--config".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let out = &run.stdout;
    assert!(
        out.starts_with(
            "image:      nginx:1.27\nnormalised: docker.io/library/nginx\nconfig:     "
        ),
        "{out}"
    );
    assert!(out.contains("(2 files, hash sha256:"), "{out}");
    let ecr = out
        .find("provider \"ecr-credential-provider\": no match\n")
        .expect(out);
    let sa = out.find("provider \"hub-sa\": no match\n").expect(out);
    let hub = out
        .find("provider \"hub\": match via \"docker.io\"\n")
        .expect(out);
    assert!(ecr < sa && sa < hub, "{out}");
    let image = "docker.io/library/nginx";
    for (mark, pattern) in [
        ('-', "*.dkr.ecr.*.amazonaws.com"),
        ('-', "*.dkr.ecr.*.amazonaws.com.cn"),
        ('-', "docker.io/team"),
        ('+', "docker.io"),
        ('-', "*.docker.io"),
    ] {
        let line = format!("  {mark} \"{pattern}\": {}\n", reason(pattern, image));
        assert!(out.contains(&line), "missing {line:?} in {out}");
    }
    assert!(
        out.contains(
            "service-account token for audience \"hub-audience\", cacheType ServiceAccount"
        ),
        "{out}"
    );
    assert!(
        out.ends_with("result: 1 of 3 providers match; the kubelet runs, in this order: hub\n"),
        "{out}"
    );
}

#[test]
fn several_providers_can_match() {
    let dir = config_dir();
    let run = kcred(&[
        "explain".as_ref(),
        "team/app".as_ref(),
        "--config".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("provider \"hub-sa\": match via \"docker.io/team\""),
        "{run:?}"
    );
    assert!(
        run.stdout.ends_with(
            "result: 2 of 3 providers match; the kubelet runs, in this order: hub-sa, hub\n"
        ),
        "{run:?}"
    );
}

#[test]
fn no_provider_matches_exits_1() {
    let dir = config_dir();
    let run = kcred(&[
        "explain".as_ref(),
        "quay.io/org/app".as_ref(),
        "--config".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .ends_with("result: no provider matches; the kubelet runs no plugin for this image\n"),
        "{run:?}"
    );
}

#[test]
fn invalid_config_or_image_exits_2() {
    let dir = config_dir();
    let run = kcred(&[
        "explain".as_ref(),
        "nginx".as_ref(),
        "--config".as_ref(),
        dir.path().as_os_str(),
        "--feature-gates".as_ref(),
        "KubeletServiceAccountTokenForCredentialProviders=false".as_ref(),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: failed to validate credential provider config: providers.tokenAttributes: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled\n"
    );

    let run = kcred(&[
        "explain".as_ref(),
        "team/App".as_ref(),
        "--config".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: invalid image \"team/App\": "),
        "{run:?}"
    );

    let empty = tempfile::tempdir().expect("tempdir");
    let run = kcred(&[
        "explain".as_ref(),
        "nginx".as_ref(),
        "--config".as_ref(),
        empty.path().as_os_str(),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: no configuration files found in directory"),
        "{run:?}"
    );
}

#[test]
fn json_output() {
    let dir = config_dir();
    let run = kcred(&[
        "explain".as_ref(),
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v2".as_ref(),
        "--config".as_ref(),
        dir.path().as_os_str(),
        "--output".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let v: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        v["normalised"],
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"
    );
    assert_eq!(v["config"]["files"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        v["matching_providers"],
        serde_json::json!(["ecr-credential-provider"])
    );
    let providers = v["providers"].as_array().expect("providers");
    assert_eq!(providers.len(), 3);
    assert_eq!(providers[0]["matched"], true);
    assert_eq!(providers[0]["matched_pattern"], "*.dkr.ecr.*.amazonaws.com");
    assert_eq!(providers[0]["patterns"][1]["rule"], "label-count");
    assert_eq!(providers[1]["serviceAccountTokenMode"], true);
    assert_eq!(providers[2]["patterns"][0]["rule"], "label-count");
}
