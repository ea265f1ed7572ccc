//! `CredentialProviderResponse`: what a plugin prints on stdout.
//!
//! [`CredentialProviderResponse::decode`] applies the kubelet's three checks in order,
//! with its messages; [`CredentialProviderResponse::encode`] writes what a Go plugin
//! would print.

use std::collections::BTreeMap;

use crate::gojson::{self, JsonWriter, Value};
use crate::gostr::strconv_quote;
use crate::scheme::{self, Decoded};
use crate::strict::{
    interpret_value, Abort, DecodeError, Document, GoStruct, InterpretError, Walker,
};
use crate::{ApiVersion, GoDuration, Secret};

/// The kind of a response document.
pub const RESPONSE_KIND: &str = "CredentialProviderResponse";

/// A decoded response. Fields are identical in v1alpha1, v1beta1 and v1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialProviderResponse {
    /// `apiVersion` of the response.
    pub api_version: ApiVersion,
    /// `cacheKeyType` as written; see [`CacheKeyType::parse`]. The kubelet checks it
    /// only after decoding, so an unknown value decodes.
    pub cache_key_type: String,
    /// `cacheDuration`; `None` when absent or `null` (use `defaultCacheDuration`).
    pub cache_duration: Option<GoDuration>,
    /// `auth`: match pattern → credentials (empty when absent or `null`).
    pub auth: BTreeMap<String, AuthConfig>,
}

/// One `auth` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct AuthConfig {
    /// `username` (missing means `""`).
    #[serde(default)]
    pub username: String,
    /// `password` (missing means `""`). Redacted in `Debug`.
    #[serde(default)]
    pub password: Secret,
}

/// `cacheKeyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheKeyType {
    /// `Image`: cache under the image.
    Image,
    /// `Registry`: cache under the image's registry (host and port).
    Registry,
    /// `Global`: cache for every image this provider matches.
    Global,
}

impl CacheKeyType {
    /// Parses the wire value, exactly and case-sensitively.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Image" => Some(Self::Image),
            "Registry" => Some(Self::Registry),
            "Global" => Some(Self::Global),
            _ => None,
        }
    }

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "Image",
            Self::Registry => "Registry",
            Self::Global => "Global",
        }
    }
}

/// Why the kubelet rejected a plugin's stdout. `Display` is the kubelet's message; for a
/// decoding failure it deliberately omits the cause (it may quote secrets), which
/// [`ResponseDecodeError::detail`] gives, with the document itself redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseDecodeError {
    /// Check 1: stdout is not JSON, or `apiVersion`/`kind` are not strings.
    #[error("error reading GVK from response: {0}")]
    Gvk(InterpretError),
    /// Check 2: `apiVersion` differs from the provider's configured one.
    #[error("apiVersion from credential plugin response did not match expected apiVersion:{expected}, actual apiVersion:{actual}")]
    ApiVersionMismatch {
        /// The provider's configured `apiVersion`.
        expected: ApiVersion,
        /// The response's `apiVersion` (`group/version`, or `version` without a group).
        actual: String,
    },
    /// Check 3: the strict decode failed.
    #[error("error decoding credential provider plugin response from stdout")]
    Decode(ResponseDecodeCause),
}

impl ResponseDecodeError {
    /// The cause of a check-3 failure, for verbose output (documents quoted in it are
    /// redacted); `None` for the other checks, whose message is complete.
    pub fn detail(&self) -> Option<String> {
        match self {
            ResponseDecodeError::Decode(cause) => Some(cause.to_string()),
            _ => None,
        }
    }
}

/// The cause of a check-3 failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseDecodeCause {
    /// apimachinery's strict decoder rejected the document.
    #[error(transparent)]
    Decode(DecodeError),
    /// The document is another registered kind (e.g. a `CredentialProviderRequest`).
    #[error("failed to decode CredentialProviderResponse, unexpected Kind: {}", strconv_quote(.0))]
    UnexpectedKind(String),
}

impl CredentialProviderResponse {
    /// A response with no `cacheDuration` and no credentials.
    pub fn new(api_version: ApiVersion, cache_key_type: CacheKeyType) -> Self {
        CredentialProviderResponse {
            api_version,
            cache_key_type: cache_key_type.as_str().to_owned(),
            cache_duration: None,
            auth: BTreeMap::new(),
        }
    }

    /// `cacheKeyType` parsed; `None` when the plugin sent an unknown value.
    pub fn cache_key_type(&self) -> Option<CacheKeyType> {
        CacheKeyType::parse(&self.cache_key_type)
    }

