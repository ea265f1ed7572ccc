//! `CredentialProviderRequest`: what the kubelet writes on a plugin's stdin.

use std::collections::BTreeMap;

use crate::gojson::{JsonWriter, Value};
use crate::gostr::strconv_quote;
use crate::scheme;
use crate::strict::{Abort, DecodeError, Document, GoStruct, Walker};
use crate::{ApiVersion, Secret};

/// The kind of a request document.
pub const REQUEST_KIND: &str = "CredentialProviderRequest";

/// A request for credentials for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialProviderRequest {
    /// The version the request is encoded in (the provider's configured `apiVersion`).
    pub api_version: ApiVersion,
    /// `image`: the normalised image name (no tag or digest).
    pub image: String,
    /// `serviceAccountToken` (v1 only; dropped for older versions; omitted when empty).
    pub service_account_token: Option<Secret>,
    /// `serviceAccountAnnotations` (v1 only; omitted when empty; keys sorted).
    pub service_account_annotations: BTreeMap<String, String>,
}

/// Why a plugin could not decode its stdin. `Display` never includes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestDecodeError {
    /// apimachinery's strict decoder rejected the document (quoted documents redacted).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The document is another registered kind.
    #[error("failed to decode CredentialProviderRequest, unexpected Kind: {}", strconv_quote(.0))]
    UnexpectedKind(String),
}

impl CredentialProviderRequest {
    /// A request without service-account fields.
    pub fn new(api_version: ApiVersion, image: impl Into<String>) -> Self {
        CredentialProviderRequest {
            api_version,
            image: image.into(),
            service_account_token: None,
            service_account_annotations: BTreeMap::new(),
        }
    }

    /// The kubelet's exact stdin bytes: `kind`, `apiVersion`, `image`, then (v1 only, each
    /// only when non-empty) `serviceAccountToken` and `serviceAccountAnnotations` with
    /// sorted keys; Go's JSON string escaping; a trailing `\n`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = JsonWriter::new();
        w.begin_object();
        w.field_str("kind", REQUEST_KIND);
        w.field_str("apiVersion", self.api_version.as_str());
        w.field_str("image", &self.image);
        if self.api_version.supports_service_account_token() {
            if let Some(token) = self
                .service_account_token
                .as_ref()
                .filter(|t| !t.is_empty())
            {
                w.field_str("serviceAccountToken", token.expose());
            }
            if !self.service_account_annotations.is_empty() {
                w.key("serviceAccountAnnotations");
                w.begin_object();
                for (key, value) in &self.service_account_annotations {
                    w.field_str(key, value);
                }
                w.end_object();
            }
        }
        w.end_object();
        let mut out = w.finish().into_bytes();
        out.push(b'\n');
        out
    }

    /// Decodes a request read from stdin, strictly, in any of the three versions
    /// (`v1alpha1`/`v1beta1` have no service-account fields: they are unknown fields there).
    /// The request must be JSON, as the kubelet writes it and as every upstream plugin reads
    /// it (`json.DefaultMetaFactory.Interpret` first): YAML fails as a JSON syntax error.
    /// Another kind the kubelet's scheme registers is [`RequestDecodeError::UnexpectedKind`]
    /// without its fields being checked.
    pub fn decode(bytes: &[u8]) -> Result<Self, RequestDecodeError> {
        let doc = Document::parse_json(bytes).map_err(DecodeError::redacted)?;
        scheme::decode_request(&doc)
            .map_err(DecodeError::redacted)?
            .ok_or_else(|| RequestDecodeError::UnexpectedKind(doc.gvk().kind.clone()))
    }
}

/// `v1alpha1`/`v1beta1` requests: the `v1` fields without the service-account ones.
const REQUEST_FIELDS: &[&str] = REQUEST_FIELDS_V1.split_at(3).0;
/// The JSON fields of `v1.CredentialProviderRequest`, in declaration order.
pub(crate) const REQUEST_FIELDS_V1: &[&str] = &[
    "kind",
    "apiVersion",
    "image",
    "serviceAccountToken",
    "serviceAccountAnnotations",
];

