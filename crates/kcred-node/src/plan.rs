//! Planning an install: from a node's files and the request to the exact bytes of every
//! file to write. Pure: reads through [`NodeFiles`], writes nothing ([`crate::apply`] does).
//!
//! Order of work, each step refusing before anything is written:
//! 1. profile (given or detected) and its [`Layout`]; existing
//!    `--image-credential-provider-*` flags win over the layout's paths;
//! 2. the node's existing config is read with the kubelet's loader (an invalid one is
//!    refused: it is the operator's to fix);
//! 3. presets and `--provider-config` fragments are merged into it, keeping every existing
//!    provider; a name clash is refused unless `--replace NAME` (or kcred wrote it);
//! 4. the merged config is validated as the node's kubelet version validates it (token mode
//!    needs 1.33+; its gate is turned on where the version's default is off);
//! 5. plugin binaries, config, flags and gate drop-ins are rendered; unchanged files are
//!    left out, so a second identical run plans nothing.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use kcred_api::config::{decode_config, CredentialProvider, CredentialProviderConfig};
use kcred_config::feature_gates::SERVICE_ACCOUNT_TOKEN_GATE;
use kcred_config::{load_files, validate, FeatureGates, LoadError};

use crate::flags::{self, BIN_DIR_FLAG, CONFIG_FLAG, KUBELET_CONFIG_FLAG};
use crate::fs::{join, NodeFiles, ReadError};
use crate::kubelet::{KubeletVersion, NodeBehaviour};
use crate::preset::{is_kcred_plugin, Preset};
use crate::profile::{detect, DetectError, FlagSourceFormat, GateTarget, Layout, Profile};

/// The file name of kcred's providers inside a config directory (1.34+ directories).
pub const DIR_DROP_IN: &str = "90-kcred.yaml";

/// What to install.
#[derive(Debug, Clone, Default)]
pub struct InstallRequest {
    /// The profile; `None` detects it.
    pub profile: Option<Profile>,
    /// `--enable` presets.
    pub presets: Vec<Preset>,
    /// `--provider-config` fragments: (file name for messages, bytes).
    pub fragments: Vec<(String, Vec<u8>)>,
    /// `--replace` provider names.
    pub replace: Vec<String>,
    /// The node's kubelet version (given or detected by the caller).
    pub kubelet_version: Option<KubeletVersion>,
    /// Plugin binaries available to copy, by name.
    pub binaries: BTreeMap<String, Vec<u8>>,
    /// Providers an earlier `kcred install` added (may be updated without `--replace`).
    pub owned_providers: BTreeSet<String>,
    /// Files an earlier `kcred install` wrote (may be overwritten).
    pub owned_files: BTreeSet<String>,
}

/// What a planned write is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A plugin executable (the kubelet execs it per pull: no restart needed).
    Plugin,
    /// The credential-provider config (read at kubelet start).
    Config,
    /// A kubelet flag file.
    Flags,
    /// A feature-gate drop-in.
    FeatureGate,
}

/// One file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Node path.
    pub path: String,
    /// Current bytes (`None`: the file does not exist).
    pub before: Option<Vec<u8>>,
    /// New bytes.
    pub after: Vec<u8>,
    /// Permission bits for the new file.
    pub mode: u32,
    /// Why it is written.
    pub kind: ChangeKind,
}

/// A complete install plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The profile used.
    pub profile: Profile,
    /// Its layout on this node.
    pub layout: Layout,
    /// The config path the kubelet reads (existing flag or layout default).
    pub config_path: String,
    /// The plugin directory the kubelet uses.
    pub bin_dir: String,
    /// The kubelet version validated against.
    pub version: KubeletVersion,
    /// Files to write, in apply order (plugins, config, flags, gates).
    pub changes: Vec<FileChange>,
    /// Providers kcred owns after this install.
    pub owned_providers: BTreeSet<String>,
    /// The merged providers the kubelet will load.
    pub providers: Vec<CredentialProvider>,
    /// Whether the token feature gate is (or will be) on.
    pub token_gate_on: bool,
    /// Things the operator must do by hand (generic flags, non-kcred plugins).
    pub notes: Vec<String>,
    /// Talos: the machine-config patch to apply instead of writing files.
    pub talos_patch: Option<String>,
}

