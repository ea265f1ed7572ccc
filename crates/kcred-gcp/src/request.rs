//! The `CredentialProviderRequest` on stdin, decoded as upstream does (`json.Unmarshal`
//! into the v1 type): `apiVersion` and `kind` are not checked, unknown fields are ignored,
//! `null` means absent.

use std::collections::BTreeMap;

use kcred_api::{ApiVersion, Secret};
use serde::Deserialize;
use thiserror::Error;

/// The fields of a request the plugin uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PluginRequest {
    /// `apiVersion` as sent (may be empty).
    pub api_version: String,
    /// `image`.
    pub image: String,
    /// `serviceAccountToken` (empty when absent).
    pub service_account_token: Secret,
    /// `serviceAccountAnnotations`.
    pub service_account_annotations: BTreeMap<String, String>,
}

impl PluginRequest {
    /// The version to answer with: the request's when it names a known version, else `v1`
    /// (upstream always answers `v1`, which the kubelet rejects for v1beta1 configs).
    pub fn response_version(&self) -> ApiVersion {
        ApiVersion::parse(&self.api_version).unwrap_or(ApiVersion::V1)
    }
}

/// Upstream's message for an undecodable request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("error unmarshaling auth credential request: {reason}")]
pub struct RequestDecodeError {
    /// serde's reason (positions and types; a token cannot appear in it because string
    /// values are never quoted by the messages of the fields decoded here).
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    service_account_token: Option<String>,
    #[serde(default)]
    service_account_annotations: Option<BTreeMap<String, Option<String>>>,
}

/// Decodes stdin.
pub fn decode_request(bytes: &[u8]) -> Result<PluginRequest, RequestDecodeError> {
    let wire: WireRequest = serde_json::from_slice(bytes).map_err(|e| RequestDecodeError {
        reason: match e.classify() {
            serde_json::error::Category::Eof => "unexpected end of JSON input".to_owned(),
            _ => format!("invalid request at line {} column {}", e.line(), e.column()),
        },
    })?;
    Ok(PluginRequest {
        api_version: wire.api_version.unwrap_or_default(),
        image: wire.image.unwrap_or_default(),
        service_account_token: Secret::new(wire.service_account_token.unwrap_or_default()),
        service_account_annotations: wire
            .service_account_annotations
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lenient_like_json_unmarshal() {
        let r = decode_request(br#"{"image":"gcr.io/p/i","extra":1}"#).unwrap();
        assert_eq!(r.image, "gcr.io/p/i");
        assert_eq!(r.api_version, "");
        assert_eq!(r.response_version(), ApiVersion::V1);
        let r = decode_request(
            br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","kind":"X","image":null,
                "serviceAccountAnnotations":{"a":null,"b":"c"}}"#,
        )
        .unwrap();
        assert_eq!(r.response_version(), ApiVersion::V1Beta1);
        assert_eq!(r.image, "");
        assert_eq!(r.service_account_annotations["a"], "");
        assert_eq!(r.service_account_annotations["b"], "c");
    }

    #[test]
    fn errors_never_quote_the_token() {
        let err = decode_request(br#"{"serviceAccountToken": 5, "x": "secret-value"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("error unmarshaling auth credential request: "));
        assert!(!err.contains("secret-value"));
        let err = decode_request(b"").unwrap_err().to_string();
        assert_eq!(
            err,
            "error unmarshaling auth credential request: unexpected end of JSON input"
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_request(&bytes);
        }
    }
}
