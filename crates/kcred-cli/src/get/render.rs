//! The `table` and `json` outputs of `kcred get`: per provider what happened, then the
//! credentials the kubelet would try. Passwords are redacted unless `--show-secrets`.

use std::time::Duration;

use kcred_api::gostr::strconv_quote;
use kcred_api::{GoDuration, Secret};
use kcred_host::trace::{CacheTrace, ExecTrace, MatchTrace, StoreTrace};
use kcred_host::{PluginProvider, ProvideOutcome, ServiceAccountCoordinates};
use kcred_match::keyring::TrackedAuthConfig;
use serde_json::{json, Value};

use super::{GetView, Verdict};
use crate::output::count;

/// What a redacted password looks like.
const REDACTED: &str = "<redacted>";

/// A password as shown: the value with `--show-secrets`, else `<redacted>` (`(empty)` for an
/// empty one, which is worth knowing and reveals nothing).
fn shown_password(password: &Secret, show: bool, quote: bool) -> String {
    match (show, password.is_empty()) {
        (true, _) if quote => strconv_quote(password.expose()),
        (true, _) => password.expose().to_owned(),
        (false, true) if quote => "(empty)".to_owned(),
        (false, true) => String::new(),
        (false, false) => REDACTED.to_owned(),
    }
}

/// A wall-clock duration as Go prints it (`12.5ms`).
fn go_duration(d: Duration) -> String {
    GoDuration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)).to_string()
}

fn coordinates(sa: &ServiceAccountCoordinates) -> String {
    format!(
        "{}/{} (uid {})",
        sa.namespace,
        sa.name,
        strconv_quote(&sa.uid)
    )
}

/// The line saying the kubelet pulls anonymously, and why.
pub(super) fn anonymous_notice(view: &GetView<'_>, verdict: Verdict) -> String {
    let why = match verdict {
        Verdict::NoProviderMatched => "no provider matches it, so no plugin runs",
        Verdict::NoCredentials => "the providers that match it returned no credential for it",
        _ => "the providers that match it failed or returned no credential for it",
    };
    format!(
        "no credentials for {}: {why}; the kubelet would pull it anonymously (unless a pod pull secret or the node's docker config.json has credentials)",
        view.normalised
    )
}

fn summary(view: &GetView<'_>, verdict: Verdict) -> String {
    let failed: Vec<String> = view
        .report
        .outcomes
        .iter()
        .filter(|o| o.error().is_some())
        .map(|o| strconv_quote(&o.provider))
        .collect();
    let n = view.report.credentials.len();
    match verdict {
        Verdict::Found if n == 1 => {
            "1 credential; the kubelet pulls with it (if the registry refuses it, the pull fails: no anonymous retry)".to_owned()
        }
        Verdict::Found => format!(
            "{n} credentials; the kubelet tries them in this order and stops at the first that works (no anonymous retry)"
        ),
        Verdict::ProviderFailed if n > 0 => format!(
            "{} failed; the kubelet would still try the {} found, in this order",
            providers_named(&failed),
            count(n, "credential")
        ),
        Verdict::ProviderFailed => format!(
            "{} failed; {}",
            providers_named(&failed),
            anonymous_notice(view, verdict)
        ),
        Verdict::NoCredentials | Verdict::NoProviderMatched => anonymous_notice(view, verdict),
    }
}

/// `provider "a"`, `providers "a", "b"`.
fn providers_named(quoted: &[String]) -> String {
    let noun = if quoted.len() == 1 {
        "provider"
    } else {
        "providers"
    };
    format!("{noun} {}", quoted.join(", "))
}

/// Whether a provider's `auth` entry is among the credentials the kubelet would try.
fn applies(view: &GetView<'_>, provider: &str, location: &str) -> bool {
    view.report
        .credentials_with_providers()
        .any(|(c, from)| from == Some(provider) && &*c.location == location)
}

fn definition<'a>(
    providers: &'a [std::sync::Arc<PluginProvider>],
    name: &str,
) -> Option<&'a PluginProvider> {
    providers.iter().find(|p| p.name() == name).map(|p| &**p)
}

fn default_cache_duration(provider: Option<&PluginProvider>) -> String {
    provider
        .and_then(|p| p.definition().default_cache_duration)
        .unwrap_or_default()
        .to_string()
}

/// Prints the `table` output.
pub(super) fn print_table(view: &GetView<'_>, verdict: Verdict) {
    let set = view.host.providers();
    outln!("image:      {}", view.args.image);
    outln!("normalised: {}", view.normalised);
    outln!(
        "config:     {} ({}, hash {})",
        view.args.config.display(),
        count(set.files.len(), "file"),
        set.hash
    );
    outln!("pod:        {}", pod_line(view));
    for outcome in &view.report.outcomes {
        outln!();
        print_provider(view, outcome, definition(&set.providers, &outcome.provider));
    }
    outln!();
    if view.report.credentials.is_empty() {
        outln!("credentials the kubelet would try: none");
    } else {
        outln!("credentials the kubelet would try, in order:");
        for (i, (c, provider)) in view.report.credentials_with_providers().enumerate() {
            outln!(
                "  {}. {}",
                i + 1,
                credential_line(c, provider, view.args.show_secrets)
            );
        }
    }
    outln!();
    outln!("result: {}", summary(view, verdict));
}

