//! The real binary over real stdin/stdout: versions, matching, Docker Hub, ports, hostile
//! hosts, file formats and cache durations.

use crate::common::*;

const PW: &str = "pw-9f3Kq!x";

#[test]
fn answers_every_api_version_in_kind() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &config_json(&[("registry.io", "robot", PW)]),
        0o600,
    );
    for version in VERSIONS {
        let out = run_raw(
            &[cfg.to_str().unwrap()],
            &request(version, "registry.io/team/app"),
        );
        assert_eq!(out.code, Some(0), "{version}: {}", out.stderr);
        assert_eq!(
            out.stdout,
            format!(
                "{{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"{version}\",\"cacheKeyType\":\"Registry\",\"auth\":{{\"registry.io\":{{\"username\":\"robot\",\"password\":\"{PW}\"}}}}}}\n"
            )
        );
        assert_eq!(out.stderr, "", "{version}");
    }
}

#[test]
fn service_account_fields_of_v1_requests_are_accepted_and_ignored() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &config_json(&[("registry.io", "robot", PW)]),
        0o600,
    );
    let req = format!(
        "{{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"{V1}\",\"image\":\"registry.io/app\",\"serviceAccountToken\":\"sa-token-xyz\",\"serviceAccountAnnotations\":{{\"a.io/k\":\"v\"}}}}\n"
    );
    let out = run_raw(&["--v=9", cfg.to_str().unwrap()], req.as_bytes());
    assert_eq!(
        auth_of(&out.json()),
        [("registry.io".into(), "robot".into(), PW.into())]
    );
    assert!(!out.stderr.contains("sa-token-xyz"), "{}", out.stderr);
    assert!(!out.stderr.contains(PW), "{}", out.stderr);
}

#[test]
fn cache_duration_flag() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &config_json(&[("registry.io", "robot", PW)]),
        0o600,
    );
    for (flags, want) in [
        (&["--cache-duration", "5m"][..], Some("5m0s")),
        (&["--cache-duration=90m"], Some("1h30m0s")),
        (&["-cache-duration=0s"], Some("0s")),
        (&["--cache-duration=1.5s"], Some("1.5s")),
        (&[], None),
    ] {
        let v = serve(&cfg, "registry.io/app", flags).json();
        assert_eq!(v["cacheDuration"].as_str(), want, "{flags:?}");
        assert_eq!(v["cacheKeyType"], "Registry");
    }
    // Also when nothing matches: the empty answer is cached for the same duration.
    let v = serve(&cfg, "other.io/app", &["--cache-duration=1m"]).json();
    assert_eq!(v["cacheDuration"], "1m0s");
    assert!(v.get("auth").is_none());
}

#[test]
fn docker_hub_key_forms_all_serve_docker_io_images() {
    for key in [
        "https://index.docker.io/v1/",
        "index.docker.io",
        "docker.io",
        "https://docker.io",
        "registry-1.docker.io",
        "https://registry-1.docker.io/v2/",
    ] {
        let files = Files::new();
        let cfg = files.write("config.json", &config_json(&[(key, "hubuser", PW)]), 0o600);
        for image in ["docker.io/library/nginx", "docker.io/someone/app"] {
            let v = serve(&cfg, image, &[]).json();
            assert_eq!(
                auth_of(&v),
                [("docker.io".into(), "hubuser".into(), PW.into())],
                "{key} / {image}"
            );
        }
        // An unnormalised name typed by hand resolves to Docker Hub too.
        let v = serve(&cfg, "nginx", &[]).json();
        assert_eq!(auth_of(&v).len(), 1, "{key} / nginx");
        for image in [
            "quay.io/app",
            "docker.io.evil.com/library/nginx",
            "localhost/app",
            "index.docker.io.evil.com/a",
        ] {
            let v = serve(&cfg, image, &[]).json();
            assert!(auth_of(&v).is_empty(), "{key} served {image}");
        }
    }
}

