//! Docker credential files as upstream's `pkg/credentialconfig` reads them: the legacy
//! `.dockercfg` map (what the `google-dockercfg` metadata attribute holds), `config.json`
//! (`{"auths": {...}}`) and the `auth` field (`base64(username:password)`).
//!
//! The parsing is kcred-match's, the one docker config parser of kcred
//! ([`kcred_match::keyring`]: Go `encoding/json` key folding, unknown keys ignored, `null`
//! leaving a field empty, `"auths": null` clearing the map); this module adds upstream's
//! search path and messages: any error fails the whole document with
//! `error occurred while trying to unmarshal json`, which quotes nothing, so no credential
//! can reach a log through it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use kcred_api::go::json::JsonWriter;
use kcred_api::Secret;
use kcred_match::keyring::{self, AuthFieldError};
use thiserror::Error;

/// A registry key (as written, e.g. `https://hello.kubernetes.io`) → credentials.
pub type DockerConfig = BTreeMap<String, DockerConfigEntry>;

/// One credential of a docker config (upstream `DockerConfigEntry`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DockerConfigEntry {
    /// `username`, or the part of `auth` before the first `:`.
    pub username: String,
    /// `password`, or the part of `auth` after the first `:`.
    pub password: Secret,
    /// `email` (read, never sent to the kubelet).
    pub email: String,
}

/// Errors reading docker configs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DockerConfigError {
    /// The document is not valid JSON of the expected shape, or an entry failed to decode.
    #[error("error occurred while trying to unmarshal json")]
    Unmarshal,
    /// `auth` is not valid base64 (Go's `base64.CorruptInputError` text).
    #[error("illegal base64 data at input byte {offset}")]
    AuthBase64 {
        /// Offset of the offending byte (after `\r`/`\n` are dropped).
        offset: usize,
    },
    /// `auth` decoded to text without a `:`.
    #[error("unable to parse auth field, must be formatted as base64(username:password)")]
    AuthFormat,
    /// No config file was found on the search path.
    #[error("couldn't find valid {file} after checking in [{}]", .searched.join(" "))]
    NotFound {
        /// `config.json` or `.dockercfg`.
        file: &'static str,
        /// The directories searched, in order.
        searched: Vec<String>,
    },
}

/// Upstream `decodeDockerConfigFieldAuth`, which is the kubelet's own
/// `decodeDockerConfigFieldAuth`: kcred-match implements it once (padded standard base64 when
/// the trimmed value ends with `=`, unpadded otherwise, `\r`/`\n` skipped, split at the first
/// `:`); this maps its error onto this crate's error type, with the same texts.
pub fn decode_auth_field(field: &str) -> Result<(String, Secret), DockerConfigError> {
    keyring::decode_auth_field(field).map_err(auth_error)
}

/// Upstream `encodeDockerConfigFieldAuth`: padded standard base64 of `username:password`.
pub(crate) fn encode_auth_field(username: &str, password: &Secret) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{}", password.expose()))
}

impl DockerConfigEntry {
    /// Decodes one entry object. On failure returns the entry as Go leaves it (fields set
    /// before the failure) together with the error.
    pub fn from_json(
        bytes: &[u8],
    ) -> Result<DockerConfigEntry, (DockerConfigEntry, DockerConfigError)> {
        match keyring::decode_entry(bytes) {
            Ok(entry) => Ok(entry.into()),
            Err(Ok(partial)) => Err((partial.entry.into(), auth_error(partial.error))),
            Err(Err(_)) => Err((DockerConfigEntry::default(), DockerConfigError::Unmarshal)),
        }
    }

    /// Upstream `DockerConfigEntry.MarshalJSON`: `username`, `password`, `email`, `auth`,
    /// each omitted when empty, `auth` always computed.
    pub fn to_json(&self) -> String {
        let auth = encode_auth_field(&self.username, &self.password);
        let fields = [
            ("username", self.username.as_str()),
            ("password", self.password.expose()),
            ("email", self.email.as_str()),
            ("auth", auth.as_str()),
        ];
        // json.Marshal's string encoding (HTML escaping on), as upstream's MarshalJSON.
        let mut w = JsonWriter::new();
        w.begin_object();
        for (k, v) in fields.iter().filter(|(_, v)| !v.is_empty()) {
            w.field_str(k, v);
        }
        w.end_object();
        w.finish()
    }
}

