//! The real `auth-provider-gcp` binary against the metadata, STS and IAM Credentials
//! stubs: exact requests on the wire, exact stdout, exit codes and messages.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::*;
use serde_json::Value;

const NODE_TOKEN: &str = "ya29.node-sa-token-for-wire-tests";

fn run_ok(args: &[&str], env: &[(String, String)], stdin: &[u8]) -> (String, String) {
    let out = run_plugin(args, &env_refs(env), stdin);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    (stdout, stderr)
}

fn run_fail(args: &[&str], env: &[(String, String)], stdin: &[u8]) -> String {
    let out = run_plugin(args, &env_refs(env), stdin);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(out.stdout.is_empty());
    stderr
}

#[test]
fn node_service_account_exact_exchange() {
    let metadata = node_sa_metadata(NODE_TOKEN, 3599);
    let env = stub_env(&metadata, None);
    let (stdout, stderr) = run_ok(
        &["get-credentials", "--v=3"],
        &env,
        &request("us-docker.pkg.dev/p/r/img"),
    );
    let entry = format!("{{\"username\":\"_token\",\"password\":\"{NODE_TOKEN}\"}}");
    assert_eq!(
        stdout,
        format!(
            "{{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"cacheKeyType\":\"Image\",\"cacheDuration\":\"58m59s\",\"auth\":{{\"*.gcr.io\":{entry},\"*.pkg.dev\":{entry},\"container.cloud.google.com\":{entry},\"gcr.io\":{entry},\"us-docker.pkg.dev\":{entry}}}}}\n"
        )
    );
    assert!(
        !stderr.contains(NODE_TOKEN),
        "token leaked to stderr: {stderr}"
    );

    let reqs = metadata.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(
        reqs[0].target,
        "/computeMetadata/v1/instance/service-accounts/default/token"
    );
    assert_eq!(
        reqs[1].target,
        "/computeMetadata/v1/instance/service-accounts/default/email"
    );
    for r in &reqs {
        assert_eq!(r.header("metadata-flavor"), Some("Google"));
        assert_eq!(
            r.header("user-agent"),
            Some("GKE auth-provider-gcp image pull")
        );
        assert!(r.body.is_empty());
    }
}

#[test]
fn metadata_failures_are_errors_with_upstream_messages() {
    // Token endpoint 404.
    let metadata = metadata_server(BTreeMap::new());
    let env = stub_env(&metadata, None);
    let stderr = run_fail(&["get-credentials"], &env, &request("gcr.io/p/i"));
    let url = format!(
        "{}/computeMetadata/v1/instance/service-accounts/default/token",
        metadata.base()
    );
    assert!(
        stderr.contains(&format!(
            "while reading access token endpoint: http status code: 404 while fetching url {url}"
        )),
        "{stderr}"
    );

    // Token fine, email missing: upstream requires both.
    let mut routes = BTreeMap::new();
    routes.insert(
        "instance/service-accounts/default/token".to_owned(),
        Reply::new(200, format!("{{\"access_token\":\"{NODE_TOKEN}\"}}")),
    );
    let metadata = metadata_server(routes);
    let env = stub_env(&metadata, None);
    let stderr = run_fail(&["get-credentials", "--v=9"], &env, &request("gcr.io/p/i"));
    assert!(
        stderr.contains("while reading email endpoint: http status code: 404"),
        "{stderr}"
    );
    assert!(!stderr.contains(NODE_TOKEN), "{stderr}");

    // Not JSON: the message gives a position, never the body.
    let mut routes = BTreeMap::new();
    routes.insert(
        "instance/service-accounts/default/token".to_owned(),
        Reply::new(200, format!("token={NODE_TOKEN}")),
    );
    routes.insert(
        "instance/service-accounts/default/email".to_owned(),
        Reply::new(200, "e@x"),
    );
    let metadata = metadata_server(routes);
    let env = stub_env(&metadata, None);
    let stderr = run_fail(&["get-credentials"], &env, &request("gcr.io/p/i"));
    assert!(
        stderr.contains("token response is not valid JSON (line 1, column "),
        "{stderr}"
    );
    assert!(!stderr.contains(NODE_TOKEN), "{stderr}");
}

