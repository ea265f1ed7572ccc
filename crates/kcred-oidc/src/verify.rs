//! What a cloud identity provider checks before it accepts a Kubernetes service-account
//! token as a federated credential: the issuer's documents (discovery document and JWKS) and
//! the token itself, with the reason each of Entra ID, AWS STS and Google STS would refuse.
//!
//! The checks follow each service's published rules for external OIDC issuers:
//! - Entra ID workload identity federation (learn.microsoft.com, "Workload identity
//!   federation: important considerations and restrictions"): exact issuer, subject and
//!   audience match with a federated identity credential; tokens signed with RS256 are the
//!   supported case; the JWKS is found through the issuer's discovery document.
//! - AWS STS `AssumeRoleWithWebIdentity` (docs.aws.amazon.com IAM user guide, "Create an
//!   OpenID Connect (OIDC) identity provider in IAM"): the issuer must be a registered IAM OIDC
//!   provider, `aud` one of its client IDs, `sub` allowed by the role's trust policy; RSA and
//!   EC (RS256/384/512, ES256/384/512) keys.
//! - Google STS `v1/token` (cloud.google.com IAM docs, "Workload Identity Federation with
//!   other providers"): the token's `aud` must be one of the provider's allowed audiences
//!   (default: the provider's full resource name with `https:` prefix), RS256 or ES256, and a
//!   lifetime of at most 24 hours.

use std::fmt;

use crate::discovery::check_https_url;
use crate::jwt::{Jwt, SignatureError};
use crate::key::PublicKey;

/// Clock skew every check allows on `exp`, `nbf` and `iat` (seconds), about what the
/// clouds allow.
pub const DEFAULT_SKEW_SECS: i64 = 300;
/// Google STS refuses tokens that live longer than this (seconds).
pub const GOOGLE_MAX_LIFETIME_SECS: i64 = 24 * 3600;

/// A cloud identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cloud {
    /// Microsoft Entra ID (AAD): federated identity credentials.
    Entra,
    /// AWS STS `AssumeRoleWithWebIdentity`.
    AwsSts,
    /// Google STS token exchange (workload identity federation).
    GoogleSts,
}

impl Cloud {
    /// All three.
    pub const ALL: [Cloud; 3] = [Cloud::Entra, Cloud::AwsSts, Cloud::GoogleSts];

    /// Its name in output.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Entra => "Entra ID",
            Cloud::AwsSts => "AWS STS",
            Cloud::GoogleSts => "Google STS",
        }
    }

    /// The signing algorithms it accepts.
    pub fn algorithms(self) -> &'static [&'static str] {
        match self {
            Cloud::Entra => &["RS256"],
            Cloud::AwsSts => &["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
            Cloud::GoogleSts => &["RS256", "ES256"],
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Passed.
    Pass,
    /// Not fatal, but worth knowing.
    Warn,
    /// Fails verification.
    Fail,
}

impl Status {
    /// `ok` / `warn` / `FAIL`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was checked (`issuer`, `jwks_uri`, `signature`, …).
    pub check: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was seen, and why it matters.
    pub detail: String,
    /// Clouds this finding fails at (empty when it fails nowhere or everywhere is implied
    /// by `Fail`).
    pub fails_at: Vec<Cloud>,
}

impl Finding {
    fn pass(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            status: Status::Pass,
            detail: detail.into(),
            fails_at: Vec::new(),
        }
    }
    fn fail(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            status: Status::Fail,
            detail: detail.into(),
            fails_at: Cloud::ALL.to_vec(),
        }
    }
    fn warn(check: &'static str, detail: impl Into<String>, fails_at: Vec<Cloud>) -> Finding {
        Finding {
            check,
            status: Status::Warn,
            detail: detail.into(),
            fails_at,
        }
    }
}

/// A set of findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// In order of checking.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether any check failed outright.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.status == Status::Fail)
    }

    /// The reasons `cloud` would refuse, in order.
    pub fn refusals(&self, cloud: Cloud) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| f.fails_at.contains(&cloud))
            .collect()
    }

    /// Text lines, one per finding: `  ok    issuer: ...`.
    pub fn render_findings(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            out.push_str(&format!(
                "  {:<5} {}: {}\n",
                f.status.label(),
                f.check,
                f.detail
            ));
        }
        out
    }

    /// One verdict per cloud, with each reason it would refuse and the error it answers.
    pub fn render_verdicts(&self, clouds: &[Cloud]) -> String {
        let mut out = String::new();
        for &c in clouds {
            let r = self.refusals(c);
            if r.is_empty() {
                out.push_str(&format!("  {c}: would accept\n"));
                continue;
            }
            out.push_str(&format!("  {c}: would REFUSE\n"));
            for f in r {
                out.push_str(&format!("    - {}: {}\n", f.check, c.error_for(f.check)));
            }
        }
        out
    }
}

