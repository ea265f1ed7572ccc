//! `matchImages` matching: the kubelet's `URLsMatch` / `URLsMatchStr` (spec kubelet-host.md
//! §3.3), with both sides parsed once.
//!
//! A pattern matches an image when, in this order:
//! 1. the ports are equal as strings (`""` when absent);
//! 2. the hosts have the same number of `.`-separated labels;
//! 3. the image path starts with the pattern path (a plain string prefix);
//! 4. every pattern label matches the image label with Go's `filepath.Match` (a malformed
//!    label pattern is no match).
//!
//! [`MatchImage`] and [`MatchTarget`] hold the parsed pieces, so [`MatchImage::matches`]
//! allocates nothing; [`MatchImage::check`] also says which rule decided.
//! [`urls_match_str`] is the kubelet's own way, parsing both strings on every call.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use crate::glob::{match_bytes, BadPattern};
use crate::gourl::{
    default_url_parsing, parse_schemeless_bytes, split_host_lenient, GoUrlParsing, UrlError,
};
use kcred_api::gostr::strconv_quote_bytes;

/// A host parsed and split the kubelet's way: `u.Host`, its labels and port (ranges into
/// `host`), and `u.Path`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SplitHost {
    host: Box<[u8]>,
    labels: Box<[Range<usize>]>,
    port: Range<usize>,
    path: Box<[u8]>,
}

impl SplitHost {
    fn parse(s: &[u8], variant: GoUrlParsing) -> Result<Self, UrlError> {
        let (host, path) = parse_schemeless_bytes(s, variant)?.into_parts();
        let (hostname, port) = split_host_lenient(&host);
        let mut labels = Vec::new();
        let mut start = hostname.start;
        for (i, &b) in host[hostname.clone()].iter().enumerate() {
            if b == b'.' {
                labels.push(start..hostname.start + i);
                start = hostname.start + i + 1;
            }
        }
        labels.push(start..hostname.end);
        Ok(SplitHost {
            host: host.into_boxed_slice(),
            labels: labels.into_boxed_slice(),
            port,
            path: path.into_boxed_slice(),
        })
    }

    fn label(&self, i: usize) -> &[u8] {
        self.labels
            .get(i)
            .and_then(|r| self.host.get(r.clone()))
            .unwrap_or_default()
    }

    fn port(&self) -> &[u8] {
        self.host.get(self.port.clone()).unwrap_or_default()
    }
}

/// Byte equality without a `memcmp` call for the short strings hosts are made of (ports,
/// labels and path prefixes are usually a few bytes; a libc call costs more than the loop).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 32 {
        return a == b;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    diff == 0
}

/// `bytes.starts_with(prefix)` via [`same_bytes`].
#[inline]
fn has_prefix(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes
        .get(..prefix.len())
        .is_some_and(|head| same_bytes(head, prefix))
}

/// How one pattern label is matched, decided once at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum LabelKind {
    /// Only `*`s: matches any label without `/` (every host label).
    AnyLabel,
    /// No `*`, `?`, `[` or `\`: `filepath.Match` is plain byte equality.
    Literal,
    /// Needs `filepath.Match`.
    Glob,
}

impl LabelKind {
    fn of(label: &[u8]) -> Self {
        if !label.is_empty() && label.iter().all(|&b| b == b'*') {
            LabelKind::AnyLabel
        } else if label
            .iter()
            .any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
        {
            LabelKind::Glob
        } else {
            LabelKind::Literal
        }
    }

    fn matches(self, pattern: &[u8], label: &[u8]) -> Result<bool, BadPattern> {
        match self {
            LabelKind::AnyLabel => Ok(!label.contains(&b'/')),
            LabelKind::Literal => Ok(same_bytes(pattern, label)),
            LabelKind::Glob => match_bytes(pattern, label),
        }
    }
}

/// One `matchImages` entry (or auth key), parsed once with `ParseSchemelessURL` and split
/// into host labels, port and path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchImage {
    raw: String,
    split: SplitHost,
    kinds: Box<[LabelKind]>,
}