#[test]
fn unreachable_metadata_server_fails_fast() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let env = vec![(
        "KCRED_GCP_METADATA_URL".to_owned(),
        format!("http://127.0.0.1:{port}/computeMetadata/v1/"),
    )];
    let stderr = run_fail(&["get-credentials"], &env, &request("gcr.io/p/i"));
    assert!(
        stderr.contains(&format!(
            "while reading access token endpoint: Get \"http://127.0.0.1:{port}/computeMetadata/v1/instance/service-accounts/default/token\": "
        )),
        "{stderr}"
    );
}

fn wi_request(token: &str, annotations: &[(&str, &str)]) -> Vec<u8> {
    let ann: serde_json::Map<String, Value> = annotations
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    serde_json::json!({
        "kind": "CredentialProviderRequest",
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "image": "europe-docker.pkg.dev/p/r/app",
        "serviceAccountToken": token,
        "serviceAccountAnnotations": ann,
    })
    .to_string()
    .into_bytes()
}

const IDP: &str =
    "https://container.googleapis.com/v1/projects/my-project/locations/europe-west1/clusters/c1";

#[test]
fn workload_identity_sts_exact_exchange() {
    let metadata = node_sa_metadata(NODE_TOKEN, 3599);
    let sts = sts_server(sts_ok("ya29.federated-wire", 3600));
    let env = stub_env(&metadata, Some(&sts));
    let (stdout, stderr) = run_ok(
        &[
            "get-credentials",
            "--v=10",
            &format!("--identity-provider={IDP}"),
            "--project-id",
            "my-project",
        ],
        &env,
        &wi_request(
            "ksa.jwt.value",
            &[("iam.gke.io/enable-wi-image-pull", "true")],
        ),
    );
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        json["auth"]["europe-docker.pkg.dev"]["password"],
        "ya29.federated-wire"
    );
    assert_eq!(json["auth"]["gcr.io"]["username"], "_token");
    assert_eq!(json["cacheDuration"], "59m0s");
    assert!(
        !stderr.contains("ya29.federated-wire") && !stderr.contains("ksa.jwt.value"),
        "{stderr}"
    );

    let reqs = sts.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.target.as_str()),
        ("POST", "/v1/token")
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("user-agent"),
        Some("GKE auth-provider-gcp image pull")
    );
    assert_eq!(
        String::from_utf8(r.body.clone()).unwrap(),
        format!(
            "{{\"audience\":\"identitynamespace:my-project.svc.id.goog:{IDP}\",\"grant_type\":\"urn:ietf:params:oauth:grant-type:token-exchange\",\"requested_token_type\":\"urn:ietf:params:oauth:token-type:access_token\",\"scope\":\"https://www.googleapis.com/auth/cloud-platform\",\"subject_token\":\"ksa.jwt.value\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\"}}"
        )
    );
    assert!(
        metadata.requests().is_empty(),
        "Workload Identity does not use the node's token"
    );

    // Not annotated: the node's service account, STS untouched.
    let (stdout, _) = run_ok(
        &[
            "get-credentials",
            &format!("--identity-provider={IDP}"),
            "--project-id=my-project",
        ],
        &env,
        &wi_request(
            "ksa.jwt.value",
            &[("iam.gke.io/enable-wi-image-pull", "false")],
        ),
    );
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["auth"]["gcr.io"]["password"], NODE_TOKEN);
    assert_eq!(sts.requests().len(), 1);
}

fn iam_server(expire_in: Duration) -> StubServer {
    StubServer::start(move |req| {
        let expire = SystemTime::now() + expire_in;
        let secs = expire.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let c = kcred_plugin::log::civil_from_unix(secs as i64);
        let body = format!(
            "{{\n  \"accessToken\": \"ya29.impersonated-for-{}\",\n  \"expireTime\": \"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z\"\n}}\n",
            req.path().split('/').nth(5).unwrap_or("").split(':').next().unwrap_or(""),
            c.year, c.month, c.day, c.hour, c.minute, c.second
        );
        if req.method == "POST"
            && req.header("authorization") == Some("Bearer ya29.federated-wire")
            && req.path().ends_with(":generateAccessToken")
        {
            Reply::new(200, body)
        } else {
            Reply::new(
                403,
                "{\"error\":{\"code\":403,\"status\":\"PERMISSION_DENIED\"}}",
            )
        }
    })
}

