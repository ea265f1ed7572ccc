//! `auth-provider-gcp`: kcred's drop-in replacement for the GKE kubelet image credential
//! provider of kubernetes/cloud-provider-gcp (`cmd/auth-provider-gcp`; user guide and every
//! difference from upstream: `docs/gcp.md`).
//!
//! - [`cli`]: the command line (cobra/pflag rules, klog flags accepted).
//! - [`flow`]: `--authFlow` and the flag rules, with upstream's messages.
//! - [`request`]: the `CredentialProviderRequest` on stdin, decoded leniently as upstream.
//! - [`provider`]: the `gcr`, `dockercfg` and `dockercfg-url` flows and Workload Identity.
//! - [`metadata`], [`sts`], [`impersonate`]: the metadata server, Google STS and the IAM
//!   Credentials API, over [`http`] (blocking, one timeout per call, 10 MiB cap).
//! - [`docker_config`]: `.dockercfg` / `config.json` as upstream's `credentialconfig`.
//! - [`response`]: `cacheKeyType` and `cacheDuration` (derived from the token's lifetime).
//! - [`app`]: one invocation, end to end; `main` is a thin wrapper around [`app::run`].
//! - [`log`] (klog-shaped stderr lines), [`time`] (UTC calendar, RFC 3339): small helpers;
//!   Go's `%q` is [`kcred_api::gostr::strconv_quote`].

pub mod log;

pub mod app;
pub mod cli;
pub mod docker_config;
pub mod flow;
pub mod http;
pub mod impersonate;
pub mod metadata;
pub mod provider;
pub mod request;
pub mod response;
pub mod sts;
pub mod time;
