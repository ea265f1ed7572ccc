//! Go `url.Parse` error texts and hostile inputs for the URL parser, the glob and the
//! matcher: control characters, huge strings, unicode, `%` everywhere, unbalanced brackets,
//! repeated `@`.

use kcred_match::glob::{go_filepath_match, BadPattern};
use kcred_match::gourl::{parse_schemeless_url, split_url};
use kcred_match::gourl::{parse_schemeless_url_as, GoUrlParsing};
use kcred_match::pattern::{urls_match_str, urls_match_str_as, MatchImage, MatchTarget};

/// The Go URL parsing before CVE-2025-47912 (kubelets up to 1.34.1), where a `[` that does
/// not start the host is an ordinary host character, so glob classes reach `filepath.Match`.
const LEGACY: GoUrlParsing = GoUrlParsing::BeforeCve2025_47912;

fn error_text(s: &str) -> String {
    match parse_schemeless_url(s) {
        Ok(u) => panic!("{s:?} unexpectedly parsed (host {:?})", u.host()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn upstream_config_test_message() {
    // pkg/credentialprovider/plugin/config_test.go: "match image is invalid: <this>".
    assert_eq!(
        error_text("%invalid%"),
        r#"parse "https://%invalid%": invalid URL escape "%in""#
    );
}

#[test]
fn control_characters_are_rejected_before_the_fragment_only() {
    for c in ['\0', '\x01', '\t', '\n', '\r', '\x1f', '\x7f'] {
        let text = error_text(&format!("registry.io/a{c}b"));
        assert!(
            text.ends_with(": net/url: invalid control character in URL"),
            "{c:?}: {text}"
        );
    }
    assert_eq!(
        error_text("a\nb"),
        r#"parse "https://a\nb": net/url: invalid control character in URL"#
    );
    // Go checks control bytes only before '#'.
    assert!(parse_schemeless_url("registry.io/a#\x01").is_ok());
}

#[test]
fn port_and_host_character_errors() {
    assert_eq!(
        error_text("registry.io:abc"),
        r#"parse "https://registry.io:abc": invalid port ":abc" after host"#
    );
    assert_eq!(
        error_text("[::1]x"),
        r#"parse "https://[::1]x": invalid port "x" after host"#
    );
    assert_eq!(
        error_text("[::1"),
        r#"parse "https://[::1": missing ']' in host"#
    );
    assert_eq!(
        error_text("reg istry.io"),
        r#"parse "https://reg istry.io": invalid character " " in host name"#
    );
    assert_eq!(
        error_text("a|b.io/x"),
        r#"parse "https://a|b.io/x": invalid character "|" in host name"#
    );
    assert_eq!(
        error_text("a\\b.io"),
        r#"parse "https://a\\b.io": invalid character "\\" in host name"#
    );
    // Host escapes: only %25 and non-ASCII bytes.
    assert_eq!(
        error_text("%2e.io"),
        r#"parse "https://%2e.io": invalid URL escape "%2e""#
    );
    assert!(parse_schemeless_url("%25.io").is_ok());
    assert!(parse_schemeless_url("%e2%98%ba.io").is_ok());
}

#[test]
fn accepted_host_characters_include_glob_and_sub_delims() {
    for host in ["*.io", "a!$&'()*+,;=b", "<a>", "\"q\"", "~_-."] {
        assert!(parse_schemeless_url(host).is_ok(), "{host:?}");
    }
    // Brackets inside a host: fine before CVE-2025-47912, an IP literal after it.
    assert!(parse_schemeless_url_as("x[y]z", LEGACY).is_ok());
    assert!(parse_schemeless_url("x[y]z").is_err());
}

#[test]
fn userinfo_is_stripped_after_the_last_at() {
    let u = parse_schemeless_url("@@@host.io/p").expect("@@@ parses");
    assert_eq!((u.host().as_ref(), u.path().as_ref()), ("host.io", "/p"));
    let u = parse_schemeless_url("user:p@ss@host.io").expect("'@' in userinfo is allowed");
    assert_eq!(u.host(), "host.io");
    assert_eq!(
        error_text("us er@host.io"),
        r#"parse "https://us er@host.io": net/url: invalid userinfo"#
    );
    assert_eq!(
        error_text("ü@host.io"),
        r#"parse "https://ü@host.io": net/url: invalid userinfo"#
    );
    assert_eq!(
        error_text("u%zz@host.io"),
        r#"parse "https://u%zz@host.io": invalid URL escape "%zz""#
    );
    // The host is checked before the userinfo.
    assert_eq!(
        error_text("ü@h:x"),
        r#"parse "https://ü@h:x": invalid port ":x" after host"#
    );
}

#[test]
fn percent_everywhere() {
    assert_eq!(
        error_text("%"),
        r#"parse "https://%": invalid URL escape "%""#
    );
    assert_eq!(
        error_text("%%%%"),
        r#"parse "https://%%%%": invalid URL escape "%%%""#
    );
    assert_eq!(
        error_text("h/%"),
        r#"parse "https://h/%": invalid URL escape "%""#
    );
    assert_eq!(
        error_text("h/%%"),
        r#"parse "https://h/%%": invalid URL escape "%%""#
    );
    assert_eq!(
        error_text("h/a%2"),
        r#"parse "https://h/a%2": invalid URL escape "%2""#
    );
    // Query text is never unescaped.
    assert!(parse_schemeless_url("h/a?%zz").is_ok());
    let u = parse_schemeless_url("h/%25%2F%3F%23").expect("valid escapes");
    assert_eq!(u.path(), "/%/?#");
    let big = "%".repeat(100_000);
    assert!(error_text(&big).ends_with(r#"invalid URL escape "%%%""#));
}

#[test]
fn brackets_without_closing() {
    assert_eq!(error_text("["), r#"parse "https://[": missing ']' in host"#);
    assert_eq!(
        error_text("[a.io/x]"),
        r#"parse "https://[a.io/x]": missing ']' in host"#
    );
    // A host that starts with '[' is an IP literal: whatever follows its ']' must be a port.
    assert_eq!(
        error_text("[abc].io"),
        r#"parse "https://[abc].io": invalid port ".io" after host"#
    );
    // A '[' that does not start the host is just an allowed host character before
    // CVE-2025-47912 (Go 1.24.7)...
    let u = parse_schemeless_url_as("a[.io", LEGACY).expect("parses");
    assert_eq!(u.host(), "a[.io");
    // ...and a malformed glob label never matches.
    assert_eq!(urls_match_str_as("a[.io", "a[.io", LEGACY), Ok(false));
    // The newest kubelet's Go refuses it.
    assert_eq!(
        error_text("a[.io"),
        r#"parse "https://a[.io": invalid IP-literal"#
    );
    assert_eq!(go_filepath_match("[", "["), Err(BadPattern));
    assert_eq!(go_filepath_match("[a", "a"), Err(BadPattern));
    assert_eq!(go_filepath_match("[^", ""), Err(BadPattern));
}

#[test]
fn ipv6_hosts_split_like_the_kubelet() {
    let u = parse_schemeless_url("[fe80::1%25eth0]:5000/x").expect("zone parses");
    assert_eq!(u.host(), "[fe80::1%eth0]:5000");
    let (labels, port) = split_url(&u);
    assert_eq!(labels, ["fe80::1%eth0"]);
    assert_eq!(port, "5000");
    // No port: SplitHostPort fails, the whole host is one "label" with its brackets.
    let u = parse_schemeless_url("[::1]").expect("parses");
    assert_eq!(split_url(&u), (vec!["[::1]".into()], "".into()));
    assert_eq!(urls_match_str("[::1]:5000", "[::1]:5000/app"), Ok(true));
    assert_eq!(urls_match_str("[::1]", "[::1]:5000/app"), Ok(false));
}

#[test]
fn unicode_hosts_and_labels() {
    assert_eq!(urls_match_str("*.例え.jp", "テスト.例え.jp/x"), Ok(true));
    // '?' matches one rune, but in a URL it starts the query, so it never reaches a host.
    assert_eq!(go_filepath_match("?", "é"), Ok(true));
    assert_eq!(go_filepath_match("??", "é"), Ok(false));
    assert_eq!(urls_match_str("?.io", "é.io"), Ok(false));
    assert_eq!(
        parse_schemeless_url("?.io").map(|u| u.host().into_owned()),
        Ok(String::new())
    );
    // Classes in a host need the pre-CVE-2025-47912 parsing (kubelet ≤ 1.34.1).
    assert_eq!(urls_match_str_as("x[à-ÿ].io", "xé.io", LEGACY), Ok(true));
    // Decoded non-ASCII escapes compare as bytes.
    assert_eq!(urls_match_str("%c3%a9.io", "é.io"), Ok(true));
    // An escape that decodes to invalid UTF-8 in a class is a malformed pattern in Go.
    assert_eq!(urls_match_str_as("x[%ffa].io", "xa.io", LEGACY), Ok(false));
    assert_eq!(
        urls_match_str_as("x[\u{FFFD}a].io", "xa.io", LEGACY),
        Ok(true)
    );
    // '^' is not a host character, so a negated class cannot appear in a host.
    assert_eq!(
        parse_schemeless_url_as("x[^a].io", LEGACY)
            .map(|_| ())
            .unwrap_err()
            .to_string(),
        r#"parse "https://x[^a].io": invalid character "^" in host name"#
    );
}

#[test]
fn huge_inputs_terminate() {
    let label = "a".repeat(200_000);
    let host = format!("{label}.{label}.io/{}", "p/".repeat(50_000));
    let target = MatchTarget::parse(&host).expect("huge target parses");
    let pattern = MatchImage::parse("*.*.io/p").expect("pattern parses");
    assert!(pattern.matches(&target));
    let pattern = MatchImage::parse(&format!("{label}.*{label}.io")).expect("parses");
    assert!(pattern.matches(&target));

    // Worst case for a star chunk: quadratic, never exponential.
    let name = "a".repeat(20_000);
    let glob = format!("*{}b", "a".repeat(300));
    assert_eq!(go_filepath_match(&glob, &name), Ok(false));
    let many_stars = "*a".repeat(5_000);
    assert_eq!(go_filepath_match(&many_stars, &name), Ok(true));
    assert_eq!(
        go_filepath_match(&format!("{many_stars}b"), &name),
        Ok(false)
    );
}

#[test]
fn malformed_glob_is_no_match_with_a_reason() {
    let pattern = MatchImage::parse_as("registry.[io", LEGACY).expect("Go 1.24.7 accepts it");
    let target = MatchTarget::parse_as("registry.io", LEGACY).expect("parses");
    let outcome = pattern.check(&target);
    assert!(!outcome.is_match());
    assert_eq!(
        outcome.to_string(),
        r#"label 2: pattern "[io" is malformed (filepath.Match: syntax error in pattern), so it does not match "io""#
    );
    // Go stops at the first failing label: a later malformed label is not reached.
    let pattern = MatchImage::parse_as("x.[", LEGACY).expect("parses");
    let target = MatchTarget::parse_as("y.z", LEGACY).expect("parses");
    assert_eq!(
        pattern.check(&target).to_string(),
        r#"label 1: "x" does not match "y""#
    );
}
