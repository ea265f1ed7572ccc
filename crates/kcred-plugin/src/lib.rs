//! SDK for kubelet image credential provider plugins written in Rust.
//!
//! A plugin is a program the kubelet runs with a `CredentialProviderRequest` on stdin; it
//! must print a `CredentialProviderResponse` in the same `apiVersion` on stdout, or fail with
//! a non-zero exit status and a message on stderr. The SDK does all of that around one
//! handler function:
//!
//! ```no_run
//! use kcred_plugin::{PluginRequest, PluginResponse, PluginError};
//!
//! fn main() -> std::process::ExitCode {
//!     kcred_plugin::run("hello-provider", |req: &PluginRequest| -> Result<PluginResponse, PluginError> {
//!         kcred_plugin::log!(req.log(), 2, "credentials asked for {}", req.image());
//!         Ok(PluginResponse::registry(req.registry(), "robot", "s3cret"))
//!     })
//! }
//! ```
//!
//! What a run does ([`Plugin::run`]):
//! 1. parses the klog flags the kubelet may pass (`-v N`, `--v=N`, `--logtostderr`, …; see
//!    [`flags`]); other arguments are rejected or handed to the plugin ([`UnknownArgs`]);
//! 2. reads stdin to the end (bounded, [`DEFAULT_MAX_REQUEST_BYTES`]) and decodes the request
//!    strictly, in any of `v1alpha1`, `v1beta1`, `v1`;
//! 3. calls the handler with a [`PluginRequest`] (image, registry, service-account token and
//!    annotations, plugin arguments, [`Logger`]);
//! 4. writes only the encoded response to stdout, in the request's `apiVersion`, exit 0; or,
//!    on any error, writes `<name>: <error>` to stderr, nothing to stdout, exit 1.
//!
//! Logs go to stderr only and never show secrets: [`kcred_api::Secret`] is redacted, and the
//! request's service-account token and the response's passwords are scrubbed from every line.

pub mod dialect;
pub mod error;
pub mod flags;
pub mod log;
pub mod pflag;
pub mod registry;
pub mod request;
pub mod response;
pub mod runner;
pub mod secrets;

pub use dialect::{run_dialect, run_process, Dialect, Failure, Start};
pub use error::{Context, PluginError, RunError};
pub use flags::UnknownArgs;
pub use kcred_api::response::CacheKeyType;
pub use kcred_api::{ApiVersion, GoDuration, Secret};
pub use log::{Klog, Logger};
pub use registry::image_registry;
pub use request::PluginRequest;
pub use response::PluginResponse;
pub use runner::{answer_request, read_bounded, run, Plugin, PluginIo, DEFAULT_MAX_REQUEST_BYTES};
