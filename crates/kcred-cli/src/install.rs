//! `kcred install` and `kcred uninstall`: put kcred's providers on a node the way its
//! distribution expects (see docs/node-install.md), and take them off again.
//!
//! Exit status: 0 done and no kubelet restart needed (including "nothing to change"),
//! 3 done and the kubelet must restart ([`Exit::Restart`]), 1 refused (nothing written),
//! 2 bad flags or an IO failure.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use kcred_node::apply::{self, load_state};
use kcred_node::fs::RootFs;
use kcred_node::kubelet::KubeletVersion;
use kcred_node::manifests::{self, ManifestOptions};
use kcred_node::plan::{plan_install, InstallRequest};
use kcred_node::preset::{is_kcred_plugin, Preset};
use kcred_node::profile::Profile;

use crate::output::Exit;

/// The largest plugin binary or fragment read.
const MAX_INPUT: u64 = 512 << 20;

/// Arguments of `kcred install`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The node's root directory (the DaemonSet mounts the host's / at /host).
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// auto, kubeadm, k3s, rke2, eks, aks, microk8s, kind, generic or talos.
    #[arg(long, default_value = "auto")]
    pub profile: String,
    /// Enable a provider kcred ships: ecr, acr, gcp, static, helper (repeatable).
    #[arg(long, value_name = "PRESET")]
    pub enable: Vec<String>,
    /// For --enable static: the docker config JSON file (node path) it serves.
    #[arg(long, value_name = "FILE")]
    pub static_file: Option<String>,
    /// For --enable helper: the docker credential helper (`pass` runs docker-credential-pass).
    #[arg(long, value_name = "NAME")]
    pub helper: Option<String>,
    /// For --enable static/helper: a matchImages pattern (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub match_image: Vec<String>,
    /// A CredentialProviderConfig file whose providers are added (repeatable).
    #[arg(long, value_name = "FILE")]
    pub provider_config: Vec<PathBuf>,
    /// Replace the configured provider of this name (and its executable) (repeatable).
    #[arg(long, value_name = "NAME")]
    pub replace: Vec<String>,
    /// The node's kubelet version (default: asked from the running kubelet).
    #[arg(long, value_name = "V", env = "KCRED_KUBELET_VERSION", value_parser = kcred_kubelet::parse_kubelet_version_arg)]
    pub kubelet_version: Option<KubeletVersion>,
    /// Where kcred's plugin binaries are (default: this kcred's directory, then
    /// ../libexec/kubernetes/kubelet-plugins/credential-provider/exec next to it, as in the
    /// packages and the OCI image).
    #[arg(long, value_name = "DIR")]
    pub bin_dir_source: Option<PathBuf>,
    /// Print a unified diff of every file instead of writing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the DaemonSet installer manifests for these options instead of installing.
    #[arg(long)]
    pub print_manifests: bool,
    /// After a change that needs it, restart the kubelet if `kcred doctor` passes (in PID 1's
    /// mount namespace when --root is not /; the DaemonSet uses this).
    #[arg(long)]
    pub restart_kubelet: bool,
    /// After installing, annotate this Node with the installed kcred version, profile and
    /// providers, using the pod's service account (the DaemonSet passes its node name).
    #[arg(long, value_name = "NODE")]
    pub(crate) annotate_node: Option<String>,
    /// Where the service-account token and ca.crt for --annotate-node are.
    #[arg(long, value_name = "DIR", default_value = kcred_node::node_api::SERVICE_ACCOUNT_DIR)]
    pub(crate) service_account_dir: PathBuf,
    /// The installer image in --print-manifests output.
    #[arg(long, value_name = "IMAGE", default_value = manifests::DEFAULT_IMAGE)]
    pub image: String,
}

/// Arguments of `kcred uninstall`.
#[derive(Debug, clap::Args)]
pub(crate) struct UninstallArgs {
    /// The node's root directory.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// Restore the originals even over files changed since kcred wrote them.
    #[arg(long)]
    pub force: bool,
    /// Say what would be restored and removed, without doing it.
    #[arg(long)]
    pub dry_run: bool,
}

