//! Doctor's node-audience RBAC check against the kube-apiserver stub of kcred-testutil
//! (TLS, client-certificate and token authentication, real RBAC over YAML manifests): the
//! RBAC doctor prints and deploy/ ships is granted; variations (resourceNames, namespaced
//! RoleBinding, wrong verb, wrong group) are refused or need --service-account; errors are
//! warnings naming the server and status; no token or key is ever printed.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use kcred_node::access_review::{ApiClient, ResourceAttributes};
use kcred_node::doctor::{Check, Status};
use kcred_node::fs::RootFs;
use kcred_node::kubeconfig;
use kcred_node::manifests::{node_audience_rbac, to_yaml};
use kcred_node::profile::Profile;
use kcred_node::rbac_check::{check_rbac, ApiOptions, ServiceAccount};
use kcred_testutil::kube_apiserver_stub::KubeApiserverStub;

const AUD: &str = "sts.amazonaws.com";
const ADMIN_TOKEN: &str = "admin-bearer-token-0123456789";

fn have_openssl() -> bool {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED: `openssl` is not installed (apt-get install openssl)");
        return false;
    }
    true
}

fn printed_rbac() -> String {
    to_yaml(&node_audience_rbac(&[AUD.to_owned()]))
}

/// A kubeadm node root: kubelet.conf pointing at the stub with the node's client
/// certificate (kubeadm's `kubelet-client-current.pem` holds certificate and key).
struct Node {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    stub: KubeApiserverStub,
}

fn kubelet_conf(server: &str, ca_pem: &[u8]) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: {server}\n  name: default-cluster\ncontexts:\n- context:\n    cluster: default-cluster\n    namespace: default\n    user: default-auth\n  name: default-context\ncurrent-context: default-context\npreferences: {{}}\nusers:\n- name: default-auth\n  user:\n    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n",
        base64::engine::general_purpose::STANDARD.encode(ca_pem)
    )
}

fn node(rbac: &str) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let stub = KubeApiserverStub::start(&dir.path().join("pki"), rbac);
    let (crt, key) = stub.client_cert("node-1", "system:node:node-1", &["system:nodes"]);
    let pki = root.join("var/lib/kubelet/pki");
    std::fs::create_dir_all(&pki).unwrap();
    std::fs::create_dir_all(root.join("etc/kubernetes")).unwrap();
    let mut pem = std::fs::read(crt).unwrap();
    pem.extend(std::fs::read(key).unwrap());
    // As kubeadm leaves it: an absolute symlink to the rotated certificate, which doctor
    // must follow inside the node root.
    std::fs::write(pki.join("kubelet-client-2026-01-01-00-00-00.pem"), pem).unwrap();
    std::os::unix::fs::symlink(
        "/var/lib/kubelet/pki/kubelet-client-2026-01-01-00-00-00.pem",
        pki.join("kubelet-client-current.pem"),
    )
    .unwrap();
    std::fs::write(root.join("etc/hostname"), "node-1\n").unwrap();
    let ca = std::fs::read(stub.ca_crt()).unwrap();
    std::fs::write(
        root.join("etc/kubernetes/kubelet.conf"),
        kubelet_conf(&stub.url(), &ca),
    )
    .unwrap();
    Node {
        _dir: dir,
        root,
        stub,
    }
}

fn run(n: &Node, opts: &ApiOptions) -> Vec<Check> {
    let checks = check_rbac(
        &RootFs::new(&n.root),
        Some(Profile::Kubeadm),
        &[],
        opts,
        &[AUD.to_owned()],
    );
    for c in &checks {
        eprintln!(
            "{:?} {} {}: {} / {:?}",
            c.status, c.id, c.subject, c.message, c.fix
        );
    }
    checks
}

fn find<'a>(checks: &'a [Check], id: &str) -> &'a Check {
    checks
        .iter()
        .rev()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no {id} in {checks:#?}"))
}

fn no_secrets(checks: &[Check], secrets: &[&str]) {
    let text = format!("{checks:?}");
    for s in secrets {
        assert!(!text.contains(s), "{s} in {text}");
    }
    assert!(!text.contains("PRIVATE KEY"), "{text}");
}

