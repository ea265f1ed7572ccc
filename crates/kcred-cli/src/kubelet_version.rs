//! `--kubelet-version V` (or `KCRED_KUBELET_VERSION`): which kubelet kcred emulates.
//!
//! Every subcommand that judges a node flattens [`KubeletVersionArg`] into its `Args`:
//!
//! ```ignore
//! #[command(flatten)]
//! pub(crate) kubelet: crate::kubelet_version::KubeletVersionArg,
//! ```
//!
//! A malformed, unknown or unsupported value is a clap usage error: exit 2, with a message
//! that lists the supported range (from `kcred_kubelet`).

use kcred_kubelet::{parse_kubelet_version_arg, supported_range, KubeletVersion};

/// The `--kubelet-version` flag.
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct KubeletVersionArg {
    /// Emulate this kubelet: 1.NN (its newest patch kcred knows) or 1.NN.P, from 1.26 to 1.37.
    /// Decides the Go URL parsing of patterns, known apiVersions, feature-gate defaults and
    /// more (see docs/kubelet-versions.md).
    #[arg(
        long = "kubelet-version",
        value_name = "V",
        env = "KCRED_KUBELET_VERSION",
        default_value_t = KubeletVersion::NEWEST,
        value_parser = parse_kubelet_version_arg,
    )]
    pub(crate) kubelet_version: KubeletVersion,
}

/// The text `kcred --version` prints after the package version.
pub(crate) fn version_text() -> String {
    format!(
        "{} (emulates kubelet {}; default --kubelet-version {})",
        env!("CARGO_PKG_VERSION"),
        supported_range(),
        KubeletVersion::NEWEST
    )
}