impl FileChange {
    /// The before/after bytes safe to print: for a config whose providers set `env` (which
    /// may hold secrets), both sides re-rendered with every env value replaced by
    /// `<redacted>`; otherwise the bytes as they are. The flag says whether it redacted.
    pub fn for_display(&self) -> (Option<Vec<u8>>, Vec<u8>, bool) {
        if self.kind != ChangeKind::Config {
            return (self.before.clone(), self.after.clone(), false);
        }
        let decode = |b: &[u8]| decode_config(b).ok().map(|c| c.providers);
        let before = self.before.as_deref().map(decode);
        let after = decode(&self.after);
        let has_env = |p: &Option<Vec<CredentialProvider>>| {
            p.as_ref()
                .is_some_and(|ps| ps.iter().any(|p| !p.env.is_empty()))
        };
        let before_has = before.as_ref().is_some_and(has_env);
        if !has_env(&after) && !before_has {
            return (self.before.clone(), self.after.clone(), false);
        }
        let redact = |ps: Vec<CredentialProvider>| -> Vec<u8> {
            let ps: Vec<CredentialProvider> = ps
                .into_iter()
                .map(|mut p| {
                    for e in &mut p.env {
                        e.value = "<redacted>".into();
                    }
                    p
                })
                .collect();
            render_config(&self.path, &ps)
        };
        let before = match before {
            None => None,
            Some(Some(ps)) => Some(redact(ps)),
            // An unreadable original: say so instead of showing it.
            Some(None) => Some(b"<original not shown: it may hold secrets>\n".to_vec()),
        };
        let after = redact(after.unwrap_or_default());
        (before, after, true)
    }
}

impl Plan {
    /// Whether the kubelet must restart to pick up the changes (config, flags or gates).
    pub fn restart_needed(&self) -> bool {
        self.changes.iter().any(|c| c.kind != ChangeKind::Plugin)
    }
}

/// Why an install cannot be planned. Nothing has been written when this is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The profile could not be detected, or the distribution is unsupported.
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// A node file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A `--provider-config` fragment is not a valid config document.
    #[error("error decoding config {file:?}: {source}")]
    Fragment {
        /// The fragment's file.
        file: String,
        /// The decoder's message.
        source: kcred_api::config::ConfigDecodeError,
    },
    /// The node's current config does not load; the kubelet would not start with it either.
    #[error("the node's current credential provider config does not load ({source}); fix or remove it first")]
    ExistingConfig {
        /// The kubelet loader's error.
        source: LoadError,
    },
    /// Nothing to install.
    #[error("nothing to install: give --enable PRESET or --provider-config FILE")]
    Empty,
    /// A provider name is already configured.
    #[error("provider {name:?} is already configured in {path}; pass --replace {name} to replace it (the original file is backed up)")]
    Duplicate {
        /// The provider name.
        name: String,
        /// The config file holding it.
        path: String,
    },
    /// Two new providers share a name.
    #[error("provider {name:?} is given twice (by --enable and/or --provider-config)")]
    DuplicateNew {
        /// The provider name.
        name: String,
    },
    /// `--replace` names a provider that is neither configured nor given.
    #[error("--replace {0}: no such provider is configured or given")]
    ReplaceUnknown(String),
    /// A kcred plugin's binary is missing from the source directory.
    #[error("no {name} binary to install (looked in the binary source directory; pass --bin-dir-source DIR)")]
    MissingBinary {
        /// The plugin name.
        name: String,
    },
    /// A plugin path holds another executable.
    #[error("{path} exists and was not installed by kcred; pass --replace {name} to overwrite it (a backup is kept)")]
    BinaryConflict {
        /// The plugin path.
        path: String,
        /// The provider name.
        name: String,
    },
    /// The merged config is invalid for the node's kubelet.
    #[error("failed to validate credential provider config: {0}")]
    Invalid(String),
    /// The node's kubelet version cannot run the merged config.
    #[error("{0}")]
    Version(String),
    /// The token feature gate cannot be turned on safely in this layout.
    #[error("{0}")]
    GateConflict(String),
}

