//! The real `ecr-credential-provider` binary against real peers on loopback: moto server
//! (ECR, STS), an IMDSv2 stub, an ECR Public stub speaking its JSON 1.1 wire format, and a
//! Debian `docker-registry` checked with `skopeo`. Each run uses a cleared environment with
//! only the variables the case needs.
//!
//! moto comes from `$KCRED_MOTO_SERVER` (set by `scripts/test-all.sh`), the workspace's
//! `target/test-venv`, or `PATH`; without it these tests fail under `CI` and are skipped
//! (loudly) otherwise.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::{failure, only_auth, request, run_plugin, sa_request, stderr, stdout, success};
use base64::Engine;
use kcred_testutil::http_stub::{StubResponse, StubServer};
use kcred_testutil::moto::MotoServer;
use kcred_testutil::registry::{Registry, RegistryTools};

const PRIVATE_HOST: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
const STATIC_KEYS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
];

/// The environment pointing ECR and STS at moto, with IMDS off.
fn moto_env(moto: &MotoServer) -> Vec<(String, String)> {
    vec![
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("AWS_ENDPOINT_URL_ECR".into(), moto.endpoint()),
        ("AWS_ENDPOINT_URL_STS".into(), moto.endpoint()),
    ]
}

fn with<'a>(base: &'a [(String, String)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(extra.iter().copied())
        .collect()
}

