//! `acr-credential-provider`: a kubelet image credential provider for Azure Container Registry,
//! drop-in compatible with upstream `kubernetes-sigs/cloud-provider-azure`'s plugin
//! (`docs/acr.md` lists every difference).
//!
//! The crate is a binary; `main` only calls [`run_process`]. Its modules are private. The library
//! surface below exists for the crate's own tests, benches and fuzz targets (`fuzz/`):
//!
//! - the process: [`run_process`];
//! - the parsers of untrusted input: [`parse_azure_config`] (`azure.json`),
//!   [`parse_challenge`] / [`parse_auth_params`] (the registry's `Www-Authenticate`),
//!   [`decode_request`] / [`encode_response`] (the wire format), [`parse_login_server`] with
//!   [`AcrSuffixes`] and [`RegistryMirrors`] (image → login server), [`parse_args`] (the
//!   command line) and [`parse_ib_flags`] (identity-binding flags);
//! - the flows, reachable by tests over loopback: [`AcrProvider`] (one request end to end),
//!   [`select_credential`] / [`identity_bindings_credential`] (which identity serves a
//!   request), [`acquire_aad_token`] over [`Clients`], [`exchange_refresh_token`], and the
//!   [`HttpClient`] they take, built from [`HttpSettings`] ([`TrustRoots`], and
//!   [`DialOverride`] to reach a loopback stub under a real host name);
//! - the types those take and return, and [`DEFAULT_AAD_SCOPE`].
//!
//! Inside, pure modules (no IO): `login_server`, `challenge`, `azure_config`, `cloud`
//! (sovereign clouds), `cli`, `ib_config`, `selection`, `protocol`, `form`
//! (`application/x-www-form-urlencoded`); IO modules: `http`, `identity` (AAD tokens from
//! IMDS, client secret, certificate, client assertion, identity bindings), `exchange` (the
//! ACR `/v2/` challenge and `/oauth2/exchange`), `provider`, `log` (klog-style stderr) and
//! `app` (the SDK dialect).

mod app;
mod azure_config;
mod challenge;
mod cli;
mod cloud;
mod exchange;
mod form;
mod http;
mod ib_config;
mod identity;
mod log;
mod login_server;
mod protocol;
mod provider;
mod selection;

pub use app::run_process;
pub use azure_config::{parse_azure_config, AzureConfig, AzureConfigError};
pub use challenge::{
    parse_auth_params, parse_challenge, AuthParamsError, Challenge, ChallengeError,
};
pub use cli::{parse_args, CliAction, CliError, CliOptions, IbFlags, USAGE};
pub use cloud::{CloudEnvironment, KnownCloud};
pub use exchange::{exchange_refresh_token, ExchangeError};
pub use http::{DialOverride, HttpClient, HttpError, HttpSettings, TrustRoots};
pub use ib_config::{parse_ib_flags, IbFlagsError, IdentityBindingsConfig};
pub use identity::{acquire_aad_token, AzureEndpoints, Clients, IdentityError};
pub use login_server::{
    parse_login_server, AcrSuffixes, LoginServerMatch, MirrorWarning, RegistryMirrors,
    BUILTIN_ACR_SUFFIXES,
};
pub use protocol::{decode_request, encode_response, PluginResponse, RequestError};
pub use provider::{AcrProvider, ProviderError, ProviderOptions};
pub use selection::{
    identity_bindings_credential, select_credential, Credential, IbCredentialError,
    ManagedIdentityId, SelectionError, SelectionOptions,
};

/// The AAD scope every token path asks for (`https://containerregistry.azure.net/.default`),
/// in every cloud, as upstream since #8593.
pub const DEFAULT_AAD_SCOPE: &str = "https://containerregistry.azure.net/.default";

/// The username ACR expects with a refresh token.
pub(crate) const ACR_REFRESH_TOKEN_USERNAME: &str = "00000000-0000-0000-0000-000000000000";

/// The `User-Agent` of the ACR calls (as upstream).
pub(crate) const ACR_USER_AGENT: &str = "kubernetes-credentialprovider-acr";
