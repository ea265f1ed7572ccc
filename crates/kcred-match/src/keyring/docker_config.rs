//! Docker credential files as the kubelet reads them (kubernetes/kubernetes
//! `pkg/credentialprovider/config.go`; docs/ARCHITECTURE.md, "The docker config parser"):
//! `config.json` (`{"auths": {...}}`) and `.dockercfg` (the bare map), whose entries are
//! `{username, password, email, auth}`.
//!
//! Decoding follows Go's `encoding/json` as the kubelet relies on it: field names match
//! case-insensitively, unknown fields (`credHelpers`, `credsStore`, `identitytoken`, ...)
//! are ignored, `null` leaves a field empty, a repeated key keeps the last value, and invalid
//! UTF-8 becomes U+FFFD. A non-empty `auth` is base64 of `user:pass` and overrides
//! `username` and `password`.

use std::collections::BTreeMap;
use std::fmt;

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use kcred_api::Secret;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

/// Registry location (as written in the file) → credentials: Go's `DockerConfig`.
pub type DockerConfig = BTreeMap<String, DockerConfigEntry>;

/// One credential entry: Go's `DockerConfigEntry` after `auth` decoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerConfigEntry {
    /// `username` (or the part of `auth` before the first `:`).
    pub username: String,
    /// `password` (or the part of `auth` after the first `:`).
    pub password: Secret,
    /// `email`.
    pub email: String,
}

/// Why an `auth` field could not be decoded. Never shows the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFieldError {
    /// Not valid base64 (padded input is read as standard base64, unpadded input as raw
    /// standard base64, as the kubelet does).
    #[error("illegal base64 data at input byte {offset}")]
    Base64 {
        /// Where decoding failed.
        offset: usize,
    },
    /// The decoded value has no `:`.
    #[error("unable to parse auth field, must be formatted as base64(username:password)")]
    MissingColon,
}

/// Why a docker credential file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid docker credential file: {detail}")]
pub struct DockerConfigError {
    detail: String,
}

impl DockerConfigError {
    /// The decoder's explanation (field and position; never a secret value).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

const STANDARD_PADDED: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

const STANDARD_RAW: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// The kubelet's `decodeDockerConfigFieldAuth`: base64 (standard when the trimmed value
/// ends in `=`, raw otherwise; Go skips `\r` and `\n`), then split on the first `:`.
///
/// ```
/// use kcred_match::keyring::decode_auth_field;
/// let (user, pass) = decode_auth_field("Zm9vOmJhcg==").unwrap();
/// assert_eq!((user.as_str(), pass.expose()), ("foo", "bar"));
/// assert!(decode_auth_field("Zm9v").is_err()); // "foo" has no ':'
/// ```
pub fn decode_auth_field(field: &str) -> Result<(String, Secret), AuthFieldError> {
    let cleaned: Vec<u8> = field
        .bytes()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    let engine = if field.trim().ends_with('=') {
        &STANDARD_PADDED
    } else {
        &STANDARD_RAW
    };
    let decoded = engine
        .decode(&cleaned)
        .map_err(|e| AuthFieldError::Base64 {
            offset: match e {
                base64::DecodeError::InvalidByte(offset, _)
                | base64::DecodeError::InvalidLastSymbol(offset, _) => offset,
                base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => {
                    cleaned.len()
                }
            },
        })?;
    // Go keeps the bytes; every consumer re-encodes them as JSON, where Go writes invalid
    // UTF-8 as U+FFFD, so the lossy conversion gives the same result.
    let decoded = String::from_utf8_lossy(&decoded);
    let (user, pass) = decoded
        .split_once(':')
        .ok_or(AuthFieldError::MissingColon)?;
    Ok((user.to_owned(), Secret::new(pass)))
}

/// Fields of a docker config entry, matched as Go's `encoding/json` matches struct fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryField {
    Username,
    Password,
    Email,
    Auth,
}

/// Go `encoding/json`'s folded field-name match (KELVIN SIGN and LONG S included).
fn go_json_name_eq(key: &str, field: &str) -> bool {
    kcred_api::go::json::equal_fold(key, field)
}

