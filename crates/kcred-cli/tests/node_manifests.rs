//! The DaemonSet installer manifests (`kcred install --print-manifests`, `deploy/`):
//! validated offline against the Kubernetes OpenAPI schemas with PyPI's
//! `kubernetes-validate --strict` (installed by scripts/test-all.sh into target/test-venv),
//! and `deploy/` must be exactly what the renderer prints.
#![allow(clippy::disallowed_macros)] // test output; the CLI itself prints through src/output.rs

use std::path::PathBuf;
use std::process::Command;

fn kcred() -> PathBuf {
    kcred_testutil::bin("kcred-cli", "kcred")
}

/// `kubernetes-validate`: `$KCRED_KUBERNETES_VALIDATE`, the test venv, or `PATH`.
/// Missing: the test fails under `CI`, else it is skipped with a loud message.
fn kubernetes_validate() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KCRED_KUBERNETES_VALIDATE") {
        return Some(PathBuf::from(p));
    }
    let venv = kcred_testutil::workspace_root().join("target/test-venv/bin/kubernetes-validate");
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    if let Some(p) = std::env::split_paths(&path)
        .map(|d| d.join("kubernetes-validate"))
        .find(|p| p.is_file())
    {
        return Some(p);
    }
    let msg = "kubernetes-validate not found (run scripts/test-all.sh, which installs it into target/test-venv, or set KCRED_KUBERNETES_VALIDATE)";
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!! SKIPPING schema validation: {msg} !!!!!\n");
    None
}