/// A kubelet `KubeletConfiguration` file's `featureGates` value for `gate`.
pub fn kubelet_config_gate(bytes: &[u8], gate: &str) -> Option<bool> {
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_slice(bytes).ok()?;
    v.get("featureGates")?.get(gate)?.as_bool()
}

/// The token gate as the kubelet's config file and its `--config-dir` drop-ins
/// (`*.conf`, sorted, later wins) set it, with the file that set it last.
pub fn kubelet_config_files_gate(
    fs: &dyn NodeFiles,
    layout: &Layout,
    all_flags: &[String],
) -> Option<(bool, String)> {
    let mut files = Vec::new();
    if let Some(kc) =
        flags::last_value(all_flags, KUBELET_CONFIG_FLAG).or(layout.kubelet_config.clone())
    {
        files.push(kc);
    }
    let config_dir = flags::last_value(all_flags, flags::KUBELET_CONFIG_DIR_FLAG).or_else(|| {
        match &layout.gate {
            GateTarget::KubeletConfigDropIn(p) => Some(crate::fs::parent_of(p)),
            _ => None,
        }
    });
    if let Some(d) = config_dir {
        for name in fs.list_dir(&d) {
            if name.ends_with(".conf") {
                files.push(join(&d, &name));
            }
        }
    }
    let mut result = None;
    for f in files {
        if let Ok(Some(b)) = fs.read(&f) {
            if let Some(v) = kubelet_config_gate(&b, SERVICE_ACCOUNT_TOKEN_GATE) {
                result = Some((v, f));
            }
        }
    }
    result
}

/// Renders providers as a v1 config: pretty JSON for `.json` paths, YAML otherwise.
pub fn render_config(path: &str, providers: &[CredentialProvider]) -> Vec<u8> {
    let config = CredentialProviderConfig {
        providers: providers.to_vec(),
    };
    let mut value: serde_json::Value =
        serde_json::from_slice(&config.encode_v1()).expect("encode_v1 writes JSON");
    strip_nulls(&mut value);
    if path.ends_with(".json") {
        let mut out = serde_json::to_vec_pretty(&value).expect("JSON value");
        out.push(b'\n');
        out
    } else {
        let yaml = serde_yaml_ng::to_string(&ordered(&value)).expect("YAML value");
        format!("# Credential provider config; providers merged by kcred install (see `kcred uninstall`).\n{yaml}")
            .into_bytes()
    }
}

pub(crate) fn strip_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Puts `apiVersion`, `kind` and `name` first, as people write them.
pub(crate) fn ordered(v: &serde_json::Value) -> serde_yaml_ng::Value {
    use serde_yaml_ng::{Mapping, Value as Y};
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            let rank = |k: &str| match k {
                "apiVersion" => 0,
                "kind" => 1,
                "name" => -1,
                "matchImages" => 3,
                _ => 4,
            };
            keys.sort_by_key(|k| rank(k));
            let mut out = Mapping::new();
            for k in keys {
                out.insert(Y::String(k.clone()), ordered(&m[k]));
            }
            Y::Mapping(out)
        }
        serde_json::Value::Array(a) => Y::Sequence(a.iter().map(ordered).collect()),
        serde_json::Value::String(s) => Y::String(s.clone()),
        serde_json::Value::Bool(b) => Y::Bool(*b),
        serde_json::Value::Number(n) => serde_yaml_ng::to_value(n).unwrap_or(Y::Null),
        serde_json::Value::Null => Y::Null,
    }
}

/// The k3s/RKE2 drop-in turning the token gate on.
pub fn k3s_gate_drop_in() -> Vec<u8> {
    format!("# Written by kcred install: service-account token mode for credential providers.\nkubelet-arg+:\n  - \"feature-gates={SERVICE_ACCOUNT_TOKEN_GATE}=true\"\n").into_bytes()
}