    /// Decodes a plugin's stdout the way the kubelet does, for a provider configured with
    /// `expected`:
    /// 1. sniff `apiVersion`/`kind` as plain JSON (keys case-insensitive; YAML fails here);
    /// 2. require `apiVersion` to equal `expected` exactly;
    /// 3. decode strictly: unknown or duplicate fields, wrong types, a `cacheDuration`
    ///    that is not a Go duration string, or a kind other than `CredentialProviderResponse`
    ///    all fail.
    pub fn decode(stdout: &[u8], expected: ApiVersion) -> Result<Self, ResponseDecodeError> {
        let value = gojson::parse(stdout)
            .map_err(|e| ResponseDecodeError::Gvk(InterpretError::Json(e.to_string())))?;
        let gvk = interpret_value(&value).map_err(ResponseDecodeError::Gvk)?;
        let actual = gvk.group_version();
        if actual != expected.as_str() {
            return Err(ResponseDecodeError::ApiVersionMismatch { expected, actual });
        }
        let cause =
            |e: DecodeError| ResponseDecodeError::Decode(ResponseDecodeCause::Decode(e.redacted()));
        let doc = Document::from_json(stdout, value, gvk).map_err(cause)?;
        match scheme::decode(&doc).map_err(cause)? {
            Decoded::Response(response) => Ok(response),
            Decoded::Config(_) | Decoded::Request | Decoded::Unmodeled => {
                Err(ResponseDecodeError::Decode(
                    ResponseDecodeCause::UnexpectedKind(doc.gvk().kind.clone()),
                ))
            }
        }
    }

    /// What a Go plugin prints: `kind`, `apiVersion`, `cacheKeyType`, `cacheDuration`
    /// (left out when `None`), `auth` (left out when empty, as Go's `omitempty` does),
    /// compact, with a trailing `\n`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = JsonWriter::new();
        w.begin_object();
        w.field_str("kind", RESPONSE_KIND);
        w.field_str("apiVersion", self.api_version.as_str());
        w.field_str("cacheKeyType", &self.cache_key_type);
        if let Some(d) = self.cache_duration {
            w.field_str("cacheDuration", &d.to_string());
        }
        if !self.auth.is_empty() {
            w.key("auth");
            w.begin_object();
            for (key, auth) in &self.auth {
                w.key(key);
                w.begin_object();
                w.field_str("username", &auth.username);
                w.field_str("password", auth.password.expose());
                w.end_object();
            }
            w.end_object();
        }
        w.end_object();
        let mut out = w.finish().into_bytes();
        out.push(b'\n');
        out
    }
}

const RESPONSE_FIELDS: &[&str] = &[
    "kind",
    "apiVersion",
    "cacheKeyType",
    "cacheDuration",
    "auth",
];
const AUTH_FIELDS: &[&str] = &["username", "password"];

/// Decodes the wire form of `version` (the kind is already known).
pub(crate) fn decode_wire(
    w: &mut Walker,
    value: &Value,
    version: ApiVersion,
) -> Result<CredentialProviderResponse, Abort> {
    let pkg = version.version();
    let mut response = CredentialProviderResponse {
        api_version: version,
        cache_key_type: String::new(),
        cache_duration: None,
        auth: BTreeMap::new(),
    };
    let mut type_meta = String::new();
    let spec = GoStruct {
        name: "CredentialProviderResponse",
        go_type: &format!("{pkg}.CredentialProviderResponse"),
        fields: RESPONSE_FIELDS,
        inline_type_meta: true,
    };
    let key_type = format!("{pkg}.PluginCacheKeyType");
    let auth_type = format!("map[string]{pkg}.AuthConfig");
    w.object(value, &spec, |w, field, v| {
        match field {
            "cacheKeyType" => w.string(v, &key_type, &mut response.cache_key_type),
            "cacheDuration" => w.duration_ptr(v, &mut response.cache_duration)?,
            "auth" => w.map(v, &auth_type, &mut response.auth, |w, item| {
                decode_auth(w, item, pkg)
            })?,
            _ => w.string(v, "string", &mut type_meta),
        }
        Ok(())
    })?;
    Ok(response)
}

fn decode_auth(w: &mut Walker, value: &Value, pkg: &str) -> Result<AuthConfig, Abort> {
    let mut username = String::new();
    let mut password = String::new();
    let spec = GoStruct {
        name: "AuthConfig",
        go_type: &format!("{pkg}.AuthConfig"),
        fields: AUTH_FIELDS,
        inline_type_meta: false,
    };
    w.object(value, &spec, |w, field, v| {
        match field {
            "username" => w.string(v, "string", &mut username),
            _ => w.string(v, "string", &mut password),
        }
        Ok(())
    })?;
    Ok(AuthConfig {
        username,
        password: Secret::from(password),
    })
}
