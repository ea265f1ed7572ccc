//! Warnings about configs the kubelet accepts but that probably do not do what was meant.
//!
//! Lints never fail validation. Each names its provider, its pattern (when about one) and
//! its [`LintRule`], and says what the kubelet will actually do.

use std::collections::HashSet;
use std::fmt;

use kcred_api::config::CredentialProvider;
use kcred_api::gostr::strconv_quote;
use kcred_kubelet::{split_versions, KubeletVersion};
use kcred_match::glob::go_filepath_match;
use kcred_match::gourl::rejecting_rule;
use kcred_match::pattern::MatchImage;

/// The kinds of mistake [`lint`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LintRule {
    /// A wildcard label covers exactly one DNS label (`*.io` never matches `registry.k8s.io`;
    /// `**` is the same as `*`).
    WildcardLabel,
    /// The path is a literal string prefix: glob characters in it are literal, and a `?` or
    /// `#` starts a URL query/fragment that is dropped.
    PathLiteralPrefix,
    /// A pattern with a port matches only images naming that same port.
    PortMustMatch,
    /// A one-label wildcard host (`*`) matches only single-label hosts such as `localhost`.
    BareWildcard,
    /// Uppercase letters in the host: matching is case-sensitive.
    UppercaseHost,
    /// No image can ever match the pattern.
    Unmatchable,
    /// `defaultCacheDuration` is zero.
    NoCaching,
    /// The same pattern appears twice in one provider.
    DuplicatePattern,
    /// Some kubelet versions accept the pattern and others refuse the whole config for it,
    /// because the Go that built them parses URLs differently.
    VersionDependent,
}

impl LintRule {
    /// A short stable identifier, e.g. `wildcard-label`.
    pub fn id(self) -> &'static str {
        match self {
            LintRule::WildcardLabel => "wildcard-label",
            LintRule::PathLiteralPrefix => "path-literal-prefix",
            LintRule::PortMustMatch => "port-must-match",
            LintRule::BareWildcard => "bare-wildcard",
            LintRule::UppercaseHost => "uppercase-host",
            LintRule::Unmatchable => "unmatchable",
            LintRule::NoCaching => "no-caching",
            LintRule::DuplicatePattern => "duplicate-pattern",
            LintRule::VersionDependent => "version-dependent",
        }
    }
}

impl fmt::Display for LintRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    /// The provider's `name`.
    pub provider: String,
    /// The `matchImages` entry concerned, if the warning is about one.
    pub pattern: Option<String>,
    /// What kind of mistake.
    pub rule: LintRule,
    /// What the kubelet will actually do, and what to write instead.
    pub message: String,
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "provider {}: ", strconv_quote(&self.provider))?;
        if let Some(p) = &self.pattern {
            write!(f, "matchImages {}: ", strconv_quote(p))?;
        }
        write!(f, "{} [{}]", self.message, self.rule)
    }
}

/// Looks for likely mistakes in `providers`, reading patterns as the newest kubelet does;
/// patterns that fail to parse are left to validation.
pub fn lint(providers: &[CredentialProvider]) -> Vec<Lint> {
    lint_for(providers, KubeletVersion::NEWEST)
}

/// [`lint`] reading patterns as `kubelet` does. The [`LintRule::VersionDependent`] warning
/// looks at every kubelet in the version table whatever `kubelet` is.
pub fn lint_for(providers: &[CredentialProvider], kubelet: KubeletVersion) -> Vec<Lint> {
    let mut out = Vec::new();
    for provider in providers {
        let mut seen = HashSet::new();
        for pattern in &provider.match_images {
            let mut push = |rule: LintRule, message: String| {
                out.push(Lint {
                    provider: provider.name.clone(),
                    pattern: Some(pattern.clone()),
                    rule,
                    message,
                })
            };
            if !seen.insert(pattern.as_str()) {
                push(
                    LintRule::DuplicatePattern,
                    "listed more than once in this provider; the repeats change nothing".to_owned(),
                );
                continue;
            }
            if let Some(message) = version_dependence(pattern) {
                push(LintRule::VersionDependent, message);
            }
            lint_pattern(pattern, kubelet, &mut push);
        }
        if provider.default_cache_duration.is_some_and(|d| d.0 == 0) {
            out.push(Lint {
                provider: provider.name.clone(),
                pattern: None,
                rule: LintRule::NoCaching,
                message:
                    "defaultCacheDuration is 0: unless the plugin's response sets a \
                          cacheDuration, nothing is cached and the plugin runs for every image pull"
                        .to_owned(),
            });
        }
    }
    out
}

