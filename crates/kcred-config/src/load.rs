//! `readCredentialProviderConfig`: read a config file or directory, decode, merge, hash.
//!
//! [`load_path`] is the only function of this crate that touches the file system;
//! [`load_files`] does the same decoding, merging and hashing on bytes already read.

use std::path::{Path, PathBuf};

use kcred_api::config::{decode_config, ConfigDecodeError, CredentialProvider};
use kcred_api::gostr::strconv_quote;
use kcred_kubelet::KubeletVersion;
use sha2::{Digest, Sha256};

use crate::gofmt::{go_quote_path, path_bytes};
use crate::gopath::{self, GoPathError};

/// The extensions a directory entry must have to be read (case-sensitive).
pub const CONFIG_EXTENSIONS: [&str; 3] = [".json", ".yaml", ".yml"];

/// kcred's limit on the size of one config file: 4 MiB. Real configs are a few KiB (a
/// provider takes about 200 bytes, so this holds ~20,000 providers); the limit exists so a
/// runaway or hostile file (a symlink to a huge file, a file being filled) cannot exhaust
/// memory, and with the YAML decoder's node limit it bounds the decoder's memory. The
/// kubelet has no limit.
pub const MAX_CONFIG_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A read, decoded and merged configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedConfig {
    /// Providers of all files, in file order then in-file order; names are unique.
    pub providers: Vec<CredentialProvider>,
    /// `sha256:<hex>` over the files read (see [`config_hash`]); the kubelet exports it as
    /// `kubelet_credential_provider_config_info{hash}`.
    pub hash: String,
    /// The files read, in order (one for a file path; the sorted matches for a directory).
    pub files: Vec<PathBuf>,
}

/// Why a configuration could not be read. `Display` is the kubelet's message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The path is the empty string.
    #[error("credential provider config path is empty")]
    EmptyPath,
    /// `stat` failed.
    #[error("unable to access path {}: {source}", go_quote_path(.path))]
    Access {
        /// The configured path.
        path: PathBuf,
        /// The OS error.
        source: GoPathError,
    },
    /// The directory could not be listed.
    #[error("unable to read directory {}: {source}", go_quote_path(.dir))]
    ReadDir {
        /// The configured directory.
        dir: PathBuf,
        /// The OS error.
        source: GoPathError,
    },
    /// The directory holds no `.json`, `.yaml` or `.yml` file.
    #[error("no configuration files found in directory {}", go_quote_path(.dir))]
    NoConfigFiles {
        /// The configured directory.
        dir: PathBuf,
    },
    /// A config file could not be read.
    #[error("unable to read file {}: {source}", go_quote_path(.file))]
    ReadFile {
        /// The file.
        file: PathBuf,
        /// The OS error.
        source: GoPathError,
    },
    /// A config file (or the config path) is not a regular file: a FIFO, a device, a socket.
    /// The kubelet would block on a FIFO or read a device forever; kcred refuses at once,
    /// without reading.
    #[error(
        "unable to read file {}: {} is {kind}, not a regular file: kcred reads only regular config files",
        go_quote_path(.file),
        go_quote_path(.file)
    )]
    NotRegularFile {
        /// The file.
        file: PathBuf,
        /// What it is instead (`a named pipe (FIFO)`, `a character device` ...).
        kind: &'static str,
    },
    /// A config file is larger than [`MAX_CONFIG_FILE_BYTES`] (kcred only).
    #[error(
        "unable to read file {}: it is larger than kcred's limit of {limit} bytes for a config file",
        go_quote_path(.file)
    )]
    TooLarge {
        /// The file.
        file: PathBuf,
        /// The limit ([`MAX_CONFIG_FILE_BYTES`]).
        limit: u64,
    },
    /// A config file could not be decoded.
    #[error("error decoding config {}: {source}", go_quote_path(.file))]
    Decode {
        /// The file.
        file: PathBuf,
        /// The decoder's error.
        source: ConfigDecodeError,
    },
    /// Two providers (in one file or across files) share a name.
    #[error("duplicate provider name {} found in configuration file(s)", strconv_quote(.name))]
    DuplicateProviderName {
        /// The repeated name.
        name: String,
    },
    /// A kubelet before 1.34 reads the config path as one file (`os.ReadFile`), so a
    /// directory or an unreadable path fails here.
    #[error("unable to read external registry credential provider configuration from {}: {source}", go_quote_path(.path))]
    ReadConfigFile {
        /// The configured path.
        path: PathBuf,
        /// The OS error.
        source: GoPathError,
    },
    /// A field this kubelet's config types do not have (`tokenAttributes` before 1.33,
    /// `tokenAttributes.cacheType` in 1.33): its strict decoding refuses the file.
    #[error("error decoding config {}: strict decoding error: unknown field {}", go_quote_path(.file), strconv_quote(.field))]
    UnknownField {
        /// The file.
        file: PathBuf,
        /// The field path, e.g. `providers[0].tokenAttributes`.
        field: String,
        /// The kubelet asked for.
        kubelet: KubeletVersion,
    },
}