impl MatchImage {
    /// Parses a pattern such as `*.dkr.ecr.*.amazonaws.com` or `registry.io:5000/team`, as
    /// the newest kubelet does. Fails only where the kubelet's config validation fails (a Go
    /// URL parse error); a malformed glob parses and simply never matches.
    pub fn parse(pattern: &str) -> Result<MatchImage, UrlError> {
        Self::parse_as(pattern, default_url_parsing())
    }

    /// [`MatchImage::parse`] with the Go URL parsing of a given kubelet
    /// (`KubeletVersion::url_parsing`).
    pub fn parse_as(pattern: &str, variant: GoUrlParsing) -> Result<MatchImage, UrlError> {
        Self::parse_bytes_as(pattern.as_bytes(), variant)
    }

    /// [`MatchImage::parse_as`] on a Go byte string (normalised keyring keys may hold any
    /// byte).
    pub(crate) fn parse_bytes_as(
        pattern: &[u8],
        variant: GoUrlParsing,
    ) -> Result<MatchImage, UrlError> {
        let split = SplitHost::parse(pattern, variant)?;
        let kinds = (0..split.labels.len())
            .map(|i| LabelKind::of(split.label(i)))
            .collect();
        Ok(MatchImage {
            raw: String::from_utf8_lossy(pattern).into_owned(),
            split,
            kinds,
        })
    }

    /// The pattern as written.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The host labels (split on `.`, port removed), e.g. `["*", "k8s", "io"]`.
    pub fn labels(&self) -> impl ExactSizeIterator<Item = Cow<'_, str>> + '_ {
        (0..self.split.labels.len()).map(|i| String::from_utf8_lossy(self.split.label(i)))
    }

    /// The port (`""` when the pattern has none).
    pub fn port(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.split.port())
    }

    /// The percent-decoded path prefix (`""` when the pattern has none).
    pub fn path(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.split.path)
    }

    /// `u.Host` as parsed (labels and port).
    pub fn host(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.split.host)
    }

    /// Whether this pattern matches `target` (`URLsMatch` returning true). No allocation.
    ///
    /// Same answer as `check(target).is_match()`; the rules are all required, so the
    /// cheapest (label count, kept beside the pointer) goes first.
    pub fn matches(&self, target: &MatchTarget) -> bool {
        let (pattern, image) = (&self.split, &target.split);
        pattern.labels.len() == image.labels.len()
            && same_bytes(pattern.port(), image.port())
            && has_prefix(&image.path, &pattern.path)
            && self.kinds.iter().enumerate().all(|(i, kind)| {
                kind.matches(pattern.label(i), image.label(i))
                    .unwrap_or(false)
            })
    }

    /// `URLsMatch` with the reason: the first rule that failed, or [`MatchOutcome::Match`].
    pub fn check<'a>(&'a self, target: &'a MatchTarget) -> MatchOutcome<'a> {
        let (pattern, image) = (&self.split, &target.split);
        if !same_bytes(pattern.port(), image.port()) {
            return MatchOutcome::PortDiffers {
                pattern: pattern.port(),
                image: image.port(),
            };
        }
        if pattern.labels.len() != image.labels.len() {
            return MatchOutcome::LabelCountDiffers {
                pattern: pattern.labels.len(),
                image: image.labels.len(),
            };
        }
        if !has_prefix(&image.path, &pattern.path) {
            return MatchOutcome::PathNotPrefix {
                pattern: &pattern.path,
                image: &image.path,
            };
        }
        for (index, kind) in self.kinds.iter().enumerate() {
            let (want, have) = (pattern.label(index), image.label(index));
            match kind.matches(want, have) {
                Ok(true) => {}
                Ok(false) => {
                    return MatchOutcome::LabelMismatch {
                        index,
                        pattern: want,
                        image: have,
                    }
                }
                Err(BadPattern) => {
                    return MatchOutcome::BadLabelPattern {
                        index,
                        pattern: want,
                        image: have,
                    }
                }
            }
        }
        MatchOutcome::Match
    }
}

/// An image name parsed once with `ParseSchemelessURL`, to be checked against many
/// [`MatchImage`]s.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchTarget {
    raw: String,
    split: SplitHost,
}

