//! Reading and validating `CredentialProviderConfig` as the kubelet does.
//!
//! - [`load`]: `readCredentialProviderConfig` — a file or a directory of `.json`/`.yaml`/`.yml`
//!   files, decoded strictly, merged in order, duplicate names rejected, config hash.
//!   [`load::load_path`] is the only function here that touches the file system.
//! - [`validate`]: `validateCredentialProviderConfig` — every rule, in order, with
//!   apimachinery's `field.Error` texts and aggregate.
//! - [`lint`]: warnings about configs that are valid but probably wrong (never fatal).
//! - [`FeatureGates`]: the kubelet feature gates validation depends on.
//! - [`field`], [`qualified_name`], [`gofmt`]: apimachinery and Go formatting building blocks.

#![forbid(unsafe_code)]

pub mod feature_gates;
pub mod field;
pub mod gofmt;
mod gopath;
pub mod lint;
pub mod load;
pub mod qualified_name;
pub mod validate;

pub use feature_gates::FeatureGates;
pub use gopath::GoPathError;
pub use lint::{lint, lint_for, Lint, LintRule};
pub use load::{load_files, load_files_for, load_path, load_path_for, LoadError, LoadedConfig};
pub use validate::{validate, validate_for, ValidationErrors};