fn read_capped(path: &Path) -> anyhow::Result<Vec<u8>> {
    let f = kcred_config::load::open_nonblocking(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let meta = f
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(
        meta.is_file(),
        "reading {}: not a regular file",
        path.display()
    );
    anyhow::ensure!(
        meta.len() <= MAX_INPUT,
        "reading {}: larger than {MAX_INPUT} bytes",
        path.display()
    );
    let mut out = Vec::new();
    f.take(MAX_INPUT)
        .read_to_end(&mut out)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(out)
}

/// The kubelet version to validate against, and where it came from.
pub(crate) fn kubelet_version(
    given: Option<KubeletVersion>,
    root: &Path,
) -> (KubeletVersion, String) {
    if let Some(v) = given {
        return (v, "--kubelet-version".into());
    }
    if root == Path::new("/") || root == Path::new("/host") {
        for p in kcred_node::process::find_kubelets(Path::new("/proc")) {
            if let Some(v) = kcred_node::process::version_of(&p.exe) {
                return (v, format!("`{} --version` of pid {}", p.argv[0], p.pid));
            }
        }
    }
    (
        KubeletVersion::NEWEST,
        format!(
            "unknown (no running kubelet answered --version): assuming {}; pass --kubelet-version",
            KubeletVersion::NEWEST
        ),
    )
}

pub(crate) fn parse_profile(s: &str) -> anyhow::Result<Option<Profile>> {
    if s == "auto" {
        return Ok(None);
    }
    Profile::parse(s).map(Some).ok_or_else(|| {
        anyhow::anyhow!("invalid --profile {s:?}: want auto, kubeadm, k3s, rke2, eks, aks, microk8s, kind, generic or talos")
    })
}

/// Runs `kcred install`.
pub(crate) fn run(args: &Args) -> anyhow::Result<Exit> {
    let profile = parse_profile(&args.profile)?;
    let mut presets = Vec::new();
    for name in &args.enable {
        presets.push(Preset::from_name(
            name,
            args.static_file.as_deref(),
            args.helper.as_deref(),
            &args.match_image,
        )?);
    }
    let mut fragments = Vec::new();
    for f in &args.provider_config {
        fragments.push((f.display().to_string(), read_capped(f)?));
    }

    if args.print_manifests {
        let opts = ManifestOptions {
            image: args.image.clone(),
            profile,
            install_args: install_args_for_manifest(args),
            presets: presets.clone(),
            fragments: fragments.clone(),
        };
        let out = manifests::render(&opts)?;
        out!("{out}");
        return Ok(Exit::Yes);
    }

    let root = RootFs::new(&args.root);
    let state = load_state(&root)?;
    let (version, version_source) = kubelet_version(args.kubelet_version, &args.root);

    // The binaries the request may install: --bin-dir-source, else kcred's own directory,
    // then the package/image plugin directory next to it (../libexec/kubernetes/…/exec).
    let source_dirs: Vec<PathBuf> = match &args.bin_dir_source {
        Some(d) => vec![d.clone()],
        None => {
            let own = std::env::current_exe()
                .context("finding kcred's own directory (pass --bin-dir-source)")?
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let packaged =
                own.join("../libexec/kubernetes/kubelet-plugins/credential-provider/exec");
            vec![own, packaged]
        }
    };
    let mut wanted: Vec<String> = presets
        .iter()
        .map(|p| p.provider_name().to_owned())
        .collect();
    for (_, bytes) in &fragments {
        if let Ok(c) = kcred_api::config::decode_config(bytes) {
            wanted.extend(c.providers.into_iter().map(|p| p.name));
        }
    }
    let mut binaries = BTreeMap::new();
    for name in wanted {
        match source_dirs
            .iter()
            .map(|d| d.join(&name))
            .find(|p| p.is_file())
        {
            Some(path) => {
                binaries.insert(name, read_capped(&path)?);
            }
            None if is_kcred_plugin(&name) && profile != Some(Profile::Talos) => {
                let dirs: Vec<String> = source_dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect();
                errln!("note: {name} not found in {}", dirs.join(" or "));
            }
            None => {}
        }
    }

    let req = InstallRequest {
        profile,
        presets,
        fragments,
        replace: args.replace.clone(),
        kubelet_version: Some(version),
        binaries,
        owned_providers: state
            .as_ref()
            .map(|s| s.owned_providers.clone())
            .unwrap_or_default(),
        owned_files: state.as_ref().map(|s| s.owned_files()).unwrap_or_default(),
    };
    let plan = match plan_install(&root, &req) {
        Ok(p) => p,
        Err(e) => {
            errln!("error: {e}");
            errln!("nothing was written");
            return Ok(Exit::No);
        }
    };
    outln!(
        "profile: {}{}",
        plan.profile,
        if profile.is_none() { " (detected)" } else { "" }
    );
    outln!("kubelet: {} ({version_source})", plan.version);
    if let Some(patch) = &plan.talos_patch {
        outln!("Talos has a read-only root: nothing written; apply this machine-config patch:\n");
        out!("{patch}");
        return Ok(Exit::Yes);
    }
    outln!("config: {}", plan.config_path);
    outln!("plugins: {}", plan.bin_dir);
    let names: Vec<String> = plan
        .providers
        .iter()
        .map(|p| {
            if plan.owned_providers.contains(&p.name) {
                format!("{} (kcred)", p.name)
            } else {
                p.name.clone()
            }
        })
        .collect();
    outln!("providers: {}", names.join(", "));
    for note in &plan.notes {
        outln!("note: {note}");
    }
    if plan.changes.is_empty() && !args.dry_run {
        outln!("nothing to change");
        annotate(args, &plan)?;
        return Ok(Exit::Yes);
    }
    if plan.changes.is_empty() {
        outln!("nothing to change");
        return Ok(Exit::Yes);
    }
    if args.dry_run {
        for c in &plan.changes {
            let (before, after, redacted) = c.for_display();
            out!(
                "{}",
                kcred_node::diff::unified(&c.path, before.as_deref(), &after)
            );
            if redacted {
                outln!("(env values of {} are redacted in this diff)", c.path);
            }
        }
        outln!(
            "dry run: {} file(s) would change; kubelet restart would be needed: {}",
            plan.changes.len(),
            if plan.restart_needed() { "yes" } else { "no" }
        );
        return Ok(Exit::Yes);
    }
    let report = apply::apply(&root, &plan)?;
    for (path, backup) in &report.backed_up {
        outln!("backed up: {path} -> {backup}");
    }
    for path in &report.written {
        outln!("wrote: {path}");
    }
    if plan.restart_needed() && args.restart_kubelet {
        let report = crate::doctor::diagnose(
            &args.root,
            Some(plan.profile),
            Some(plan.version),
            None,
            None,
        )?;
        if !report.ok() {
            out!("{}", kcred_node::doctor::render_text(&report));
            errln!("error: kcred doctor fails after the install: not restarting the kubelet (it still runs the old configuration)");
            return Ok(Exit::No);
        }
        let command = &plan.layout.restart.command;
        outln!(
            "kcred doctor passes; restarting the kubelet: {}",
            command.join(" ")
        );
        let status = kcred_node::restart::restart_in_host(&root, command)?;
        anyhow::ensure!(status.success(), "{} failed: {status}", command.join(" "));
        outln!("kubelet restarted");
        annotate(args, &plan)?;
        Ok(Exit::Yes)
    } else if plan.restart_needed() {
        outln!(
            "kubelet restart needed: yes ({})",
            plan.layout.restart.command.join(" ")
        );
        annotate(args, &plan)?;
        Ok(Exit::Restart)
    } else {
        outln!("kubelet restart needed: no");
        annotate(args, &plan)?;
        Ok(Exit::Yes)
    }
}

/// With `--annotate-node`, records the installed version, profile and providers on the
/// Node object (in-cluster credentials).
fn annotate(args: &Args, plan: &kcred_node::plan::Plan) -> anyhow::Result<()> {
    let Some(node) = &args.annotate_node else {
        return Ok(());
    };
    use kcred_node::node_api::{
        InCluster, PROFILE_ANNOTATION, PROVIDERS_ANNOTATION, VERSION_ANNOTATION,
    };
    let api = InCluster::from_env(&args.service_account_dir)?;
    let mut ann = BTreeMap::new();
    ann.insert(
        VERSION_ANNOTATION.to_owned(),
        env!("CARGO_PKG_VERSION").to_owned(),
    );
    ann.insert(
        PROFILE_ANNOTATION.to_owned(),
        plan.profile.name().to_owned(),
    );
    let owned: Vec<&str> = plan.owned_providers.iter().map(String::as_str).collect();
    ann.insert(PROVIDERS_ANNOTATION.to_owned(), owned.join(","));
    api.annotate_node(node, &ann)?;
    outln!(
        "annotated node {node}: {VERSION_ANNOTATION}={}",
        env!("CARGO_PKG_VERSION")
    );
    Ok(())
}

/// The `kcred install` arguments the DaemonSet passes (everything but root/dry-run/image).
fn install_args_for_manifest(args: &Args) -> Vec<String> {
    let mut out = Vec::new();
    if args.profile != "auto" {
        out.push(format!("--profile={}", args.profile));
    }
    for e in &args.enable {
        out.push(format!("--enable={e}"));
    }
    if let Some(f) = &args.static_file {
        out.push(format!("--static-file={f}"));
    }
    if let Some(h) = &args.helper {
        out.push(format!("--helper={h}"));
    }
    for m in &args.match_image {
        out.push(format!("--match-image={m}"));
    }
    for r in &args.replace {
        out.push(format!("--replace={r}"));
    }
    if let Some(v) = &args.kubelet_version {
        out.push(format!("--kubelet-version={v}"));
    }
    out
}

/// Runs `kcred uninstall`.
pub(crate) fn run_uninstall(args: &UninstallArgs) -> anyhow::Result<Exit> {
    let root = RootFs::new(&args.root);
    let report = match apply::uninstall(&root, args.force, args.dry_run) {
        Ok(r) => r,
        Err(e @ apply::ApplyError::Modified(_)) => {
            errln!("error: {e}");
            errln!("nothing was changed");
            return Ok(Exit::No);
        }
        Err(e) => return Err(e.into()),
    };
    if !report.had_state {
        outln!("nothing to uninstall (no {})", apply::STATE_FILE);
        return Ok(Exit::Yes);
    }
    let verb = if args.dry_run { "would " } else { "" };
    for p in &report.restored {
        outln!("{verb}restore: {p}");
    }
    for p in &report.removed {
        outln!("{verb}remove: {p}");
    }
    for d in &report.removed_dirs {
        outln!("{verb}remove directory: {d}");
    }
    if args.dry_run {
        return Ok(Exit::Yes);
    }
    if report.restart_needed {
        outln!("kubelet restart needed: yes");
        Ok(Exit::Restart)
    } else {
        outln!("kubelet restart needed: no");
        Ok(Exit::Yes)
    }
}
