//! Doctor's token-mode RBAC check against the API server (docs/node-install.md#kcred-doctor):
//! may this node request service-account tokens for each provider's audience?
//!
//! 1. The kubeconfig: `--kubeconfig FILE` (a path on the machine running kcred; files it
//!    names are relative to it), else the kubelet's own: its `--kubeconfig` flag (running
//!    process or the profile's flag files), else the profile's default (kubeadm/kind
//!    `/etc/kubernetes/kubelet.conf`, k3s/RKE2 `<data-dir>/agent/kubelet.kubeconfig`, EKS and
//!    AKS `/var/lib/kubelet/kubeconfig`, MicroK8s `credentials/kubelet.config`, Talos
//!    `/etc/kubernetes/kubeconfig-kubelet`), read under `--root` with the files it names.
//! 2. Who is asking: a `SelfSubjectReview`. A node identity (`system:node:NAME` in
//!    `system:nodes`) asks for itself with `SelfSubjectAccessReview`, which answers for exactly
//!    this node through every authorizer (Node, RBAC, webhooks). Any other identity asks with
//!    a `SubjectAccessReview` for user `system:node:<node name>`, groups `system:nodes` and
//!    `system:authenticated` (what the kubelet's client certificate authenticates as), and
//!    must be allowed to create subjectaccessreviews. Without the SelfSubjectReview API (404),
//!    the kubelet's own kubeconfig is taken to be the node's identity and an explicit one not.
//! 3. What is asked (kubernetes/kubernetes#130485): verb
//!    `request-serviceaccounts-token-audience`, group `""`, resource = the audience, and by
//!    default name `""` and namespace `""`: "any service account", which only a
//!    ClusterRoleBinding to a rule without `resourceNames` allows, as the printed RBAC does.
//!    `--service-account NAMESPACE/NAME` asks for those service accounts instead, which is
//!    also what RoleBindings and `resourceNames` grants answer.
//!
//! Node name: `--node-name`, else the kubelet's `--hostname-override`, else k3s/RKE2's
//! `node-name`, else the node's hostname (`/etc/hostname`, or the kernel's for `--root /`),
//! lower-cased as the kubelet does.

use std::path::PathBuf;
use std::time::Duration;

use crate::access_review::{
    ApiClient, ApiError, ResourceAttributes, NODES_GROUP, NODE_USER_PREFIX,
};
use crate::doctor::{check, Check, Status};
use crate::flags;
use crate::fs::{NodeFiles, RootFs};
use crate::kubeconfig::{self, KubeconfigError};
use crate::profile::{k3s_config_value, Profile};

/// How doctor asks the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiOptions {
    /// `--kubeconfig`: a kubeconfig on this machine (not under the root). `None`: the
    /// kubelet's own, under the root.
    pub kubeconfig: Option<PathBuf>,
    /// `--service-account NAMESPACE/NAME`; empty: ask for every service account.
    pub service_accounts: Vec<ServiceAccount>,
    /// `--node-name`; `None`: found from the kubelet's flags or the hostname.
    pub node_name: Option<String>,
    /// The whole time allowed for each call.
    pub timeout: Duration,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            kubeconfig: None,
            service_accounts: Vec::new(),
            node_name: None,
            timeout: Duration::from_secs(15),
        }
    }
}