impl LoadError {
    /// Why this kubelet, unlike newer ones, refuses the config, when that is the reason.
    pub fn version_note(&self) -> Option<String> {
        match self {
            LoadError::UnknownField { field, kubelet, .. } if field.ends_with(".cacheType") => {
                Some(format!(
                    "kubelet {kubelet} has no tokenAttributes.cacheType (added in 1.34, kubernetes/kubernetes#132617)"
                ))
            }
            LoadError::UnknownField { kubelet, .. } => Some(format!(
                "kubelet {kubelet} has no tokenAttributes (service-account token mode, added in 1.33, kubernetes/kubernetes#128372)"
            )),
            _ => None,
        }
    }
}

/// Reads the config at `path` as the kubelet's `--image-credential-provider-config` (1.34+).
///
/// A file is decoded whatever its name. A directory contributes every non-directory entry
/// (symlinks and hidden files included) whose extension is exactly `.json`, `.yaml` or `.yml`,
/// in byte order of the joined path. Files are read and decoded one at a time, so the first
/// failing file is the one reported.
///
/// Unlike the kubelet, each file must be a regular file (after following symlinks) of at
/// most [`MAX_CONFIG_FILE_BYTES`]: see [`read_config_file`]. This function blocks on file
/// IO; async callers run it with `spawn_blocking`.
pub fn load_path(path: &Path) -> Result<LoadedConfig, LoadError> {
    load_path_for(path, KubeletVersion::NEWEST)
}

/// [`load_path`] as a given kubelet reads its config: before 1.34 the path is one file
/// (no directories), and fields its config types lack are unknown.
pub fn load_path_for(path: &Path, kubelet: KubeletVersion) -> Result<LoadedConfig, LoadError> {
    if path.as_os_str().is_empty() {
        return Err(LoadError::EmptyPath);
    }
    if !kubelet.config_directory() {
        let bytes = read_whole(path).map_err(|fault| match fault {
            ReadFault::Os(source) => LoadError::ReadConfigFile {
                path: path.to_path_buf(),
                source,
            },
            other => other.into_load_error(path),
        })?;
        return merge(std::iter::once(Ok((path.to_path_buf(), bytes))), kubelet);
    }
    let meta = std::fs::metadata(path).map_err(|e| LoadError::Access {
        path: path.to_path_buf(),
        source: GoPathError::new("stat", path, e),
    })?;
    let files = if meta.is_dir() {
        list_config_files(path)?
    } else {
        vec![path.to_path_buf()]
    };
    merge(
        files.into_iter().map(|file| {
            let bytes = read_config_file(&file)?;
            Ok((file, bytes))
        }),
        kubelet,
    )
}

/// Decodes, merges and hashes files already read, in the order given.
///
/// This is [`load_path`] without the file system: the same messages, the same hash.
/// An empty list gives no providers (validation then rejects the config).
pub fn load_files(files: Vec<(PathBuf, Vec<u8>)>) -> Result<LoadedConfig, LoadError> {
    load_files_for(files, KubeletVersion::NEWEST)
}

