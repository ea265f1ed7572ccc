//! The DaemonSet installer (`kcred install --print-manifests`, `deploy/`) and the
//! node-audience RBAC that service-account token mode needs.
//!
//! The DaemonSet follows what third-party installers do (operators expect it): one
//! privileged pod per Linux node with the host's `/` at `/host` and the host's PID namespace;
//! an init container runs `kcred install --root /host --restart-kubelet`, which restarts the
//! kubelet (in PID 1's mount namespace: `systemctl restart kubelet|k3s|rke2-agent…` or
//! `snap restart microk8s.daemon-kubelite`) only when the install changed something and
//! `kcred doctor --root /host` passes; a `pause` container keeps the pod running.
//! `maxUnavailable: 1` restarts one kubelet at a time.
//!
//! Token mode: since kube-apiserver 1.33 `ServiceAccountNodeAudienceRestriction` is on by
//! default (kubernetes/kubernetes#130017), so a kubelet may request tokens only for audiences
//! of pods on its node, unless RBAC grants `request-serviceaccounts-token-audience` on the
//! audience (kubernetes/kubernetes#130485). [`node_audience_rbac`] renders that grant for
//! the `system:nodes` group.

use kcred_api::config::{decode_config, CredentialProvider};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::plan::ordered;
use crate::preset::Preset;
use crate::profile::Profile;

/// The installer image used when `--image` is not given. The release image is built by
/// `scripts/dist.sh` (docs/install.md); override it with `--image`.
pub const DEFAULT_IMAGE: &str = concat!("kcred-installer:", env!("CARGO_PKG_VERSION"));
/// The namespace the installer runs in.
pub const NAMESPACE: &str = "kcred-system";
/// The image keeping the pod running after the install.
pub const PAUSE_IMAGE: &str = "registry.k8s.io/pause:3.10";
/// The pod label holding the installed kcred version.
pub const VERSION_LABEL: &str = "app.kubernetes.io/version";

/// The pod annotation holding a hash of the install's command, fragments and image.
pub const INSTALL_HASH_ANNOTATION: &str = "kcred.dev/install-hash";

/// What to render.
#[derive(Debug, Clone)]
pub struct ManifestOptions {
    /// The installer image (holds `kcred` and the plugins in one directory on `PATH`).
    pub image: String,
    /// The profile (`None`: auto).
    pub profile: Option<Profile>,
    /// The `kcred install` flags to pass (profile, presets, replace, version).
    pub install_args: Vec<String>,
    /// The presets (to find token-mode audiences).
    pub presets: Vec<Preset>,
    /// `--provider-config` fragments (name, bytes), shipped in a ConfigMap.
    pub fragments: Vec<(String, Vec<u8>)>,
}

/// An invalid fragment for the manifests.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// A fragment does not decode.
    #[error("error decoding config {file:?}: {source}")]
    Fragment {
        /// The file.
        file: String,
        /// The decoder's message.
        source: kcred_api::config::ConfigDecodeError,
    },
    /// The providers are invalid.
    #[error("failed to validate credential provider config: {0}")]
    Invalid(String),
    /// A fragment is not UTF-8 text (ConfigMaps hold text).
    #[error("{0}: not UTF-8 text")]
    NotText(String),
}

/// The ClusterRole and ClusterRoleBinding letting kubelets (`system:nodes`) request
/// service-account tokens for `audiences`.
pub fn node_audience_rbac(audiences: &[String]) -> Vec<Value> {
    if audiences.is_empty() {
        return Vec::new();
    }
    vec![
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "kcred-node-token-audiences", "labels": {"app.kubernetes.io/name": "kcred"}},
            "rules": [{
                "verbs": ["request-serviceaccounts-token-audience"],
                "apiGroups": [""],
                "resources": audiences,
            }],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "kcred-node-token-audiences", "labels": {"app.kubernetes.io/name": "kcred"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kcred-node-token-audiences"},
            "subjects": [{"kind": "Group", "name": "system:nodes", "apiGroup": "rbac.authorization.k8s.io"}],
        }),
    ]
}

/// The token audiences of providers, sorted and de-duplicated.
pub fn token_audiences(providers: &[CredentialProvider]) -> Vec<String> {
    let mut a: Vec<String> = providers
        .iter()
        .filter_map(|p| p.token_attributes.as_ref())
        .map(|t| t.service_account_token_audience.clone())
        .collect();
    a.sort();
    a.dedup();
    a
}

