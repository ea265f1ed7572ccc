//! `azure.json`: the cloud-provider config the plugin is given as its one argument.
//!
//! Upstream reads it with `sigs.k8s.io/yaml` into a Go struct, so: JSON or YAML; keys match
//! case-insensitively (an exact match wins, later keys overwrite earlier ones); unknown keys are
//! ignored; a value of the wrong JSON type in **any** modelled field fails the whole load with
//! Go's message; an empty file is a valid, empty config.

use std::fmt;
use std::path::Path;

use kcred_api::Secret;
use serde::de::{Deserializer, MapAccess, Visitor};

/// The most upstream reads (10 MiB).
pub const MAX_CONFIG_BYTES: usize = 10 << 20;

/// The fields of `azure.json` the ACR provider uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AzureConfig {
    /// `cloud`: the cloud name (see [`crate::cloud`]).
    pub cloud: String,
    /// `tenantId`: the AAD tenant (service principal, exchange `tenant`).
    pub tenant_id: String,
    /// `userAgent`: the User-Agent of the AAD/IMDS calls.
    pub user_agent: String,
    /// `resourceManagerEndpoint`: when set, the cloud's endpoints come from its metadata.
    pub resource_manager_endpoint: String,
    /// `aadClientId`: the service principal's client id.
    pub aad_client_id: String,
    /// `aadClientSecret`: the service principal's secret.
    pub aad_client_secret: Secret,
    /// `aadClientCertPath`: a PEM file with the service principal's certificate and RSA key.
    pub aad_client_cert_path: String,
    /// `aadClientCertPassword`: read for completeness; only unencrypted PEM keys are supported.
    pub aad_client_cert_password: Secret,
    /// `useManagedIdentityExtension`: use the node's managed identity.
    pub use_managed_identity_extension: bool,
    /// `userAssignedIdentityID`: a client id, or an ARM resource id (contains `/subscriptions/`).
    pub user_assigned_identity_id: String,
    /// `aadFederatedTokenFile`: a federated token file (workload identity on the node).
    pub aad_federated_token_file: String,
    /// `useFederatedWorkloadIdentityExtension`: use `aadFederatedTokenFile` with `aadClientId`.
    pub use_federated_workload_identity_extension: bool,
    /// `identitySystem` (`azure_ad` or `adfs`); parsed, unused.
    pub identity_system: String,
}

/// A config that could not be loaded. Messages are upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AzureConfigError {
    /// The file could not be read.
    #[error("failed to load config: open {path}: {reason}")]
    Open {
        /// The path as given.
        path: String,
        /// Go-style reason (`no such file or directory`).
        reason: String,
    },
    /// The file is 10 MiB or more.
    #[error("failed to load config: the read limit is reached")]
    TooLarge,
    /// Neither JSON nor YAML.
    #[error("failed to load config: error converting YAML to JSON: {0}")]
    Syntax(String),
    /// A value of the wrong JSON type for a field.
    #[error("failed to load config: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {value} into Go struct field .{field} of type {go_type}")]
    FieldType {
        /// Go's description of the value (`string`, `number`, `number 1.5`, …).
        value: String,
        /// The field's JSON name.
        field: &'static str,
        /// The field's Go type.
        go_type: &'static str,
    },
    /// The document is not an object.
    #[error("failed to load config: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {0} into Go value of type config.AzureClientConfig")]
    NotAnObject(&'static str),
}

#[derive(Clone, Copy)]
enum GoType {
    Str,
    Bool,
    Int,
    Float32,
    Float64,
}

impl GoType {
    fn name(self) -> &'static str {
        match self {
            GoType::Str => "string",
            GoType::Bool => "bool",
            GoType::Int => "int",
            GoType::Float32 => "float32",
            GoType::Float64 => "float64",
        }
    }
}

