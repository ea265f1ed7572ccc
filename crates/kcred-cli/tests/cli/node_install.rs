//! `kcred install`, `kcred uninstall` and `kcred doctor` on fake node roots built from each
//! distribution's real file formats, with the real plugin binaries.
//!
//! For every profile: install writes what is expected with each flag exactly once; a second
//! install changes nothing (same tree hash); existing providers survive; an invalid merged
//! config writes nothing and exits 1 with the kubelet's message; doctor passes; a
//! world-writable or missing plugin makes doctor fail naming the file; uninstall restores
//! the tree byte for byte. Token mode: the gate is turned on where the version needs it,
//! and doctor fails naming the gate when it is off.
#![allow(clippy::disallowed_macros)] // test output; the CLI itself prints through src/output.rs

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kcred_node::elf::{exec_kind, ExecKind};

use crate::common::{kcred_on_node as run, write_node_file as write};

/// The directory holding the real plugin binaries install copies.
fn plugin_source() -> PathBuf {
    let s = kcred_testutil::bin("kcred-static-provider", "static-credential-provider");
    let h = kcred_testutil::bin("kcred-helper-provider", "docker-credential-provider");
    assert_eq!(s.parent(), h.parent());
    s.parent().unwrap().to_path_buf()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every entry under `root`: path, type, mode, owner, and the content or link target.
/// Two snapshots are equal exactly when the trees are equal byte for byte.
fn tree_hash(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let head = format!("{rel}\0{:o}\0{}\0{}", m.mode(), m.uid(), m.gid());
            let body = if m.file_type().is_symlink() {
                std::fs::read_link(&p)
                    .unwrap()
                    .display()
                    .to_string()
                    .into_bytes()
            } else if m.is_file() {
                std::fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            out.push((head, body));
            if m.is_dir() {
                walk(&p, root, out);
            }
        }
    }
    let mut recs = Vec::new();
    walk(root, root, &mut recs);
    recs
}

/// Puts the plugins' ELF interpreter into the fake root, as on a real node.
fn add_interpreter(root: &Path) {
    let f = std::fs::File::open(plugin_source().join("static-credential-provider")).unwrap();
    if let ExecKind::DynamicElf(interp) = exec_kind(&f).unwrap() {
        let dst = root.join(interp.trim_start_matches('/'));
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&interp, &dst).unwrap();
    }
}

const KUBELET_CONFIG: &str = "apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
kind: KubeletConfiguration
rotateCertificates: true
staticPodPath: /etc/kubernetes/manifests
";

const CORP_PROVIDER: &str = "apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: corp-credential-provider
    matchImages:
      - \"registry.corp.example\"
    defaultCacheDuration: \"5m\"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
";

const EKS_CONFIG: &str = r#"{
  "apiVersion": "kubelet.config.k8s.io/v1",
  "kind": "CredentialProviderConfig",
  "providers": [
    {
      "name": "ecr-credential-provider",
      "matchImages": [
        "*.dkr.ecr.*.amazonaws.com",
        "*.dkr.ecr.*.amazonaws.com.cn",
        "*.dkr.ecr-fips.*.amazonaws.com",
        "*.dkr.ecr.*.c2s.ic.gov",
        "*.dkr.ecr.*.sc2s.sgov.gov"
      ],
      "defaultCacheDuration": "12h",
      "apiVersion": "credentialprovider.kubelet.k8s.io/v1"
    }
  ]
}
"#;