#[test]
fn docker_hub_prefers_the_entry_the_kubelet_would_use() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &config_json(&[
            ("https://index.docker.io/v1/", "index-user", "pw-index"),
            ("registry-1.docker.io", "r1-user", "pw-r1"),
        ]),
        0o600,
    );
    let v = serve(&cfg, "docker.io/library/nginx", &[]).json();
    assert_eq!(
        auth_of(&v),
        [("docker.io".into(), "index-user".into(), "pw-index".into())]
    );
}

#[test]
fn ports_are_part_of_the_registry() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &config_json(&[
            ("registry.io:5000", "five", "pw-5000"),
            ("registry.io", "plain", "pw-plain"),
        ]),
        0o600,
    );
    let v = serve(&cfg, "registry.io:5000/team/app", &[]).json();
    assert_eq!(
        auth_of(&v),
        [("registry.io:5000".into(), "five".into(), "pw-5000".into())]
    );
    let v = serve(&cfg, "registry.io/team/app", &[]).json();
    assert_eq!(
        auth_of(&v),
        [("registry.io".into(), "plain".into(), "pw-plain".into())]
    );
    let v = serve(&cfg, "registry.io:5001/app", &[]).json();
    assert!(auth_of(&v).is_empty());
}

#[test]
fn hostile_hosts_get_nothing() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &config_json(&[
            ("registry.io", "robot", PW),
            ("https://index.docker.io/v1/", "hub", "pw-hub"),
        ]),
        0o600,
    );
    for image in [
        "registry.io.evil.com/app",
        "evil.com/registry.io/app",
        "evilregistry.io/app",
        "registry.iox/app",
        "sub.registry.io/app",
        "registry.io:443/app",
        "docker.io.evil.com/library/nginx",
    ] {
        let out = serve(&cfg, image, &["--v=9"]);
        let v = out.json();
        assert!(auth_of(&v).is_empty(), "{image} got {v}");
        assert!(
            !out.stdout.contains(PW) && !out.stdout.contains("pw-hub"),
            "{image}"
        );
        assert!(
            !out.stderr.contains(PW) && !out.stderr.contains("pw-hub"),
            "{image}"
        );
    }
    // The reverse: a key that contains the registry's name is another registry.
    let cfg = files.write(
        "evil.json",
        &config_json(&[("registry.io.evil.com", "evil", PW)]),
        0o600,
    );
    assert!(auth_of(&serve(&cfg, "registry.io/app", &[]).json()).is_empty());
}

#[test]
fn globs_and_paths_follow_the_kubelet() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &config_json(&[
            ("*.registry.io", "glob", "pw-glob"),
            ("team.registry.io", "exact", "pw-exact"),
            ("registry.io/team-a", "team-a", "pw-a"),
            ("https://registry.io/v1/", "all", "pw-all"),
        ]),
        0o600,
    );
    let v = serve(&cfg, "team.registry.io/app", &[]).json();
    assert_eq!(
        auth_of(&v),
        [("team.registry.io".into(), "exact".into(), "pw-exact".into())]
    );
    let v = serve(&cfg, "other.registry.io/app", &[]).json();
    assert_eq!(
        auth_of(&v),
        [("other.registry.io".into(), "glob".into(), "pw-glob".into())]
    );
    assert!(auth_of(&serve(&cfg, "a.b.registry.io/app", &[]).json()).is_empty());
    // Path-scoped entries keep their path, so the kubelet applies them to that path only;
    // the answer is the same for every image of the registry.
    let expected = [
        (
            "registry.io".to_owned(),
            "all".to_owned(),
            "pw-all".to_owned(),
        ),
        ("registry.io/team-a".into(), "team-a".into(), "pw-a".into()),
    ];
    assert_eq!(
        auth_of(&serve(&cfg, "registry.io/team-a/app", &[]).json()),
        expected
    );
    assert_eq!(
        auth_of(&serve(&cfg, "registry.io/team-b/app", &[]).json()),
        expected
    );
}

