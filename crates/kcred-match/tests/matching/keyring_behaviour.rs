//! BasicDockerKeyring behaviour beyond the conformance table: sources, precedence between
//! keys and between adds, skipped locations, the Docker Hub fallback, `http://` keys.

use kcred_api::Secret;
use kcred_match::keyring::{
    normalize_key, parse_config_json, CredentialSource, DockerConfig, DockerConfigEntry,
    DockerKeyring,
};

fn entry(user: &str) -> DockerConfigEntry {
    DockerConfigEntry {
        username: user.to_owned(),
        password: Secret::new(format!("{user}-pass")),
        email: String::new(),
    }
}

fn config(pairs: &[(&str, &str)]) -> DockerConfig {
    pairs
        .iter()
        .map(|(loc, user)| ((*loc).to_owned(), entry(user)))
        .collect()
}

fn users(keyring: &DockerKeyring, image: &str) -> Vec<String> {
    keyring
        .lookup(image)
        .into_iter()
        .map(|c| c.username)
        .collect()
}

#[test]
fn every_matching_key_in_reverse_order() {
    let mut k = DockerKeyring::new();
    k.add(
        None,
        &config(&[
            ("a.io", "host"),
            ("a.io/x", "x"),
            ("a.io/x/y", "xy"),
            ("*.io", "star"),
            ("b.io", "other"),
        ]),
    );
    assert_eq!(
        k.keys().collect::<Vec<_>>(),
        ["b.io", "a.io/x/y", "a.io/x", "a.io", "*.io"]
    );
    assert_eq!(users(&k, "a.io/x/y/z"), ["xy", "x", "host", "star"]);
    assert_eq!(users(&k, "a.io/q"), ["host", "star"]);
}

#[test]
fn same_key_keeps_add_order_and_sources() {
    let sa = |name: &str| CredentialSource {
        namespace: "ns".into(),
        name: name.into(),
        uid: format!("uid-{name}"),
    };
    let mut k = DockerKeyring::new();
    k.add(Some(sa("one")), &config(&[("test.registry.io", "user1")]));
    k.add(
        Some(sa("two")),
        &config(&[("https://test.registry.io/v2/", "user2")]),
    );
    k.add(None, &config(&[("http://test.registry.io", "user3")]));
    assert_eq!(k.len(), 1);
    let found = k.lookup("test.registry.io/image");
    let got: Vec<_> = found
        .iter()
        .map(|c| {
            (
                c.username.as_str(),
                c.source.as_ref().map(|s| s.name.as_str()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("user1", Some("one")),
            ("user2", Some("two")),
            ("user3", None)
        ]
    );
    assert_eq!(found[1].password.expose(), "user2-pass");
}

#[test]
fn unparsable_locations_are_skipped_and_reported() {
    let mut k = DockerKeyring::new();
    let skipped = k.add(None, &config(&[("%zz", "bad"), ("ok.io", "good")]));
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].location, "%zz");
    assert_eq!(
        skipped[0].error.to_string(),
        r#"parse "https://%zz": invalid URL escape "%zz""#
    );
    assert_eq!(users(&k, "ok.io/a"), ["good"]);
}

#[test]
fn key_normalisation() {
    assert_eq!(normalize_key("https://quay.io/v1/").unwrap(), "quay.io");
    assert_eq!(normalize_key("quay.io/v2/team").unwrap(), "quay.io/team");
    assert_eq!(normalize_key("http://r.io:5000/").unwrap(), "r.io:5000");
    assert_eq!(normalize_key("u:p@r.io/x?y#z").unwrap(), "r.io/x");
    assert_eq!(normalize_key("r.io/a%2Fb").unwrap(), "r.io/a/b");
    assert_eq!(normalize_key("r.io/v1").unwrap(), "r.io/v1");
    assert_eq!(
        normalize_key("http://r.io:x").unwrap_err().to_string(),
        r#"parse "http://r.io:x": invalid port ":x" after host"#
    );
}

#[test]
fn docker_hub_fallback_only_when_nothing_matched() {
    let mut k = DockerKeyring::new();
    k.add(
        None,
        &config(&[("https://index.docker.io/v1/", "hub"), ("*.io", "io")]),
    );
    // "library/nginx" style names are Docker Hub images; nothing else matches them.
    assert_eq!(users(&k, "library/nginx"), ["hub"]);
    assert_eq!(users(&k, "nginx"), ["hub"]);
    // docker.io/... matches "*.io" as a key, so the fallback is not used.
    assert_eq!(users(&k, "docker.io/library/nginx"), ["io"]);
    assert!(users(&k, "registry.tld/a/b").is_empty());
    assert!(users(&k, "").is_empty());
}

#[test]
fn image_that_does_not_parse_matches_no_key() {
    let mut k = DockerKeyring::new();
    k.add(None, &config(&[("a.io", "a")]));
    assert!(k.lookup("a.io:x/app").is_empty());
    assert!(k.lookup("a.io/%zz").is_empty());
}