/// Glob metacharacters of Go's `filepath.Match`.
fn has_glob_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// When kubelets disagree about whether `pattern` is valid: which accept it, which refuse it,
/// and the Go rules that refuse it.
pub fn version_dependence(pattern: &str) -> Option<String> {
    let mut rules = Vec::new();
    let split = split_versions(|v| match rejecting_rule(pattern, v.url_parsing()) {
        None => true,
        Some((rule, _)) => {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
            false
        }
    });
    if split.is_uniform() {
        return None;
    }
    let why: Vec<&str> = rules.iter().map(|r| r.rule()).collect();
    Some(format!(
        "the kubelet's Go URL parsing changed: {split} (there the whole config is refused: {})",
        why.join("; ")
    ))
}

fn lint_pattern(pattern: &str, kubelet: KubeletVersion, push: &mut impl FnMut(LintRule, String)) {
    if let Some(i) = pattern.find("://") {
        let rest = &pattern[i + 3..];
        push(
            LintRule::Unmatchable,
            format!(
                "includes a URL scheme; the kubelet parses it as {} so the host is {} and \
                 no image can match; write {} instead",
                strconv_quote(&format!("https://{pattern}")),
                strconv_quote(&format!("{}:", &pattern[..i])),
                strconv_quote(rest)
            ),
        );
        return;
    }
    let Ok(parsed) = MatchImage::parse_as(pattern, kubelet.url_parsing()) else {
        return;
    };
    let port = parsed.port();
    let path = parsed.path();
    let labels: Vec<String> = parsed.labels().map(|l| l.into_owned()).collect();
    let hostname = labels.join(".");
    let bracketed = parsed.host().starts_with('[');

    lint_query_or_fragment(pattern, &path, push);
    if has_glob_meta(&path) {
        push(
            LintRule::PathLiteralPrefix,
            format!(
                "the path {} is a literal string prefix, not a glob: it matches only image paths \
                 that start with exactly {}; globs work in the host only",
                strconv_quote(&path),
                strconv_quote(&path)
            ),
        );
    }
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        push(
            LintRule::Unmatchable,
            format!(
                "the path {} has uppercase letters; image repository names are lowercase and \
                 matching is case-sensitive, so it never matches",
                strconv_quote(&path)
            ),
        );
    }
    if !port.is_empty() {
        push(
            LintRule::PortMustMatch,
            format!(
                "has port {port}: it matches only images that name port {port} (such as {}), \
                 never images without a port; and a pattern without a port never matches \
                 images that name one",
                strconv_quote(&format!("{hostname}:{port}/app"))
            ),
        );
    }

    if hostname.is_empty() {
        push(
            LintRule::Unmatchable,
            "has no host, so no image can match".to_owned(),
        );
        return;
    }
    if labels.iter().any(|l| l.is_empty()) {
        push(
            LintRule::Unmatchable,
            format!(
                "the host {} has an empty label (a leading, trailing or doubled '.'); image \
                 hosts never do, so it never matches",
                strconv_quote(&hostname)
            ),
        );
        return;
    }
    if bracketed {
        return;
    }
    let mut unmatchable_label = false;
    for label in labels.iter().map(String::as_str) {
        if go_filepath_match(label, "").is_err() {
            unmatchable_label = true;
            push(
                LintRule::Unmatchable,
                format!(
                    "the host label {} is not valid filepath.Match syntax (syntax error in \
                     pattern), so it never matches",
                    strconv_quote(label)
                ),
            );
        } else if let Some(c) = impossible_literal(label) {
            unmatchable_label = true;
            push(
                LintRule::Unmatchable,
                format!(
                    "the host label {} contains {}, which no image host contains, so it never matches",
                    strconv_quote(label),
                    strconv_quote(&c.to_string())
                ),
            );
        }
    }
    if hostname.chars().any(|c| c.is_ascii_uppercase()) {
        push(
            LintRule::UppercaseHost,
            format!(
                "the host {} has uppercase letters; matching is case-sensitive and image names \
                 are written in lowercase, so {} never matches {}",
                strconv_quote(&hostname),
                strconv_quote(&hostname),
                strconv_quote(&hostname.to_ascii_lowercase())
            ),
        );
    }
    if unmatchable_label {
        return;
    }
    if labels.iter().any(|l| l.contains("**")) {
        push(
            LintRule::WildcardLabel,
            "'**' is the same as '*': a wildcard never spans a '.', so each label of the image \
             host needs its own label in the pattern"
                .to_owned(),
        );
    }
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    match label_refs.as_slice() {
        [only] if only.contains('*') => push(
            LintRule::BareWildcard,
            format!(
                "the host {} has one label, so it matches only single-label hosts such as \
                 \"localhost\"; Docker Hub images are normalised to \"docker.io/...\" (two \
                 labels) and do not match",
                strconv_quote(only)
            ),
        ),
        [first, tld] if first.contains('*') && !has_glob_meta(tld) => {
            let Some(example) = label_matching(first) else {
                return;
            };
            push(
                LintRule::WildcardLabel,
                format!(
                    "a wildcard covers exactly one label: {} matches {} but never deeper hosts \
                     such as {}; add a pattern per depth (e.g. {})",
                    strconv_quote(&hostname),
                    strconv_quote(&format!("{example}.{tld}")),
                    strconv_quote(&format!("registry.{example}.{tld}")),
                    strconv_quote(&format!("*.{first}.{tld}"))
                ),
            )
        }
        _ => {}
    }
}

