//! Google STS `POST /v1/token` (RFC 8693 token exchange) that really verifies the subject
//! token against the issuer of the workload identity provider named by `audience`.
//!
//! Request (JSON, as auth-provider-gcp sends it): `audience`, `grant_type`
//! (`urn:ietf:params:oauth:grant-type:token-exchange`), `requested_token_type`
//! (`…:access_token`), `scope`, `subject_token`, `subject_token_type` (`…:jwt` or `…:id_token`).
//! `audience` names the provider, in either form Google uses: a workload identity pool
//! provider's full resource name
//! (`//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/V`)
//! or a fleet / GKE identity namespace (`identitynamespace:PROJECT.svc.id.goog:IDENTITY_PROVIDER`).
//!
//! Checks (Google Cloud IAM docs, "Workload Identity Federation with other identity
//! providers"): unknown provider → 400 `invalid_target`; `iss` not the provider's issuer,
//! `aud` not among its allowed audiences, keys not retrievable, bad signature or unknown
//! `kid`, expired or > 24 h lifetime → 400 `invalid_grant`; the attribute condition (here: the
//! allowed `sub`s) rejecting the principal → 400 `unauthorized_client` ("The given credential
//! is rejected by the attribute condition."). Errors are `{"error","error_description"}`.
//! Success: `{"access_token","issued_token_type","token_type":"Bearer","expires_in":3599}`
//! with a short opaque access token per principal (fits htpasswd's bcrypt limit).

use std::path::PathBuf;
use std::sync::Mutex;

use kcred_oidc::fetch::Fetcher;
use kcred_oidc::verify::check_documents;
use kcred_oidc::Jwt;

use crate::http_stub::{StubRequest, StubResponse};
use crate::oidc_idp::now;

/// One workload identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleWorkloadProvider {
    /// The STS `audience` naming it.
    pub sts_audience: String,
    /// Its issuer URI.
    pub issuer: String,
    /// Allowed token audiences.
    pub allowed_audiences: Vec<String>,
    /// Subjects the attribute condition admits (`google.subject = assertion.sub`).
    pub allowed_subjects: Vec<String>,
}

/// The stub.
#[derive(Debug)]
pub struct GoogleStsStub {
    providers: Vec<GoogleWorkloadProvider>,
    ca_file: Option<PathBuf>,
    errors: Mutex<Vec<String>>,
}

/// The access token issued to `subject` (deterministic, 40 bytes).
pub fn access_token_for(subject: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, subject.as_bytes());
    let hex: String = d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("ya29.wif-{hex}")
}

impl GoogleStsStub {
    /// STS knowing `providers`, fetching issuers with `ca_file` trusted.
    pub fn new(providers: Vec<GoogleWorkloadProvider>, ca_file: Option<PathBuf>) -> GoogleStsStub {
        GoogleStsStub {
            providers,
            ca_file,
            errors: Mutex::new(Vec::new()),
        }
    }

    /// `error: description` of every error answered so far.
    pub fn errors(&self) -> Vec<String> {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn error(&self, error: &str, description: &str) -> StubResponse {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{error}: {description}"));
        StubResponse::json(
            400,
            serde_json::json!({"error": error, "error_description": description}).to_string(),
        )
    }

    /// Handles one request.
    pub fn handle(&self, req: &StubRequest) -> StubResponse {
        if req.path() != "/v1/token" || req.method != "POST" {
            return StubResponse::text(404, "not found");
        }
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&req.body) else {
            return self.error("invalid_request", "Invalid JSON payload received.");
        };
        let field = |k: &str| {
            body.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        };
        if field("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" {
            return self.error("invalid_request", "Invalid value for \"grant_type\".");
        }
        if field("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token" {
            return self.error(
                "invalid_request",
                "Invalid value for \"requested_token_type\".",
            );
        }
        let stt = field("subject_token_type");
        if stt != "urn:ietf:params:oauth:token-type:jwt"
            && stt != "urn:ietf:params:oauth:token-type:id_token"
        {
            return self.error(
                "invalid_request",
                "Invalid value for \"subject_token_type\".",
            );
        }
        let audience = field("audience");
        let Some(p) = self.providers.iter().find(|p| p.sts_audience == audience) else {
            return self.error("invalid_target", "The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.");
        };
        let Ok(jwt) = Jwt::parse("subject_token", &field("subject_token")) else {
            return self.error("invalid_grant", "Unable to parse the ID Token.");
        };
        let iss = jwt.claim_str("iss").unwrap_or("");
        if iss != p.issuer {
            return self.error(
                "invalid_grant",
                &format!(
                    "The issuer in ID Token {iss} does not match the expected ones: {}.",
                    p.issuer
                ),
            );
        }
        let auds = jwt.audiences();
        if !p.allowed_audiences.iter().any(|a| auds.contains(a)) {
            return self.error(
                "invalid_grant",
                &format!(
                    "The audience in ID Token [{}] does not match the expected audience.",
                    auds.join(", ")
                ),
            );
        }
        let view = match Fetcher::new(self.ca_file.as_deref()).and_then(|f| f.issuer_view(iss)) {
            Ok(v) if !check_documents(&v).failed() => v,
            _ => {
                return self.error(
                    "invalid_grant",
                    "Unable to retrieve the OpenID configuration or the JWKS from the issuer.",
                )
            }
        };
        let kid = jwt.kid().unwrap_or("");
        let ok = view
            .keys
            .iter()
            .filter(|k| k.kid.as_deref() == Some(kid))
            .any(|k| {
                k.key
                    .as_ref()
                    .is_ok_and(|key| jwt.verify_signature(key).is_ok())
            });
        if !ok || !["RS256", "ES256"].contains(&jwt.alg()) {
            return self.error("invalid_grant", "Invalid JWT signature.");
        }
        let t = now();
        let (iat, exp) = (
            jwt.claim_time("iat").unwrap_or(0),
            jwt.claim_time("exp").unwrap_or(0),
        );
        if t >= exp {
            return self.error(
                "invalid_grant",
                &format!("ID Token expired at {exp}; the current time is {t}."),
            );
        }
        if exp - iat > 24 * 3600 {
            return self.error(
                "invalid_grant",
                "The ID Token's lifetime exceeds the maximum of 24 hours.",
            );
        }
        let sub = jwt.claim_str("sub").unwrap_or("");
        if !p.allowed_subjects.iter().any(|s| s == sub) {
            return self.error(
                "unauthorized_client",
                "The given credential is rejected by the attribute condition.",
            );
        }
        StubResponse::json(
            200,
            serde_json::json!({"access_token": access_token_for(sub), "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3599}).to_string(),
        )
    }
}
