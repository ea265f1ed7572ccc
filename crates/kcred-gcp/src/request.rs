//! The `CredentialProviderRequest` on stdin, decoded as upstream does (`json.Unmarshal`
//! into the v1 type): `apiVersion` and `kind` are not checked, unknown fields are ignored,
//! `null` means absent.

use std::collections::BTreeMap;

use kcred_api::go::lenient;
use kcred_api::{ApiVersion, Secret};
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
    /// Go's reason (`unexpected end of JSON input`, `invalid character 'x' looking for
    /// beginning of value`, `json: cannot unmarshal number into Go struct field …`); no
    /// message of the decoder quotes a string value, so a token cannot appear in it.
    pub reason: String,
}

/// Decodes stdin as upstream's `json.Unmarshal` into the v1 type does: the shared lenient
/// decoder with [`kcred_api::go::lenient::GCP`] (Go's key folding, unknown fields ignored,
/// `null` leaves a field empty, Go's error texts).
pub fn decode_request(bytes: &[u8]) -> Result<PluginRequest, RequestDecodeError> {
    let fields = lenient::decode_request(bytes, &lenient::GCP).map_err(|e| RequestDecodeError {
        reason: e.to_string(),
    })?;
    Ok(PluginRequest {
        api_version: fields.api_version,
        image: fields.image,
        service_account_token: fields.service_account_token,
        service_account_annotations: fields.service_account_annotations,
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
    fn keys_fold_as_json_unmarshal() {
        // Go's foldName: `IMAGE` matches `image`; the last of two matching keys wins.
        let r = decode_request(br#"{"image":"a.io/x","IMAGE":"gcr.io/p/i"}"#).unwrap();
        assert_eq!(r.image, "gcr.io/p/i");
        let r = decode_request("{\"ServiceAccountToKen\":\"t\"}".as_bytes()).unwrap();
        assert_eq!(r.service_account_token.expose(), "t");
        let err = decode_request(br#"{"image": 5}"#).unwrap_err().to_string();
        assert_eq!(
            err,
            "error unmarshaling auth credential request: json: cannot unmarshal number into Go struct field CredentialProviderRequest.image of type string"
        );
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