impl Cloud {
    /// The error this cloud answers when check `check` fails (as its documentation and
    /// observed error bodies name them).
    pub fn error_for(self, check: &str) -> &'static str {
        match (self, check) {
            (Cloud::Entra, "iss" | "issuer") => "AADSTS700211 no matching federated identity record found for presented assertion issuer",
            (Cloud::Entra, "sub" | "aud") => "AADSTS70021 no matching federated identity record found for presented assertion (issuer, subject, audience)",
            (Cloud::Entra, "signature") => "AADSTS7000272 the key used to sign the federated credential could not be found in the metadata of the identity provider",
            (Cloud::Entra, "exp" | "nbf" | "iat") => "AADSTS700024 client assertion is not within its valid time range",
            (Cloud::Entra, _) => "the issuer's metadata cannot be used (discovery document or JWKS)",
            (Cloud::AwsSts, "iss" | "issuer") => "InvalidIdentityToken: no OpenIDConnect provider found in your account for the issuer",
            (Cloud::AwsSts, "aud") => "InvalidIdentityToken: incorrect token audience",
            (Cloud::AwsSts, "sub") => "AccessDenied: not authorized to perform sts:AssumeRoleWithWebIdentity (the role's trust policy sub condition)",
            (Cloud::AwsSts, "exp" | "nbf" | "iat") => "ExpiredTokenException: token expired",
            (Cloud::AwsSts, "signature") => "InvalidIdentityToken: the token's signature cannot be verified with the issuer's keys",
            (Cloud::AwsSts, _) => "InvalidIdentityToken: couldn't retrieve verification key from your identity provider",
            (Cloud::GoogleSts, "aud") => "invalid_grant: the audience in the token does not match the provider's allowed audiences",
            (Cloud::GoogleSts, "iss" | "issuer") => "invalid_grant: the token's issuer does not match the provider's issuer URI",
            (Cloud::GoogleSts, "exp" | "nbf" | "iat" | "lifetime") => "invalid_grant: the token is expired, not yet valid, or lives longer than 24h",
            (Cloud::GoogleSts, "sub") => "the principal (google.subject = sub) is not granted access (attribute condition or IAM binding)",
            (Cloud::GoogleSts, "signature") => "invalid_grant: invalid signature: the token's key is not in the issuer's JWKS",
            (Cloud::GoogleSts, _) => "invalid_grant: the provider cannot use the issuer's discovery document or JWKS",
        }
    }
}

/// One entry of a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwkEntry {
    /// `kid`.
    pub kid: Option<String>,
    /// `alg`.
    pub alg: Option<String>,
    /// `use`.
    pub use_: Option<String>,
    /// The key, or why it is unusable.
    pub key: Result<PublicKey, String>,
}

impl JwkEntry {
    /// Whether an IdP can verify signatures with it.
    pub fn usable(&self) -> bool {
        self.key
            .as_ref()
            .is_ok_and(|k| k.rsa_bits() == 0 || k.rsa_bits() >= 2048)
            && self.use_.as_deref().is_none_or(|u| u == "sig")
    }
}

/// The documents an IdP fetched for an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerView {
    /// The issuer the IdP was configured with (and fetched `/.well-known` from).
    pub issuer: String,
    /// The discovery document.
    pub config: serde_json::Value,
    /// The JWKS entries.
    pub keys: Vec<JwkEntry>,
}

/// Parses a JWKS document (`{"keys":[…]}`); the error names what is wrong.
pub fn parse_jwks(bytes: &[u8]) -> Result<Vec<JwkEntry>, String> {
    let doc: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let keys = doc
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or("no \"keys\" array")?;
    Ok(keys
        .iter()
        .map(|k| {
            let s = |n: &str| k.get(n).and_then(|v| v.as_str()).map(str::to_owned);
            JwkEntry {
                kid: s("kid"),
                alg: s("alg"),
                use_: s("use"),
                key: PublicKey::from_jwk(k),
            }
        })
        .collect())
}