/// Installs an existing (non-kcred) plugin executable.
fn existing_plugin(root: &Path, node_path: &str) {
    let p = root.join(node_path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::copy(plugin_source().join("static-credential-provider"), &p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

struct Case {
    profile: &'static str,
    version: &'static str,
    /// Files the kubelet's flags are in (each flag must appear once over all of them).
    flag_files: &'static [&'static str],
    /// The config file install merges into.
    config: &'static str,
    /// The plugin directory.
    bin_dir: &'static str,
    /// Providers that exist before and must survive.
    existing: &'static [&'static str],
}

const INSTALL: &[&str] = &[
    "--enable=static",
    "--static-file=/etc/kubernetes/registry-credentials.json",
    "--match-image=registry.example.com",
    "--enable=helper",
    "--helper=pass",
];

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

fn exercise(case: &Case, build: impl Fn(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let root = dir.path();
    build(root);
    add_interpreter(root);
    let root_s = root.to_str().unwrap();
    let src = plugin_source();
    let base = vec![
        "install",
        "--root",
        root_s,
        "--profile",
        case.profile,
        "--kubelet-version",
        case.version,
        "--bin-dir-source",
        src.to_str().unwrap(),
    ];
    let h0 = tree_hash(root);

    // An invalid merged config: nothing written, the kubelet's message, exit 1.
    let bad = scratch.path().join("bad-fragment.yaml");
    std::fs::write(
        &bad,
        "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: harbor\n  matchImages: [\"harbor.example.com\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  tokenAttributes:\n    serviceAccountTokenAudience: harbor.example.com\n    requireServiceAccount: true\n",
    )
    .unwrap();
    let mut args = base.clone();
    args.extend(INSTALL);
    let bad_s = bad.to_str().unwrap().to_owned();
    args.extend(["--provider-config", &bad_s]);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", case.profile);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("failed to validate credential provider config"),
        "{err}"
    );
    assert!(
        err.contains("cacheType is required to be set when tokenAttributes is specified"),
        "{err}"
    );
    assert_eq!(
        tree_hash(root),
        h0,
        "{}: an invalid config wrote something",
        case.profile
    );

    // Dry run: a diff, nothing written.
    let mut args = base.clone();
    args.extend(INSTALL);
    args.push("--dry-run");
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains(&format!("+++ b{}", case.config)),
        "{}",
        stdout(&out)
    );
    assert_eq!(tree_hash(root), h0);

    // Install.
    let mut args = base.clone();
    args.extend(INSTALL);
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}: restart signalled by exit 3",
        case.profile
    );
    assert!(stdout(&out).contains("kubelet restart needed: yes"));
    let mut flags_text = String::new();
    for f in case.flag_files {
        flags_text
            .push_str(&std::fs::read_to_string(root.join(f.trim_start_matches('/'))).unwrap());
    }
    if !case.flag_files.is_empty() {
        assert_eq!(
            count(&flags_text, "--image-credential-provider-config"),
            1,
            "{flags_text}"
        );
        assert_eq!(
            count(&flags_text, "--image-credential-provider-bin-dir"),
            1,
            "{flags_text}"
        );
        assert!(
            flags_text.contains(&format!(
                "--image-credential-provider-config={}",
                case.config
            )),
            "{flags_text}"
        );
        assert!(
            flags_text.contains(&format!(
                "--image-credential-provider-bin-dir={}",
                case.bin_dir
            )),
            "{flags_text}"
        );
    }
    let loaded = kcred_config::load_path(&root.join(case.config.trim_start_matches('/'))).unwrap();
    let names: Vec<&str> = loaded.providers.iter().map(|p| p.name.as_str()).collect();
    for e in case.existing {
        assert!(
            names.contains(e),
            "{}: existing provider {e} lost: {names:?}",
            case.profile
        );
    }
    assert!(
        names.contains(&"static-credential-provider")
            && names.contains(&"docker-credential-provider"),
        "{names:?}"
    );
    for n in ["static-credential-provider", "docker-credential-provider"] {
        let p = root.join(case.bin_dir.trim_start_matches('/')).join(n);
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o755);
    }
    let h1 = tree_hash(root);

    // Idempotent.
    let mut args = base.clone();
    args.extend(INSTALL);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("nothing to change"));
    assert_eq!(
        tree_hash(root),
        h1,
        "{}: second install changed the tree",
        case.profile
    );

    // A duplicate name is refused unless --replace.
    if let Some(existing) = case.existing.first() {
        let frag = scratch.path().join("dup.yaml");
        std::fs::write(
            &frag,
            format!("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: {existing}\n  matchImages: [\"other.example.com\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n"),
        )
        .unwrap();
        let frag_s = frag.to_str().unwrap().to_owned();
        let mut args = base.clone();
        args.extend(["--provider-config", &frag_s]);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!("pass --replace {existing}"))
        );
        assert_eq!(tree_hash(root), h1);
    }

    // Doctor passes.
    let doctor = [
        "doctor",
        "--root",
        root_s,
        "--profile",
        case.profile,
        "--kubelet-version",
        case.version,
    ];
    let out = run(&doctor);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: doctor fails after install",
        case.profile
    );

    // A world-writable plugin, then a missing one, make it fail naming the file.
    let plugin = root
        .join(case.bin_dir.trim_start_matches('/'))
        .join("static-credential-provider");
    let plugin_node = format!("{}/static-credential-provider", case.bin_dir);
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = run(&doctor);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("FAIL  plugin           {plugin_node}")),
        "{text}"
    );
    assert!(
        text.contains("writable by group or others")
            && text.contains(&format!("chmod go-w {plugin_node}")),
        "{text}"
    );
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bytes = std::fs::read(&plugin).unwrap();
    std::fs::remove_file(&plugin).unwrap();
    let out = run(&[&doctor[..], &["-o", "json"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0]["subject"], plugin_node.as_str());
    assert!(failed[0]["message"].as_str().unwrap().contains("missing"));
    std::fs::write(&plugin, bytes).unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(tree_hash(root), h1);

    // Uninstall restores the originals byte for byte.
    let out = run(&["uninstall", "--root", root_s]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        tree_hash(root),
        h0,
        "{}: uninstall did not restore the tree",
        case.profile
    );
    let out = run(&["uninstall", "--root", root_s]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("nothing to uninstall"));
}

