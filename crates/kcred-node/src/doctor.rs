//! `kcred doctor`: is this node's kubelet set up to use credential providers, and will it
//! work? Each check passes, warns or fails, names the file, flag or gate it is about, and
//! says how to fix it.
//!
//! The kubelet is found through `/proc/*/cmdline` ([`crate::process`]); without one, its
//! flags come from the profile's files. Checks:
//! - the two `--image-credential-provider-*` flags are set, each once;
//! - the config loads and validates exactly as that kubelet version does (k3s-io/k3s#14039:
//!   an invalid config stops the kubelet);
//! - each provider's executable exists, is a regular executable file owned by root, neither
//!   it nor a parent directory is writable by group or others (as MicroShift checks:
//!   openshift/enhancements#2089), and it is static or its ELF interpreter exists on the node
//!   (siderolabs/talos#11086); kcred's own plugins are run with `--version`;
//! - token mode: the feature gate is on for that version, the node-audience RBAC that
//!   kube-apiserver 1.33+ needs is printed, and checked against the API server with the
//!   kubelet's kubeconfig (or `--kubeconfig`) as `kubectl auth can-i` would
//!   ([`crate::rbac_check`]).

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use kcred_api::config::CredentialProvider;
use kcred_config::feature_gates::SERVICE_ACCOUNT_TOKEN_GATE;
use kcred_config::{load_files, validate, FeatureGates};
use serde::Serialize;

use crate::elf::{exec_kind, ExecKind};
use crate::flags::{self, BIN_DIR_FLAG, CONFIG_FLAG, KUBELET_CONFIG_FLAG};
use crate::fs::{join, normalize, parent_of, NodeFiles, RootFs};
use crate::kubelet::{KubeletVersion, NodeBehaviour};
use crate::manifests::{node_audience_rbac, to_yaml, token_audiences};
use crate::plan::kubelet_config_files_gate;
use crate::preset::is_kcred_plugin;
use crate::process::{KubeletProcess, ProcessKind};
use crate::profile::{detect, Layout, Profile};
use crate::rbac_check::{check_rbac, ApiOptions};

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Pass,
    /// Works, but worth a look.
    Warn,
    /// Will not work.
    Fail,
}

impl Status {
    /// `PASS`, `WARN`, `FAIL`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable identifier (`flag.config`, `config.valid`, `plugin`, `token.gate`…).
    pub id: String,
    /// The outcome.
    pub status: Status,
    /// The file, flag or gate it is about.
    pub subject: String,
    /// What was found.
    pub message: String,
    /// How to fix it (for warnings and failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// What doctor found out about the kubelet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KubeletInfo {
    /// Where the flags came from (`pid 123` or the profile's files).
    pub source: String,
    /// The kubelet's PID, when running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The version checked against.
    pub version: String,
    /// Where the version came from.
    pub version_source: String,
    /// The effective flags (command line or flag files).
    pub flags: Vec<String>,
    /// `--image-credential-provider-config` (effective).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// `--image-credential-provider-bin-dir` (effective).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bin_dir: Option<String>,
    /// The kubelet config file (`--config`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubelet_config: Option<String>,
    /// `featureGates` of the kubelet config file, then `--feature-gates` (later wins).
    pub feature_gates: BTreeMap<String, bool>,
}

/// The doctor's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The profile (given or detected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The kubelet.
    pub kubelet: KubeletInfo,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The node-audience RBAC token mode needs (YAML), when a provider uses tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rbac: Option<String>,
}

impl Report {
    /// Whether no check failed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }
}

/// Inputs besides the node's files.
#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// The profile; `None` detects it.
    pub profile: Option<Profile>,
    /// The kubelet version and where it came from; `None`: unknown.
    pub version: Option<(KubeletVersion, String)>,
    /// The running kubelet, if found.
    pub process: Option<KubeletProcess>,
    /// Other kubelet processes found (reported as a warning).
    pub other_processes: Vec<u32>,
    /// Run kcred's plugins with `--version`.
    pub run_plugins: bool,
    /// Check the node-audience RBAC against the API server (`None`: not checked).
    pub api: Option<ApiOptions>,
}

