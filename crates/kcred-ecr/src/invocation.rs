//! One plugin invocation: an async runtime, the SDK configuration, the provider flow, and an
//! overall deadline under the kubelet's one-minute limit.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use kcred_api::Secret;

use crate::aws::{ClientSettings, SdkApi};
use crate::provider::{get_credentials, EcrCredentials, ProgressLog, ProviderError};
use crate::registry::Registry;
use crate::role::plan_credentials;

/// The whole invocation gives up after this long; the kubelet kills a plugin after 60 s and
/// then reports only "context deadline exceeded".
pub(crate) const OVERALL_DEADLINE: Duration = Duration::from_secs(50);

/// What the kubelet asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Invocation<'a> {
    /// `image`.
    pub image: &'a str,
    /// `serviceAccountToken`, when the kubelet sends one.
    pub service_account_token: Option<&'a Secret>,
    /// `serviceAccountAnnotations`.
    pub service_account_annotations: &'a BTreeMap<String, String>,
    /// The value of `AWS_ECR_ROLE_ARN`, if set.
    pub env_role_arn: Option<&'a str>,
}

/// Why an invocation produced no credentials.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InvocationError {
    /// The provider flow failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The async runtime could not start.
    #[error("starting the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Nothing finished within [`OVERALL_DEADLINE`].
    #[error(
        "no answer from AWS within {}s for {image}; giving up before the kubelet's 60 s limit",
        .deadline.as_secs()
    )]
    Deadline {
        /// The image asked for.
        image: String,
        /// The deadline that passed.
        deadline: Duration,
    },
}

/// Runs one invocation to completion on a single-threaded runtime.
pub(crate) fn run(
    invocation: Invocation<'_>,
    settings: ClientSettings,
    deadline: Duration,
    log: &dyn ProgressLog,
) -> Result<EcrCredentials, InvocationError> {
    let registry = Registry::from_image(invocation.image).map_err(ProviderError::from)?;
    let plan = plan_credentials(
        invocation.service_account_token,
        invocation.service_account_annotations,
        invocation.env_role_arn,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(InvocationError::Runtime)?;
    runtime.block_on(async {
        let work = async {
            let api = SdkApi::load(&registry, settings).await;
            get_credentials(&api, &registry, &plan, SystemTime::now(), log).await
        };
        match tokio::time::timeout(deadline, work).await {
            Ok(result) => result.map_err(InvocationError::from),
            Err(_) => Err(InvocationError::Deadline {
                image: invocation.image.to_owned(),
                deadline,
            }),
        }
    })
}