#[test]
fn get_authorization_token_from_moto() {
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let env = moto_env(&moto);
    let out = run_plugin(
        &["get-credentials"],
        &request(&format!("{PRIVATE_HOST}/team/app")),
        &with(&env, &STATIC_KEYS),
    );
    success(&out);
    // moto's token is AWS:123456789012-auth-token, expiring 2015-01-01: already expired, so
    // kcred says "0s" (upstream would omit cacheDuration and let the kubelet keep it 12 h).
    assert_eq!(
        stdout(&out),
        format!(
            "{{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\
             \"cacheKeyType\":\"Registry\",\"cacheDuration\":\"0s\",\"auth\":{{\"{PRIVATE_HOST}\":\
             {{\"username\":\"AWS\",\"password\":\"123456789012-auth-token\"}}}}}}\n"
        )
    );
    assert!(
        stderr(&out).contains(&format!("Getting creds for private image {PRIVATE_HOST}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn older_api_versions_are_answered_in_kind() {
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let env = moto_env(&moto);
    for version in ["v1alpha1", "v1beta1"] {
        let stdin = format!(
            "{{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/{version}\",\"image\":\"{PRIVATE_HOST}/x\"}}"
        );
        let response = success(&run_plugin(&[], &stdin, &with(&env, &STATIC_KEYS)));
        assert_eq!(
            response["apiVersion"],
            format!("credentialprovider.kubelet.k8s.io/{version}")
        );
        assert_eq!(only_auth(&response).2, "123456789012-auth-token");
    }
}

#[test]
fn service_account_token_assumes_the_role_into_another_account() {
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let env = moto_env(&moto);
    let image = format!("{PRIVATE_HOST}/team/app");
    // No node credentials at all: the STS call is unsigned, and the ECR call is signed with
    // the assumed role's keys, which moto maps to the role's account.
    type Pairs<'a> = &'a [(&'a str, &'a str)];
    // (annotations, extra environment, account the token must be for)
    let cases: [(Pairs, Pairs, &str); 3] = [
        (
            &[(
                "eks.amazonaws.com/ecr-role-arn",
                "arn:aws:iam::210987654321:role/ecr-pull",
            )],
            &[(
                "AWS_ECR_ROLE_ARN",
                "arn:aws:iam::999999999999:role/not-this",
            )],
            "210987654321",
        ),
        (
            &[(
                "eks.amazonaws.com/role-arn",
                "arn:aws:iam::333333333333:role/irsa",
            )],
            &[(
                "AWS_ECR_ROLE_ARN",
                "arn:aws:iam::999999999999:role/not-this",
            )],
            "333333333333",
        ),
        (
            &[],
            &[(
                "AWS_ECR_ROLE_ARN",
                "arn:aws:iam::444444444444:role/from-env",
            )],
            "444444444444",
        ),
    ];
    for (annotations, extra_env, account) in cases {
        let out = run_plugin(
            &[],
            &sa_request(&image, "header.payload.signature", annotations),
            &with(&env, extra_env),
        );
        let response = success(&out);
        let (key, user, password) = only_auth(&response);
        assert_eq!(key, PRIVATE_HOST);
        assert_eq!(user, "AWS");
        assert_eq!(password, format!("{account}-auth-token"), "{annotations:?}");
        assert!(
            !stderr(&out).contains("header.payload.signature"),
            "the token never appears in logs"
        );
    }
}

#[test]
fn service_account_token_without_a_role_uses_the_node_chain() {
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let env = moto_env(&moto);
    let out = run_plugin(
        &[],
        &sa_request(&format!("{PRIVATE_HOST}/x"), "tok", &[]),
        &with(&env, &STATIC_KEYS),
    );
    let response = success(&out);
    assert_eq!(only_auth(&response).2, "123456789012-auth-token");
    assert!(stderr(&out).contains("no arn provided"), "{}", stderr(&out));
}

/// Temporary keys for account 555555555555, minted by moto's `sts:AssumeRole`.
fn mint_node_credentials(moto: &MotoServer) -> (String, String, String) {
    let body = "Action=AssumeRole&Version=2011-06-15\
                &RoleArn=arn%3Aaws%3Aiam%3A%3A555555555555%3Arole%2Fnode\
                &RoleSessionName=node";
    let (status, xml) = crate::common::http(
        &moto.endpoint(),
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sts/aws4_request, \
                 SignedHeaders=host, Signature=0",
            ),
        ],
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{xml}");
    (
        crate::common::xml_text(&xml, "AccessKeyId"),
        crate::common::xml_text(&xml, "SecretAccessKey"),
        crate::common::xml_text(&xml, "SessionToken"),
    )
}

#[test]
fn instance_metadata_credentials_and_region() {
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let (key, secret, token) = mint_node_credentials(&moto);
    let expiration = "2099-01-01T00:00:00Z";
    let creds = serde_json::json!({
        "Code": "Success",
        "LastUpdated": "2026-01-01T00:00:00Z",
        "Type": "AWS-HMAC",
        "AccessKeyId": key,
        "SecretAccessKey": secret,
        "Token": token,
        "Expiration": expiration,
    })
    .to_string();
    const IMDS_TOKEN: &str = "imds-session-token";
    let imds = StubServer::start_plain(move |r| {
        if r.method == "PUT" && r.path() == "/latest/api/token" {
            let ttl = r
                .header("x-aws-ec2-metadata-token-ttl-seconds")
                .unwrap_or("21600")
                .to_owned();
            return StubResponse::text(200, IMDS_TOKEN)
                .with_header("x-aws-ec2-metadata-token-ttl-seconds", &ttl);
        }
        if r.header("x-aws-ec2-metadata-token") != Some(IMDS_TOKEN) {
            return StubResponse::text(401, "");
        }
        match r.path() {
            "/latest/meta-data/iam/security-credentials/" => StubResponse::text(200, "node-role"),
            "/latest/meta-data/iam/security-credentials/node-role" => {
                StubResponse::json(200, creds.clone())
            }
            "/latest/meta-data/placement/region" => StubResponse::text(200, "us-west-2"),
            _ => StubResponse::text(404, ""),
        }
    });
    let imds_url = format!("http://127.0.0.1:{}/", imds.port());
    // A non-ECR host: the region, too, comes from instance metadata.
    let out = run_plugin(
        &[],
        &request("registry.example.internal/team/app"),
        &[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds_url),
            ("AWS_ENDPOINT_URL_ECR", &moto.endpoint()),
        ],
    );
    let response = success(&out);
    assert_eq!(
        only_auth(&response),
        (
            "registry.example.internal".to_owned(),
            "AWS".to_owned(),
            "555555555555-auth-token".to_owned()
        )
    );
    assert!(
        stderr(&out).contains("not an ECR registry host"),
        "{}",
        stderr(&out)
    );
    let requests = imds.requests();
    let put = requests
        .iter()
        .find(|r| r.method == "PUT")
        .expect("an IMDSv2 token request");
    assert!(put.header("x-aws-ec2-metadata-token-ttl-seconds").is_some());
    assert!(requests
        .iter()
        .any(|r| r.path() == "/latest/meta-data/placement/region"));
}

// ---------------------------------------------------------------------------------------
// ECR Public: not in moto; a stub speaking its wire format (AWS JSON 1.1, single object).

#[test]
fn ecr_public_retries_throttling_then_answers() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = base64::engine::general_purpose::STANDARD.encode("AWS:public-token");
    let calls = Arc::new(AtomicUsize::new(0));
    let stub = {
        let calls = calls.clone();
        StubServer::start_plain(move |_| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                return StubResponse::json(
                    400,
                    r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
                )
                .with_header("Content-Type", "application/x-amz-json-1.1");
            }
            StubResponse::json(
                200,
                format!(
                    r#"{{"authorizationData":{{"authorizationToken":"{token}","expiresAt":{}}}}}"#,
                    now + 12 * 3600
                ),
            )
            .with_header("Content-Type", "application/x-amz-json-1.1")
        })
    };
    let url = format!("http://127.0.0.1:{}", stub.port());
    for host in ["public.ecr.aws", "ecr-public.aws.com"] {
        let out = run_plugin(
            &[],
            &request(&format!("{host}/eks-distro/kubernetes/pause")),
            &[
                ("AWS_EC2_METADATA_DISABLED", "true"),
                ("AWS_ENDPOINT_URL_ECR_PUBLIC", &url),
                ("AWS_ACCESS_KEY_ID", "AKIDPUBLIC"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
            ],
        );
        let response = success(&out);
        assert_eq!(
            only_auth(&response),
            (host.to_owned(), "AWS".to_owned(), "public-token".to_owned())
        );
        let duration = response["cacheDuration"].as_str().unwrap();
        assert!(
            duration == "6h0m0s" || duration == "5h59m59s",
            "half of 12 h: {duration}"
        );
    }
    let requests = stub.requests();
    assert_eq!(
        requests.len(),
        3,
        "one throttled attempt, retried, then one call"
    );
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path(), "/");
        assert_eq!(
            r.header("x-amz-target"),
            Some("SpencerFrontendService.GetAuthorizationToken")
        );
        assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
        let auth = r.header("authorization").unwrap_or("");
        assert!(
            auth.contains("Credential=AKIDPUBLIC/")
                && auth.contains("/us-east-1/ecr-public/aws4_request"),
            "signed for ecr-public in us-east-1: {auth}"
        );
        assert_eq!(r.body, b"{}");
    }
}

