//! Upstream's `GetCredentials`: registry → credentials → token → response, over any
//! implementation of the two AWS calls ([`AwsApi`]), so the flow is testable without AWS.

use std::future::Future;
use std::time::SystemTime;

use kcred_api::response::{AuthConfig, CacheKeyType, CredentialProviderResponse};
use kcred_api::{ApiVersion, GoDuration, Secret};

use crate::cache_duration::cache_duration;
use crate::registry::{Registry, RegistryError, RegistryKind};
use crate::role::{CredentialsPlan, WebIdentityRole};
use crate::token::{decode_authorization_token, TokenError};

/// A boxed error from an [`AwsApi`] implementation; its `Display` is the whole message.
pub type ApiError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Temporary credentials from `sts:AssumeRoleWithWebIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCredentials {
    /// `AccessKeyId`.
    pub access_key_id: String,
    /// `SecretAccessKey`.
    pub secret_access_key: Secret,
    /// `SessionToken`.
    pub session_token: Secret,
    /// `Expiration`, when given.
    pub expiration: Option<SystemTime>,
}

/// One `authorizationData` entry of a `GetAuthorizationToken` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthorizationData {
    /// `authorizationToken`: base64 of `user:password` (absent = Go nil).
    pub authorization_token: Option<Secret>,
    /// `expiresAt` (absent = Go nil).
    pub expires_at: Option<SystemTime>,
}

/// The two AWS calls the provider makes.
pub trait AwsApi {
    /// `sts:AssumeRoleWithWebIdentity` for `role`, for a request about `registry`.
    fn assume_role_with_web_identity(
        &self,
        registry: &Registry,
        role: &WebIdentityRole,
    ) -> impl Future<Output = Result<SessionCredentials, ApiError>>;

    /// `ecr:GetAuthorizationToken` (no `registryIds`) or, for ECR Public,
    /// `ecr-public:GetAuthorizationToken`, with `credentials` or else the node's default
    /// chain. `Ok(None)` is a nil output; ECR Public's single object is a list of 0 or 1.
    fn get_authorization_token(
        &self,
        registry: &Registry,
        credentials: Option<&SessionCredentials>,
    ) -> impl Future<Output = Result<Option<Vec<AuthorizationData>>, ApiError>>;
}

/// Where the provider reports progress (upstream's klog lines).
pub trait ProgressLog {
    /// An informational line shown at verbosity `level` and above.
    fn info(&self, level: i32, message: &str);
    /// A warning, always shown.
    fn warn(&self, message: &str);
}

/// A [`ProgressLog`] that drops everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLog;

impl ProgressLog for NoLog {
    fn info(&self, _level: i32, _message: &str) {}
    fn warn(&self, _message: &str) {}
}

/// Why no credentials could be produced. Messages are upstream's where upstream has one.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The image is empty or unparsable.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The API returned no output (Go nil).
    #[error("response output from ECR was nil")]
    NilOutput,
    /// The API returned no `authorizationData`.
    #[error("authorization data was empty")]
    EmptyAuthorizationData,
    /// The first `authorizationData` has no token.
    #[error("authorization token in response was nil")]
    NilToken,
    /// The token does not decode to `user:password`.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// `sts:AssumeRoleWithWebIdentity` failed.
    #[error("failed to assume role: {0}")]
    AssumeRole(ApiError),
    /// `GetAuthorizationToken` (or getting the credentials for it) failed.
    #[error("{0}")]
    Api(ApiError),
}

/// Credentials for one registry, ready to become a `CredentialProviderResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrCredentials {
    /// The `auth` key: the image's host.
    pub auth_key: String,
    /// The registry username (`AWS`).
    pub username: String,
    /// The registry password.
    pub password: Secret,
    /// `cacheDuration`.
    pub cache_duration: GoDuration,
}

impl EcrCredentials {
    /// The response in `api_version`: `cacheKeyType: Registry`, the cache duration, and one
    /// `auth` entry keyed by the host.
    pub fn into_response(self, api_version: ApiVersion) -> CredentialProviderResponse {
        let mut auth = std::collections::BTreeMap::new();
        auth.insert(
            self.auth_key,
            AuthConfig {
                username: self.username,
                password: self.password,
            },
        );
        CredentialProviderResponse {
            api_version,
            cache_key_type: CacheKeyType::Registry.as_str().to_owned(),
            cache_duration: Some(self.cache_duration),
            auth,
        }
    }
}

/// Gets registry credentials for `registry` following `plan`, at time `now`.
pub async fn get_credentials<A: AwsApi>(
    api: &A,
    registry: &Registry,
    plan: &CredentialsPlan,
    now: SystemTime,
    log: &dyn ProgressLog,
) -> Result<EcrCredentials, ProviderError> {
    match &registry.kind {
        RegistryKind::Public => log.info(0, "Getting creds for public registry"),
        RegistryKind::Private(_) | RegistryKind::Other => {
            log.info(
                0,
                &format!("Getting creds for private image {}", registry.host),
            );
        }
    }
    if registry.kind == RegistryKind::Other {
        log.warn(&format!(
            "the host {:?} is not an ECR registry host, so it names no region: asking ECR in \
             the default region (AWS_REGION, AWS_DEFAULT_REGION, the profile's region, or \
             EC2 instance metadata)",
            registry.host
        ));
    }
    let session = match plan {
        CredentialsPlan::NodeChain => None,
        CredentialsPlan::NodeChainNoRole => {
            log.info(
                0,
                "no arn provided, cannot assume role using ServiceAccountToken; using the \
                 node's credentials",
            );
            None
        }
        CredentialsPlan::AssumeRole(role) => {
            log.info(
                1,
                &format!(
                    "assuming role {} (from {}) with the service account token",
                    role.role_arn,
                    role.source.describe()
                ),
            );
            Some(
                api.assume_role_with_web_identity(registry, role)
                    .await
                    .map_err(ProviderError::AssumeRole)?,
            )
        }
    };
    let output = api
        .get_authorization_token(registry, session.as_ref())
        .await
        .map_err(ProviderError::Api)?
        .ok_or(ProviderError::NilOutput)?;
    let data = output
        .into_iter()
        .next()
        .ok_or(ProviderError::EmptyAuthorizationData)?;
    let token = data.authorization_token.ok_or(ProviderError::NilToken)?;
    let creds = decode_authorization_token(&token)?;
    // A token obtained with an assumed role is not worth caching past the role session.
    let expiry = match (data.expires_at, session.as_ref().and_then(|s| s.expiration)) {
        (Some(token_expiry), Some(session_expiry)) => Some(token_expiry.min(session_expiry)),
        (token_expiry, _) => token_expiry,
    };
    Ok(EcrCredentials {
        auth_key: registry.auth_key().to_owned(),
        username: creds.username,
        password: creds.password,
        cache_duration: cache_duration(expiry, now),
    })
}