#[test]
fn workload_identity_impersonation_by_flag_and_annotation() {
    let metadata = node_sa_metadata(NODE_TOKEN, 3599);
    let sts = sts_server(sts_ok("ya29.federated-wire", 3600));
    let iam = iam_server(Duration::from_secs(1800));
    let mut env = stub_env(&metadata, Some(&sts));
    env.push((
        "KCRED_GCP_IAM_CREDENTIALS_URL".to_owned(),
        format!("{}/v1/", iam.base()),
    ));
    let wi_args = [
        "get-credentials".to_owned(),
        format!("--identity-provider={IDP}"),
        "--project-id=my-project".to_owned(),
    ];
    let annotated = wi_request(
        "ksa.jwt.value",
        &[
            ("iam.gke.io/enable-wi-image-pull", "true"),
            (
                "iam.gke.io/gcp-service-account",
                "from-annotation@p.iam.gserviceaccount.com",
            ),
        ],
    );

    // The annotation alone does nothing: upstream behaviour, federated token used.
    let args: Vec<&str> = wi_args.iter().map(String::as_str).collect();
    let (stdout, _) = run_ok(&args, &env, &annotated);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["auth"]["gcr.io"]["password"], "ya29.federated-wire");
    assert!(iam.requests().is_empty());

    // --impersonate-service-account: a fixed account.
    let mut args_flag = args.clone();
    args_flag.push("--impersonate-service-account=fixed@p.iam.gserviceaccount.com");
    let (stdout, _) = run_ok(&args_flag, &env, &annotated);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        json["auth"]["gcr.io"]["password"],
        "ya29.impersonated-for-fixed@p.iam.gserviceaccount.com"
    );
    // Lifetime from expireTime (1800 s from now, whole seconds) minus 60 s.
    let d = json["cacheDuration"].as_str().unwrap();
    assert!(["28m58s", "28m59s", "29m0s"].contains(&d), "{d}");
    let reqs = iam.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].target,
        "/v1/projects/-/serviceAccounts/fixed@p.iam.gserviceaccount.com:generateAccessToken"
    );
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"scope": ["https://www.googleapis.com/auth/cloud-platform"]})
    );

    // --impersonate-from-annotation: the annotation wins over the fixed account.
    let mut args_ann = args_flag.clone();
    args_ann.push("--impersonate-from-annotation");
    let (stdout, _) = run_ok(&args_ann, &env, &annotated);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        json["auth"]["gcr.io"]["password"],
        "ya29.impersonated-for-from-annotation@p.iam.gserviceaccount.com"
    );

    // A name that would escape the URL path is refused before any request.
    let bad = wi_request(
        "ksa.jwt.value",
        &[
            ("iam.gke.io/enable-wi-image-pull", "true"),
            ("iam.gke.io/gcp-service-account", "x@p/../../evil"),
        ],
    );
    let before = iam.requests().len();
    let stderr = run_fail(&args_ann, &env, &bad);
    assert!(
        stderr.contains("invalid Google service account \"x@p/../../evil\""),
        "{stderr}"
    );
    assert_eq!(iam.requests().len(), before);

    // IAM refuses: a clear error, no fallback.
    // (a different federated token, which the IAM stub does not accept)
    let sts_other = sts_server(sts_ok("ya29.other-federated", 3600));
    let mut env_denied = env.clone();
    for (k, v) in env_denied.iter_mut() {
        if k == "KCRED_GCP_STS_URL" {
            *v = format!("{}/v1/token", sts_other.base());
        }
    }
    let stderr = run_fail(&args_flag, &env_denied, &annotated);
    assert!(
        stderr.contains("Workload Identity impersonation failed: impersonating fixed@p.iam.gserviceaccount.com failed with status 403"),
        "{stderr}"
    );
    assert!(!stderr.contains("ya29.other-federated"), "{stderr}");
}