fn entry_field(key: &str) -> Option<EntryField> {
    [
        ("username", EntryField::Username),
        ("password", EntryField::Password),
        ("email", EntryField::Email),
        ("auth", EntryField::Auth),
    ]
    .into_iter()
    .find(|(name, _)| go_json_name_eq(key, name))
    .map(|(_, field)| field)
}

/// An entry's four string fields as written (Go's `dockerConfigEntryWithAuth`), before the
/// `auth` field is decoded. Keys match with Go's folding, unknown keys are ignored, `null`
/// leaves a field empty and a repeated key keeps the last value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawDockerConfigEntry {
    /// `username`.
    pub username: String,
    /// `password`.
    pub password: Secret,
    /// `email`.
    pub email: String,
    /// `auth` (base64 of `username:password`; a secret too).
    pub auth: Secret,
}

/// An entry whose `auth` field did not decode, as Go's `DockerConfigEntry.UnmarshalJSON`
/// leaves it: `username` and `password` empty, `email` kept. The kubelet drops the whole
/// file on this error; `auth-provider-gcp`'s conformance reports the entry too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialEntry {
    /// The entry Go leaves behind.
    pub entry: DockerConfigEntry,
    /// Why `auth` did not decode.
    pub error: AuthFieldError,
}

impl RawDockerConfigEntry {
    /// Go's `DockerConfigEntry.UnmarshalJSON` after the JSON step: a non-empty `auth`
    /// replaces `username` and `password`.
    pub fn resolve(self) -> Result<DockerConfigEntry, PartialEntry> {
        if self.auth.is_empty() {
            return Ok(DockerConfigEntry {
                username: self.username,
                password: self.password,
                email: self.email,
            });
        }
        match decode_auth_field(self.auth.expose()) {
            Ok((username, password)) => Ok(DockerConfigEntry {
                username,
                password,
                email: self.email,
            }),
            Err(error) => Err(PartialEntry {
                entry: DockerConfigEntry {
                    email: self.email,
                    ..DockerConfigEntry::default()
                },
                error,
            }),
        }
    }
}

impl<'de> Deserialize<'de> for RawDockerConfigEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EntryVisitor)
    }
}

impl<'de> Deserialize<'de> for DockerConfigEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ResolvedEntryVisitor)
    }
}

/// [`EntryVisitor`], then `auth` decoding inside the visit, so that an `auth` error carries
/// the position of the entry's last byte as it always has.
struct ResolvedEntryVisitor;

impl<'de> Visitor<'de> for ResolvedEntryVisitor {
    type Value = DockerConfigEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        EntryVisitor.expecting(f)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(DockerConfigEntry::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        EntryVisitor
            .visit_map(map)?
            .resolve()
            .map_err(|partial| de::Error::custom(partial.error))
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = RawDockerConfigEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a docker config entry object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        // Go calls UnmarshalJSON("null"), which leaves the entry empty.
        Ok(RawDockerConfigEntry::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut raw = RawDockerConfigEntry::default();
        while let Some(key) = map.next_key::<String>()? {
            let Some(field) = entry_field(&key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if let Some(value) = map.next_value::<Option<String>>()? {
                match field {
                    EntryField::Username => raw.username = value,
                    EntryField::Password => raw.password = Secret::new(value),
                    EntryField::Email => raw.email = value,
                    EntryField::Auth => raw.auth = Secret::new(value),
                }
            }
        }
        Ok(raw)
    }
}

/// Decodes one entry object (Go `json.Unmarshal` into a `DockerConfigEntry`).
///
/// `Err(Ok(partial))`: the JSON was fine but `auth` did not decode ([`PartialEntry`]);
/// `Err(Err(e))`: the JSON itself was rejected (Go leaves the entry untouched).
///
/// ```
/// use kcred_match::keyring::decode_entry;
/// let partial = decode_entry(br#"{"auth":"Zm9v","email":"e@x"}"#).unwrap_err().unwrap();
/// assert_eq!(partial.entry.email, "e@x");
/// assert_eq!(partial.entry.username, "");
/// ```
pub fn decode_entry(
    bytes: &[u8],
) -> Result<DockerConfigEntry, Result<PartialEntry, DockerConfigError>> {
    decode::<RawDockerConfigEntry>(bytes)
        .map_err(Err)?
        .resolve()
        .map_err(Ok)
}

/// `.dockercfg`: the bare map (Go `json.Unmarshal(contents, &DockerConfig)`).
struct BareMap(DockerConfig);

impl<'de> Deserialize<'de> for BareMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<DockerConfig>::deserialize(deserializer).map(|m| BareMap(m.unwrap_or_default()))
    }
}

