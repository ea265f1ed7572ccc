//! `kcred wi plan`: every document it prints parses (JSON, YAML) and has the shape the
//! consumer expects; `kcred validate` accepts its CredentialProviderConfig for the kubelet
//! version asked; bad input prints nothing and exits 2.

use std::process::{Command, Output};

use serde_json::Value;

const ISSUER: &str = "https://oidc.example.net/homelab";

fn kcred(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kcred"))
        .args(args)
        .env_remove("KCRED_KUBELET_VERSION")
        .output()
        .expect("kcred runs")
}

fn plan(cloud: &str, kubelet: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "wi",
        "plan",
        "--cloud",
        cloud,
        "--issuer",
        ISSUER,
        "--namespace",
        "team",
        "--service-account",
        "puller",
        "--kubelet-version",
        kubelet,
    ];
    args.extend(extra);
    let o = kcred(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `(opening line, body)` of every quoted here-document.
fn heredocs(plan: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = plan.lines();
    while let Some(l) = lines.next() {
        if l.ends_with("<<'KCRED_EOF'") {
            let mut body = String::new();
            for b in lines.by_ref() {
                if b == "KCRED_EOF" {
                    break;
                }
                body.push_str(b);
                body.push('\n');
            }
            out.push((l.to_owned(), body));
        }
    }
    out
}

fn doc<'a>(docs: &'a [(String, String)], opening: &str) -> &'a str {
    &docs
        .iter()
        .find(|(l, _)| l.starts_with(opening))
        .unwrap_or_else(|| panic!("no here-document {opening:?}"))
        .1
}

fn yaml_docs(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .map(|d| serde_yaml_ng::from_str::<Value>(d).expect("YAML"))
        .collect()
}

fn azure_args() -> Vec<&'static str> {
    vec![
        "--azure-tenant-id",
        "72f988bf-0000-4000-8000-000000000001",
        "--azure-client-id",
        "3f1c9a57-0000-4000-8000-0000000000c1",
        "--azure-identity-name",
        "acr-puller",
        "--azure-resource-group",
        "homelab",
        "--acr-name",
        "myacr",
    ]
}
fn aws_args() -> Vec<&'static str> {
    vec!["--aws-account-id", "123456789012"]
}
fn gcp_args() -> Vec<&'static str> {
    vec![
        "--gcp-project-id",
        "homelab-project",
        "--gcp-project-number",
        "123456789",
        "--gcp-repository",
        "europe-west1/images",
    ]
}

