//! `kcred doctor` end to end with token mode on a fake kubeadm node whose kubelet.conf points
//! at kcred-testutil's kube-apiserver stub: the node-audience RBAC is checked with the
//! kubelet's own client certificate (SelfSubjectAccessReview) or an explicit --kubeconfig
//! (SubjectAccessReview); granted passes, missing fails with the fix and exit 1, API
//! problems warn; --no-api skips; tokens and keys never appear in the output.
#![allow(clippy::disallowed_macros)] // test output; the CLI itself prints through src/output.rs

use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine;
use kcred_node::manifests::{node_audience_rbac, to_yaml};
use kcred_testutil::kube_apiserver_stub::KubeApiserverStub;

use crate::common::{kcred_on_node as kcred, write_node_file as write};

const AUD: &str = "acme.example.com";
const TOKEN: &str = "operator-token-SHOULD-NOT-LEAK-31337";

struct Node {
    dir: tempfile::TempDir,
    root: PathBuf,
    stub: KubeApiserverStub,
}

impl Node {
    fn root(&self) -> &str {
        self.root.to_str().unwrap()
    }

    fn doctor(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "doctor",
            "--root",
            self.root(),
            "--profile",
            "kubeadm",
            "--kubelet-version",
            "1.34",
        ];
        args.extend_from_slice(extra);
        kcred(&args)
    }
}

