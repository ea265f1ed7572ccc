//! `ecr-credential-provider`: a drop-in replacement for the kubelet's Amazon ECR image
//! credential provider plugin (`kubernetes/cloud-provider-aws`, `cmd/ecr-credential-provider`).
//!
//! The crate is a binary; `main` only calls [`run_process`]. Its modules are private. The
//! library surface below exists for the crate's own tests and benches (the fuzz target
//! `fuzz/fuzz_targets/ecr.rs` compiles `registry.rs`, `request.rs` and `token.rs` on their
//! own, without the AWS SDK):
//!
//! - the process: [`run_process`];
//! - the parsers: [`Registry`] (image → host, from [`kcred_match::gourl::url_hostname`], →
//!   ECR Public, private ECR in every partition, or another host), [`plan_credentials`]
//!   (service-account token mode: which role to assume), [`decode_authorization_token`]
//!   (authorization token → username and password), [`cache_duration`] (from the token's
//!   expiry);
//! - the flow over an injectable AWS: [`get_credentials`] over an [`AwsApi`];
//! - the types those take and return.
//!
//! Inside: `request` (stdin → request, leniently and with upstream's messages), `registry`,
//! `role`, `provider`, `aws` (the AWS SDK implementation of [`AwsApi`]: config, credentials,
//! ECR, ECR Public, STS), `token`, `cache_duration`, `invocation` (one run with an overall
//! deadline) and `app` (the SDK dialect).

mod app;
mod aws;
mod cache_duration;
mod invocation;
mod provider;
mod registry;
mod request;
mod role;
mod token;

pub use app::run_process;
pub use cache_duration::cache_duration;
pub use provider::{
    get_credentials, ApiError, AuthorizationData, AwsApi, EcrCredentials, NoLog, ProgressLog,
    ProviderError, SessionCredentials,
};
pub use registry::{Api, PrivateRegistry, Registry, RegistryError, RegistryKind};
pub use role::{plan_credentials, CredentialsPlan, RoleSource, WebIdentityRole};
pub use token::{decode_authorization_token, RegistryCredentials, TokenError};
