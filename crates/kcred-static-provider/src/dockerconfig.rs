//! Reading the credentials file: docker `config.json` (`{"auths": {...}}`) or the older
//! `.dockercfg` (the bare map), with the kubelet's entry rules (`auth` is base64 of
//! `user:pass` and overrides `username`/`password`).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use kcred_api::go::json::equal_fold;
use kcred_match::keyring::{self, DockerConfigEntry, DockerConfigFormat};
use kcred_plugin::{log, warn, Logger};
use serde_json::{Map, Value};
use thiserror::Error;

/// The largest credentials file read. Real files are a few KiB.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Top-level keys that mark a docker CLI `config.json` (as opposed to a bare `.dockercfg` map).
const CONFIG_JSON_KEYS: [&str; 3] = ["auths", "credsStore", "credHelpers"];

/// One registry entry of the file, in file-key order.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// The key as written (`https://index.docker.io/v1/`, `registry.io:5000`, `*.r.io`).
    pub key: String,
    /// The decoded credentials.
    pub entry: DockerConfigEntry,
}

/// The decoded file.
#[derive(Debug, Clone, Default)]
pub struct DockerConfigFile {
    /// Its entries, sorted by key.
    pub entries: Vec<FileEntry>,
    /// Keys of `credHelpers` (credential helpers are not run; listed for warnings).
    pub cred_helpers: Vec<String>,
    /// `credsStore` was set (not used; listed for warnings).
    pub creds_store: Option<String>,
}

/// Why the file cannot be used. Every message names the file; none contains a secret.
#[derive(Debug, Error)]
pub enum ConfigFileError {
    /// The file could not be opened or read.
    #[error("reading docker config {path:?}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The path is a directory or a special file.
    #[error("docker config {path:?} is not a regular file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("docker config {path:?} is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The file is not JSON.
    #[error("docker config {path:?} is not valid JSON: {detail}")]
    NotJson {
        /// The file.
        path: PathBuf,
        /// serde_json's position and reason (never the offending text).
        detail: String,
    },
    /// The file's structure is wrong.
    #[error("docker config {path:?}: {rule}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// The rule broken.
        rule: String,
    },
    /// One entry cannot be decoded.
    #[error("docker config {path:?}: entry {key:?}: {rule}")]
    Entry {
        /// The file.
        path: PathBuf,
        /// The entry's key.
        key: String,
        /// The rule broken (for example bad base64 in `auth`).
        rule: String,
    },
}

/// Reads and decodes the credentials file at `path`, warning on `log` when its mode lets
/// group or others read or write it.
pub fn load(path: &Path, log: &Logger) -> Result<DockerConfigFile, ConfigFileError> {
    let read_err = |source| ConfigFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(ConfigFileError::NotAFile {
            path: path.to_owned(),
        });
    }
    warn_if_exposed(path, &meta, log);
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    let config = parse(&bytes).map_err(|e| e.at(path))?;
    log!(
        log,
        3,
        "read {} entries from {:?}",
        config.entries.len(),
        path
    );
    Ok(config)
}

#[cfg(unix)]
fn warn_if_exposed(path: &Path, meta: &std::fs::Metadata, log: &Logger) {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        warn!(
            log,
            "docker config {:?} holds registry credentials but its mode {:04o} lets group or others access it; run: chmod 600 {:?}",
            path,
            mode,
            path
        );
    }
}

#[cfg(not(unix))]
fn warn_if_exposed(_path: &Path, _meta: &std::fs::Metadata, _log: &Logger) {}

/// A decoding error before the file name is attached.
#[derive(Debug)]
pub enum ParseError {
    /// Not JSON.
    NotJson(String),
    /// Wrong structure.
    Shape(String),
    /// A bad entry.
    Entry {
        /// Its key.
        key: String,
        /// The rule broken.
        rule: String,
    },
}

impl ParseError {
    fn at(self, path: &Path) -> ConfigFileError {
        let path = path.to_owned();
        match self {
            ParseError::NotJson(detail) => ConfigFileError::NotJson { path, detail },
            ParseError::Shape(rule) => ConfigFileError::Shape { path, rule },
            ParseError::Entry { key, rule } => ConfigFileError::Entry { path, key, rule },
        }
    }
}

