//! `--authFlow` and the flag rules of `get-credentials` (upstream `validateFlags` and
//! `providerFromFlow`), with upstream's exact messages.

use kcred_api::gostr::strconv_quote;
use thiserror::Error;

/// Where credentials come from (`--authFlow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthFlow {
    /// `gcr`: an OAuth access token of the node's service account (or of the pod's, with
    /// Workload Identity), username `_token`.
    Gcr,
    /// `dockercfg`: a legacy `.dockercfg` held in the metadata attribute `google-dockercfg`.
    DockerCfg,
    /// `dockercfg-url`: a `.dockercfg` fetched from the URL held in `google-dockercfg-url`.
    DockerCfgUrl,
}

impl AuthFlow {
    /// The flag value; exact and case-sensitive.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFlow::Gcr => "gcr",
            AuthFlow::DockerCfg => "dockercfg",
            AuthFlow::DockerCfgUrl => "dockercfg-url",
        }
    }

    /// Upstream `providerFromFlow`: the flow named by `value`.
    pub fn parse(value: &str) -> Result<AuthFlow, AuthFlowTypeError> {
        match value {
            "gcr" => Ok(AuthFlow::Gcr),
            "dockercfg" => Ok(AuthFlow::DockerCfg),
            "dockercfg-url" => Ok(AuthFlow::DockerCfgUrl),
            other => Err(AuthFlowTypeError {
                requested_flow: other.to_owned(),
            }),
        }
    }

    /// The upstream Go type that serves this flow (for messages and the conformance table).
    pub fn provider_name(self) -> &'static str {
        match self {
            AuthFlow::Gcr => "ContainerRegistryProvider",
            AuthFlow::DockerCfg => "DockerConfigKeyProvider",
            AuthFlow::DockerCfgUrl => "DockerConfigURLKeyProvider",
        }
    }
}

/// Upstream `AuthFlowTypeError`: no provider serves the requested flow.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unrecognized auth flow {}", strconv_quote(.requested_flow))]
pub struct AuthFlowTypeError {
    /// The rejected value.
    pub requested_flow: String,
}

/// A flag combination `get-credentials` refuses (exit code 1).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FlagError {
    /// Upstream `AuthFlowFlagError`: `--authFlow` is not one of the three flows.
    #[error(
        "invalid value {} for authFlow (must be one of \"gcr\", \"dockercfg\", or \"dockercfg-url\")",
        strconv_quote(.flag_value)
    )]
    AuthFlow {
        /// The rejected value.
        flag_value: String,
    },
    /// Upstream `ErrProjectIDRequired`.
    #[error("--project-id is required when --identity-provider is set")]
    ProjectIdRequired,
}

/// The flags that [`validate_flags`] checks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlowFlags {
    /// `--authFlow` as given.
    pub auth_flow: String,
    /// `--identity-provider`.
    pub identity_provider: String,
    /// `--project-id`.
    pub project_id: String,
}

/// The result of a successful [`validate_flags`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedFlow {
    /// The selected flow.
    pub flow: AuthFlow,
    /// A warning to log (`--identity-provider` with a flow other than `gcr`).
    pub warning: Option<String>,
}

/// Upstream `validateFlags`: the flow is checked first, then the project-id rule.
pub fn validate_flags(flags: &FlowFlags) -> Result<ValidatedFlow, FlagError> {
    let flow = AuthFlow::parse(&flags.auth_flow).map_err(|_| FlagError::AuthFlow {
        flag_value: flags.auth_flow.clone(),
    })?;
    if !flags.identity_provider.is_empty() && flags.project_id.is_empty() {
        return Err(FlagError::ProjectIdRequired);
    }
    let warning = (!flags.identity_provider.is_empty() && flow != AuthFlow::Gcr).then(|| {
        format!(
            "auth-provider-gcp: --identity-provider was set but --authFlow is {}. This flag only has effect when --authFlow=gcr.",
            strconv_quote(flow.as_str())
        )
    });
    Ok(ValidatedFlow { flow, warning })
}