fn common_checks(
    p: &str,
    docs: &[(String, String)],
    plugin: &str,
    audience: &str,
    kubelet: &str,
) -> Value {
    // kube-apiserver flags, both spellings.
    let kubeadm = &yaml_docs(doc(docs, "cat > kubeadm-apiserver-issuer.yaml"))[0];
    assert_eq!(kubeadm["kind"], "ClusterConfiguration");
    assert_eq!(
        kubeadm["apiServer"]["extraArgs"][0],
        serde_json::json!({"name": "service-account-issuer", "value": ISSUER})
    );
    assert_eq!(
        kubeadm["apiServer"]["extraArgs"][1]["value"],
        format!("{ISSUER}/openid/v1/jwks")
    );
    let k3s = &yaml_docs(doc(docs, "cat > k3s-apiserver-issuer.yaml"))[0];
    assert_eq!(
        k3s["kube-apiserver-arg"][0],
        format!("service-account-issuer={ISSUER}")
    );
    let k3s_kubelet = &yaml_docs(doc(docs, "cat > k3s-kubelet-credential-providers.yaml"))[0];
    let kubelet_args: Vec<&str> = k3s_kubelet["kubelet-arg"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(kubelet_args
        .contains(&"image-credential-provider-config=/etc/kubernetes/credential-providers.yaml"));
    let gate = "feature-gates=KubeletServiceAccountTokenForCredentialProviders=true";
    // 1.33: alpha, off by default: the plan turns it on; 1.34+: beta, on.
    assert_eq!(
        kubelet_args.contains(&gate),
        kubelet == "1.33",
        "{kubelet}: {kubelet_args:?}"
    );
    assert_eq!(
        doc(docs, "cat > kubelet-extra-args").contains(&format!("--{}", gate)),
        kubelet == "1.33"
    );

    // The CredentialProviderConfig: kubelet-valid for that version.
    let cfg_text = doc(docs, "cat > credential-providers.yaml");
    let cfg = &yaml_docs(cfg_text)[0];
    let prov = &cfg["providers"][0];
    assert_eq!(prov["name"], plugin);
    assert_eq!(
        prov["tokenAttributes"]["serviceAccountTokenAudience"],
        audience
    );
    assert_eq!(
        prov["tokenAttributes"].get("cacheType").is_some(),
        kubelet != "1.33",
        "cacheType exists from 1.34"
    );
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("cfg.yaml");
    std::fs::write(&f, cfg_text).unwrap();
    let v = kcred(&[
        "validate",
        f.to_str().unwrap(),
        "--kubelet-version",
        kubelet,
        // The gate the plan tells the operator to set (default-on from 1.34, harmless there).
        "--feature-gates",
        "KubeletServiceAccountTokenForCredentialProviders=true",
    ]);
    let stderr = String::from_utf8_lossy(&v.stderr);
    assert_eq!(
        v.status.code(),
        Some(0),
        "kcred validate: {}{stderr}",
        String::from_utf8_lossy(&v.stdout)
    );

    // RBAC: a ClusterRole for the audience bound to system:nodes.
    let rbac = yaml_docs(
        docs.iter()
            .find(|(l, b)| l.starts_with("kubectl apply") && b.contains("ClusterRole"))
            .unwrap()
            .1
            .as_str(),
    );
    assert_eq!(rbac.len(), 2);
    assert_eq!(rbac[0]["kind"], "ClusterRole");
    assert_eq!(
        rbac[0]["rules"][0],
        serde_json::json!({"apiGroups": [""], "resources": [audience], "resourceNames": ["puller"], "verbs": ["request-serviceaccounts-token-audience"]})
    );
    assert_eq!(rbac[1]["kind"], "ClusterRoleBinding");
    assert_eq!(rbac[1]["roleRef"]["name"], rbac[0]["metadata"]["name"]);
    assert_eq!(
        rbac[1]["subjects"][0],
        serde_json::json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"})
    );

    // The service account; every annotation it carries is one the config lets through.
    let sa = yaml_docs(
        docs.iter()
            .find(|(l, b)| l.starts_with("kubectl apply") && b.contains("kind: ServiceAccount"))
            .unwrap()
            .1
            .as_str(),
    )
    .remove(0);
    assert_eq!(sa["metadata"]["name"], "puller");
    assert_eq!(sa["metadata"]["namespace"], "team");
    let allowed: Vec<&str> = prov["tokenAttributes"]["optionalServiceAccountAnnotationKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for k in sa["metadata"]["annotations"].as_object().unwrap().keys() {
        assert!(allowed.contains(&k.as_str()), "{k} reaches the plugin");
    }
    assert!(p.starts_with("#!/bin/sh\n"));
    assert!(p.contains(&format!("kcred oidc discovery --issuer '{ISSUER}'")));
    sa
}

#[test]
fn azure_plan() {
    for kubelet in ["1.33", "1.34", "1.37"] {
        let p = plan("azure", kubelet, &azure_args());
        let docs = heredocs(&p);
        let sa = common_checks(
            &p,
            &docs,
            "acr-credential-provider",
            "api://AzureADTokenExchange",
            kubelet,
        );
        assert_eq!(
            sa["metadata"]["annotations"]["kubernetes.azure.com/acr-client-id"],
            "3f1c9a57-0000-4000-8000-0000000000c1"
        );
        assert_eq!(
            sa["metadata"]["annotations"]["kubernetes.azure.com/acr-tenant-id"],
            "72f988bf-0000-4000-8000-000000000001"
        );
        let azure_json: Value = serde_json::from_str(doc(&docs, "cat > azure.json")).unwrap();
        assert_eq!(
            azure_json,
            serde_json::json!({"cloud": "AzurePublicCloud", "tenantId": "72f988bf-0000-4000-8000-000000000001"})
        );
        assert!(p.contains(&format!("az identity federated-credential create --name 'kcred-team-puller' --identity-name 'acr-puller' --resource-group 'homelab' \\\n  --issuer '{ISSUER}' --subject 'system:serviceaccount:team:puller' --audiences 'api://AzureADTokenExchange'")), "{p}");
        assert!(p.contains("az role assignment create --assignee '3f1c9a57-0000-4000-8000-0000000000c1' --role AcrPull"));
    }
}

#[test]
fn aws_plan() {
    let p = plan("aws", "1.34", &aws_args());
    let docs = heredocs(&p);
    let sa = common_checks(
        &p,
        &docs,
        "ecr-credential-provider",
        "sts.amazonaws.com",
        "1.34",
    );
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/ecr-role-arn"],
        "arn:aws:iam::123456789012:role/kcred-ecr-pull-team-puller"
    );
    let policy: Value = serde_json::from_str(doc(&docs, "cat > trust-policy.json")).unwrap();
    let st = &policy["Statement"][0];
    assert_eq!(policy["Version"], "2012-10-17");
    assert_eq!(st["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(
        st["Principal"]["Federated"],
        "arn:aws:iam::123456789012:oidc-provider/oidc.example.net/homelab"
    );
    assert_eq!(
        st["Condition"]["StringEquals"],
        serde_json::json!({"oidc.example.net/homelab:aud": "sts.amazonaws.com", "oidc.example.net/homelab:sub": "system:serviceaccount:team:puller"})
    );
    assert!(p.contains(&format!("aws iam create-open-id-connect-provider --url '{ISSUER}' --client-id-list 'sts.amazonaws.com'")));
    assert!(p.contains("aws iam create-role --role-name 'kcred-ecr-pull-team-puller' --assume-role-policy-document file://trust-policy.json"));
}

#[test]
fn gcp_plan() {
    let p = plan("gcp", "1.37", &gcp_args());
    let docs = heredocs(&p);
    let aud = "https://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/kcred-homelab/providers/cluster-issuer";
    let sa = common_checks(&p, &docs, "auth-provider-gcp", aud, "1.37");
    assert_eq!(
        sa["metadata"]["annotations"]["iam.gke.io/enable-wi-image-pull"],
        "true"
    );
    assert!(p.contains("gcloud iam workload-identity-pools providers create-oidc 'cluster-issuer' --project 'homelab-project' --location global"));
    assert!(p.contains(&format!(
        "--issuer-uri '{ISSUER}' --allowed-audiences '{aud}'"
    )));
    assert!(p.contains("--member 'principal://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/kcred-homelab/subject/system:serviceaccount:team:puller'"));
    let cfg = &yaml_docs(doc(&docs, "cat > credential-providers.yaml"))[0];
    assert_eq!(
        cfg["providers"][0]["args"][3],
        "--project-id=homelab-project"
    );
}

#[test]
fn bad_input_prints_nothing() {
    let base = |cloud: &'static str, issuer: &'static str, kubelet: &'static str| {
        vec![
            "wi",
            "plan",
            "--cloud",
            cloud,
            "--issuer",
            issuer,
            "--namespace",
            "team",
            "--service-account",
            "puller",
            "--kubelet-version",
            kubelet,
        ]
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            [base("azure", ISSUER, "1.32"), azure_args()].concat(),
            "--kubelet-version 1.32: this kubelet has no service-account token mode",
        ),
        (
            [
                base("azure", "http://oidc.example.net", "1.34"),
                azure_args(),
            ]
            .concat(),
            "must use the https scheme",
        ),
        (
            base("azure", ISSUER, "1.34"),
            "--cloud azure needs --azure-tenant-id",
        ),
        (
            [
                base("aws", ISSUER, "1.34"),
                vec!["--aws-account-id", "1234"],
            ]
            .concat(),
            "--aws-account-id \"1234\": must be 12 digits",
        ),
        (
            [
                base("gcp", ISSUER, "1.34"),
                gcp_args(),
                vec!["--gcp-pool", "Bad_Pool"],
            ]
            .concat(),
            "--gcp-pool \"Bad_Pool\"",
        ),
        (
            [
                vec![
                    "wi",
                    "plan",
                    "--cloud",
                    "aws",
                    "--issuer",
                    ISSUER,
                    "--namespace",
                    "Team",
                    "--service-account",
                    "puller",
                ],
                aws_args(),
            ]
            .concat(),
            "not a Kubernetes namespace",
        ),
    ];
    for (args, want) in cases {
        let o = kcred(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{want:?} in {err}");
    }
}