/// `config.json`: Go's `DockerConfigJSON { Auths DockerConfig "auths"; HTTPHeaders
/// map[string]string "HttpHeaders" }`; every other field is ignored by the kubelet. The
/// docker CLI's `credHelpers` keys and `credsStore` are collected for readers that report
/// them (the kubelet never runs helpers); a value of another type is ignored, as the
/// kubelet ignores these fields.
#[derive(Default)]
struct ConfigJson {
    auths: DockerConfig,
    cred_helpers: Vec<String>,
    creds_store: Option<String>,
}

impl<'de> Deserialize<'de> for ConfigJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ConfigJsonVisitor)
    }
}

struct ConfigJsonVisitor;

impl<'de> Visitor<'de> for ConfigJsonVisitor {
    type Value = ConfigJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a docker config.json object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ConfigJson::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut cfg = ConfigJson::default();
        while let Some(key) = map.next_key::<String>()? {
            if go_json_name_eq(&key, "auths") {
                match map.next_value::<Option<DockerConfig>>()? {
                    // Go decodes a repeated object into the same map, and null sets it to nil.
                    Some(more) => cfg.auths.extend(more),
                    None => cfg.auths.clear(),
                }
            } else if go_json_name_eq(&key, "httpheaders") {
                map.next_value::<Option<BTreeMap<String, Option<String>>>>()?;
            } else if go_json_name_eq(&key, "credhelpers") {
                if let serde_json::Value::Object(helpers) = map.next_value()? {
                    cfg.cred_helpers = helpers.into_iter().map(|(k, _)| k).collect();
                }
            } else if go_json_name_eq(&key, "credsstore") {
                if let serde_json::Value::String(store) = map.next_value()? {
                    cfg.creds_store = Some(store).filter(|s| !s.is_empty());
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(cfg)
    }
}

/// The top-level keys of a document, for [`DockerConfigFormat::Detect`].
struct TopLevelKeys(Vec<String>);

impl<'de> Deserialize<'de> for TopLevelKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = TopLevelKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a docker credential file object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(TopLevelKeys(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(TopLevelKeys(keys))
            }
        }
        deserializer.deserialize_any(KeysVisitor)
    }
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, DockerConfigError> {
    // Invalid UTF-8 becomes U+FFFD first, as Go decodes it; the slice reader is the one the
    // plugins' other JSON goes through, so its code is shared rather than duplicated.
    let text = String::from_utf8_lossy(bytes);
    serde_json::from_slice(text.as_bytes()).map_err(|e| DockerConfigError {
        detail: error_detail(&e),
    })
}

/// serde_json's message without the offending value: its "invalid type"/"invalid value"
/// messages quote it (`invalid type: string "<auth>", expected ...`, `integer `123456``),
/// and in a credential file that value may be a password or an `auth` field. The kind of
/// value, what was expected and the position are kept. Other messages (syntax errors,
/// [`AuthFieldError`]) never quote the input.
fn error_detail(e: &serde_json::Error) -> String {
    let position = format!(" at line {} column {}", e.line(), e.column());
    let message = e.to_string();
    let message = message.strip_suffix(&position).unwrap_or(&message);
    let redacted = ["invalid type: ", "invalid value: "]
        .into_iter()
        .find_map(|prefix| {
            let unexpected = message.strip_prefix(prefix)?;
            // The expectation comes from this module's types, never from the input, and
            // none of them contains ", expected "; the value comes first, so search from
            // the end.
            let expected = &message[message.rfind(", expected ")?..];
            let kind = [
                "string",
                "integer",
                "floating point",
                "boolean",
                "char",
                "byte array",
                "sequence",
                "map",
                "null",
                "unit value",
                "Option value",
                "newtype struct",
            ]
            .into_iter()
            .find(|k| unexpected.starts_with(k))
            .unwrap_or("value");
            Some(format!("{prefix}{kind}{expected}"))
        });
    format!("{}{position}", redacted.as_deref().unwrap_or(message))
}

/// Parses a docker `config.json` (`{"auths": {...}}`), tolerating unknown fields.
///
/// ```
/// let cfg = kcred_match::keyring::parse_config_json(
///     br#"{"auths":{"r.io":{"auth":"dTpw"}},"credHelpers":{"x.io":"helper"}}"#,
/// ).unwrap();
/// assert_eq!(cfg["r.io"].username, "u");
/// ```
pub fn parse_config_json(bytes: &[u8]) -> Result<DockerConfig, DockerConfigError> {
    decode::<ConfigJson>(bytes).map(|c| c.auths)
}

/// Parses a legacy `.dockercfg` (the bare location → entry map).
pub fn parse_dockercfg(bytes: &[u8]) -> Result<DockerConfig, DockerConfigError> {
    decode::<BareMap>(bytes).map(|c| c.0)
}

/// Which docker credential file format a document is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerConfigFormat {
    /// `config.json`: `{"auths": {...}}` (the kubelet's `readDockerConfigJSONFileFromBytes`).
    ConfigJson,
    /// `.dockercfg`: the bare location → entry map (`readDockerConfigFileFromBytes`).
    Dockercfg,
    /// `config.json` when a top-level key folds (Go `encoding/json` folding) to `auths`,
    /// `credsStore` or `credHelpers`, else `.dockercfg`: one file that may be either, as
    /// `static-credential-provider` reads it.
    Detect,
}

