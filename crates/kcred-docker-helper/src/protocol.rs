//! The docker credential helper protocol (`docker-credential-helpers`), helper side.
//!
//! A client runs `docker-credential-<name> <action>`:
//! - `get`: the server URL on stdin; on success a JSON object
//!   `{"ServerURL": …, "Username": …, "Secret": …}` on stdout, exit 0. The username
//!   `<token>` means the secret is an identity (OAuth refresh) token.
//! - `list`: a JSON object mapping server URLs to usernames.
//! - `store` (credentials JSON on stdin) and `erase` (server URL on stdin).
//! - Any failure: the error message on **stdout**, exit 1. The exact message
//!   [`CREDENTIALS_NOT_FOUND`] tells clients "no credentials, go on anonymously"; any
//!   other message fails the client's operation.

use std::collections::BTreeMap;

use kcred_api::Secret;
use serde_json::{Map, Value};

/// The message clients recognise as "no credentials for this server".
pub const CREDENTIALS_NOT_FOUND: &str = "credentials not found in native keychain";

/// The answer to `get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperCredentials {
    /// The server URL as the client sent it.
    pub server_url: String,
    /// The registry username (`<token>` for an identity token).
    pub username: String,
    /// The password, token or identity token.
    pub secret: Secret,
}

impl HelperCredentials {
    /// The JSON line written to stdout, fields in the Go helpers' order (the secret leaves
    /// the process here, on purpose).
    pub fn to_json_line(&self) -> String {
        let quote = |s: &str| Value::String(s.to_owned()).to_string();
        format!(
            "{{\"ServerURL\":{},\"Username\":{},\"Secret\":{}}}\n",
            quote(&self.server_url),
            quote(&self.username),
            quote(self.secret.expose())
        )
    }
}

/// The JSON line answering `list`: server URL → username.
pub fn list_json_line(entries: &BTreeMap<String, String>) -> String {
    let object: Map<String, Value> = entries
        .iter()
        .map(|(url, user)| (url.clone(), Value::String(user.clone())))
        .collect();
    let mut line = Value::Object(object).to_string();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_answer_has_docker_field_names() {
        let creds = HelperCredentials {
            server_url: "https://index.docker.io/v1/".to_owned(),
            username: "robot".to_owned(),
            secret: Secret::new("pa\"ss"),
        };
        let line = creds.to_json_line();
        assert_eq!(
            line,
            "{\"ServerURL\":\"https://index.docker.io/v1/\",\"Username\":\"robot\",\"Secret\":\"pa\\\"ss\"}\n"
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["ServerURL"], "https://index.docker.io/v1/");
        assert_eq!(v["Username"], "robot");
        assert_eq!(v["Secret"], "pa\"ss");
        assert_eq!(v.as_object().unwrap().len(), 3);
        assert!(!format!("{creds:?}").contains("pa\"ss"));
    }

    #[test]
    fn list_answer_maps_urls_to_users() {
        let mut entries = BTreeMap::new();
        assert_eq!(list_json_line(&entries), "{}\n");
        entries.insert("r.io".to_owned(), "u".to_owned());
        entries.insert("https://index.docker.io/v1/".to_owned(), "h".to_owned());
        assert_eq!(
            list_json_line(&entries),
            "{\"https://index.docker.io/v1/\":\"h\",\"r.io\":\"u\"}\n"
        );
    }
}
