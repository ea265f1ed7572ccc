//! Node profiles: where each distribution expects plugins, the config and kubelet flags, and
//! how its kubelet is restarted.
//!
//! | profile | plugins | config | flags |
//! |---|---|---|---|
//! | kubeadm | `/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec` | `/etc/kubernetes/credential-providers/config.yaml` | `KUBELET_EXTRA_ARGS` in `/etc/default/kubelet` or `/etc/sysconfig/kubelet` (never `kubeadm-flags.env`, which kubeadm rewrites) |
//! | k3s, rke2 | `/var/lib/rancher/credentialprovider/bin` | `/var/lib/rancher/credentialprovider/config.yaml` | passed by k3s/RKE2 when both exist (k3s-io/k3s#3280); gates via `config.yaml.d` |
//! | eks (AL2023) | `/etc/eks/image-credential-provider` | `.../config.json` (keeps the ECR entry) | passed by nodeadm (awslabs/amazon-eks-ami#1586) |
//! | aks | `/var/lib/kubelet/credential-provider` | `/var/lib/kubelet/credential-provider-config.yaml` | `KUBELET_FLAGS` in `/etc/default/kubelet` |
//! | microk8s | `/var/snap/microk8s/common/credentialprovider` | same directory, `config.yaml` | `/var/snap/microk8s/current/args/kubelet` (canonical/microk8s#4371) |
//! | kind | `/var/lib/kubelet/credential-provider` | `/etc/kubernetes/credential-providers/config.yaml` | `KUBELET_EXTRA_ARGS` in the node container's `/etc/default/kubelet` (kubernetes-sigs/kind#2281) |
//! | generic | `/usr/local/lib/kubelet/credential-providers` | `/etc/kubernetes/credential-providers/config.yaml` | printed, not written |
//! | talos | `/usr/local/lib/kubelet/credentialproviders` (a system extension) | machine config (siderolabs/talos#7942) | machine config: a patch is printed |
//!
//! Existing `--image-credential-provider-*` flags always win over these defaults: install
//! merges into the config the kubelet already reads.

use std::fmt;

use crate::flags::{self, FlagFileFormat};
use crate::fs::{join, NodeFiles};

/// A distribution's way of running the kubelet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// kubeadm with deb/rpm kubelet packages and systemd.
    Kubeadm,
    /// k3s (kubelet embedded in the `k3s` process).
    K3s,
    /// RKE2 (runs the kubelet binary as a child process).
    Rke2,
    /// Amazon EKS on Amazon Linux 2023 (nodeadm).
    Eks,
    /// Azure Kubernetes Service nodes.
    Aks,
    /// Canonical MicroK8s (snap, `kubelite`).
    Microk8s,
    /// A kind node container (kubeadm inside).
    Kind,
    /// Any other node: plugins and config are written, the flags are printed.
    Generic,
    /// Talos Linux: read-only root, a machine-config patch is printed.
    Talos,
}

impl Profile {
    /// Every profile, in `--profile` order.
    pub const ALL: [Profile; 9] = [
        Profile::Kubeadm,
        Profile::K3s,
        Profile::Rke2,
        Profile::Eks,
        Profile::Aks,
        Profile::Microk8s,
        Profile::Kind,
        Profile::Generic,
        Profile::Talos,
    ];

    /// The `--profile` name.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Kubeadm => "kubeadm",
            Profile::K3s => "k3s",
            Profile::Rke2 => "rke2",
            Profile::Eks => "eks",
            Profile::Aks => "aks",
            Profile::Microk8s => "microk8s",
            Profile::Kind => "kind",
            Profile::Generic => "generic",
            Profile::Talos => "talos",
        }
    }

    /// Parses a `--profile` name (not `auto`).
    pub fn parse(s: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == s)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a node cannot be installed on, or its profile not found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// Bottlerocket: read-only root; ECR is built in and settings go through its API
    /// (bottlerocket-os/bottlerocket#4165).
    #[error("this node runs Bottlerocket (/etc/os-release ID=bottlerocket): its root is read-only and its only credential provider (ECR) is configured through settings.kubernetes.credential-providers; kcred cannot be installed on it (see docs/install.md#bottlerocket-why-not)")]
    Bottlerocket,
    /// OpenShift / RHCOS: the Machine Config Operator owns the files.
    #[error("this node runs Red Hat CoreOS (OpenShift): the Machine Config Operator owns /etc and rolls back direct edits; ship kcred with a MachineConfig instead (see docs/install.md#openshift-why-not)")]
    OpenShift,
    /// Nothing identifies the distribution.
    #[error("cannot tell how this node runs its kubelet (no kubeadm, k3s, RKE2, EKS, AKS, MicroK8s, kind or Talos files under the root); pass --profile (generic writes the plugins and config and prints the flags)")]
    Unknown,
}