/// Multi-document YAML of `docs`.
pub fn to_yaml(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| serde_yaml_ng::to_string(&ordered(d)).expect("YAML"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Renders the installer: Namespace, ServiceAccount, optional fragment ConfigMap, optional
/// node-audience RBAC, DaemonSet.
pub fn render(opts: &ManifestOptions) -> Result<String, ManifestError> {
    let mut providers = Vec::new();
    for p in &opts.presets {
        providers.push(p.provider().map_err(|source| ManifestError::Fragment {
            file: format!("--enable {}", p.provider_name()),
            source,
        })?);
    }
    let mut cm_data = serde_json::Map::new();
    let mut args: Vec<String> = vec![
        "install".into(),
        "--root=/host".into(),
        "--restart-kubelet".into(),
        "--annotate-node=$(NODE_NAME)".into(),
    ];
    args.extend(opts.install_args.iter().cloned());
    for (i, (file, bytes)) in opts.fragments.iter().enumerate() {
        let c = decode_config(bytes).map_err(|source| ManifestError::Fragment {
            file: file.clone(),
            source,
        })?;
        providers.extend(c.providers);
        let key = format!("provider-config-{i}.yaml");
        let text =
            String::from_utf8(bytes.clone()).map_err(|_| ManifestError::NotText(file.clone()))?;
        cm_data.insert(key.clone(), Value::String(text));
        args.push(format!(
            "--provider-config=/etc/kcred/provider-config/{key}"
        ));
    }
    if !providers.is_empty() {
        kcred_config::validate(&providers, kcred_config::FeatureGates::default())
            .map_err(|e| ManifestError::Invalid(e.to_string()))?;
    }
    let version = env!("CARGO_PKG_VERSION");
    let labels =
        json!({"app.kubernetes.io/name": "kcred-installer", "app.kubernetes.io/part-of": "kcred"});
    let mut pod_labels = labels.clone();
    pod_labels[VERSION_LABEL] = json!(version);
    if let Some(p) = opts.profile {
        pod_labels["kcred.dev/profile"] = json!(p.name());
    }

    let mut docs = vec![
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": NAMESPACE, "labels": {
                "pod-security.kubernetes.io/enforce": "privileged",
                "app.kubernetes.io/part-of": "kcred",
            }},
        }),
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "kcred-installer", "namespace": NAMESPACE, "labels": labels},
        }),
        // The installer annotates its own node with what it installed.
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "kcred-installer", "labels": labels},
            "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "kcred-installer", "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kcred-installer"},
            "subjects": [{"kind": "ServiceAccount", "name": "kcred-installer", "namespace": NAMESPACE}],
        }),
    ];
    let mut volumes =
        vec![json!({"name": "host-root", "hostPath": {"path": "/", "type": "Directory"}})];
    let mut mounts = vec![json!({"name": "host-root", "mountPath": "/host"})];
    if !cm_data.is_empty() {
        docs.push(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kcred-provider-config", "namespace": NAMESPACE, "labels": labels},
            "data": cm_data,
        }));
        volumes.push(
            json!({"name": "provider-config", "configMap": {"name": "kcred-provider-config"}}),
        );
        mounts.push(json!({"name": "provider-config", "mountPath": "/etc/kcred/provider-config", "readOnly": true}));
    }
    docs.extend(node_audience_rbac(&token_audiences(&providers)));
    let mut command = vec![Value::String("kcred".into())];
    command.extend(args.into_iter().map(Value::String));
    // Any change of the install (flags, fragments, image) changes the pod template, so the
    // DaemonSet rolls out, one node at a time.
    let mut hasher = Sha256::new();
    hasher.update(serde_json::to_vec(&command).expect("JSON"));
    hasher.update(serde_json::to_vec(&cm_data).expect("JSON"));
    hasher.update(opts.image.as_bytes());
    let install_hash = hex::encode(&hasher.finalize()[..12]);
    docs.push(json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kcred-installer", "namespace": NAMESPACE, "labels": pod_labels},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "kcred-installer"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": pod_labels, "annotations": {INSTALL_HASH_ANNOTATION: install_hash}},
                "spec": {
                    "serviceAccountName": "kcred-installer",
                    "hostPID": true,
                    "priorityClassName": "system-node-critical",
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [{"operator": "Exists"}],
                    "initContainers": [{
                        "name": "install",
                        "image": opts.image,
                        "command": command,
                        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                        "securityContext": {"privileged": true},
                        "volumeMounts": mounts,
                        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "256Mi"}},
                    }],
                    "containers": [{
                        "name": "pause",
                        "image": PAUSE_IMAGE,
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                            "runAsNonRoot": true, "runAsUser": 65535, "capabilities": {"drop": ["ALL"]}},
                        "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}, "limits": {"memory": "16Mi"}},
                    }],
                    "volumes": volumes,
                },
            },
        },
    }));
    Ok(to_yaml(&docs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_rbac_for_token_providers() {
        let fragment = b"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: harbor\n  matchImages: [\"harbor.example.com\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  tokenAttributes:\n    serviceAccountTokenAudience: harbor.example.com\n    cacheType: Token\n    requireServiceAccount: true\n".to_vec();
        let out = render(&ManifestOptions {
            image: "example.com/kcred-installer:1".into(),
            profile: Some(Profile::K3s),
            install_args: vec!["--profile=k3s".into()],
            presets: vec![Preset::Ecr],
            fragments: vec![("harbor.yaml".into(), fragment)],
        })
        .unwrap();
        assert!(out.contains("maxUnavailable: 1"), "{out}");
        assert!(out.contains("kind: ClusterRoleBinding"), "{out}");
        assert!(out.contains("- harbor.example.com"), "{out}");
        assert!(
            out.contains("--provider-config=/etc/kcred/provider-config/provider-config-0.yaml"),
            "{out}"
        );
        assert!(out.contains("privileged: true"), "{out}");
        let docs: Vec<serde_yaml_ng::Value> = out
            .split("---\n")
            .map(|d| serde_yaml_ng::from_str(d).unwrap())
            .collect();
        assert_eq!(docs.len(), 8);
    }

    #[test]
    fn no_rbac_without_token_mode() {
        let out = render(&ManifestOptions {
            image: DEFAULT_IMAGE.into(),
            profile: None,
            install_args: vec![],
            presets: vec![Preset::Gcp],
            fragments: vec![],
        })
        .unwrap();
        assert!(!out.contains("kcred-node-token-audiences"));
    }
}
