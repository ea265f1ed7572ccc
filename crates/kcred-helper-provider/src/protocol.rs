//! The docker credential helper protocol, client side (`docker-credential-helpers/client`).
//!
//! `docker-credential-NAME get` reads a server URL on stdin. It answers with a JSON object
//! `{"ServerURL", "Username", "Secret"}` and exit 0, or with an error message on stdout and
//! a non-zero exit; the message [`CREDENTIALS_NOT_FOUND`] means "no credentials". A username
//! of [`IDENTITY_TOKEN_USERNAME`] marks the secret as an identity (OAuth refresh) token.

use kcred_api::Secret;
use serde_json::Value;
use thiserror::Error;

/// The message helpers print when they hold nothing for the server URL.
pub(crate) const CREDENTIALS_NOT_FOUND: &str = "credentials not found in native keychain";

/// The username that marks the secret as an identity token.
pub(crate) const IDENTITY_TOKEN_USERNAME: &str = "<token>";

/// The server URL docker clients use for Docker Hub credentials.
pub(crate) const DOCKER_HUB_SERVER_URL: &str = "https://index.docker.io/v1/";

/// The server URL to ask a helper about for a registry (`host[:port]` as the kubelet parses
/// it from the image): Docker Hub's key for `docker.io`, the registry itself otherwise (what
/// `docker login <registry>` stores).
pub(crate) fn server_url_for_registry(registry: &str) -> &str {
    if registry == "docker.io" {
        DOCKER_HUB_SERVER_URL
    } else {
        registry
    }
}

/// The credentials a helper answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HelperCredentials {
    /// `Username` (`""` when absent).
    pub username: String,
    /// `Secret` (`""` when absent).
    pub secret: Secret,
}

impl HelperCredentials {
    /// True when the secret is an identity token (username [`IDENTITY_TOKEN_USERNAME`]).
    pub(crate) fn is_identity_token(&self) -> bool {
        self.username == IDENTITY_TOKEN_USERNAME
    }

    /// True when neither a username nor a secret was given.
    pub(crate) fn is_empty(&self) -> bool {
        self.username.is_empty() && self.secret.is_empty()
    }
}

/// Why a successful helper's stdout is not a credentials answer. The texts never quote the
/// output: it may hold a secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum AnswerError {
    /// Nothing (or only white space) was printed.
    #[error("printed nothing")]
    Empty,
    /// Not JSON.
    #[error("printed {0} bytes that are not JSON")]
    NotJson(usize),
    /// JSON, but not an object.
    #[error("printed JSON that is not an object")]
    NotAnObject,
    /// `Username` or `Secret` is not a string.
    #[error("printed a JSON object whose {0:?} is not a string")]
    FieldNotString(&'static str),
}

/// Decodes a `get` answer as the Go client does (`encoding/json` into
/// `credentials.Credentials`): the first JSON value must be an object; field names match
/// case-insensitively (an exact match wins); unknown fields, `null`s and trailing data are
/// ignored.
pub(crate) fn parse_get_answer(stdout: &[u8]) -> Result<HelperCredentials, AnswerError> {
    if stdout.iter().all(u8::is_ascii_whitespace) {
        return Err(AnswerError::Empty);
    }
    let value = serde_json::Deserializer::from_slice(stdout)
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok)
        .ok_or(AnswerError::NotJson(stdout.len()))?;
    let Value::Object(object) = value else {
        return Err(AnswerError::NotAnObject);
    };
    let field = |name: &'static str| -> Result<String, AnswerError> {
        let found = object.get(name).or_else(|| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        });
        match found {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(AnswerError::FieldNotString(name)),
        }
    };
    Ok(HelperCredentials {
        username: field("Username")?,
        secret: Secret::new(field("Secret")?),
    })
}

/// True when a failed helper's stdout is the "no credentials" message.
pub(crate) fn is_not_found_message(stdout: &[u8]) -> bool {
    String::from_utf8_lossy(stdout).trim() == CREDENTIALS_NOT_FOUND
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_answers_like_the_go_client() {
        let c = parse_get_answer(
            br#"{"ServerURL":"r.io","Username":"robot","Secret":"pw"}
"#,
        )
        .unwrap();
        assert_eq!(c.username, "robot");
        assert_eq!(c.secret.expose(), "pw");
        assert!(!c.is_identity_token());

        let c = parse_get_answer(br#"{"username":"u","SECRET":"s","Extra":1} trailing"#).unwrap();
        assert_eq!((c.username.as_str(), c.secret.expose()), ("u", "s"));
        let c = parse_get_answer(br#"{"username":"lower","Username":"exact"}"#).unwrap();
        assert_eq!(c.username, "exact");
        let c = parse_get_answer(br#"{"Username":null}"#).unwrap();
        assert!(c.is_empty());
        let c = parse_get_answer(br#"{"Username":"<token>","Secret":"refresh"}"#).unwrap();
        assert!(c.is_identity_token());
    }

    #[test]
    fn garbage_is_described_without_quoting_it() {
        assert_eq!(parse_get_answer(b" \n"), Err(AnswerError::Empty));
        assert_eq!(parse_get_answer(b"hunter2"), Err(AnswerError::NotJson(7)));
        assert_eq!(parse_get_answer(b"[1]"), Err(AnswerError::NotAnObject));
        assert_eq!(
            parse_get_answer(br#"{"Secret":42}"#),
            Err(AnswerError::FieldNotString("Secret"))
        );
        let e = parse_get_answer(b"user:hunter2").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn not_found_and_server_urls() {
        assert!(is_not_found_message(
            b"credentials not found in native keychain\n"
        ));
        assert!(!is_not_found_message(b"credentials not found"));
        assert_eq!(server_url_for_registry("docker.io"), DOCKER_HUB_SERVER_URL);
        assert_eq!(server_url_for_registry("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    proptest! {
        #[test]
        fn any_output_decodes_or_fails_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_get_answer(&bytes);
            let _ = is_not_found_message(&bytes);
        }

        #[test]
        fn json_shaped_output_never_panics(text in r#"\{("[A-Za-z]{0,9}":("[^"]{0,8}"|null|[0-9]{1,3}|\{\}),?){0,4}\}"#) {
            let _ = parse_get_answer(text.as_bytes());
        }
    }
}