/// A service account (`NAMESPACE/NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl std::str::FromStr for ServiceAccount {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ns, name) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: want NAMESPACE/NAME"))?;
        // A namespace is a DNS-1123 label (k8s.io/apimachinery validation.IsDNS1123Label).
        let label = !ns.is_empty()
            && ns.len() <= 63
            && ns
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !ns.starts_with('-')
            && !ns.ends_with('-');
        if !label {
            return Err(format!(
                "{s:?}: namespace {ns:?} is not a DNS-1123 label (lower-case letters, digits and '-', at most 63)"
            ));
        }
        let sub = kcred_config::qualified_name::is_dns1123_subdomain(name);
        if !sub.is_empty() {
            return Err(format!("{s:?}: name {name:?}: {}", sub.join("; ")));
        }
        Ok(ServiceAccount {
            namespace: ns.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// Where the kubelet's kubeconfig is on the node, and how that was found.
pub fn kubelet_kubeconfig(
    fs: &dyn NodeFiles,
    profile: Option<Profile>,
    kubelet_flags: &[String],
) -> Option<(String, String)> {
    if let Some(v) = flags::last_value(kubelet_flags, "kubeconfig").filter(|v| !v.is_empty()) {
        // MicroK8s' args file says ${SNAP_DATA} (canonical/microk8s args/kubelet).
        let v = v.replace("${SNAP_DATA}", "/var/snap/microk8s/current");
        return Some((v, "the kubelet's --kubeconfig".into()));
    }
    let default = match profile? {
        Profile::Kubeadm | Profile::Kind => "/etc/kubernetes/kubelet.conf".to_owned(),
        Profile::K3s | Profile::Rke2 => {
            let (etc, data) = if profile == Some(Profile::K3s) {
                ("/etc/rancher/k3s", "/var/lib/rancher/k3s")
            } else {
                ("/etc/rancher/rke2", "/var/lib/rancher/rke2")
            };
            let dir =
                k3s_config_value(fs, etc, "data-dir").map_or_else(|| data.to_owned(), |(d, _)| d);
            format!("{}/agent/kubelet.kubeconfig", dir.trim_end_matches('/'))
        }
        Profile::Eks | Profile::Aks => "/var/lib/kubelet/kubeconfig".to_owned(),
        Profile::Microk8s => "/var/snap/microk8s/current/credentials/kubelet.config".to_owned(),
        Profile::Talos => "/etc/kubernetes/kubeconfig-kubelet".to_owned(),
        Profile::Generic => return None,
    };
    Some((
        default,
        format!("the {} default", profile.map(|p| p.name()).unwrap_or("?")),
    ))
}

/// The node's name as the kubelet registers it, and where it came from.
pub fn node_name(
    root: &RootFs,
    profile: Option<Profile>,
    kubelet_flags: &[String],
) -> Option<(String, String)> {
    if let Some(v) = flags::last_value(kubelet_flags, "hostname-override").filter(|v| !v.is_empty())
    {
        return Some((v.trim().to_lowercase(), "--hostname-override".into()));
    }
    if let Some(p @ (Profile::K3s | Profile::Rke2)) = profile {
        let etc = if p == Profile::K3s {
            "/etc/rancher/k3s"
        } else {
            "/etc/rancher/rke2"
        };
        if let Some((n, f)) = k3s_config_value(root, etc, "node-name") {
            return Some((n.trim().to_lowercase(), format!("node-name in {f}")));
        }
    }
    if let Ok(Some(b)) = root.read("/etc/hostname") {
        let h = String::from_utf8_lossy(&b);
        if let Some(l) = h
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
        {
            return Some((l.to_lowercase(), "/etc/hostname".into()));
        }
    }
    if root.root() == std::path::Path::new("/") {
        if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            let h = h.trim();
            if !h.is_empty() {
                return Some((h.to_lowercase(), "the kernel's hostname".into()));
            }
        }
    }
    None
}

fn api_warning(e: &ApiError, server: &str, what: &str) -> Check {
    let hint = match e.status() {
        Some(401) => "the API server does not accept the kubeconfig's credentials (expired client certificate or token?)",
        Some(403) if what == "SubjectAccessReview" => "the kubeconfig's user may not create subjectaccessreviews: use the node's own kubeconfig (SelfSubjectAccessReview needs no extra rights) or one allowed to",
        Some(403) => "the kubeconfig's user may not create this review",
        Some(_) => "the API server refused the review",
        None => "the API server did not answer",
    };
    check(
        "token.api",
        Status::Warn,
        server,
        format!("RBAC not checked: {what}: {e}"),
        Some(format!(
            "{hint}; or check by hand with kubectl auth can-i (see docs/node-install.md#kcred-doctor)"
        )),
    )
}

enum Asker {
    /// `SelfSubjectAccessReview` as this identity.
    Myself(String),
    /// `SubjectAccessReview` for this node.
    Node(String),
}

/// Checks that the node may request tokens for each of `audiences`; `kubelet_flags` are the
/// kubelet's effective flags (for `--kubeconfig` and `--hostname-override`).
pub fn check_rbac(
    root: &RootFs,
    profile: Option<Profile>,
    kubelet_flags: &[String],
    opts: &ApiOptions,
    audiences: &[String],
) -> Vec<Check> {
    let mut checks = Vec::new();
    let this_machine = RootFs::new("/");
    let (fs, file, source, explicit): (&RootFs, String, String, bool) = match &opts.kubeconfig {
        Some(p) => {
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            (
                &this_machine,
                abs.to_string_lossy().into_owned(),
                "--kubeconfig".into(),
                true,
            )
        }
        None => match kubelet_kubeconfig(root, profile, kubelet_flags) {
            Some((f, s)) => (root, f, s, false),
            None => {
                checks.push(check(
                    "token.kubeconfig",
                    Status::Warn,
                    "--kubeconfig",
                    "RBAC not checked: the kubelet's kubeconfig is unknown (no --kubeconfig flag, and the profile has no default)",
                    Some("pass --kubeconfig FILE (or --no-api)".into()),
                ));
                return checks;
            }
        },
    };
    let creds = match kubeconfig::load(fs, &file, None) {
        Ok(c) => c,
        Err(e) => {
            let status = if explicit && !e.is_unusable() {
                Status::Fail
            } else {
                Status::Warn
            };
            let fix = match &e {
                KubeconfigError::Missing { .. } if !explicit => {
                    "pass --kubeconfig FILE with the node's (or an admin's) kubeconfig, or --no-api"
                }
                KubeconfigError::Unusable { .. } => {
                    "pass --kubeconfig FILE with client certificates or a token (an admin's kubeconfig asks with a SubjectAccessReview), or check by hand with kubectl auth can-i"
                }
                _ => "fix the kubeconfig (or pass another with --kubeconfig FILE)",
            };
            checks.push(check(
                "token.kubeconfig",
                status,
                file.clone(),
                format!("RBAC not checked: {e}"),
                Some(fix.into()),
            ));
            return checks;
        }
    };
    checks.push(check(
        "token.kubeconfig",
        Status::Pass,
        file.clone(),
        format!(
            "{} ({source}): server {}, user {:?} by {}",
            file,
            creds.server,
            creds.user,
            creds.auth.describe()
        ),
        None,
    ));
    let client = match ApiClient::new(&creds, opts.timeout) {
        Ok(c) => c,
        Err(e) => {
            checks.push(check(
                "token.kubeconfig",
                if explicit { Status::Fail } else { Status::Warn },
                file,
                format!("RBAC not checked: {e}"),
                Some(
                    "fix the kubeconfig's certificates (or pass another with --kubeconfig FILE)"
                        .into(),
                ),
            ));
            return checks;
        }
    };
    let server = client.server().to_owned();
    let node = match &opts.node_name {
        Some(n) => Some((n.to_lowercase(), "--node-name".to_owned())),
        None => node_name(root, profile, kubelet_flags),
    };
    let sar_for_node = |checks: &mut Vec<Check>, why: String| -> Option<Asker> {
        match &node {
            Some((n, src)) => {
                checks.push(check(
                    "token.identity",
                    Status::Pass,
                    server.clone(),
                    format!("{why}: asking with SubjectAccessReview for {NODE_USER_PREFIX}{n} (node name from {src})"),
                    None,
                ));
                Some(Asker::Node(n.clone()))
            }
            None => {
                checks.push(check(
                    "token.identity",
                    Status::Warn,
                    server.clone(),
                    format!("{why}, and the node's name is unknown: RBAC not checked"),
                    Some("pass --node-name NAME".into()),
                ));
                None
            }
        }
    };
    let asker = match client.self_subject_review() {
        Ok(u) => match u.node_name() {
            Some(n) => {
                let mut msg = format!("the API server knows this kubeconfig as {}: asking with SelfSubjectAccessReview", u.username);
                if let Some((expected, src)) = &node {
                    if expected != n && opts.kubeconfig.is_none() {
                        msg.push_str(&format!(" (the node's name from {src} is {expected})"));
                    }
                }
                checks.push(check(
                    "token.identity",
                    Status::Pass,
                    server.clone(),
                    msg,
                    None,
                ));
                Some(Asker::Myself(u.username))
            }
            None => sar_for_node(
                &mut checks,
                format!(
                    "the API server knows this kubeconfig as {:?}, not a node",
                    u.username
                ),
            ),
        },
        Err(e) if e.status() == Some(404) => {
            if explicit {
                sar_for_node(&mut checks, "no SelfSubjectReview API (kube-apiserver before 1.28?); taking --kubeconfig for another identity".into())
            } else {
                checks.push(check(
                    "token.identity",
                    Status::Pass,
                    server.clone(),
                    "no SelfSubjectReview API (kube-apiserver before 1.28?); taking the kubelet's kubeconfig as the node's identity: asking with SelfSubjectAccessReview",
                    None,
                ));
                Some(Asker::Myself(creds.user.clone()))
            }
        }
        Err(e) => {
            checks.push(api_warning(&e, &server, "SelfSubjectReview"));
            return checks;
        }
    };
    let Some(asker) = asker else {
        return checks;
    };
    let who = match &asker {
        Asker::Myself(u) => u.clone(),
        Asker::Node(n) => format!("{NODE_USER_PREFIX}{n}"),
    };
    let everyone = opts.service_accounts.is_empty();
    let questions: Vec<(String, String)> = if everyone {
        vec![(String::new(), String::new())]
    } else {
        opts.service_accounts
            .iter()
            .map(|s| (s.namespace.clone(), s.name.clone()))
            .collect()
    };
    for aud in audiences {
        for (ns, name) in &questions {
            let attrs = ResourceAttributes::token_audience(aud, ns, name);
            let (answer, what) = match &asker {
                Asker::Myself(_) => (
                    client.self_subject_access_review(&attrs),
                    "SelfSubjectAccessReview",
                ),
                Asker::Node(n) => (
                    client.subject_access_review(
                        &format!("{NODE_USER_PREFIX}{n}"),
                        &[NODES_GROUP.to_owned(), "system:authenticated".to_owned()],
                        &attrs,
                    ),
                    "SubjectAccessReview",
                ),
            };
            let sa = if everyone {
                "every service account".to_owned()
            } else {
                format!("service account {ns}/{name}")
            };
            let subject = format!("request-serviceaccounts-token-audience on {aud:?}");
            match answer {
                Err(e) => {
                    checks.push(api_warning(&e, &server, what));
                    return checks;
                }
                Ok(d) if d.allowed => {
                    let why = if d.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", d.reason)
                    };
                    checks.push(check(
                        "token.rbac",
                        Status::Pass,
                        subject,
                        format!("{who} may request tokens for audience {aud:?} for {sa}{why}"),
                        None,
                    ));
                }
                Ok(d) => {
                    let mut msg = format!("{who} may not request tokens for audience {aud:?} for {sa}: kube-apiserver 1.33+ (ServiceAccountNodeAudienceRestriction, kubernetes/kubernetes#130017) gives a kubelet tokens only for audiences its pods' volumes name or RBAC grants, so token-mode pulls for this audience fail");
                    if !d.reason.is_empty() {
                        msg.push_str(&format!("; {}", d.reason));
                    }
                    if !d.evaluation_error.is_empty() {
                        msg.push_str(&format!("; evaluation error: {}", d.evaluation_error));
                    }
                    let mut fix = "kubectl apply -f - with the node-audience RBAC printed below (or the DaemonSet installer's manifests)".to_owned();
                    if everyone {
                        fix.push_str("; only the cluster-wide question was asked: grants for specific service accounts (a RoleBinding, or resourceNames) are checked with --service-account NAMESPACE/NAME");
                    }
                    checks.push(check("token.rbac", Status::Fail, subject, msg, Some(fix)));
                }
            }
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;

    #[test]
    fn service_account_parses() {
        let s: ServiceAccount = "team-a/puller".parse().unwrap();
        assert_eq!(
            (s.namespace.as_str(), s.name.as_str()),
            ("team-a", "puller")
        );
        assert!("puller".parse::<ServiceAccount>().is_err());
        assert!("Team/x".parse::<ServiceAccount>().is_err());
        assert!("a/".parse::<ServiceAccount>().is_err());
    }

    #[test]
    fn kubeconfig_defaults_per_profile() {
        let fs = MemFs::new();
        let flags = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            kubelet_kubeconfig(&fs, Some(Profile::Kubeadm), &[])
                .unwrap()
                .0,
            "/etc/kubernetes/kubelet.conf"
        );
        assert_eq!(
            kubelet_kubeconfig(&fs, Some(Profile::K3s), &[]).unwrap().0,
            "/var/lib/rancher/k3s/agent/kubelet.kubeconfig"
        );
        assert_eq!(
            kubelet_kubeconfig(&fs, Some(Profile::Rke2), &[]).unwrap().0,
            "/var/lib/rancher/rke2/agent/kubelet.kubeconfig"
        );
        assert_eq!(kubelet_kubeconfig(&fs, Some(Profile::Generic), &[]), None);
        assert_eq!(
            kubelet_kubeconfig(
                &fs,
                Some(Profile::Microk8s),
                &flags(&["--kubeconfig=${SNAP_DATA}/credentials/kubelet.config"])
            )
            .unwrap(),
            (
                "/var/snap/microk8s/current/credentials/kubelet.config".into(),
                "the kubelet's --kubeconfig".into()
            )
        );
        let k3s = MemFs::new().file("/etc/rancher/k3s/config.yaml", "data-dir: /data/k3s\n");
        assert_eq!(
            kubelet_kubeconfig(&k3s, Some(Profile::K3s), &[]).unwrap().0,
            "/data/k3s/agent/kubelet.kubeconfig"
        );
    }

    #[test]
    fn node_name_sources() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc/rancher/k3s")).unwrap();
        std::fs::write(dir.path().join("etc/hostname"), "Worker-1\n").unwrap();
        let root = RootFs::new(dir.path());
        assert_eq!(
            node_name(&root, Some(Profile::Kubeadm), &[]).unwrap().0,
            "worker-1"
        );
        let f = vec!["--hostname-override=ip-10-0-0-1.ec2.internal".to_owned()];
        assert_eq!(
            node_name(&root, Some(Profile::Kubeadm), &f).unwrap().0,
            "ip-10-0-0-1.ec2.internal"
        );
        std::fs::write(
            dir.path().join("etc/rancher/k3s/config.yaml"),
            "node-name: edge-7\n",
        )
        .unwrap();
        assert_eq!(
            node_name(&root, Some(Profile::K3s), &[]).unwrap(),
            (
                "edge-7".into(),
                "node-name in /etc/rancher/k3s/config.yaml".into()
            )
        );
    }
}
