//! [`SdkApi`]: the real AWS calls, with the official AWS SDK for Rust.
//!
//! - Configuration: `aws_config` defaults (environment, shared config and credentials files,
//!   profiles with SSO and `credential_process`, `AWS_ENDPOINT_URL*`, FIPS and dual-stack
//!   settings, `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE`), behavior version `2026-01-12`.
//! - Region: the host's region for private ECR hosts, `us-east-1` for ECR Public, the
//!   default region chain (environment, profile, EC2 instance metadata) for other hosts.
//! - Credentials: the default chain (environment, profile incl. SSO / `credential_process`
//!   / assume-role, web identity token file, ECS / EKS Pod Identity container endpoint, EC2
//!   instance metadata), resolved once up front so a failure names the missing credentials
//!   rather than a signing step; or the assumed role's session credentials.
//! - Endpoints: for a FIPS (`dkr.ecr-fips`) or dual-stack-domain (`*.on.aws`) host, the ECR
//!   API is called on its FIPS / dual-stack endpoint, unless `AWS_USE_FIPS_ENDPOINT`,
//!   `AWS_USE_DUALSTACK_ENDPOINT` or a custom ECR endpoint URL say otherwise.
//! - Robustness: connect, per-attempt and per-operation timeouts well under the kubelet's
//!   one minute, the SDK's standard retries with jittered exponential backoff (throttling
//!   included), and errors naming the API, the region, the endpoint and the credential
//!   source.

use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::operation::RequestId;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::service_config::ServiceConfigKey;

use crate::provider::{ApiError, AuthorizationData, AwsApi, SessionCredentials};
use crate::registry::{Registry, RegistryKind, ECR_PUBLIC_REGION};
use crate::role::WebIdentityRole;

/// Timeouts for the AWS calls. The defaults keep one invocation, even with an assumed role
/// and retries, inside the kubelet's one-minute limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientSettings {
    /// TCP and TLS connect timeout.
    pub connect_timeout: Duration,
    /// One HTTP attempt, from sending to the end of the response.
    pub attempt_timeout: Duration,
    /// One operation, all retries included.
    pub operation_timeout: Duration,
    /// Resolving credentials from the default chain (IMDS, container endpoint, SSO, …).
    pub credentials_timeout: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(20),
            credentials_timeout: Duration::from_secs(15),
        }
    }
}

/// Why an AWS call failed. Every message names the call, the region and, where credentials
/// were involved, their source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AwsCallError {
    /// A non-ECR host and no default region.
    #[error(
        "{action}: no AWS region: the image host {host:?} is not an ECR host that names one, \
         and none is configured (AWS_REGION, AWS_DEFAULT_REGION, the profile's region, or EC2 \
         instance metadata)"
    )]
    NoRegion {
        /// The IAM action, e.g. `ecr:GetAuthorizationToken`.
        action: &'static str,
        /// The image host.
        host: String,
    },
    /// The default credential chain produced nothing.
    #[error("{action} in {region}: no AWS credentials from the default chain (profile {profile}): {detail}")]
    NoCredentials {
        /// The IAM action.
        action: &'static str,
        /// The region.
        region: String,
        /// The SDK's reason, listing each provider tried.
        detail: String,
        /// The profile looked at.
        profile: String,
    },
    /// The API call failed.
    #[error(
        "{action} in {region} at {endpoint} with credentials from {credentials} failed: {detail}"
    )]
    Call {
        /// The IAM action.
        action: &'static str,
        /// The region.
        region: String,
        /// The endpoint, as configured or the SDK default.
        endpoint: String,
        /// Where the credentials came from.
        credentials: String,
        /// What went wrong, from the SDK.
        detail: String,
    },
    /// The API answered something unusable.
    #[error("{action} in {region}: {detail}")]
    BadAnswer {
        /// The IAM action.
        action: &'static str,
        /// The region.
        region: String,
        /// What was wrong.
        detail: String,
    },
}

/// The AWS SDK implementation of [`AwsApi`], configured for one registry.
#[derive(Debug, Clone)]
pub(crate) struct SdkApi {
    config: SdkConfig,
    settings: ClientSettings,
}

const ECR_ACTION: &str = "ecr:GetAuthorizationToken";
const ECR_PUBLIC_ACTION: &str = "ecr-public:GetAuthorizationToken";
const STS_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