impl MatchTarget {
    /// Parses an image name, normally the normalised name from
    /// [`ImageRef::name`](crate::image::ImageRef::name), as the newest kubelet does.
    pub fn parse(image: &str) -> Result<MatchTarget, UrlError> {
        Self::parse_as(image, default_url_parsing())
    }

    /// [`MatchTarget::parse`] with the Go URL parsing of a given kubelet.
    pub fn parse_as(image: &str, variant: GoUrlParsing) -> Result<MatchTarget, UrlError> {
        Ok(MatchTarget {
            raw: image.to_owned(),
            split: SplitHost::parse(image.as_bytes(), variant)?,
        })
    }

    /// The image as given.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The host labels, e.g. `["123", "dkr", "ecr", "us-east-1", "amazonaws", "com"]`.
    pub fn labels(&self) -> impl ExactSizeIterator<Item = Cow<'_, str>> + '_ {
        (0..self.split.labels.len()).map(|i| String::from_utf8_lossy(self.split.label(i)))
    }

    /// The port (`""` when there is none).
    pub fn port(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.split.port())
    }

    /// The percent-decoded path.
    pub fn path(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.split.path)
    }
}

/// The kubelet's answer for one pattern and one image, with the rule that decided it.
/// Label indexes count from 0; `Display` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOutcome<'a> {
    /// Every rule passed.
    Match,
    /// Rule 1: the ports differ (`""` = none).
    PortDiffers {
        /// The pattern's port.
        pattern: &'a [u8],
        /// The image's port.
        image: &'a [u8],
    },
    /// Rule 2: the hosts have different label counts.
    LabelCountDiffers {
        /// Labels in the pattern host.
        pattern: usize,
        /// Labels in the image host.
        image: usize,
    },
    /// Rule 3: the image path does not start with the pattern path.
    PathNotPrefix {
        /// The pattern path.
        pattern: &'a [u8],
        /// The image path.
        image: &'a [u8],
    },
    /// Rule 4: a label does not match.
    LabelMismatch {
        /// Which label (from 0).
        index: usize,
        /// The pattern label.
        pattern: &'a [u8],
        /// The image label.
        image: &'a [u8],
    },
    /// Rule 4: a label pattern is malformed (`filepath.ErrBadPattern`), which is no match.
    BadLabelPattern {
        /// Which label (from 0).
        index: usize,
        /// The malformed pattern label.
        pattern: &'a [u8],
        /// The image label.
        image: &'a [u8],
    },
}

impl MatchOutcome<'_> {
    /// True for [`MatchOutcome::Match`].
    pub fn is_match(&self) -> bool {
        matches!(self, MatchOutcome::Match)
    }
}

fn describe_port(port: &[u8]) -> String {
    if port.is_empty() {
        "none".to_owned()
    } else {
        let mut colon_port = b":".to_vec();
        colon_port.extend_from_slice(port);
        strconv_quote_bytes(&colon_port)
    }
}

impl fmt::Display for MatchOutcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MatchOutcome::Match => f.write_str("matches: same port, same label count, path prefix and every label matches"),
            MatchOutcome::PortDiffers { pattern, image } => write!(
                f,
                "port differs: pattern has {}, image has {}",
                describe_port(pattern),
                describe_port(image)
            ),
            MatchOutcome::LabelCountDiffers { pattern, image } => write!(
                f,
                "host label count differs: pattern has {pattern} {}, image has {image} (a '*' never spans a '.')",
                if pattern == 1 { "label" } else { "labels" }
            ),
            MatchOutcome::PathNotPrefix { pattern, image } => write!(
                f,
                "path differs: image path {} does not start with pattern path {}",
                strconv_quote_bytes(image),
                strconv_quote_bytes(pattern)
            ),
            MatchOutcome::LabelMismatch {
                index,
                pattern,
                image,
            } => write!(
                f,
                "label {}: {} does not match {}",
                index + 1,
                strconv_quote_bytes(pattern),
                strconv_quote_bytes(image)
            ),
            MatchOutcome::BadLabelPattern {
                index,
                pattern,
                image,
            } => write!(
                f,
                "label {}: pattern {} is malformed (filepath.Match: syntax error in pattern), so it does not match {}",
                index + 1,
                strconv_quote_bytes(pattern),
                strconv_quote_bytes(image)
            ),
        }
    }
}

