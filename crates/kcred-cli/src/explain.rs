//! `kcred explain IMAGE --config PATH`: which providers the kubelet would ask for an image's
//! credentials, and why each pattern matched or not.
//!
//! The config is read and validated first, as the kubelet does at startup (a config it
//! would reject is an error, exit 2). Providers are listed in the order the kubelet calls
//! them in: config order from 1.33, sorted by name before (`--kubelet-version`). Exit 0 = at
//! least one provider matches, 1 = none.

use std::path::PathBuf;

use kcred_api::config::CredentialProvider;
use kcred_api::gostr::strconv_quote;
use kcred_config::{load_path_for, validate_for, FeatureGates};
use kcred_kubelet::{KubeletVersion, ProviderOrder};
use kcred_match::pattern::{MatchImage, MatchTarget};
use serde_json::{json, Value};

use crate::matching::{explain_rejection, outcome_json, parse_image, target_parts};
use crate::output::{self, count, Exit, OutputFormat};

/// Arguments of `kcred explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// An image as written in a pod spec, e.g. 'nginx:1.27'.
    pub image: String,
    /// Config file or directory, as given to the kubelet's --image-credential-provider-config.
    #[arg(long, value_name = "PATH")]
    pub config: PathBuf,
    /// Kubelet feature gates, e.g. KubeletServiceAccountTokenForCredentialProviders=false.
    #[arg(long, value_name = "GATES")]
    pub feature_gates: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
    #[command(flatten)]
    pub(crate) kubelet: crate::kubelet_version::KubeletVersionArg,
}

/// One pattern's verdict.
struct PatternVerdict {
    pattern: String,
    matched: bool,
    reason: String,
    json: Value,
}

/// One provider's verdict.
struct ProviderVerdict<'a> {
    provider: &'a CredentialProvider,
    /// The first matching pattern: the one the kubelet stops at.
    matched_by: Option<String>,
    patterns: Vec<PatternVerdict>,
}

/// Runs `kcred explain`.
pub(crate) fn run(args: &Args) -> anyhow::Result<Exit> {
    let kubelet = args.kubelet.kubelet_version;
    let gates = output::feature_gates_for(args.feature_gates.as_deref(), kubelet)?;
    let Some(image) = parse_image(&args.image, kubelet) else {
        return Ok(Exit::Usage);
    };
    let loaded = match load_path_for(&args.config, kubelet) {
        Ok(l) => l,
        Err(e) => {
            errln!("error: {e}");
            if let Some(note) = e.version_note() {
                errln!("note: {note}");
            }
            return Ok(Exit::Usage);
        }
    };
    if let Err(e) = validate_for(&loaded.providers, gates, kubelet) {
        errln!("error: failed to validate credential provider config: {e}");
        for pattern in loaded.providers.iter().flat_map(|p| &p.match_images) {
            for line in explain_rejection(pattern, kubelet) {
                if line.contains(&kubelet.describe()) {
                    errln!("{line} (matchImages {})", strconv_quote(pattern));
                }
            }
        }
        return Ok(Exit::Usage);
    }
    let mut providers: Vec<&CredentialProvider> = loaded.providers.iter().collect();
    if kubelet.provider_order() == ProviderOrder::SortedByName {
        providers.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    }
    let verdicts: Vec<ProviderVerdict<'_>> = providers
        .into_iter()
        .map(|p| explain_provider(p, &image.target, kubelet))
        .collect();
    let matching: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.matched_by.is_some())
        .map(|v| v.provider.name.as_str())
        .collect();

    match args.output {
        OutputFormat::Json => {
            let doc = json!({
                "image": args.image,
                "normalised": image.target.raw(),
                "image_parts": target_parts(&image.target),
                "config": {
                    "files": loaded.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
                    "hash": loaded.hash,
                },
                "providers": verdicts.iter().map(|v| provider_json(v, gates)).collect::<Vec<_>>(),
                "matching_providers": matching,
                "kubelet_version": kubelet.to_string(),
            });
            outln!("{}", serde_json::to_string_pretty(&doc)?);
        }
        OutputFormat::Text => {
            outln!("image:      {}", args.image);
            outln!("normalised: {}", image.target.raw());
            outln!(
                "config:     {} ({}, hash {})",
                args.config.display(),
                count(loaded.files.len(), "file"),
                loaded.hash
            );
            for v in &verdicts {
                outln!();
                print_provider(v, gates);
            }
            outln!();
            if matching.is_empty() {
                outln!("result: no provider matches; the kubelet runs no plugin for this image");
            } else {
                outln!(
                    "result: {} of {} match; the kubelet runs, in this order: {}",
                    matching.len(),
                    count(verdicts.len(), "provider"),
                    matching.join(", ")
                );
            }
        }
    }
    Ok(if matching.is_empty() {
        Exit::No
    } else {
        Exit::Yes
    })
}