/// One check's result.
pub(crate) fn check(
    id: &str,
    status: Status,
    subject: impl Into<String>,
    message: impl Into<String>,
    fix: Option<String>,
) -> Check {
    Check {
        id: id.to_owned(),
        status,
        subject: subject.into(),
        message: message.into(),
        fix,
    }
}

/// Runs every check on the node under `root`.
pub fn doctor(root: &RootFs, opts: &DoctorOptions) -> Report {
    let mut checks = Vec::new();
    let profile = match opts.profile {
        Some(p) => Some(p),
        None => match detect(root) {
            Ok(p) => Some(p),
            Err(e) => {
                checks.push(check(
                    "profile",
                    Status::Warn,
                    "--profile",
                    e.to_string(),
                    Some("pass --profile".into()),
                ));
                None
            }
        },
    };
    let layout = profile.map(|p| Layout::for_profile(p, root));
    let mut info = KubeletInfo::default();

    // Flags: from the process, else the profile's files.
    let mut sources: Vec<(String, Vec<String>)> = Vec::new();
    match &opts.process {
        Some(p) if p.kind == ProcessKind::Kubelet => {
            info.source = format!("pid {} ({})", p.pid, p.argv[0]);
            info.pid = Some(p.pid);
            sources.push((
                format!("the command line of pid {}", p.pid),
                p.argv[1..].to_vec(),
            ));
        }
        Some(p) => {
            info.source = format!(
                "pid {} ({}, kubelet embedded; flags from the profile's files)",
                p.pid,
                p.argv.join(" ")
            );
            info.pid = Some(p.pid);
        }
        None => info.source = "no running kubelet found; flags from the profile's files".into(),
    }
    if !matches!(&opts.process, Some(p) if p.kind == ProcessKind::Kubelet) {
        if let Some(l) = &layout {
            for s in &l.flag_sources {
                if let Err(e) = root.read(&s.path) {
                    // Present but unreadable (a directory, a FIFO, too large, no permission):
                    // the kubelet's service would not read its flags either.
                    checks.push(check(
                        "flags.file",
                        Status::Fail,
                        s.path.clone(),
                        e.to_string(),
                        Some(format!(
                            "make {} a regular file the kubelet's service reads",
                            s.path
                        )),
                    ));
                    continue;
                }
                let f = s.read(root);
                if !f.is_empty() {
                    sources.push((s.path.clone(), f));
                }
            }
        }
    }
    match &opts.process {
        Some(p) => checks.push(check(
            "kubelet.process",
            Status::Pass,
            format!("pid {}", p.pid),
            info.source.clone(),
            None,
        )),
        None => checks.push(check(
            "kubelet.process",
            Status::Warn,
            "/proc/*/cmdline",
            "no running kubelet found; checked the profile's files instead",
            Some(
                "run kcred doctor on the node (or in the DaemonSet with hostPID and --root /host)"
                    .into(),
            ),
        )),
    }
    if !opts.other_processes.is_empty() {
        checks.push(check(
            "kubelet.process",
            Status::Warn,
            "/proc/*/cmdline",
            format!(
                "more kubelet processes found: {:?}; checked the first",
                opts.other_processes
            ),
            Some("pass --kubelet-pid PID".into()),
        ));
    }
    let all_flags: Vec<String> = sources.iter().flat_map(|(_, f)| f.clone()).collect();
    info.flags = all_flags.clone();

    let (version, version_source) = opts.version.clone().unwrap_or((
        KubeletVersion::NEWEST,
        format!("unknown: assuming {}", KubeletVersion::NEWEST),
    ));
    info.version = version.to_string();
    info.version_source = version_source.clone();
    checks.push(match &opts.version {
        Some(_) => check(
            "kubelet.version",
            Status::Pass,
            "kubelet --version",
            format!("{version} ({version_source})"),
            None,
        ),
        None => check(
            "kubelet.version",
            Status::Warn,
            "kubelet --version",
            format!("version unknown; checking as kubelet {version}"),
            Some("pass --kubelet-version".into()),
        ),
    });

    // The two flags.
    let implicit = layout.as_ref().map(|l| l.flags_implicit).unwrap_or(false);
    let mut flag_value = |flag: &str, default: Option<&String>| -> Option<String> {
        let holders: Vec<&String> = sources
            .iter()
            .filter(|(_, f)| !flags::occurrences(f, flag).is_empty())
            .map(|(s, _)| s)
            .collect();
        let count = flags::occurrences(&all_flags, flag).len();
        match (count, implicit) {
            (0, true) => {
                let v = default.cloned();
                checks.push(check(
                    &format!("flag.{flag}"),
                    Status::Pass,
                    format!("--{flag}"),
                    format!(
                        "set by {} to {}",
                        profile.map(|p| p.name()).unwrap_or("the distribution"),
                        v.clone().unwrap_or_default()
                    ),
                    None,
                ));
                v
            }
            (0, false)
                if opts.process.is_none()
                    && layout.as_ref().is_some_and(|l| l.flag_sources.is_empty()) =>
            {
                let v = default.cloned();
                checks.push(check(
                    &format!("flag.{flag}"),
                    Status::Warn,
                    format!("--{flag}"),
                    format!(
                        "cannot see the kubelet's flags (no running kubelet; profile {} keeps them nowhere kcred knows); checking {}",
                        profile.map(|p| p.name()).unwrap_or("unknown"),
                        v.clone().unwrap_or_default()
                    ),
                    Some(format!("make sure the kubelet runs with --{flag}={}", v.clone().unwrap_or_default())),
                ));
                v
            }
            (0, false) => {
                checks.push(check(
                    &format!("flag.{flag}"),
                    Status::Fail,
                    format!("--{flag}"),
                    "not set: the kubelet runs no credential providers",
                    Some("run kcred install (or add the flag to the kubelet's flags)".into()),
                ));
                None
            }
            (1, _) => {
                let v = flags::last_value(&all_flags, flag);
                checks.push(check(
                    &format!("flag.{flag}"),
                    Status::Pass,
                    format!("--{flag}"),
                    format!(
                        "{} (in {})",
                        v.clone().unwrap_or_default(),
                        holders.first().map(|s| s.as_str()).unwrap_or("?")
                    ),
                    None,
                ));
                v
            }
            (n, _) => {
                let v = flags::last_value(&all_flags, flag);
                let holders: Vec<&str> = holders.iter().map(|s| s.as_str()).collect();
                checks.push(check(
                    &format!("flag.{flag}"),
                    Status::Warn,
                    format!("--{flag}"),
                    format!(
                        "set {n} times (in {}); the last, {}, wins",
                        holders.join(", "),
                        v.clone().unwrap_or_default()
                    ),
                    Some("keep one".into()),
                ));
                v
            }
        }
    };
    let config_path = flag_value(CONFIG_FLAG, layout.as_ref().map(|l| &l.config_path));
    let bin_dir = flag_value(BIN_DIR_FLAG, layout.as_ref().map(|l| &l.bin_dir));
    info.config = config_path.clone();
    info.bin_dir = bin_dir.clone();
    if implicit && matches!(profile, Some(Profile::K3s | Profile::Rke2)) {
        if let (Some(c), Some(b)) = (&config_path, &bin_dir) {
            if !(root.is_dir(b) && root.read(c).ok().flatten().is_some()) {
                checks.push(check(
                    "flag.k3s",
                    Status::Fail,
                    format!("{c}, {b}"),
                    "k3s/RKE2 pass the credential-provider flags only when the plugin directory and the config file both exist (k3s-io/k3s#3280)",
                    Some("run kcred install --profile k3s|rke2".into()),
                ));
            }
        }
    }

    // Feature gates: kubelet config file, then flags.
    info.kubelet_config = flags::last_value(&all_flags, KUBELET_CONFIG_FLAG)
        .or(layout.as_ref().and_then(|l| l.kubelet_config.clone()));
    let mut gate = version.token_gate_default();
    let mut gate_source = format!("kubelet {version} default");
    if let Some(l) = &layout {
        if let Some((v, file)) = kubelet_config_files_gate(root, l, &all_flags) {
            info.feature_gates
                .insert(SERVICE_ACCOUNT_TOKEN_GATE.into(), v);
            gate = Some(v);
            gate_source = format!("featureGates of {file}");
        }
    }
    for o in flags::occurrences(&all_flags, flags::FEATURE_GATES_FLAG) {
        for (n, v) in flags::parse_gates(&o.value) {
            if let Some(v) = v {
                info.feature_gates.insert(n, v);
            }
        }
    }
    if let Some(v) = flags::gate_from_flags(&all_flags, SERVICE_ACCOUNT_TOKEN_GATE) {
        gate = Some(v);
        gate_source = "--feature-gates".into();
    }
    if gate.is_some() && !info.feature_gates.contains_key(SERVICE_ACCOUNT_TOKEN_GATE) {
        info.feature_gates
            .insert(SERVICE_ACCOUNT_TOKEN_GATE.into(), gate.unwrap_or(false));
    }

    // The config.
    let mut providers: Vec<CredentialProvider> = Vec::new();
    if let Some(cp) = &config_path {
        match load_node_config(root, cp) {
            Err(msg) => checks.push(check(
                "config.valid",
                Status::Fail,
                cp.clone(),
                msg,
                Some("fix the file; `kcred validate` shows the kubelet's message".into()),
            )),
            Ok((loaded, is_dir)) => {
                providers = loaded;
                let gates = FeatureGates {
                    service_account_token_for_credential_providers: gate.unwrap_or(false),
                };
                let mut problems = Vec::new();
                if is_dir && !version.supports_config_directory() {
                    problems.push(format!("kubelet {version} cannot read a config directory (1.34+: kubernetes/kubernetes#131658)"));
                }
                if let Err(e) = validate(&providers, gates) {
                    problems.push(format!(
                        "failed to validate credential provider config: {e}"
                    ));
                }
                if problems.is_empty() {
                    checks.push(check(
                        "config.valid",
                        Status::Pass,
                        cp.clone(),
                        format!(
                            "{} valid for kubelet {version}",
                            count(providers.len(), "provider")
                        ),
                        None,
                    ));
                } else {
                    checks.push(check("config.valid", Status::Fail, cp.clone(), problems.join("; "), Some("fix the config; the kubelet exits at start-up with it (k3s-io/k3s#14039)".into())));
                }
            }
        }
    }

    // Plugins.
    if let Some(bd) = &bin_dir {
        for p in &providers {
            checks.push(check_plugin(root, bd, &p.name, opts.run_plugins));
        }
    }

    // Token mode.
    let token_providers: Vec<&str> = providers
        .iter()
        .filter(|p| p.token_attributes.is_some())
        .map(|p| p.name.as_str())
        .collect();
    let mut rbac = None;
    if !token_providers.is_empty() {
        match gate {
            None => checks.push(check(
                "token.gate",
                Status::Fail,
                format!("tokenAttributes of {token_providers:?}"),
                format!("kubelet {version} has no service-account token mode (1.33+: kubernetes/kubernetes#128372); it ignores tokenAttributes"),
                Some("upgrade the kubelet, or remove tokenAttributes".into()),
            )),
            Some(false) => checks.push(check(
                "token.gate",
                Status::Fail,
                format!("--feature-gates {SERVICE_ACCOUNT_TOKEN_GATE}"),
                format!("off ({gate_source}), but providers {token_providers:?} use tokenAttributes"),
                Some(format!("run kcred install (it turns the gate on), or add --feature-gates={SERVICE_ACCOUNT_TOKEN_GATE}=true")),
            )),
            Some(true) => checks.push(check("token.gate", Status::Pass, format!("--feature-gates {SERVICE_ACCOUNT_TOKEN_GATE}"), format!("on ({gate_source})"), None)),
        }
        let audiences = token_audiences(&providers);
        let yaml = to_yaml(&node_audience_rbac(&audiences));
        match &opts.api {
            Some(api) => checks.extend(check_rbac(root, profile, &all_flags, api, &audiences)),
            None => checks.push(check(
                "token.rbac",
                Status::Warn,
                format!("request-serviceaccounts-token-audience on {audiences:?}"),
                "not checked against the API server (--no-api): with kube-apiserver 1.33+ (ServiceAccountNodeAudienceRestriction, kubernetes/kubernetes#130017) kubelets need this RBAC for audiences no pod on the node uses",
                Some("kubectl apply -f - with the RBAC printed below (or the DaemonSet installer's manifests)".into()),
            )),
        }
        rbac = Some(yaml);
    }

    Report {
        profile: profile.map(|p| p.name().to_owned()),
        kubelet: info,
        checks,
        rbac,
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Loads a config file or directory through the node's files (messages name node paths).
fn load_node_config(root: &RootFs, path: &str) -> Result<(Vec<CredentialProvider>, bool), String> {
    if root.is_dir(path) {
        let mut files = Vec::new();
        for name in root.list_dir(path) {
            let p = join(path, &name);
            if !kcred_config::load::is_config_file_name(name.as_bytes()) || root.is_dir(&p) {
                continue;
            }
            match root.read(&p) {
                Ok(Some(b)) => files.push((p.into(), b)),
                Ok(None) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        if files.is_empty() {
            return Err(format!(
                "no configuration files found in directory {path:?}"
            ));
        }
        return load_files(files)
            .map(|l| (l.providers, true))
            .map_err(|e| e.to_string());
    }
    match root.read(path) {
        Ok(Some(b)) => load_files(vec![(path.into(), b)])
            .map(|l| (l.providers, false))
            .map_err(|e| e.to_string()),
        Ok(None) => Err(format!(
            "unable to access path {path:?}: stat {path}: no such file or directory"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Checks one provider's executable.
pub fn check_plugin(root: &RootFs, bin_dir: &str, name: &str, run: bool) -> Check {
    let node_path = join(bin_dir, name);
    let subject = node_path.clone();
    let fail = |message: String, fix: String| {
        check(
            "plugin",
            Status::Fail,
            subject.clone(),
            format!("{name}: {message}"),
            Some(fix),
        )
    };
    let host = match root.resolve(&node_path) {
        Ok(h) => h,
        Err(e) => return fail(e.to_string(), "fix the symlink".into()),
    };
    let meta = match std::fs::metadata(&host) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return fail(
                "missing: the kubelet fails every pull this provider matches".into(),
                format!("install it as {node_path} (kcred install does for kcred's plugins)"),
            )
        }
        Err(e) => return fail(format!("cannot stat: {e}"), "check the file".into()),
    };
    if !meta.is_file() {
        return fail(
            "not a regular file".into(),
            format!("replace {node_path} with the plugin executable"),
        );
    }
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    if meta.mode() & 0o111 == 0 {
        problems.push(format!(
            "not executable (mode {:04o})",
            meta.mode() & 0o7777
        ));
        fixes.push(format!("chmod 0755 {node_path}"));
    }
    if meta.uid() != 0 {
        problems.push(format!("owned by uid {}, not root", meta.uid()));
        fixes.push(format!("chown root:root {node_path}"));
    }
    if meta.mode() & 0o022 != 0 {
        problems.push(format!(
            "writable by group or others (mode {:04o}): anyone who can write it runs code as root",
            meta.mode() & 0o7777
        ));
        fixes.push(format!("chmod go-w {node_path}"));
    }
    // Parent directories, up to the node's /.
    let mut dir = parent_of(&normalize(&node_path));
    loop {
        if let Ok(h) = root.resolve(&dir) {
            if let Ok(m) = std::fs::metadata(&h) {
                let sticky = m.mode() & 0o1000 != 0;
                if m.mode() & 0o022 != 0 && !sticky {
                    problems.push(format!(
                        "parent directory {dir} is writable by group or others (mode {:04o})",
                        m.mode() & 0o7777
                    ));
                    fixes.push(format!("chmod go-w {dir}"));
                }
                if m.uid() != 0 {
                    problems.push(format!(
                        "parent directory {dir} is owned by uid {}, not root",
                        m.uid()
                    ));
                    fixes.push(format!("chown root {dir}"));
                }
            }
        }
        if dir == "/" {
            break;
        }
        dir = parent_of(&dir);
    }
    match kcred_config::load::open_nonblocking(&host)
        .map_err(|e| e.to_string())
        .and_then(|f| exec_kind(&f).map_err(|e| e.to_string()))
    {
        Ok(ExecKind::StaticElf) => {}
        Ok(ExecKind::DynamicElf(interp)) | Ok(ExecKind::Script(interp)) => {
            if !root.exists(&interp) {
                problems.push(format!("its interpreter {interp} does not exist on the node: exec fails with \"no such file or directory\" (siderolabs/talos#11086)"));
                fixes.push("install a statically linked build".into());
            }
        }
        Ok(ExecKind::Unknown) => {
            problems
                .push("neither ELF nor a #! script: exec fails with \"exec format error\"".into());
            fixes.push("install the plugin built for this node".into());
        }
        Err(e) => {
            problems.push(e);
            fixes.push("reinstall the plugin".into());
        }
    }
    if !problems.is_empty() {
        return check(
            "plugin",
            Status::Fail,
            subject,
            format!("{name}: {}", problems.join("; ")),
            Some(fixes.join("; ")),
        );
    }
    if run && is_kcred_plugin(name) {
        return match crate::process::run_version(&host, Duration::from_secs(5)) {
            Some(out) if out.contains("version") => check(
                "plugin",
                Status::Pass,
                subject,
                format!("{name}: {}", out.lines().next().unwrap_or("").trim()),
                None,
            ),
            Some(_) | None => check(
                "plugin",
                Status::Warn,
                subject,
                format!("{name}: did not answer --version (the file checks passed)"),
                Some(format!("run {node_path} --version by hand")),
            ),
        };
    }
    check(
        "plugin",
        Status::Pass,
        subject,
        format!("{name}: executable, root-owned, not writable by others"),
        None,
    )
}

/// The report as text: one line per check, fixes indented, then the RBAC.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    if let Some(p) = &r.profile {
        out.push_str(&format!("profile: {p}\n"));
    }
    out.push_str(&format!(
        "kubelet: {}; version {} ({})\n",
        r.kubelet.source, r.kubelet.version, r.kubelet.version_source
    ));
    for c in &r.checks {
        out.push_str(&format!(
            "{}  {:<16} {}: {}\n",
            c.status.label(),
            c.id,
            c.subject,
            c.message
        ));
        if c.status != Status::Pass {
            if let Some(f) = &c.fix {
                out.push_str(&format!("      fix: {f}\n"));
            }
        }
    }
    if let Some(y) = &r.rbac {
        out.push_str("\nnode-audience RBAC for token mode:\n---\n");
        out.push_str(y);
    }
    let fails = r.checks.iter().filter(|c| c.status == Status::Fail).count();
    let warns = r.checks.iter().filter(|c| c.status == Status::Warn).count();
    out.push_str(&format!("\n{} failed, {} warnings\n", fails, warns));
    out
}
