//! Which credentials apply to which image, exactly as the kubelet decides it.
//!
//! - [`gourl`]: Go `net/url` parsing of schemeless URLs (`ParseSchemelessURL`).
//! - [`glob`]: Go `path/filepath.Match` for host labels.
//! - [`image`]: image reference normalisation (`nginx:1` → `docker.io/library/nginx`).
//! - [`pattern`]: [`MatchImage`], a pre-parsed `matchImages` entry that says why it matched or not.
//! - [`keyring`]: the docker keyring (`BasicDockerKeyring` Add / Lookup).
