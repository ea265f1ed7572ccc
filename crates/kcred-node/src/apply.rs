//! Applying a [`Plan`] to a node root, and undoing it.
//!
//! - Every write is atomic: a temporary file in the same directory, `fsync`, `chmod`, then
//!   `rename` over the target, then `fsync` of the directory.
//! - Before kcred first writes a file that exists, the original is copied (bytes, mode,
//!   owner) to `/var/lib/kcred/backup/<path>`; files and directories kcred creates are
//!   recorded. The record, `/var/lib/kcred/install-state.json`, is saved before each write,
//!   so an interrupted install can still be uninstalled.
//! - [`uninstall`] restores each original byte for byte (mode and owner too), removes what
//!   kcred created, and removes its own state, leaving the tree as it was before the first
//!   install. It refuses to overwrite a file changed since kcred wrote it, unless forced.

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fs::{normalize, parent_of, NodeFiles, RootFs};
use crate::plan::{ChangeKind, Plan};

/// kcred's own directory on the node.
pub const STATE_DIR: &str = "/var/lib/kcred";
/// The install record.
pub const STATE_FILE: &str = "/var/lib/kcred/install-state.json";
/// Where originals are kept.
pub const BACKUP_DIR: &str = "/var/lib/kcred/backup";

/// One file kcred wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Node path.
    pub path: String,
    /// Where the original is kept; `None` when kcred created the file.
    pub backup: Option<String>,
    /// The original's permission bits.
    pub mode: Option<u32>,
    /// The original's owner.
    pub uid: Option<u32>,
    /// The original's group.
    pub gid: Option<u32>,
    /// SHA-256 (hex) of what kcred last wrote.
    pub written_sha256: Option<String>,
    /// Whether a change of this file needs a kubelet restart (config, flags, gates).
    pub restart_relevant: bool,
}

/// The install record kept in [`STATE_FILE`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallState {
    /// Format version (1).
    pub version: u32,
    /// The profile of the last install.
    pub profile: String,
    /// Providers kcred added.
    pub owned_providers: BTreeSet<String>,
    /// Files kcred wrote, in first-write order.
    pub files: Vec<FileRecord>,
    /// Directories kcred created, in creation order.
    pub created_dirs: Vec<String>,
}

impl InstallState {
    /// Paths of files kcred wrote.
    pub fn owned_files(&self) -> BTreeSet<String> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }
}

/// An IO failure while applying or undoing; names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// An OS error.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// Node path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The state file is not kcred's JSON.
    #[error("{STATE_FILE} is corrupt ({0}); fix or remove it by hand")]
    State(String),
    /// A node file could not be read.
    #[error(transparent)]
    Read(#[from] crate::fs::ReadError),
    /// Files changed since kcred wrote them.
    #[error("files changed since kcred wrote them (uninstall would lose those changes; pass --force to restore the originals anyway): {}", .0.join(", "))]
    Modified(Vec<String>),
}

fn io<'a>(op: &'static str, path: &'a str) -> impl FnOnce(std::io::Error) -> ApplyError + 'a {
    move |source| ApplyError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads the install record, if any.
pub fn load_state(root: &RootFs) -> Result<Option<InstallState>, ApplyError> {
    match root.read(STATE_FILE)? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| ApplyError::State(e.to_string())),
    }
}

fn save_state(root: &RootFs, state: &InstallState) -> Result<(), ApplyError> {
    let mut bytes = serde_json::to_vec_pretty(state).expect("state serializes");
    bytes.push(b'\n');
    let host = root.host_path(STATE_FILE);
    atomic_write(&host, &bytes, 0o600).map_err(io("writing", STATE_FILE))
}

/// Writes `bytes` to `path` atomically with permission bits `mode`.
pub fn atomic_write(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.kcred-tmp"));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates the missing ancestors of `node_dir` (and itself), recording each.
fn ensure_dir(root: &RootFs, node_dir: &str, state: &mut InstallState) -> Result<(), ApplyError> {
    let mut missing = Vec::new();
    let mut d = normalize(node_dir);
    while d != "/" && !root.host_path(&d).exists() {
        missing.push(d.clone());
        d = parent_of(&d);
    }
    for d in missing.into_iter().rev() {
        std::fs::create_dir(root.host_path(&d)).map_err(io("creating directory", &d))?;
        std::fs::set_permissions(root.host_path(&d), std::fs::Permissions::from_mode(0o755))
            .map_err(io("chmod", &d))?;
        if !state.created_dirs.contains(&d) {
            state.created_dirs.push(d);
        }
    }
    Ok(())
}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Node paths written.
    pub written: Vec<String>,
    /// Originals backed up (node path, backup path).
    pub backed_up: Vec<(String, String)>,
}

