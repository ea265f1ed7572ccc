//! `kcred match PATTERN IMAGE`: does one `matchImages` pattern match one image, and why.
//!
//! The image is first normalised as the kubelet does (`nginx` → `docker.io/library/nginx`),
//! because that is the string the kubelet matches. Exit 0 = match, 1 = no match,
//! 2 = invalid pattern or image.
//!
//! Both are parsed with the Go URL rules of `--kubelet-version` (default: the newest
//! kubelet); a refused pattern names the Go change that refuses it and which kubelets
//! accept it.

use kcred_api::config::CredentialProvider;
use kcred_api::gostr::strconv_quote;
use kcred_config::lint::version_dependence;
use kcred_config::lint_for;
use kcred_kubelet::KubeletVersion;
use kcred_match::gourl::rejecting_rule;
use kcred_match::image::ImageRef;
use kcred_match::pattern::{MatchImage, MatchOutcome, MatchTarget};
use serde_json::{json, Value};

use crate::output::{Exit, OutputFormat};

/// Arguments of `kcred match`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A matchImages pattern, e.g. '*.dkr.ecr.*.amazonaws.com' or 'registry.io:5000/team'.
    pub pattern: String,
    /// An image as written in a pod spec, e.g. 'nginx:1.27' or 'registry.io/team/app@sha256:…'.
    pub image: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
    #[command(flatten)]
    pub(crate) kubelet: crate::kubelet_version::KubeletVersionArg,
}

/// Runs `kcred match`.
pub(crate) fn run(args: &Args) -> anyhow::Result<Exit> {
    let kubelet = args.kubelet.kubelet_version;
    let Some(image) = parse_image(&args.image, kubelet) else {
        return Ok(Exit::Usage);
    };
    let pattern = match MatchImage::parse_as(&args.pattern, kubelet.url_parsing()) {
        Ok(p) => p,
        Err(e) => {
            errln!(
                "error: invalid pattern {}: match image is invalid: {e}",
                strconv_quote(&args.pattern)
            );
            for line in explain_rejection(&args.pattern, kubelet) {
                errln!("{line}");
            }
            return Ok(Exit::Usage);
        }
    };
    let outcome = pattern.check(&image.target);
    for warning in pattern_warnings(&args.pattern, kubelet) {
        errln!("warning: {warning}");
    }
    match args.output {
        OutputFormat::Json => {
            let mut doc = outcome_json(&args.pattern, &outcome);
            doc["image"] = json!(args.image);
            doc["normalised"] = json!(image.target.raw());
            doc["pattern_parts"] = pattern_parts(&pattern);
            doc["image_parts"] = target_parts(&image.target);
            doc["kubelet_version"] = json!(kubelet.to_string());
            outln!("{}", serde_json::to_string_pretty(&doc)?);
        }
        OutputFormat::Text => {
            outln!("image:      {}", args.image);
            outln!("normalised: {}", image.target.raw());
            outln!("pattern:    {}", args.pattern);
            outln!(
                "result:     {}",
                if outcome.is_match() {
                    "match"
                } else {
                    "no match"
                }
            );
            outln!("reason:     {outcome}");
            // Only worth saying when normalisation changed more than the tag or digest.
            if !outcome.is_match() && !args.image.starts_with(image.target.raw()) {
                outln!(
                    "note:       the kubelet matches the normalised name {}, not the image as written",
                    strconv_quote(image.target.raw())
                );
            }
        }
    }
    Ok(if outcome.is_match() {
        Exit::Yes
    } else {
        Exit::No
    })
}

/// An image parsed and normalised as the kubelet does, ready to be matched.
pub(crate) struct NormalisedImage {
    /// The normalised name, parsed for matching.
    pub target: MatchTarget,
}

/// Why `kubelet` refuses `pattern`, as `note:` lines: the Go change (e.g. "kubelet 1.37 (Go
/// 1.26): colons in the host are rejected (…)") and which kubelets accept it.
pub(crate) fn explain_rejection(pattern: &str, kubelet: KubeletVersion) -> Vec<String> {
    let mut lines = Vec::new();
    // Go's own URL syntax (bad escapes, ports, characters) needs no version story.
    let rule = rejecting_rule(pattern, kubelet.url_parsing())
        .map(|(rule, _)| rule)
        .filter(|rule| rule.lineage().len() > 1);
    if let Some(rule) = rule {
        lines.push(format!("note: {}: {}", kubelet.describe(), rule.rule()));
    }
    if let Some(split) = version_dependence(pattern) {
        lines.push(format!("note: {split}"));
    }
    lines
}

/// Parses and normalises an image, printing the error (as `error: …`) when it is invalid.
pub(crate) fn parse_image(image: &str, kubelet: KubeletVersion) -> Option<NormalisedImage> {
    let reference = match ImageRef::parse(image) {
        Ok(r) => r,
        Err(e) => {
            errln!("error: invalid image {}: {e}", strconv_quote(image));
            return None;
        }
    };
    match MatchTarget::parse_as(reference.name(), kubelet.url_parsing()) {
        Ok(target) => Some(NormalisedImage { target }),
        Err(e) => {
            errln!(
                "error: normalised image {} is not a valid URL: {e}",
                strconv_quote(reference.name())
            );
            None
        }
    }
}

/// Lint warnings about one pattern on its own (as `matchImages "…": … [rule]`).
fn pattern_warnings(pattern: &str, kubelet: KubeletVersion) -> Vec<String> {
    let provider = CredentialProvider {
        match_images: vec![pattern.to_owned()],
        ..Default::default()
    };
    lint_for(&[provider], kubelet)
        .into_iter()
        .map(|l| {
            format!(
                "matchImages {}: {} [{}]",
                strconv_quote(pattern),
                l.message,
                l.rule
            )
        })
        .collect()
}

/// A stable identifier of the rule that decided the outcome.
pub(crate) fn rule_id(outcome: &MatchOutcome<'_>) -> &'static str {
    match outcome {
        MatchOutcome::Match => "match",
        MatchOutcome::PortDiffers { .. } => "port",
        MatchOutcome::LabelCountDiffers { .. } => "label-count",
        MatchOutcome::PathNotPrefix { .. } => "path-prefix",
        MatchOutcome::LabelMismatch { .. } => "label",
        MatchOutcome::BadLabelPattern { .. } => "bad-label-pattern",
    }
}

/// The JSON description of one pattern's outcome.
pub(crate) fn outcome_json(pattern: &str, outcome: &MatchOutcome<'_>) -> Value {
    let mut v = json!({
        "pattern": pattern,
        "match": outcome.is_match(),
        "rule": rule_id(outcome),
        "reason": outcome.to_string(),
    });
    if let MatchOutcome::LabelMismatch { index, .. } | MatchOutcome::BadLabelPattern { index, .. } =
        outcome
    {
        v["label_index"] = json!(index);
    }
    v
}

fn pattern_parts(p: &MatchImage) -> Value {
    json!({
        "labels": p.labels().collect::<Vec<_>>(),
        "port": p.port(),
        "path": p.path(),
    })
}

/// The parts of a normalised image the kubelet compares.
pub(crate) fn target_parts(t: &MatchTarget) -> Value {
    json!({
        "labels": t.labels().collect::<Vec<_>>(),
        "port": t.port(),
        "path": t.path(),
    })
}