fn pod_line(view: &GetView<'_>) -> String {
    if !view.pod_passed {
        return "not passed to providers (KubeletServiceAccountTokenForCredentialProviders is off)"
            .to_owned();
    }
    let pod = view.pod;
    let mut line = format!("{}/{}", pod.namespace, pod.name);
    if !pod.uid.is_empty() {
        line.push_str(&format!(" (uid {})", strconv_quote(&pod.uid)));
    }
    match &pod.service_account {
        None => line.push_str(", no service account"),
        Some(sa) => {
            line.push_str(&format!(
                ", service account {} (uid {})",
                strconv_quote(&sa.name),
                strconv_quote(&sa.uid)
            ));
            if !sa.annotations.is_empty() {
                let pairs: Vec<String> = sa
                    .annotations
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                line.push_str(&format!(", annotations {}", pairs.join(" ")));
            }
            let token = if view.args.pod.service_account_token.is_some() {
                "token given"
            } else {
                "no token given"
            };
            line.push_str(&format!(", {token}"));
        }
    }
    line
}

fn print_provider(view: &GetView<'_>, outcome: &ProvideOutcome, provider: Option<&PluginProvider>) {
    let trace = &outcome.trace;
    let state = match (&trace.matched, outcome.error()) {
        (MatchTrace::NotMatched { .. }, _) => "no match".to_owned(),
        (MatchTrace::Matched { pattern }, None) => {
            format!("matched via {}", strconv_quote(pattern))
        }
        (MatchTrace::Matched { pattern }, Some(_)) => {
            format!("matched via {}, FAILED", strconv_quote(pattern))
        }
    };
    outln!("provider {}: {state}", strconv_quote(&outcome.provider));
    if let MatchTrace::NotMatched { reasons } = &trace.matched {
        for reason in reasons {
            outln!("  - {reason}");
        }
        return;
    }
    if let Some(sa) = outcome.service_account() {
        outln!("  service account: {}", coordinates(sa));
    }
    if let CacheTrace::Hit { base, expires_in } = trace.cache {
        outln!(
            "  cache:           hit ({} key, expires in {})",
            base.as_str(),
            go_duration(expires_in)
        );
    }
    if let Some(exec) = &trace.exec {
        outln!("  exec:            {}", exec_text(exec));
    }
    if let Some(t) = &trace.cache_key_type {
        outln!("  cacheKeyType:    {t}");
    }
    if trace.exec.is_some() && outcome.error().is_none() {
        match &trace.cache_duration {
            Some(d) => outln!("  cacheDuration:   {d}"),
            None => outln!(
                "  cacheDuration:   absent (defaultCacheDuration {} applies)",
                default_cache_duration(provider)
            ),
        }
        match &trace.stored {
            StoreTrace::Stored { base, ttl } => {
                outln!("  kubelet cache:   {ttl} under the {base} key")
            }
            StoreTrace::NotStored { reason } => outln!("  kubelet cache:   none ({reason})"),
        }
    }
    if outcome.error().is_none() {
        if outcome.docker_config().is_empty() {
            outln!("  auth:            (none)");
        } else {
            outln!("  auth:");
            for (key, entry) in outcome.docker_config().iter() {
                let unused = if !applies(view, &outcome.provider, key) {
                    "  (does not apply to this image)"
                } else {
                    ""
                };
                outln!(
                    "    {}  username {}  password {}{unused}",
                    strconv_quote(key),
                    strconv_quote(&entry.username),
                    shown_password(&entry.password, view.args.show_secrets, true)
                );
            }
        }
    }
    if let Some(e) = outcome.error() {
        outln!("  error:           {}", e.to_string().trim_end());
    }
    if let Some(detail) = view.detail(outcome) {
        outln!("  detail:          {detail}");
    }
}

fn exec_text(exec: &ExecTrace) -> String {
    if exec.joined {
        format!(
            "joined an identical call in flight ({})",
            go_duration(exec.duration)
        )
    } else {
        format!("plugin ran for {}", go_duration(exec.duration))
    }
}

/// `username "u", password <redacted>, from provider "p" (auth key "https://r.io/v2/",
/// keyring key "r.io")`: the keyring key is named when it differs from the `auth` key.
fn credential_line(cred: &TrackedAuthConfig, provider: Option<&str>, show: bool) -> String {
    let mut line = format!(
        "username {}, password {}",
        strconv_quote(&cred.username),
        shown_password(&cred.password, show, true)
    );
    if let Some(provider) = provider {
        line.push_str(&format!(", from provider {}", strconv_quote(provider)));
    }
    line.push_str(&format!(" (auth key {}", strconv_quote(&cred.location)));
    if *cred.key != *cred.location {
        line.push_str(&format!(", keyring key {}", strconv_quote(&cred.key)));
    }
    if cred.docker_hub_fallback {
        line.push_str(", via the Docker Hub fallback");
    }
    line.push(')');
    if let Some(sa) = &cred.source {
        line.push_str(&format!(", for service account {}", coordinates(sa)));
    }
    line
}

