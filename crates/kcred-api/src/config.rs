//! `kubelet.config.k8s.io` `CredentialProviderConfig` (v1alpha1, v1beta1, v1).
//!
//! The types here are the version-independent ("internal") form the kubelet validates.
//! Values are kept as written (strings, optional fields) so validation can quote them.
//!
//! [`decode_config`] is the kubelet's `decode` of one config file (strict JSON or YAML,
//! any of the three config versions); [`encode_providers_v1`] and
//! [`CredentialProviderConfig::encode_v1`] write the v1 JSON shape.

use crate::duration::GoDuration;
use crate::gojson::{JsonWriter, Value};
use crate::gostr::strconv_quote;
use crate::scheme::{self, Decoded};
use crate::strict::{Abort, DecodeError, Document, GoStruct, Walker};

/// The API group of `CredentialProviderConfig`.
pub const CONFIG_GROUP: &str = "kubelet.config.k8s.io";

/// The kind of a credential provider config document.
pub const CONFIG_KIND: &str = "CredentialProviderConfig";

/// A decoded `CredentialProviderConfig` document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialProviderConfig {
    /// `providers`, in document order.
    pub providers: Vec<CredentialProvider>,
}

/// One entry of `providers`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialProvider {
    /// `name`: the executable's name in the bin dir.
    pub name: String,
    /// `matchImages`: patterns matched against the image (see `kcred-match`).
    pub match_images: Vec<String>,
    /// `defaultCacheDuration`; `None` when absent (a validation error).
    pub default_cache_duration: Option<GoDuration>,
    /// `apiVersion` of the request/response the plugin speaks, as written.
    pub api_version: String,
    /// `args` passed to the plugin.
    pub args: Vec<String>,
    /// `env` added to the plugin's environment, in order.
    pub env: Vec<ExecEnvVar>,
    /// `tokenAttributes` (v1 config only).
    pub token_attributes: Option<ServiceAccountTokenAttributes>,
}

/// One `env` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecEnvVar {
    /// `name`
    pub name: String,
    /// `value`
    pub value: String,
}

/// `tokenAttributes`: service-account token mode (KEP-4412).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceAccountTokenAttributes {
    /// `serviceAccountTokenAudience`
    pub service_account_token_audience: String,
    /// `cacheType` as written (`Token` or `ServiceAccount` when valid).
    pub cache_type: String,
    /// `requireServiceAccount`; `None` when absent (a validation error).
    pub require_service_account: Option<bool>,
    /// `requiredServiceAccountAnnotationKeys`
    pub required_service_account_annotation_keys: Vec<String>,
    /// `optionalServiceAccountAnnotationKeys`
    pub optional_service_account_annotation_keys: Vec<String>,
}

/// `tokenAttributes.cacheType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceAccountCacheType {
    /// `Token`: the cache key includes the token's hash.
    Token,
    /// `ServiceAccount`: credentials are shared by all pods of a service account.
    ServiceAccount,
}

impl ServiceAccountCacheType {
    /// Parses the wire value (case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Token" => Some(Self::Token),
            "ServiceAccount" => Some(Self::ServiceAccount),
            _ => None,
        }
    }
}

/// The versions of `kubelet.config.k8s.io` that define `CredentialProviderConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfigVersion {
    V1Alpha1,
    V1Beta1,
    V1,
}

impl ConfigVersion {
    /// `v1alpha1`, `v1beta1` or `v1`.
    pub(crate) fn from_version(version: &str) -> Option<ConfigVersion> {
        match version {
            "v1alpha1" => Some(ConfigVersion::V1Alpha1),
            "v1beta1" => Some(ConfigVersion::V1Beta1),
            "v1" => Some(ConfigVersion::V1),
            _ => None,
        }
    }

    /// The Go package name, as Go prints qualified type names.
    fn package(self) -> &'static str {
        match self {
            ConfigVersion::V1Alpha1 => "v1alpha1",
            ConfigVersion::V1Beta1 => "v1beta1",
            ConfigVersion::V1 => "v1",
        }
    }
}

/// Why a config file could not be decoded. `Display` is the kubelet's message (without
/// the `error decoding config "<file>": ` prefix that file loading adds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigDecodeError {
    /// apimachinery's strict decoder rejected the document.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The document is another registered kind.
    #[error("failed to decode {} (wrong Kind)", strconv_quote(.0))]
    WrongKind(String),
    /// A `CredentialProviderConfig` of another group (not reachable with the kubelet's
    /// scheme, kept for fidelity).
    #[error("failed to decode CredentialProviderConfig, unexpected Group: {0}")]
    UnexpectedGroup(String),
}

