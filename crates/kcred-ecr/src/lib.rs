//! `ecr-credential-provider`: a drop-in replacement for the kubelet's Amazon ECR image
//! credential provider plugin (`kubernetes/cloud-provider-aws`, `cmd/ecr-credential-provider`).
//!
//! - [`request`]: stdin → request, leniently and with upstream's messages.
//! - [`registry`]: image → host (Go `url.Parse` + `Hostname()`, from
//!   [`kcred_match::gourl::url_hostname`]) → ECR Public, private ECR (every partition) or
//!   other host.
//! - [`role`]: service-account token mode: which role to assume.
//! - [`provider`]: the `GetCredentials` flow over an [`provider::AwsApi`].
//! - [`aws`]: the AWS SDK implementation: config, credentials, ECR, ECR Public, STS.
//! - [`token`]: authorization token → username and password.
//! - [`cache_duration`]: `cacheDuration` from the token's expiry.
//! - [`invocation`]: one run with an overall deadline.

pub mod aws;
pub mod cache_duration;
pub mod invocation;
pub mod provider;
pub mod registry;
pub mod request;
pub mod role;
pub mod token;
