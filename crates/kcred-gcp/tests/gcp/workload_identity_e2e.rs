//! Issue 15, Google Cloud: keyless Artifact Registry pulls on a self-managed cluster, end to
//! end, with a Google STS that really verifies the token.
//!
//! The kubelet's provider entry is the one `kcred wi plan --cloud gcp --gcp-fleet-membership`
//! prints. An openssl signing key; `kcred oidc discovery` documents on an HTTPS static host (test CA);
//! a kube-apiserver-shaped projected token; `kcred get` runs `auth-provider-gcp` in token mode
//! (`--identity-provider`, `--project-id`, annotation `iam.gke.io/enable-wi-image-pull`); the
//! plugin exchanges the token at the STS stub (`kcred_testutil::google_sts_stub`), which looks
//! the provider up by the STS audience, fetches the issuer's discovery document and JWKS, and
//! checks issuer, audience, signature, lifetime and the attribute condition; the federated
//! access token pulls from a real `docker-registry` with skopeo. The same run fails, naming
//! STS's error, for another key, an expired token, a wrong audience and a wrong subject.
//!
//! The provider is addressed the way auth-provider-gcp addresses it today: a fleet identity
//! namespace (`identitynamespace:PROJECT.svc.id.goog:<membership>`), whose provider trusts
//! the cluster's public issuer (a cluster registered with `gcloud container fleet memberships
//! register --enable-workload-identity --public-issuer-url`). A plain workload identity pool
//! provider needs its full resource name as the STS audience, which the plugin cannot send
//! yet (docs/workload-identity.md, GCP).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use kcred_testutil::google_sts_stub::{access_token_for, GoogleStsStub, GoogleWorkloadProvider};
use kcred_testutil::http_stub::StubServer;
use kcred_testutil::kubelet::{only_auth_entry, KcredRun, Node, ProxiedInspect};
use kcred_testutil::oidc_idp::{
    fetched_paths, ProjectedToken, PublishedIssuer, SigningKey, TestCa, ISSUER_DOCUMENTS,
};
use kcred_testutil::registry::{Registry, RegistryTools};

const PROVIDER: &str = "auth-provider-gcp";
const AR_HOST: &str = "europe-west1-docker.pkg.dev";
const PROJECT: &str = "homelab-project";
const MEMBERSHIP: &str =
    "https://gkehub.googleapis.com/projects/homelab-project/locations/global/memberships/homelab";
const AUDIENCE: &str = "homelab-project.svc.id.goog";
const SUBJECT: &str = "system:serviceaccount:team:puller";

