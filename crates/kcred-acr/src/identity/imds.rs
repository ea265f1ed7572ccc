//! Managed identity through IMDS (`GET /metadata/identity/oauth2/token`, api-version
//! 2018-02-01 as upstream, header `Metadata: true`).

use kcred_api::Secret;

use super::{
    aad_error_text, access_token_of, is_retryable, with_retries, AzureEndpoints, TOKEN_BODY_LIMIT,
    TOKEN_CALL_TIMEOUT,
};
use crate::form::encode_sorted;
use crate::http::HttpClient;
use crate::selection::ManagedIdentityId;

/// The IMDS token URL for `id`.
pub(super) fn token_url(endpoints: &AzureEndpoints, id: &ManagedIdentityId) -> String {
    let mut q = vec![
        ("api-version", "2018-02-01"),
        ("resource", endpoints.resource()),
    ];
    match id {
        ManagedIdentityId::SystemAssigned => {}
        ManagedIdentityId::ClientId(c) => q.push(("client_id", c)),
        ManagedIdentityId::ResourceId(r) => q.push(("msi_res_id", r)),
    }
    format!(
        "{}/metadata/identity/oauth2/token?{}",
        endpoints.imds,
        encode_sorted(&q)
    )
}

/// Gets a token; on failure returns `(endpoint, reason)`.
pub(super) fn token(
    http: &HttpClient,
    endpoints: &AzureEndpoints,
    id: &ManagedIdentityId,
) -> Result<Secret, (String, String)> {
    let url = token_url(endpoints, id);
    let endpoint = format!("GET {}", url.split('?').next().unwrap_or(&url));
    let resp = with_retries(4, is_retryable, || {
        http.get(
            &url,
            &[("Metadata", "true")],
            TOKEN_CALL_TIMEOUT,
            TOKEN_BODY_LIMIT,
        )
    })
    .map_err(|e| (endpoint.clone(), e.to_string()))?;
    if resp.status != 200 {
        return Err((endpoint, aad_error_text(&resp)));
    }
    access_token_of(&resp).map_err(|r| (endpoint, r))
}