/// The kubelet's `URLsMatchStr(glob, target)`: parses both strings on every call. A parse
/// error is returned (callers treat it as no match); a malformed label glob is `Ok(false)`
/// (Go returns `ErrBadPattern`, which callers also treat as no match).
///
/// ```
/// use kcred_match::pattern::urls_match_str;
/// assert_eq!(urls_match_str("*.kubernetes.io", "prefix.kubernetes.io"), Ok(true));
/// assert_eq!(urls_match_str("*.io", "k8s.gcr.io"), Ok(false));
/// ```
pub fn urls_match_str(glob: &str, target: &str) -> Result<bool, UrlError> {
    urls_match_str_as(glob, target, default_url_parsing())
}

/// [`urls_match_str`] with the Go URL parsing of a given kubelet.
pub fn urls_match_str_as(
    glob: &str,
    target: &str,
    variant: GoUrlParsing,
) -> Result<bool, UrlError> {
    let glob_url = parse_schemeless_bytes(glob.as_bytes(), variant)?;
    let target_url = parse_schemeless_bytes(target.as_bytes(), variant)?;
    let (glob_host, glob_path) = (glob_url.host_bytes(), glob_url.path_bytes());
    let (target_host, target_path) = (target_url.host_bytes(), target_url.path_bytes());
    let (glob_name, glob_port) = split_host_lenient(glob_host);
    let (target_name, target_port) = split_host_lenient(target_host);
    if glob_host[glob_port] != target_host[target_port] {
        return Ok(false);
    }
    let glob_labels: Vec<&[u8]> = glob_host[glob_name].split(|&b| b == b'.').collect();
    let target_labels: Vec<&[u8]> = target_host[target_name].split(|&b| b == b'.').collect();
    if glob_labels.len() != target_labels.len() {
        return Ok(false);
    }
    if !target_path.starts_with(glob_path) {
        return Ok(false);
    }
    for (want, have) in glob_labels.iter().zip(&target_labels) {
        if !match_bytes(want, have).unwrap_or(false) {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(pattern: &str, image: &str) -> String {
        // `a[.io` parses only before CVE-2025-47912; the rules are the same in every variant.
        let legacy = GoUrlParsing::BeforeCve2025_47912;
        let pattern = MatchImage::parse_as(pattern, legacy).unwrap();
        let image = MatchTarget::parse_as(image, legacy).unwrap();
        pattern.check(&image).to_string()
    }

    #[test]
    fn outcomes_explain_the_rule() {
        assert_eq!(
            outcome("registry.io:5000", "registry.io/app"),
            r#"port differs: pattern has ":5000", image has none"#
        );
        assert_eq!(
            outcome("*.io", "k8s.gcr.io"),
            "host label count differs: pattern has 2 labels, image has 3 (a '*' never spans a '.')"
        );
        assert_eq!(
            outcome("*", "docker.io/library/nginx"),
            "host label count differs: pattern has 1 label, image has 2 (a '*' never spans a '.')"
        );
        assert_eq!(
            outcome("registry.io/foo", "registry.io/bar"),
            r#"path differs: image path "/bar" does not start with pattern path "/foo""#
        );
        assert_eq!(
            outcome("*.gcr.io", "k8s.gcr.com"),
            r#"label 3: "io" does not match "com""#
        );
        assert_eq!(
            outcome("a[.io", "a.io"),
            r#"label 1: pattern "a[" is malformed (filepath.Match: syntax error in pattern), so it does not match "a""#
        );
        assert!(outcome("*.io", "a.io").starts_with("matches"));
    }

    #[test]
    fn accessors() {
        let p = MatchImage::parse("u@*.k8s.io:443/team%2Fa?x").unwrap();
        assert_eq!(p.raw(), "u@*.k8s.io:443/team%2Fa?x");
        assert_eq!(p.labels().collect::<Vec<_>>(), ["*", "k8s", "io"]);
        assert_eq!(p.port(), "443");
        assert_eq!(p.path(), "/team/a");
        assert_eq!(p.host(), "*.k8s.io:443");
    }
}
