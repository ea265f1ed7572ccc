//! Wire types of the kubelet's image credential provider system, with no IO.
//!
//! - [`request`]: `CredentialProviderRequest` (kubelet → plugin), byte-exact encoding.
//! - [`response`]: `CredentialProviderResponse` (plugin → kubelet), the kubelet's checks.
//! - [`config`]: `kubelet.config.k8s.io` `CredentialProviderConfig`, strictly decoded.
//! - [`duration`]: Go `time.ParseDuration` / `Duration.String`.
//! - [`strict`]: strict JSON/YAML decoding (unknown fields and duplicate keys are errors).
//! - [`secret`]: [`Secret`], a string that is redacted in `Debug` and `Display`.
//! - [`go`]: **the one home of Go semantics** for every kcred crate, organised by Go package
//!   (`go::strconv::parse_bool`, `go::json::equal_fold`, `go::os::errno_text`,
//!   `go::lenient::decode_request`, ...). The modules below remain where they are; `go`
//!   names them by their Go package.
//! - [`gostr`]: Go standard-library string formatting kcred reproduces (`strconv.Quote` /
//!   `%q`, `time`'s quote, `encoding/json` string encoding, `utf8` rune decoding,
//!   `unicode.ToLower`), shared by every kcred crate.
//!
//! The group `credentialprovider.kubelet.k8s.io` has versions `v1alpha1`, `v1beta1` and `v1`;
//! [`ApiVersion`] names them.
//!
//! Decoding reproduces the kubelet's Go stack rather than serde's defaults: JSON is read
//! like `encoding/json` (same syntax errors, U+FFFD for invalid UTF-8), YAML like go-yaml v2
//! (YAML 1.1 booleans such as `yes`/`N`), fields like `sigs.k8s.io/json` in strict mode, so
//! error texts match what the kubelet prints. Private modules hold that machinery: `gojson`
//! (Go-compatible JSON reading and writing), `yaml` (YAML to JSON as `sigs.k8s.io/yaml`
//! does) and `scheme` (the kinds the kubelet's scheme registers).

#![forbid(unsafe_code)]

pub mod config;
pub mod duration;
pub mod go;
mod gojson;
pub mod gostr;
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
pub use yaml::MAX_YAML_NODES;