impl SdkApi {
    /// Loads the SDK configuration for `registry`'s region from the environment.
    pub(crate) async fn load(registry: &Registry, settings: ClientSettings) -> SdkApi {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.attempt_timeout)
            .operation_attempt_timeout(settings.attempt_timeout)
            .operation_timeout(settings.operation_timeout)
            .build();
        let mut loader =
            aws_config::defaults(BehaviorVersion::v2026_01_12()).timeout_config(timeouts);
        if let Some(region) = registry.region() {
            loader = loader.region(Region::new(region.to_owned()));
        }
        SdkApi {
            config: loader.load().await,
            settings,
        }
    }

    fn region_for(
        &self,
        registry: &Registry,
        action: &'static str,
    ) -> Result<Region, AwsCallError> {
        match registry.kind {
            RegistryKind::Public => Ok(Region::from_static(ECR_PUBLIC_REGION)),
            _ => self
                .config
                .region()
                .cloned()
                .ok_or_else(|| AwsCallError::NoRegion {
                    action,
                    host: registry.host.clone(),
                }),
        }
    }

    /// A custom endpoint URL configured for `service_id` (`ECR`, `ECR PUBLIC`, `STS`), from
    /// `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL` or the profile.
    fn custom_endpoint(&self, service_id: &str) -> Option<String> {
        let key = ServiceConfigKey::builder()
            .service_id(service_id)
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .ok()?;
        self.config
            .service_config()
            .and_then(|c| c.load_config(key))
            .or_else(|| self.config.endpoint_url().map(str::to_owned))
    }

    /// The endpoint a call goes to: the configured URL, or the SDK's default resolution for
    /// the region and FIPS / dual-stack settings.
    async fn endpoint_description(
        &self,
        service: Service,
        region: &Region,
        fips: bool,
        dual_stack: bool,
    ) -> String {
        if let Some(url) = self.custom_endpoint(service.id()) {
            return url;
        }
        default_endpoint(service, region.as_ref(), fips, dual_stack)
            .await
            .unwrap_or_else(|| "the default endpoint".to_owned())
    }

    fn configured_fips_dual_stack(&self) -> (bool, bool) {
        (
            self.config.use_fips().unwrap_or(false),
            self.config.use_dual_stack().unwrap_or(false),
        )
    }

    /// The node's credentials from the default chain, with a description of their source.
    async fn node_credentials(
        &self,
        action: &'static str,
        region: &Region,
    ) -> Result<(Credentials, String), AwsCallError> {
        let no_credentials = |detail: String| AwsCallError::NoCredentials {
            action,
            region: region.to_string(),
            detail,
            profile: std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".to_owned()),
        };
        let provider = self
            .config
            .credentials_provider()
            .ok_or_else(|| no_credentials("no credential provider configured".to_owned()))?;
        let credentials = tokio::time::timeout(
            self.settings.credentials_timeout,
            provider.provide_credentials(),
        )
        .await
        .map_err(|_| {
            no_credentials(format!(
                "the default credential chain did not answer within {}s",
                self.settings.credentials_timeout.as_secs()
            ))
        })?
        .map_err(|e| no_credentials(error_chain(&e)))?;
        let source = describe_credential_source(&credentials);
        Ok((credentials, source))
    }

    async fn private_token(
        &self,
        registry: &Registry,
        credentials: Credentials,
        source: String,
        region: Region,
    ) -> Result<Option<Vec<AuthorizationData>>, AwsCallError> {
        let mut builder =
            aws_sdk_ecr::config::Builder::from(&self.config).credentials_provider(credentials);
        builder.set_region(Some(region.clone()));
        let mut fips = self.config.use_fips().unwrap_or(false);
        let mut dual_stack = self.config.use_dual_stack().unwrap_or(false);
        if let Some(private) = registry.private() {
            if self.custom_endpoint("ECR").is_none() {
                if private.fips && self.config.use_fips().is_none() {
                    builder.set_use_fips(Some(true));
                    fips = true;
                }
                if private.dualstack_domain() && self.config.use_dual_stack().is_none() {
                    builder.set_use_dual_stack(Some(true));
                    dual_stack = true;
                }
            }
        }
        let client = aws_sdk_ecr::Client::from_conf(builder.build());
        let output = match client.get_authorization_token().send().await {
            Ok(output) => output,
            Err(e) => {
                return Err(AwsCallError::Call {
                    action: ECR_ACTION,
                    region: region.to_string(),
                    endpoint: self
                        .endpoint_description(Service::Ecr, &region, fips, dual_stack)
                        .await,
                    credentials: source,
                    detail: describe_sdk_error(&e),
                })
            }
        };
        output
            .authorization_data()
            .iter()
            .map(|d| {
                Ok(AuthorizationData {
                    authorization_token: d.authorization_token().map(Into::into),
                    expires_at: d
                        .expires_at()
                        .map(|t| to_system_time(t, ECR_ACTION, &region))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    async fn public_token(
        &self,
        credentials: Credentials,
        source: String,
        region: Region,
    ) -> Result<Option<Vec<AuthorizationData>>, AwsCallError> {
        let mut builder = aws_sdk_ecrpublic::config::Builder::from(&self.config)
            .credentials_provider(credentials);
        builder.set_region(Some(region.clone()));
        let client = aws_sdk_ecrpublic::Client::from_conf(builder.build());
        let output = match client.get_authorization_token().send().await {
            Ok(output) => output,
            Err(e) => {
                let (fips, dual_stack) = self.configured_fips_dual_stack();
                return Err(AwsCallError::Call {
                    action: ECR_PUBLIC_ACTION,
                    region: region.to_string(),
                    endpoint: self
                        .endpoint_description(Service::EcrPublic, &region, fips, dual_stack)
                        .await,
                    credentials: source,
                    detail: describe_sdk_error(&e),
                });
            }
        };
        let data = output
            .authorization_data()
            .map(|d| {
                Ok::<_, AwsCallError>(AuthorizationData {
                    authorization_token: d.authorization_token().map(Into::into),
                    expires_at: d
                        .expires_at()
                        .map(|t| to_system_time(t, ECR_PUBLIC_ACTION, &region))
                        .transpose()?,
                })
            })
            .transpose()?;
        Ok(Some(data.into_iter().collect()))
    }
}

impl AwsApi for SdkApi {
    async fn assume_role_with_web_identity(
        &self,
        registry: &Registry,
        role: &WebIdentityRole,
    ) -> Result<SessionCredentials, ApiError> {
        // STS in the registry's region (regional endpoint), else the default region, else
        // us-east-1. The call is unsigned: the node needs no credentials for it.
        let region = self
            .region_for(registry, STS_ACTION)
            .unwrap_or_else(|_| Region::from_static("us-east-1"));
        let mut builder = aws_sdk_sts::config::Builder::from(&self.config);
        builder.set_region(Some(region.clone()));
        let client = aws_sdk_sts::Client::from_conf(builder.build());
        let sent = client
            .assume_role_with_web_identity()
            .role_arn(&role.role_arn)
            .role_session_name(role.session_name)
            .web_identity_token(role.web_identity_token.expose())
            .send()
            .await;
        let output = match sent {
            Ok(output) => output,
            Err(e) => {
                let (fips, dual_stack) = self.configured_fips_dual_stack();
                return Err(AwsCallError::Call {
                    action: STS_ACTION,
                    region: region.to_string(),
                    endpoint: self
                        .endpoint_description(Service::Sts, &region, fips, dual_stack)
                        .await,
                    credentials: format!(
                        "the service account token for role {} (from {})",
                        role.role_arn,
                        role.source.describe()
                    ),
                    detail: describe_sdk_error(&e),
                }
                .into());
            }
        };
        let creds = output
            .credentials()
            .ok_or_else(|| AwsCallError::BadAnswer {
                action: STS_ACTION,
                region: region.to_string(),
                detail: "the answer has no Credentials".to_owned(),
            })?;
        Ok(SessionCredentials {
            access_key_id: creds.access_key_id().to_owned(),
            secret_access_key: creds.secret_access_key().into(),
            session_token: creds.session_token().into(),
            expiration: Some(to_system_time(creds.expiration(), STS_ACTION, &region)?),
        })
    }

    async fn get_authorization_token(
        &self,
        registry: &Registry,
        session: Option<&SessionCredentials>,
    ) -> Result<Option<Vec<AuthorizationData>>, ApiError> {
        let action = match registry.kind {
            RegistryKind::Public => ECR_PUBLIC_ACTION,
            _ => ECR_ACTION,
        };
        let region = self.region_for(registry, action)?;
        let (credentials, source) = match session {
            Some(s) => (
                Credentials::new(
                    s.access_key_id.clone(),
                    s.secret_access_key.expose(),
                    Some(s.session_token.expose().to_owned()),
                    s.expiration,
                    "AssumeRoleWithWebIdentity",
                ),
                "the assumed role (sts:AssumeRoleWithWebIdentity)".to_owned(),
            ),
            None => self.node_credentials(action, &region).await?,
        };
        let answer = match registry.kind {
            RegistryKind::Public => self.public_token(credentials, source, region).await?,
            _ => {
                self.private_token(registry, credentials, source, region)
                    .await?
            }
        };
        Ok(answer)
    }
}

fn to_system_time(
    t: &aws_smithy_types::DateTime,
    action: &'static str,
    region: &Region,
) -> Result<SystemTime, AwsCallError> {
    SystemTime::try_from(*t).map_err(|e| AwsCallError::BadAnswer {
        action,
        region: region.to_string(),
        detail: format!("unusable expiry time {t}: {e}"),
    })
}

/// A one-line description of an SDK failure: the service's error code, message, HTTP status
/// and request ID, or the transport's error chain.
fn describe_sdk_error<E>(e: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match e {
        SdkError::ServiceError(ctx) => {
            let err = ctx.err();
            let mut s = format!(
                "api error {}: {}",
                err.code().unwrap_or("(no code)"),
                err.message().unwrap_or("(no message)")
            );
            s.push_str(&format!(" (HTTP {}", ctx.raw().status().as_u16()));
            if let Some(id) = e.request_id() {
                s.push_str(&format!(", RequestID {id}"));
            }
            s.push(')');
            s
        }
        SdkError::TimeoutError(_) => format!("timed out: {}", error_chain(e)),
        _ => error_chain(e),
    }
}

/// An error and its sources on one line, each joined by `": "` unless already included.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out.replace(":\n  ", ": ")
        .replace("\n  ", "; ")
        .replace('\n', "; ")
}

/// The AWS services called, for endpoint descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Ecr,
    EcrPublic,
    Sts,
}

impl Service {
    /// The SDK service ID used for `AWS_ENDPOINT_URL_<ID>` and profile settings.
    fn id(self) -> &'static str {
        match self {
            Service::Ecr => "ECR",
            Service::EcrPublic => "ECR PUBLIC",
            Service::Sts => "STS",
        }
    }
}

/// The URL the SDK's default endpoint rules give for `service` in `region`.
async fn default_endpoint(
    service: Service,
    region: &str,
    fips: bool,
    dual_stack: bool,
) -> Option<String> {
    // Each SDK has its own (same-shaped) `Params` and `DefaultResolver` types.
    macro_rules! resolve_with {
        ($sdk:ident) => {{
            use $sdk::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
            let params = Params::builder()
                .region(region)
                .use_fips(fips)
                .use_dual_stack(dual_stack)
                .build()
                .ok()?;
            DefaultResolver::new().resolve_endpoint(&params).await
        }};
    }
    let endpoint = match service {
        Service::Ecr => resolve_with!(aws_sdk_ecr),
        Service::EcrPublic => resolve_with!(aws_sdk_ecrpublic),
        Service::Sts => resolve_with!(aws_sdk_sts),
    };
    endpoint.ok().map(|e| e.url().to_owned())
}

/// A human description of where the default chain found credentials.
///
/// The SDK records the provider's name in `Credentials` but exposes it only through `Debug`
/// (`provider_name: "…"`, printed before the key and with the secret redacted); only that
/// field is read from it here.
pub(crate) fn describe_credential_source(credentials: &Credentials) -> String {
    let debug = format!("{credentials:?}");
    let name = debug
        .split_once("provider_name: \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(name, _)| name)
        .unwrap_or("");
    match name {
        "EnvironmentVariable" => "environment variables (AWS_ACCESS_KEY_ID)".to_owned(),
        "ProfileFile" => "the shared credentials/config file".to_owned(),
        "SSO" => "an SSO profile (AWS IAM Identity Center)".to_owned(),
        "CredentialProcess" => "a credential_process profile".to_owned(),
        "AssumeRoleProvider" => "an assume-role profile".to_owned(),
        "WebIdentityToken" => "a web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE)".to_owned(),
        "EcsContainer" => "the container credentials endpoint (ECS / EKS Pod Identity)".to_owned(),
        "IMDSv2" => "EC2 instance metadata (IMDSv2)".to_owned(),
        "" => "the default credential chain".to_owned(),
        other => format!("the default credential chain ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_source_names() {
        let c = Credentials::new("AKID", "SECRET", None, None, "EnvironmentVariable");
        assert_eq!(
            describe_credential_source(&c),
            "environment variables (AWS_ACCESS_KEY_ID)"
        );
        let c = Credentials::new("AKID", "SECRET", None, None, "IMDSv2");
        assert_eq!(
            describe_credential_source(&c),
            "EC2 instance metadata (IMDSv2)"
        );
        let c = Credentials::new("AKID", "SECRET", None, None, "Other");
        assert_eq!(
            describe_credential_source(&c),
            "the default credential chain (Other)"
        );
    }
}
