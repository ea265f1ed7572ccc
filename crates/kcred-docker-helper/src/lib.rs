//! `docker-credential-kcred`: a docker credential helper backed by the kubelet's image
//! credential providers.
//!
//! The crate is a binary; this library is only its untrusted-input surface, so that fuzz
//! targets and property tests can reach the parsers:
//!
//! - [`server_url`]: the server URL forms clients send → the image the kubelet would look up.
//! - [`protocol`]: the docker credential helper wire format.
//!
//! The command line, the lookup through a kcred host and the file cache are private modules
//! of the binary (see `docs/docker-credential-kcred.md`).

pub mod protocol;
pub mod server_url;
