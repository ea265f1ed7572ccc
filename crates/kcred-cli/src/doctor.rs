//! `kcred doctor`: check this node's kubelet, credential-provider config, plugins and token
//! mode, including the node-audience RBAC against the API server (see
//! docs/node-install.md#kcred-doctor). Exit 0 when no check fails, 1 otherwise,
//! 2 on bad flags.

use std::path::{Path, PathBuf};

use kcred_node::doctor::{doctor, render_text, DoctorOptions, Report};
use kcred_node::fs::RootFs;
use kcred_node::kubelet::KubeletVersion;
use kcred_node::process::{classify, find_kubelets, read_cmdline, version_of, KubeletProcess};
use kcred_node::profile::Profile;
use kcred_node::rbac_check::{ApiOptions, ServiceAccount};

use crate::output::{Exit, OutputFormat};

/// Arguments of `kcred doctor`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The node's root directory. Running kubelets are looked up in /proc only when it is
    /// / or /host (the DaemonSet's mount with hostPID), or with --kubelet-pid.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// auto, kubeadm, k3s, rke2, eks, aks, microk8s, kind, generic or talos.
    #[arg(long, default_value = "auto")]
    pub profile: String,
    /// The kubelet's version (default: asked from the running kubelet).
    #[arg(long, value_name = "V", env = "KCRED_KUBELET_VERSION", value_parser = kcred_kubelet::parse_kubelet_version_arg)]
    pub kubelet_version: Option<KubeletVersion>,
    /// Check this process as the kubelet instead of searching /proc.
    #[arg(long, value_name = "PID")]
    pub kubelet_pid: Option<u32>,
    /// Token mode: ask the API server with this kubeconfig (a file on this machine) instead
    /// of the kubelet's own (found under --root).
    #[arg(long, value_name = "FILE", conflicts_with = "no_api")]
    pub kubeconfig: Option<PathBuf>,
    /// Token mode: do not ask the API server whether the node-audience RBAC is in place.
    #[arg(long)]
    pub no_api: bool,
    /// Token mode: ask for this service account (repeatable) instead of "every service
    /// account", which only a ClusterRoleBinding without resourceNames grants.
    #[arg(
        long = "service-account",
        value_name = "NAMESPACE/NAME",
        conflicts_with = "no_api"
    )]
    pub service_accounts: Vec<ServiceAccount>,
    /// Token mode: the node's name (default: the kubelet's --hostname-override, or the
    /// node's hostname); used when the kubeconfig is not the node's own identity.
    #[arg(long, value_name = "NAME", conflicts_with = "no_api", value_parser = parse_node_name)]
    pub node_name: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// A node name is a DNS-1123 subdomain.
fn parse_node_name(s: &str) -> Result<String, String> {
    let problems = kcred_config::qualified_name::is_dns1123_subdomain(s);
    if problems.is_empty() {
        Ok(s.to_owned())
    } else {
        Err(problems.join("; "))
    }
}

/// Finds the kubelet process: the given PID, or a search of /proc for the host's root.
pub(crate) fn find_process(
    root: &Path,
    pid: Option<u32>,
) -> anyhow::Result<(Option<KubeletProcess>, Vec<u32>)> {
    let proc_dir = Path::new("/proc");
    if let Some(pid) = pid {
        let argv = read_cmdline(proc_dir, pid).ok_or_else(|| {
            anyhow::anyhow!("--kubelet-pid {pid}: no such process (or no command line)")
        })?;
        let kind = classify(&argv).ok_or_else(|| {
            anyhow::anyhow!(
                "--kubelet-pid {pid}: {:?} is not a kubelet, k3s or kubelite process",
                argv[0]
            )
        })?;
        return Ok((
            Some(KubeletProcess {
                pid,
                argv,
                kind,
                exe: proc_dir.join(pid.to_string()).join("exe"),
            }),
            Vec::new(),
        ));
    }
    if root != Path::new("/") && root != Path::new("/host") {
        return Ok((None, Vec::new()));
    }
    let mut found = find_kubelets(proc_dir);
    if found.is_empty() {
        return Ok((None, Vec::new()));
    }
    let first = found.remove(0);
    Ok((Some(first), found.into_iter().map(|p| p.pid).collect()))
}

/// Runs every check; shared with `kcred install --restart-kubelet` (which passes `api: None`:
/// whether to restart the kubelet does not hang on the API server).
pub(crate) fn diagnose(
    root: &Path,
    profile: Option<Profile>,
    version: Option<KubeletVersion>,
    pid: Option<u32>,
    api: Option<ApiOptions>,
) -> anyhow::Result<Report> {
    let (process, others) = find_process(root, pid)?;
    let version = match version {
        Some(v) => Some((v, "--kubelet-version".to_owned())),
        None => process
            .as_ref()
            .and_then(|p| version_of(&p.exe).map(|v| (v, format!("`{} --version`", p.argv[0])))),
    };
    let opts = DoctorOptions {
        profile,
        version,
        process,
        other_processes: others,
        run_plugins: true,
        api,
    };
    Ok(doctor(&RootFs::new(root), &opts))
}

/// Runs `kcred doctor`.
pub(crate) fn run(args: &Args) -> anyhow::Result<Exit> {
    let profile = crate::install::parse_profile(&args.profile)?;
    let api = (!args.no_api).then(|| ApiOptions {
        kubeconfig: args.kubeconfig.clone(),
        service_accounts: args.service_accounts.clone(),
        node_name: args.node_name.clone(),
        ..ApiOptions::default()
    });
    let report = diagnose(
        &args.root,
        profile,
        args.kubelet_version,
        args.kubelet_pid,
        api,
    )?;
    match args.output {
        OutputFormat::Text => out!("{}", render_text(&report)),
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.ok() { Exit::Yes } else { Exit::No })
}
