//! Issue 15, AWS: keyless ECR pulls on a self-managed cluster, end to end, with an STS that
//! really verifies the token.
//!
//! The IAM OIDC provider, the role's trust policy and the kubelet's provider entry are the
//! ones `kcred wi plan --cloud aws` prints. An openssl signing key; `kcred oidc discovery` documents on an HTTPS static host (test CA);
//! a kube-apiserver-shaped projected token for `team/puller`; `kcred get` runs
//! `ecr-credential-provider` in token mode; the plugin calls `AssumeRoleWithWebIdentity` at
//! the STS stub (`kcred_testutil::sts_stub`), which checks the IAM OIDC provider, audience,
//! the issuer's published keys, expiry and the role's trust policy, then lets moto mint the
//! role's keys; moto's ECR answers with the role account's token
//! (`AWS:210987654321-auth-token`), which a real `docker-registry` accepts for skopeo. No node
//! credentials exist: the pull can only work through the role. The same run fails, naming
//! STS's error, for a token signed by another key, an expired token, a wrong audience and a
//! wrong subject.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use kcred_testutil::http_stub::StubServer;
use kcred_testutil::kubelet::{only_auth_entry, KcredRun, Node, ProxiedInspect};
use kcred_testutil::moto::MotoServer;
use kcred_testutil::oidc_idp::{
    fetched_paths, ProjectedToken, PublishedIssuer, SigningKey, TestCa, ISSUER_DOCUMENTS,
};
use kcred_testutil::registry::{Registry, RegistryTools};
use kcred_testutil::sts_stub::{IamOidcProvider, StsStub, WebIdentityRole};

const PROVIDER: &str = "ecr-credential-provider";
const ECR_HOST: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
const ROLE_ACCOUNT: &str = "210987654321";
const ROLE_TOKEN: &str = "210987654321-auth-token";
const AUDIENCE: &str = "sts.amazonaws.com";

struct World {
    key: SigningKey,
    other_key: SigningKey,
    issuer: String,
    issuer_host: StubServer,
    sts: Arc<StsStub>,
    _sts_server: StubServer,
    _moto: Arc<MotoServer>,
    node: Node,
}