#[test]
fn dockercfg_bare_map_and_username_password_entries() {
    let files = Files::new();
    let cfg = files.write(
        ".dockercfg",
        &serde_json::json!({
            "https://registry.io/v1/": {"username": "u1", "password": PW, "email": "u1@example.com"},
            "quay.io": {"auth": b64("u2:pw:with:colons")},
        })
        .to_string(),
        0o600,
    );
    assert_eq!(
        auth_of(&serve(&cfg, "registry.io/app", &[]).json()),
        [("registry.io".into(), "u1".into(), PW.into())]
    );
    assert_eq!(
        auth_of(&serve(&cfg, "quay.io/org/app", &[]).json()),
        [("quay.io".into(), "u2".into(), "pw:with:colons".into())]
    );

    // config.json: `auth` overrides username/password; unpadded base64 is accepted.
    let unpadded = b64("u3:pw3").trim_end_matches('=').to_owned();
    let cfg = files.write(
        "config.json",
        &serde_json::json!({
            "auths": {
                "registry.io": {"auth": b64("real:pw-real"), "username": "ignored", "password": "ignored"},
                "r2.io": {"auth": unpadded},
            },
            "HttpHeaders": {"User-Agent": "x"},
            "psFormat": "table",
        })
        .to_string(),
        0o600,
    );
    assert_eq!(
        auth_of(&serve(&cfg, "registry.io/app", &[]).json()),
        [("registry.io".into(), "real".into(), "pw-real".into())]
    );
    assert_eq!(
        auth_of(&serve(&cfg, "r2.io/app", &[]).json()),
        [("r2.io".into(), "u3".into(), "pw3".into())]
    );
}

#[test]
fn entries_without_credentials_are_skipped_with_a_warning() {
    // What Docker Desktop writes: the password lives in a credential store.
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        r#"{"auths":{"https://index.docker.io/v1/":{}},"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"}}"#,
        0o600,
    );
    let out = serve(&cfg, "docker.io/library/nginx", &[]);
    assert!(auth_of(&out.json()).is_empty());
    assert!(
        out.stderr.contains("warning: entry \"https://index.docker.io/v1/\" matches docker.io but has no username or password"),
        "{}",
        out.stderr
    );
    let out = serve(&cfg, "gcr.io/p/app", &[]);
    assert!(auth_of(&out.json()).is_empty());
    assert!(
        out.stderr.contains("credHelpers names gcr.io"),
        "{}",
        out.stderr
    );

    // A null entry is an empty entry, as the kubelet reads it.
    let cfg = files.write("null.json", r#"{"auths":{"registry.io":null}}"#, 0o600);
    let out = serve(&cfg, "registry.io/app", &[]);
    assert!(auth_of(&out.json()).is_empty());
    assert!(
        out.stderr
            .contains("warning: entry \"registry.io\" matches registry.io"),
        "{}",
        out.stderr
    );
}

#[test]
fn no_entry_is_an_empty_answer_not_an_error() {
    let files = Files::new();
    let cfg = files.write("config.json", r#"{"auths":{}}"#, 0o600);
    for version in VERSIONS {
        let out = run_raw(
            &[cfg.to_str().unwrap()],
            &request(version, "registry.io/app"),
        );
        assert_eq!(out.code, Some(0));
        assert_eq!(
            out.stdout,
            format!("{{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"{version}\",\"cacheKeyType\":\"Registry\"}}\n")
        );
    }
    let cfg = files.write("empty-map.json", "{}", 0o600);
    assert!(auth_of(&serve(&cfg, "registry.io/app", &[]).json()).is_empty());
}

#[test]
fn verbose_logs_explain_without_secrets() {
    let files = Files::new();
    let cfg = files.write(
        "config.json",
        &config_json(&[
            ("https://index.docker.io/v1/", "hub", PW),
            ("docker.io", "direct", "pw-direct"),
        ]),
        0o600,
    );
    let out = serve(&cfg, "docker.io/library/nginx", &["--v=2"]);
    assert_eq!(
        auth_of(&out.json()),
        [("docker.io".into(), "direct".into(), "pw-direct".into())]
    );
    assert!(
        out.stderr
            .contains("serving entry \"docker.io\" as \"docker.io\" (host match)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "entry \"https://index.docker.io/v1/\" gives the same auth key as \"docker.io\""
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("auth keys=[\"docker.io\"]"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains(PW) && !out.stderr.contains("pw-direct"),
        "{}",
        out.stderr
    );
}