/// Decodes one config file (JSON or YAML), strictly, like the kubelet's `decode`.
pub fn decode_config(bytes: &[u8]) -> Result<CredentialProviderConfig, ConfigDecodeError> {
    let doc = Document::parse(bytes)?;
    match scheme::decode(&doc)? {
        Decoded::Config(config) => Ok(config),
        Decoded::Request | Decoded::Response(_) | Decoded::Unmodeled => {
            let gvk = doc.gvk();
            if gvk.kind != CONFIG_KIND {
                Err(ConfigDecodeError::WrongKind(gvk.kind.clone()))
            } else {
                Err(ConfigDecodeError::UnexpectedGroup(gvk.group.clone()))
            }
        }
    }
}

const CONFIG_FIELDS: &[&str] = &["kind", "apiVersion", "providers"];
/// `v1alpha1`/`v1beta1` providers: the `v1` fields without `tokenAttributes`.
const PROVIDER_FIELDS: &[&str] = PROVIDER_FIELDS_V1.split_at(6).0;
const PROVIDER_FIELDS_V1: &[&str] = &[
    "name",
    "matchImages",
    "defaultCacheDuration",
    "apiVersion",
    "args",
    "env",
    "tokenAttributes",
];
const ENV_FIELDS: &[&str] = &["name", "value"];
const TOKEN_ATTRIBUTES_FIELDS: &[&str] = &[
    "serviceAccountTokenAudience",
    "cacheType",
    "requireServiceAccount",
    "requiredServiceAccountAnnotationKeys",
    "optionalServiceAccountAnnotationKeys",
];

/// Decodes the wire form of `version` (the kind is already known).
pub(crate) fn decode_wire(
    w: &mut Walker,
    value: &Value,
    version: ConfigVersion,
) -> Result<CredentialProviderConfig, Abort> {
    let pkg = version.package();
    let mut config = CredentialProviderConfig::default();
    let mut type_meta = String::new();
    let spec = GoStruct {
        name: "CredentialProviderConfig",
        go_type: &format!("{pkg}.CredentialProviderConfig"),
        fields: CONFIG_FIELDS,
        inline_type_meta: true,
    };
    let providers_type = format!("[]{pkg}.CredentialProvider");
    w.object(value, &spec, |w, field, v| {
        match field {
            "providers" => w.slice(v, &providers_type, &mut config.providers, |w, item| {
                decode_provider(w, item, version)
            })?,
            // kind / apiVersion: already read by the kind sniff.
            _ => w.string(v, "string", &mut type_meta),
        }
        Ok(())
    })?;
    Ok(config)
}