fn world(moto: Arc<MotoServer>) -> World {
    // The node's own temporary directory holds everything (removed when it is dropped).
    let plugin = env!("CARGO_BIN_EXE_ecr-credential-provider");
    let node = Node::new(&[], &[(PROVIDER, Path::new(plugin))]);
    let dir = &node.path("world");
    let ca = TestCa::generate(&dir.join("pki"), &[]);
    let PublishedIssuer {
        key,
        other_key,
        url: issuer,
        host: issuer_host,
    } = PublishedIssuer::publish(dir, &ca);

    // The cloud and the node, configured from `kcred wi plan --cloud aws`: the IAM OIDC
    // provider from its `aws iam create-open-id-connect-provider` line, the role from its
    // trust-policy.json, the kubelet's provider entry from its CredentialProviderConfig.
    let plan = Command::new(kcred_testutil::bin("kcred-cli", "kcred"))
        .args([
            "wi",
            "plan",
            "--cloud",
            "aws",
            "--issuer",
            &issuer,
            "--namespace",
            "team",
            "--service-account",
            "puller",
            "--kubelet-version",
            "1.34",
            "--aws-account-id",
            ROLE_ACCOUNT,
        ])
        .output()
        .unwrap();
    assert!(
        plan.status.success(),
        "kcred wi plan: {}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let plan = String::from_utf8(plan.stdout).unwrap();
    assert!(plan.contains(&format!("aws iam create-open-id-connect-provider --url '{issuer}' --client-id-list '{AUDIENCE}'")), "{plan}");
    let provider = IamOidcProvider {
        url: issuer.clone(),
        client_ids: vec![AUDIENCE.to_owned()],
        account: ROLE_ACCOUNT.to_owned(),
    };
    let policy: serde_json::Value = serde_json::from_str(&kcred_testutil::oidc_idp::plan_heredoc(
        &plan,
        "cat > trust-policy.json",
    ))
    .unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    let host_path = issuer.trim_start_matches("https://");
    let condition = &statement["Condition"]["StringEquals"];
    let role = WebIdentityRole {
        arn: format!("arn:aws:iam::{ROLE_ACCOUNT}:role/kcred-ecr-pull-team-puller"),
        provider_arn: statement["Principal"]["Federated"]
            .as_str()
            .unwrap()
            .to_owned(),
        aud: condition[format!("{host_path}:aud")]
            .as_str()
            .unwrap()
            .to_owned(),
        sub: condition[format!("{host_path}:sub")]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    assert_eq!(role.provider_arn, provider.arn());
    let sts = Arc::new(StsStub::new(
        vec![provider],
        vec![role],
        Some(ca.ca_crt.clone()),
        &moto.endpoint(),
    ));
    let sts_server = {
        let sts = sts.clone();
        StubServer::start_plain(move |r| sts.handle(r))
    };
    let config = kcred_testutil::oidc_idp::plan_heredoc(&plan, "cat > credential-providers.yaml");
    node.write(
        "config.yaml",
        &format!(
            "{config}    env:
      - {{name: AWS_ENDPOINT_URL_ECR, value: \"{moto}\"}}
      - {{name: AWS_ENDPOINT_URL_STS, value: \"http://127.0.0.1:{sts_port}\"}}
      - {{name: AWS_EC2_METADATA_DISABLED, value: \"true\"}}
      - {{name: AWS_MAX_ATTEMPTS, value: \"1\"}}
",
            moto = moto.endpoint(),
            sts_port = sts_server.port(),
        ),
    );
    World {
        key,
        other_key,
        issuer,
        issuer_host,
        sts,
        _sts_server: sts_server,
        _moto: moto,
        node,
    }
}

impl World {
    fn token(&self) -> ProjectedToken {
        ProjectedToken::new(&self.issuer, AUDIENCE, "team", "puller")
    }

    fn kcred_get(&self, token: &str, output: &[&str]) -> KcredRun {
        let file = self.node.write("sa-token", token).display().to_string();
        let role = format!("eks.amazonaws.com/ecr-role-arn=arn:aws:iam::{ROLE_ACCOUNT}:role/kcred-ecr-pull-team-puller");
        let mut args = vec![
            "--namespace",
            "team",
            "--service-account",
            "puller",
            "--annotation",
            &role,
            "--service-account-token",
            &file,
        ];
        args.extend_from_slice(output);
        // No node credentials at all: only the role can yield a token.
        self.node.kcred_get(
            &format!("{ECR_HOST}/team/app:v1"),
            &args,
            &[
                ("AWS_CONFIG_FILE", "/nonexistent/kcred-test/config"),
                (
                    "AWS_SHARED_CREDENTIALS_FILE",
                    "/nonexistent/kcred-test/credentials",
                ),
            ],
        )
    }
}

#[test]
fn a_cluster_token_verified_by_sts_pulls_from_ecr() {
    let Some(tools) = RegistryTools::find_or_skip("a_cluster_token_verified_by_sts_pulls_from_ecr")
    else {
        return;
    };
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let w = world(moto);
    let token = w.token().sign(&w.key);
    let get = w.kcred_get(&token, &["--output", "auth-json"]);
    get.assert_exit(0);
    assert!(w.sts.errors().is_empty(), "{:?}", w.sts.errors());
    assert_eq!(fetched_paths(&w.issuer_host), ISSUER_DOCUMENTS);
    let (key, user, password) = only_auth_entry(&get.stdout);
    assert_eq!(key, ECR_HOST);
    assert_eq!(
        (user.as_str(), password.as_str()),
        ("AWS", ROLE_TOKEN),
        "the role's account, via the verified token"
    );
    assert!(!get.all().contains(&token));

    let registry = Registry::start(&tools, &[("AWS", ROLE_TOKEN)]).expect("registry");
    registry
        .push_test_image("team/app:v1", "AWS", ROLE_TOKEN)
        .expect("push");
    let authfile = w.node.write("auth.json", &get.stdout);
    let skopeo = ProxiedInspect::plain_http(
        &tools,
        &w.node,
        ECR_HOST,
        &registry,
        format!("{ECR_HOST}/team/app:v1"),
    );
    let inspected = skopeo.assert_pulls(&authfile, &registry);
    assert_eq!(
        inspected["Name"].as_str(),
        Some(format!("{ECR_HOST}/team/app").as_str())
    );
    skopeo.assert_refused(None, "anonymous inspect must fail");
}

#[test]
fn sts_refuses_each_broken_token_and_the_error_says_why() {
    if RegistryTools::find_or_skip("sts_refuses_each_broken_token_and_the_error_says_why").is_none()
    {
        return;
    }
    let Some(moto) = MotoServer::shared() else {
        return;
    };
    let w = world(moto);
    let good = w.token();
    let mut expired = good.clone();
    expired.issued_at -= 2 * 3600;
    let mut wrong_aud = good.clone();
    wrong_aud.audiences = vec!["api://AzureADTokenExchange".to_owned()];
    let mut wrong_sub = good.clone();
    wrong_sub.service_account = "builder".to_owned();
    let cases = [
        ("signed by another key", good.sign(&w.other_key), "InvalidIdentityToken: The web identity token that was passed could not be validated by AWS"),
        ("expired", expired.sign(&w.key), "ExpiredTokenException: Token expired: current date/time"),
        ("wrong audience", wrong_aud.sign(&w.key), "InvalidIdentityToken: Incorrect token audience"),
        ("wrong subject", wrong_sub.sign(&w.key), "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"),
    ];
    for (i, (what, token, why)) in cases.into_iter().enumerate() {
        let run = w.kcred_get(&token, &[]);
        assert_eq!(run.code, Some(1), "{what}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(
            w.sts
                .errors()
                .get(i)
                .map(String::as_str)
                .map(|e| e.starts_with(why)),
            Some(true),
            "{what}: {:?}",
            w.sts.errors()
        );
        let (code, _) = why.split_once(':').unwrap();
        assert!(
            run.stderr.contains(code),
            "{what}: the plugin's error names {code}:\n{}",
            run.stderr
        );
        assert!(!run.all().contains(&token));
    }
}
