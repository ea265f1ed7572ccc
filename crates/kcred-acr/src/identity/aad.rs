//! The AAD v2 token endpoint (`POST {authority}{tenant}/oauth2/v2.0/token`,
//! `grant_type=client_credentials`) with a client secret or a client assertion.
//! Instance and tenant discovery are skipped: they add two round trips per exec and nothing a
//! one-shot process can cache.

use kcred_api::Secret;

use super::{
    aad_error_text, access_token_of, with_retries, AzureEndpoints, TOKEN_BODY_LIMIT,
    TOKEN_CALL_TIMEOUT,
};
use crate::form::encode_sorted;
use crate::http::HttpClient;

/// How the client proves itself.
#[derive(Debug, Clone)]
pub(super) enum ClientAuth {
    /// `client_secret`.
    Secret(Secret),
    /// `client_assertion` (a JWT: service-account token, federated token, certificate-signed).
    Assertion(Secret),
}

/// The assertion type AAD expects.
pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// True for a tenant that may go into the URL path: a GUID or a domain name.
pub(super) fn is_valid_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= 256
        && !tenant.starts_with('.')
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The token endpoint of `tenant`.
pub(super) fn token_url(endpoints: &AzureEndpoints, tenant: &str) -> Result<String, String> {
    if !is_valid_tenant(tenant) {
        return Err(format!("invalid tenant ID {tenant:?}"));
    }
    Ok(format!(
        "{}{tenant}/oauth2/v2.0/token",
        endpoints.authority_host
    ))
}

/// Gets a token; on failure returns `(endpoint, reason)`.
pub(super) fn token(
    http: &HttpClient,
    endpoints: &AzureEndpoints,
    tenant: &str,
    client_id: &str,
    auth: ClientAuth,
) -> Result<Secret, (String, String)> {
    let url = token_url(endpoints, tenant).map_err(|r| (endpoints.authority_host.clone(), r))?;
    let endpoint = format!("POST {url}");
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", endpoints.scope.as_str()),
    ];
    match &auth {
        ClientAuth::Secret(s) => form.push(("client_secret", s.expose())),
        ClientAuth::Assertion(a) => {
            form.push(("client_assertion_type", JWT_BEARER));
            form.push(("client_assertion", a.expose()));
        }
    }
    let body = encode_sorted(&form);
    let resp = with_retries(
        3,
        |s| matches!(s, 429 | 500 | 502 | 503 | 504),
        || {
            http.post(
                &url,
                &[(
                    "Content-Type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                )],
                &body,
                TOKEN_CALL_TIMEOUT,
                TOKEN_BODY_LIMIT,
            )
        },
    )
    .map_err(|e| (endpoint.clone(), e.to_string()))?;
    if resp.status != 200 {
        return Err((endpoint, aad_error_text(&resp)));
    }
    access_token_of(&resp).map_err(|r| (endpoint, r))
}
