//! Which credentials apply to which image, exactly as the kubelet decides it. Pure: no IO.
//!
//! - [`gourl`]: Go `net/url` parsing of schemeless URLs (`ParseSchemelessURL`, `SplitURL`).
//! - [`glob`]: Go `path/filepath.Match` for host labels.
//! - [`image`]: image reference normalisation (`nginx:1` → `docker.io/library/nginx`).
//! - [`pattern`]: [`MatchImage`], a pre-parsed `matchImages` entry that says why it matched or not.
//! - [`keyring`]: the docker keyring (`BasicDockerKeyring` Add / Lookup) and docker config files.

#![forbid(unsafe_code)]

pub mod glob;
mod gonetip;
pub mod gourl;
pub mod image;
pub mod keyring;
pub mod pattern;

pub use glob::{go_filepath_match, BadPattern};
pub use gonetip::ParseAddrError;
pub use gourl::{
    parse_schemeless_url, parse_schemeless_url_as, GoUrlParsing, SchemelessUrl, UrlError,
};
pub use image::{normalize_image, ImageError, ImageRef};
pub use keyring::{
    is_default_registry_match, CredentialSource, DockerConfig, DockerConfigEntry, DockerKeyring,
    TrackedAuthConfig,
};
pub use pattern::{urls_match_str, MatchImage, MatchOutcome, MatchTarget};