fn decode_provider(
    w: &mut Walker,
    value: &Value,
    version: ConfigVersion,
) -> Result<CredentialProvider, Abort> {
    let pkg = version.package();
    let mut provider = CredentialProvider::default();
    let spec = GoStruct {
        name: "CredentialProvider",
        go_type: &format!("{pkg}.CredentialProvider"),
        fields: if version == ConfigVersion::V1 {
            PROVIDER_FIELDS_V1
        } else {
            PROVIDER_FIELDS
        },
        inline_type_meta: false,
    };
    w.object(value, &spec, |w, field, v| {
        match field {
            "name" => w.string(v, "string", &mut provider.name),
            "matchImages" => w.string_slice(v, &mut provider.match_images)?,
            "defaultCacheDuration" => w.duration_ptr(v, &mut provider.default_cache_duration)?,
            "apiVersion" => w.string(v, "string", &mut provider.api_version),
            "args" => w.string_slice(v, &mut provider.args)?,
            "env" => w.slice(
                v,
                &format!("[]{pkg}.ExecEnvVar"),
                &mut provider.env,
                |w, item| decode_env(w, item, pkg),
            )?,
            "tokenAttributes" => {
                decode_token_attributes(w, v, pkg, &mut provider.token_attributes)?
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(provider)
}

fn decode_env(w: &mut Walker, value: &Value, pkg: &str) -> Result<ExecEnvVar, Abort> {
    let mut env = ExecEnvVar::default();
    let spec = GoStruct {
        name: "ExecEnvVar",
        go_type: &format!("{pkg}.ExecEnvVar"),
        fields: ENV_FIELDS,
        inline_type_meta: false,
    };
    w.object(value, &spec, |w, field, v| {
        match field {
            "name" => w.string(v, "string", &mut env.name),
            _ => w.string(v, "string", &mut env.value),
        }
        Ok(())
    })?;
    Ok(env)
}

fn decode_token_attributes(
    w: &mut Walker,
    value: &Value,
    pkg: &str,
    target: &mut Option<ServiceAccountTokenAttributes>,
) -> Result<(), Abort> {
    if let Value::Null = value {
        *target = None;
        return Ok(());
    }
    // Go allocates the pointer before decoding into it, even when the value is of the wrong type.
    let mut attributes = target.take().unwrap_or_default();
    let cache_type = format!("{pkg}.ServiceAccountTokenCacheType");
    let spec = GoStruct {
        name: "ServiceAccountTokenAttributes",
        go_type: &format!("{pkg}.ServiceAccountTokenAttributes"),
        fields: TOKEN_ATTRIBUTES_FIELDS,
        inline_type_meta: false,
    };
    let result = w.object(value, &spec, |w, field, v| {
        match field {
            "serviceAccountTokenAudience" => {
                w.string(v, "string", &mut attributes.service_account_token_audience)
            }
            "cacheType" => w.string(v, &cache_type, &mut attributes.cache_type),
            "requireServiceAccount" => w.bool_ptr(v, &mut attributes.require_service_account),
            "requiredServiceAccountAnnotationKeys" => {
                w.string_slice(v, &mut attributes.required_service_account_annotation_keys)?
            }
            _ => w.string_slice(v, &mut attributes.optional_service_account_annotation_keys)?,
        }
        Ok(())
    });
    *target = Some(attributes);
    result
}

/// Writes the providers as a v1 JSON array (`providers` of a `kubelet.config.k8s.io/v1`
/// document): v1 field names, Go's `omitempty` (`args`, `env`, `tokenAttributes` and the
/// annotation-key lists are left out when empty; `defaultCacheDuration` and
/// `requireServiceAccount` are `null` when absent; an empty `matchImages` is `null`, as
/// Go writes a nil slice). Durations are written as Go prints them (`10m0s`).
pub fn encode_providers_v1(providers: &[CredentialProvider]) -> String {
    let mut w = JsonWriter::new();
    write_providers(&mut w, providers);
    w.finish()
}

fn write_providers(w: &mut JsonWriter, providers: &[CredentialProvider]) {
    w.begin_array();
    for p in providers {
        w.begin_object();
        w.field_str("name", &p.name);
        write_string_list_or_null(w, "matchImages", &p.match_images);
        w.key("defaultCacheDuration");
        match p.default_cache_duration {
            Some(d) => w.string(&d.to_string()),
            None => w.null(),
        }
        w.field_str("apiVersion", &p.api_version);
        if !p.args.is_empty() {
            w.field_str_array("args", &p.args);
        }
        if !p.env.is_empty() {
            w.key("env");
            w.begin_array();
            for env in &p.env {
                w.begin_object();
                w.field_str("name", &env.name);
                w.field_str("value", &env.value);
                w.end_object();
            }
            w.end_array();
        }
        if let Some(t) = &p.token_attributes {
            w.key("tokenAttributes");
            w.begin_object();
            w.field_str(
                "serviceAccountTokenAudience",
                &t.service_account_token_audience,
            );
            w.field_str("cacheType", &t.cache_type);
            w.key("requireServiceAccount");
            match t.require_service_account {
                Some(b) => w.bool(b),
                None => w.null(),
            }
            if !t.required_service_account_annotation_keys.is_empty() {
                w.field_str_array(
                    "requiredServiceAccountAnnotationKeys",
                    &t.required_service_account_annotation_keys,
                );
            }
            if !t.optional_service_account_annotation_keys.is_empty() {
                w.field_str_array(
                    "optionalServiceAccountAnnotationKeys",
                    &t.optional_service_account_annotation_keys,
                );
            }
            w.end_object();
        }
        w.end_object();
    }
    w.end_array();
}

fn write_string_list_or_null(w: &mut JsonWriter, key: &str, values: &[String]) {
    if values.is_empty() {
        w.key(key);
        w.null();
    } else {
        w.field_str_array(key, values);
    }
}

impl CredentialProviderConfig {
    /// The config as a `kubelet.config.k8s.io/v1` JSON document, ending with `\n`
    /// (see [`encode_providers_v1`] for the provider fields).
    pub fn encode_v1(&self) -> Vec<u8> {
        let mut w = JsonWriter::new();
        w.begin_object();
        w.field_str("kind", CONFIG_KIND);
        w.field_str("apiVersion", &format!("{CONFIG_GROUP}/v1"));
        w.key("providers");
        if self.providers.is_empty() {
            // A nil slice, as Go writes it.
            w.null();
        } else {
            write_providers(&mut w, &self.providers);
        }
        w.end_object();
        let mut out = w.finish().into_bytes();
        out.push(b'\n');
        out
    }
}