/// [`load_files`] with the config types of a given kubelet.
pub fn load_files_for(
    files: Vec<(PathBuf, Vec<u8>)>,
    kubelet: KubeletVersion,
) -> Result<LoadedConfig, LoadError> {
    merge(files.into_iter().map(Ok), kubelet)
}

/// The kubelet's config hash: `sha256:` + hex of SHA-256 over, for each file in order,
/// its length as a big-endian `u64` followed by its bytes.
pub fn config_hash<'a>(files: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for bytes in files {
        hash_file(&mut hasher, bytes);
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

fn hash_file(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

/// Whether a directory entry's name makes it a config file.
pub fn is_config_file_name(name: &[u8]) -> bool {
    let ext = gopath::ext(name);
    CONFIG_EXTENSIONS.iter().any(|e| e.as_bytes() == ext)
}

fn list_config_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let read_dir_error = |op, e| LoadError::ReadDir {
        dir: dir.to_path_buf(),
        source: GoPathError::new(op, dir, e),
    };
    let entries = std::fs::read_dir(dir).map_err(|e| read_dir_error("open", e))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| read_dir_error("readdirent", e))?;
        let is_dir = match entry.file_type() {
            Ok(t) => t.is_dir(),
            // Go's ReadDir skips entries that vanish between listing and lstat.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(read_dir_error("lstat", e)),
        };
        let name = path_bytes(Path::new(&entry.file_name()));
        if !is_dir && is_config_file_name(&name) {
            files.push(gopath::join(dir, &name));
        }
    }
    files.sort_by_cached_key(|p| path_bytes(p));
    if files.is_empty() {
        return Err(LoadError::NoConfigFiles {
            dir: dir.to_path_buf(),
        });
    }
    Ok(files)
}

/// Reads one config file as [`load_path`] does: opened without blocking (a FIFO opens at
/// once), refused unless it is a regular file once open (so a symlink is judged by its
/// target, and a file swapped after a check cannot slip through), and read up to
/// [`MAX_CONFIG_FILE_BYTES`] (more is [`LoadError::TooLarge`]).
pub fn read_config_file(file: &Path) -> Result<Vec<u8>, LoadError> {
    read_whole(file).map_err(|fault| fault.into_load_error(file))
}