fn explain_provider<'a>(
    provider: &'a CredentialProvider,
    target: &MatchTarget,
    kubelet: KubeletVersion,
) -> ProviderVerdict<'a> {
    let mut matched_by = None;
    let patterns = provider
        .match_images
        .iter()
        .map(|raw| {
            let verdict = match MatchImage::parse_as(raw, kubelet.url_parsing()) {
                Ok(p) => {
                    let outcome = p.check(target);
                    PatternVerdict {
                        pattern: raw.clone(),
                        matched: outcome.is_match(),
                        reason: outcome.to_string(),
                        json: outcome_json(raw, &outcome),
                    }
                }
                // Validation rejects these; kept for completeness (the kubelet treats a
                // parse error as no match).
                Err(e) => PatternVerdict {
                    pattern: raw.clone(),
                    matched: false,
                    reason: format!("invalid pattern: {e}"),
                    json: json!({"pattern": raw, "match": false, "rule": "invalid", "reason": e.to_string()}),
                },
            };
            if verdict.matched && matched_by.is_none() {
                matched_by = Some(raw.clone());
            }
            verdict
        })
        .collect();
    ProviderVerdict {
        provider,
        matched_by,
        patterns,
    }
}

/// `service-account token mode` is on for a provider when it has `tokenAttributes` and the
/// gate is on (validation already rejected it otherwise).
fn token_mode(provider: &CredentialProvider, gates: FeatureGates) -> Option<String> {
    let attrs = provider.token_attributes.as_ref()?;
    if !gates.service_account_token_for_credential_providers {
        return None;
    }
    Some(format!(
        "service-account token for audience {}, cacheType {}",
        strconv_quote(&attrs.service_account_token_audience),
        attrs.cache_type
    ))
}

fn print_provider(v: &ProviderVerdict<'_>, gates: FeatureGates) {
    let p = v.provider;
    let verdict = match &v.matched_by {
        Some(pattern) => format!("match via {}", strconv_quote(pattern)),
        None => "no match".to_owned(),
    };
    outln!("provider {}: {verdict}", strconv_quote(&p.name));
    let cache = p
        .default_cache_duration
        .map(|d| d.to_string())
        .unwrap_or_else(|| "unset".to_owned());
    let mut details = format!("apiVersion {}, defaultCacheDuration {cache}", p.api_version);
    if let Some(mode) = token_mode(p, gates) {
        details.push_str(", ");
        details.push_str(&mode);
    }
    outln!("  {details}");
    for pattern in &v.patterns {
        let mark = if pattern.matched { "+" } else { "-" };
        outln!(
            "  {mark} {}: {}",
            strconv_quote(&pattern.pattern),
            pattern.reason
        );
    }
}

fn provider_json(v: &ProviderVerdict<'_>, gates: FeatureGates) -> Value {
    let p = v.provider;
    json!({
        "name": p.name,
        "apiVersion": p.api_version,
        "defaultCacheDuration": p.default_cache_duration.map(|d| d.to_string()),
        "serviceAccountTokenMode": token_mode(p, gates).is_some(),
        "matched": v.matched_by.is_some(),
        "matched_pattern": v.matched_by,
        "patterns": v.patterns.iter().map(|pv| pv.json.clone()).collect::<Vec<_>>(),
    })
}
