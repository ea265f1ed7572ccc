//! Which kubelets accept something: a predicate evaluated under every row of the table,
//! summarised in words.

use std::fmt;

use crate::table::RELEASES;
use crate::version::KubeletVersion;

/// A run of kubelet releases, from one patch to the end of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionRange {
    /// The first release (`minor`, `patch`).
    pub from: (u16, u16),
    /// The last release: (`minor`, `Some(patch)`), or (`minor`, `None`) for "every later
    /// patch of that minor".
    pub to: (u16, Option<u16>),
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ((a, p), (b, end)) = (self.from, self.to);
        match (p, end) {
            (0, None) if a == b => write!(f, "1.{a}"),
            (0, None) => write!(f, "1.{a}–1.{b}"),
            (p, Some(l)) if a == b && p == l => write!(f, "1.{a}.{p}"),
            (p, Some(l)) if a == b => write!(f, "1.{a}.{p}–1.{a}.{l}"),
            (0, Some(l)) => write!(f, "1.{a}–1.{b}.{l}"),
            (p, Some(l)) => write!(f, "1.{a}.{p}–1.{b}.{l}"),
            (p, None) if a == b => write!(f, "1.{a}.{p} and later 1.{a} patches"),
            (p, None) => write!(f, "1.{a}.{p}–1.{b}"),
        }
    }
}

/// The kubelet releases for which a predicate holds (`accepted`) and those for which it does
/// not (`refused`), as runs in table order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionSplit {
    /// Where the predicate holds.
    pub accepted: Vec<VersionRange>,
    /// Where it does not.
    pub refused: Vec<VersionRange>,
}

impl VersionSplit {
    /// True when every kubelet gives the same answer.
    pub fn is_uniform(&self) -> bool {
        self.accepted.is_empty() || self.refused.is_empty()
    }
}

fn join(ranges: &[VersionRange]) -> String {
    ranges
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for VersionSplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.accepted.is_empty(), self.refused.is_empty()) {
            (_, true) => write!(f, "accepted by every kubelet {}", crate::supported_range()),
            (true, false) => write!(f, "refused by every kubelet {}", crate::supported_range()),
            (false, false) => write!(
                f,
                "accepted by kubelet {}; refused by kubelet {}",
                join(&self.accepted),
                join(&self.refused)
            ),
        }
    }
}

/// Evaluates `holds` once per row of the version table (at the row's first patch) and
/// returns the runs where it holds and where it does not.
///
/// ```
/// use kcred_kubelet::{split_versions, GoUrlParsing};
/// let split = split_versions(|v| !v.url_parsing().strict_colons());
/// assert_eq!(split.to_string(), "accepted by kubelet 1.26–1.36; refused by kubelet 1.37");
/// let split = split_versions(|v| v.url_parsing() == GoUrlParsing::BeforeCve2025_47912);
/// assert!(split.to_string().starts_with("accepted by kubelet 1.26–1.32.10, 1.33.0–1.33.5, 1.34.0–1.34.1;"));
/// ```
pub fn split_versions(mut holds: impl FnMut(KubeletVersion) -> bool) -> VersionSplit {
    let mut split = VersionSplit::default();
    let mut current: Option<(bool, VersionRange)> = None;
    for (i, (row, version)) in RELEASES
        .iter()
        .zip(KubeletVersion::representatives())
        .enumerate()
    {
        let answer = holds(version);
        let last_of_minor = RELEASES
            .get(i + 1)
            .is_none_or(|next| next.minor != row.minor);
        let end = (
            row.minor,
            if last_of_minor {
                None
            } else {
                row.patches.last
            },
        );
        match &mut current {
            Some((a, range)) if *a == answer => range.to = end,
            _ => {
                if let Some((a, range)) = current.take() {
                    push(&mut split, a, range);
                }
                current = Some((
                    answer,
                    VersionRange {
                        from: (row.minor, row.patches.first),
                        to: end,
                    },
                ));
            }
        }
    }
    if let Some((a, range)) = current {
        push(&mut split, a, range);
    }
    split
}

fn push(split: &mut VersionSplit, accepted: bool, range: VersionRange) {
    if accepted {
        split.accepted.push(range);
    } else {
        split.refused.push(range);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GoUrlParsing;

    #[test]
    fn uniform_answers() {
        assert_eq!(
            split_versions(|_| true).to_string(),
            "accepted by every kubelet 1.26 to 1.37"
        );
        assert!(split_versions(|_| false).is_uniform());
    }

    #[test]
    fn bracket_rule_splits_inside_minors() {
        let split = split_versions(|v| v.url_parsing() == GoUrlParsing::BeforeCve2025_47912);
        assert_eq!(
            split.to_string(),
            "accepted by kubelet 1.26–1.32.10, 1.33.0–1.33.5, 1.34.0–1.34.1; \
             refused by kubelet 1.32.11 and later 1.32 patches, 1.33.6 and later 1.33 patches, \
             1.34.2–1.37"
        );
    }

    #[test]
    fn regression_window_is_single_patches() {
        let split = split_versions(|v| !v.url_parsing().rejects_ipv4_mapped());
        assert_eq!(split.refused.len(), 2);
        assert_eq!(split.refused[0].to_string(), "1.33.6");
        assert_eq!(split.refused[1].to_string(), "1.34.2");
    }
}
