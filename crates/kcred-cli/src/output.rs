//! What the subcommands share: output format, exit codes, feature-gate flag handling.

use std::process::ExitCode;

use anyhow::Context as _;
use kcred_config::FeatureGates;

/// The process exit status of a subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: a positive answer (valid config, pattern matches, some provider matches).
    Yes = 0,
    /// 1: a negative answer (invalid config, no match).
    No = 1,
    /// 2: the question could not be asked (invalid pattern, image, config or flag).
    Usage = 2,
    /// 3: `kcred install`/`uninstall` changed the node; the kubelet must restart.
    Restart = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// Builds the feature gates from a kubelet-style `--feature-gates` value, noting on stderr
/// the gates kcred does not know (they are ignored).
pub(crate) fn feature_gates(spec: Option<&str>) -> anyhow::Result<FeatureGates> {
    let mut gates = FeatureGates::default();
    if let Some(spec) = spec {
        let ignored = gates.apply(spec).context("invalid --feature-gates")?;
        for name in ignored {
            eprintln!(
                "note: ignoring feature gate {name}: it does not affect credential providers"
            );
        }
    }
    Ok(gates)
}

/// [`feature_gates`] starting from the defaults of a given kubelet (the service-account token
/// gate is off in 1.33 and absent before).
pub(crate) fn feature_gates_for(
    spec: Option<&str>,
    kubelet: kcred_kubelet::KubeletVersion,
) -> anyhow::Result<FeatureGates> {
    let mut gates = FeatureGates::for_kubelet(kubelet);
    let given = feature_gates(spec)?;
    if let Some(spec) = spec {
        // Only gates named in the flag override the version's defaults.
        if spec.contains(kcred_config::feature_gates::SERVICE_ACCOUNT_TOKEN_GATE) {
            gates = given;
        }
    }
    Ok(gates)
}

/// `1 provider`, `2 providers`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
