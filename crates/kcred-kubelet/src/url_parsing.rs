//! The Go `net/url` host-parsing variants that have built kubelets.

use std::fmt;

/// How Go's `url.Parse` treats the host of `https://<pattern>`, as it changed between the Go
/// releases that built kubelets 1.26 to 1.37. The kubelet parses every `matchImages` entry,
/// image and auth key this way, so the variant decides which patterns a kubelet accepts.
///
/// Ordered from oldest to newest; each variant keeps the rules of the ones before it, except
/// that [`GoUrlParsing::BracketsIpv6OnlyIpv4MappedRegression`] also rejects IPv4-mapped
/// addresses, which later Go accepts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GoUrlParsing {
    /// Go up to 1.24.7 / 1.25.1: a host starting with `[` needs a `]`, and anything between
    /// them is kept; `[` elsewhere is an ordinary host character; any number of colons.
    BeforeCve2025_47912,
    /// Go 1.24.8–1.24.9 and 1.25.2–1.25.3: the CVE-2025-47912 fix (brackets may hold only an
    /// IPv6 address, found by the last `[` anywhere in the host) with its regression:
    /// IPv4-mapped IPv6 addresses (`[::ffff:1.2.3.4]`) are rejected too ("invalid IPv6
    /// host", golang/go#75815).
    BracketsIpv6OnlyIpv4MappedRegression,
    /// Go 1.24.10+ and 1.25.4–1.25.7: brackets may hold only an IPv6 address
    /// (CVE-2025-47912, golang/go#75678); IPv4-mapped addresses are accepted again. Text
    /// before the `[` is silently dropped.
    BracketsIpv6Only,
    /// Go 1.25.8+ and 1.26.1+ with `GODEBUG urlstrictcolons=0` (a module saying
    /// `godebug default=go1.25`): additionally, an IPv6 literal must start the host
    /// (CVE-2026-25679, golang/go#77578).
    Ipv6LiteralStartsHost,
    /// Go 1.26.1+ in a module saying `godebug default=go1.26`: additionally, a host may hold
    /// at most one colon (the port's) outside brackets (`urlstrictcolons`, golang/go#75223).
    StrictColons,
}

impl GoUrlParsing {
    /// Every variant, oldest first.
    pub const ALL: [GoUrlParsing; 5] = [
        GoUrlParsing::BeforeCve2025_47912,
        GoUrlParsing::BracketsIpv6OnlyIpv4MappedRegression,
        GoUrlParsing::BracketsIpv6Only,
        GoUrlParsing::Ipv6LiteralStartsHost,
        GoUrlParsing::StrictColons,
    ];

