//! AAD access tokens for the ACR exchange, one function per identity kind.
//!
//! Endpoints: IMDS `http://169.254.169.254` (test knob `KCRED_ACR_IMDS_ENDPOINT`), the cloud's
//! AAD authority (test knob `KCRED_ACR_AUTHORITY_HOST`), identity bindings at
//! `https://<--ib-sni-name>:443/` dialled at `--ib-apiserver-ip` with the cluster CA
//! `/etc/kubernetes/certs/ca.crt` (test knobs `KCRED_ACR_IB_PORT`, `KCRED_ACR_IB_CA_FILE`).
//! Every error names the identity and the endpoint that failed.

mod aad;
mod assertion;
mod ib;
mod imds;

use std::path::PathBuf;
use std::time::Duration;

use kcred_api::Secret;

use crate::http::{HttpClient, HttpError, HttpResponse};
use crate::selection::Credential;

/// Test knob: IMDS base URL.
pub(crate) const IMDS_ENDPOINT_ENV: &str = "KCRED_ACR_IMDS_ENDPOINT";
/// Test knob: AAD authority host (replaces the cloud's).
pub(crate) const AUTHORITY_HOST_ENV: &str = "KCRED_ACR_AUTHORITY_HOST";
/// Test knob: identity-bindings port.
pub(crate) const IB_PORT_ENV: &str = "KCRED_ACR_IB_PORT";
/// Test knob: identity-bindings CA file.
pub(crate) const IB_CA_FILE_ENV: &str = "KCRED_ACR_IB_CA_FILE";

/// The default IMDS base URL.
pub(crate) const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254";
/// The cluster CA identity bindings trust (as upstream).
pub(crate) const DEFAULT_IB_CA_FILE: &str = "/etc/kubernetes/certs/ca.crt";

/// Where tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureEndpoints {
    /// IMDS base URL (no trailing `/`).
    pub imds: String,
    /// AAD authority with a trailing `/`.
    pub authority_host: String,
    /// The AAD scope (`…/.default`).
    pub scope: String,
    /// Identity-bindings port.
    pub ib_port: u16,
    /// Identity-bindings CA file.
    pub ib_ca_file: PathBuf,
    /// Identity-bindings endpoint host (`--ib-sni-name`; empty when off).
    pub ib_sni_name: String,
}

impl AzureEndpoints {
    /// The endpoints for a cloud authority, with the test knobs applied.
    pub fn new(authority_host: &str, scope: &str) -> AzureEndpoints {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        AzureEndpoints {
            imds: env(IMDS_ENDPOINT_ENV)
                .unwrap_or_else(|| DEFAULT_IMDS_ENDPOINT.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            authority_host: crate::cloud::with_trailing_slash(
                &env(AUTHORITY_HOST_ENV).unwrap_or_else(|| authority_host.to_owned()),
            ),
            scope: scope.to_owned(),
            ib_port: env(IB_PORT_ENV).and_then(|p| p.parse().ok()).unwrap_or(443),
            ib_ca_file: env(IB_CA_FILE_ENV)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_IB_CA_FILE)),
            ib_sni_name: String::new(),
        }
    }

    /// The resource IMDS wants: the scope without `/.default`.
    pub(crate) fn resource(&self) -> &str {
        self.scope.strip_suffix("/.default").unwrap_or(&self.scope)
    }
}

/// A token request that failed: which identity, which endpoint, why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{identity}: {endpoint}: {reason}")]
pub struct IdentityError {
    /// The identity that failed (`Credential::describe`).
    pub identity: String,
    /// The URL (or file) that failed.
    pub endpoint: String,
    /// Why.
    pub reason: String,
}

/// Per-attempt timeout of token calls.
pub(crate) const TOKEN_CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest token response read.
pub(crate) const TOKEN_BODY_LIMIT: u64 = 1 << 20;

/// Statuses worth another attempt (IMDS guidance ∪ azcore's retry policy).
pub(crate) fn is_retryable(status: u16) -> bool {
    matches!(status, 404 | 408 | 410 | 429 | 500 | 502 | 503 | 504)
}

/// Runs `call` up to `attempts` times while it fails at the transport level or with a status
/// `retry_on` accepts, sleeping 0.5 s, 1 s, 2 s … (or `Retry-After`, at most 5 s) in between.
pub(crate) fn with_retries(
    attempts: u32,
    retry_on: impl Fn(u16) -> bool,
    mut call: impl FnMut() -> Result<HttpResponse, HttpError>,
) -> Result<HttpResponse, HttpError> {
    let mut delay = Duration::from_millis(500);
    let mut attempt = 1;
    loop {
        let result = call();
        let wait = match &result {
            Ok(r) if retry_on(r.status) => r
                .header_values("retry-after")
                .first()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s.min(5)))
                .unwrap_or(delay),
            Err(HttpError::Transport { .. }) => delay,
            _ => return result,
        };
        if attempt >= attempts {
            return result;
        }
        std::thread::sleep(wait);
        delay *= 2;
        attempt += 1;
    }
}