/// The kubelet `--config-dir` drop-in turning the token gate on.
pub fn kubelet_gate_drop_in() -> Vec<u8> {
    format!("{{\n  \"apiVersion\": \"kubelet.config.k8s.io/v1beta1\",\n  \"kind\": \"KubeletConfiguration\",\n  \"featureGates\": {{\n    \"{SERVICE_ACCOUNT_TOKEN_GATE}\": true\n  }}\n}}\n").into_bytes()
}

struct Existing {
    /// Providers of the whole config (all files of a directory).
    providers: Vec<CredentialProvider>,
    /// Which file each provider came from.
    origin: Vec<String>,
    /// The file kcred writes (the config file, or the directory's drop-in).
    target: String,
    /// Current bytes of `target`.
    target_bytes: Option<Vec<u8>>,
    /// Whether the config is a directory.
    is_dir: bool,
}

fn read_existing(fs: &dyn NodeFiles, config_path: &str) -> Result<Existing, PlanError> {
    if fs.is_dir(config_path) {
        let target = join(config_path, DIR_DROP_IN);
        let mut files = Vec::new();
        for name in fs.list_dir(config_path) {
            if !kcred_config::load::is_config_file_name(name.as_bytes()) {
                continue;
            }
            let path = join(config_path, &name);
            if fs.is_dir(&path) {
                continue;
            }
            if let Some(bytes) = fs.read(&path)? {
                files.push((path, bytes));
            }
        }
        let target_bytes = files
            .iter()
            .find(|(p, _)| *p == target)
            .map(|(_, b)| b.clone());
        let mut providers = Vec::new();
        let mut origin = Vec::new();
        for (path, bytes) in &files {
            if bytes.is_empty() {
                continue;
            }
            let loaded = load_files(vec![(path.into(), bytes.clone())])
                .map_err(|source| PlanError::ExistingConfig { source })?;
            for p in loaded.providers {
                origin.push(path.clone());
                providers.push(p);
            }
        }
        check_unique(&providers, &origin)?;
        return Ok(Existing {
            providers,
            origin,
            target,
            target_bytes,
            is_dir: true,
        });
    }
    let bytes = fs.read(config_path)?;
    let providers = match &bytes {
        Some(b) => {
            load_files(vec![(config_path.into(), b.clone())])
                .map_err(|source| PlanError::ExistingConfig { source })?
                .providers
        }
        None => Vec::new(),
    };
    Ok(Existing {
        origin: vec![config_path.to_owned(); providers.len()],
        providers,
        target: config_path.to_owned(),
        target_bytes: bytes,
        is_dir: false,
    })
}

fn check_unique(providers: &[CredentialProvider], origin: &[String]) -> Result<(), PlanError> {
    let mut seen = BTreeSet::new();
    for (p, _) in providers.iter().zip(origin) {
        if !seen.insert(&p.name) {
            return Err(PlanError::ExistingConfig {
                source: LoadError::DuplicateProviderName {
                    name: p.name.clone(),
                },
            });
        }
    }
    Ok(())
}