struct World {
    _tmp: tempfile::TempDir,
    ca: TestCa,
    key: SigningKey,
    other_key: SigningKey,
    issuer: String,
    issuer_host: StubServer,
    sts: Arc<GoogleStsStub>,
    _sts_server: StubServer,
    node: Node,
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let ca = TestCa::generate(&dir.join("pki"), &[]);
    let PublishedIssuer {
        key,
        other_key,
        url: issuer,
        host: issuer_host,
    } = PublishedIssuer::publish(dir, &ca);
    let sts = Arc::new(GoogleStsStub::new(
        vec![GoogleWorkloadProvider {
            sts_audience: format!("identitynamespace:{PROJECT}.svc.id.goog:{MEMBERSHIP}"),
            issuer: issuer.clone(),
            allowed_audiences: vec![AUDIENCE.to_owned()],
            allowed_subjects: vec![SUBJECT.to_owned()],
        }],
        Some(ca.ca_crt.clone()),
    ));
    let sts_server = {
        let sts = sts.clone();
        ca.start_https(move |r| sts.handle(r))
    };
    // The kubelet's provider entry is the one `kcred wi plan --cloud gcp --gcp-fleet-membership`
    // prints, plus the test knobs pointing the plugin at the stubs.
    let plan = Command::new(kcred_testutil::bin("kcred-cli", "kcred"))
        .args([
            "wi",
            "plan",
            "--cloud",
            "gcp",
            "--issuer",
            &issuer,
            "--namespace",
            "team",
            "--service-account",
            "puller",
            "--kubelet-version",
            "1.34",
            "--gcp-project-id",
            PROJECT,
            "--gcp-project-number",
            "123456789",
            "--gcp-fleet-membership",
            "homelab",
        ])
        .output()
        .unwrap();
    assert!(
        plan.status.success(),
        "kcred wi plan: {}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let plan = String::from_utf8(plan.stdout).unwrap();
    let config = kcred_testutil::oidc_idp::plan_heredoc(&plan, "cat > credential-providers.yaml");
    assert!(
        config.contains(&format!("\"--identity-provider={MEMBERSHIP}\"")),
        "{config}"
    );
    assert!(
        config.contains(&format!("serviceAccountTokenAudience: \"{AUDIENCE}\"")),
        "{config}"
    );
    let plugin = env!("CARGO_BIN_EXE_auth-provider-gcp");
    let node = Node::new(&[], &[(PROVIDER, Path::new(plugin))]);
    node.write(
        "config.yaml",
        &format!(
            "{config}    env:
      - {{name: KCRED_GCP_STS_URL, value: \"https://127.0.0.1:{sts_port}/v1/token\"}}
      - {{name: KCRED_GCP_METADATA_URL, value: \"http://127.0.0.1:9/computeMetadata/v1/\"}}
",
            sts_port = sts_server.port(),
        ),
    );
    World {
        _tmp: tmp,
        ca,
        key,
        other_key,
        issuer,
        issuer_host,
        sts,
        _sts_server: sts_server,
        node,
    }
}

impl World {
    fn token(&self) -> ProjectedToken {
        ProjectedToken::new(&self.issuer, AUDIENCE, "team", "puller")
    }

    fn kcred_get(&self, token: &str, output: &[&str]) -> KcredRun {
        let file = self.node.write("sa-token", token).display().to_string();
        let mut args = vec![
            "--namespace",
            "team",
            "--service-account",
            "puller",
            "--annotation",
            "iam.gke.io/enable-wi-image-pull=true",
            "--service-account-token",
            &file,
        ];
        args.extend_from_slice(output);
        let ca = self.ca.ca_crt.display().to_string();
        self.node.kcred_get(
            &format!("{AR_HOST}/{PROJECT}/images/app:v1"),
            &args,
            &[("SSL_CERT_FILE", &ca)],
        )
    }
}

#[test]
fn a_cluster_token_verified_by_google_sts_pulls_from_artifact_registry() {
    let Some(tools) = RegistryTools::find_or_skip(
        "a_cluster_token_verified_by_google_sts_pulls_from_artifact_registry",
    ) else {
        return;
    };
    let w = world();
    let token = w.token().sign(&w.key);
    let get = w.kcred_get(&token, &["--output", "auth-json"]);
    get.assert_exit(0);
    assert!(w.sts.errors().is_empty(), "{:?}", w.sts.errors());
    assert_eq!(fetched_paths(&w.issuer_host), ISSUER_DOCUMENTS);
    let (key, user, password) = only_auth_entry(&get.stdout);
    assert_eq!(key, AR_HOST);
    assert_eq!(
        (user.as_str(), password),
        ("_token", access_token_for(SUBJECT))
    );
    assert!(!get.all().contains(&token));

    let expected = access_token_for(SUBJECT);
    let registry = Registry::start(&tools, &[("_token", &expected)]).expect("registry");
    let repo = format!("{PROJECT}/images/app:v1");
    registry
        .push_test_image(&repo, "_token", &expected)
        .expect("push");
    let authfile = w.node.write("auth.json", &get.stdout);
    let skopeo = ProxiedInspect::plain_http(
        &tools,
        &w.node,
        AR_HOST,
        &registry,
        format!("{AR_HOST}/{repo}"),
    );
    let inspected = skopeo.assert_pulls(&authfile, &registry);
    assert_eq!(
        inspected["Name"].as_str(),
        Some(format!("{AR_HOST}/{PROJECT}/images/app").as_str())
    );
    skopeo.assert_refused(None, "anonymous inspect must fail");
}

#[test]
fn google_sts_refuses_each_broken_token_and_the_error_says_why() {
    let w = world();
    let good = w.token();
    let mut expired = good.clone();
    expired.issued_at -= 2 * 3600;
    let mut wrong_aud = good.clone();
    wrong_aud.audiences = vec!["sts.amazonaws.com".to_owned()];
    let mut wrong_sub = good.clone();
    wrong_sub.service_account = "builder".to_owned();
    let cases = [
        ("signed by another key", good.sign(&w.other_key), "invalid_grant: Invalid JWT signature."),
        ("expired", expired.sign(&w.key), "invalid_grant: ID Token expired at"),
        ("wrong audience", wrong_aud.sign(&w.key), "invalid_grant: The audience in ID Token [sts.amazonaws.com] does not match the expected audience."),
        ("wrong subject", wrong_sub.sign(&w.key), "unauthorized_client: The given credential is rejected by the attribute condition."),
    ];
    for (i, (what, token, why)) in cases.into_iter().enumerate() {
        let run = w.kcred_get(&token, &[]);
        assert_eq!(run.code, Some(1), "{what}: {}\n{}", run.stdout, run.stderr);
        assert!(
            w.sts.errors().get(i).is_some_and(|e| e.starts_with(why)),
            "{what}: {:?}",
            w.sts.errors()
        );
        let description = why.split_once(": ").unwrap().1;
        assert!(
            run.stderr
                .contains("STS token exchange failed with status 400")
                && run.stderr.contains(description),
            "{what}: the plugin's error quotes STS:\n{}",
            run.stderr
        );
        assert!(!run.all().contains(&token));
    }
}
