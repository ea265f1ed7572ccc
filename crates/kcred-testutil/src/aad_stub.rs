//! A Microsoft Entra ID (AAD) v2 token endpoint that really verifies workload-identity
//! client assertions, as Entra does for a federated identity credential:
//!
//! 1. `POST /<tenant>/oauth2/v2.0/token`, form `grant_type=client_credentials`, `client_id`,
//!    `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`,
//!    `client_assertion=<service-account token>`, `scope`.
//! 2. The application's federated credentials are matched on the assertion's issuer
//!    (`AADSTS700211` when none names it), then subject and audience (`AADSTS70021`).
//! 3. The issuer's `/.well-known/openid-configuration` is fetched over HTTPS, then its
//!    `jwks_uri` (`AADSTS50166` when that fails or the documents are unusable); the key is
//!    picked by the token's `kid` (`AADSTS7000272` when it is not published) and the signature
//!    verified (`AADSTS700027`); `nbf`/`exp` are checked with 5 minutes of skew
//!    (`AADSTS700024`).
//! 4. Success: `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":…}`
//!    with an RS256 access token whose `aud` is the scope's resource, `appid` the client and
//!    `tid` the tenant.
//!
//! Error bodies have Entra's shape (`error`, `error_description` with the AADSTS code, Trace
//! ID, Correlation ID and Timestamp, `error_codes`, `timestamp`, `trace_id`,
//! `correlation_id`, `error_uri`); the texts follow the errors Entra returns for these cases
//! (e.g. Azure/azure-workload-identity#616 for AADSTS70021, #1200 for AADSTS700211, #1232 for
//! AADSTS7000272). The verification itself is kcred-oidc's, the same code `kcred oidc check`
//! runs, fed only with what the stub fetched from the issuer.

use std::path::PathBuf;
use std::sync::Mutex;

use kcred_oidc::fetch::Fetcher;
use kcred_oidc::verify::{check_documents, rfc3339};
use kcred_oidc::Jwt;

use crate::http_stub::{StubRequest, StubResponse};
use crate::oidc_idp::{now, SigningKey};

/// One federated identity credential of an application (`az identity
/// federated-credential create --issuer --subject --audiences`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredential {
    /// The application (client) ID it belongs to.
    pub client_id: String,
    /// `issuer`: compared exactly with the assertion's `iss`.
    pub issuer: String,
    /// `subject`: compared exactly with `sub`.
    pub subject: String,
    /// `audiences`: one must be in `aud`.
    pub audiences: Vec<String>,
}

/// The AAD stub.
pub struct AadStub {
    tenant: String,
    credentials: Vec<FederatedCredential>,
    ca_file: Option<PathBuf>,
    signer: SigningKey,
    errors: Mutex<Vec<String>>,
}

impl std::fmt::Debug for AadStub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AadStub")
            .field("tenant", &self.tenant)
            .finish()
    }
}

const SKEW_SECS: i64 = 300;

impl AadStub {
    /// A tenant with `credentials`, fetching issuers with `ca_file` trusted, signing access
    /// tokens with `signer`.
    pub fn new(
        tenant: &str,
        credentials: Vec<FederatedCredential>,
        ca_file: Option<PathBuf>,
        signer: SigningKey,
    ) -> AadStub {
        AadStub {
            tenant: tenant.to_owned(),
            credentials,
            ca_file,
            signer,
            errors: Mutex::new(Vec::new()),
        }
    }