#[test]
fn printed_and_shipped_rbac_is_granted_to_the_node() {
    if !have_openssl() {
        return;
    }
    let n = node(&printed_rbac());
    let checks = run(&n, &ApiOptions::default());
    assert_eq!(find(&checks, "token.kubeconfig").status, Status::Pass);
    let id = find(&checks, "token.identity");
    assert!(
        id.message
            .contains("system:node:node-1: asking with SelfSubjectAccessReview"),
        "{id:?}"
    );
    let r = find(&checks, "token.rbac");
    assert_eq!(r.status, Status::Pass, "{r:?}");
    assert!(r.message.contains("every service account"), "{r:?}");
    assert!(
        r.message
            .contains("RBAC: allowed by ClusterRoleBinding \"kcred-node-token-audiences\""),
        "{r:?}"
    );
    // The wire: a SelfSubjectReview, then one SelfSubjectAccessReview with exactly the
    // attributes NodeRestriction asks (kubernetes/kubernetes#130485).
    let reqs = n.stub.requests();
    assert_eq!(
        reqs.iter().map(|r| r.path().to_owned()).collect::<Vec<_>>(),
        [
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
        ]
    );
    let body: serde_json::Value = serde_json::from_slice(&reqs[1].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": {"namespace": "", "verb": "request-serviceaccounts-token-audience", "group": "", "resource": AUD, "name": ""}}})
    );
    assert_eq!(reqs[1].header("content-type"), Some("application/json"));
    assert_eq!(
        reqs[1].header("authorization"),
        None,
        "client certificate only"
    );

    // deploy/ecr-token-mode.yaml's RBAC (the whole file: other kinds are ignored).
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/ecr-token-mode.yaml"),
    )
    .unwrap();
    n.stub.set_rbac(&shipped);
    assert_eq!(
        find(&run(&n, &ApiOptions::default()), "token.rbac").status,
        Status::Pass
    );
}

#[test]
fn missing_or_wrong_rbac_fails_with_the_fix() {
    if !have_openssl() {
        return;
    }
    let n = node("");
    let checks = run(&n, &ApiOptions::default());
    let r = find(&checks, "token.rbac");
    assert_eq!(r.status, Status::Fail);
    assert_eq!(
        r.subject,
        format!("request-serviceaccounts-token-audience on {AUD:?}")
    );
    assert!(r.message.contains("system:node:node-1 may not request tokens for audience \"sts.amazonaws.com\" for every service account"), "{r:?}");
    let fix = r.fix.as_deref().unwrap();
    assert!(fix.contains("node-audience RBAC printed below"), "{fix}");
    assert!(fix.contains("--service-account NAMESPACE/NAME"), "{fix}");

    let printed = printed_rbac();
    for (what, yaml) in [
        (
            "wrong verb",
            printed.replace("request-serviceaccounts-token-audience", "create"),
        ),
        (
            "wrong group",
            printed.replace("name: system:nodes", "name: system:bootstrappers"),
        ),
        ("wrong audience", printed.replace(AUD, "sts.example.com")),
        ("wrong apiGroup", printed.replace("- ''", "- apps")),
    ] {
        assert_ne!(yaml, printed, "{what}");
        n.stub.set_rbac(&yaml);
        assert_eq!(
            find(&run(&n, &ApiOptions::default()), "token.rbac").status,
            Status::Fail,
            "{what}"
        );
    }
}

#[test]
fn per_service_account_grants_need_service_account() {
    if !have_openssl() {
        return;
    }
    let restricted =
        printed_rbac().replace("  verbs:\n", "  resourceNames:\n  - puller\n  verbs:\n");
    assert!(restricted.contains("resourceNames"), "{restricted}");
    let n = node(&restricted);
    // Cluster-wide (name ""): a resourceNames rule never matches.
    let r = find(&run(&n, &ApiOptions::default()), "token.rbac").clone();
    assert_eq!(r.status, Status::Fail);
    assert!(r.fix.unwrap().contains("--service-account"));
    let sa = |s: &str| s.parse::<ServiceAccount>().unwrap();
    let opts = ApiOptions {
        service_accounts: vec![sa("team-a/puller"), sa("team-a/other")],
        ..ApiOptions::default()
    };
    let checks = run(&n, &opts);
    let rbac: Vec<&Check> = checks.iter().filter(|c| c.id == "token.rbac").collect();
    assert_eq!(rbac.len(), 2);
    assert_eq!(rbac[0].status, Status::Pass);
    assert!(rbac[0].message.contains("service account team-a/puller"));
    assert_eq!(rbac[1].status, Status::Fail);
    assert!(!rbac[1]
        .fix
        .as_deref()
        .unwrap()
        .contains("only the cluster-wide"));

    // A namespaced RoleBinding to the ClusterRole: only that namespace.
    let rb = printed_rbac().replace(
        "kind: ClusterRoleBinding\nmetadata:\n",
        "kind: RoleBinding\nmetadata:\n  namespace: team-a\n",
    );
    assert!(rb.contains("kind: RoleBinding"), "{rb}");
    n.stub.set_rbac(&rb);
    assert_eq!(
        find(&run(&n, &ApiOptions::default()), "token.rbac").status,
        Status::Fail
    );
    let opts = ApiOptions {
        service_accounts: vec![sa("team-a/any"), sa("team-b/any")],
        ..ApiOptions::default()
    };
    let s: Vec<Status> = run(&n, &opts)
        .into_iter()
        .filter(|c| c.id == "token.rbac")
        .map(|c| c.status)
        .collect();
    assert_eq!(s, [Status::Pass, Status::Fail]);
}