/// Plans an install on the node `fs`.
pub fn plan_install(fs: &dyn NodeFiles, req: &InstallRequest) -> Result<Plan, PlanError> {
    let profile = match req.profile {
        Some(p) => p,
        None => detect(fs)?,
    };
    let layout = Layout::for_profile(profile, fs);
    let version = req.kubelet_version.unwrap_or(KubeletVersion::NEWEST);

    // New providers, in order: presets, then fragments.
    let mut new: Vec<CredentialProvider> = Vec::new();
    for p in &req.presets {
        new.push(p.provider().map_err(|source| PlanError::Fragment {
            file: format!("--enable {}", p.provider_name()),
            source,
        })?);
    }
    for (file, bytes) in &req.fragments {
        let config = decode_config(bytes).map_err(|source| PlanError::Fragment {
            file: file.clone(),
            source,
        })?;
        new.extend(config.providers);
    }
    if new.is_empty() {
        return Err(PlanError::Empty);
    }
    let mut seen = BTreeSet::new();
    for p in &new {
        if !seen.insert(p.name.clone()) {
            return Err(PlanError::DuplicateNew {
                name: p.name.clone(),
            });
        }
    }

    let all_flags = layout.all_flags(fs);
    let config_path =
        flags::last_value(&all_flags, CONFIG_FLAG).unwrap_or_else(|| layout.config_path.clone());
    let bin_dir =
        flags::last_value(&all_flags, BIN_DIR_FLAG).unwrap_or_else(|| layout.bin_dir.clone());

    if profile == Profile::Talos {
        return plan_talos(layout, version, new, req);
    }

    let existing = read_existing(fs, &config_path)?;
    for name in &req.replace {
        if !existing.providers.iter().any(|p| &p.name == name)
            && !new.iter().any(|p| &p.name == name)
        {
            return Err(PlanError::ReplaceUnknown(name.clone()));
        }
    }

    // Merge.
    let mut merged = existing.providers.clone();
    let mut origin = existing.origin.clone();
    let mut owned = req.owned_providers.clone();
    let replaced_binaries: BTreeSet<String> = req.replace.iter().cloned().collect();
    for p in &new {
        match merged.iter().position(|e| e.name == p.name) {
            Some(i) if merged[i] == *p => {
                owned.insert(p.name.clone());
            }
            Some(i) => {
                let may_replace =
                    req.replace.contains(&p.name) || req.owned_providers.contains(&p.name);
                if !may_replace {
                    return Err(PlanError::Duplicate {
                        name: p.name.clone(),
                        path: origin[i].clone(),
                    });
                }
                if existing.is_dir && origin[i] != existing.target {
                    return Err(PlanError::Duplicate {
                        name: p.name.clone(),
                        path: format!(
                            "{} (another file of the config directory: remove it there)",
                            origin[i]
                        ),
                    });
                }
                merged[i] = p.clone();
                owned.insert(p.name.clone());
            }
            None => {
                merged.push(p.clone());
                origin.push(existing.target.clone());
                owned.insert(p.name.clone());
            }
        }
    }

    // Version and gate.
    let has_token = merged.iter().any(|p| p.token_attributes.is_some());
    if has_token && !version.supports_token_attributes() {
        let names: Vec<&str> = merged
            .iter()
            .filter(|p| p.token_attributes.is_some())
            .map(|p| p.name.as_str())
            .collect();
        return Err(PlanError::Version(format!(
            "providers {names:?} use tokenAttributes, which kubelet {version} does not know (it needs 1.33+: kubernetes/kubernetes#128372); it would ignore them and send no service-account token"
        )));
    }
    if existing.is_dir && !version.supports_config_directory() {
        return Err(PlanError::Version(format!(
            "{config_path} is a directory, which kubelet {version} cannot read (1.34+: kubernetes/kubernetes#131658)"
        )));
    }
    let mut gate = version.token_gate_default().unwrap_or(false);
    if let Some((v, _)) = kubelet_config_files_gate(fs, &layout, &all_flags) {
        gate = v;
    }
    if let Some(v) = flags::gate_from_flags(&all_flags, SERVICE_ACCOUNT_TOKEN_GATE) {
        gate = v;
    }
    let need_gate = has_token && !gate;
    let token_gate_on = gate || need_gate;

    let gates = FeatureGates {
        service_account_token_for_credential_providers: token_gate_on,
    };
    validate(&merged, gates).map_err(|e| PlanError::Invalid(e.to_string()))?;

    let mut changes = Vec::new();
    let mut notes = Vec::new();

    // Plugins.
    for p in &new {
        let path = join(&bin_dir, &p.name);
        let Some(bytes) = req.binaries.get(&p.name) else {
            if is_kcred_plugin(&p.name) {
                return Err(PlanError::MissingBinary {
                    name: p.name.clone(),
                });
            }
            notes.push(format!(
                "provider {:?} is not a kcred plugin: install its executable as {path} yourself",
                p.name
            ));
            continue;
        };
        let before = fs.read(&path)?;
        if before.as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        if before.is_some()
            && !req.owned_files.contains(&path)
            && !replaced_binaries.contains(&p.name)
        {
            return Err(PlanError::BinaryConflict {
                path,
                name: p.name.clone(),
            });
        }
        changes.push(FileChange {
            path,
            before,
            after: bytes.clone(),
            mode: 0o755,
            kind: ChangeKind::Plugin,
        });
    }

    // Config.
    let our_providers: Vec<CredentialProvider> = if existing.is_dir {
        merged
            .iter()
            .zip(&origin)
            .filter(|(_, o)| **o == existing.target)
            .map(|(p, _)| p.clone())
            .collect()
    } else {
        merged.clone()
    };
    let old_ours: Vec<CredentialProvider> = existing
        .providers
        .iter()
        .zip(&existing.origin)
        .filter(|(_, o)| **o == existing.target)
        .map(|(p, _)| p.clone())
        .collect();
    if our_providers != old_ours || existing.target_bytes.is_none() {
        let after = render_config(&existing.target, &our_providers);
        // Never write what the kubelet's own decoder would not read back identically.
        let reread = decode_config(&after).map_err(|e| {
            PlanError::Invalid(format!(
                "kcred rendered an unreadable config ({e}); please report"
            ))
        })?;
        if reread.providers != our_providers {
            return Err(PlanError::Invalid(
                "kcred's rendered config does not read back identically; please report".into(),
            ));
        }
        changes.push(FileChange {
            path: existing.target.clone(),
            before: existing.target_bytes.clone(),
            after,
            mode: 0o644,
            kind: ChangeKind::Config,
        });
    }

    // Flags.
    let flag_line = format!("--{CONFIG_FLAG}={config_path} --{BIN_DIR_FLAG}={bin_dir}");
    match (layout.flags_implicit, layout.writable_flags) {
        (true, _) => {}
        (false, Some(i)) => {
            let src = &layout.flag_sources[i];
            let FlagSourceFormat::Flags(format) = &src.format else {
                unreachable!("writable flag sources are flag files")
            };
            let before = fs.read(&src.path)?;
            let mut args = before
                .as_deref()
                .map(|b| flags::read_flags(b, format))
                .unwrap_or_default();
            let others: Vec<String> = layout
                .flag_sources
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, s)| s.read(fs))
                .collect();
            let mut changed = false;
            for (flag, value) in [(CONFIG_FLAG, &config_path), (BIN_DIR_FLAG, &bin_dir)] {
                let here = !flags::occurrences(&args, flag).is_empty();
                let elsewhere = !flags::occurrences(&others, flag).is_empty();
                if here || !elsewhere {
                    changed |= flags::set_flag(&mut args, flag, value);
                }
            }
            if need_gate && layout.gate == GateTarget::FlagFile {
                changed |= flags::set_gate(&mut args, SERVICE_ACCOUNT_TOKEN_GATE, true);
            }
            if changed {
                let after = flags::write_flags(before.as_deref(), format, &args);
                if before.as_deref() != Some(after.as_slice()) {
                    changes.push(FileChange {
                        path: src.path.clone(),
                        before,
                        after,
                        mode: 0o644,
                        kind: ChangeKind::Flags,
                    });
                }
            }
        }
        (false, None) => notes.push(format!(
            "add these flags to the kubelet (profile {profile} cannot set them): {flag_line}"
        )),
    }

    // Gate drop-ins.
    if need_gate {
        match &layout.gate {
            GateTarget::FlagFile => {}
            GateTarget::K3sDropIn(path) => {
                for src in &layout.flag_sources {
                    if src.path == *path {
                        continue;
                    }
                    if !flags::occurrences(&src.read(fs), flags::FEATURE_GATES_FLAG).is_empty() {
                        return Err(PlanError::GateConflict(format!(
                            "{} already sets kubelet-arg feature-gates; add {SERVICE_ACCOUNT_TOKEN_GATE}=true to that entry yourself (a second feature-gates entry would replace it)",
                            src.path
                        )));
                    }
                }
                push_if_changed(fs, &mut changes, path, k3s_gate_drop_in(), ChangeKind::FeatureGate)?;
            }
            GateTarget::KubeletConfigDropIn(path) => {
                push_if_changed(fs, &mut changes, path, kubelet_gate_drop_in(), ChangeKind::FeatureGate)?;
            }
            GateTarget::Print => notes.push(format!(
                "turn on the token-mode feature gate: --feature-gates={SERVICE_ACCOUNT_TOKEN_GATE}=true"
            )),
        }
    }

    Ok(Plan {
        profile,
        layout,
        config_path,
        bin_dir,
        version,
        changes,
        owned_providers: owned,
        providers: merged,
        token_gate_on,
        notes,
        talos_patch: None,
    })
}

