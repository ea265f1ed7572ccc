//! The plugin's stdin/stdout contract, as upstream's binary implements it.
//!
//! Requests: a JSON meta-sniff of `apiVersion`/`kind` (so YAML fails), only
//! `credentialprovider.kubelet.k8s.io/v1`, unknown fields ignored, `image` required.
//! Responses: apimachinery's v1 encoding (`kind, apiVersion, cacheKeyType, cacheDuration, auth`,
//! `auth` sorted and omitted when empty, Go's HTML-safe string escaping) plus `\n`, written by
//! [`CredentialProviderResponse::encode`]; `cacheDuration` is [`GoDuration`]'s Go format.

use std::collections::BTreeMap;
use std::time::Duration;

use kcred_api::go::lenient;
use kcred_api::go::strict::{interpret_gvk, InterpretError, SCHEME_NAME};
use kcred_api::gostr::strconv_quote;
use kcred_api::request::CredentialProviderRequest;
use kcred_api::response::{AuthConfig, CacheKeyType, CredentialProviderResponse};
use kcred_api::{ApiVersion, GoDuration};

/// A request that could not be decoded (upstream's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The `apiVersion`/`kind` sniff failed: not JSON, a non-string `apiVersion`/`kind`, or a
    /// malformed group/version (apimachinery's messages, [`kcred_api::go::strict::interpret_gvk`]).
    #[error(transparent)]
    Sniff(#[from] InterpretError),
    /// Another group/version than v1.
    #[error("group version {0} is not supported")]
    UnsupportedVersion(String),
    /// Another kind: apimachinery's "not registered" error, naming upstream's scheme as a
    /// module build of apimachinery does ([`kcred_api::go::strict::SCHEME_NAME`]).
    #[error(
        "no kind {} is registered for version {} in scheme {}",
        strconv_quote(kind),
        strconv_quote(version),
        strconv_quote(SCHEME_NAME)
    )]
    UnknownKind {
        /// The kind given.
        kind: String,
        /// The group/version given.
        version: String,
    },
    /// A field of the wrong type (Go's `json: cannot unmarshal …`).
    #[error("failed to decode request: {0}")]
    Decode(String),
    /// `image` missing or empty.
    #[error("image in plugin request was empty")]
    EmptyImage,
}

/// Decodes the request on stdin: apimachinery's type-meta sniff, the version and kind
/// checks, then the shared lenient decoder with [`kcred_api::go::lenient::ACR`] (exact keys,
/// unknown fields ignored, Go's error texts).
pub fn decode_request(bytes: &[u8]) -> Result<CredentialProviderRequest, RequestError> {
    let gvk = interpret_gvk(bytes)?;
    let version = if gvk.group.is_empty() {
        gvk.version
    } else {
        format!("{}/{}", gvk.group, gvk.version)
    };
    if version != ApiVersion::V1.as_str() {
        return Err(RequestError::UnsupportedVersion(version));
    }
    if gvk.kind != "CredentialProviderRequest" {
        return Err(RequestError::UnknownKind {
            kind: gvk.kind,
            version,
        });
    }
    let fields = lenient::decode_request(bytes, &lenient::ACR)
        .map_err(|e| RequestError::Decode(e.to_string()))?;
    if fields.image.is_empty() {
        return Err(RequestError::EmptyImage);
    }
    Ok(CredentialProviderRequest {
        api_version: ApiVersion::V1,
        image: fields.image,
        service_account_token: Some(fields.service_account_token).filter(|t| !t.is_empty()),
        service_account_annotations: fields.service_account_annotations,
    })
}

/// The response kcred writes: always `cacheKeyType: Registry`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PluginResponse {
    /// `cacheDuration` in whole seconds.
    pub cache_duration_secs: u64,
    /// `auth`: key → credentials.
    pub auth: BTreeMap<String, AuthConfig>,
}

impl PluginResponse {
    /// The wire response: `v1`, `cacheKeyType: Registry`, `cacheDuration` always written.
    pub(crate) fn to_wire(&self) -> CredentialProviderResponse {
        let mut wire = CredentialProviderResponse::new(ApiVersion::V1, CacheKeyType::Registry);
        wire.cache_duration = Some(go_duration(self.cache_duration_secs));
        wire.auth = self.auth.clone();
        wire
    }
}

/// Whole seconds as a [`GoDuration`], saturating at Go's largest duration (~292 years).
fn go_duration(secs: u64) -> GoDuration {
    GoDuration::from_std(Duration::from_secs(secs)).unwrap_or(GoDuration(i64::MAX))
}

/// Encodes the response (with the trailing `\n`): [`CredentialProviderResponse::encode`] of
/// `PluginResponse::to_wire`.
pub fn encode_response(resp: &PluginResponse) -> Vec<u8> {
    resp.to_wire().encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcred_api::Secret;

    #[test]
    fn durations() {
        assert_eq!(go_duration(3600).to_string(), "1h0m0s");
        assert_eq!(go_duration(300).to_string(), "5m0s");
        assert_eq!(go_duration(0).to_string(), "0s");
        assert_eq!(go_duration(61).to_string(), "1m1s");
    }

    #[test]
    fn html_safe_escaping_like_go() {
        let mut auth = BTreeMap::new();
        auth.insert(
            "r.azurecr.io".to_owned(),
            AuthConfig {
                username: "u".into(),
                password: Secret::new("a<b>&\"c"),
            },
        );
        let out = encode_response(&PluginResponse {
            cache_duration_secs: 3600,
            auth,
        });
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("}\n"));
        assert!(
            text.contains(r#""password":"a\u003cb\u003e\u0026\"c""#),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["auth"]["r.azurecr.io"]["password"], "a<b>&\"c");
    }

    #[test]
    fn request_errors() {
        assert_eq!(
            decode_request(b"").unwrap_err().to_string(),
            "couldn't get version/kind; json parse error: unexpected end of JSON input"
        );
        let r = decode_request(br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"x","extra":1,"serviceAccountToken":""}"#).unwrap();
        assert_eq!(r.image, "x");
        assert_eq!(r.service_account_token, None);
    }
}
