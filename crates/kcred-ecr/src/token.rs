//! ECR authorization tokens: base64 of `username:password`.

use base64::Engine;
use kcred_api::Secret;

/// Why an authorization token does not give a username and password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not standard, padded base64 (Go `base64.StdEncoding`); the message is Go's.
    #[error("illegal base64 data at input byte {0}")]
    Base64(usize),
    /// No `:` in the decoded token.
    #[error("error parsing username and password from authorization token")]
    NoSeparator,
}

/// Registry credentials decoded from a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryCredentials {
    /// The username (`AWS` for real ECR tokens).
    pub username: String,
    /// The password; may contain `:`.
    pub password: Secret,
}

/// Decodes a token as upstream does: `base64.StdEncoding.DecodeString` (which skips `\r`
/// and `\n`), then `strings.SplitN(s, ":", 2)`.
pub fn decode_authorization_token(token: &Secret) -> Result<RegistryCredentials, TokenError> {
    let cleaned: Vec<u8> = token
        .expose()
        .bytes()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&cleaned)
        .map_err(|e| TokenError::Base64(go_error_offset(&e, cleaned.len())))?;
    let text = String::from_utf8_lossy(&decoded);
    let (username, password) = text.split_once(':').ok_or(TokenError::NoSeparator)?;
    Ok(RegistryCredentials {
        username: username.to_owned(),
        password: Secret::new(password),
    })
}

/// The byte offset Go would report for a decoding error (approximately: Go counts in the
/// input including skipped newlines; the offset names the offending position).
fn go_error_offset(e: &base64::DecodeError, len: usize) -> usize {
    match e {
        base64::DecodeError::InvalidByte(offset, _)
        | base64::DecodeError::InvalidLastSymbol(offset, _) => *offset,
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => {
            // Go reports a truncated final quantum at the start of that quantum.
            len - len % 4
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_first_colon_only() {
        let c = decode_authorization_token(&Secret::new("dXNlcjpwYTpzcw==")).unwrap();
        assert_eq!(c.username, "user");
        assert_eq!(c.password.expose(), "pa:ss");
    }

    #[test]
    fn errors_like_upstream() {
        assert_eq!(
            decode_authorization_token(&Secret::new("Zm9v")),
            Err(TokenError::NoSeparator)
        );
        assert_eq!(
            decode_authorization_token(&Secret::new("Zm9v!A==")),
            Err(TokenError::Base64(4))
        );
        assert_eq!(
            decode_authorization_token(&Secret::new("dXNlcjpwYXNz\n"))
                .unwrap()
                .username,
            "user"
        );
        assert!(matches!(
            decode_authorization_token(&Secret::new("dXNlcjpwYXN")),
            Err(TokenError::Base64(_))
        ));
    }
}