fn admin_kubeconfig(dir: &Path, stub: &KubeApiserverStub, token: &str) -> std::path::PathBuf {
    let p = dir.join("admin.conf");
    std::fs::write(
        &p,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority: pki/ca.crt\ncontexts:\n- name: admin\n  context: {{cluster: c, user: admin}}\ncurrent-context: admin\nusers:\n- name: admin\n  user:\n    token: {token}\n",
            stub.url()
        ),
    )
    .unwrap();
    p
}

#[test]
fn another_identity_asks_with_subject_access_review() {
    if !have_openssl() {
        return;
    }
    let n = node(&printed_rbac());
    let pki = n.stub.ca_crt().parent().unwrap().to_owned();
    let dir = pki.parent().unwrap();
    let kc = admin_kubeconfig(dir, &n.stub, ADMIN_TOKEN);
    // An operator's token, without the right to create subjectaccessreviews: 403, a warning.
    n.stub.add_token(ADMIN_TOKEN, "jane", &["developers"]);
    let opts = ApiOptions {
        kubeconfig: Some(kc.clone()),
        ..ApiOptions::default()
    };
    let checks = run(&n, &opts);
    let id = find(&checks, "token.identity");
    assert!(id.message.contains("\"jane\", not a node: asking with SubjectAccessReview for system:node:node-1 (node name from /etc/hostname)"), "{id:?}");
    let w = find(&checks, "token.api");
    assert_eq!(w.status, Status::Warn);
    assert!(w.message.contains(&format!("POST {}/apis/authorization.k8s.io/v1/subjectaccessreviews: HTTP 403: subjectaccessreviews.authorization.k8s.io is forbidden: User \"jane\"", n.stub.url())), "{w:?}");
    assert!(w
        .fix
        .as_deref()
        .unwrap()
        .contains("may not create subjectaccessreviews"));
    no_secrets(&checks, &[ADMIN_TOKEN]);

    // An admin (system:masters): the question is asked for the node.
    n.stub
        .add_token(ADMIN_TOKEN, "kubernetes-admin", &["system:masters"]);
    let checks = run(&n, &opts);
    assert_eq!(find(&checks, "token.rbac").status, Status::Pass);
    let sar = n.stub.requests().pop().unwrap();
    assert_eq!(
        sar.path(),
        "/apis/authorization.k8s.io/v1/subjectaccessreviews"
    );
    let body: serde_json::Value = serde_json::from_slice(&sar.body).unwrap();
    assert_eq!(body["spec"]["user"], "system:node:node-1");
    assert_eq!(
        body["spec"]["groups"],
        serde_json::json!(["system:nodes", "system:authenticated"])
    );
    assert_eq!(
        sar.header("authorization"),
        Some(format!("Bearer {ADMIN_TOKEN}").as_str())
    );
    n.stub.set_rbac("");
    let checks = run(
        &n,
        &ApiOptions {
            node_name: Some("node-9".into()),
            ..opts.clone()
        },
    );
    let r = find(&checks, "token.rbac");
    assert_eq!(r.status, Status::Fail);
    assert!(r.message.starts_with("system:node:node-9 may not"), "{r:?}");
    no_secrets(&checks, &[ADMIN_TOKEN]);

    // A wrong token: 401, a warning naming the server.
    let bad = admin_kubeconfig(dir, &n.stub, "not-a-valid-token-42");
    let checks = run(
        &n,
        &ApiOptions {
            kubeconfig: Some(bad),
            ..ApiOptions::default()
        },
    );
    let w = find(&checks, "token.api");
    assert_eq!(w.status, Status::Warn);
    assert!(
        w.message.contains("HTTP 401: Unauthorized") && w.message.contains(&n.stub.url()),
        "{w:?}"
    );
    no_secrets(&checks, &["not-a-valid-token-42"]);
}