fn push_if_changed(
    fs: &dyn NodeFiles,
    changes: &mut Vec<FileChange>,
    path: &str,
    after: Vec<u8>,
    kind: ChangeKind,
) -> Result<(), PlanError> {
    let before = fs.read(path)?;
    if before.as_deref() != Some(after.as_slice()) {
        changes.push(FileChange {
            path: path.to_owned(),
            before,
            after,
            mode: 0o644,
            kind,
        });
    }
    Ok(())
}

fn plan_talos(
    layout: Layout,
    version: KubeletVersion,
    new: Vec<CredentialProvider>,
    req: &InstallRequest,
) -> Result<Plan, PlanError> {
    let has_token = new.iter().any(|p| p.token_attributes.is_some());
    if has_token && !version.supports_token_attributes() {
        return Err(PlanError::Version(format!(
            "tokenAttributes needs kubelet 1.33+ (kubernetes/kubernetes#128372); this is {version}"
        )));
    }
    let need_gate = has_token && version.token_gate_default() == Some(false);
    let gates = FeatureGates {
        service_account_token_for_credential_providers: true,
    };
    validate(&new, gates).map_err(|e| PlanError::Invalid(e.to_string()))?;
    let config = CredentialProviderConfig {
        providers: new.clone(),
    };
    let mut value: serde_json::Value = serde_json::from_slice(&config.encode_v1()).expect("JSON");
    strip_nulls(&mut value);
    let mut kubelet = serde_json::json!({ "credentialProviderConfig": value });
    if need_gate {
        kubelet["extraArgs"] =
            serde_json::json!({ "feature-gates": format!("{SERVICE_ACCOUNT_TOKEN_GATE}=true") });
    }
    let patch = serde_json::json!({ "machine": { "kubelet": kubelet } });
    let yaml = serde_yaml_ng::to_string(&ordered(&patch)).expect("YAML");
    let plugins: Vec<&str> = new.iter().map(|p| p.name.as_str()).collect();
    let text = format!(
        "# Talos machine-config patch (kcred install --profile talos, kubelet {version}).\n\
         # Talos writes machine.kubelet.credentialProviderConfig as a v1 config and points the\n\
         # kubelet at {bin} (siderolabs/talos#7942, #12112).\n\
         # The plugins {plugins:?} must be in that directory: ship them in a system extension.\n\
         # Apply: talosctl patch machineconfig --nodes NODE --patch @this-file.yaml\n{yaml}",
        bin = layout.bin_dir
    );
    let owned = new.iter().map(|p| p.name.clone()).collect();
    let _ = req;
    Ok(Plan {
        profile: Profile::Talos,
        config_path: layout.config_path.clone(),
        bin_dir: layout.bin_dir.clone(),
        layout,
        version,
        changes: Vec::new(),
        owned_providers: owned,
        providers: new,
        token_gate_on: true,
        notes: Vec::new(),
        talos_patch: Some(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;

    const CORP: &str = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: corp\n  matchImages: [\"registry.corp.example\"]\n  defaultCacheDuration: 5m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n";

    fn req(version: &str) -> InstallRequest {
        let mut binaries = BTreeMap::new();
        binaries.insert("auth-provider-gcp".to_owned(), b"\x7fELF-gcp".to_vec());
        InstallRequest {
            profile: Some(Profile::Kubeadm),
            presets: vec![Preset::Gcp],
            kubelet_version: Some(KubeletVersion::parse(version).unwrap()),
            binaries,
            ..InstallRequest::default()
        }
    }

    fn node_with_dir() -> MemFs {
        MemFs::new()
            .file(
                "/etc/default/kubelet",
                "KUBELET_EXTRA_ARGS=--image-credential-provider-config=/etc/kubernetes/cp.d\n",
            )
            .file("/etc/kubernetes/cp.d/10-corp.yaml", CORP)
    }

    #[test]
    fn config_directory_gets_a_drop_in() {
        let plan = plan_install(&node_with_dir(), &req("1.34")).unwrap();
        let config = plan
            .changes
            .iter()
            .find(|c| c.kind == ChangeKind::Config)
            .unwrap();
        assert_eq!(config.path, "/etc/kubernetes/cp.d/90-kcred.yaml");
        let written = decode_config(&config.after).unwrap();
        assert_eq!(
            written.providers.len(),
            1,
            "only kcred's providers in its file"
        );
        let names: Vec<&str> = plan.providers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["corp", "auth-provider-gcp"]);
        // The existing flag is kept: no second --image-credential-provider-config.
        let flags = plan
            .changes
            .iter()
            .find(|c| c.kind == ChangeKind::Flags)
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&flags.after)
                .matches("--image-credential-provider-config")
                .count(),
            1
        );
    }

    #[test]
    fn config_directory_needs_1_34() {
        let e = plan_install(&node_with_dir(), &req("1.33")).unwrap_err();
        assert!(e.to_string().contains("cannot read (1.34+"), "{e}");
    }

    #[test]
    fn names_in_other_directory_files_cannot_be_replaced() {
        let fs = node_with_dir().file(
            "/etc/kubernetes/cp.d/20-gcp.json",
            "{\"apiVersion\":\"kubelet.config.k8s.io/v1\",\"kind\":\"CredentialProviderConfig\",\"providers\":[{\"name\":\"auth-provider-gcp\",\"matchImages\":[\"gcr.io\"],\"defaultCacheDuration\":\"1m\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\"}]}",
        );
        let mut r = req("1.34");
        r.replace = vec!["auth-provider-gcp".into()];
        let e = plan_install(&fs, &r).unwrap_err();
        assert!(
            e.to_string()
                .contains("another file of the config directory"),
            "{e}"
        );
    }

    #[test]
    fn an_invalid_existing_config_is_refused() {
        let fs = MemFs::new()
            .file("/etc/default/kubelet", "KUBELET_EXTRA_ARGS=\n")
            .file("/etc/kubernetes/credential-providers/config.yaml", "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: 3\n");
        let e = plan_install(&fs, &req("1.34")).unwrap_err();
        assert!(matches!(e, PlanError::ExistingConfig { .. }), "{e}");
    }

    #[test]
    fn missing_kcred_binary_is_refused() {
        let mut r = req("1.34");
        r.binaries.clear();
        let e = plan_install(&MemFs::new().file("/etc/default/kubelet", ""), &r).unwrap_err();
        assert!(matches!(e, PlanError::MissingBinary { .. }), "{e}");
    }

    #[test]
    fn gate_from_kubelet_config_file_is_respected() {
        // featureGates in the kubelet config turns the gate off on 1.34: install turns it on
        // with a flag (flags win over the config file).
        let token = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: auth-provider-gcp\n  matchImages: [\"gcr.io\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  tokenAttributes:\n    serviceAccountTokenAudience: a.example\n    cacheType: Token\n    requireServiceAccount: false\n";
        let fs = MemFs::new()
            .file("/etc/default/kubelet", "KUBELET_EXTRA_ARGS=\"--feature-gates=Other=true\"\n")
            .file("/var/lib/kubelet/config.yaml", "kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nfeatureGates:\n  KubeletServiceAccountTokenForCredentialProviders: false\n");
        let mut r = req("1.34");
        r.presets.clear();
        r.fragments = vec![("t.yaml".into(), token.as_bytes().to_vec())];
        let plan = plan_install(&fs, &r).unwrap();
        let flags = plan
            .changes
            .iter()
            .find(|c| c.kind == ChangeKind::Flags)
            .unwrap();
        let text = String::from_utf8_lossy(&flags.after);
        assert!(
            text.contains(
                "--feature-gates=Other=true,KubeletServiceAccountTokenForCredentialProviders=true"
            ),
            "{text}"
        );
        assert_eq!(text.matches("--feature-gates").count(), 1);
    }
}