/// A host label that the glob `label` matches (`k8s` for a bare `*`), checked with
/// `filepath.Match`; `None` if the simple construction finds none.
fn label_matching(label: &str) -> Option<String> {
    if label == "*" {
        return Some("k8s".to_owned());
    }
    const HOST_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789-";
    let mut example = String::new();
    let mut chars = label.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '*' => example.push('x'),
            '?' => example.push('a'),
            '\\' => example.push(chars.next()?.1),
            '[' => {
                // The class runs to the first ']' after at least one member ('\\' escapes).
                let mut end = None;
                let mut first = true;
                while let Some((j, d)) = chars.next() {
                    match d {
                        '\\' => {
                            chars.next();
                        }
                        ']' if !first => {
                            end = Some(j);
                            break;
                        }
                        _ => {}
                    }
                    if !(first && d == '^') {
                        first = false;
                    }
                }
                let class = &label[i..=end?];
                let member = HOST_CHARS.chars().find(|m| {
                    go_filepath_match(class, m.encode_utf8(&mut [0; 4])).unwrap_or(false)
                })?;
                example.push(member);
            }
            c => example.push(c),
        }
    }
    go_filepath_match(label, &example)
        .unwrap_or(false)
        .then_some(example)
}

/// Text after `?` or `#` in a pattern is a URL query or fragment: parsed, then dropped.
fn lint_query_or_fragment(pattern: &str, path: &str, push: &mut impl FnMut(LintRule, String)) {
    let Some(i) = pattern.find(['?', '#']) else {
        return;
    };
    let host_end = pattern.find('/').unwrap_or(pattern.len());
    let kept = if i < host_end {
        &pattern[..i]
    } else {
        &pattern[..host_end]
    };
    push(
        LintRule::PathLiteralPrefix,
        format!(
            "everything from {} on is a URL query or fragment and is ignored; the kubelet \
             matches it as {}",
            strconv_quote(&pattern[i..=i]),
            strconv_quote(&format!("{kept}{path}"))
        ),
    );
}

/// A literal (non-glob) character of a host label that no image host can contain.
fn impossible_literal(label: &str) -> Option<char> {
    let mut chars = label.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        if in_class {
            if c == ']' {
                in_class = false;
            } else if c == '\\' {
                chars.next();
            }
            continue;
        }
        let literal = match c {
            '*' | '?' => continue,
            '[' => {
                in_class = true;
                continue;
            }
            '\\' => match chars.next() {
                Some(escaped) => escaped,
                None => continue,
            },
            c => c,
        };
        if !(literal.is_ascii_alphanumeric() || literal == '-') {
            return Some(literal);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_literals() {
        assert_eq!(impossible_literal("reg_istry"), Some('_'));
        assert_eq!(impossible_literal("*-good"), None);
        assert_eq!(impossible_literal("[_a]x"), None);
        assert_eq!(impossible_literal("a\\.b"), Some('.'));
        assert_eq!(impossible_literal("Registry"), None);
    }
}