/// Decodes the file's bytes (pure).
///
/// A top-level object with a key that folds (Go `encoding/json` folding) to `auths`,
/// `credsStore` or `credHelpers` is a docker CLI `config.json` (other top-level keys, such as
/// `HttpHeaders`, are ignored as the kubelet ignores them); any other object is a
/// `.dockercfg` map whose every value is an entry. The decoding is kcred-match's one docker
/// config parser ([`keyring::parse_docker_config`] with [`DockerConfigFormat::Detect`]:
/// Go's key folding, `"auths": null` clearing the map, repeated `auths` merging); a first
/// pass over the document names the entry and the rule for every error this provider
/// reports, without quoting a value.
pub fn parse(bytes: &[u8]) -> Result<DockerConfigFile, ParseError> {
    let top: Value =
        serde_json::from_slice(bytes).map_err(|e| ParseError::NotJson(json_error(&e)))?;
    let Value::Object(top) = top else {
        return Err(ParseError::Shape(format!(
            "the top level must be a JSON object (config.json {{\"auths\": {{...}}}} or a .dockercfg map), found {}",
            kind(&top)
        )));
    };
    let is_config_json = top
        .keys()
        .any(|k| CONFIG_JSON_KEYS.iter().any(|c| equal_fold(k, c)));
    if is_config_json {
        check_config_json(&top)?;
    } else {
        check_entries(&top, "")?;
    }
    let file = keyring::parse_docker_config(bytes, DockerConfigFormat::Detect)
        .map_err(|e| ParseError::Shape(e.to_string()))?;
    Ok(DockerConfigFile {
        // Sorted by key, as the map iterates.
        entries: file
            .auths
            .into_iter()
            .map(|(key, entry)| FileEntry { key, entry })
            .collect(),
        cred_helpers: file.cred_helpers,
        creds_store: file.creds_store,
    })
}

fn check_config_json(top: &Map<String, Value>) -> Result<(), ParseError> {
    for (name, auths) in top.iter().filter(|(k, _)| equal_fold(k, "auths")) {
        match auths {
            Value::Null => {}
            Value::Object(auths) => check_entries(auths, &format!("{name}."))?,
            other => {
                return Err(ParseError::Shape(format!(
                    "{name:?} must be an object mapping registries to credentials, found {}",
                    kind(other)
                )))
            }
        }
    }
    Ok(())
}

fn check_entries(map: &Map<String, Value>, prefix: &str) -> Result<(), ParseError> {
    for (key, value) in map {
        check_entry(value).map_err(|rule| ParseError::Entry {
            key: format!("{prefix}{key}"),
            rule,
        })?;
    }
    Ok(())
}

/// The entry fields the kubelet reads; Go matches them case-insensitively.
const ENTRY_FIELDS: [&str; 4] = ["username", "password", "email", "auth"];

/// Checks one entry as the kubelet's `DockerConfigEntry.UnmarshalJSON` reads it (decoding
/// and `auth` handling are `kcred_match`'s); `null` is an empty entry, as in Go.
///
/// Field types are checked here first so that no error can quote a value: serde's
/// "invalid type" messages would show the offending password.
fn check_entry(value: &Value) -> Result<(), String> {
    let Some(fields) = value.as_object() else {
        if value.is_null() {
            return Ok(());
        }
        return Err(format!(
            "must be an object with \"auth\" or \"username\"/\"password\", found {}",
            kind(value)
        ));
    };
    for (name, field) in fields {
        let known = ENTRY_FIELDS.iter().any(|f| equal_fold(name, f));
        if known && !(field.is_string() || field.is_null()) {
            return Err(format!(
                "field {name:?} must be a string, found {}",
                kind(field)
            ));
        }
    }
    serde_json::from_value::<DockerConfigEntry>(value.clone())
        .map(drop)
        .map_err(|e| {
            let message = e.to_string();
            let quotes_a_value = fields
                .values()
                .filter_map(Value::as_str)
                .any(|v| !v.is_empty() && message.contains(v));
            if quotes_a_value {
                "cannot be decoded".to_owned()
            } else {
                message
            }
        })
}

