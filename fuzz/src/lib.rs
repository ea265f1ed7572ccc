//! Shared checks of kcred's fuzz targets (see `docs/fuzzing.md`).
//!
//! The seed corpus (`fuzz/seeds.py`, from `tests/conformance`) replaces every secret value
//! (service-account tokens, passwords, `auth` fields) with [`SECRET_MARKER`], so mutated
//! inputs keep carrying it and a target can check that no error text ever shows it.

/// The secret every seed carries in its token, password and `auth` fields.
pub const SECRET_MARKER: &str = "kcredFuzzSecret7q";

/// The marker as the base64 of `user:<marker>` (the `auth` field of docker configs).
pub const SECRET_AUTH_MARKER: &str = "dXNlcjprY3JlZEZ1enpTZWNyZXQ3cQ==";

/// The keys under which the seeds carry the marker (JSON and YAML spellings).
const SECRET_KEYS: &[&str] = &[
    "serviceAccountToken",
    "password",
    "Password",
    "Secret",
    "auth",
    "identitytoken",
    "registrytoken",
    "access_token",
    "refresh_token",
    "token",
    "authorizationToken",
];

/// True when every marker in `input` is the value of a secret field, written as the seeds
/// write it (`"key": "marker"` or `key: marker`). A mutation that moves the marker into a
/// field that is echoed on purpose (a kind, an image, a username) makes this false, and
/// [`assert_no_secret`] then has nothing to check.
pub fn marker_only_in_secret_fields(input: &[u8]) -> bool {
    let mut text = String::from_utf8_lossy(input).into_owned();
    for marker in [SECRET_AUTH_MARKER, SECRET_MARKER] {
        for key in SECRET_KEYS {
            for form in [
                format!("\"{key}\":\"{marker}\""),
                format!("\"{key}\": \"{marker}\""),
            ] {
                text = text.replace(&form, "");
            }
        }
    }
    // YAML forms count only where a YAML key can stand: at the start of a line (after
    // indentation or a list dash), not inside another value (`apiVersion: "xtoken: …"`).
    text = text
        .split('\n')
        .map(|line| {
            let body = line.trim_start().trim_start_matches("- ");
            let is_secret = [SECRET_AUTH_MARKER, SECRET_MARKER].iter().any(|marker| {
                SECRET_KEYS.iter().any(|key| {
                    body == format!("{key}: {marker}") || body == format!("{key}: \"{marker}\"")
                })
            });
            if is_secret {
                ""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    !text.contains(SECRET_MARKER)
        && !text.contains(SECRET_AUTH_MARKER)
        && !text.contains("kcredFuzz")
}

/// Panics when `text` (an error message, a `Debug` form) shows the marker although `input`
/// held it only as a secret.
pub fn assert_no_secret(input: &[u8], what: &str, text: &str) {
    if !marker_only_in_secret_fields(input) {
        return;
    }
    assert!(
        !text.contains(SECRET_MARKER) && !text.contains(SECRET_AUTH_MARKER),
        "{what} leaks the secret: {text}"
    );
}

/// Splits the input at the first NUL byte into two strings (lossy UTF-8), for targets that
/// take two parameters (pattern and name, pattern and image).
pub fn split_pair(data: &[u8]) -> (String, String) {
    let (a, b) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    (
        String::from_utf8_lossy(a).into_owned(),
        String::from_utf8_lossy(b).into_owned(),
    )
}
