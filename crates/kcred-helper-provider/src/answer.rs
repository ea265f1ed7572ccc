//! From a helper's answer to the kubelet's `CredentialProviderResponse`.
//!
//! - credentials → `auth[<registry>] = {username, password: Secret}`, `cacheKeyType: Registry`;
//! - not found, or an empty username and secret → an empty `auth` (the kubelet then pulls
//!   with other credentials or anonymously), cached like any answer;
//! - an identity token (username `<token>`) → the kubelet hands the container runtime only a
//!   username and a password, so the token is sent as the password of the configured
//!   `--identity-token-username`, or, without it, the request fails with an error that says
//!   so.

use kcred_api::GoDuration;
use kcred_plugin::{CacheKeyType, PluginResponse};
use thiserror::Error;

use crate::helper::HelperAnswer;
use crate::protocol::IDENTITY_TOKEN_USERNAME;

/// An answer the kubelet cannot use.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum AnswerMappingError {
    /// The helper returned an identity token and no username to send it with was configured.
    #[error("{program} returned an identity token (username {IDENTITY_TOKEN_USERNAME:?}) for {registry}: the kubelet can pass only a username and a password to the container runtime, not an identity token; add --identity-token-username USER to the provider's args to send the token as USER's password (for Azure Container Registry: 00000000-0000-0000-0000-000000000000)")]
    IdentityTokenUnsupported {
        /// `docker-credential-NAME`.
        program: String,
        /// The registry asked about.
        registry: String,
    },
}

/// How answers are built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MappingOptions {
    /// `cacheDuration` of every answer.
    pub cache_duration: GoDuration,
    /// Username to send identity tokens with.
    pub identity_token_username: Option<String>,
}

/// Builds the response for `registry` from `answer` of `program`.
pub(crate) fn to_response(
    program: &str,
    registry: &str,
    answer: HelperAnswer,
    options: &MappingOptions,
) -> Result<PluginResponse, AnswerMappingError> {
    let empty =
        PluginResponse::empty(CacheKeyType::Registry).with_cache_duration(options.cache_duration);
    let credentials = match answer {
        HelperAnswer::NotFound => return Ok(empty),
        HelperAnswer::Found(c) if c.is_empty() => return Ok(empty),
        HelperAnswer::Found(c) => c,
    };
    let username = if credentials.is_identity_token() {
        options.identity_token_username.clone().ok_or_else(|| {
            AnswerMappingError::IdentityTokenUnsupported {
                program: program.to_owned(),
                registry: registry.to_owned(),
            }
        })?
    } else {
        credentials.username
    };
    Ok(empty.with_auth(registry, username, credentials.secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::HelperCredentials;
    use kcred_api::Secret;

    fn options(token_user: Option<&str>) -> MappingOptions {
        MappingOptions {
            cache_duration: GoDuration(60_000_000_000),
            identity_token_username: token_user.map(str::to_owned),
        }
    }

    fn found(user: &str, secret: &str) -> HelperAnswer {
        HelperAnswer::Found(HelperCredentials {
            username: user.to_owned(),
            secret: Secret::new(secret),
        })
    }

    #[test]
    fn credentials_go_under_the_registry() {
        let r = to_response("h", "r.io:5000", found("robot", "pw"), &options(None)).unwrap();
        assert_eq!(r.cache_key_type(), CacheKeyType::Registry);
        assert_eq!(r.cache_duration(), Some(GoDuration(60_000_000_000)));
        assert_eq!(r.auth().len(), 1);
        assert_eq!(r.auth()["r.io:5000"].username, "robot");
        assert_eq!(r.auth()["r.io:5000"].password.expose(), "pw");
    }

    #[test]
    fn nothing_found_is_an_empty_cached_answer() {
        for answer in [HelperAnswer::NotFound, found("", "")] {
            let r = to_response("h", "r.io", answer, &options(None)).unwrap();
            assert!(r.auth().is_empty());
            assert_eq!(r.cache_key_type(), CacheKeyType::Registry);
            assert_eq!(r.cache_duration(), Some(GoDuration(60_000_000_000)));
        }
    }

    #[test]
    fn identity_tokens_need_a_username() {
        let e = to_response(
            "docker-credential-x",
            "r.io",
            found("<token>", "refresh-123"),
            &options(None),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("docker-credential-x returned an identity token (username \"<token>\") for r.io: the kubelet can pass only a username and a password"), "{text}");
        assert!(!text.contains("refresh-123"));
        let r = to_response(
            "h",
            "r.io",
            found("<token>", "refresh-123"),
            &options(Some("00000000-0000-0000-0000-000000000000")),
        )
        .unwrap();
        assert_eq!(
            r.auth()["r.io"].username,
            "00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(r.auth()["r.io"].password.expose(), "refresh-123");
    }
}