/// Decodes the wire form of `version` (the kind is already known).
pub(crate) fn decode_wire(
    w: &mut Walker,
    value: &Value,
    version: ApiVersion,
) -> Result<CredentialProviderRequest, Abort> {
    let mut request = CredentialProviderRequest::new(version, "");
    let mut token = String::new();
    let mut type_meta = String::new();
    let spec = GoStruct {
        name: "CredentialProviderRequest",
        go_type: &format!("{}.CredentialProviderRequest", version.version()),
        fields: if version.supports_service_account_token() {
            REQUEST_FIELDS_V1
        } else {
            REQUEST_FIELDS
        },
        inline_type_meta: true,
    };
    w.object(value, &spec, |w, field, v| {
        match field {
            "image" => w.string(v, "string", &mut request.image),
            "serviceAccountToken" => w.string(v, "string", &mut token),
            "serviceAccountAnnotations" => w.map(
                v,
                "map[string]string",
                &mut request.service_account_annotations,
                Walker::string_element,
            )?,
            _ => w.string(v, "string", &mut type_meta),
        }
        Ok(())
    })?;
    if !token.is_empty() {
        request.service_account_token = Some(Secret::from(token));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_v1_with_service_account_fields() {
        let mut req = CredentialProviderRequest::new(ApiVersion::V1, "reg.io/a<b>");
        req.service_account_token = Some(Secret::new("tok&en"));
        req.service_account_annotations
            .insert("b".into(), "2".into());
        req.service_account_annotations
            .insert("a".into(), "1".into());
        assert_eq!(
            String::from_utf8(req.encode()).unwrap(),
            "{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\
             \"image\":\"reg.io/a\\u003cb\\u003e\",\"serviceAccountToken\":\"tok\\u0026en\",\
             \"serviceAccountAnnotations\":{\"a\":\"1\",\"b\":\"2\"}}\n"
        );
    }

    #[test]
    fn older_versions_drop_service_account_fields() {
        let mut req = CredentialProviderRequest::new(ApiVersion::V1Beta1, "reg.io/x");
        req.service_account_token = Some(Secret::new("t"));
        req.service_account_annotations
            .insert("a".into(), "1".into());
        let text = String::from_utf8(req.encode()).unwrap();
        assert!(!text.contains("serviceAccount"), "{text}");
    }

    #[test]
    fn decode_round_trips_every_version() {
        for version in ApiVersion::ALL {
            let mut req = CredentialProviderRequest::new(version, "reg.io/x");
            if version == ApiVersion::V1 {
                req.service_account_token = Some(Secret::new("tok"));
                req.service_account_annotations
                    .insert("k".into(), "v".into());
            }
            assert_eq!(
                CredentialProviderRequest::decode(&req.encode()).unwrap(),
                req
            );
        }
    }

    #[test]
    fn decode_is_strict() {
        let err = CredentialProviderRequest::decode(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","image":"x","serviceAccountToken":"t"}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "strict decoding error: unknown field \"serviceAccountToken\""
        );
        let err = CredentialProviderRequest::decode(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"x","serviceAccountAnnotations":{"a":"1","a":"2"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "strict decoding error: duplicate field \"serviceAccountAnnotations.a\""
        );
        let err = CredentialProviderRequest::decode(
            br#"{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image"}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to decode CredentialProviderRequest, unexpected Kind: \"CredentialProviderResponse\""
        );
    }

    #[test]
    fn decode_reads_json_only_and_does_not_decode_other_kinds() {
        // YAML is what the kubelet never writes; upstream plugins' JSON meta-sniff refuses it.
        let yaml = "kind: CredentialProviderRequest\napiVersion: credentialprovider.kubelet.k8s.io/v1\nimage: x\n";
        let err = CredentialProviderRequest::decode(yaml.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "couldn't get version/kind; json parse error: invalid character 'k' looking for beginning of value"
        );
        // A registered kind with bad fields is the wrong kind, not its own decode error.
        let err = CredentialProviderRequest::decode(
            br#"{"kind":"CredentialProviderConfig","apiVersion":"kubelet.config.k8s.io/v1","providers":7}"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            RequestDecodeError::UnexpectedKind("CredentialProviderConfig".into())
        );
        // An unregistered kind is still the scheme's error.
        let err =
            CredentialProviderRequest::decode(br#"{"kind":"Pod","apiVersion":"v1"}"#).unwrap_err();
        assert!(
            err.to_string().contains("no kind \"Pod\" is registered"),
            "{err}"
        );
    }

    #[test]
    fn decode_errors_never_quote_the_token() {
        let err = CredentialProviderRequest::decode(
            br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","serviceAccountToken":"SECRET"}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "Object 'Kind' is missing in '<redacted>'");
        assert!(!format!("{err:?}").contains("SECRET"));
    }
}
