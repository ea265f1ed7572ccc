//! `azure.json`: the cloud-provider config the plugin is given as its one argument.
//!
//! Upstream reads it with `sigs.k8s.io/yaml` into a Go struct, and so does this module (with
//! [`kcred_api::go::yaml::to_json`]): JSON or YAML, converted to JSON with the keys sorted
//! bytewise; keys then match fields case-insensitively in that sorted order, a later key
//! overwriting an earlier one (so of keys that differ only in case the bytewise-last wins);
//! unknown keys are ignored; a value of the wrong JSON type in **any** modelled field fails the
//! whole load with Go's message; an empty file is a valid, empty config; syntax errors are
//! go-yaml's (`yaml: line 1: did not find expected node content`).

use std::path::Path;

use kcred_api::go::json::Value;
use kcred_api::Secret;

/// The most upstream reads (10 MiB).
pub(crate) const MAX_CONFIG_BYTES: usize = 10 << 20;

/// The fields of `azure.json` the ACR provider uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AzureConfig {
    /// `cloud`: the cloud name (see [`KnownCloud`](crate::KnownCloud)).
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

#[derive(Debug, Clone)]
enum Scalar {
    Str(String),
    Bool(bool),
    Other,
}

/// Go's `json.Unmarshal` of one value into a field of type `ty` (`literalStore`): `null`
/// leaves the field alone; numbers must parse as the field's type (`strconv.ParseInt(s, 10,
/// 64)`, `strconv.ParseFloat(s, 32|64)`), else Go reports `number <as written>`.
fn check(field: &'static str, ty: GoType, v: &Value) -> Result<Option<Scalar>, AzureConfigError> {
    let mismatch = |value: String| AzureConfigError::FieldType {
        value,
        field,
        go_type: ty.name(),
    };
    match (ty, v) {
        (_, Value::Null) => Ok(None),
        (GoType::Str, Value::String(s)) => Ok(Some(Scalar::Str(s.clone()))),
        (GoType::Bool, Value::Bool(b)) => Ok(Some(Scalar::Bool(*b))),
        (GoType::Int, Value::Number(n)) => match n.parse::<i64>() {
            Ok(_) => Ok(Some(Scalar::Other)),
            Err(_) => Err(mismatch(format!("number {n}"))),
        },
        (GoType::Float32, Value::Number(n)) => match n.parse::<f64>() {
            Ok(f) if f.is_finite() && (f as f32).is_finite() => Ok(Some(Scalar::Other)),
            _ => Err(mismatch(format!("number {n}"))),
        },
        (GoType::Float64, Value::Number(n)) => match n.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Some(Scalar::Other)),
            _ => Err(mismatch(format!("number {n}"))),
        },
        (_, other) => Err(mismatch(other.go_kind().to_owned())),
    }
}

/// Parses `azure.json` content (JSON or YAML).
pub fn parse_azure_config(bytes: &[u8]) -> Result<AzureConfig, AzureConfigError> {
    if bytes.len() >= MAX_CONFIG_BYTES {
        return Err(AzureConfigError::TooLarge);
    }
    // `sigs.k8s.io/yaml.Unmarshal`: YAML (JSON is YAML) → JSON with the keys sorted
    // bytewise (Go's `json.Marshal` of a map), then `json.Unmarshal`.
    let doc = kcred_api::go::yaml::to_json(bytes).map_err(AzureConfigError::Syntax)?;
    let entries = match &doc.value {
        Value::Object(entries) => entries,
        Value::Null => return Ok(AzureConfig::default()),
        other => return Err(AzureConfigError::NotAnObject(other.go_kind())),
    };

    // `json.Unmarshal` walks the keys in that sorted order: each key goes to the field of that
    // exact name, else to one that folds equal (`kcred_api::go::json::equal_fold`: ASCII, plus
    // the Kelvin sign and the long s), and a later key overwrites an earlier one. So of
    // `{"aadClientId":"a","AADClientID":"b"}` the bytewise-last key, `aadClientId`, wins.
    // A wrong type does not stop the walk; the first one (in sorted order) is the error.
    let mut values: Vec<(&'static str, Scalar)> = Vec::new();
    let mut first_error = None;
    for (key, value) in entries {
        let field = FIELDS.iter().find(|(name, _)| name == key).or_else(|| {
            FIELDS
                .iter()
                .find(|(name, _)| kcred_api::go::json::equal_fold(key, name))
        });
        if let Some(&(name, ty)) = field {
            match check(name, ty, value) {
                Ok(Some(scalar)) => values.push((name, scalar)),
                Ok(None) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
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
pub(crate) fn go_io_reason(e: &std::io::Error) -> String {
    kcred_api::go::os::errno_text(e)
}

/// Reads and parses the file at `path`.
pub(crate) fn load_azure_config(path: &Path) -> Result<AzureConfig, AzureConfigError> {
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
    fn keys_differing_in_case_bytewise_last_wins_like_upstream() {
        // sigs.k8s.io/yaml sorts the keys ("AADClientID" < "aadClientId"), then
        // encoding/json assigns each in turn: the bytewise-last key wins, whatever the
        // document order (issue 11 item 5).
        let c = parse_azure_config(br#"{"aadClientId":"exact-first","AADClientID":"UPPER-LATER"}"#)
            .unwrap();
        assert_eq!(c.aad_client_id, "exact-first");
        let c = parse_azure_config(br#"{"AADClientID":"UPPER-FIRST","aadClientId":"exact-later"}"#)
            .unwrap();
        assert_eq!(c.aad_client_id, "exact-later");
        let c = parse_azure_config(br#"{"aadclientid":"c","AADCLIENTID":"a","aadClientId":"b"}"#)
            .unwrap();
        assert_eq!(c.aad_client_id, "c");
        // No exact key at all: still the bytewise-last of the folding keys.
        let c = parse_azure_config(br#"{"aadclientID":"x","AADClientId":"y"}"#).unwrap();
        assert_eq!(c.aad_client_id, "x");
        // An exact duplicate: go-yaml keeps the later value.
        let c = parse_azure_config(br#"{"tenantId":"1","tenantId":"2"}"#).unwrap();
        assert_eq!(c.tenant_id, "2");
        let c = parse_azure_config(b"tenantID: t\nuseManagedIdentityExtension: true\n").unwrap();
        assert_eq!(c.tenant_id, "t");
        assert!(c.use_managed_identity_extension);
    }

    #[test]
    fn the_first_type_error_in_sorted_key_order_is_reported() {
        let e = parse_azure_config(br#"{"userAgent":1,"cloud":2}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "failed to load config: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field .cloud of type string"
        );
    }

    #[test]
    fn syntax_errors_are_go_yamls() {
        assert_eq!(
            parse_azure_config(br#"{"aadClientId":"foo","#).unwrap_err().to_string(),
            "failed to load config: error converting YAML to JSON: yaml: line 1: did not find expected node content"
        );
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
