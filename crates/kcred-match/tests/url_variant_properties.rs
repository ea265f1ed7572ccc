//! Properties of the Go URL-parsing variants: no input panics under any variant, and each
//! later variant only adds rules (apart from the IPv4-mapped regression window).

use kcred_match::gourl::{parse_schemeless_url_as, rejecting_rule, GoUrlParsing};
use kcred_match::pattern::{urls_match_str_as, MatchImage, MatchTarget};
use proptest::prelude::*;

/// Host-ish strings rich in the characters the variants disagree about.
fn hostile() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(":".to_owned()),
            Just("::".to_owned()),
            Just(".".to_owned()),
            Just("@".to_owned()),
            Just("/".to_owned()),
            Just("%25".to_owned()),
            Just("%".to_owned()),
            Just("%c3%bc".to_owned()),
            Just("ffff:".to_owned()),
            Just("1.2.3.4".to_owned()),
            Just("*".to_owned()),
            "[a-f0-9]{1,5}",
            "\\PC{1,3}",
        ],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_variant_panics_and_matching_is_consistent(pattern in hostile(), image in hostile()) {
        for variant in GoUrlParsing::ALL {
            let _ = parse_schemeless_url_as(&pattern, variant);
            let _ = rejecting_rule(&pattern, variant);
            let kubelet_way = urls_match_str_as(&pattern, &image, variant);
            match (MatchImage::parse_as(&pattern, variant), MatchTarget::parse_as(&image, variant)) {
                (Ok(p), Ok(t)) => {
                    prop_assert_eq!(kubelet_way, Ok(p.matches(&t)));
                    prop_assert_eq!(p.check(&t).is_match(), p.matches(&t));
                    let _ = p.check(&t).to_string();
                }
                _ => prop_assert!(kubelet_way.is_err()),
            }
        }
    }

    #[test]
    fn later_variants_only_add_rules(s in hostile()) {
        use GoUrlParsing::*;
        let ok = |v| parse_schemeless_url_as(&s, v).is_ok();
        // Strict colons and CVE-2026-25679 only refuse more than the one before.
        if ok(StrictColons) { prop_assert!(ok(Ipv6LiteralStartsHost)); }
        if ok(Ipv6LiteralStartsHost) { prop_assert!(ok(BracketsIpv6Only)); }
        // The regression window refuses everything CVE-2025-47912 does, and more.
        if ok(BracketsIpv6OnlyIpv4MappedRegression) { prop_assert!(ok(BracketsIpv6Only)); }
        // Without brackets, only strict colons changes anything.
        if !s.contains('[') && !s.contains(']') {
            prop_assert_eq!(
                parse_schemeless_url_as(&s, BeforeCve2025_47912),
                parse_schemeless_url_as(&s, Ipv6LiteralStartsHost)
            );
        }
        // A rejection is always attributed to a variant of the lineage.
        for v in GoUrlParsing::ALL {
            if let Some((rule, _)) = rejecting_rule(&s, v) {
                prop_assert!(v.lineage().contains(&rule));
                prop_assert!(!ok(v));
            }
        }
    }
}