/// Reads `ID=` of `/etc/os-release`.
pub fn os_release_id(fs: &dyn NodeFiles) -> Option<String> {
    let bytes = fs.read("/etc/os-release").ok()??;
    let text = String::from_utf8_lossy(&bytes);
    text.lines().find_map(|l| {
        l.strip_prefix("ID=")
            .map(|v| v.trim().trim_matches('"').trim_matches('\'').to_owned())
    })
}

/// Finds the profile of a node from its files (`--profile auto`).
pub fn detect(fs: &dyn NodeFiles) -> Result<Profile, DetectError> {
    match os_release_id(fs).as_deref() {
        Some("talos") => return Ok(Profile::Talos),
        Some("bottlerocket") => return Err(DetectError::Bottlerocket),
        Some("rhcos") | Some("scos") => return Err(DetectError::OpenShift),
        _ => {}
    }
    if fs.exists("/var/snap/microk8s/current/args/kubelet") {
        return Ok(Profile::Microk8s);
    }
    if fs.is_dir("/etc/rancher/rke2") {
        return Ok(Profile::Rke2);
    }
    if fs.is_dir("/etc/rancher/k3s") {
        return Ok(Profile::K3s);
    }
    if fs.is_dir("/etc/eks") {
        return Ok(Profile::Eks);
    }
    if let Ok(Some(b)) = fs.read("/etc/default/kubelet") {
        if String::from_utf8_lossy(&b)
            .lines()
            .any(|l| l.trim_start().starts_with("KUBELET_FLAGS="))
        {
            return Ok(Profile::Aks);
        }
    }
    if fs.is_dir("/kind") {
        return Ok(Profile::Kind);
    }
    if fs.exists("/var/lib/kubelet/kubeadm-flags.env") || fs.exists("/etc/kubernetes/kubelet.conf")
    {
        return Ok(Profile::Kubeadm);
    }
    Err(DetectError::Unknown)
}

/// A file holding kubelet flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagSource {
    /// Node path.
    pub path: String,
    /// How flags are stored.
    pub format: FlagSourceFormat,
}

/// The formats of [`FlagSource`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagSourceFormat {
    /// An environment file or args file (see [`FlagFileFormat`]).
    Flags(FlagFileFormat),
    /// A k3s/RKE2 YAML config (`kubelet-arg`); read only.
    K3sYaml,
}

impl FlagSource {
    /// The flags this source holds (empty when missing or unreadable).
    pub fn read(&self, fs: &dyn NodeFiles) -> Vec<String> {
        let Ok(Some(bytes)) = fs.read(&self.path) else {
            return Vec::new();
        };
        match &self.format {
            FlagSourceFormat::Flags(f) => flags::read_flags(&bytes, f),
            FlagSourceFormat::K3sYaml => flags::k3s_kubelet_args(&bytes).unwrap_or_default(),
        }
    }
}

/// Where install turns on a feature gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateTarget {
    /// In `--feature-gates` of the writable flag file.
    FlagFile,
    /// A k3s/RKE2 `config.yaml.d` drop-in appending to `kubelet-arg`.
    K3sDropIn(String),
    /// A kubelet `--config-dir` drop-in (`KubeletConfiguration` with `featureGates`).
    KubeletConfigDropIn(String),
    /// Only printed (generic) or part of the printed patch (Talos).
    Print,
}