/// The `json` output.
pub(super) fn json(view: &GetView<'_>, verdict: Verdict) -> Value {
    let set = view.host.providers();
    let show = view.args.show_secrets;
    let pod = view.pod;
    json!({
        "image": view.args.image,
        "normalised": view.normalised,
        "registry": view.registry,
        "config": {
            "files": set.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "hash": set.hash,
        },
        "pod": {
            "passed_to_providers": view.pod_passed,
            "namespace": pod.namespace,
            "name": pod.name,
            "uid": pod.uid,
            "service_account": pod.service_account.as_ref().map(|sa| json!({
                "name": sa.name,
                "uid": sa.uid,
                "annotations": sa.annotations,
                "token_given": view.args.pod.service_account_token.is_some(),
            })),
        },
        "providers": view.report.outcomes.iter().map(|o| {
            provider_json(view, o, definition(&set.providers, &o.provider))
        }).collect::<Vec<_>>(),
        "credentials": view.report.credentials_with_providers().map(|(c, provider)| credential_json(c, provider, show)).collect::<Vec<_>>(),
        "result": verdict.id(),
        "summary": summary(view, verdict),
        "secrets_shown": show,
    })
}

fn coordinates_json(sa: &ServiceAccountCoordinates) -> Value {
    json!({"namespace": sa.namespace, "name": sa.name, "uid": sa.uid})
}

fn provider_json(
    view: &GetView<'_>,
    outcome: &ProvideOutcome,
    provider: Option<&PluginProvider>,
) -> Value {
    let trace = &outcome.trace;
    let (matched_pattern, reasons) = match &trace.matched {
        MatchTrace::Matched { pattern } => (Some(pattern.clone()), Vec::new()),
        MatchTrace::NotMatched { reasons } => (None, reasons.clone()),
    };
    let cache = match trace.cache {
        CacheTrace::NotChecked => json!("not-checked"),
        CacheTrace::Miss => json!("miss"),
        CacheTrace::Hit { base, expires_in } => json!({
            "hit": base.as_str(),
            "expires_in": go_duration(expires_in),
        }),
    };
    let stored = match &trace.stored {
        StoreTrace::Stored { base, ttl } => json!({"key": base, "ttl": ttl}),
        StoreTrace::NotStored { .. } => Value::Null,
    };
    let auth: Vec<Value> = outcome
        .docker_config()
        .iter()
        .map(|(key, entry)| {
            json!({
                "key": key,
                "username": entry.username,
                "password": shown_password(&entry.password, view.args.show_secrets, false),
                "applies": applies(view, &outcome.provider, key),
            })
        })
        .collect();
    let mut doc = json!({
        "name": outcome.provider,
        "matched": matched_pattern.is_some(),
        "matched_pattern": matched_pattern,
        "not_matched_reasons": reasons,
        "defaultCacheDuration": default_cache_duration(provider),
        "service_account": outcome.service_account().map(coordinates_json),
        "cache": cache,
        "exec": trace.exec.map(|e| json!({
            "duration": go_duration(e.duration),
            "seconds": e.duration.as_secs_f64(),
            "joined": e.joined,
        })),
        "cacheKeyType": trace.cache_key_type,
        "cacheDuration": trace.cache_duration,
        "kubelet_cache": stored,
        "auth": auth,
        "error": outcome.error().map(ToString::to_string),
    });
    if let Some(detail) = view.detail(outcome) {
        doc["error_detail"] = json!(detail);
    }
    doc
}

fn credential_json(cred: &TrackedAuthConfig, provider: Option<&str>, show: bool) -> Value {
    let mut doc = json!({
        "username": cred.username,
        "password": shown_password(&cred.password, show, false),
        "service_account": cred.source.as_ref().map(coordinates_json),
        "provider": provider,
        "auth_key": &*cred.location,
        "keyring_key": &*cred.key,
        "docker_hub_fallback": cred.docker_hub_fallback,
    });
    if !cred.email.is_empty() {
        doc["email"] = json!(cred.email);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_unless_shown() {
        let secret = Secret::new("hunter2");
        assert_eq!(shown_password(&secret, false, true), "<redacted>");
        assert_eq!(shown_password(&secret, false, false), "<redacted>");
        assert_eq!(shown_password(&secret, true, true), "\"hunter2\"");
        assert_eq!(shown_password(&secret, true, false), "hunter2");
        assert_eq!(shown_password(&Secret::new(""), false, true), "(empty)");
        assert_eq!(shown_password(&Secret::new(""), false, false), "");
    }

    #[test]
    fn durations_print_as_go_does() {
        assert_eq!(go_duration(Duration::from_micros(12_500)), "12.5ms");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
    }
}