#[test]
fn dockercfg_flows() {
    let cfg = "{\"https://registry.example\": {\"auth\": \"dXNlcjpwYXNz\", \"email\": \"e@x\"}, \"other.example\": {\"username\": \"u2\", \"password\": \"p2\"}}";
    let doc = StubServer::start(move |req| {
        if req.path() == "/cfg" {
            Reply::new(200, cfg)
        } else {
            Reply::new(404, "")
        }
    });
    let mut routes = BTreeMap::new();
    routes.insert(
        "instance/attributes/google-dockercfg".to_owned(),
        Reply::new(200, cfg),
    );
    routes.insert(
        "instance/attributes/google-dockercfg-url".to_owned(),
        Reply::new(200, format!("{}/cfg?sig=SECRETSIG\n", doc.base())),
    );
    let metadata = metadata_server(routes);
    let env = stub_env(&metadata, None);
    let expected = "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"cacheKeyType\":\"Image\",\"auth\":{\"https://registry.example\":{\"username\":\"user\",\"password\":\"pass\"},\"other.example\":{\"username\":\"u2\",\"password\":\"p2\"}}}\n";
    for flow in ["dockercfg", "dockercfg-url"] {
        // No expiry is known: cacheDuration is omitted (the provider's
        // defaultCacheDuration applies) unless KUBE_SIDECAR_CACHE_DURATION says otherwise.
        let (stdout, _) = run_ok(
            &["get-credentials", "-a", flow],
            &env,
            &request("gcr.io/p/i"),
        );
        assert_eq!(stdout, expected, "{flow}");
        let mut env2 = env.clone();
        env2.push(("KUBE_SIDECAR_CACHE_DURATION".to_owned(), "5m".to_owned()));
        let (stdout, _) = run_ok(
            &["get-credentials", "-a", flow],
            &env2,
            &request("gcr.io/p/i"),
        );
        assert!(stdout.contains("\"cacheDuration\":\"5m0s\""), "{stdout}");
    }
    let fetches: Vec<_> = doc.requests();
    assert_eq!(fetches.len(), 2);
    assert_eq!(fetches[0].target, "/cfg?sig=SECRETSIG");
    assert_eq!(fetches[0].header("metadata-flavor"), None);

    // Unsupported scheme and failing URL: errors; the query string is never logged.
    let mut routes = BTreeMap::new();
    routes.insert(
        "instance/attributes/google-dockercfg-url".to_owned(),
        Reply::new(200, "gs://bucket/cfg?sig=SECRETSIG"),
    );
    let metadata = metadata_server(routes);
    let stderr = run_fail(
        &["get-credentials", "--authFlow=dockercfg-url"],
        &stub_env(&metadata, None),
        &request("gcr.io/p/i"),
    );
    assert!(
        stderr.contains("Unsupported URL scheme: gs://bucket/cfg?<redacted>"),
        "{stderr}"
    );
    assert!(!stderr.contains("SECRETSIG"));

    let mut routes = BTreeMap::new();
    routes.insert(
        "instance/attributes/google-dockercfg-url".to_owned(),
        Reply::new(200, format!("{}/missing?sig=SECRETSIG", doc.base())),
    );
    let metadata = metadata_server(routes);
    let stderr = run_fail(
        &["get-credentials", "--authFlow=dockercfg-url"],
        &stub_env(&metadata, None),
        &request("gcr.io/p/i"),
    );
    assert!(
        stderr.contains(&format!(
            "while reading 'google-dockercfg-url'-specified url: {}/missing?<redacted>, http status code: 404",
            doc.base()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("SECRETSIG"));

    // A broken document: upstream's message, no content.
    let mut routes = BTreeMap::new();
    routes.insert(
        "instance/attributes/google-dockercfg".to_owned(),
        Reply::new(200, "{\"r\": {\"auth\": \"bm9jb2xvbg==\"}}"),
    );
    let metadata = metadata_server(routes);
    let stderr = run_fail(
        &["get-credentials", "-adockercfg"],
        &stub_env(&metadata, None),
        &request("x/y"),
    );
    assert!(
        stderr.contains("while parsing 'google-dockercfg' metadata: error occurred while trying to unmarshal json"),
        "{stderr}"
    );
}

#[test]
fn command_line_and_request_handling() {
    let metadata = node_sa_metadata(NODE_TOKEN, 600);
    let env = stub_env(&metadata, None);

    // GKE's args and klog flags.
    let (stdout, _) = run_ok(
        &[
            "get-credentials",
            "--v=3",
            "--logtostderr",
            "--stderrthreshold=INFO",
            "--log_file_max_size=1800",
        ],
        &env,
        &request("gcr.io/p/i"),
    );
    assert!(stdout.ends_with("}\n") && !stdout.ends_with("\n\n"));
    assert!(stdout.contains("\"cacheDuration\":\"9m0s\""), "{stdout}");

    // v1beta1 request → v1beta1 answer (upstream always answers v1).
    let beta = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","kind":"CredentialProviderRequest","image":"gcr.io/p/i"}"#;
    let (stdout, _) = run_ok(&["get-credentials"], &env, beta);
    assert!(stdout.contains("\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1beta1\""));

    // Flag errors: exit 1 before stdin is read or any request is made.
    let before = metadata.requests().len();
    let stderr = run_fail(&["get-credentials", "--authFlow=Gcr"], &env, b"");
    assert!(stderr.contains(
        "invalid value \"Gcr\" for authFlow (must be one of \"gcr\", \"dockercfg\", or \"dockercfg-url\")"
    ));
    let stderr = run_fail(&["get-credentials", "--identity-provider=x"], &env, b"");
    assert!(stderr.contains("--project-id is required when --identity-provider is set"));
    let stderr = run_fail(&["get-credentials", "--bogus"], &env, b"");
    assert!(stderr.contains("unknown flag: --bogus"));
    let stderr = run_fail(&["fetch"], &env, b"");
    assert!(stderr.contains("unknown command \"fetch\" for \"auth-provider-gcp\""));
    let stderr = run_fail(&["get-credentials"], &env, b"{\"image\": 42}");
    assert!(stderr.contains("error unmarshaling auth credential request"));
    let mut huge = b"{\"image\":\"gcr.io/p/i\",\"x\":\"".to_vec();
    huge.resize(2 << 20, b'a');
    let stderr = run_fail(&["get-credentials"], &env, &huge);
    assert!(
        stderr.contains("error unmarshaling auth credential request: larger than 1048576 bytes")
    );
    assert_eq!(metadata.requests().len(), before);

    // --identity-provider with dockercfg: a warning only.
    let mut routes = BTreeMap::new();
    routes.insert(
        "instance/attributes/google-dockercfg".to_owned(),
        Reply::new(200, "{}"),
    );
    let md2 = metadata_server(routes);
    let (stdout, stderr) = run_ok(
        &[
            "get-credentials",
            "-a",
            "dockercfg",
            "--identity-provider=x",
            "--project-id=p",
        ],
        &stub_env(&md2, None),
        &request("gcr.io/p/i"),
    );
    assert!(stderr.contains("auth-provider-gcp: --identity-provider was set but --authFlow is \"dockercfg\". This flag only has effect when --authFlow=gcr."));
    assert!(!stdout.contains("\"auth\""), "empty config: no auth key");

    // Help.
    let out = run_plugin(&["--help"], &[], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("get-credentials"));
}

/// An STS that echoes the exchange request (the pod's token in `subjectToken`) with terminal
/// escapes and line breaks: the relayed body is scrubbed of the token and escaped Go-style,
/// so neither the token nor a raw ESC/CR/LF reaches stderr.
#[test]
fn echoing_sts_error_body_is_scrubbed_and_escaped() {
    let metadata = node_sa_metadata(NODE_TOKEN, 3599);
    let sts = StubServer::start(|req| {
        let mut body = b"\x1b[2J\r\nE0101 00:00:00.000000 1 forged] ok\n".to_vec();
        body.extend_from_slice(&req.body);
        Reply::new(400, body)
    });
    let env = stub_env(&metadata, Some(&sts));
    let token = "ksa.echoed.jwt-value";
    let stderr = run_fail(
        &[
            "get-credentials",
            &format!("--identity-provider={IDP}"),
            "--project-id=my-project",
        ],
        &env,
        &wi_request(token, &[("iam.gke.io/enable-wi-image-pull", "true")]),
    );
    assert_eq!(sts.requests().len(), 1, "the echoing STS was called");
    assert!(!stderr.contains(token), "token leaked: {stderr}");
    for raw in ['\u{1b}', '\r'] {
        assert!(!stderr.contains(raw), "raw {raw:?} in {stderr:?}");
    }
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line, no forged one: {stderr}"
    );
    assert!(
        stderr.contains(r#"STS token exchange failed with status 400: \x1b[2J\r\nE0101 00:00:00.000000 1 forged] ok\n{"#),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#""subject_token":"<redacted>""#),
        "{stderr}"
    );
}