/// Checks the discovery document and JWKS as an IdP reads them. `config_issuer` mismatches,
/// a non-https `jwks_uri` and a JWKS without a usable key fail.
pub fn check_documents(view: &IssuerView) -> Report {
    let mut r = Report::default();
    match view.config.get("issuer").and_then(|v| v.as_str()) {
        Some(i) if i == view.issuer => r.findings.push(Finding::pass("issuer", format!("{i:?} equals the configured issuer"))),
        Some(i) if i.trim_end_matches('/') == view.issuer.trim_end_matches('/') => r.findings.push(Finding::fail(
            "issuer",
            format!("the document says {i:?}, the issuer is {:?}: a trailing-slash difference is a mismatch (the clouds compare the strings exactly; use the same text in --service-account-issuer, the document and the cloud's trust)", view.issuer),
        )),
        Some(i) => r.findings.push(Finding::fail(
            "issuer",
            format!("the document says {i:?}, but it was fetched for {:?}; OIDC discovery requires them to be equal", view.issuer),
        )),
        None => r.findings.push(Finding::fail("issuer", "the discovery document has no \"issuer\"")),
    }
    match view.config.get("jwks_uri").and_then(|v| v.as_str()) {
        Some(u) => match check_https_url("jwks_uri", u) {
            Ok(()) => r.findings.push(Finding::pass("jwks_uri", u.to_owned())),
            Err(e) => r.findings.push(Finding::fail("jwks_uri", e.to_string())),
        },
        None => r.findings.push(Finding::fail(
            "jwks_uri",
            "the discovery document has no \"jwks_uri\"",
        )),
    }
    let algs: Vec<String> = view
        .config
        .get("id_token_signing_alg_values_supported")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if algs.is_empty() {
        r.findings.push(Finding::warn(
            "id_token_signing_alg_values_supported",
            "missing or empty (OIDC discovery requires it; kube-apiserver lists its keys' algorithms)",
            Vec::new(),
        ));
    }
    let usable: Vec<&JwkEntry> = view.keys.iter().filter(|k| k.usable()).collect();
    for (i, k) in view.keys.iter().enumerate() {
        let name = k.kid.clone().unwrap_or_else(|| format!("#{}", i + 1));
        match &k.key {
            Err(why) => r.findings.push(Finding::warn(
                "jwks key",
                format!("{name}: unusable: {why}"),
                Vec::new(),
            )),
            Ok(key) if key.rsa_bits() != 0 && key.rsa_bits() < 2048 => {
                r.findings.push(Finding::warn(
                    "jwks key",
                    format!(
                    "{name}: {} is too small; the clouds require RSA keys of at least 2048 bits",
                    key.describe()
                ),
                    Cloud::ALL.to_vec(),
                ))
            }
            Ok(key) => {
                let kid_note = match &k.kid {
                    None => " (no kid: Entra and AWS select keys by the token's kid)".to_owned(),
                    Some(kid) if *kid != key.key_id() => format!(
                        " (kid differs from kube-apiserver's {}; kube-apiserver's tokens carry that kid and would find no key)",
                        key.key_id()
                    ),
                    Some(_) => String::new(),
                };
                let fails_at: Vec<Cloud> = Cloud::ALL
                    .into_iter()
                    .filter(|c| !c.algorithms().contains(&key.algorithm()))
                    .collect();
                let status_warn = !kid_note.is_empty() || !fails_at.is_empty();
                let detail = format!(
                    "{name}: {} {}{kid_note}{}",
                    key.describe(),
                    key.algorithm(),
                    if fails_at.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; {} not accepted by {}",
                            key.algorithm(),
                            fails_at
                                .iter()
                                .map(|c| c.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                );
                if status_warn {
                    r.findings
                        .push(Finding::warn("jwks key", detail, Vec::new()));
                } else {
                    r.findings.push(Finding::pass("jwks key", detail));
                }
            }
        }
    }
    if usable.is_empty() {
        r.findings.push(Finding::fail(
            "jwks",
            format!("no usable key among {} (an IdP needs at least one RSA ≥2048-bit or EC P-256/P-384/P-521 signing key)", view.keys.len()),
        ));
    }
    for c in Cloud::ALL {
        if !usable.iter().any(|k| {
            k.key
                .as_ref()
                .is_ok_and(|key| c.algorithms().contains(&key.algorithm()))
        }) && !usable.is_empty()
        {
            r.findings.push(Finding::warn(
                "jwks",
                format!(
                    "no key {c} accepts (it takes {})",
                    c.algorithms().join(", ")
                ),
                vec![c],
            ));
        }
    }
    r
}

/// What the token must be for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenExpectations {
    /// The audience the cloud's trust expects (`api://AzureADTokenExchange`,
    /// `sts.amazonaws.com`, Google's provider audience); `None` skips the check.
    pub audience: Option<String>,
    /// The exact `sub` the trust names; `None` only checks the form.
    pub subject: Option<String>,
    /// Now (seconds since the epoch).
    pub now: i64,
    /// Allowed skew in seconds.
    pub skew_secs: i64,
}