/// Applies a plan under `root`. A plan without changes writes nothing (not even the state).
pub fn apply(root: &RootFs, plan: &Plan) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport::default();
    if plan.changes.is_empty() {
        return Ok(report);
    }
    let mut state = load_state(root)?.unwrap_or(InstallState {
        version: 1,
        ..InstallState::default()
    });
    state.profile = plan.profile.name().to_owned();
    state.owned_providers = plan.owned_providers.clone();
    ensure_dir(root, STATE_DIR, &mut state)?;
    for change in &plan.changes {
        let target = root.resolve(&change.path)?;
        let node_dir = parent_of(&normalize(&change.path));
        ensure_dir(root, &node_dir, &mut state)?;
        if !state.files.iter().any(|f| f.path == change.path) {
            let record = match std::fs::metadata(&target) {
                Ok(meta) => {
                    // Through the node-file reader: only a regular file, opened without
                    // blocking (a FIFO planted here would otherwise hang the install).
                    let original = NodeFiles::read(root, &change.path)?.ok_or_else(|| {
                        io("reading", &change.path)(std::io::ErrorKind::NotFound.into())
                    })?;
                    let backup = format!("{BACKUP_DIR}{}", normalize(&change.path));
                    ensure_dir(root, &parent_of(&backup), &mut state)?;
                    atomic_write(&root.host_path(&backup), &original, meta.mode() & 0o7777)
                        .map_err(io("backing up", &change.path))?;
                    report.backed_up.push((change.path.clone(), backup.clone()));
                    FileRecord {
                        path: change.path.clone(),
                        backup: Some(backup),
                        mode: Some(meta.mode() & 0o7777),
                        uid: Some(meta.uid()),
                        gid: Some(meta.gid()),
                        written_sha256: None,
                        restart_relevant: change.kind != ChangeKind::Plugin,
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileRecord {
                    path: change.path.clone(),
                    backup: None,
                    mode: None,
                    uid: None,
                    gid: None,
                    written_sha256: None,
                    restart_relevant: change.kind != ChangeKind::Plugin,
                },
                Err(e) => return Err(io("stat", &change.path)(e)),
            };
            state.files.push(record);
            save_state(root, &state)?;
        }
        // Keep an existing file's mode when kcred did not create it (a flag file stays 0600).
        let mode = match std::fs::metadata(&target) {
            Ok(m) if change.kind != ChangeKind::Plugin => m.mode() & 0o7777,
            _ => change.mode,
        };
        atomic_write(&target, &change.after, mode).map_err(io("writing", &change.path))?;
        if let Some(r) = state.files.iter_mut().find(|f| f.path == change.path) {
            r.written_sha256 = Some(sha256_hex(&change.after));
        }
        save_state(root, &state)?;
        report.written.push(change.path.clone());
    }
    Ok(report)
}

/// What [`uninstall`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UninstallReport {
    /// Originals restored.
    pub restored: Vec<String>,
    /// Files kcred had created, removed.
    pub removed: Vec<String>,
    /// Directories kcred had created, removed.
    pub removed_dirs: Vec<String>,
    /// Whether the kubelet must restart (a config, flag or gate file changed back).
    pub restart_needed: bool,
    /// Whether there was anything to undo.
    pub had_state: bool,
}

/// Restores every original and removes everything kcred created under `root`.
///
/// Without `force`, refuses (changing nothing) when a file differs from what kcred wrote.
/// With `dry_run`, only reports.
pub fn uninstall(root: &RootFs, force: bool, dry_run: bool) -> Result<UninstallReport, ApplyError> {
    let mut report = UninstallReport::default();
    let Some(state) = load_state(root)? else {
        return Ok(report);
    };
    report.had_state = true;
    let mut modified = Vec::new();
    for f in &state.files {
        let current = root.read(&f.path)?;
        let matches = match (&current, &f.written_sha256) {
            (Some(b), Some(h)) => sha256_hex(b) == *h,
            (None, _) => false,
            (Some(_), None) => false,
        };
        if !matches && f.written_sha256.is_some() {
            modified.push(f.path.clone());
        }
    }
    if !modified.is_empty() && !force {
        return Err(ApplyError::Modified(modified));
    }
    for f in state.files.iter().rev() {
        report.restart_needed |= f.restart_relevant;
        match &f.backup {
            Some(backup) => {
                report.restored.push(f.path.clone());
                if dry_run {
                    continue;
                }
                let bytes =
                    std::fs::read(root.host_path(backup)).map_err(io("reading backup", backup))?;
                let target = root.resolve(&f.path)?;
                atomic_write(&target, &bytes, f.mode.unwrap_or(0o644))
                    .map_err(io("restoring", &f.path))?;
                if let (Some(uid), Some(gid)) = (f.uid, f.gid) {
                    let _ = std::os::unix::fs::chown(&target, Some(uid), Some(gid));
                }
            }
            None => {
                report.removed.push(f.path.clone());
                if dry_run {
                    continue;
                }
                match std::fs::remove_file(root.resolve(&f.path)?) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io("removing", &f.path)(e)),
                }
            }
        }
    }
    if dry_run {
        report.removed_dirs = state.created_dirs.clone();
        return Ok(report);
    }
    // kcred's own files: backups and the state.
    let backup_host: PathBuf = root.host_path(BACKUP_DIR);
    if backup_host.exists() {
        std::fs::remove_dir_all(&backup_host).map_err(io("removing", BACKUP_DIR))?;
    }
    std::fs::remove_file(root.host_path(STATE_FILE)).map_err(io("removing", STATE_FILE))?;
    let mut dirs = state.created_dirs.clone();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in dirs {
        let host = root.host_path(&d);
        if !host.exists() {
            continue;
        }
        match std::fs::remove_dir(&host) {
            Ok(()) => report.removed_dirs.push(d),
            // Something else was put there since: leave it.
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => {}
            Err(e) => return Err(io("removing directory", &d)(e)),
        }
    }
    Ok(report)
}