    /// The `error_description`s answered so far, in order.
    pub fn errors(&self) -> Vec<String> {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn error(&self, status: u16, error: &str, code: u32, text: String) -> StubResponse {
        let ts = rfc3339(now()).replace('T', " ");
        let trace = "00000000-0000-0000-0000-0000000a5a5a";
        let corr = "00000000-0000-0000-0000-0000000c0c0c";
        let description = format!(
            "AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {corr} Timestamp: {ts}"
        );
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(description.clone());
        StubResponse::json(
            status,
            serde_json::json!({
                "error": error, "error_description": description, "error_codes": [code],
                "timestamp": ts, "trace_id": trace, "correlation_id": corr,
                "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
            })
            .to_string(),
        )
    }

    /// Handles one request.
    pub fn handle(&self, req: &StubRequest) -> StubResponse {
        let want = format!("/{}/oauth2/v2.0/token", self.tenant);
        if req.path() != want {
            if req.path().ends_with("/oauth2/v2.0/token") {
                return self.error(
                    400,
                    "invalid_request",
                    90002,
                    format!(
                        "Tenant '{}' not found.",
                        req.path().split('/').nth(1).unwrap_or("")
                    ),
                );
            }
            return StubResponse::text(404, "not found");
        }
        if req.method != "POST" {
            return self.error(
                405,
                "invalid_request",
                900561,
                "The endpoint only accepts POST requests.".to_owned(),
            );
        }
        if req.param("grant_type").as_deref() != Some("client_credentials") {
            return self.error(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.".to_owned(),
            );
        }
        let client_id = req.param("client_id").unwrap_or_default();
        let scope = req.param("scope").unwrap_or_default();
        let Some(assertion) = req.param("client_assertion") else {
            return self.error(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_owned());
        };
        if req.param("client_assertion_type").as_deref()
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return self.error(
                400,
                "invalid_request",
                50027,
                "Invalid client_assertion_type.".to_owned(),
            );
        }
        let jwt = match Jwt::parse("client_assertion", &assertion) {
            Ok(j) => j,
            Err(_) => {
                return self.error(
                    400,
                    "invalid_request",
                    50027,
                    "JWT token is invalid or is malformed.".to_owned(),
                )
            }
        };
        let app_creds: Vec<&FederatedCredential> = self
            .credentials
            .iter()
            .filter(|c| c.client_id == client_id)
            .collect();
        if app_creds.is_empty() {
            return self.error(400, "unauthorized_client", 700016, format!("Application with identifier '{client_id}' was not found in the directory '{}'.", self.tenant));
        }
        let iss = jwt.claim_str("iss").unwrap_or("").to_owned();
        let sub = jwt.claim_str("sub").unwrap_or("").to_owned();
        let auds = jwt.audiences();
        let by_issuer: Vec<&&FederatedCredential> =
            app_creds.iter().filter(|c| c.issuer == iss).collect();
        if by_issuer.is_empty() {
            return self.error(401, "invalid_client", 700211, format!("No matching federated identity record found for presented assertion issuer '{iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"));
        }
        if !by_issuer
            .iter()
            .any(|c| c.subject == sub && c.audiences.iter().any(|a| auds.contains(a)))
        {
            return self.error(401, "invalid_client", 70021, format!("No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation", auds.join(",")));
        }
        // Fetch the issuer's metadata as Entra does, and verify.
        let view = match Fetcher::new(self.ca_file.as_deref()).and_then(|f| f.issuer_view(&iss)) {
            Ok(v) => v,
            Err(e) => {
                return self.error(
                    401,
                    "invalid_client",
                    50166,
                    format!("Request to External OIDC endpoint failed: {e}."),
                )
            }
        };
        let docs = check_documents(&view);
        if docs.failed() {
            let why: Vec<String> = docs
                .findings
                .iter()
                .filter(|f| f.status == kcred_oidc::verify::Status::Fail)
                .map(|f| format!("{}: {}", f.check, f.detail))
                .collect();
            return self.error(
                401,
                "invalid_client",
                50166,
                format!(
                    "Request to External OIDC endpoint failed: {}.",
                    why.join("; ")
                ),
            );
        }
        let kid = jwt.kid().unwrap_or("").to_owned();
        let Some(entry) = view
            .keys
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid.as_str()))
        else {
            return self.error(401, "invalid_client", 7000272, format!("The certificate with identifier {kid} used to sign the federated credential could not be found in the metadata of identity provider {iss}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token."));
        };
        let verified = entry
            .key
            .as_ref()
            .map_err(|e| e.clone())
            .and_then(|k| jwt.verify_signature(k).map_err(|e| e.to_string()));
        if verified.is_err() || jwt.alg() != "RS256" {
            return self.error(
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation.".to_owned(),
            );
        }
        let t = now();
        let (nbf, exp) = (
            jwt.claim_time("nbf").unwrap_or(0),
            jwt.claim_time("exp").unwrap_or(0),
        );
        if t + SKEW_SECS < nbf || t > exp + SKEW_SECS {
            return self.error(401, "invalid_client", 700024, format!("Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}.", rfc3339(t), rfc3339(nbf), rfc3339(exp)));
        }
        let resource = scope
            .split(' ')
            .next()
            .unwrap_or("")
            .trim_end_matches("/.default")
            .to_owned();
        let access = self.signer.sign(&serde_json::json!({
            "aud": resource, "iss": format!("https://sts.windows.net/{}/", self.tenant), "iat": t, "nbf": t, "exp": t + 3599,
            "appid": client_id, "oid": client_id, "sub": client_id, "tid": self.tenant,
        }));
        StubResponse::json(200, serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access}).to_string())
    }
}
