//! Read-only views of a node's files: [`NodeFiles`] (what planning and checks read) with a
//! real implementation under a root directory ([`RootFs`]) and an in-memory one ([`MemFs`]).
//!
//! Paths are the node's absolute paths (`/etc/default/kubelet`); a root maps them to the
//! host (`/host/etc/default/kubelet` inside the installer DaemonSet). Absolute symlinks are
//! followed inside the root, never out of it.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use kcred_config::load::open_nonblocking;

/// The most bytes read from one node file (kubelet binaries are larger; they are never read
/// through this trait).
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Why a node file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// An OS error other than "not found".
    #[error("reading {path}: {source}")]
    Io {
        /// The node path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The path exists but is not a regular file (a directory, FIFO, device).
    #[error("reading {path}: not a regular file")]
    NotRegular {
        /// The node path.
        path: String,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("reading {path}: larger than {MAX_FILE_BYTES} bytes")]
    TooLarge {
        /// The node path.
        path: String,
    },
    /// Symlinks loop or nest too deeply.
    #[error("reading {path}: too many levels of symbolic links")]
    SymlinkLoop {
        /// The node path.
        path: String,
    },
}

/// A read-only view of a node's file system.
pub trait NodeFiles {
    /// The file's bytes, `None` when it does not exist.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, ReadError>;
    /// Whether the path is a directory.
    fn is_dir(&self, path: &str) -> bool;
    /// Whether anything exists at the path.
    fn exists(&self, path: &str) -> bool;
    /// The names of a directory's entries, sorted bytewise; empty when it is not a directory.
    fn list_dir(&self, path: &str) -> Vec<String>;
}

/// A node whose `/` is a directory of this machine (`/` itself, or `/host`).
#[derive(Debug, Clone)]
pub struct RootFs {
    root: PathBuf,
}

impl RootFs {
    /// A view rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RootFs { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Maps a node path to this machine's path, without following symlinks.
    pub fn host_path(&self, node_path: &str) -> PathBuf {
        self.root.join(node_path.trim_start_matches('/'))
    }

    /// Maps a node path to this machine's path, following symlinks of the last components
    /// (absolute targets re-rooted), so the result is what the node would open.
    pub fn resolve(&self, node_path: &str) -> Result<PathBuf, ReadError> {
        let mut current = normalize(node_path);
        for _ in 0..40 {
            let host = self.host_path(&current);
            match std::fs::symlink_metadata(&host) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = std::fs::read_link(&host).map_err(|source| ReadError::Io {
                        path: current.clone(),
                        source,
                    })?;
                    let target = target.to_string_lossy().into_owned();
                    current = if target.starts_with('/') {
                        normalize(&target)
                    } else {
                        let parent = parent_of(&current);
                        normalize(&format!("{parent}/{target}"))
                    };
                }
                _ => return Ok(host),
            }
        }
        Err(ReadError::SymlinkLoop {
            path: node_path.to_owned(),
        })
    }
}

/// `/a/./b/../c` → `/a/c` (lexical; the node's view).
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The parent of a normalized node path (`/` for `/x`).
pub fn parent_of(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => path[..i].to_owned(),
    }
}

/// Joins a directory and a name as node paths.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

impl NodeFiles for RootFs {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, ReadError> {
        let host = self.resolve(path)?;
        let io = |source| ReadError::Io {
            path: path.to_owned(),
            source,
        };
        // Without blocking: a node file planted as a FIFO must give "not a regular file",
        // not a hung installer or doctor.
        let file = match open_nonblocking(&host) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(ReadError::NotRegular {
                path: path.to_owned(),
            });
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(ReadError::TooLarge {
                path: path.to_owned(),
            });
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(ReadError::TooLarge {
                path: path.to_owned(),
            });
        }
        Ok(Some(bytes))
    }

    fn is_dir(&self, path: &str) -> bool {
        self.resolve(path).map(|p| p.is_dir()).unwrap_or(false)
    }

    fn exists(&self, path: &str) -> bool {
        self.resolve(path)
            .map(|p| std::fs::symlink_metadata(p).is_ok())
            .unwrap_or(false)
    }

    fn list_dir(&self, path: &str) -> Vec<String> {
        let Ok(host) = self.resolve(path) else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(host) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }
}

/// An in-memory node: files by absolute path; directories are implied by file paths or
/// added with [`MemFs::dir`].
#[derive(Debug, Clone, Default)]
pub struct MemFs {
    files: BTreeMap<String, Vec<u8>>,
    dirs: std::collections::BTreeSet<String>,
}

impl MemFs {
    /// An empty node.
    pub fn new() -> Self {
        MemFs::default()
    }

    /// Adds a file (and its parent directories).
    pub fn file(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        let path = normalize(path);
        self.add_parents(&path);
        self.files.insert(path, bytes.into());
        self
    }

    /// Adds an empty directory (and its parents).
    pub fn dir(mut self, path: &str) -> Self {
        let path = normalize(path);
        self.add_parents(&path);
        self.dirs.insert(path);
        self
    }

    fn add_parents(&mut self, path: &str) {
        let mut p = parent_of(path);
        loop {
            self.dirs.insert(p.clone());
            if p == "/" {
                break;
            }
            p = parent_of(&p);
        }
    }
}

impl NodeFiles for MemFs {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, ReadError> {
        let path = normalize(path);
        if self.dirs.contains(&path) {
            return Err(ReadError::NotRegular { path });
        }
        Ok(self.files.get(&path).cloned())
    }

    fn is_dir(&self, path: &str) -> bool {
        self.dirs.contains(&normalize(path))
    }

    fn exists(&self, path: &str) -> bool {
        let path = normalize(path);
        self.dirs.contains(&path) || self.files.contains_key(&path)
    }

    fn list_dir(&self, path: &str) -> Vec<String> {
        let dir = normalize(path);
        let prefix = if dir == "/" {
            dir.clone()
        } else {
            format!("{dir}/")
        };
        let mut names: Vec<String> = self
            .files
            .keys()
            .chain(self.dirs.iter())
            .filter_map(|p| p.strip_prefix(&prefix))
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize("/a/./b/../c/"), "/a/c");
        assert_eq!(normalize("/../x"), "/x");
        assert_eq!(parent_of("/x"), "/");
        assert_eq!(parent_of("/x/y"), "/x");
    }

    #[test]
    fn absolute_symlinks_stay_in_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc/real")).unwrap();
        std::fs::write(dir.path().join("etc/real/kubelet"), b"X=1\n").unwrap();
        std::os::unix::fs::symlink("/etc/real/kubelet", dir.path().join("etc/link")).unwrap();
        let fs = RootFs::new(dir.path());
        assert_eq!(fs.read("/etc/link").unwrap().unwrap(), b"X=1\n");
        std::os::unix::fs::symlink("/etc/loop", dir.path().join("etc/loop")).unwrap();
        assert!(matches!(
            fs.read("/etc/loop"),
            Err(ReadError::SymlinkLoop { .. })
        ));
        assert!(matches!(fs.read("/etc"), Err(ReadError::NotRegular { .. })));
        assert_eq!(fs.read("/etc/missing").unwrap(), None);
    }

    #[test]
    fn memfs_lists() {
        let fs = MemFs::new()
            .file("/a/b/c", "1")
            .file("/a/d", "2")
            .dir("/a/e");
        assert_eq!(fs.list_dir("/a"), vec!["b", "d", "e"]);
        assert!(fs.is_dir("/a/b"));
        assert_eq!(fs.read("/a/d").unwrap().unwrap(), b"2");
    }
}