/// A kubeadm node in token mode: flags in kubeadm-flags.env and /etc/default/kubelet, a
/// provider with tokenAttributes (a script plugin), kubelet.conf with the node's client
/// certificate.
fn node(rbac: &str) -> Option<Node> {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED: `openssl` is not installed (apt-get install openssl)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let stub = KubeApiserverStub::start(&dir.path().join("pki"), rbac);
    let (crt, key) = stub.client_cert("kubelet", "system:node:worker-1", &["system:nodes"]);
    let mut pem = std::fs::read(crt).unwrap();
    pem.extend(std::fs::read(key).unwrap());
    write(
        &root,
        "/var/lib/kubelet/pki/kubelet-client-current.pem",
        pem,
    );
    write(&root, "/etc/hostname", "worker-1\n");
    write(&root, "/var/lib/kubelet/kubeadm-flags.env", "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n");
    write(&root, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=\"--kubeconfig=/etc/kubernetes/kubelet.conf --image-credential-provider-config=/etc/kubernetes/credential-providers/config.yaml --image-credential-provider-bin-dir=/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec\"\n");
    write(&root, "/etc/kubernetes/credential-providers/config.yaml", format!("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: acme-provider\n  matchImages: [\"registry.acme.example.com\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  tokenAttributes:\n    serviceAccountTokenAudience: {AUD}\n    cacheType: ServiceAccount\n    requireServiceAccount: true\n"));
    let plugin = "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/acme-provider";
    write(&root, plugin, "#!/bin/sh\nexit 1\n");
    write(&root, "/bin/sh", "");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        root.join(plugin.trim_start_matches('/')),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let ca = std::fs::read(stub.ca_crt()).unwrap();
    write(&root, "/etc/kubernetes/kubelet.conf", format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: {}\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: system:node:worker-1\n  name: system:node:worker-1@kubernetes\ncurrent-context: system:node:worker-1@kubernetes\nusers:\n- name: system:node:worker-1\n  user:\n    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n",
        base64::engine::general_purpose::STANDARD.encode(ca),
        stub.url()
    ));
    Some(Node { dir, root, stub })
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn doctor_checks_node_audience_rbac_with_the_kubelets_identity() {
    let Some(n) = node("") else { return };
    // Nothing granted: fail, exit 1, the fix and the RBAC to apply.
    let out = n.doctor(&[]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(t.contains("PASS  token.kubeconfig /etc/kubernetes/kubelet.conf: /etc/kubernetes/kubelet.conf (the kubelet's --kubeconfig): server https://127.0.0.1:"), "{t}");
    assert!(t.contains("PASS  token.identity"), "{t}");
    assert!(
        t.contains("system:node:worker-1: asking with SelfSubjectAccessReview"),
        "{t}"
    );
    assert!(t.contains("FAIL  token.rbac       request-serviceaccounts-token-audience on \"acme.example.com\": system:node:worker-1 may not request tokens for audience \"acme.example.com\" for every service account"), "{t}");
    assert!(
        t.contains("fix: kubectl apply -f - with the node-audience RBAC printed below"),
        "{t}"
    );
    assert!(t.contains("--service-account NAMESPACE/NAME"), "{t}");
    assert!(t.contains("node-audience RBAC for token mode:"), "{t}");
    assert!(!t.contains("PRIVATE KEY"), "{t}");

    // Exactly the YAML doctor printed, applied: pass, exit 0.
    let yaml = t[t.find("node-audience RBAC for token mode:\n---\n").unwrap() + 39..]
        .split("\n\n")
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        yaml.trim_end(),
        to_yaml(&node_audience_rbac(&[AUD.to_owned()])).trim_end()
    );
    n.stub.set_rbac(&yaml);
    let out = n.doctor(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("PASS  token.rbac"));

    // JSON carries the new checks.
    let out = n.doctor(&["-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for id in ["token.kubeconfig", "token.identity", "token.rbac"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let rbac = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "token.rbac")
        .unwrap();
    assert_eq!(rbac["status"], "pass");

    // --no-api: not asked, a warning, exit 0; nothing sent.
    let before = n.stub.requests().len();
    let out = n.doctor(&["--no-api"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("WARN  token.rbac") && text(&out).contains("(--no-api)"));
    assert_eq!(n.stub.requests().len(), before);

    // Per-service-account grants.
    n.stub
        .set_rbac(&yaml.replace("  verbs:\n", "  resourceNames:\n  - puller\n  verbs:\n"));
    let out = n.doctor(&["--service-account", "team-a/puller"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("for service account team-a/puller"));
    let out = n.doctor(&[
        "--service-account",
        "team-a/other",
        "--service-account",
        "team-a/puller",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = n.doctor(&["--service-account", "no-slash"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("want NAMESPACE/NAME"), "{}", text(&out));
}

#[test]
fn doctor_with_an_operator_kubeconfig_and_broken_ones() {
    let Some(n) = node(&to_yaml(&node_audience_rbac(&[AUD.to_owned()]))) else {
        return;
    };
    let kc = n.dir.path().join("operator.conf");
    let conf = |token: &str, server: &str| {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    certificate-authority: pki/ca.crt\ncontexts:\n- name: o\n  context: {{cluster: c, user: o}}\ncurrent-context: o\nusers:\n- name: o\n  user:\n    token: {token}\n"
        )
    };
    std::fs::write(&kc, conf(TOKEN, &n.stub.url())).unwrap();
    let kc_s = kc.to_str().unwrap();
    // An operator who may create subjectaccessreviews.
    n.stub.add_token(TOKEN, "ops", &["ops"]);
    n.stub.set_rbac(&format!(
        "{}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: sar}}\nrules:\n- {{apiGroups: [authorization.k8s.io], resources: [subjectaccessreviews], verbs: [create]}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: sar}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: sar}}\nsubjects: [{{kind: User, name: ops, apiGroup: rbac.authorization.k8s.io}}]\n",
        to_yaml(&node_audience_rbac(&[AUD.to_owned()]))
    ));
    let out = n.doctor(&["--kubeconfig", kc_s]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("\"ops\", not a node: asking with SubjectAccessReview for system:node:worker-1 (node name from /etc/hostname)"), "{t}");
    let out = n.doctor(&["--kubeconfig", kc_s, "--node-name", "worker-2"]);
    assert!(
        text(&out).contains("PASS  token.rbac")
            && text(&out).contains("system:node:worker-2 may request")
    );
    assert!(!text(&out).contains(TOKEN));

    // Without the right: a warning naming the server and status; exit 0.
    n.stub
        .set_rbac(&to_yaml(&node_audience_rbac(&[AUD.to_owned()])));
    let out = n.doctor(&["--kubeconfig", kc_s]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains(&format!("WARN  token.api        {}: RBAC not checked: SubjectAccessReview: POST {}/apis/authorization.k8s.io/v1/subjectaccessreviews: HTTP 403", n.stub.url(), n.stub.url())), "{t}");
    assert!(!t.contains(TOKEN), "{t}");

    // Unreachable: a warning, exit 0.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(&kc, conf(TOKEN, &format!("https://127.0.0.1:{port}"))).unwrap();
    let out = n.doctor(&["--kubeconfig", kc_s]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains(&format!(
            "WARN  token.api        https://127.0.0.1:{port}: RBAC not checked"
        )),
        "{t}"
    );

    // Broken: a failure naming file and field, never the token.
    std::fs::write(
        &kc,
        conf(TOKEN, &n.stub.url()).replace("    token:", "    tokenFile: missing.tok\n    tokn:"),
    )
    .unwrap();
    let out = n.doctor(&["--kubeconfig", kc_s]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains(&format!("FAIL  token.kubeconfig {kc_s}: RBAC not checked: {kc_s}: users[0].user.tokenFile: cannot read")), "{t}");
    assert!(!t.contains(TOKEN), "{t}");
    std::fs::write(
        &kc,
        conf(TOKEN, &n.stub.url()).replace("current-context: o", "current-context: ["),
    )
    .unwrap();
    let out = n.doctor(&["--kubeconfig", kc_s, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("not valid YAML at line") && !t.contains(TOKEN),
        "{t}"
    );
    let out = n.doctor(&["--kubeconfig", kc_s, "--no-api"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--kubeconfig and --no-api conflict"
    );
}
