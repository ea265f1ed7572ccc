//! `auth-provider-gcp`: kcred's drop-in replacement for the GKE kubelet image credential
//! provider of kubernetes/cloud-provider-gcp (`cmd/auth-provider-gcp`; user guide and every
//! difference from upstream: `docs/gcp.md`).
//!
//! The crate is a binary; `main` only calls [`run_process`] (the plugin SDK's run loop in
//! upstream's dialect). Its modules are private. The library surface below exists for the crate's own tests, benches
//! and fuzz targets (`fuzz/`):
//!
//! - the process: [`run_process`]; one invocation in process: [`run`] (arguments, environment
//!   and stdin in; an [`Outcome`] out);
//! - the parsers of untrusted input: [`decode_request`] (the request on stdin, decoded
//!   leniently as upstream), [`parse_token_response`] (the metadata server's token),
//!   [`parse_dockercfg`], [`parse_config_json`], [`decode_auth_field`] and
//!   [`read_docker_config_file`] (`.dockercfg` / `config.json` as upstream's
//!   `credentialconfig`), [`validate_flags`] (`--authFlow` and the flag rules);
//! - the flows with injectable endpoints: [`ContainerRegistryProvider`] over [`Clients`]
//!   (the metadata server, Google STS and the IAM Credentials API at [`Endpoints`]),
//!   [`read_url`], and the [`HttpClient`] they use (blocking, one timeout per call,
//!   [`MAX_BODY_BYTES`] cap) with its [`TrustRoots`];
//! - the types those take and return, and [`ERROR_USAGE`].
//!
//! Inside: `cli` (cobra/pflag rules, klog flags accepted), `flow`, `request`, `provider`
//! (the `gcr`, `dockercfg` and `dockercfg-url` flows and Workload Identity), `metadata`,
//! `sts`, `impersonate`, `http`, `docker_config`, `response` (`cacheKeyType` and
//! `cacheDuration`), `app` (the dialect), `log` (klog-shaped stderr lines) and `time` (UTC
//! calendar, RFC 3339); Go's `%q` is [`kcred_api::gostr::strconv_quote`].

mod log;

mod app;
mod cli;
mod docker_config;
mod flow;
mod http;
mod impersonate;
mod metadata;
mod provider;
mod request;
mod response;
mod sts;
mod time;

pub use app::{run, run_process, Outcome};
pub use cli::ERROR_USAGE;
pub use docker_config::{
    decode_auth_field, parse_config_json, parse_dockercfg, read_docker_config_file, DockerConfig,
    DockerConfigEntry, DockerConfigError, SearchPaths,
};
pub use flow::{validate_flags, AuthFlow, AuthFlowTypeError, FlagError, FlowFlags, ValidatedFlow};
pub use http::{HttpClient, HttpError, HttpResponse, TrustRoots, MAX_BODY_BYTES};
pub use impersonate::ImpersonationError;
pub use metadata::{
    parse_token_response, read_url, AccessToken, MetadataError, ReadUrlError, TokenParseError,
};
pub use provider::{
    Clients, ContainerRegistryProvider, Credentials, Endpoints, ProvideError, TokenSource,
    WorkloadIdentityConfig,
};
pub use request::{decode_request, PluginRequest, RequestDecodeError};
pub use sts::StsError;
pub use time::TimestampError;