#[test]
fn without_self_subject_review_the_kubelet_kubeconfig_is_the_node() {
    if !have_openssl() {
        return;
    }
    let n = node(&printed_rbac());
    n.stub.without_self_subject_review();
    let checks = run(&n, &ApiOptions::default());
    assert!(find(&checks, "token.identity")
        .message
        .contains("no SelfSubjectReview API"));
    assert_eq!(find(&checks, "token.rbac").status, Status::Pass);
}

#[test]
fn unreachable_or_untrusted_servers_are_warnings() {
    if !have_openssl() {
        return;
    }
    let n = node(&printed_rbac());
    let conf = n.root.join("etc/kubernetes/kubelet.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &conf,
        text.replace(&n.stub.url(), &format!("https://127.0.0.1:{port}")),
    )
    .unwrap();
    let checks = run(
        &n,
        &ApiOptions {
            timeout: Duration::from_secs(3),
            ..ApiOptions::default()
        },
    );
    let w = find(&checks, "token.api");
    assert_eq!(w.status, Status::Warn);
    assert!(
        w.message.contains(&format!(
            "POST https://127.0.0.1:{port}/apis/authentication.k8s.io/v1/selfsubjectreviews"
        )),
        "{w:?}"
    );
    assert!(w.fix.as_deref().unwrap().contains("did not answer"));
    assert!(checks.iter().all(|c| c.status != Status::Fail));

    // The kubeconfig trusts another CA: the TLS handshake fails, a warning.
    let other = tempfile::tempdir().unwrap();
    let other_stub = KubeApiserverStub::start(other.path(), "");
    let other_ca = std::fs::read(other_stub.ca_crt()).unwrap();
    std::fs::write(&conf, kubelet_conf(&n.stub.url(), &other_ca)).unwrap();
    let checks = run(&n, &ApiOptions::default());
    assert_eq!(find(&checks, "token.api").status, Status::Warn);
    assert!(
        n.stub.requests().is_empty(),
        "nothing sent to an unverified server"
    );
}

#[test]
fn bad_kubeconfigs_are_named() {
    if !have_openssl() {
        return;
    }
    let n = node(&printed_rbac());
    let conf = n.root.join("etc/kubernetes/kubelet.conf");
    let good = std::fs::read_to_string(&conf).unwrap();
    // The kubelet's own, broken: a warning naming file and field.
    std::fs::write(
        &conf,
        good.replace("current-context: default-context", "current-context: nope"),
    )
    .unwrap();
    let c = find(&run(&n, &ApiOptions::default()), "token.kubeconfig").clone();
    assert_eq!(c.status, Status::Warn);
    assert_eq!(c.subject, "/etc/kubernetes/kubelet.conf");
    assert!(
        c.message.contains(
            "/etc/kubernetes/kubelet.conf: current-context: names a contexts entry that does not exist"
        ),
        "{c:?}"
    );
    // Missing: a warning saying how to give one.
    std::fs::remove_file(&conf).unwrap();
    let c = find(&run(&n, &ApiOptions::default()), "token.kubeconfig").clone();
    assert_eq!(c.status, Status::Warn);
    assert!(c.fix.unwrap().contains("--kubeconfig FILE"));
    // Given explicitly and broken: a failure. exec users: a warning.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let explicit_kubeconfig_check = |kc: &std::path::PathBuf| {
        let opts = ApiOptions {
            kubeconfig: Some(kc.clone()),
            ..ApiOptions::default()
        };
        find(&run(&n, &opts), "token.kubeconfig").clone()
    };
    // An explicit kubeconfig's files are this machine's, not the node's.
    let good = good
        .replace(
            "/var/lib/kubelet/",
            &format!("{}/var/lib/kubelet/", n.root.display()),
        )
        .replace(
            "kubelet-client-current.pem",
            "kubelet-client-2026-01-01-00-00-00.pem",
        );
    std::fs::write(
        &kc,
        good.replace(
            &format!(
                "    client-key: {}/var/lib/kubelet/pki/kubelet-client-2026-01-01-00-00-00.pem\n",
                n.root.display()
            ),
            "",
        ),
    )
    .unwrap();
    let c = explicit_kubeconfig_check(&kc);
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.message
            .contains("users[0].user.client-certificate: set without client-key"),
        "{c:?}"
    );
    std::fs::write(&kc, good.replace(&format!("    client-certificate: {0}/var/lib/kubelet/pki/kubelet-client-2026-01-01-00-00-00.pem\n    client-key: {0}/var/lib/kubelet/pki/kubelet-client-2026-01-01-00-00-00.pem\n", n.root.display()), "    exec:\n      command: aws\n      args: [eks, get-token]\n      apiVersion: client.authentication.k8s.io/v1beta1\n")).unwrap();
    let c = explicit_kubeconfig_check(&kc);
    assert_eq!(c.status, Status::Warn);
    assert!(
        c.message
            .contains("users[0].user.exec: an exec credential plugin (aws)"),
        "{c:?}"
    );
    // The same kubeconfig with its files: it works, and it is the node's identity.
    std::fs::write(&kc, &good).unwrap();
    let checks = run(
        &n,
        &ApiOptions {
            kubeconfig: Some(kc),
            ..ApiOptions::default()
        },
    );
    assert_eq!(find(&checks, "token.rbac").status, Status::Pass);
}