/// How the node's kubelet is restarted (run in the host's namespaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restart {
    /// The command, e.g. `["systemctl", "restart", "kubelet"]`.
    pub command: Vec<String>,
}

/// A profile's paths on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The profile.
    pub profile: Profile,
    /// Default plugin directory (an existing `--image-credential-provider-bin-dir` wins).
    pub bin_dir: String,
    /// Default config path (an existing `--image-credential-provider-config` wins).
    pub config_path: String,
    /// Files the kubelet's flags come from, in the order it reads them (later wins).
    pub flag_sources: Vec<FlagSource>,
    /// Index into `flag_sources` of the file install writes flags to.
    pub writable_flags: Option<usize>,
    /// The distribution passes both credential-provider flags itself (k3s, RKE2, EKS).
    pub flags_implicit: bool,
    /// The kubelet config file when no `--config` flag says otherwise.
    pub kubelet_config: Option<String>,
    /// Where the token-mode feature gate goes.
    pub gate: GateTarget,
    /// How the kubelet restarts.
    pub restart: Restart,
}

fn cmd(parts: &[&str]) -> Restart {
    Restart {
        command: parts.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn unit_exists(fs: &dyn NodeFiles, unit: &str) -> bool {
    [
        "/etc/systemd/system",
        "/usr/lib/systemd/system",
        "/lib/systemd/system",
        "/usr/local/lib/systemd/system",
    ]
    .iter()
    .any(|d| fs.exists(&join(d, unit)))
}

/// k3s/RKE2 config files in the order k3s reads them: `config.yaml`, then
/// `config.yaml.d/*.yaml` sorted.
pub fn k3s_config_files(fs: &dyn NodeFiles, etc_dir: &str) -> Vec<String> {
    let mut files = vec![join(etc_dir, "config.yaml")];
    let d = join(etc_dir, "config.yaml.d");
    for name in fs.list_dir(&d) {
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            files.push(join(&d, &name));
        }
    }
    files
}

/// The value of `key` in the k3s/RKE2 config files under `etc_dir` ([`k3s_config_files`]:
/// the last file that sets it wins, as k3s merges them), and that file.
pub fn k3s_config_value(fs: &dyn NodeFiles, etc_dir: &str, key: &str) -> Option<(String, String)> {
    let mut found = None;
    for f in k3s_config_files(fs, etc_dir) {
        if let Ok(Some(b)) = fs.read(&f) {
            if let Ok(Some(v)) = flags::k3s_setting(&b, key) {
                found = Some((v, f));
            }
        }
    }
    found
}

/// The kcred-owned k3s/RKE2 drop-in name.
pub const K3S_DROP_IN: &str = "90-kcred.yaml";
/// The kcred-owned kubelet config drop-in name (EKS `config.json.d`). nodeadm writes
/// `/etc/kubernetes/kubelet/config.json` and its own drop-in `00-nodeadm.conf` (`40-nodeadm.conf`
/// in newer releases) in `config.json.d/` (awslabs/amazon-eks-ami, nodeadm's e2e cases);
/// the kubelet reads drop-ins in name order, so `90-` comes after nodeadm's.
pub const KUBELET_DROP_IN: &str = "90-kcred.conf";

impl Layout {
    /// The layout of `profile` on the node `fs`.
    pub fn for_profile(profile: Profile, fs: &dyn NodeFiles) -> Layout {
        let env = |path: &str, var: &str| FlagSource {
            path: path.to_owned(),
            format: FlagSourceFormat::Flags(FlagFileFormat::EnvVar(var.to_owned())),
        };
        match profile {
            Profile::Kubeadm | Profile::Kind => {
                let extra = if fs.exists("/etc/sysconfig/kubelet")
                    || (fs.is_dir("/etc/sysconfig") && !fs.exists("/etc/default/kubelet"))
                {
                    "/etc/sysconfig/kubelet"
                } else {
                    "/etc/default/kubelet"
                };
                let (bin_dir, config_path) = if profile == Profile::Kind {
                    (
                        "/var/lib/kubelet/credential-provider",
                        "/etc/kubernetes/credential-providers/config.yaml",
                    )
                } else {
                    (
                        "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec",
                        "/etc/kubernetes/credential-providers/config.yaml",
                    )
                };
                Layout {
                    profile,
                    bin_dir: bin_dir.into(),
                    config_path: config_path.into(),
                    flag_sources: vec![
                        env("/var/lib/kubelet/kubeadm-flags.env", "KUBELET_KUBEADM_ARGS"),
                        env(extra, "KUBELET_EXTRA_ARGS"),
                    ],
                    writable_flags: Some(1),
                    flags_implicit: false,
                    kubelet_config: Some("/var/lib/kubelet/config.yaml".into()),
                    gate: GateTarget::FlagFile,
                    restart: cmd(&["systemctl", "restart", "kubelet"]),
                }
            }
            Profile::K3s | Profile::Rke2 => {
                let (etc, server, agent) = if profile == Profile::K3s {
                    ("/etc/rancher/k3s", "k3s", "k3s-agent")
                } else {
                    ("/etc/rancher/rke2", "rke2-server", "rke2-agent")
                };
                let files = k3s_config_files(fs, etc);
                let setting = |key: &str, default: &str| {
                    k3s_config_value(fs, etc, key).map_or_else(|| default.to_owned(), |(v, _)| v)
                };
                let unit = if unit_exists(fs, &format!("{agent}.service"))
                    && !unit_exists(fs, &format!("{server}.service"))
                {
                    agent
                } else {
                    server
                };
                Layout {
                    profile,
                    bin_dir: setting(
                        flags::BIN_DIR_FLAG,
                        "/var/lib/rancher/credentialprovider/bin",
                    ),
                    config_path: setting(
                        flags::CONFIG_FLAG,
                        "/var/lib/rancher/credentialprovider/config.yaml",
                    ),
                    flag_sources: files
                        .into_iter()
                        .map(|path| FlagSource {
                            path,
                            format: FlagSourceFormat::K3sYaml,
                        })
                        .collect(),
                    writable_flags: None,
                    flags_implicit: true,
                    kubelet_config: None,
                    gate: GateTarget::K3sDropIn(join(&join(etc, "config.yaml.d"), K3S_DROP_IN)),
                    restart: cmd(&["systemctl", "restart", unit]),
                }
            }
            Profile::Eks => Layout {
                profile,
                bin_dir: "/etc/eks/image-credential-provider".into(),
                config_path: "/etc/eks/image-credential-provider/config.json".into(),
                flag_sources: Vec::new(),
                writable_flags: None,
                flags_implicit: true,
                kubelet_config: Some("/etc/kubernetes/kubelet/config.json".into()),
                gate: GateTarget::KubeletConfigDropIn(format!(
                    "/etc/kubernetes/kubelet/config.json.d/{KUBELET_DROP_IN}"
                )),
                restart: cmd(&["systemctl", "restart", "kubelet"]),
            },
            Profile::Aks => Layout {
                profile,
                bin_dir: "/var/lib/kubelet/credential-provider".into(),
                config_path: "/var/lib/kubelet/credential-provider-config.yaml".into(),
                flag_sources: vec![env("/etc/default/kubelet", "KUBELET_FLAGS")],
                writable_flags: Some(0),
                flags_implicit: false,
                kubelet_config: None,
                gate: GateTarget::FlagFile,
                restart: cmd(&["systemctl", "restart", "kubelet"]),
            },
            Profile::Microk8s => Layout {
                profile,
                bin_dir: "/var/snap/microk8s/common/credentialprovider".into(),
                config_path: "/var/snap/microk8s/common/credentialprovider/config.yaml".into(),
                flag_sources: vec![FlagSource {
                    path: "/var/snap/microk8s/current/args/kubelet".into(),
                    format: FlagSourceFormat::Flags(FlagFileFormat::Lines),
                }],
                writable_flags: Some(0),
                flags_implicit: false,
                kubelet_config: None,
                gate: GateTarget::FlagFile,
                restart: cmd(&["snap", "restart", "microk8s.daemon-kubelite"]),
            },
            Profile::Generic => Layout {
                profile,
                bin_dir: "/usr/local/lib/kubelet/credential-providers".into(),
                config_path: "/etc/kubernetes/credential-providers/config.yaml".into(),
                flag_sources: Vec::new(),
                writable_flags: None,
                flags_implicit: false,
                kubelet_config: None,
                gate: GateTarget::Print,
                restart: cmd(&["systemctl", "restart", "kubelet"]),
            },
            Profile::Talos => Layout {
                profile,
                bin_dir: "/usr/local/lib/kubelet/credentialproviders".into(),
                config_path: "/etc/kubernetes/kubelet-credentialproviderconfig.yaml".into(),
                flag_sources: Vec::new(),
                writable_flags: None,
                flags_implicit: true,
                kubelet_config: None,
                gate: GateTarget::Print,
                restart: cmd(&["talosctl", "apply-config"]),
            },
        }
    }

    /// All flags from every source, in kubelet order.
    pub fn all_flags(&self, fs: &dyn NodeFiles) -> Vec<String> {
        self.flag_sources.iter().flat_map(|s| s.read(fs)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;

    #[test]
    fn detects_each_distribution() {
        let cases: Vec<(MemFs, Result<Profile, DetectError>)> = vec![
            (
                MemFs::new().file("/etc/os-release", "NAME=Talos\nID=talos\n"),
                Ok(Profile::Talos),
            ),
            (
                MemFs::new().file("/etc/os-release", "ID=bottlerocket\n"),
                Err(DetectError::Bottlerocket),
            ),
            (
                MemFs::new().file("/etc/os-release", "ID=\"rhcos\"\n"),
                Err(DetectError::OpenShift),
            ),
            (
                MemFs::new().file("/var/snap/microk8s/current/args/kubelet", ""),
                Ok(Profile::Microk8s),
            ),
            (MemFs::new().dir("/etc/rancher/rke2"), Ok(Profile::Rke2)),
            (MemFs::new().dir("/etc/rancher/k3s"), Ok(Profile::K3s)),
            (
                MemFs::new().dir("/etc/eks/image-credential-provider"),
                Ok(Profile::Eks),
            ),
            (
                MemFs::new().file("/etc/default/kubelet", "KUBELET_FLAGS=--v=2\n"),
                Ok(Profile::Aks),
            ),
            (MemFs::new().dir("/kind"), Ok(Profile::Kind)),
            (
                MemFs::new().file("/var/lib/kubelet/kubeadm-flags.env", ""),
                Ok(Profile::Kubeadm),
            ),
            (MemFs::new(), Err(DetectError::Unknown)),
        ];
        for (fs, want) in cases {
            assert_eq!(detect(&fs), want);
        }
    }

    #[test]
    fn kubeadm_prefers_sysconfig_on_rpm_nodes() {
        let deb = MemFs::new().dir("/etc/default");
        assert_eq!(
            Layout::for_profile(Profile::Kubeadm, &deb).flag_sources[1].path,
            "/etc/default/kubelet"
        );
        let rpm = MemFs::new().dir("/etc/sysconfig");
        assert_eq!(
            Layout::for_profile(Profile::Kubeadm, &rpm).flag_sources[1].path,
            "/etc/sysconfig/kubelet"
        );
    }

    #[test]
    fn k3s_paths_follow_its_settings() {
        let fs = MemFs::new()
            .file(
                "/etc/rancher/k3s/config.yaml",
                "image-credential-provider-config: /a.yaml\n",
            )
            .file(
                "/etc/rancher/k3s/config.yaml.d/50-x.yaml",
                "image-credential-provider-config: /b.yaml\n",
            )
            .file("/etc/systemd/system/k3s-agent.service", "");
        let l = Layout::for_profile(Profile::K3s, &fs);
        assert_eq!(l.config_path, "/b.yaml");
        assert_eq!(l.bin_dir, "/var/lib/rancher/credentialprovider/bin");
        assert_eq!(l.restart.command, vec!["systemctl", "restart", "k3s-agent"]);
    }
}
