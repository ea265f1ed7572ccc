//! Property tests: the parsers and the glob never panic and always finish; a `*`-only glob
//! matches any name without a separator; pre-parsed matching agrees with the kubelet's
//! parse-every-time `URLsMatchStr`.

use kcred_match::glob::go_filepath_match;
use kcred_match::gourl::{parse_schemeless_url, split_url};
use kcred_match::image::ImageRef;
use kcred_match::keyring::{decode_auth_field, parse_config_json, parse_dockercfg, DockerKeyring};
use kcred_match::pattern::{urls_match_str, MatchImage, MatchTarget};
use proptest::prelude::*;

/// Strings made of the characters that matter to URLs, globs and references, plus any
/// character at all.
fn url_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(vec![
            "a", "b", "io", "k8s", ".", ":", "/", "@", "%", "%2", "%25", "%zz", "%c3%a9", "[", "]",
            "^", "-", "*", "?", "\\", "#", "\u{1}", "5000", "é", "☺", "v1/", " ", "_", "A",
        ])
        .prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// Host-ish patterns and targets that often agree on ports and label counts, so the label
/// globbing is exercised.
fn host_like() -> impl Strategy<Value = String> {
    let label = prop::sample::select(vec![
        "a", "b", "ab", "k8s", "io", "*", "a*", "*b", "?", "[a-c]", "[^a]", "[", "\\*", "*.*", "é",
        "",
    ]);
    (
        prop::collection::vec(label, 1..4),
        prop::sample::select(vec!["", ":5000", ":", ":80"]),
        prop::sample::select(vec!["", "/", "/p", "/p/q", "/pq"]),
    )
        .prop_map(|(labels, port, path)| format!("{}{port}{path}", labels.join(".")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn url_parser_never_panics(s in url_like()) {
        match parse_schemeless_url(&s) {
            Ok(u) => prop_assert!(!split_url(&u).0.is_empty()),
            Err(e) => prop_assert!(e.to_string().starts_with("parse \"https://")),
        }
    }

    #[test]
    fn url_parser_never_panics_on_any_string(s in any::<String>()) {
        let _ = parse_schemeless_url(&s);
        let _ = MatchImage::parse(&s);
        let _ = ImageRef::parse(&s);
        let _ = decode_auth_field(&s);
    }

    #[test]
    fn glob_never_panics(pattern in url_like(), name in url_like()) {
        let _ = go_filepath_match(&pattern, &name);
    }

    #[test]
    fn glob_never_panics_on_any_string(pattern in any::<String>(), name in any::<String>()) {
        let _ = go_filepath_match(&pattern, &name);
    }

    #[test]
    fn star_only_glob_matches_every_name_without_separator(
        stars in 1usize..5,
        name in "[^/]*",
    ) {
        prop_assert_eq!(go_filepath_match(&"*".repeat(stars), &name), Ok(true));
    }

    #[test]
    fn star_only_label_matches_every_dot_free_host(
        name in "[a-zA-Z0-9_~!$&'()*+,;=<>\"é☺-]{0,16}",
        path in "(/[a-z]{0,4}){0,3}",
    ) {
        prop_assert_eq!(go_filepath_match("*", &name), Ok(true));
        let image = format!("{name}{path}");
        prop_assert_eq!(urls_match_str("*", &image), Ok(true));
        let pattern = MatchImage::parse("*").expect("'*' parses");
        prop_assert!(pattern.matches(&MatchTarget::parse(&image).expect("host chars parse")));
    }

    #[test]
    fn literal_glob_is_equality(pattern in "[a-z0-9.-]{0,8}", name in "[a-z0-9.-]{0,8}") {
        prop_assert_eq!(go_filepath_match(&pattern, &name), Ok(pattern == name));
    }

    #[test]
    fn pre_parsed_matching_equals_urls_match_str(glob in host_like(), target in host_like()) {
        let kubelet_way = urls_match_str(&glob, &target);
        match (MatchImage::parse(&glob), MatchTarget::parse(&target)) {
            (Ok(p), Ok(t)) => prop_assert_eq!(Ok(p.matches(&t)), kubelet_way),
            _ => prop_assert!(kubelet_way.is_err()),
        }
    }

    #[test]
    fn pre_parsed_matching_equals_urls_match_str_on_noise(glob in url_like(), target in url_like()) {
        let kubelet_way = urls_match_str(&glob, &target);
        match (MatchImage::parse(&glob), MatchTarget::parse(&target)) {
            (Ok(p), Ok(t)) => prop_assert_eq!(Ok(p.matches(&t)), kubelet_way),
            _ => prop_assert!(kubelet_way.is_err()),
        }
    }

    #[test]
    fn keyring_lookup_is_the_union_of_matching_keys(
        keys in prop::collection::vec(host_like(), 0..6),
        image in host_like(),
    ) {
        let cfg = keys
            .iter()
            .map(|k| (k.clone(), kcred_match::DockerConfigEntry {
                username: k.clone(),
                ..Default::default()
            }))
            .collect();
        let mut keyring = DockerKeyring::new();
        keyring.add(None, &cfg);
        let found: Vec<String> = keyring.lookup(&image).into_iter().map(|c| c.username).collect();
        for user in &found {
            let key = kcred_match::keyring::normalize_key(user).expect("added keys normalise");
            let matched = urls_match_str(&key, &image) == Ok(true);
            let fallback = key == "index.docker.io";
            prop_assert!(matched || fallback, "{} returned for {}", user, image);
        }
    }

    #[test]
    fn docker_config_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_config_json(&bytes);
        let _ = parse_dockercfg(&bytes);
    }
}

mod docker_config_formats {
    use kcred_match::keyring::{
        decode_entry, parse_config_json, parse_docker_config, parse_dockercfg, DockerConfigFormat,
    };
    use proptest::prelude::*;

    /// JSON-ish text built from the words of docker credential files.
    fn config_like() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            "null",
            "1",
            "\"auths\"",
            "\"AUTHS\"",
            "\"auth\"",
            "\"username\"",
            "\"password\"",
            "\"credsStore\"",
            "\"credHelpers\"",
            "\"r.io\"",
            "\"dTpw\"",
            "\"Zm9v\"",
            "\"\u{212A}\"",
            " ",
        ]);
        prop::collection::vec(piece, 0..30).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn every_format_agrees_with_the_kubelets_readers(text in config_like()) {
            let bytes = text.as_bytes();
            let json = parse_docker_config(bytes, DockerConfigFormat::ConfigJson);
            let reader = parse_config_json(bytes);
            prop_assert_eq!(json.as_ref().map(|f| &f.auths).ok(), reader.as_ref().ok());
            let cfg = parse_docker_config(bytes, DockerConfigFormat::Dockercfg);
            let reader = parse_dockercfg(bytes);
            prop_assert_eq!(cfg.as_ref().map(|f| &f.auths).ok(), reader.as_ref().ok());
            if let Ok(detected) = parse_docker_config(bytes, DockerConfigFormat::Detect) {
                let same = if detected.is_config_json { json.ok() } else { cfg.ok() };
                prop_assert_eq!(Some(detected.auths), same.map(|f| f.auths));
            }
            let _ = decode_entry(bytes);
        }
    }
}
