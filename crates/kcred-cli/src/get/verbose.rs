//! `kcred get -v`: why a plugin's response did not decode.
//!
//! The kubelet reports a strict-decoding failure only as `error decoding credential provider
//! plugin response from stdout`, because the cause may quote secrets. The host keeps to that,
//! and its [`ProvideOutcome`](kcred_host::ProvideOutcome) carries the message only, so for
//! each provider that failed this way the plugin is run once more, with the same request,
//! and the decoder's cause (documents in it redacted) is taken from that run.

use std::collections::BTreeMap;

use kcred_host::exec::ExecError;
use kcred_host::{CredentialsReport, Host, PodContext, ServiceAccountTokenSource};

/// The kubelet's message for a response that fails the strict decode (§4.4 check 3).
const DECODE_FAILURE: &str = "error decoding credential provider plugin response from stdout";

/// The decoder's cause for one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeDetail {
    /// The provider's name.
    pub provider: String,
    /// The cause, or what the second run did instead.
    pub detail: String,
}

/// Runs again every plugin whose response failed the strict decode and returns the causes.
pub async fn decode_details(
    host: &Host,
    report: &CredentialsReport,
    pod: &PodContext,
    tokens: &dyn ServiceAccountTokenSource,
) -> Vec<DecodeDetail> {
    let set = host.providers();
    let mut details = Vec::new();
    for outcome in &report.outcomes {
        if outcome.error.as_deref() != Some(DECODE_FAILURE) {
            continue;
        }
        let Some(provider) = set.providers.iter().find(|p| p.name() == outcome.provider) else {
            continue;
        };
        let no_annotations = BTreeMap::new();
        let sa = match provider.service_account_mode() {
            None => None,
            Some(mode) => match mode.resolve(pod, tokens).await {
                Ok(sa) => sa,
                Err(e) => {
                    details.push(DecodeDetail {
                        provider: outcome.provider.clone(),
                        detail: format!("not run again: {e}"),
                    });
                    continue;
                }
            },
        };
        let (token, annotations) = match &sa {
            Some(sa) => (Some(&sa.token), &sa.annotations),
            None => (None, &no_annotations),
        };
        let rerun = provider
            .runner()
            .exec(&report.image, token, annotations)
            .await;
        let detail = match rerun.result {
            Err(ExecError::Response {
                detail: Some(detail),
                ..
            }) => detail,
            Err(other) => format!("the second run failed differently: {other}"),
            Ok(_) => "the second run's response decoded: no detail".to_owned(),
        };
        details.push(DecodeDetail {
            provider: outcome.provider.clone(),
            detail,
        });
    }
    details
}
