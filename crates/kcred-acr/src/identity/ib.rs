//! AKS identity bindings: `POST https://<sni>/` dialled at the API server IP, trusting the
//! cluster CA, no proxy (as upstream), with the service-account token as client assertion.

use kcred_api::Secret;

use super::{access_token_of, AzureEndpoints, TOKEN_BODY_LIMIT, TOKEN_CALL_TIMEOUT};
use crate::form::encode_sorted;
use crate::http::HttpClient;

/// The endpoint URL.
pub(super) fn endpoint_url(endpoints: &AzureEndpoints) -> String {
    if endpoints.ib_port == 443 {
        format!("https://{}/", endpoints.ib_sni_name)
    } else {
        format!("https://{}:{}/", endpoints.ib_sni_name, endpoints.ib_port)
    }
}

/// Gets a token; on failure returns `(endpoint, reason)`.
pub(super) fn token(
    http: &HttpClient,
    endpoints: &AzureEndpoints,
    client_id: &str,
    sa_token: &Secret,
) -> Result<Secret, (String, String)> {
    let url = endpoint_url(endpoints);
    let endpoint = format!("POST {url}");
    let body = encode_sorted(&[
        ("grant_type", "client_credentials"),
        ("client_assertion_type", super::aad::JWT_BEARER),
        ("client_assertion", sa_token.expose()),
        ("client_id", client_id),
        ("scope", endpoints.scope.as_str()),
    ]);
    let resp = http
        .post(
            &url,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &body,
            TOKEN_CALL_TIMEOUT,
            TOKEN_BODY_LIMIT,
        )
        .map_err(|e| (endpoint.clone(), e.to_string()))?;
    if resp.status != 200 {
        return Err((
            endpoint,
            format!(
                "token request failed with status {}: {}",
                resp.status,
                crate::http::body_snippet(&resp, 300)
            ),
        ));
    }
    access_token_of(&resp).map_err(|r| (endpoint, r))
}