/// Every modelled field (upstream type-checks them all, used or not).
const FIELDS: &[(&str, GoType)] = &[
    ("cloud", GoType::Str),
    ("tenantId", GoType::Str),
    ("userAgent", GoType::Str),
    ("resourceManagerEndpoint", GoType::Str),
    ("aadClientId", GoType::Str),
    ("aadClientSecret", GoType::Str),
    ("aadClientCertPath", GoType::Str),
    ("aadClientCertPassword", GoType::Str),
    ("useManagedIdentityExtension", GoType::Bool),
    ("userAssignedIdentityID", GoType::Str),
    ("aadMSIDataPlaneIdentityPath", GoType::Str),
    ("aadFederatedTokenFile", GoType::Str),
    ("useFederatedWorkloadIdentityExtension", GoType::Bool),
    ("identitySystem", GoType::Str),
    ("networkResourceTenantID", GoType::Str),
    ("subscriptionId", GoType::Str),
    ("networkResourceSubscriptionID", GoType::Str),
    ("cloudConfigType", GoType::Str),
    ("cloudProviderBackoff", GoType::Bool),
    ("cloudProviderBackoffRetries", GoType::Int),
    ("cloudProviderBackoffExponent", GoType::Float64),
    ("cloudProviderBackoffDuration", GoType::Int),
    ("cloudProviderBackoffJitter", GoType::Float64),
    ("cloudProviderRateLimit", GoType::Bool),
    ("cloudProviderRateLimitQPS", GoType::Float32),
    ("cloudProviderRateLimitBucket", GoType::Int),
    ("cloudProviderRateLimitQPSWrite", GoType::Float32),
    ("cloudProviderRateLimitBucketWrite", GoType::Int),
    ("enableMinimumRetryAfter", GoType::Bool),
];