fn render(args: &[&str]) -> String {
    let out = Command::new(kcred())
        .args(["install", "--print-manifests"])
        .args(args)
        .current_dir(kcred_testutil::workspace_root())
        .env_remove("KCRED_KUBELET_VERSION")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The files of deploy/ and the flags that render each.
const DEPLOY: &[(&str, &[&str])] = &[
    ("deploy/ecr.yaml", &["--enable", "ecr"]),
    ("deploy/acr.yaml", &["--enable", "acr"]),
    ("deploy/gcp.yaml", &["--enable", "gcp"]),
    (
        "deploy/ecr-token-mode.yaml",
        &[
            "--provider-config",
            "examples/node/ecr-token-mode.yaml",
            "--replace",
            "ecr-credential-provider",
        ],
    ),
];

#[test]
fn deploy_files_are_what_the_renderer_prints() {
    for (file, args) in DEPLOY {
        let want = render(args);
        let have = std::fs::read_to_string(kcred_testutil::workspace_root().join(file)).unwrap();
        assert_eq!(
            have,
            want,
            "{file} is stale: regenerate it with `kcred install --print-manifests {}`",
            args.join(" ")
        );
    }
}

fn docs(yaml: &str) -> Vec<serde_json::Value> {
    yaml.split("\n---\n")
        .map(|d| serde_yaml_ng::from_str::<serde_json::Value>(d).unwrap())
        .collect()
}

#[test]
fn daemonset_shape() {
    for profile in [
        "auto", "kubeadm", "k3s", "rke2", "eks", "aks", "microk8s", "kind", "generic",
    ] {
        let yaml = render(&[
            "--profile",
            profile,
            "--enable",
            "gcp",
            "--image",
            "registry.example.com/kcred-installer:test",
        ]);
        let all = docs(&yaml);
        let ds = all.iter().find(|d| d["kind"] == "DaemonSet").unwrap();
        assert_eq!(
            ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"],
            1
        );
        let pod = &ds["spec"]["template"]["spec"];
        assert_eq!(pod["hostPID"], true);
        assert_eq!(pod["volumes"][0]["hostPath"]["path"], "/");
        let init = &pod["initContainers"][0];
        assert_eq!(init["image"], "registry.example.com/kcred-installer:test");
        assert_eq!(init["securityContext"]["privileged"], true);
        assert_eq!(init["volumeMounts"][0]["mountPath"], "/host");
        let cmd: Vec<&str> = init["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            &cmd[..5],
            &[
                "kcred",
                "install",
                "--root=/host",
                "--restart-kubelet",
                "--annotate-node=$(NODE_NAME)"
            ]
        );
        assert_eq!(
            init["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
            "spec.nodeName"
        );
        assert!(cmd.contains(&"--enable=gcp"));
        assert_eq!(
            cmd.contains(&format!("--profile={profile}").as_str()),
            profile != "auto"
        );
        assert_eq!(
            ds["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"],
            env!("CARGO_PKG_VERSION")
        );
        let roles: Vec<&str> = all
            .iter()
            .filter(|d| d["kind"] == "ClusterRole")
            .map(|d| d["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            roles,
            ["kcred-installer"],
            "no token mode, no node-audience RBAC"
        );
    }
    let yaml = render(&["--provider-config", "examples/node/ecr-token-mode.yaml"]);
    let all = docs(&yaml);
    let role = all
        .iter()
        .find(|d| {
            d["kind"] == "ClusterRole" && d["metadata"]["name"] == "kcred-node-token-audiences"
        })
        .unwrap();
    assert_eq!(
        role["rules"][0]["verbs"][0],
        "request-serviceaccounts-token-audience"
    );
    assert_eq!(role["rules"][0]["resources"][0], "sts.amazonaws.com");
    let binding = all
        .iter()
        .find(|d| {
            d["kind"] == "ClusterRoleBinding"
                && d["metadata"]["name"] == "kcred-node-token-audiences"
        })
        .unwrap();
    assert_eq!(binding["subjects"][0]["name"], "system:nodes");
}

#[test]
fn an_invalid_fragment_renders_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(&f, "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: x\n  matchImages: [\"a.example.com\"]\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n").unwrap();
    let out = Command::new(kcred())
        .args([
            "install",
            "--print-manifests",
            "--provider-config",
            f.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("defaultCacheDuration"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_rendered_manifest_passes_the_kubernetes_schemas() {
    let Some(kv) = kubernetes_validate() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (file, _) in DEPLOY {
        files.push(kcred_testutil::workspace_root().join(file));
    }
    for (i, profile) in [
        "auto", "kubeadm", "k3s", "rke2", "eks", "aks", "microk8s", "kind", "generic",
    ]
    .iter()
    .enumerate()
    {
        let yaml = render(&[
            "--profile",
            profile,
            "--enable",
            "acr",
            "--enable",
            "static",
            "--static-file",
            "/etc/kubernetes/registry.json",
            "--match-image",
            "registry.example.com",
            "--provider-config",
            "examples/node/ecr-token-mode.yaml",
            "--kubelet-version",
            "1.34",
        ]);
        let p = dir.path().join(format!("{i}-{profile}.yaml"));
        std::fs::write(&p, yaml).unwrap();
        files.push(p);
    }
    // The validator does reject what the API server would (so passing means something).
    let bogus = dir.path().join("bogus.yaml");
    let good = std::fs::read_to_string(&files[0]).unwrap();
    std::fs::write(
        &bogus,
        good.replace(
            "maxUnavailable: 1",
            "maxUnavailable: 1\n      maxUnavalable: 1",
        ),
    )
    .unwrap();
    let out = Command::new(&kv)
        .args(["--strict", "--kubernetes-version", "1.37.0"])
        .arg(&bogus)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a misspelled field passed strict validation"
    );

    for k8s in ["1.37.0", "1.33.0"] {
        let out = Command::new(&kv)
            .args(["--strict", "--kubernetes-version", k8s])
            .args(&files)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "kubernetes-validate {k8s}:\n{text}");
        // Every resource of every file was checked.
        for f in &files {
            assert!(
                text.contains(&format!(
                    "{} passed for resource daemonset/kcred-installer",
                    f.display()
                )),
                "{text}"
            );
        }
        assert!(!text.contains("WARN") && !text.contains("ERROR"), "{text}");
    }
}