/// The fleet route: the provider entry is the one `crates/kcred-gcp/tests/workload_identity_e2e.rs`
/// runs against the verifying Google STS stub (same args and audience).
#[test]
fn gcp_fleet_plan() {
    let mut args = gcp_args();
    args.extend(["--gcp-fleet-membership", "homelab"]);
    let p = plan("gcp", "1.34", &args);
    let docs = heredocs(&p);
    common_checks(
        &p,
        &docs,
        "auth-provider-gcp",
        "homelab-project.svc.id.goog",
        "1.34",
    );
    let cfg = &yaml_docs(doc(&docs, "cat > credential-providers.yaml"))[0];
    assert_eq!(
        cfg["providers"][0]["args"],
        serde_json::json!(["get-credentials", "--v=3", "--identity-provider=https://gkehub.googleapis.com/projects/homelab-project/locations/global/memberships/homelab", "--project-id=homelab-project"])
    );
    assert!(p.contains(
        "gcloud container fleet memberships register 'homelab' --project 'homelab-project'"
    ));
    assert!(p.contains(
        "--enable-workload-identity --public-issuer-url 'https://oidc.example.net/homelab'"
    ));
    assert!(
        !p.contains("NOTE: auth-provider-gcp"),
        "the fleet route works with the plugin today"
    );
    assert!(
        p.contains("workloadIdentityPools/homelab-project.svc.id.goog/subject/ns/team/sa/puller")
    );
}