/// Upstream `ReadDockerConfigFileFromBytes`: a legacy `.dockercfg` map.
pub fn parse_dockercfg(bytes: &[u8]) -> Result<DockerConfig, DockerConfigError> {
    keyring::parse_dockercfg(bytes)
        .map(convert)
        .map_err(|_| DockerConfigError::Unmarshal)
}

/// Upstream `readDockerConfigJSONFileFromBytes`: the `auths` of a `config.json`.
pub fn parse_config_json(bytes: &[u8]) -> Result<DockerConfig, DockerConfigError> {
    keyring::parse_config_json(bytes)
        .map(convert)
        .map_err(|_| DockerConfigError::Unmarshal)
}

fn convert(cfg: keyring::DockerConfig) -> DockerConfig {
    // Inserting, not `collect()`: collecting into a BTreeMap sorts first, and each key/value
    // type's sort is ~4 kB of binary for entries that arrive sorted anyway.
    let mut out = DockerConfig::new();
    for (k, e) in cfg {
        out.insert(k, e.into());
    }
    out
}

impl From<keyring::DockerConfigEntry> for DockerConfigEntry {
    fn from(e: keyring::DockerConfigEntry) -> Self {
        DockerConfigEntry {
            username: e.username,
            password: e.password,
            email: e.email,
        }
    }
}

fn auth_error(e: AuthFieldError) -> DockerConfigError {
    match e {
        AuthFieldError::Base64 { offset } => DockerConfigError::AuthBase64 { offset },
        // `AuthFieldError` is non-exhaustive: any other reason is a malformed field too.
        AuthFieldError::MissingColon | _ => DockerConfigError::AuthFormat,
    }
}

/// The directories upstream searches for docker config files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPaths {
    /// The preferred path (`SetPreferredDockercfgPath`), `""` when unset.
    pub preferred: PathBuf,
    /// The working directory (upstream uses `""`, i.e. relative paths).
    pub working_dir: PathBuf,
    /// `$HOME`.
    pub home: PathBuf,
    /// `/`.
    pub root: PathBuf,
}

impl SearchPaths {
    /// Upstream's defaults for a preferred path: working dir `""`, `$HOME`, `/`.
    pub fn with_preferred(preferred: impl Into<PathBuf>, home: impl Into<PathBuf>) -> Self {
        SearchPaths {
            preferred: preferred.into(),
            working_dir: PathBuf::new(),
            home: home.into(),
            root: PathBuf::from("/"),
        }
    }

    fn config_json_dirs(&self) -> [PathBuf; 4] {
        [
            self.preferred.clone(),
            self.working_dir.clone(),
            self.home.join(".docker"),
            self.root.join(".docker"),
        ]
    }

    fn dockercfg_dirs(&self) -> [PathBuf; 4] {
        [
            self.preferred.clone(),
            self.working_dir.clone(),
            self.home.clone(),
            self.root.clone(),
        ]
    }
}

fn first_valid(
    dirs: &[PathBuf],
    file: &'static str,
    parse: fn(&[u8]) -> Result<DockerConfig, DockerConfigError>,
) -> Result<DockerConfig, DockerConfigError> {
    for dir in dirs {
        let path: PathBuf = Path::new(dir).join(file);
        let Ok(contents) = std::fs::read(&path) else {
            continue;
        };
        if let Ok(cfg) = parse(&contents) {
            return Ok(cfg);
        }
    }
    Err(DockerConfigError::NotFound {
        file,
        searched: dirs.iter().map(|d| d.display().to_string()).collect(),
    })
}