/// The top-level document: `None` for an empty/null document, else the entries in order.
struct Document(Option<Vec<(String, serde_json::Value)>>, &'static str);

impl<'de> serde::Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Document;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_unit<E>(self) -> Result<Document, E> {
                Ok(Document(None, "null"))
            }
            fn visit_none<E>(self) -> Result<Document, E> {
                Ok(Document(None, "null"))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Document, E> {
                Ok(Document(None, "bool"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Document, E> {
                Ok(Document(None, "number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Document, E> {
                Ok(Document(None, "number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Document, E> {
                Ok(Document(None, "number"))
            }
            fn visit_str<E>(self, _: &str) -> Result<Document, E> {
                Ok(Document(None, "string"))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Document, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Document(None, "array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Document, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, serde_json::Value>()? {
                    entries.push((k, v));
                }
                Ok(Document(Some(entries), "object"))
            }
        }
        d.deserialize_any(V)
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[derive(Debug, Clone)]
enum Scalar {
    Str(String),
    Bool(bool),
    Other,
}

fn check(
    field: &'static str,
    ty: GoType,
    v: &serde_json::Value,
) -> Result<Option<Scalar>, AzureConfigError> {
    use serde_json::Value;
    let mismatch = |value: String| AzureConfigError::FieldType {
        value,
        field,
        go_type: ty.name(),
    };
    match (ty, v) {
        (_, Value::Null) => Ok(None),
        (GoType::Str, Value::String(s)) => Ok(Some(Scalar::Str(s.clone()))),
        (GoType::Bool, Value::Bool(b)) => Ok(Some(Scalar::Bool(*b))),
        (GoType::Int, Value::Number(n)) => {
            if n.as_i64().is_some() {
                Ok(Some(Scalar::Other))
            } else {
                Err(mismatch(format!("number {n}")))
            }
        }
        (GoType::Float32, Value::Number(n)) => match n.as_f64() {
            Some(f) if f.abs() <= f64::from(f32::MAX) => Ok(Some(Scalar::Other)),
            _ => Err(mismatch(format!("number {n}"))),
        },
        (GoType::Float64, Value::Number(_)) => Ok(Some(Scalar::Other)),
        (_, other) => Err(mismatch(json_type(other).to_owned())),
    }
}

/// Parses `azure.json` content (JSON or YAML).
pub fn parse_azure_config(bytes: &[u8]) -> Result<AzureConfig, AzureConfigError> {
    if bytes.len() >= MAX_CONFIG_BYTES {
        return Err(AzureConfigError::TooLarge);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| AzureConfigError::Syntax(format!("invalid UTF-8: {e}")))?;
    if text.trim().is_empty() {
        return Ok(AzureConfig::default());
    }
    let doc: Document = match serde_json::from_str(text) {
        Ok(d) => d,
        Err(json_err) => serde_yaml_ng::from_str(text).map_err(|yaml_err| {
            if text.trim_start().starts_with('{') {
                AzureConfigError::Syntax(json_err.to_string())
            } else {
                AzureConfigError::Syntax(yaml_err.to_string())
            }
        })?,
    };
    let entries = match doc {
        Document(Some(entries), _) => entries,
        Document(None, "null") => return Ok(AzureConfig::default()),
        Document(None, kind) => return Err(AzureConfigError::NotAnObject(kind)),
    };

    // Resolve each document key to a field: exact name first, else Go's case folding
    // (`kcred_api::go::json::equal_fold`: ASCII, plus the Kelvin sign and the long s).
    let mut values: Vec<(&'static str, Scalar)> = Vec::new();
    for (key, value) in &entries {
        let field = FIELDS.iter().find(|(name, _)| name == key).or_else(|| {
            FIELDS
                .iter()
                .find(|(name, _)| kcred_api::go::json::equal_fold(key, name))
        });
        if let Some(&(name, ty)) = field {
            if let Some(scalar) = check(name, ty, value)? {
                values.push((name, scalar));
            }
        }
    }
    let mut cfg = AzureConfig::default();
    for (name, scalar) in values {
        match (name, scalar) {
            ("cloud", Scalar::Str(s)) => cfg.cloud = s,
            ("tenantId", Scalar::Str(s)) => cfg.tenant_id = s,
            ("userAgent", Scalar::Str(s)) => cfg.user_agent = s,
            ("resourceManagerEndpoint", Scalar::Str(s)) => cfg.resource_manager_endpoint = s,
            ("aadClientId", Scalar::Str(s)) => cfg.aad_client_id = s,
            ("aadClientSecret", Scalar::Str(s)) => cfg.aad_client_secret = Secret::new(s),
            ("aadClientCertPath", Scalar::Str(s)) => cfg.aad_client_cert_path = s,
            ("aadClientCertPassword", Scalar::Str(s)) => {
                cfg.aad_client_cert_password = Secret::new(s)
            }
            ("useManagedIdentityExtension", Scalar::Bool(b)) => {
                cfg.use_managed_identity_extension = b
            }
            ("userAssignedIdentityID", Scalar::Str(s)) => cfg.user_assigned_identity_id = s,
            ("aadFederatedTokenFile", Scalar::Str(s)) => cfg.aad_federated_token_file = s,
            ("useFederatedWorkloadIdentityExtension", Scalar::Bool(b)) => {
                cfg.use_federated_workload_identity_extension = b
            }
            ("identitySystem", Scalar::Str(s)) => cfg.identity_system = s,
            _ => {}
        }
    }
    Ok(cfg)
}

/// An OS error as Go prints it after `op path: ` (`no such file or directory`):
/// [`kcred_api::go::os::errno_text`].
pub fn go_io_reason(e: &std::io::Error) -> String {
    kcred_api::go::os::errno_text(e)
}

/// Reads and parses the file at `path`.
pub fn load_azure_config(path: &Path) -> Result<AzureConfig, AzureConfigError> {
    let bytes = std::fs::read(path).map_err(|e| AzureConfigError::Open {
        path: path.display().to_string(),
        reason: go_io_reason(&e),
    })?;
    parse_azure_config(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_as_go_encoding_json() {
        // Go's foldName: the long s (U+017F) folds to `s`, the Kelvin sign (U+212A) to `k`;
        // the dotless i (U+0131) does not fold to `i`.
        let c =
            parse_azure_config("{\"aadClientſecret\":\"s1\",\"cloud\":\"x\"}".as_bytes()).unwrap();
        assert_eq!(c.aad_client_secret.expose(), "s1");
        let c = parse_azure_config("{\"aadClıentId\":\"a\"}".as_bytes()).unwrap();
        assert_eq!(c.aad_client_id, "");
    }

    #[test]
    fn keys_are_case_insensitive_and_exact_wins() {
        let c = parse_azure_config(br#"{"AADCLIENTID":"a","aadClientId":"b","aadclientid":"c"}"#)
            .unwrap();
        assert_eq!(c.aad_client_id, "c");
        let c = parse_azure_config(b"tenantID: t\nuseManagedIdentityExtension: true\n").unwrap();
        assert_eq!(c.tenant_id, "t");
        assert!(c.use_managed_identity_extension);
    }

    #[test]
    fn type_errors_name_the_field() {
        let e = parse_azure_config(br#"{"cloudProviderBackoffRetries":1.5}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "failed to load config: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number 1.5 into Go struct field .cloudProviderBackoffRetries of type int"
        );
        assert!(matches!(
            parse_azure_config(b"random-config"),
            Err(AzureConfigError::NotAnObject("string"))
        ));
        assert!(matches!(
            parse_azure_config(b"{invalid json"),
            Err(AzureConfigError::Syntax(_))
        ));
    }

    #[test]
    fn empty_and_null_are_defaults() {
        assert_eq!(parse_azure_config(b"").unwrap(), AzureConfig::default());
        assert_eq!(parse_azure_config(b"null").unwrap(), AzureConfig::default());
        assert_eq!(
            parse_azure_config(br#"{"aadClientId":null}"#).unwrap(),
            AzureConfig::default()
        );
    }
}
