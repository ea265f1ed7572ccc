//! The plugin's stdin/stdout contract, as upstream's binary implements it.
//!
//! Requests: a JSON meta-sniff of `apiVersion`/`kind` (so YAML fails), only
//! `credentialprovider.kubelet.k8s.io/v1`, unknown fields ignored, `image` required.
//! Responses: apimachinery's v1 encoding (`kind, apiVersion, cacheKeyType, cacheDuration, auth`,
//! `auth` sorted and omitted when empty, Go's HTML-safe string escaping from
//! [`kcred_api::gostr::push_json_string`]) plus `\n`.

use std::collections::BTreeMap;

use kcred_api::gostr::push_json_string;
use kcred_api::request::CredentialProviderRequest;
use kcred_api::response::AuthConfig;
use kcred_api::{ApiVersion, Secret};

/// A request that could not be decoded (upstream's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Not JSON.
    #[error("couldn't get version/kind; json parse error: {0}")]
    NotJson(String),
    /// Another group/version than v1.
    #[error("group version {0} is not supported")]
    UnsupportedVersion(String),
    /// Another kind.
    #[error("no kind \"{kind}\" is registered for version \"{version}\"")]
    UnknownKind {
        /// The kind given.
        kind: String,
        /// The group/version given.
        version: String,
    },
    /// A field of the wrong type.
    #[error("failed to decode request: {0}")]
    Decode(String),
    /// `image` missing or empty.
    #[error("image in plugin request was empty")]
    EmptyImage,
}

#[derive(serde::Deserialize)]
struct TypeMeta {
    #[serde(default, rename = "apiVersion")]
    api_version: Option<serde_json::Value>,
    #[serde(default)]
    kind: Option<serde_json::Value>,
}

#[derive(serde::Deserialize)]
struct RequestBody {
    #[serde(default)]
    image: Option<String>,
    #[serde(default, rename = "serviceAccountToken")]
    service_account_token: Option<String>,
    #[serde(default, rename = "serviceAccountAnnotations")]
    service_account_annotations: Option<BTreeMap<String, String>>,
}

fn go_json_error(e: &serde_json::Error) -> String {
    if e.is_eof() {
        "unexpected end of JSON input".to_owned()
    } else {
        e.to_string()
    }
}

/// Decodes the request on stdin.
pub fn decode_request(bytes: &[u8]) -> Result<CredentialProviderRequest, RequestError> {
    let meta: TypeMeta =
        serde_json::from_slice(bytes).map_err(|e| RequestError::NotJson(go_json_error(&e)))?;
    let as_string = |v: Option<serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => Ok(s),
        None | Some(serde_json::Value::Null) => Ok(String::new()),
        Some(other) => Err(RequestError::NotJson(format!(
            "json: cannot unmarshal {} into Go struct field TypeMeta of type string",
            if other.is_number() { "number" } else { "value" }
        ))),
    };
    let version = as_string(meta.api_version)?;
    let kind = as_string(meta.kind)?;
    if version != ApiVersion::V1.as_str() {
        return Err(RequestError::UnsupportedVersion(version));
    }
    if kind != "CredentialProviderRequest" {
        return Err(RequestError::UnknownKind { kind, version });
    }
    let body: RequestBody =
        serde_json::from_slice(bytes).map_err(|e| RequestError::Decode(e.to_string()))?;
    let image = body.image.unwrap_or_default();
    if image.is_empty() {
        return Err(RequestError::EmptyImage);
    }
    Ok(CredentialProviderRequest {
        api_version: ApiVersion::V1,
        image,
        service_account_token: body
            .service_account_token
            .filter(|t| !t.is_empty())
            .map(Secret::new),
        service_account_annotations: body.service_account_annotations.unwrap_or_default(),
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

/// Go's `time.Duration.String()` for whole seconds (`0s`, `5m0s`, `1h0m0s`).
pub fn go_duration_secs(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// Encodes the response (with the trailing `\n`).
pub fn encode_response(resp: &PluginResponse) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    out.push_str("{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"");
    out.push_str(ApiVersion::V1.as_str());
    out.push_str("\",\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"");
    out.push_str(&go_duration_secs(resp.cache_duration_secs));
    out.push('"');
    if !resp.auth.is_empty() {
        out.push_str(",\"auth\":{");
        for (i, (key, cfg)) in resp.auth.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(&mut out, key);
            out.push_str(":{\"username\":");
            push_json_string(&mut out, &cfg.username);
            out.push_str(",\"password\":");
            push_json_string(&mut out, cfg.password.expose());
            out.push('}');
        }
        out.push('}');
    }
    out.push_str("}\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(go_duration_secs(3600), "1h0m0s");
        assert_eq!(go_duration_secs(300), "5m0s");
        assert_eq!(go_duration_secs(0), "0s");
        assert_eq!(go_duration_secs(61), "1m1s");
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
