//! `docker-credential-kcred`: a docker credential helper backed by the kubelet's image
//! credential providers.
//!
//! Docker, podman, skopeo, buildah and crane ask a credential helper for a registry's
//! credentials; this one answers with exactly what a kubelet with the same
//! `CredentialProviderConfig` and plugin directory would use first for an image of that
//! registry, by running the providers through a kcred [`Host`](kcred_host::Host).
//!
//! - [`server_url`]: the server URL forms clients send → the image the kubelet would look up.
//! - [`protocol`]: the docker credential helper wire format.
//! - [`cli`]: the command line, the config path and plugin directory (flag, environment,
//!   default).
//! - [`resolve`]: `get` and `list` through the host.
//! - [`app`]: one run, from argv and stdin to stdout and the exit status.

pub mod app;
pub mod cli;
pub mod protocol;
pub mod resolve;
pub mod server_url;