/// Why [`read_whole`] failed.
enum ReadFault {
    /// Go's `os.ReadFile` error (open or read).
    Os(GoPathError),
    /// Not a regular file: what it is.
    NotRegular(&'static str),
    /// Over [`MAX_CONFIG_FILE_BYTES`].
    TooLarge,
}

impl ReadFault {
    fn into_load_error(self, file: &Path) -> LoadError {
        match self {
            ReadFault::Os(source) => LoadError::ReadFile {
                file: file.to_path_buf(),
                source,
            },
            ReadFault::NotRegular(kind) => LoadError::NotRegularFile {
                file: file.to_path_buf(),
                kind,
            },
            ReadFault::TooLarge => LoadError::TooLarge {
                file: file.to_path_buf(),
                limit: MAX_CONFIG_FILE_BYTES,
            },
        }
    }
}

/// Opens `path` for reading without blocking: `open(2)` of a FIFO waits for a writer, so a
/// FIFO where a file is expected would hang the reader. `O_NONBLOCK` changes nothing for
/// regular files; callers check the metadata and refuse anything else.
pub fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Go `os.ReadFile` made safe: open without blocking, only a regular file (a directory
/// gives `os.ReadFile`'s `read <f>: is a directory`), at most [`MAX_CONFIG_FILE_BYTES`].
fn read_whole(file: &Path) -> Result<Vec<u8>, ReadFault> {
    use std::io::Read;
    let os = |op, e| ReadFault::Os(GoPathError::new(op, file, e));
    let f = open_nonblocking(file).map_err(|e| os("open", e))?;
    let meta = f.metadata().map_err(|e| os("stat", e))?;
    #[cfg(unix)]
    if meta.is_dir() {
        // What the kubelet's os.ReadFile reports (a symlink to a directory in a config dir).
        return Err(os("read", std::io::Error::from_raw_os_error(libc::EISDIR)));
    }
    if !meta.is_file() {
        return Err(ReadFault::NotRegular(file_kind(&meta.file_type())));
    }
    if meta.len() > MAX_CONFIG_FILE_BYTES {
        return Err(ReadFault::TooLarge);
    }
    // The size may have changed since the stat: read one byte more than allowed, at most.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    f.take(MAX_CONFIG_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| os("read", e))?;
    if bytes.len() as u64 > MAX_CONFIG_FILE_BYTES {
        return Err(ReadFault::TooLarge);
    }
    Ok(bytes)
}

/// What a non-regular file is, for [`LoadError::NotRegularFile`].
fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The first field of `config` that `kubelet`'s config types do not have.
fn unknown_field(
    config: &kcred_api::config::CredentialProviderConfig,
    kubelet: KubeletVersion,
) -> Option<String> {
    let support = kubelet.token_attributes();
    config
        .providers
        .iter()
        .enumerate()
        .find_map(|(i, provider)| {
            let attrs = provider.token_attributes.as_ref()?;
            match support {
                None => Some(format!("providers[{i}].tokenAttributes")),
                Some(s) if !s.cache_type_required && !attrs.cache_type.is_empty() => {
                    Some(format!("providers[{i}].tokenAttributes.cacheType"))
                }
                Some(_) => None,
            }
        })
}

fn merge(
    files: impl IntoIterator<Item = Result<(PathBuf, Vec<u8>), LoadError>>,
    kubelet: KubeletVersion,
) -> Result<LoadedConfig, LoadError> {
    let mut hasher = Sha256::new();
    let mut decoded = Vec::new();
    let mut paths = Vec::new();
    for item in files {
        let (file, bytes) = item?;
        hash_file(&mut hasher, &bytes);
        let config = decode_config(&bytes).map_err(|source| LoadError::Decode {
            file: file.clone(),
            source,
        })?;
        if let Some(field) = unknown_field(&config, kubelet) {
            return Err(LoadError::UnknownField {
                file,
                field,
                kubelet,
            });
        }
        decoded.push(config);
        paths.push(file);
    }
    let mut names = std::collections::HashSet::new();
    let mut providers = Vec::new();
    for config in decoded {
        for provider in config.providers {
            if !names.insert(provider.name.clone()) {
                return Err(LoadError::DuplicateProviderName {
                    name: provider.name,
                });
            }
            providers.push(provider);
        }
    }
    Ok(LoadedConfig {
        providers,
        hash: format!("sha256:{}", hex::encode(hasher.finalize())),
        files: paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_of_nothing_and_of_one_file() {
        assert_eq!(
            config_hash(std::iter::empty()),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // The length prefix makes ["ab", ""] and ["a", "b"] differ.
        assert_ne!(
            config_hash([b"ab".as_slice(), b"".as_slice()]),
            config_hash([b"a".as_slice(), b"b".as_slice()])
        );
    }

    #[test]
    fn extension_filter_is_exact() {
        for ok in [
            "a.json",
            "a.yaml",
            "a.yml",
            ".json",
            ".hidden.yaml",
            "x.tar.yml",
        ] {
            assert!(is_config_file_name(ok.as_bytes()), "{ok}");
        }
        for no in [
            "a.JSON",
            "a.Yaml",
            "a.txt",
            "json",
            "a.yaml~",
            "a.yaml.bak",
            "a.",
        ] {
            assert!(!is_config_file_name(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn empty_path_is_rejected() {
        assert_eq!(
            load_path(Path::new("")).unwrap_err().to_string(),
            "credential provider config path is empty"
        );
    }

    #[test]
    fn missing_path_message() {
        let err = load_path(Path::new("/nonexistent/kcred/x.yaml")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unable to access path \"/nonexistent/kcred/x.yaml\": stat /nonexistent/kcred/x.yaml: no such file or directory"
        );
    }
}
