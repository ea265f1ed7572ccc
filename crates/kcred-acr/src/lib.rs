//! `acr-credential-provider`: a kubelet image credential provider for Azure Container Registry,
//! drop-in compatible with upstream `kubernetes-sigs/cloud-provider-azure`'s plugin
//! (`docs/acr.md` lists every difference).
//!
//! Pure modules (no IO):
//! - [`login_server`]: image → ACR login server, `--registry-mirror` parsing and matching.
//! - [`challenge`]: the registry's `Www-Authenticate` challenge (RFC 7235 parser).
//! - [`azure_config`]: `azure.json` (JSON or YAML, Go's case-insensitive keys and type checks).
//! - [`cloud`]: sovereign clouds, their AAD authorities and ACR suffixes.
//! - [`cli`]: the command line (`<azure.json>`, `--registry-mirror`, `--ib-*`, klog flags).
//! - [`ib_config`]: identity-binding flag validation.
//! - [`selection`]: which identity serves a request.
//! - [`protocol`]: the request/response wire format with upstream's messages.
//! - [`form`]: `application/x-www-form-urlencoded` encoding.
//!
//! IO modules:
//! - [`http`]: the blocking HTTP client (timeouts, trust store, proxy, test knobs).
//! - [`identity`]: AAD access tokens from IMDS, client secret, certificate, client assertion,
//!   identity bindings.
//! - [`exchange`]: the ACR `/v2/` challenge and `/oauth2/exchange`.
//! - [`provider`]: one request end to end.
//! - [`log`]: klog-style verbosity logging to stderr.

pub mod azure_config;
pub mod challenge;
pub mod cli;
pub mod cloud;
pub mod exchange;
pub mod form;
pub mod http;
pub mod ib_config;
pub mod identity;
pub mod log;
pub mod login_server;
pub mod protocol;
pub mod provider;
pub mod selection;

/// The AAD scope every token path asks for (`https://containerregistry.azure.net/.default`),
/// in every cloud, as upstream since #8593.
pub const DEFAULT_AAD_SCOPE: &str = "https://containerregistry.azure.net/.default";

/// The username ACR expects with a refresh token.
pub const ACR_REFRESH_TOKEN_USERNAME: &str = "00000000-0000-0000-0000-000000000000";

/// The `User-Agent` of the ACR calls (as upstream).
pub const ACR_USER_AGENT: &str = "kubernetes-credentialprovider-acr";