// ---------------------------------------------------------------------------------------
// Failures: each exits 1 with nothing on stdout and a message naming what failed.

#[test]
fn malformed_and_unsupported_requests() {
    let env = [("AWS_EC2_METADATA_DISABLED", "true")];
    let err = failure(&run_plugin(&[], "this is not json", &env));
    assert!(err.contains("json parse error"), "{err}");
    let err = failure(&run_plugin(
        &[],
        r#"{"kind":"CredentialProviderRequest","apiVersion":"foo.k8s.io/v1","image":"x"}"#,
        &env,
    ));
    assert!(err.contains("foo.k8s.io/v1"), "{err}");
    let err = failure(&run_plugin(&[], &request(""), &env));
    assert!(err.contains("image in plugin request was empty"), "{err}");
    let err = failure(&run_plugin(&[], &request("foobar  "), &env));
    assert!(
        err.contains(r#"error parsing image reference https://foobar  : parse "https://foobar  ": invalid character " " in host name"#),
        "{err}"
    );
}

#[test]
fn missing_credentials_say_what_was_tried() {
    let out = run_plugin(
        &[],
        &request(&format!("{PRIVATE_HOST}/x")),
        &[("AWS_EC2_METADATA_DISABLED", "true")],
    );
    let err = failure(&out);
    for part in [
        "ecr:GetAuthorizationToken in us-west-2",
        "no AWS credentials from the default chain",
        "Environment: ",
        "Profile: ",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "EcsContainer: ",
        "IMDS disabled by AWS_EC2_METADATA_DISABLED",
    ] {
        assert!(err.contains(part), "{part:?} in {err}");
    }
}

#[test]
fn missing_region_for_a_non_ecr_host() {
    let out = run_plugin(
        &[],
        &request("registry.example.internal/x"),
        &[
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ],
    );
    let err = failure(&out);
    assert!(err.contains("no AWS region"), "{err}");
    assert!(err.contains("registry.example.internal"), "{err}");
}

#[test]
fn unreachable_endpoint_names_api_region_endpoint_and_credentials() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{closed}");
    let start = Instant::now();
    let out = run_plugin(
        &[],
        &request(&format!("{PRIVATE_HOST}/x")),
        &[
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ENDPOINT_URL_ECR", &endpoint),
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ],
    );
    let err = failure(&out);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    for part in [
        "ecr:GetAuthorizationToken in us-west-2",
        &endpoint,
        "environment variables",
    ] {
        assert!(err.contains(part), "{part:?} in {err}");
    }
}