/// Upstream `ReadDockerConfigFile`: the first valid `config.json` in the preferred path,
/// the working directory, `$HOME/.docker`, `/.docker`; else the first valid legacy
/// `.dockercfg` in the preferred path, the working directory, `$HOME`, `/`.
pub fn read_docker_config_file(paths: &SearchPaths) -> Result<DockerConfig, DockerConfigError> {
    first_valid(&paths.config_json_dirs(), "config.json", parse_config_json)
        .or_else(|_| first_valid(&paths.dockercfg_dirs(), ".dockercfg", parse_dockercfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_json_escapes_like_json_marshal() {
        let entry = DockerConfigEntry {
            username: "u<&>".into(),
            password: Secret::new(""),
            email: "e\u{2029}".into(),
        };
        assert_eq!(
            entry.to_json(),
            "{\"username\":\"u\\u003c\\u0026\\u003e\",\"email\":\"e\\u2029\",\"auth\":\"dTwmPjo=\"}"
        );
    }

    #[test]
    fn auths_null_and_unicode_folding_match_go() {
        // Go zeroes the map on `"auths": null`: entries read before it are dropped.
        let doc = br#"{"auths":{"a.io":{"username":"u","password":"p"}},"auths":null}"#;
        assert!(parse_config_json(doc).unwrap().is_empty());
        // A repeated `auths` object merges into the same map.
        let doc = br#"{"auths":{"a.io":{"username":"u"}},"AUTHS":{"b.io":{"username":"v"}}}"#;
        assert_eq!(parse_config_json(doc).unwrap().len(), 2);
        // Go's foldName: the long s (U+017F) folds to `s`, the dotless i does not fold to `i`.
        let doc = "{\"authſ\":{\"a.io\":{\"uſername\":\"u\"}}}";
        assert_eq!(
            parse_config_json(doc.as_bytes()).unwrap()["a.io"].username,
            "u"
        );
        let doc = "{\"a.io\":{\"emaıl\":\"e\"}}";
        assert_eq!(parse_dockercfg(doc.as_bytes()).unwrap()["a.io"].email, "");
    }
    use proptest::prelude::*;

    #[test]
    fn keys_match_case_insensitively_and_last_duplicate_wins() {
        let e = DockerConfigEntry::from_json(br#"{"Username":"a","USERNAME":"b","Password":"p"}"#)
            .unwrap();
        assert_eq!(e.username, "b");
        assert_eq!(e.password.expose(), "p");
    }

    #[test]
    fn null_entry_and_null_fields_are_empty() {
        let cfg = parse_dockercfg(br#"{"r":null,"s":{"username":null,"email":"e"}}"#).unwrap();
        assert_eq!(cfg["r"], DockerConfigEntry::default());
        assert_eq!(cfg["s"].email, "e");
        assert!(parse_dockercfg(b"null").unwrap().is_empty());
    }

    #[test]
    fn config_json_shape_inside_dockercfg_is_a_key() {
        // A config.json given where a .dockercfg is expected: "auths" becomes a registry key
        // with an empty entry, as upstream's map decode does.
        let cfg = parse_dockercfg(br#"{"auths":{"r":{"username":"u"}}}"#).unwrap();
        assert_eq!(cfg.len(), 1);
        assert_eq!(cfg["auths"], DockerConfigEntry::default());
    }

    #[test]
    fn auth_errors_name_the_byte_and_quote_nothing() {
        let err = decode_auth_field("Zm9v!mJhcg==").unwrap_err();
        assert_eq!(err.to_string(), "illegal base64 data at input byte 4");
        let err = parse_dockercfg(br#"{"r":{"auth":"c2VjcmV0"}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "error occurred while trying to unmarshal json"
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_dockercfg(&bytes);
            let _ = parse_config_json(&bytes);
            let _ = DockerConfigEntry::from_json(&bytes);
        }

        #[test]
        fn auth_field_round_trips(user in "[^:]{0,20}", pass in "\\PC{0,30}") {
            let field = encode_auth_field(&user, &Secret::new(pass.clone()));
            let (u, p) = decode_auth_field(&field).unwrap();
            prop_assert_eq!(u, user);
            prop_assert_eq!(p.expose(), pass.as_str());
        }

        #[test]
        fn auth_field_decode_never_panics(s in "\\PC{0,60}") {
            let _ = decode_auth_field(&s);
        }
    }
}
