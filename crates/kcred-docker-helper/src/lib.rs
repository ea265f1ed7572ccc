//! `docker-credential-kcred`: a docker credential helper backed by the kubelet's image
//! credential providers.
//!
//! The crate is a binary; this library is only its untrusted-input surface, so that the
//! binary, fuzz targets and property tests can reach the parsers. Its modules are private;
//! the surface is:
//!
//! - [`RegistryQuery`] (with [`ServerUrlError`]) and [`server_url_for_registry`]: the server
//!   URL forms clients send → the image the kubelet would look up, and back;
//! - [`HelperCredentials`], [`list_json_line`] and [`CREDENTIALS_NOT_FOUND`]: the docker
//!   credential helper wire format.
//!
//! The command line, the lookup through a kcred host and the file cache are private modules
//! of the binary (see `docs/docker-credential-kcred.md`).

mod protocol;
mod server_url;

pub use protocol::{list_json_line, HelperCredentials, CREDENTIALS_NOT_FOUND};
pub use server_url::{server_url_for_registry, RegistryQuery, ServerUrlError};
