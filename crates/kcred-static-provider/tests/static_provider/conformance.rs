//! `keyring_cases.json` through the real binary: the file of each row is served by
//! `static-credential-provider`, and the answer is fed into the kubelet's keyring
//! (`kcred_match::DockerKeyring`, as the kubelet adds plugin answers) and looked up with the
//! image. The credentials the kubelet ends up with must be the ones the row expects when
//! the kubelet reads the same file itself.

use crate::common::*;
use kcred_match::keyring::{parse_dockercfg, DockerConfig, DockerConfigEntry, DockerKeyring};
use kcred_match::ImageRef;
use serde_json::Value;

const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/conformance/keyring_cases.json"
);

/// `(username, password)` pairs, in lookup order.
type Creds = Vec<(String, String)>;

/// What the kubelet's keyring yields for `image` once it has added `answer`'s `auth`.
fn kubelet_lookup_of_answer(answer: &Value, image: &str) -> Creds {
    let cfg: DockerConfig = auth_of(answer)
        .into_iter()
        .map(|(key, username, password)| {
            let entry = DockerConfigEntry {
                username,
                password: password.into(),
                email: String::new(),
            };
            (key, entry)
        })
        .collect();
    let mut keyring = DockerKeyring::new();
    let skipped = keyring.add(None, &cfg);
    assert!(
        skipped.is_empty(),
        "the answer has keys the kubelet skips: {skipped:?}"
    );
    keyring
        .lookup(image)
        .into_iter()
        .map(|c| (c.username, c.password.expose().to_owned()))
        .collect()
}

/// What the kubelet's keyring yields for `image` reading the file itself.
fn kubelet_lookup_of_file(file: &str, image: &str) -> Creds {
    let mut keyring = DockerKeyring::new();
    keyring.add(
        None,
        &parse_dockercfg(file.as_bytes()).expect("row config parses"),
    );
    keyring
        .lookup(image)
        .into_iter()
        .map(|c| (c.username, c.password.expose().to_owned()))
        .collect()
}

fn cred(v: &Value) -> (String, String) {
    (
        v["username"].as_str().unwrap_or_default().to_owned(),
        v["password"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn keyring_cases_through_the_binary() {
    let rows: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(CASES).expect("cases"))
        .expect("cases are JSON");
    let files = Files::new();
    let (mut as_written, mut renormalised, mut skipped) = (0, 0, Vec::new());
    for (i, row) in rows.iter().enumerate() {
        // Rows with a `kind` test keyring internals (isDefaultRegistryMatch, provider calls,
        // the external-provider keyring): kcred-match's tables, nothing a plugin answers.
        if row.get("kind").is_some() {
            continue;
        }
        let desc = format!("row {i} ({})", row["description"].as_str().unwrap_or(""));
        let raw_image = row["image"].as_str().expect("image");
        let file = row["docker_config"].to_string();
        let cfg = files.write(&format!("row{i}.dockercfg"), &file, 0o600);

        // The kubelet sends the normalised name; a name it cannot normalise never reaches a
        // provider (the pull fails first).
        let Ok(image) = ImageRef::parse(raw_image) else {
            skipped.push(format!(
                "{desc}: {raw_image:?} is not an image reference the kubelet would send"
            ));
            continue;
        };
        let image = image.name().to_owned();
        let out = serve(&cfg, &image, &[]);
        let answer = out.json();
        assert_eq!(answer["cacheKeyType"], "Registry", "{desc}");
        let got = kubelet_lookup_of_answer(&answer, &image);

        if image == raw_image {
            // The row's own expectations hold (emails aside: plugin answers carry none).
            as_written += 1;
            let found = row["expected_found"].as_bool().expect("expected_found");
            assert_eq!(!got.is_empty(), found, "{desc}: got {got:?}");
            if let Some(first) = row.get("expected_first") {
                assert_eq!(got.first(), Some(&cred(first)), "{desc}");
            }
            if let Some(list) = row.get("expected").and_then(Value::as_array) {
                let want: Creds = list.iter().map(cred).collect();
                assert_eq!(got, want, "{desc}");
            }
            if let Some(max) = row.get("expected_max_len").and_then(Value::as_u64) {
                assert!(got.len() as u64 <= max, "{desc}");
            }
        } else {
            // The row's image is not normalised (`jenkins`, `quay.io`): compare with what
            // the kubelet does for the normalised name it would actually send.
            renormalised += 1;
            assert_eq!(
                got,
                kubelet_lookup_of_file(&file, &image),
                "{desc} as {image}"
            );
        }
    }
    eprintln!(
        "keyring_cases: {as_written} rows as written, {renormalised} rows with the normalised image, {} skipped:\n  {}",
        skipped.len(),
        skipped.join("\n  ")
    );
    assert_eq!(
        as_written + renormalised + skipped.len(),
        36,
        "row count changed"
    );
    // Skipped, deliberately: the 6 rows whose image `ParseNormalizedNamed` rejects
    // (`host/path:1111/foo/bar` puts a tag mid-name; `index.docker.io/v1//google/...` has an
    // empty component). The kubelet fails such a pull before any provider runs, and the
    // provider answers such a request with an error. Their key forms (`/v1/`, `/v2/`,
    // globs with paths) are covered by the other rows and by `select`'s unit tests.
    assert_eq!(skipped.len(), 6, "{skipped:?}");
}