/// A docker credential file as read: its entries and what the docker CLI would do besides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerConfigFile {
    /// The entries (`auths` of a `config.json`, or the whole `.dockercfg` map), sorted by key.
    pub auths: DockerConfig,
    /// Whether the document was read as a `config.json` (else as a `.dockercfg`).
    pub is_config_json: bool,
    /// The registries of a `config.json`'s `credHelpers` (never run; for warnings).
    pub cred_helpers: Vec<String>,
    /// A `config.json`'s non-empty `credsStore` (never run; for warnings).
    pub creds_store: Option<String>,
}

/// Reads a docker credential file in `format`, with the kubelet's rules for every format:
/// Go `encoding/json` key folding (KELVIN SIGN and LONG S included), unknown fields ignored,
/// `null` leaving a field empty and `"auths": null` clearing the entries read so far, a
/// repeated `auths` merging into the same map, `auth` overriding `username`/`password`.
/// This is the one docker config parser of kcred.
///
/// ```
/// use kcred_match::keyring::{parse_docker_config, DockerConfigFormat};
/// let doc = br#"{"credHelpers":{"gcr.io":"gcloud"},"auths":{"r.io":{"auth":"dTpw"}}}"#;
/// let file = parse_docker_config(doc, DockerConfigFormat::Detect).unwrap();
/// assert!(file.is_config_json);
/// assert_eq!(file.auths["r.io"].username, "u");
/// assert_eq!(file.cred_helpers, ["gcr.io"]);
/// ```
pub fn parse_docker_config(
    bytes: &[u8],
    format: DockerConfigFormat,
) -> Result<DockerConfigFile, DockerConfigError> {
    let is_config_json = match format {
        DockerConfigFormat::ConfigJson => true,
        DockerConfigFormat::Dockercfg => false,
        DockerConfigFormat::Detect => decode::<TopLevelKeys>(bytes)?.0.iter().any(|k| {
            ["auths", "credsstore", "credhelpers"]
                .iter()
                .any(|name| go_json_name_eq(k, name))
        }),
    };
    if is_config_json {
        let cfg = decode::<ConfigJson>(bytes)?;
        Ok(DockerConfigFile {
            auths: cfg.auths,
            is_config_json,
            cred_helpers: cfg.cred_helpers,
            creds_store: cfg.creds_store,
        })
    } else {
        Ok(DockerConfigFile {
            auths: parse_dockercfg(bytes)?,
            ..DockerConfigFile::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_field_decoding() {
        let decode = |s: &str| decode_auth_field(s).map(|(u, p)| (u, p.expose().to_owned()));
        assert_eq!(decode("Zm9vOmJhcg=="), Ok(("foo".into(), "bar".into())));
        assert_eq!(decode("Zm9vOmJhcg"), Ok(("foo".into(), "bar".into())));
        assert_eq!(decode("Zm9v\nOmJhcg=="), Ok(("foo".into(), "bar".into())));
        // Split on the first colon only.
        assert_eq!(decode("YTpiOmM="), Ok(("a".into(), "b:c".into())));
        assert_eq!(decode("Zm9v"), Err(AuthFieldError::MissingColon));
        assert!(matches!(
            decode("Zm9vOmJhcg="),
            Err(AuthFieldError::Base64 { .. })
        ));
        assert_eq!(
            decode("Zm9v!mJh"),
            Err(AuthFieldError::Base64 { offset: 4 })
        );
    }

    #[test]
    fn auths_null_and_repeats_follow_go() {
        // null sets the map to nil; a later object starts a new map; a repeated key
        // replaces the whole entry (Go zeroes the map element before decoding into it).
        let cfg = parse_config_json(
            br#"{"auths":{"a.io":{"username":"a"}},"auths":null,"AUTHS":{"b.io":{"username":"b"}},
                "auths":{"b.io":{"email":"e"}}}"#,
        )
        .unwrap();
        assert_eq!(cfg.len(), 1);
        assert_eq!(cfg["b.io"].username, "");
        assert_eq!(cfg["b.io"].email, "e");
        assert!(parse_config_json(br#"{"auths":{"a.io":{}},"auths":null}"#)
            .unwrap()
            .is_empty());
        assert!(parse_config_json(br#"{"auths":null}"#).unwrap().is_empty());
        // KELVIN SIGN / LONG S keys fold onto ASCII field names, other look-alikes do not.
        let cfg = parse_config_json(
            "{\"auth\u{17F}\":{\"r.io\":{\"u\u{17F}ername\":\"u\"}},\"\u{131}gnored\":1}"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(cfg["r.io"].username, "u");
        assert!(
            parse_config_json("{\"\u{130}auths\":{\"r.io\":{}}}".as_bytes())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn detects_the_format_and_reports_helpers() {
        let file = parse_docker_config(
            br#"{"r.io":{"username":"u"},"credsStore":"desktop"}"#,
            DockerConfigFormat::Detect,
        )
        .unwrap();
        assert!(file.is_config_json);
        assert!(file.auths.is_empty());
        assert_eq!(file.creds_store.as_deref(), Some("desktop"));
        let file = parse_docker_config(br#"{"r.io":{"username":"u"}}"#, DockerConfigFormat::Detect)
            .unwrap();
        assert!(!file.is_config_json);
        assert_eq!(file.auths["r.io"].username, "u");
        // Types the kubelet ignores stay ignored.
        let file = parse_docker_config(
            br#"{"credHelpers":[1],"credsStore":5,"auths":{}}"#,
            DockerConfigFormat::ConfigJson,
        )
        .unwrap();
        assert!(file.cred_helpers.is_empty());
        assert_eq!(file.creds_store, None);
        assert!(parse_docker_config(b"[]", DockerConfigFormat::Detect).is_err());
        assert_eq!(
            parse_docker_config(b"null", DockerConfigFormat::Detect).unwrap(),
            DockerConfigFile::default()
        );
    }

    #[test]
    fn partial_entries_are_what_go_leaves() {
        let partial = decode_entry(br#"{"username":"u","password":"p","email":"e","auth":"Zm9v"}"#)
            .unwrap_err()
            .unwrap();
        assert_eq!(partial.error, AuthFieldError::MissingColon);
        assert_eq!(
            partial.entry,
            DockerConfigEntry {
                email: "e".into(),
                ..DockerConfigEntry::default()
            }
        );
        assert!(decode_entry(br#"{"username":1}"#).unwrap_err().is_err());
        let entry = decode_entry(br#"{"Auth":"dTpw","EMAIL":"e"}"#).unwrap();
        assert_eq!(
            (entry.username.as_str(), entry.password.expose()),
            ("u", "p")
        );
    }

    #[test]
    fn field_names_fold_like_go() {
        assert!(go_json_name_eq("USERNAME", "username"));
        assert!(go_json_name_eq("Auth", "auth"));
        assert!(go_json_name_eq("pa\u{17F}\u{17F}word", "password"));
        assert!(!go_json_name_eq("user", "username"));
        assert!(!go_json_name_eq("usernames", "username"));
    }

    #[test]
    fn entries_decode_like_go() {
        let cfg = parse_dockercfg(
            br#"{"a.io":{"Username":"u","password":null,"email":"e","x":[1]},"b.io":null}"#,
        )
        .unwrap();
        assert_eq!(cfg["a.io"].username, "u");
        assert_eq!(cfg["a.io"].password.expose(), "");
        assert_eq!(cfg["a.io"].email, "e");
        assert_eq!(cfg["b.io"], DockerConfigEntry::default());
        assert!(parse_dockercfg(br#"{"a.io":"x"}"#).is_err());
        assert!(parse_dockercfg(br#"{"a.io":{"username":1}}"#).is_err());
        assert_eq!(parse_dockercfg(b"null").unwrap(), DockerConfig::new());
    }

    #[test]
    fn config_json_tolerates_unknown_fields() {
        let cfg = parse_config_json(
            br#"{"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"},"Auths":{"r.io":{"auth":"dTpw","identitytoken":"t"}},"HttpHeaders":{"User-Agent":"x"}}"#,
        )
        .unwrap();
        assert_eq!(cfg.len(), 1);
        assert_eq!(cfg["r.io"].username, "u");
        assert_eq!(cfg["r.io"].password.expose(), "p");
        assert!(parse_config_json(br#"{"HttpHeaders":{"a":1}}"#).is_err());
        assert!(parse_config_json(br#"{"auths":{"r.io":{"auth":"Zm9v"}}}"#)
            .unwrap_err()
            .to_string()
            .contains("must be formatted as base64(username:password)"));
        assert_eq!(parse_config_json(b"{}").unwrap(), DockerConfig::new());
        assert!(parse_config_json(b"[]").is_err());
    }

    #[test]
    fn errors_never_quote_a_value() {
        for (doc, want) in [
            // An `auth` string written where the entry object belongs.
            (
                &br#"{"auths":{"r.io":"c2VjcmV0LXBhc3N3b3Jk"}}"#[..],
                "invalid docker credential file: invalid type: string, expected a docker config entry object at line 1 column 39",
            ),
            (
                br#"{"auths":{"r.io":{"password":123456}}}"#,
                "invalid docker credential file: invalid type: integer, expected a string at line 1 column 35",
            ),
            (
                br#"{"auths":{"r.io":{"password":1.5e3}}}"#,
                "invalid docker credential file: invalid type: floating point, expected a string at line 1 column 34",
            ),
            (
                br#"{"auths":"c2VjcmV0LXBhc3N3b3Jk, expected x"}"#,
                "invalid docker credential file: invalid type: string, expected a map at line 1 column 43",
            ),
        ] {
            let err = parse_config_json(doc).unwrap_err();
            assert_eq!(err.to_string(), want);
            for leak in ["c2VjcmV0LXBhc3N3b3Jk", "123456", "1.5e3", "1500"] {
                assert!(!format!("{err} {err:?}").contains(leak), "{err:?}");
            }
        }
        let err = parse_dockercfg(br#"{"r.io":"c2VjcmV0LXBhc3N3b3Jk"}"#).unwrap_err();
        assert!(!format!("{err:?}").contains("c2VjcmV0"), "{err:?}");
        // Messages that quote nothing are kept as they are.
        assert_eq!(
            parse_config_json(br#"{"auths":{"r.io":{"auth":"Zm9v"}}}"#)
                .unwrap_err()
                .detail(),
            "unable to parse auth field, must be formatted as base64(username:password) at line 1 column 32"
        );
        assert_eq!(
            parse_config_json(b"{").unwrap_err().detail(),
            "EOF while parsing an object at line 1 column 1"
        );
    }
}
