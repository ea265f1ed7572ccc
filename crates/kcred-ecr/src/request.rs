//! Reading the request the way upstream's `plugin.go` does.
//!
//! Upstream sniffs `apiVersion`/`kind`, rejects any group/version but
//! `credentialprovider.kubelet.k8s.io/v1` with `group version <gv> is not supported`, then
//! decodes **non-strictly**: unknown fields are ignored, so a future kubelet adding a field
//! does not break it. kcred does the same, and additionally accepts `v1alpha1` and
//! `v1beta1` (answered in the same version). Messages never quote the document, which may
//! hold a service-account token.

use std::collections::BTreeMap;

use kcred_api::request::{CredentialProviderRequest, REQUEST_KIND};
use kcred_api::{ApiVersion, Secret};
use serde_json::Value;

/// Why stdin is not a request upstream would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Not a JSON object.
    #[error("couldn't get version/kind; json parse error: {0}")]
    NotJson(String),
    /// `apiVersion` has more than one `/`.
    #[error("unexpected GroupVersion string: {0}")]
    BadGroupVersion(String),
    /// Not a version of `credentialprovider.kubelet.k8s.io` this plugin speaks.
    #[error("group version {0} is not supported")]
    UnsupportedGroupVersion(String),
    /// Another kind.
    #[error("kind was {0:?}, expected CredentialProviderRequest")]
    WrongKind(String),
    /// A field of the wrong JSON type.
    #[error("json: cannot unmarshal {found} into Go struct field CredentialProviderRequest.{field} of type {want}")]
    FieldType {
        /// The field.
        field: &'static str,
        /// The JSON type found.
        found: &'static str,
        /// The Go type expected.
        want: &'static str,
    },
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn string_field(
    doc: &serde_json::Map<String, Value>,
    field: &'static str,
) -> Result<String, RequestError> {
    match doc.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(RequestError::FieldType {
            field,
            found: json_type(other),
            want: "string",
        }),
    }
}

/// Decodes stdin as upstream's plugin does (plus the two older versions).
pub fn decode_request(bytes: &[u8]) -> Result<CredentialProviderRequest, RequestError> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| RequestError::NotJson(e.to_string()))?;
    let Value::Object(doc) = doc else {
        return Err(RequestError::NotJson(format!(
            "cannot unmarshal {} into Go value of type struct",
            json_type(&doc)
        )));
    };
    let api_version = string_field(&doc, "apiVersion")?;
    let kind = string_field(&doc, "kind")?;
    if api_version.matches('/').count() > 1 {
        return Err(RequestError::BadGroupVersion(api_version));
    }
    let version = ApiVersion::parse(&api_version)
        .ok_or_else(|| RequestError::UnsupportedGroupVersion(api_version.clone()))?;
    if kind != REQUEST_KIND {
        return Err(RequestError::WrongKind(kind));
    }
    let mut request = CredentialProviderRequest::new(version, string_field(&doc, "image")?);
    if version.supports_service_account_token() {
        let token = string_field(&doc, "serviceAccountToken")?;
        if !token.is_empty() {
            request.service_account_token = Some(Secret::from(token));
        }
        request.service_account_annotations = annotations(&doc)?;
    }
    Ok(request)
}

fn annotations(
    doc: &serde_json::Map<String, Value>,
) -> Result<BTreeMap<String, String>, RequestError> {
    let field = "serviceAccountAnnotations";
    match doc.get(field) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                // Go decodes null into a map[string]string element as "".
                Value::Null => Ok((k.clone(), String::new())),
                other => Err(RequestError::FieldType {
                    field,
                    found: json_type(other),
                    want: "string",
                }),
            })
            .collect(),
        Some(other) => Err(RequestError::FieldType {
            field,
            found: json_type(other),
            want: "map[string]string",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_messages() {
        let e = |s: &str| decode_request(s.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            e(r#"{"kind":"CredentialProviderRequest","apiVersion":"foo.k8s.io/v1","image":"x"}"#),
            "group version foo.k8s.io/v1 is not supported"
        );
        assert_eq!(
            e(
                r#"{"kind":"CredentialProviderFoo","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}"#
            ),
            r#"kind was "CredentialProviderFoo", expected CredentialProviderRequest"#
        );
        assert_eq!(
            e(r#"{"kind":"CredentialProviderRequest","apiVersion":"a/b/c"}"#),
            "unexpected GroupVersion string: a/b/c"
        );
        assert!(e("nope").starts_with("couldn't get version/kind; json parse error: "));
        assert_eq!(
            e(r#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":1}"#),
            "json: cannot unmarshal number into Go struct field CredentialProviderRequest.image of type string"
        );
    }

    #[test]
    fn unknown_fields_are_ignored_and_versions_kept() {
        let r = decode_request(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1",
                "image":"a.b/c","futureField":{"x":1},"serviceAccountToken":"t",
                "serviceAccountAnnotations":{"k":"v"}}"#,
        )
        .unwrap();
        assert_eq!(r.image, "a.b/c");
        assert_eq!(r.service_account_token, Some(Secret::from("t")));
        assert_eq!(
            r.service_account_annotations.get("k").map(String::as_str),
            Some("v")
        );
        let r = decode_request(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"x","serviceAccountToken":"t"}"#,
        )
        .unwrap();
        assert_eq!(r.api_version, ApiVersion::V1Alpha1);
        assert_eq!(r.service_account_token, None);
    }

    #[test]
    fn errors_never_quote_the_token() {
        let e = decode_request(
            br#"{"kind":"X","apiVersion":"credentialprovider.kubelet.k8s.io/v1","serviceAccountToken":"SECRET"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("SECRET"));
    }
}
