//! `kcred validate PATH`: read and validate a config as the kubelet does at startup.
//!
//! Success prints `valid: N providers from M files (hash sha256:…)` on stdout. Failure prints
//! the kubelet's own message on stderr and exits 1. Lint warnings go to stderr as
//! `warning: …` and fail only with `--deny-warnings`.

use std::path::PathBuf;

use kcred_config::{lint, load_path, validate};

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
}

/// Runs `kcred validate`.
pub(crate) fn run(args: &Args) -> anyhow::Result<Exit> {
    let gates = output::feature_gates(args.feature_gates.as_deref())?;
    let loaded = match load_path(&args.path) {
        Ok(loaded) => loaded,
        Err(e) => {
            errln!("error: {e}");
            return Ok(Exit::No);
        }
    };
    if let Err(e) = validate(&loaded.providers, gates) {
        errln!("error: failed to validate credential provider config: {e}");
        return Ok(Exit::No);
    }
    let lints = lint(&loaded.providers);
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
