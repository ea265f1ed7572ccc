//! `kcred validate PATH`: read and validate a config as the kubelet does at startup.
//!
//! Success prints `valid: N providers from M files (hash sha256:…)` on stdout. Failure prints
//! the kubelet's own message on stderr and exits 1. Lint warnings go to stderr as
//! `warning: …` and fail only with `--deny-warnings`.
//!
//! `--kubelet-version V` validates as that kubelet: its Go URL parsing of `matchImages`, the
//! fields its config types know, whether a directory is accepted, its feature-gate defaults
//! and message wording. A pattern whose validity depends on the kubelet version gets a
//! `version-dependent` warning whatever V is.

use std::path::PathBuf;

use kcred_config::{lint_for, load_path_for, validate_for};
use kcred_match::gourl::rejecting_rule;

use crate::output::{self, count, Exit};

/// Arguments of `kcred validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Config file or directory, as given to the kubelet's --image-credential-provider-config.
    pub path: PathBuf,
    /// Kubelet feature gates, e.g. KubeletServiceAccountTokenForCredentialProviders=false.
    #[arg(long, value_name = "GATES")]
    pub feature_gates: Option<String>,
    /// Fail (exit 1) when there are lint warnings.
    #[arg(long)]
    pub deny_warnings: bool,
    #[command(flatten)]
    pub(crate) kubelet: crate::kubelet_version::KubeletVersionArg,
}

/// Runs `kcred validate`.
pub(crate) fn run(args: &Args) -> anyhow::Result<Exit> {
    let kubelet = args.kubelet.kubelet_version;
    let gates = output::feature_gates_for(args.feature_gates.as_deref(), kubelet)?;
    let loaded = match load_path_for(&args.path, kubelet) {
        Ok(loaded) => loaded,
        Err(e) => {
            errln!("error: {e}");
            if let Some(note) = e.version_note() {
                errln!("note: {note}");
            } else if !kubelet.config_directory() && args.path.is_dir() {
                errln!(
                    "note: {} reads the config path as one file; directories need kubelet 1.34 or later (kubernetes/kubernetes#131658)",
                    kubelet.describe()
                );
            }
            return Ok(Exit::No);
        }
    };
    if let Err(e) = validate_for(&loaded.providers, gates, kubelet) {
        errln!("error: failed to validate credential provider config: {e}");
        for pattern in loaded.providers.iter().flat_map(|p| &p.match_images) {
            if let Some((rule, _)) = rejecting_rule(pattern, kubelet.url_parsing()) {
                errln!(
                    "note: {} rejects matchImages {}: {}",
                    kubelet.describe(),
                    kcred_api::gostr::strconv_quote(pattern),
                    rule.rule()
                );
            }
        }
        return Ok(Exit::No);
    }
    let lints = lint_for(&loaded.providers, kubelet);
    for l in &lints {
        errln!("warning: {l}");
    }
    if args.deny_warnings && !lints.is_empty() {
        errln!(
            "error: {} and --deny-warnings is set",
            count(lints.len(), "warning")
        );
        return Ok(Exit::No);
    }
    outln!(
        "valid: {} from {} (hash {})",
        count(loaded.providers.len(), "provider"),
        count(loaded.files.len(), "file"),
        loaded.hash
    );
    Ok(Exit::Yes)
}