#[test]
fn the_stub_validates_like_the_api_server() {
    if !have_openssl() {
        return;
    }
    let n = node(&printed_rbac());
    let creds =
        kubeconfig::load(&RootFs::new(&n.root), "/etc/kubernetes/kubelet.conf", None).unwrap();
    assert!(!format!("{creds:?}").contains("PRIVATE KEY"));
    let client = ApiClient::new(&creds, Duration::from_secs(10)).unwrap();
    let who = client.self_subject_review().unwrap();
    assert_eq!(who.username, "system:node:node-1");
    assert_eq!(who.groups, ["system:nodes", "system:authenticated"]);
    let d = client
        .self_subject_access_review(&ResourceAttributes::token_audience(AUD, "x", "y"))
        .unwrap();
    assert!(d.allowed);
    // A node may not create SubjectAccessReviews.
    let e = client
        .subject_access_review(
            "system:node:node-1",
            &[],
            &ResourceAttributes::token_audience(AUD, "", ""),
        )
        .unwrap_err();
    assert_eq!(e.status(), Some(403), "{e}");

    // Raw requests: wrong content type, wrong kind, bad spec.
    let agent = {
        let ca: Vec<_> = ureq::tls::parse_pem(&std::fs::read(n.stub.ca_crt()).unwrap())
            .filter_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        n.stub
            .add_token("raw-token", "kubernetes-admin", &["system:masters"]);
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::new_with_certs(&ca))
            .build();
        let a: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .build()
            .into();
        a
    };
    let post = |path: &str, ct: &str, body: &str| {
        let mut r = agent
            .post(&format!("{}{path}", n.stub.url()))
            .header("Authorization", "Bearer raw-token")
            .header("Content-Type", ct)
            .send(body)
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        (r.status().as_u16(), v)
    };
    let ssar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let (s, v) = post(ssar, "text/plain", "{}");
    assert_eq!(
        (s, v["reason"].as_str()),
        (415, Some("UnsupportedMediaType"))
    );
    let (s, v) = post(
        ssar,
        "application/json",
        r#"{"apiVersion":"authorization.k8s.io/v1beta1","kind":"SelfSubjectAccessReview","spec":{}}"#,
    );
    assert_eq!(
        (s, v["kind"].as_str(), v["code"].as_u64()),
        (400, Some("Status"), Some(400))
    );
    let (s, v) = post(
        ssar,
        "application/json",
        r#"{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{}}"#,
    );
    assert_eq!((s, v["reason"].as_str()), (422, Some("Invalid")));
    let (s, v) = post(
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        "application/json",
        r#"{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}"#,
    );
    assert_eq!(
        (
            s,
            v["message"]
                .as_str()
                .unwrap()
                .contains("at least one of user or group")
        ),
        (422, true)
    );
    let (s, v) = post(
        ssar,
        "application/json",
        r#"{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}"#,
    );
    assert_eq!(
        (
            s,
            v["status"]["allowed"].as_bool(),
            v["metadata"]["creationTimestamp"].is_null()
        ),
        (201, Some(true), true)
    );
    let (s, _) = post("/api/v1/nodes", "application/json", "{}");
    assert_eq!(s, 404);
}