/// Whether `s` is a DNS-1123 label (namespaces) or subdomain (service-account names).
fn dns1123(s: &str, subdomain: bool) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if subdomain {
        s.len() <= 253 && s.split('.').all(label)
    } else {
        label(s)
    }
}

/// Splits `system:serviceaccount:NS:NAME` (kube-apiserver's `MakeUsername`).
pub fn split_service_account_subject(sub: &str) -> Option<(&str, &str)> {
    let rest = sub.strip_prefix("system:serviceaccount:")?;
    let (ns, name) = rest.split_once(':')?;
    (dns1123(ns, false) && dns1123(name, true)).then_some((ns, name))
}

fn fmt_time(t: i64) -> String {
    // RFC 3339 UTC without external crates (civil-from-days, H. Hinnant).
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// RFC 3339 text of a Unix time (UTC).
pub fn rfc3339(t: i64) -> String {
    fmt_time(t)
}

/// Verifies `token` as an IdP that trusts `view` would: `iss`, signature (key chosen by
/// `kid`, else every key), `aud`, `exp`/`nbf`/`iat`, and `sub`.
pub fn check_token(view: &IssuerView, token: &Jwt, want: &TokenExpectations) -> Report {
    let mut r = Report::default();
    // iss
    match token.claim_str("iss") {
        Some(i) if i == view.issuer => r.findings.push(Finding::pass("iss", format!("{i:?}"))),
        Some(i) => r.findings.push(Finding::fail(
            "iss",
            format!("the token's issuer is {i:?}, not {:?}: kube-apiserver's --service-account-issuer (first value) must be exactly the published issuer", view.issuer),
        )),
        None => r.findings.push(Finding::fail("iss", "the token has no iss claim")),
    }
    // signature
    let alg = token.alg().to_owned();
    let candidates: Vec<&JwkEntry> = match token.kid() {
        Some(kid) => view
            .keys
            .iter()
            .filter(|k| k.kid.as_deref() == Some(kid))
            .collect(),
        None => view.keys.iter().collect(),
    };
    if candidates.is_empty() {
        r.findings.push(Finding::fail(
            "signature",
            format!(
                "the token's kid {:?} is not in the issuer's JWKS (kids: {}): it was signed by a key that is not published — publish the current signing key's public half (kcred oidc discovery --key …)",
                token.kid().unwrap_or(""),
                view.keys.iter().filter_map(|k| k.kid.clone()).collect::<Vec<_>>().join(", ")
            ),
        ));
    } else {
        let mut errors = Vec::new();
        let mut verified = None;
        for k in &candidates {
            match &k.key {
                Ok(key) => match token.verify_signature(key) {
                    Ok(()) => {
                        verified = Some(key.clone());
                        break;
                    }
                    Err(e) => errors.push(e),
                },
                Err(why) => errors.push(SignatureError::AlgorithmMismatch {
                    alg: alg.clone(),
                    key: format!("an unusable key ({why})"),
                }),
            }
        }
        match verified {
            Some(key) => {
                let fails_at: Vec<Cloud> = Cloud::ALL
                    .into_iter()
                    .filter(|c| !c.algorithms().contains(&alg.as_str()))
                    .collect();
                if fails_at.is_empty() {
                    r.findings.push(Finding::pass(
                        "signature",
                        format!("{alg} with key {} ({})", key.key_id(), key.describe()),
                    ));
                } else {
                    r.findings.push(Finding::warn(
                        "signature",
                        format!(
                            "{alg} verifies with key {}, but {} do not accept {alg}",
                            key.key_id(),
                            fails_at
                                .iter()
                                .map(|c| c.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        fails_at,
                    ));
                }
            }
            None => {
                let unverifiable = errors
                    .iter()
                    .any(|e| matches!(e, SignatureError::Unverifiable { .. }));
                let text = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                if unverifiable {
                    r.findings.push(Finding::warn(
                        "signature",
                        text,
                        vec![Cloud::Entra, Cloud::GoogleSts],
                    ));
                } else {
                    r.findings.push(Finding::fail(
                        "signature",
                        format!("{text}: the token was not signed by the published key"),
                    ));
                }
            }
        }
    }
    // aud
    let auds = token.audiences();
    match &want.audience {
        Some(a) if auds.iter().any(|x| x == a) => r.findings.push(Finding::pass("aud", format!("{auds:?} contains {a:?}"))),
        Some(a) => r.findings.push(Finding::fail(
            "aud",
            format!("{auds:?} does not contain {a:?}: set the kubelet's tokenAttributes.serviceAccountTokenAudience to {a:?}"),
        )),
        None if auds.is_empty() => r.findings.push(Finding::fail("aud", "the token has no aud")),
        None => r.findings.push(Finding::pass("aud", format!("{auds:?} (not compared: no --audience)"))),
    }
    // exp / nbf / iat
    let now = want.now;
    match token.claim_time("exp") {
        Some(exp) if now > exp + want.skew_secs => r.findings.push(Finding::fail(
            "exp",
            format!(
                "expired at {} ({}s ago; now {})",
                fmt_time(exp),
                now - exp,
                fmt_time(now)
            ),
        )),
        Some(exp) => r.findings.push(Finding::pass(
            "exp",
            format!("{} (in {}s)", fmt_time(exp), exp - now),
        )),
        None => r
            .findings
            .push(Finding::fail("exp", "the token has no exp")),
    }
    if let Some(nbf) = token.claim_time("nbf") {
        if now + want.skew_secs < nbf {
            r.findings.push(Finding::fail(
                "nbf",
                format!(
                    "not valid before {} (now {}; check the node's clock)",
                    fmt_time(nbf),
                    fmt_time(now)
                ),
            ));
        } else {
            r.findings.push(Finding::pass("nbf", fmt_time(nbf)));
        }
    }
    match (token.claim_time("iat"), token.claim_time("exp")) {
        (Some(iat), _) if iat > now + want.skew_secs => r.findings.push(Finding::fail("iat", format!("issued in the future ({})", fmt_time(iat)))),
        (Some(iat), Some(exp)) if exp - iat > GOOGLE_MAX_LIFETIME_SECS => r.findings.push(Finding::warn(
            "lifetime",
            format!("{}s from iat to exp; Google STS refuses tokens that live longer than 24h (kubelet tokens live 1h by default)", exp - iat),
            vec![Cloud::GoogleSts],
        )),
        _ => {}
    }
    // sub
    match token.claim_str("sub") {
        Some(s) => match (split_service_account_subject(s), &want.subject) {
            (None, _) => r.findings.push(Finding::fail("sub", format!("{s:?} is not system:serviceaccount:NAMESPACE:NAME"))),
            (Some(_), Some(w)) if s != w => r.findings.push(Finding::fail(
                "sub",
                format!("{s:?}, but the cloud's trust names {w:?} (federated credential subject / trust policy sub / attribute condition)"),
            )),
            (Some((ns, name)), _) => r.findings.push(Finding::pass("sub", format!("{s:?} (namespace {ns}, service account {name})"))),
        },
        None => r.findings.push(Finding::fail("sub", "the token has no sub")),
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_service_accounts() {
        assert_eq!(
            split_service_account_subject("system:serviceaccount:ns:sa"),
            Some(("ns", "sa"))
        );
        assert_eq!(
            split_service_account_subject("system:serviceaccount:ns:a.b-c"),
            Some(("ns", "a.b-c"))
        );
        for bad in [
            "system:serviceaccount:ns",
            "system:serviceaccount::sa",
            "system:serviceaccount:NS:sa",
            "user:x",
            "system:serviceaccount:ns:sa:extra",
        ] {
            assert_eq!(split_service_account_subject(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