/// serde_json's error without the input (which may hold a password): category and position.
fn json_error(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Eof => "unexpected end of input",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn users(cfg: &DockerConfigFile) -> Vec<(&str, &str, &str)> {
        cfg.entries
            .iter()
            .map(|e| {
                (
                    e.key.as_str(),
                    e.entry.username.as_str(),
                    e.entry.password.expose(),
                )
            })
            .collect()
    }

    #[test]
    fn config_json_form() {
        let cfg = parse(
            br#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"},"r.io":{"username":"a","password":"b"}},
                "credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"},"HttpHeaders":{"X":"y"}}"#,
        )
        .unwrap();
        assert_eq!(
            users(&cfg),
            [
                ("https://index.docker.io/v1/", "u", "p"),
                ("r.io", "a", "b")
            ]
        );
        assert_eq!(cfg.creds_store.as_deref(), Some("desktop"));
        assert_eq!(cfg.cred_helpers, ["gcr.io"]);
    }

    #[test]
    fn config_json_without_auths_is_empty() {
        for text in [
            &br#"{"credsStore":"desktop"}"#[..],
            br#"{"auths":null}"#,
            br#"{"credHelpers":{}}"#,
        ] {
            assert!(parse(text).unwrap().entries.is_empty());
        }
    }

    #[test]
    fn repeated_auths_null_and_unicode_folding_match_go() {
        // Go decodes a repeated `auths` into the same map (entries merge).
        let cfg = parse(br#"{"auths":{"a.io":{"auth":"dTpw"}},"auths":{"b.io":{"auth":"dTpw"}}}"#)
            .unwrap();
        assert_eq!(cfg.entries.len(), 2);
        // `"auths": null` zeroes the map: entries read before it are dropped.
        let cfg = parse(br#"{"AUTHS":{"a.io":{"auth":"dTpw"}},"auths":null}"#).unwrap();
        assert!(cfg.entries.is_empty());
        // Go's foldName: the long s (U+017F) folds to `s` (`authſ` is `auths`).
        let cfg = parse("{\"authſ\":{\"a.io\":{\"uſername\":\"u\"}}}".as_bytes()).unwrap();
        assert_eq!(users(&cfg), [("a.io", "u", "")]);
    }

    #[test]
    fn dockercfg_form() {
        let cfg = parse(br#"{"r.io":{"auth":"dTpw","email":"e@x"},"q.io":{}}"#).unwrap();
        assert_eq!(users(&cfg), [("q.io", "", ""), ("r.io", "u", "p")]);
        assert!(cfg.cred_helpers.is_empty() && cfg.creds_store.is_none());
    }

    #[test]
    fn errors_carry_the_rule_and_never_the_text() {
        let rule = |text: &[u8]| match parse(text).unwrap_err() {
            ParseError::NotJson(d) => format!("json: {d}"),
            ParseError::Shape(r) => format!("shape: {r}"),
            ParseError::Entry { key, rule } => format!("entry {key}: {rule}"),
        };
        assert_eq!(rule(b"{\"r.io\": \"hunter2\"}"), "entry r.io: must be an object with \"auth\" or \"username\"/\"password\", found a string");
        assert_eq!(
            rule(b"{\"auths\": 7}"),
            "shape: \"auths\" must be an object mapping registries to credentials, found a number"
        );
        assert_eq!(rule(b"\"hunter2\""), "shape: the top level must be a JSON object (config.json {\"auths\": {...}} or a .dockercfg map), found a string");
        assert_eq!(
            rule(b"{\"a\": hunter2}"),
            "json: syntax error at line 1 column 7"
        );
        let e = rule(br#"{"auths":{"r.io":{"auth":"aHVudGVyMg=="}}}"#); // "hunter2", no ':'
        assert!(e.starts_with("entry auths.r.io: "), "{e}");
        assert!(!e.contains("hunter2") && !e.contains("aHVudGVyMg"), "{e}");
    }

    #[test]
    fn load_names_the_file() {
        let dir = std::env::temp_dir().join(format!("kcred-static-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        let path = dir.join("bad.json");
        std::fs::write(&path, "[").unwrap();
        let log = Logger::with_sink("t", 0, Box::new(std::io::sink()));
        let e = load(&path, &log).unwrap_err().to_string();
        assert_eq!(e, format!("docker config {path:?} is not valid JSON: unexpected end of input at line 1 column 1"));
        let e = load(&dir, &log).unwrap_err().to_string();
        assert_eq!(e, format!("docker config {dir:?} is not a regular file"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A file at the size bound can hold ~200 000 entries; merging them must not be
    /// quadratic (it took minutes, past the kubelet's one-minute exec timeout).
    #[test]
    fn a_file_at_the_size_bound_parses_with_last_value_winning() {
        let n = 200_000;
        let mut text = String::from("{\"auths\":{");
        for i in 0..n {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!("\"r{i}.io\":null"));
        }
        text.push_str(",\"r7.io\":{\"auth\":\"dTpw\"}}}");
        assert!(text.len() as u64 <= MAX_FILE_BYTES);
        let cfg = parse(text.as_bytes()).unwrap();
        assert_eq!(cfg.entries.len(), n);
        assert!(cfg.entries.windows(2).all(|w| w[0].key < w[1].key));
        let r7 = cfg.entries.iter().find(|e| e.key == "r7.io").unwrap();
        assert_eq!(
            r7.entry.username, "u",
            "a repeated key keeps the last value"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn parse_never_panics_on_json_shapes(v in json_value()) {
            let _ = parse(v.to_string().as_bytes());
        }
    }

    /// JSON values built from the words a docker config uses.
    fn json_value() -> impl Strategy<Value = Value> {
        let word = prop_oneof![
            Just("auths".to_owned()),
            Just("auth".to_owned()),
            Just("username".to_owned()),
            Just("password".to_owned()),
            Just("credsStore".to_owned()),
            Just("credHelpers".to_owned()),
            "[A-Za-z0-9+/=:.]{0,12}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::from),
            word.clone().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                proptest::collection::btree_map(word.clone(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
