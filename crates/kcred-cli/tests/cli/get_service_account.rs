//! `kcred get` and service-account token mode (KEP-4412): the pod and service-account flags
//! become the request's `serviceAccountToken` and `serviceAccountAnnotations`, exactly as
//! the kubelet sends them, and the token is never printed.

use crate::get_support::{provider, read_if_exists, Fixture, Plugin};
use serde_json::{json, Value};

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.sa-token-payload.sig";

const SA_ATTRIBUTES: &str = "    tokenAttributes:
      serviceAccountTokenAudience: registry.example.com
      cacheType: ServiceAccount
      requireServiceAccount: true
      requiredServiceAccountAnnotationKeys: [\"registry.example.com/role\"]
      optionalServiceAccountAnnotationKeys: [\"registry.example.com/tier\", \"registry.example.com/absent\"]
";

/// A fixture whose provider `sa` records its request in `request.json`.
fn sa_fixture(extra_args: &[&str]) -> (Fixture, std::path::PathBuf) {
    let f = Fixture::new();
    let request = f.path("request.json");
    let request_arg = request.display().to_string();
    let mut args = vec!["--print-request", &request_arg];
    args.extend_from_slice(extra_args);
    f.plugin("sa", Plugin::Test).config(&[provider(
        "sa",
        &["registry.example.com"],
        &args,
        SA_ATTRIBUTES,
    )]);
    (f, request)
}

fn request_json(path: &std::path::Path) -> Value {
    let text = read_if_exists(path).expect("the plugin ran and recorded its request");
    serde_json::from_str(&text).expect("request is JSON")
}

#[test]
fn service_account_flags_become_the_request_fields() {
    let (f, request) = sa_fixture(&["--auth", "registry.example.com=robot:pw"]);
    let token_file = f.write("token", &format!("{TOKEN}\n"));
    let token_arg = token_file.display().to_string();
    let run = f.get(
        "registry.example.com/team/app:v1",
        &[
            "--namespace",
            "builds",
            "--pod-name",
            "builder-0",
            "--pod-uid",
            "pod-uid-1",
            "--service-account",
            "builder",
            "--service-account-uid",
            "sa-uid-7",
            "--annotation",
            "registry.example.com/role=puller",
            "--annotation",
            "registry.example.com/tier=gold",
            "--annotation",
            "unrelated.io/x=ignored",
            "--service-account-token",
            &token_arg,
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        request_json(&request),
        json!({
            "kind": "CredentialProviderRequest",
            "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            "image": "registry.example.com/team/app",
            "serviceAccountToken": TOKEN,
            "serviceAccountAnnotations": {
                "registry.example.com/role": "puller",
                "registry.example.com/tier": "gold",
            },
        })
    );
    let out = &run.stdout;
    assert!(out.contains(
        "pod:        builds/builder-0 (uid \"pod-uid-1\"), service account \"builder\" (uid \"sa-uid-7\"), annotations registry.example.com/role=puller registry.example.com/tier=gold unrelated.io/x=ignored, token given\n"
    ), "{out}");
    assert!(
        out.contains("  service account: builds/builder (uid \"sa-uid-7\")\n"),
        "{out}"
    );
    assert!(out.contains(
        "  1. username \"robot\", password <redacted>, from provider \"sa\" (auth key \"registry.example.com\"), for service account builds/builder (uid \"sa-uid-7\")\n"
    ), "{out}");
    assert!(!run.all().contains(TOKEN), "the token is never printed");
    assert!(!run.all().contains("sa-token-payload"));
}

#[test]
fn token_can_come_from_stdin() {
    let (f, request) = sa_fixture(&["--auth", "registry.example.com=robot:pw"]);
    let run = f.get_with_stdin(
        "registry.example.com/app",
        &[
            "--service-account",
            "builder",
            "--annotation",
            "registry.example.com/role=puller",
            "--service-account-token",
            "-",
            "--output",
            "json",
        ],
        Some(TOKEN),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(request_json(&request)["serviceAccountToken"], TOKEN);
    let doc = run.json();
    assert_eq!(doc["pod"]["service_account"]["token_given"], true);
    assert_eq!(
        doc["credentials"][0]["service_account"],
        json!({"namespace": "default", "name": "builder", "uid": ""})
    );
    assert!(!run.all().contains(TOKEN));
}

#[test]
fn required_service_account_missing_fails_without_running_the_plugin() {
    let (f, request) = sa_fixture(&[]);
    let run = f.get("registry.example.com/app", &["--namespace", "ns1"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: provider \"sa\" failed: Service account name is empty for pod ns1/kcred-get"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(read_if_exists(&request), None);
}

#[test]
fn required_annotation_missing_fails_without_running_the_plugin() {
    let (f, request) = sa_fixture(&[]);
    let run = f.get(
        "registry.example.com/app",
        &[
            "--service-account",
            "builder",
            "--service-account-token",
            "/dev/null",
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains(
        "Failed to get service account data default/builder: required annotation registry.example.com/role not found"
    ), "{}", run.stderr);
    assert_eq!(read_if_exists(&request), None);
}

#[test]
fn no_token_given_says_how_to_give_one() {
    let (f, request) = sa_fixture(&[]);
    let run = f.get(
        "registry.example.com/app",
        &[
            "--service-account",
            "builder",
            "--annotation",
            "registry.example.com/role=puller",
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains(
        "Error getting service account token default/builder: no token given: pass --service-account-token FILE (or - for stdin)"
    ), "{}", run.stderr);
    assert!(run.stdout.contains(", no token given\n"), "{}", run.stdout);
    assert_eq!(read_if_exists(&request), None);
}

#[test]
fn echoed_token_is_refused_and_not_printed() {
    let (f, _request) = sa_fixture(&["--mode", "echo-token"]);
    let run = f.get_with_stdin(
        "registry.example.com/app",
        &[
            "--service-account",
            "builder",
            "--annotation",
            "registry.example.com/role=puller",
            "--service-account-token",
            "-",
            "--show-secrets",
        ],
        Some(TOKEN),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains(
        "Credential provider plugin returned the service account token as the password for image \"registry.example.com/app\""
    ), "{}", run.stderr);
    assert!(!run.all().contains(TOKEN));
}

#[test]
fn gate_off_passes_no_pod_information() {
    let f = Fixture::new();
    let request = f.path("request.json");
    let request_arg = request.display().to_string();
    // Without tokenAttributes: the config stays valid with the gate off.
    f.plugin("p", Plugin::Test).config(&[provider(
        "p",
        &["registry.example.com"],
        &[
            "--print-request",
            &request_arg,
            "--auth",
            "registry.example.com=u:p",
        ],
        "",
    )]);
    let run = f.get_with_stdin(
        "registry.example.com/app",
        &[
            "--feature-gates",
            "KubeletServiceAccountTokenForCredentialProviders=false",
            "--service-account",
            "builder",
            "--service-account-token",
            "-",
        ],
        Some(TOKEN),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run
        .stderr
        .contains("note: KubeletServiceAccountTokenForCredentialProviders is off"));
    assert!(run.stdout.contains(
        "pod:        not passed to providers (KubeletServiceAccountTokenForCredentialProviders is off)\n"
    ));
    let sent = request_json(&request);
    assert_eq!(sent.get("serviceAccountToken"), None);
    assert_eq!(sent.get("serviceAccountAnnotations"), None);
}