#[test]
fn config_json_feeds_the_keyring() {
    let cfg = parse_config_json(
        br#"{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOnNlY3JldA=="},"gcr.io":{"username":"_json_key","password":"k"}},"credsStore":"x"}"#,
    )
    .expect("valid config.json");
    let mut k = DockerKeyring::new();
    k.add(None, &cfg);
    let hub = k.lookup("busybox");
    assert_eq!(hub[0].username, "hub");
    assert_eq!(hub[0].password.expose(), "secret");
    assert!(
        !format!("{:?}", hub[0]).contains("secret"),
        "password is redacted"
    );
    assert_eq!(users(&k, "gcr.io/p/app"), ["_json_key"]);
}

/// `(username, key, location, config_index, docker_hub_fallback)` of each credential found.
fn origins(keyring: &DockerKeyring, image: &str) -> Vec<(String, String, String, usize, bool)> {
    keyring
        .lookup(image)
        .into_iter()
        .map(|c| {
            (
                c.username,
                c.key.to_string(),
                c.location.to_string(),
                c.config_index,
                c.docker_hub_fallback,
            )
        })
        .collect()
}

#[test]
fn every_credential_says_where_it_was_found() {
    let mut k = DockerKeyring::new();
    k.add(
        None,
        &config(&[("r.io", "a-host"), ("https://r.io/v2/team", "a-team")]),
    );
    // An add with nothing in it still counts.
    k.add(None, &DockerConfig::new());
    k.add(
        None,
        &config(&[("https://r.io/v1/", "c-host"), ("q.io", "c-q")]),
    );
    let row = |user: &str, key: &str, location: &str, index: usize| {
        (user.into(), key.into(), location.into(), index, false)
    };
    assert_eq!(
        origins(&k, "r.io/team/app"),
        vec![
            row("a-team", "r.io/team", "https://r.io/v2/team", 0),
            row("a-host", "r.io", "r.io", 0),
            row("c-host", "r.io", "https://r.io/v1/", 2),
        ]
    );
    assert_eq!(origins(&k, "q.io/app"), vec![row("c-q", "q.io", "q.io", 2)]);
}

#[test]
fn docker_hub_fallback_credentials_are_marked() {
    let mut k = DockerKeyring::new();
    k.add(
        None,
        &config(&[("https://index.docker.io/v1/", "hub"), ("*.io", "io")]),
    );
    let hub = (
        "hub".to_owned(),
        "index.docker.io".to_owned(),
        "https://index.docker.io/v1/".to_owned(),
        0,
        true,
    );
    assert_eq!(origins(&k, "library/nginx"), vec![hub]);
    // Matched as a key, not through the fallback.
    assert_eq!(
        origins(&k, "docker.io/library/nginx"),
        vec![("io".into(), "*.io".into(), "*.io".into(), 0, false)]
    );
    assert_eq!(
        origins(&k, "index.docker.io/library/nginx"),
        vec![(
            "hub".into(),
            "index.docker.io".into(),
            "https://index.docker.io/v1/".into(),
            0,
            false
        )]
    );
}

#[test]
fn credentials_under_one_key_share_its_text() {
    let mut k = DockerKeyring::new();
    k.add(None, &config(&[("r.io", "one")]));
    k.add(None, &config(&[("https://r.io/v2/", "two")]));
    let found = k.lookup("r.io/app");
    assert_eq!(found.len(), 2);
    assert!(std::sync::Arc::ptr_eq(&found[0].key, &found[1].key));
}

/// A plugin may answer with as many `auth` keys as fit in its output bound (about 100 000
/// in 1 MiB), and the host builds a keyring from every answer on every pull. The keyring
/// keeps keys in a sorted map, so this stays quasi-linear (the old sorted-vector insert took
/// over 30 s here; a regression shows up as a slow test, speed itself is benchmarked).
#[test]
fn many_keys_from_one_answer_keep_order_and_fallback() {
    let n = 200_000;
    let cfg: DockerConfig = (0..n)
        .map(|i| (format!("r{i}.io"), entry(&format!("u{i}"))))
        .chain([
            ("https://index.docker.io/v1/".to_owned(), entry("hub")),
            ("r7.io/team".to_owned(), entry("team")),
        ])
        .collect();
    let mut keyring = DockerKeyring::new();
    assert!(keyring.add(None, &cfg).is_empty());
    assert_eq!(keyring.len(), n + 2);
    // Lookup order is still reverse byte order of the keys, and the fallback still works.
    assert_eq!(users(&keyring, "r7.io/team/app"), ["team", "u7"]);
    assert_eq!(users(&keyring, "docker.io/library/nginx"), ["hub"]);
    let keys: Vec<_> = keyring.keys().take(3).collect();
    assert_eq!(keys, ["r99999.io", "r99998.io", "r99997.io"]);
}
