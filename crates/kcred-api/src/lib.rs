//! Wire types of the kubelet's image credential provider system, with no IO.
//!
//! - [`request`]: `CredentialProviderRequest` (kubelet → plugin), byte-exact encoding.
//! - [`response`]: `CredentialProviderResponse` (plugin → kubelet), the kubelet's checks.
//! - [`config`]: `kubelet.config.k8s.io` `CredentialProviderConfig`, strictly decoded.
//! - [`duration`]: Go `time.ParseDuration` / `Duration.String`.
//! - [`strict`]: strict JSON/YAML decoding (unknown fields and duplicate keys are errors).
//! - [`secret`]: [`Secret`], a string that is redacted in `Debug` and `Display`.
//!
//! The group `credentialprovider.kubelet.k8s.io` has versions `v1alpha1`, `v1beta1` and `v1`;
//! [`ApiVersion`] names them.

pub mod config;
pub mod duration;
mod gojson;
mod goquote;
pub mod request;
pub mod response;
mod scheme;
pub mod secret;
pub mod strict;
pub mod version;
mod yaml;

pub use config::{decode_config, ConfigDecodeError};
pub use duration::{DurationError, GoDuration};
pub use secret::Secret;
pub use version::ApiVersion;