#[test]
fn a_silent_endpoint_times_out_well_before_the_kubelet() {
    // Accepts connections (the kernel completes them) but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let start = Instant::now();
    let out = run_plugin(
        &[],
        &request(&format!("{PRIVATE_HOST}/x")),
        &[
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ENDPOINT_URL_ECR", &endpoint),
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_MAX_ATTEMPTS", "1"),
        ],
    );
    let elapsed = start.elapsed();
    let err = failure(&out);
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    assert!(err.contains("timed out"), "{err}");
    assert!(err.contains(&endpoint), "{err}");
}

// ---------------------------------------------------------------------------------------
// A real pull: docker-registry with the token moto issues as its htpasswd password.

#[test]
fn skopeo_pulls_with_the_returned_credentials() {
    let Some(tools) = RegistryTools::find_or_skip("skopeo_pulls_with_the_returned_credentials")
    else {
        return;
    };
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let moto_password = "123456789012-auth-token";
    let registry = Registry::start(&tools, &[("AWS", moto_password)]).expect("registry starts");
    registry
        .push_test_image("team/app:v1", "AWS", moto_password)
        .expect("push the test image");

    // The registry is a non-ECR host (as a custom domain or proxy would be): the plugin asks
    // ECR in the default region and keys the credentials by the host without its port.
    let image = registry.image("team/app");
    let env = moto_env(&moto);
    let node = with(
        &env,
        &[STATIC_KEYS[0], STATIC_KEYS[1], ("AWS_REGION", "us-west-2")],
    );
    let response = success(&run_plugin(&["get-credentials"], &request(&image), &node));
    let (key, user, password) = only_auth(&response);
    assert_eq!(key, "127.0.0.1");
    let ok = registry.inspect("team/app:v1", Some((&user, &password)));
    assert!(
        ok.success,
        "skopeo inspect with the plugin's credentials: {}",
        ok.stderr
    );
    assert!(ok.stdout.contains("team/app"), "{}", ok.stdout);

    // A token for another account (service-account mode, assumed role) is refused.
    let env_sa = with(&env, &[("AWS_REGION", "us-west-2")]);
    let response = success(&run_plugin(
        &[],
        &sa_request(
            &image,
            "tok",
            &[(
                "eks.amazonaws.com/ecr-role-arn",
                "arn:aws:iam::210987654321:role/ecr-pull",
            )],
        ),
        &env_sa,
    ));
    let (_, user, wrong) = only_auth(&response);
    assert_eq!(wrong, "210987654321-auth-token");
    let refused = registry.inspect("team/app:v1", Some((&user, &wrong)));
    assert!(!refused.success);
    assert!(
        refused.stderr.contains("unauthorized"),
        "{}",
        refused.stderr
    );
}