/// An AAD error body's `error: error_description` (first line), else the body itself.
pub(crate) fn aad_error_text(resp: &HttpResponse) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&resp.body) {
        let err = v.get("error").and_then(|e| e.as_str()).unwrap_or("");
        let desc = v
            .get("error_description")
            .and_then(|e| e.as_str())
            .and_then(|d| d.lines().next())
            .unwrap_or("");
        if !err.is_empty() || !desc.is_empty() {
            let relay = |t: &str| {
                kcred_plugin::secrets::escape_nonprintable(&kcred_plugin::secrets::scrub(t))
            };
            return format!("status {}: {}: {}", resp.status, relay(err), relay(desc));
        }
    }
    format!(
        "status {}: {}",
        resp.status,
        crate::http::body_snippet(resp, 300)
    )
}

/// The `access_token` of a 200 token response.
pub(crate) fn access_token_of(resp: &HttpResponse) -> Result<Secret, String> {
    #[derive(serde::Deserialize)]
    struct TokenBody {
        #[serde(default)]
        access_token: Option<String>,
    }
    let body: TokenBody =
        serde_json::from_slice(&resp.body).map_err(|e| format!("malformed token response: {e}"))?;
    body.access_token
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| "token response has no access_token".to_owned())
}

/// The HTTP clients a token request may need (built lazily by the caller).
pub trait Clients {
    /// The general client (system trust, proxy from the environment).
    fn general(&self) -> Result<&HttpClient, HttpError>;
    /// The identity-bindings client (cluster CA, no proxy, dialled at the API server IP).
    fn identity_bindings(&self) -> Result<&HttpClient, HttpError>;
}

/// Gets an AAD access token for `credential`. `None` for the static service principal, which
/// needs no token.
///
/// The token obtained is registered for scrubbing ([`kcred_plugin::secrets`]): it is sent to
/// the ACR exchange, so an echoing server's error body must not show it.
pub fn acquire_aad_token(
    credential: &Credential,
    endpoints: &AzureEndpoints,
    clients: &dyn Clients,
) -> Result<Option<Secret>, IdentityError> {
    let token = acquire(credential, endpoints, clients)?;
    if let Some(t) = &token {
        kcred_plugin::secrets::register(t.expose());
    }
    Ok(token)
}

fn acquire(
    credential: &Credential,
    endpoints: &AzureEndpoints,
    clients: &dyn Clients,
) -> Result<Option<Secret>, IdentityError> {
    let fail = |endpoint: String, reason: String| IdentityError {
        identity: credential.describe(),
        endpoint,
        reason,
    };
    let general = || {
        clients
            .general()
            .map_err(|e| fail("TLS trust store".to_owned(), e.to_string()))
    };
    match credential {
        Credential::StaticServicePrincipal { .. } => Ok(None),
        Credential::ManagedIdentity(id) => imds::token(general()?, endpoints, id)
            .map(Some)
            .map_err(|(u, r)| fail(u, r)),
        Credential::WorkloadIdentity {
            client_id,
            tenant_id,
            token,
        } => aad::token(
            general()?,
            endpoints,
            tenant_id,
            client_id,
            aad::ClientAuth::Assertion(token.clone()),
        )
        .map(Some)
        .map_err(|(u, r)| fail(u, r)),
        Credential::FederatedTokenFile {
            client_id,
            tenant_id,
            path,
        } => {
            let assertion = std::fs::read_to_string(path)
                .map_err(|e| fail(path.clone(), crate::azure_config::go_io_reason(&e)))?;
            kcred_plugin::secrets::register(assertion.trim());
            aad::token(
                general()?,
                endpoints,
                tenant_id,
                client_id,
                aad::ClientAuth::Assertion(Secret::new(assertion.trim())),
            )
            .map(Some)
            .map_err(|(u, r)| fail(u, r))
        }
        Credential::ClientCertificate {
            client_id,
            tenant_id,
            cert_path,
        } => {
            let signer =
                assertion::CertificateSigner::from_pem_file(std::path::Path::new(cert_path))
                    .map_err(|e| fail(cert_path.clone(), e.to_string()))?;
            let token_url = aad::token_url(endpoints, tenant_id)
                .map_err(|r| fail(endpoints.authority_host.clone(), r))?;
            let jwt = signer
                .client_assertion(client_id, &token_url)
                .map_err(|e| fail(cert_path.clone(), e.to_string()))?;
            aad::token(
                general()?,
                endpoints,
                tenant_id,
                client_id,
                aad::ClientAuth::Assertion(jwt),
            )
            .map(Some)
            .map_err(|(u, r)| fail(u, r))
        }
        Credential::ClientSecret {
            client_id,
            tenant_id,
            secret,
        } => aad::token(
            general()?,
            endpoints,
            tenant_id,
            client_id,
            aad::ClientAuth::Secret(secret.clone()),
        )
        .map(Some)
        .map_err(|(u, r)| fail(u, r)),
        Credential::IdentityBindings { client_id, token } => {
            let client = clients
                .identity_bindings()
                .map_err(|e| fail(endpoints.ib_ca_file.display().to_string(), e.to_string()))?;
            ib::token(client, endpoints, client_id, token)
                .map(Some)
                .map_err(|(u, r)| fail(u, r))
        }
    }
}
