//! Service-account impersonation through the IAM Credentials API
//! (`projects/-/serviceAccounts/<email>:generateAccessToken`), a kcred addition: the
//! federated token from STS is traded for a Google service account's access token, for
//! registries that grant pull access to a service account rather than to the
//! Workload Identity principal.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kcred_api::go::json::JsonWriter;
use kcred_api::Secret;
use serde::Deserialize;
use thiserror::Error;

use crate::http::{HttpClient, HttpError};
use crate::metadata::{AccessToken, USER_AGENT};
use crate::sts::{quote_body, CLOUD_PLATFORM_SCOPE};
use crate::time::{parse_rfc3339, TimestampError};

/// The IAM Credentials API base URL.
pub(crate) const DEFAULT_IAM_CREDENTIALS_URL: &str = "https://iamcredentials.googleapis.com/v1/";

/// Impersonation failures.
#[derive(Debug, Error)]
pub enum ImpersonationError {
    /// The service account name would not form a safe URL path.
    #[error("invalid Google service account {0:?}: expected an email such as name@project.iam.gserviceaccount.com or a numeric unique ID")]
    InvalidServiceAccount(String),
    /// No response.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// A non-200 answer.
    #[error("impersonating {service_account} failed with status {status}: {body}")]
    Status {
        /// The service account.
        service_account: String,
        /// The status code.
        status: u16,
        /// The body, lossily decoded and cut at 2 KiB.
        body: String,
    },
    /// A 200 answer that is not the documented JSON.
    #[error("generateAccessToken response is not valid JSON (line {line}, column {column})")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A 200 answer without `accessToken`.
    #[error("generateAccessToken response has no accessToken")]
    Empty,
    /// `expireTime` is not RFC 3339.
    #[error("generateAccessToken response: {0}")]
    ExpireTime(#[from] TimestampError),
}

/// True for names that can be put in the URL path unescaped: an email made of letters,
/// digits, `.`, `_`, `-`, one `@`; or a numeric unique ID.
pub(crate) fn is_valid_service_account(name: &str) -> bool {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    let ats = name.bytes().filter(|b| *b == b'@').count();
    let numeric = !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit());
    ok_chars && (numeric || (ats == 1 && !name.starts_with('@') && !name.ends_with('@')))
}

/// The `generateAccessToken` URL for `service_account` under `base`.
pub(crate) fn generate_access_token_url(base: &str, service_account: &str) -> String {
    let sep = if base.ends_with('/') { "" } else { "/" };
    format!("{base}{sep}projects/-/serviceAccounts/{service_account}:generateAccessToken")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateAccessTokenResponse {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expire_time: Option<String>,
}

/// Trades `federated` for an access token of `service_account`; `now` computes the
/// remaining lifetime from `expireTime`.
pub(crate) fn generate_access_token(
    http: &HttpClient,
    base: &str,
    service_account: &str,
    federated: &Secret,
    now: SystemTime,
) -> Result<AccessToken, ImpersonationError> {
    if !is_valid_service_account(service_account) {
        return Err(ImpersonationError::InvalidServiceAccount(
            service_account.to_owned(),
        ));
    }
    let url = generate_access_token_url(base, service_account);
    let mut w = JsonWriter::new();
    w.begin_object();
    w.key("scope");
    w.begin_array();
    w.string(CLOUD_PLATFORM_SCOPE);
    w.end_array();
    w.end_object();
    let body = w.finish();
    let bearer = format!("Bearer {}", federated.expose());
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
    ];
    let resp = http.post(&url, &headers, body.as_bytes())?;
    if resp.status != 200 {
        return Err(ImpersonationError::Status {
            service_account: service_account.to_owned(),
            status: resp.status,
            body: quote_body(&resp.body),
        });
    }
    let parsed: GenerateAccessTokenResponse =
        serde_json::from_slice(&resp.body).map_err(|e| ImpersonationError::Json {
            line: e.line(),
            column: e.column(),
        })?;
    let token = parsed
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or(ImpersonationError::Empty)?;
    let expires_in = match parsed.expire_time {
        Some(t) => {
            let expiry = parse_rfc3339(&t)?;
            let now_secs = now
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0);
            Some(Duration::from_secs(
                u64::try_from(expiry.saturating_sub(now_secs)).unwrap_or(0),
            ))
        }
        None => None,
    };
    Ok(AccessToken {
        token: Secret::new(token),
        expires_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_names() {
        assert!(is_valid_service_account(
            "puller@my-project.iam.gserviceaccount.com"
        ));
        assert!(is_valid_service_account("123456789012345678901"));
        for bad in [
            "",
            "@x",
            "x@",
            "a@b@c",
            "a/b@c",
            "a@b?x",
            "a@b#",
            "a b@c",
            "plainname",
        ] {
            assert!(!is_valid_service_account(bad), "{bad:?}");
        }
    }

    #[test]
    fn url_shape() {
        assert_eq!(
            generate_access_token_url(DEFAULT_IAM_CREDENTIALS_URL, "a@b.iam.gserviceaccount.com"),
            "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a@b.iam.gserviceaccount.com:generateAccessToken"
        );
        assert_eq!(
            generate_access_token_url("http://127.0.0.1:1/v1", "1"),
            "http://127.0.0.1:1/v1/projects/-/serviceAccounts/1:generateAccessToken"
        );
    }
}
