//! The ACR side: `GET https://<registry>/v2/` for the challenge, then
//! `POST <realm scheme://host[:port]>/oauth2/exchange` trading an AAD token for an ACR refresh
//! token. Written by hand because no Azure SDK for Rust implements it.

use std::time::Duration;

use kcred_api::Secret;

use crate::challenge::{parse_challenge, Challenge, ChallengeError};
use crate::form::encode_sorted;
use crate::http::{HttpClient, HttpError};
use crate::identity::with_retries;

/// Timeout of each ACR call (upstream's challenge timeout).
pub(crate) const ACR_CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The exchange body limit (upstream: 10 MiB).
pub(crate) const EXCHANGE_BODY_LIMIT: u64 = 10 << 20;
/// The challenge body limit.
const CHALLENGE_BODY_LIMIT: u64 = 1 << 20;

/// An ACR-side failure.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The challenge request failed.
    #[error("GET https://{login_server}/v2/: {source}")]
    ChallengeTransport {
        /// The registry.
        login_server: String,
        /// Why.
        source: HttpError,
    },
    /// The challenge was not a valid ACR challenge.
    #[error("GET https://{login_server}/v2/: {source}")]
    Challenge {
        /// The registry.
        login_server: String,
        /// Why.
        source: ChallengeError,
    },
    /// The realm is not an `https://host[:port]/…` URL.
    #[error("Www-Authenticate: realm {0:?} is not an https URL")]
    BadRealm(String),
    /// The exchange request failed.
    #[error("POST {url}: {source}")]
    ExchangeTransport {
        /// The exchange URL.
        url: String,
        /// Why.
        source: HttpError,
    },
    /// A status other than 200.
    #[error("Www-Authenticate: auth url {url} responded with status code {status}: {body}")]
    ExchangeStatus {
        /// The exchange URL.
        url: String,
        /// The status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A 200 without a usable `refresh_token` (upstream returns an empty password).
    #[error("Www-Authenticate: auth url {url} returned no refresh_token")]
    NoRefreshToken {
        /// The exchange URL.
        url: String,
    },
}

/// `GET https://<login_server>/v2/` and parse the challenge.
pub(crate) fn fetch_challenge(
    http: &HttpClient,
    login_server: &str,
) -> Result<Challenge, ExchangeError> {
    let url = format!("https://{login_server}/v2/");
    let resp = http
        .get(&url, &[], ACR_CALL_TIMEOUT, CHALLENGE_BODY_LIMIT)
        .map_err(|source| ExchangeError::ChallengeTransport {
            login_server: login_server.to_owned(),
            source,
        })?;
    crate::log::LOG.info(
        4,
        format_args!(
            "challenge from {login_server}: status {} X-Ms-Correlation-Request-Id={:?}",
            resp.status,
            resp.header_values("x-ms-correlation-request-id")
                .first()
                .cloned()
                .unwrap_or_default()
        ),
    );
    parse_challenge(resp.status, &resp.header_values("www-authenticate")).map_err(|source| {
        ExchangeError::Challenge {
            login_server: login_server.to_owned(),
            source,
        }
    })
}

/// `<scheme>://<host[:port]>/oauth2/exchange` of a realm (its path is ignored, as upstream).
pub(crate) fn exchange_url(realm: &str) -> Result<String, ExchangeError> {
    let bad = || ExchangeError::BadRealm(realm.to_owned());
    let (scheme, rest) = realm.split_once("://").ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("https") {
        return Err(bad());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok(format!("https://{authority}/oauth2/exchange"))
}

/// Trades `aad_token` for an ACR refresh token.
pub fn exchange_refresh_token(
    http: &HttpClient,
    challenge: &Challenge,
    aad_token: &Secret,
    tenant: &str,
) -> Result<Secret, ExchangeError> {
    let url = exchange_url(&challenge.realm)?;
    let body = encode_sorted(&[
        ("grant_type", "access_token_refresh_token"),
        ("service", challenge.service.as_str()),
        ("tenant", tenant),
        ("refresh_token", aad_token.expose()),
        ("access_token", aad_token.expose()),
    ]);
    let resp = with_retries(
        3,
        |s| matches!(s, 429 | 503),
        || {
            http.post(
                &url,
                &[("Content-Type", "application/x-www-form-urlencoded")],
                &body,
                ACR_CALL_TIMEOUT,
                EXCHANGE_BODY_LIMIT,
            )
        },
    )
    .map_err(|source| ExchangeError::ExchangeTransport {
        url: url.clone(),
        source,
    })?;
    crate::log::LOG.info(
        4,
        format_args!(
            "exchange at {url}: status {} X-Ms-Correlation-Request-Id={:?}",
            resp.status,
            resp.header_values("x-ms-correlation-request-id")
                .first()
                .cloned()
                .unwrap_or_default()
        ),
    );
    if resp.status != 200 {
        return Err(ExchangeError::ExchangeStatus {
            url,
            status: resp.status,
            body: crate::http::body_snippet(&resp, 300),
        });
    }
    #[derive(serde::Deserialize)]
    struct ExchangeBody {
        #[serde(default)]
        refresh_token: Option<String>,
    }
    serde_json::from_slice::<ExchangeBody>(&resp.body)
        .ok()
        .and_then(|b| b.refresh_token)
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or(ExchangeError::NoRefreshToken { url })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_to_exchange_url() {
        assert_eq!(
            exchange_url("https://r.azurecr.io/oauth2/token").unwrap(),
            "https://r.azurecr.io/oauth2/exchange"
        );
        assert_eq!(
            exchange_url("https://127.0.0.1:8443/oauth2/token?x").unwrap(),
            "https://127.0.0.1:8443/oauth2/exchange"
        );
        assert!(exchange_url("http://r.azurecr.io/oauth2/token").is_err());
        assert!(exchange_url("https://user@evil/").is_err());
        assert!(exchange_url("r.azurecr.io").is_err());
    }
}
