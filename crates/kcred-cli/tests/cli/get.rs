//! `kcred get` with real plugins (`kcred-test-plugin`, `static-credential-provider`) in a
//! temporary bin dir: matching, failures, credential order, output formats, redaction and
//! exit codes.

use crate::get_support;

use crate::get_support::{basic, provider, read_if_exists, Fixture, Plugin};
use serde_json::json;

const SECRET: &str = "s3cret-Pa55word";

#[test]
fn matched_provider_is_run_and_its_answer_shown_redacted() {
    let f = Fixture::new();
    let auth = format!("r.io=alice:{SECRET}");
    f.plugin("p", Plugin::Test).config(&[provider(
        "p",
        &["r.io"],
        &[
            "--auth",
            &auth,
            "--cache-duration",
            "5m",
            "--cache-key-type",
            "Image",
        ],
        "",
    )]);
    let run = f.get("r.io/team/app:v1", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let out = &run.stdout;
    assert!(out.contains("normalised: r.io/team/app\n"), "{out}");
    assert!(
        out.contains("provider \"p\": matched via \"r.io\"\n"),
        "{out}"
    );
    assert!(out.contains("  exec:            plugin ran for "), "{out}");
    assert!(out.contains("  cacheKeyType:    Image\n"), "{out}");
    assert!(out.contains("  cacheDuration:   5m0s\n"), "{out}");
    assert!(
        out.contains("  kubelet cache:   5m0s under the Image key\n"),
        "{out}"
    );
    assert!(
        out.contains("    \"r.io\"  username \"alice\"  password <redacted>\n"),
        "{out}"
    );
    assert!(out.contains(
        "  1. username \"alice\", password <redacted>, from provider \"p\" (auth key \"r.io\")\n"
    ));
    assert!(out.contains("result: 1 credential; "), "{out}");
    assert!(!run.all().contains(SECRET), "{run:?}");
}

#[test]
fn absent_cache_duration_names_the_default() {
    let f = Fixture::new();
    f.plugin("p", Plugin::Test)
        .config(&[provider("p", &["r.io"], &["--auth", "r.io=u:p"], "")]);
    let run = f.get("r.io/app", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("  cacheDuration:   absent (defaultCacheDuration 10m0s applies)\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn unmatched_provider_is_not_run_and_the_pull_is_anonymous() {
    let f = Fixture::new();
    let count = f.path("count");
    let count_arg = count.display().to_string();
    f.plugin("p", Plugin::Test).config(&[provider(
        "p",
        &["quay.io"],
        &["--auth", "quay.io=u:p", "--count-file", &count_arg],
        "",
    )]);
    let run = f.get("nginx:1.27", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("provider \"p\": no match\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  - quay.io: "),
        "reasons are listed: {}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("credentials the kubelet would try: none\n"));
    assert!(run.stdout.contains(
        "result: no credentials for docker.io/library/nginx: no provider matches it, so no plugin runs; the kubelet would pull it anonymously"
    ));
    assert_eq!(read_if_exists(&count), None, "the plugin must not run");
}

#[test]
fn matched_provider_without_a_credential_for_the_image_exits_1() {
    let f = Fixture::new();
    f.plugin("p", Plugin::Test).config(&[provider(
        "p",
        &["r.io"],
        &["--auth", "other.io=u:p"],
        "",
    )]);
    let run = f.get("r.io/app", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains(
        "    \"other.io\"  username \"u\"  password <redacted>  (does not apply to this image)\n"
    ));
    assert!(run.stdout.contains(
        "result: no credentials for r.io/app: the providers that match it returned no credential for it; the kubelet would pull it anonymously"
    ));
    let json = f.get("r.io/app", &["--output", "json"]).json();
    assert_eq!(json["result"], "no-credentials");
    assert_eq!(json["providers"][0]["auth"][0]["applies"], false);
}

#[test]
fn plugin_failure_exits_1_with_the_plugins_stderr() {
    let f = Fixture::new();
    f.plugin("broken", Plugin::Test).config(&[provider(
        "broken",
        &["r.io"],
        &[
            "--mode",
            "fail",
            "--stderr",
            "token for tenant t-42 expired",
        ],
        "",
    )]);
    for output in ["table", "json", "auth-json", "dockerconfigjson"] {
        let run = f.get("r.io/app:v1", &["--output", output]);
        assert_eq!(run.code, 1, "{output}: {run:?}");
        assert!(
            run.stderr.contains(
                "error: provider \"broken\" failed: error execing credential provider plugin broken for image r.io/app: exit status 1: token for tenant t-42 expired"
            ),
            "{output}: {}",
            run.stderr
        );
    }
    let table = f.get("r.io/app:v1", &[]);
    assert!(table
        .stdout
        .contains("provider \"broken\": matched via \"r.io\", FAILED\n"));
    assert!(table.stdout.contains(
        "  error:           error execing credential provider plugin broken for image r.io/app: exit status 1: token for tenant t-42 expired\n"
    ));
    let auth = f.get("r.io/app:v1", &["--output", "auth-json"]);
    assert_eq!(auth.json(), json!({"auths": {}}));
    assert!(auth
        .stderr
        .contains("the kubelet would pull it anonymously"));
}

#[test]
fn a_failure_still_lists_the_other_providers_credentials_and_exits_1() {
    let f = Fixture::new();
    f.plugin("broken", Plugin::Test)
        .plugin("good", Plugin::Test)
        .config(&[
            provider("broken", &["r.io"], &["--mode", "crash"], ""),
            provider("good", &["r.io"], &["--auth", "r.io=u:pw"], ""),
        ]);
    let run = f.get("r.io/app", &["--output", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["result"], "provider-failed");
    assert_eq!(doc["credentials"][0]["username"], "u");
    assert_eq!(doc["credentials"][0]["provider"], "good");
    let error = doc["providers"][0]["error"].as_str().expect("error");
    assert!(error.ends_with("signal: killed: "), "{error}");
    assert_eq!(
        doc["summary"],
        "provider \"broken\" failed; the kubelet would still try the 1 credential found, in this order"
    );
    let auth = f.get("r.io/app", &["--output", "auth-json"]);
    assert_eq!(auth.code, 1, "{auth:?}");
    assert_eq!(
        auth.json(),
        json!({"auths": {"r.io": {"auth": basic("u", "pw")}}})
    );
    assert!(auth.stderr.contains(
        "note: the kubelet would still try the 1 credential found; the file holds the first"
    ));
}

#[test]
fn timeout_kills_the_plugin_and_is_a_failure() {
    let f = Fixture::new();
    f.plugin("slow", Plugin::Test)
        .config(&[provider("slow", &["r.io"], &["--mode", "hang"], "")]);
    let run = f.get("r.io/app", &["--timeout", "300ms"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error execing credential provider plugin slow for image r.io/app: context deadline exceeded"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn credentials_are_in_keyring_order_with_their_origins() {
    let f = Fixture::new();
    f.plugin("first", Plugin::Test)
        .plugin("second", Plugin::Test)
        .config(&[
            provider(
                "first",
                &["r.io"],
                &[
                    "--auth",
                    "r.io=first-host:a",
                    "--auth",
                    "r.io/team=first-team:b",
                ],
                "",
            ),
            provider(
                "second",
                &["r.io"],
                &[
                    "--auth",
                    "https://r.io/v1/=second-host:c",
                    "--auth",
                    "r.io/other=x:y",
                ],
                "",
            ),
        ]);
    let run = f.get("r.io/team/app", &["--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    let order: Vec<(String, String, String)> = doc["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| {
            (
                c["username"].as_str().unwrap_or_default().to_owned(),
                c["provider"].as_str().unwrap_or_default().to_owned(),
                c["auth_key"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    // Longer keys first (reverse byte order); under one key, config order.
    assert_eq!(
        order,
        vec![
            ("first-team".into(), "first".into(), "r.io/team".into()),
            ("first-host".into(), "first".into(), "r.io".into()),
            (
                "second-host".into(),
                "second".into(),
                "https://r.io/v1/".into()
            ),
        ]
    );
    let keyring_keys: Vec<&str> = doc["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| c["keyring_key"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(keyring_keys, ["r.io/team", "r.io", "r.io"]);
    assert!(doc["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .all(|c| c["docker_hub_fallback"] == false));
    assert_eq!(doc["providers"][1]["auth"][1]["key"], "r.io/other");
    assert_eq!(doc["providers"][1]["auth"][1]["applies"], false);

    let table = f.get("r.io/team/app", &[]);
    assert!(
        table.stdout.contains(
            "  3. username \"second-host\", password <redacted>, from provider \"second\" (auth key \"https://r.io/v1/\", keyring key \"r.io\")\n"
        ),
        "{}",
        table.stdout
    );
}

#[test]
fn docker_hub_fallback_credentials_are_marked() {
    let f = Fixture::new();
    f.plugin("hub", Plugin::Test).config(&[provider(
        "hub",
        &["docker.io"],
        &["--auth", "https://index.docker.io/v1/=hub-user:p"],
        "",
    )]);
    let run = f.get("nginx", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "  1. username \"hub-user\", password <redacted>, from provider \"hub\" (auth key \"https://index.docker.io/v1/\", keyring key \"index.docker.io\", via the Docker Hub fallback)\n"
        ),
        "{}",
        run.stdout
    );
    let doc = f.get("nginx", &["--output", "json"]).json();
    assert_eq!(doc["credentials"][0]["provider"], "hub");
    assert_eq!(
        doc["credentials"][0]["auth_key"],
        "https://index.docker.io/v1/"
    );
    assert_eq!(doc["credentials"][0]["keyring_key"], "index.docker.io");
    assert_eq!(doc["credentials"][0]["docker_hub_fallback"], true);
    assert_eq!(doc["providers"][0]["auth"][0]["applies"], true);
}

#[test]
fn metrics_go_to_stderr_or_a_file_after_the_run() {
    let f = Fixture::new();
    f.plugin("p", Plugin::Test)
        .plugin("broken", Plugin::Test)
        .config(&[
            provider("p", &["r.io"], &["--auth", "r.io=u:p"], ""),
            provider("broken", &["r.io"], &["--mode", "fail"], ""),
        ]);
    let run = f.get("r.io/app", &["--metrics"]);
    assert_eq!(run.code, 1, "{run:?}");
    for line in [
        "kubelet_credential_provider_plugin_duration_count{plugin_name=\"p\"} 1",
        "kubelet_credential_provider_plugin_duration_count{plugin_name=\"broken\"} 1",
        "kubelet_credential_provider_plugin_errors_total{plugin_name=\"broken\"} 1",
        "kcred_credential_provider_cache_misses_total{plugin_name=\"p\"} 1",
    ] {
        assert!(run.stderr.contains(line), "{line}: {}", run.stderr);
    }
    assert!(
        run.stderr
            .contains("kubelet_credential_provider_config_info{hash=\"sha256:"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("# TYPE"), "stdout is the report only");

    // To a file; the auth-file output on stdout stays a valid file.
    let file = f.path("metrics.prom");
    let file_arg = file.display().to_string();
    let run = f.get(
        "r.io/app",
        &["--output", "auth-json", "--metrics", &file_arg],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.json(),
        json!({"auths": {"r.io": {"auth": basic("u", "p")}}})
    );
    assert!(!run.stderr.contains("# TYPE"), "{}", run.stderr);
    let text = read_if_exists(&file).expect("metrics file written");
    assert!(
        text.contains("kubelet_credential_provider_plugin_errors_total{plugin_name=\"broken\"} 1"),
        "{text}"
    );

    // An unusable path stops the run before any plugin runs.
    let run = f.get("r.io/app", &["--metrics", "/nonexistent/dir/metrics.prom"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("cannot create the --metrics file /nonexistent/dir/metrics.prom"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn static_provider_serves_a_docker_config() {
    let f = Fixture::new();
    let docker_config = f.write(
        "docker-config.json",
        &format!(
            "{{\"auths\":{{\"registry.example.com:5000\":{{\"auth\":\"{}\"}}}}}}",
            basic("ci", SECRET)
        ),
    );
    let path = docker_config.display().to_string();
    f.plugin("static-credential-provider", Plugin::Static)
        .config(&[provider(
            "static-credential-provider",
            &["registry.example.com:5000"],
            &[&path],
            "",
        )]);
    let run = f.get("registry.example.com:5000/team/app:v2", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("  cacheKeyType:    Registry\n"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("    \"registry.example.com:5000\"  username \"ci\"  password <redacted>\n"));
    assert!(!run.all().contains(SECRET));

    let auth = f.get(
        "registry.example.com:5000/team/app:v2",
        &["-o", "auth-json"],
    );
    assert_eq!(auth.code, 0, "{auth:?}");
    assert_eq!(
        auth.json(),
        json!({"auths": {"registry.example.com:5000": {"auth": basic("ci", SECRET)}}})
    );
}

#[test]
fn json_output_has_every_field_and_no_secret() {
    let f = Fixture::new();
    let auth = format!("r.io=alice:{SECRET}");
    f.plugin("p", Plugin::Test)
        .plugin("q", Plugin::Test)
        .config(&[
            provider(
                "p",
                &["r.io"],
                &["--auth", &auth, "--cache-duration", "0s"],
                "",
            ),
            provider("q", &["quay.io"], &[], ""),
        ]);
    let run = f.get("r.io/app:v1", &["--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.all().contains(SECRET));
    let doc = run.json();
    assert_eq!(doc["image"], "r.io/app:v1");
    assert_eq!(doc["normalised"], "r.io/app");
    assert_eq!(doc["registry"], "r.io");
    assert_eq!(doc["result"], "found");
    assert_eq!(doc["secrets_shown"], false);
    let p = &doc["providers"][0];
    assert_eq!(p["name"], "p");
    assert_eq!(p["matched"], true);
    assert_eq!(p["matched_pattern"], "r.io");
    assert_eq!(p["cacheKeyType"], "Registry");
    assert_eq!(p["cacheDuration"], "0s");
    assert_eq!(p["kubelet_cache"], serde_json::Value::Null);
    assert_eq!(p["defaultCacheDuration"], "10m0s");
    assert_eq!(p["cache"], "miss");
    assert!(p["exec"]["seconds"].as_f64().is_some_and(|s| s > 0.0));
    assert_eq!(
        p["auth"],
        json!([{"key": "r.io", "username": "alice", "password": "<redacted>", "applies": true}])
    );
    assert_eq!(p["error"], serde_json::Value::Null);
    let q = &doc["providers"][1];
    assert_eq!(q["matched"], false);
    assert_eq!(q["exec"], serde_json::Value::Null);
    assert_eq!(q["not_matched_reasons"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["credentials"][0]["password"], "<redacted>");
    assert_eq!(doc["credentials"][0]["auth_key"], "r.io");
}

#[test]
fn show_secrets_prints_passwords_in_table_and_json() {
    let f = Fixture::new();
    let auth = format!("r.io=alice:{SECRET}");
    f.plugin("p", Plugin::Test)
        .config(&[provider("p", &["r.io"], &["--auth", &auth], "")]);
    let table = f.get("r.io/app", &["--show-secrets"]);
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table
        .stdout
        .contains(&format!("username \"alice\"  password \"{SECRET}\"")));
    let json = f
        .get("r.io/app", &["--show-secrets", "--output", "json"])
        .json();
    assert_eq!(json["credentials"][0]["password"], SECRET);
    assert_eq!(json["providers"][0]["auth"][0]["password"], SECRET);
    assert_eq!(json["secrets_shown"], true);
}

#[test]
fn auth_files_hold_the_first_credential_under_the_registry() {
    let f = Fixture::new();
    f.plugin("p", Plugin::Test).config(&[provider(
        "p",
        &["r.io:5000", "docker.io"],
        &[
            "--auth",
            "r.io:5000/team=team-user:team-pass",
            "--auth",
            "r.io:5000=host-user:host-pass",
            "--auth",
            "docker.io=hub:hub-pass",
        ],
        "",
    )]);
    let auth = f.get("r.io:5000/team/app@sha256:0123456789012345678901234567890123456789012345678901234567890123", &["--output", "auth-json"]);
    assert_eq!(auth.code, 0, "{auth:?}");
    assert_eq!(
        auth.json(),
        json!({"auths": {"r.io:5000": {"auth": basic("team-user", "team-pass")}}})
    );
    assert!(auth
        .stderr
        .contains("note: the kubelet would try 2 credentials in order; the file holds the first"));

    let docker = f.get("r.io:5000/team/app", &["--output", "dockerconfigjson"]);
    assert_eq!(docker.code, 0, "{docker:?}");
    assert_eq!(
        docker.json(),
        json!({"auths": {"r.io:5000": {
            "username": "team-user",
            "password": "team-pass",
            "auth": basic("team-user", "team-pass"),
        }}})
    );

    // Docker Hub: `docker.io` for containers tools, docker's legacy key for config.json.
    let hub = f.get("nginx", &["--output", "auth-json"]);
    assert_eq!(
        hub.json(),
        json!({"auths": {"docker.io": {"auth": basic("hub", "hub-pass")}}})
    );
    let hub = f.get("nginx", &["--output", "dockerconfigjson"]);
    assert_eq!(
        hub.json()["auths"]["https://index.docker.io/v1/"]["username"],
        "hub"
    );
}

#[test]
fn verbose_shows_why_a_response_did_not_decode_without_secrets() {
    let f = Fixture::new();
    let response = format!(
        "{{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"cacheKeyType\":\"Registry\",\"auth\":{{\"r.io\":{{\"username\":\"u\",\"password\":\"{SECRET}\",\"extra\":1}}}}}}"
    );
    let count = f.path("count");
    let count_arg = count.display().to_string();
    f.plugin("p", Plugin::Test).config(&[provider(
        "p",
        &["r.io"],
        &["--response", &response, "--count-file", &count_arg],
        "",
    )]);
    let quiet = f.get("r.io/app", &[]);
    assert_eq!(quiet.code, 1, "{quiet:?}");
    assert!(quiet.stdout.contains(
        "  error:           error decoding credential provider plugin response from stdout\n"
    ));
    assert!(
        !quiet.all().contains("extra"),
        "the kubelet hides the cause"
    );
    let verbose = f.get("r.io/app", &["-v"]);
    assert_eq!(verbose.code, 1, "{verbose:?}");
    assert!(
        verbose.stdout.contains(
            "  detail:          strict decoding error: unknown field \"auth.r.io.extra\"\n"
        ),
        "{}",
        verbose.stdout
    );
    assert!(verbose
        .stderr
        .contains("detail: strict decoding error: unknown field \"auth.r.io.extra\""));
    assert!(!verbose.all().contains(SECRET));
    let json = f.get("r.io/app", &["-v", "--output", "json"]);
    assert_eq!(
        json.json()["providers"][0]["error_detail"],
        "strict decoding error: unknown field \"auth.r.io.extra\""
    );
    assert!(!json.all().contains(SECRET));
    let quiet_json = f.get("r.io/app", &["--output", "json"]).json();
    assert_eq!(
        quiet_json["providers"][0].get("error_detail"),
        None,
        "only with -v"
    );
    // The detail comes from the one run the kubelet would do: the plugin never runs twice.
    let runs = read_if_exists(&count).unwrap_or_default();
    assert_eq!(runs.lines().count(), 4, "{runs}");
}

#[test]
fn bad_input_exits_2() {
    let f = Fixture::new();
    f.plugin("p", Plugin::Test)
        .config(&[provider("p", &["r.io"], &["--auth", "r.io=u:p"], "")]);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["Nginx"], "error: invalid image \"Nginx\""),
        (
            vec!["r.io/app", "--timeout", "soon"],
            "invalid --timeout \"soon\"",
        ),
        (
            vec!["r.io/app", "--timeout", "0s"],
            "must be greater than 0",
        ),
        (
            vec!["r.io/app", "--feature-gates", "NoSuchGate=maybe"],
            "invalid --feature-gates",
        ),
        (
            vec![
                "r.io/app",
                "--service-account",
                "sa",
                "--annotation",
                "novalue",
            ],
            "invalid --annotation \"novalue\": want KEY=VALUE",
        ),
        (vec!["r.io/app", "--annotation", "k=v"], "--service-account"),
        (
            vec![
                "r.io/app",
                "--service-account",
                "sa",
                "--service-account-token",
                "/nonexistent/token",
            ],
            "cannot read the service account token file /nonexistent/token",
        ),
        (vec!["r.io/app", "--output", "yaml"], "invalid value 'yaml'"),
    ];
    for (extra, want) in cases {
        let (image, rest) = extra.split_first().expect("image");
        let run = f.get(image, rest);
        assert_eq!(run.code, 2, "{extra:?}: {run:?}");
        assert!(run.stderr.contains(want), "{extra:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{extra:?}");
    }
}

#[test]
fn unusable_config_or_bin_dir_exits_2() {
    let f = Fixture::new();
    // The executable is missing from the bin dir.
    f.config(&[provider("missing-plugin", &["r.io"], &[], "")]);
    let run = f.get("r.io/app", &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run.stderr.contains("missing-plugin"), "{}", run.stderr);

    // An invalid config.
    f.plugin("p", Plugin::Test)
        .config(&[provider("p", &["%r.io%"], &[], "")]);
    let run = f.get("r.io/app", &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("error: failed to validate credential provider config:"),
        "{}",
        run.stderr
    );

    // A missing bin dir.
    f.config(&[provider("p", &["r.io"], &[], "")]);
    let run = get_support::kcred(
        &[
            "get",
            "r.io/app",
            "--config",
            &f.config_path().display().to_string(),
            "--bin-dir",
            "/nonexistent/kcred-bin",
        ],
        None,
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("/nonexistent/kcred-bin"),
        "{}",
        run.stderr
    );
}