#[test]
fn kubeadm_debian() {
    exercise(
        &Case {
            profile: "kubeadm",
            version: "1.34",
            flag_files: &["/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet"],
            config: "/etc/kubernetes/credential-providers/config.yaml",
            bin_dir: "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec",
            existing: &[],
        },
        |r| {
            write(r, "/var/lib/kubelet/kubeadm-flags.env", "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n");
            write(r, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=\n");
            write(r, "/var/lib/kubelet/config.yaml", KUBELET_CONFIG);
        },
    );
}

#[test]
fn kubeadm_rpm_keeps_existing_providers() {
    exercise(
        &Case {
            profile: "kubeadm",
            version: "1.33",
            flag_files: &[
                "/var/lib/kubelet/kubeadm-flags.env",
                "/etc/sysconfig/kubelet",
            ],
            config: "/etc/kubernetes/credential-providers/config.yaml",
            bin_dir: "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec",
            existing: &["corp-credential-provider"],
        },
        |r| {
            write(r, "/var/lib/kubelet/kubeadm-flags.env", "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n");
            write(r, "/etc/sysconfig/kubelet", "KUBELET_EXTRA_ARGS=\"--node-ip=10.0.0.7 --image-credential-provider-config=/etc/kubernetes/credential-providers/config.yaml --image-credential-provider-bin-dir=/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec\"\n");
            write(
                r,
                "/etc/kubernetes/credential-providers/config.yaml",
                CORP_PROVIDER,
            );
            existing_plugin(r, "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/corp-credential-provider");
            write(r, "/var/lib/kubelet/config.yaml", KUBELET_CONFIG);
        },
    );
}

#[test]
fn k3s() {
    exercise(
        &Case {
            profile: "k3s",
            version: "1.34",
            flag_files: &[],
            config: "/var/lib/rancher/credentialprovider/config.yaml",
            bin_dir: "/var/lib/rancher/credentialprovider/bin",
            existing: &["corp-credential-provider"],
        },
        |r| {
            write(r, "/etc/rancher/k3s/config.yaml", "write-kubeconfig-mode: \"0644\"\nnode-label:\n  - \"role=worker\"\nkubelet-arg:\n  - \"max-pods=150\"\n");
            write(
                r,
                "/etc/rancher/k3s/config.yaml.d/10-gc.yaml",
                "kubelet-arg+:\n  - \"image-gc-high-threshold=80\"\n",
            );
            write(
                r,
                "/etc/systemd/system/k3s.service",
                "[Service]\nExecStart=/usr/local/bin/k3s server\n",
            );
            write(
                r,
                "/var/lib/rancher/credentialprovider/config.yaml",
                CORP_PROVIDER,
            );
            existing_plugin(
                r,
                "/var/lib/rancher/credentialprovider/bin/corp-credential-provider",
            );
        },
    );
}

#[test]
fn rke2() {
    exercise(
        &Case {
            profile: "rke2",
            version: "1.33",
            flag_files: &[],
            config: "/var/lib/rancher/credentialprovider/config.yaml",
            bin_dir: "/var/lib/rancher/credentialprovider/bin",
            existing: &[],
        },
        |r| {
            write(
                r,
                "/etc/rancher/rke2/config.yaml",
                "token: my-shared-secret\nserver: https://10.0.0.1:9345\n",
            );
            write(
                r,
                "/usr/local/lib/systemd/system/rke2-agent.service",
                "[Service]\nExecStart=/usr/local/bin/rke2 agent\n",
            );
        },
    );
}

#[test]
fn eks_al2023_keeps_the_ecr_entry() {
    exercise(
        &Case {
            profile: "eks",
            version: "1.34",
            flag_files: &[],
            config: "/etc/eks/image-credential-provider/config.json",
            bin_dir: "/etc/eks/image-credential-provider",
            existing: &["ecr-credential-provider"],
        },
        |r| {
            write(
                r,
                "/etc/eks/image-credential-provider/config.json",
                EKS_CONFIG,
            );
            existing_plugin(
                r,
                "/etc/eks/image-credential-provider/ecr-credential-provider",
            );
            write(r, "/etc/kubernetes/kubelet/config.json", "{\"apiVersion\":\"kubelet.config.k8s.io/v1beta1\",\"kind\":\"KubeletConfiguration\",\"featureGates\":{\"RotateKubeletServerCertificate\":true}}\n");
        },
    );
}

#[test]
fn aks() {
    exercise(
        &Case {
            profile: "aks",
            version: "1.34",
            flag_files: &["/etc/default/kubelet"],
            config: "/var/lib/kubelet/credential-provider-config.yaml",
            bin_dir: "/var/lib/kubelet/credential-provider",
            existing: &["acr-credential-provider"],
        },
        |r| {
            write(r, "/etc/default/kubelet", "KUBELET_OPTS=\nKUBELET_NODE_LABELS=kubernetes.azure.com/role=agent,kubernetes.azure.com/mode=system\nKUBELET_FLAGS=--address=0.0.0.0 --anonymous-auth=false --authentication-token-webhook=true --client-ca-file=/etc/kubernetes/certs/ca.crt --image-credential-provider-bin-dir=/var/lib/kubelet/credential-provider --image-credential-provider-config=/var/lib/kubelet/credential-provider-config.yaml --feature-gates=RotateKubeletServerCertificate=true\n");
            write(r, "/var/lib/kubelet/credential-provider-config.yaml", "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: acr-credential-provider\n    matchImages:\n      - \"*.azurecr.io\"\n      - \"*.azurecr.cn\"\n      - \"*.azurecr.de\"\n      - \"*.azurecr.us\"\n    defaultCacheDuration: \"10m\"\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    args:\n      - /etc/kubernetes/azure.json\n");
            existing_plugin(
                r,
                "/var/lib/kubelet/credential-provider/acr-credential-provider",
            );
        },
    );
}

#[test]
fn microk8s() {
    exercise(
        &Case {
            profile: "microk8s",
            version: "1.34",
            flag_files: &["/var/snap/microk8s/current/args/kubelet"],
            config: "/var/snap/microk8s/common/credentialprovider/config.yaml",
            bin_dir: "/var/snap/microk8s/common/credentialprovider",
            existing: &[],
        },
        |r| {
            write(r, "/var/snap/microk8s/current/args/kubelet", "--kubeconfig=${SNAP_DATA}/credentials/kubelet.config\n--cert-dir=${SNAP_DATA}/certs\n--client-ca-file=${SNAP_DATA}/certs/ca.crt\n--anonymous-auth=false\n--root-dir=${SNAP_COMMON}/var/lib/kubelet\n--fail-swap-on=false\n--eviction-hard=\"memory.available<100Mi,nodefs.available<1Gi,imagefs.available<1Gi\"\n--container-runtime-endpoint=${SNAP_COMMON}/run/containerd.sock\n--containerd=${SNAP_COMMON}/run/containerd.sock\n--node-labels=\"microk8s.io/cluster=true,node.kubernetes.io/microk8s-controlplane=microk8s-controlplane\"\n--authentication-token-webhook=true\n--read-only-port=0\n");
        },
    );
}

#[test]
fn kind() {
    exercise(
        &Case {
            profile: "kind",
            version: "1.35",
            flag_files: &["/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet"],
            config: "/etc/kubernetes/credential-providers/config.yaml",
            bin_dir: "/var/lib/kubelet/credential-provider",
            existing: &[],
        },
        |r| {
            write(r, "/kind/version", "v1.35.0\n");
            write(r, "/var/lib/kubelet/kubeadm-flags.env", "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=172.18.0.2 --node-labels= --pod-infra-container-image=registry.k8s.io/pause:3.10 --provider-id=kind://docker/kind/kind-control-plane\"\n");
            write(r, "/var/lib/kubelet/config.yaml", KUBELET_CONFIG);
        },
    );
}

#[test]
fn generic() {
    exercise(
        &Case {
            profile: "generic",
            version: "1.34",
            flag_files: &[],
            config: "/etc/kubernetes/credential-providers/config.yaml",
            bin_dir: "/usr/local/lib/kubelet/credential-providers",
            existing: &[],
        },
        |r| {
            std::fs::create_dir_all(r.join("etc")).unwrap();
        },
    );
}

/// Token mode on kubelet 1.33 (gate default off): install turns the gate on in the
/// profile's own place, doctor passes and prints the node-audience RBAC; with the gate off
/// doctor fails naming it.
#[test]
fn token_mode_gate_per_profile() {
    let frag = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: static-credential-provider\n  matchImages: [\"harbor.example.com\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  args: [/etc/kubernetes/registry-credentials.json]\n  tokenAttributes:\n    serviceAccountTokenAudience: harbor.example.com\n    cacheType: Token\n    requireServiceAccount: false\n";
    let src = plugin_source();
    for (profile, setup, gate_file, gate_text) in [
        (
            "kubeadm",
            "/etc/default/kubelet",
            "/etc/default/kubelet",
            "--feature-gates=KubeletServiceAccountTokenForCredentialProviders=true",
        ),
        (
            "k3s",
            "/etc/rancher/k3s/config.yaml",
            "/etc/rancher/k3s/config.yaml.d/90-kcred.yaml",
            "feature-gates=KubeletServiceAccountTokenForCredentialProviders=true",
        ),
        (
            "eks",
            "/etc/eks/image-credential-provider/config.json",
            "/etc/kubernetes/kubelet/config.json.d/90-kcred.conf",
            "\"KubeletServiceAccountTokenForCredentialProviders\": true",
        ),
        (
            "microk8s",
            "/var/snap/microk8s/current/args/kubelet",
            "/var/snap/microk8s/current/args/kubelet",
            "--feature-gates=KubeletServiceAccountTokenForCredentialProviders=true",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let root = dir.path();
        match profile {
            "kubeadm" => {
                write(root, setup, "KUBELET_EXTRA_ARGS=\n");
                write(root, "/var/lib/kubelet/kubeadm-flags.env", "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n");
            }
            "eks" => write(root, setup, "{\"apiVersion\":\"kubelet.config.k8s.io/v1\",\"kind\":\"CredentialProviderConfig\",\"providers\":[]}\n".replace("[]", "[{\"name\":\"ecr-credential-provider\",\"matchImages\":[\"*.dkr.ecr.*.amazonaws.com\"],\"defaultCacheDuration\":\"12h\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\"}]").as_str()),
            _ => write(root, setup, "--anonymous-auth=false\n".replace("--anonymous-auth=false", if profile == "k3s" { "write-kubeconfig-mode: \"0644\"" } else { "--anonymous-auth=false" }).as_str()),
        }
        if profile == "eks" {
            existing_plugin(
                root,
                "/etc/eks/image-credential-provider/ecr-credential-provider",
            );
        }
        add_interpreter(root);
        let f = scratch.path().join("token.yaml");
        std::fs::write(&f, frag).unwrap();
        let root_s = root.to_str().unwrap();
        let h0 = tree_hash(root);
        let out = run(&[
            "install",
            "--root",
            root_s,
            "--profile",
            profile,
            "--kubelet-version",
            "1.33",
            "--bin-dir-source",
            src.to_str().unwrap(),
            "--provider-config",
            f.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(3), "{profile}");
        let gate = std::fs::read_to_string(root.join(gate_file.trim_start_matches('/'))).unwrap();
        assert_eq!(count(&gate, gate_text), 1, "{profile}: {gate}");
        let doctor = [
            "doctor",
            "--root",
            root_s,
            "--profile",
            profile,
            "--kubelet-version",
            "1.33",
        ];
        let out = run(&doctor);
        assert_eq!(out.status.code(), Some(0), "{profile}");
        let text = stdout(&out);
        assert!(text.contains("PASS  token.gate"), "{text}");
        assert!(
            text.contains("resources:\n    - harbor.example.com")
                || text.contains("- harbor.example.com"),
            "{text}"
        );
        assert!(
            text.contains("request-serviceaccounts-token-audience")
                && text.contains("system:nodes"),
            "{text}"
        );
        // Turn the gate off again where install put it: doctor names the gate.
        if profile == "kubeadm" || profile == "microk8s" {
            let p = root.join(gate_file.trim_start_matches('/'));
            let t = std::fs::read_to_string(&p).unwrap().replace(
                "TokenForCredentialProviders=true",
                "TokenForCredentialProviders=false",
            );
            std::fs::write(&p, t).unwrap();
            let out = run(&doctor);
            assert_eq!(out.status.code(), Some(1), "{profile}");
            assert!(stdout(&out).contains("FAIL  token.gate       --feature-gates KubeletServiceAccountTokenForCredentialProviders: off"), "{}", stdout(&out));
            let out = run(&["uninstall", "--root", root_s]);
            assert_eq!(
                out.status.code(),
                Some(1),
                "modified file: uninstall refuses"
            );
            let out = run(&["uninstall", "--root", root_s, "--force"]);
            assert_eq!(out.status.code(), Some(3));
        } else {
            let out = run(&["uninstall", "--root", root_s]);
            assert_eq!(out.status.code(), Some(3));
        }
        assert_eq!(tree_hash(root), h0, "{profile}");
        // Kubelet 1.32 has no token mode: refused, nothing written.
        let out = run(&[
            "install",
            "--root",
            root_s,
            "--profile",
            profile,
            "--kubelet-version",
            "1.32",
            "--bin-dir-source",
            src.to_str().unwrap(),
            "--provider-config",
            f.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("needs 1.33+"));
        assert_eq!(tree_hash(root), h0);
    }
}

#[test]
fn eks_replacing_the_ecr_entry_needs_replace() {
    let dir = tempfile::tempdir().unwrap();
    let _scratch = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "/etc/eks/image-credential-provider/config.json",
        EKS_CONFIG,
    );
    existing_plugin(
        root,
        "/etc/eks/image-credential-provider/ecr-credential-provider",
    );
    let h0 = tree_hash(root);
    let src = kcred_testutil::bin("kcred-ecr", "ecr-credential-provider");
    let src = src.parent().unwrap().to_str().unwrap();
    let root_s = root.to_str().unwrap();
    let args = [
        "install",
        "--root",
        root_s,
        "--profile",
        "eks",
        "--kubelet-version",
        "1.34",
        "--bin-dir-source",
        src,
        "--enable",
        "ecr",
    ];
    let out = run(&args);
    // Identical entry: kept, but the binary is EKS's own: refused without --replace.
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("was not installed by kcred; pass --replace ecr-credential-provider"));
    assert_eq!(tree_hash(root), h0);
    let out = run(&[&args[..], &["--replace", "ecr-credential-provider"]].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "only the binary changed: no restart"
    );
    let out = run(&["uninstall", "--root", root_s]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(tree_hash(root), h0);
}

#[test]
fn talos_prints_a_patch_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "/etc/os-release",
        "NAME=\"Talos\"\nID=talos\nVERSION_ID=v1.11.0\n",
    );
    let h0 = tree_hash(root);
    let f = scratch.path().join("token.yaml");
    std::fs::write(&f, "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: harbor-credential-provider\n  matchImages: [\"harbor.example.com\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  tokenAttributes:\n    serviceAccountTokenAudience: harbor.example.com\n    cacheType: Token\n    requireServiceAccount: false\n").unwrap();
    let out = run(&[
        "install",
        "--root",
        root.to_str().unwrap(),
        "--kubelet-version",
        "1.33",
        "--enable",
        "gcp",
        "--provider-config",
        f.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("profile: talos (detected)"), "{text}");
    let patch = &text[text.find("# Talos machine-config patch").unwrap()..];
    let v: serde_json::Value = serde_yaml_ng::from_str(patch).unwrap();
    let cfg = &v["machine"]["kubelet"]["credentialProviderConfig"];
    assert_eq!(cfg["apiVersion"], "kubelet.config.k8s.io/v1");
    assert_eq!(cfg["providers"][0]["name"], "auth-provider-gcp");
    assert_eq!(cfg["providers"][1]["tokenAttributes"]["cacheType"], "Token");
    assert_eq!(
        v["machine"]["kubelet"]["extraArgs"]["feature-gates"],
        "KubeletServiceAccountTokenForCredentialProviders=true"
    );
    assert_eq!(tree_hash(root), h0);
}

/// Bottlerocket and OpenShift are refused with the reason and the alternative.
#[test]
fn unsupported_distributions_are_refused() {
    for (id, want) in [
        ("bottlerocket", "Bottlerocket"),
        ("rhcos", "Machine Config Operator"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let _scratch = tempfile::tempdir().unwrap();
        write(dir.path(), "/etc/os-release", format!("ID={id}\n"));
        let out = run(&[
            "install",
            "--root",
            dir.path().to_str().unwrap(),
            "--kubelet-version",
            "1.34",
            "--enable",
            "gcp",
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains(want));
    }
}

/// A fake kubelet with a real command line (a copy of /bin/sh named `kubelet`): discovery
/// finds it with its exact arguments, and doctor reads its flags from it.
#[test]
fn doctor_reads_a_running_kubelet() {
    let dir = tempfile::tempdir().unwrap();
    let _scratch = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    write(&root, "/etc/kubernetes/cp/config.yaml", CORP_PROVIDER);
    existing_plugin(&root, "/opt/cp/bin/corp-credential-provider");
    add_interpreter(&root);
    let fake = dir.path().join("kubelet");
    std::fs::copy("/bin/sh", &fake).unwrap();
    let mut child = Command::new(&fake)
        .args([
            "-c",
            "sleep 60; :",
            "kubelet",
            "--config=/var/lib/kubelet/config.yaml",
            "--image-credential-provider-config=/etc/kubernetes/cp/config.yaml",
            "--image-credential-provider-bin-dir",
            "/opt/cp/bin",
        ])
        .spawn()
        .unwrap();
    let pid = child.id();
    // /proc/PID/cmdline is complete once exec has happened; wait for it.
    let mut found = None;
    for _ in 0..100 {
        found = kcred_node::process::find_kubelets(Path::new("/proc"))
            .into_iter()
            .find(|p| p.pid == pid);
        if found.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let p = found.expect("the fake kubelet is found in /proc");
    assert_eq!(p.argv[0], fake.to_str().unwrap());
    assert_eq!(p.argv.last().unwrap(), "/opt/cp/bin");
    let pid_s = pid.to_string();
    let out = run(&[
        "doctor",
        "--root",
        root.to_str().unwrap(),
        "--profile",
        "kubeadm",
        "--kubelet-version",
        "1.34",
        "--kubelet-pid",
        &pid_s,
        "-o",
        "json",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["kubelet"]["pid"], pid);
    assert_eq!(r["kubelet"]["config"], "/etc/kubernetes/cp/config.yaml");
    assert_eq!(r["kubelet"]["bin_dir"], "/opt/cp/bin");
    assert!(
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "plugin"
                && c["status"] == "pass"
                && c["subject"] == "/opt/cp/bin/corp-credential-provider"),
        "{r}"
    );
}

/// Provider `env` values may be secrets: a dry run shows them redacted, and neither install
/// nor doctor prints them.
#[test]
fn env_values_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "/var/lib/kubelet/kubeadm-flags.env",
        "KUBELET_KUBEADM_ARGS=\"\"\n",
    );
    write(root, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=\n");
    add_interpreter(root);
    let f = scratch.path().join("env.yaml");
    std::fs::write(&f, "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: docker-credential-provider\n  matchImages: [\"registry.example.com\"]\n  defaultCacheDuration: 5m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  args: [\"--helper\", \"pass\"]\n  env:\n  - name: PASSWORD_STORE_GPG_OPTS\n    value: \"--passphrase s3cr3t-passphrase\"\n").unwrap();
    let src = plugin_source();
    let args = [
        "install",
        "--root",
        root.to_str().unwrap(),
        "--profile",
        "kubeadm",
        "--kubelet-version",
        "1.34",
        "--bin-dir-source",
        src.to_str().unwrap(),
        "--provider-config",
        f.to_str().unwrap(),
    ];
    for extra in [&["--dry-run"][..], &[][..]] {
        let out = run(&[&args[..], extra].concat());
        let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains("s3cr3t"), "{all}");
        if !extra.is_empty() {
            assert!(
                all.contains("<redacted>") && all.contains("are redacted in this diff"),
                "{all}"
            );
        }
    }
    let out = run(&[
        "doctor",
        "--root",
        root.to_str().unwrap(),
        "--profile",
        "kubeadm",
        "--kubelet-version",
        "1.34",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout(&out).contains("s3cr3t"));
    // The value did reach the config.
    let cfg = std::fs::read_to_string(root.join("etc/kubernetes/credential-providers/config.yaml"))
        .unwrap();
    assert!(cfg.contains("s3cr3t-passphrase"));
}

/// `--restart-kubelet` restarts only when doctor passes: with a plugin directory writable by
/// others, doctor fails, the kubelet is left alone, exit 1.
#[test]
fn restart_waits_for_doctor() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "/var/lib/kubelet/kubeadm-flags.env",
        "KUBELET_KUBEADM_ARGS=\"\"\n",
    );
    write(root, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=\n");
    std::fs::create_dir_all(root.join("usr/libexec")).unwrap();
    std::fs::set_permissions(
        root.join("usr/libexec"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    add_interpreter(root);
    let src = plugin_source();
    let mut args = vec![
        "install",
        "--root",
        root.to_str().unwrap(),
        "--profile",
        "kubeadm",
        "--kubelet-version",
        "1.34",
        "--bin-dir-source",
        src.to_str().unwrap(),
        "--restart-kubelet",
    ];
    args.extend(INSTALL);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("FAIL  plugin")
            && text.contains("parent directory /usr/libexec is writable by group or others"),
        "{text}"
    );
    assert!(!text.contains("restarting the kubelet"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not restarting the kubelet"));
}

/// Bad flags and inputs: a clear message naming the input, exit 2, nothing written.
#[test]
fn bad_input_is_named_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=\n");
    write(root, "/var/lib/kubelet/kubeadm-flags.env", "");
    let h0 = tree_hash(root);
    let r = root.to_str().unwrap();
    for (args, want) in [
        (
            vec!["--profile", "nixos", "--enable", "gcp"],
            "invalid --profile \"nixos\"",
        ),
        (vec!["--enable", "quay"], "unknown preset \"quay\""),
        (
            vec!["--enable", "static", "--match-image", "r.example.com"],
            "--enable static needs --static-file",
        ),
        (
            vec!["--provider-config", "/dev/null"],
            "/dev/null: not a regular file",
        ),
        (
            vec!["--provider-config", "/nonexistent/x.yaml"],
            "reading /nonexistent/x.yaml",
        ),
        (
            vec!["--kubelet-version", "1.25", "--enable", "gcp"],
            "kubelet.config.k8s.io/v1",
        ),
    ] {
        let out = run(&[&["install", "--root", r][..], &args[..]].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(tree_hash(root), h0);
    }
    // A fragment that is not a config: the kubelet decoder's message, exit 1.
    let scratch = tempfile::tempdir().unwrap();
    let f = scratch.path().join("pod.yaml");
    std::fs::write(&f, "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n").unwrap();
    let out = run(&[
        "install",
        "--root",
        r,
        "--kubelet-version",
        "1.34",
        "--provider-config",
        f.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error decoding config"));
    assert_eq!(tree_hash(root), h0);
}