    /// A short stable name, used in conformance data (`before-cve-2025-47912`, ...).
    pub fn name(self) -> &'static str {
        match self {
            GoUrlParsing::BeforeCve2025_47912 => "before-cve-2025-47912",
            GoUrlParsing::BracketsIpv6OnlyIpv4MappedRegression => "ipv4-mapped-regression",
            GoUrlParsing::BracketsIpv6Only => "cve-2025-47912",
            GoUrlParsing::Ipv6LiteralStartsHost => "cve-2026-25679",
            GoUrlParsing::StrictColons => "strict-colons",
        }
    }

    /// The variant with this [`name`](GoUrlParsing::name).
    pub fn from_name(name: &str) -> Option<GoUrlParsing> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The Go releases that parse this way.
    pub fn go_releases(self) -> &'static str {
        match self {
            GoUrlParsing::BeforeCve2025_47912 => "Go ≤ 1.24.7, 1.25.0–1.25.1",
            GoUrlParsing::BracketsIpv6OnlyIpv4MappedRegression => "Go 1.24.8–1.24.9, 1.25.2–1.25.3",
            GoUrlParsing::BracketsIpv6Only => "Go ≥ 1.24.10, 1.25.4–1.25.7",
            GoUrlParsing::Ipv6LiteralStartsHost => {
                "Go ≥ 1.25.8, ≥ 1.26.1 with urlstrictcolons=0 (godebug default=go1.25)"
            }
            GoUrlParsing::StrictColons => "Go ≥ 1.26.1 with godebug default=go1.26",
        }
    }

    /// The rule this variant adds to the one before it in its [`lineage`](Self::lineage),
    /// in words, for "rejected because …" messages. For the oldest variant: the rules every
    /// Go has (escapes, ports, host characters).
    pub fn rule(self) -> &'static str {
        match self {
            GoUrlParsing::BeforeCve2025_47912 => {
                "Go's URL syntax rules (valid escapes, a numeric port, allowed host characters)"
            }
            GoUrlParsing::BracketsIpv6OnlyIpv4MappedRegression => {
                "square brackets in the host may hold only an IPv6 address, and IPv4-mapped \
                 addresses are refused too (CVE-2025-47912 fix with the golang/go#75815 \
                 regression)"
            }
            GoUrlParsing::BracketsIpv6Only => {
                "square brackets in the host may hold only an IPv6 address (CVE-2025-47912, \
                 golang/go#75678)"
            }
            GoUrlParsing::Ipv6LiteralStartsHost => {
                "an IPv6 literal must start the host: text before '[' is rejected \
                 (CVE-2026-25679, golang/go#77578)"
            }
            GoUrlParsing::StrictColons => {
                "colons in the host are rejected (urlstrictcolons, golang/go#75223)"
            }
        }
    }

    /// The variants this one grew from, oldest first, ending with itself. A parser that
    /// rejects an input under `self` can name the rule responsible: the
    /// [`rule`](Self::rule) of the first variant in the lineage that rejects it.
    pub fn lineage(self) -> &'static [GoUrlParsing] {
        use GoUrlParsing::*;
        match self {
            BeforeCve2025_47912 => &[BeforeCve2025_47912],
            BracketsIpv6OnlyIpv4MappedRegression => &[
                BeforeCve2025_47912,
                BracketsIpv6Only,
                BracketsIpv6OnlyIpv4MappedRegression,
            ],
            BracketsIpv6Only => &[BeforeCve2025_47912, BracketsIpv6Only],
            Ipv6LiteralStartsHost => {
                &[BeforeCve2025_47912, BracketsIpv6Only, Ipv6LiteralStartsHost]
            }
            StrictColons => &[
                BeforeCve2025_47912,
                BracketsIpv6Only,
                Ipv6LiteralStartsHost,
                StrictColons,
            ],
        }
    }

    /// Whether `[` anywhere in the host (the last one) opens an IP literal that must hold an
    /// IPv6 address. Before CVE-2025-47912 only a leading `[` was special and its content
    /// was not checked.
    pub fn ip_literal_must_be_ipv6(self) -> bool {
        self != GoUrlParsing::BeforeCve2025_47912
    }

    /// Whether an IPv4-mapped IPv6 literal (`[::ffff:1.2.3.4]`) is rejected ("invalid IPv6
    /// host").
    pub fn rejects_ipv4_mapped(self) -> bool {
        self == GoUrlParsing::BracketsIpv6OnlyIpv4MappedRegression
    }

    /// Whether a `[` that does not start the host is rejected ("invalid IP-literal").
    pub fn ip_literal_must_start_host(self) -> bool {
        matches!(
            self,
            GoUrlParsing::Ipv6LiteralStartsHost | GoUrlParsing::StrictColons
        )
    }

    /// Whether the port is taken from the first colon of an unbracketed host (so a second
    /// colon makes an invalid port) rather than the last.
    pub fn strict_colons(self) -> bool {
        self == GoUrlParsing::StrictColons
    }
}

/// The newest kubelet's parsing ([`crate::KubeletVersion::NEWEST`]).
impl Default for GoUrlParsing {
    fn default() -> Self {
        crate::KubeletVersion::NEWEST.url_parsing()
    }
}

impl fmt::Display for GoUrlParsing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_lineages_end_with_self() {
        for v in GoUrlParsing::ALL {
            assert_eq!(GoUrlParsing::from_name(v.name()), Some(v));
            assert_eq!(v.lineage().last(), Some(&v));
            assert_eq!(v.lineage()[0], GoUrlParsing::BeforeCve2025_47912);
        }
        assert_eq!(GoUrlParsing::from_name("nope"), None);
    }

    #[test]
    fn each_variant_adds_its_rule() {
        use GoUrlParsing::*;
        assert!(!BeforeCve2025_47912.ip_literal_must_be_ipv6());
        assert!(BracketsIpv6OnlyIpv4MappedRegression.rejects_ipv4_mapped());
        assert!(!BracketsIpv6Only.rejects_ipv4_mapped());
        assert!(!BracketsIpv6Only.ip_literal_must_start_host());
        assert!(Ipv6LiteralStartsHost.ip_literal_must_start_host());
        assert!(!Ipv6LiteralStartsHost.strict_colons());
        assert!(StrictColons.strict_colons() && StrictColons.ip_literal_must_start_host());
    }
}
