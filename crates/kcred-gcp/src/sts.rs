//! Google STS token exchange (RFC 8693) for GKE Workload Identity: the pod's Kubernetes
//! service-account token becomes a federated Google access token.

use std::time::Duration;

use kcred_api::go::json::JsonWriter;
use kcred_api::Secret;
use thiserror::Error;

use crate::http::{HttpClient, HttpError};
use crate::metadata::{parse_token_response, AccessToken, TokenParseError, USER_AGENT};

/// Upstream's STS endpoint.
pub(crate) const DEFAULT_STS_URL: &str = "https://sts.googleapis.com/v1/token";
/// Upstream's timeout when the Workload Identity path is possible.
pub(crate) const STS_TIMEOUT: Duration = Duration::from_secs(30);
/// `grant_type`.
pub(crate) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// `requested_token_type`.
pub(crate) const REQUESTED_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// `scope`.
pub(crate) const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// `subject_token_type`.
pub(crate) const SUBJECT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
/// At most this much of an error body is quoted in a message.
const MAX_QUOTED_BODY: usize = 2048;

/// The audience GKE's identity namespace expects:
/// `identitynamespace:<project>.svc.id.goog:<identity provider>`.
pub(crate) fn audience(project_id: &str, identity_provider: &str) -> String {
    format!("identitynamespace:{project_id}.svc.id.goog:{identity_provider}")
}

/// The exact request body upstream sends: its fields in upstream's order, each string
/// encoded as `json.Marshal` encodes it (HTML escaping on).
pub(crate) fn exchange_body(audience: &str, subject_token: &Secret) -> Vec<u8> {
    let fields = [
        ("audience", audience),
        ("grant_type", GRANT_TYPE),
        ("requested_token_type", REQUESTED_TOKEN_TYPE),
        ("scope", CLOUD_PLATFORM_SCOPE),
        ("subject_token", subject_token.expose()),
        ("subject_token_type", SUBJECT_TOKEN_TYPE),
    ];
    let mut w = JsonWriter::new();
    w.begin_object();
    for (name, value) in fields {
        w.field_str(name, value);
    }
    w.end_object();
    w.finish().into_bytes()
}

/// STS failures.
#[derive(Debug, Error)]
pub enum StsError {
    /// No response.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// Upstream's message for a non-200 answer (the body is STS's error object).
    #[error("STS token exchange failed with status {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The body, lossily decoded and cut at 2 KiB.
        body: String,
    },
    /// A 200 answer without a usable token.
    #[error("STS {0}")]
    Token(#[from] TokenParseError),
}

/// Text of an error body for a message: lossy UTF-8, at most 2 KiB, trimmed, scrubbed of
/// every secret the process knows (the subject token first: an echoing server must not leak
/// it) and with non-printable characters escaped Go-style
/// ([`kcred_plugin::secrets::remote_text`]).
pub(crate) fn quote_body(body: &[u8]) -> String {
    kcred_plugin::secrets::remote_text(body, MAX_QUOTED_BODY)
}

/// Exchanges `subject_token` (the pod's service-account JWT) at `sts_url`.
pub(crate) fn exchange(
    http: &HttpClient,
    sts_url: &str,
    audience: &str,
    subject_token: &Secret,
) -> Result<AccessToken, StsError> {
    let body = exchange_body(audience, subject_token);
    let headers = [
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
    ];
    let resp = http.post(sts_url, &headers, &body)?;
    if resp.status != 200 {
        return Err(StsError::Status {
            status: resp.status,
            body: quote_body(&resp.body),
        });
    }
    Ok(parse_token_response(&resp.body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_body_is_what_json_marshal_writes() {
        let body = exchange_body("a<b>&c\u{2028}", &Secret::new("t\"k\\n"));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "{\"audience\":\"a\\u003cb\\u003e\\u0026c\\u2028\",\
             \"grant_type\":\"urn:ietf:params:oauth:grant-type:token-exchange\",\
             \"requested_token_type\":\"urn:ietf:params:oauth:token-type:access_token\",\
             \"scope\":\"https://www.googleapis.com/auth/cloud-platform\",\
             \"subject_token\":\"t\\\"k\\\\n\",\
             \"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\"}"
        );
    }
}
