//! The registry's `Www-Authenticate` challenge on `GET /v2/`.
//!
//! Upstream's hand-written parser lets an unquoted value swallow the rest of the header and
//! panics on a trailing unquoted value or a header without a space. This one follows RFC 7235
//! `auth-param` (token `=` token / quoted-string, with `\` escapes, optional whitespace around
//! `=` and `,`), treats an unquoted value as ending at `,` or whitespace, and never panics.

use std::collections::BTreeMap;

/// The realm and service of a valid ACR `Bearer` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`: the token endpoint URL (its scheme, host and port locate `/oauth2/exchange`).
    pub realm: String,
    /// `service`: the registry's service name (sent with the exchange).
    pub service: String,
}

/// Why a challenge was rejected. Messages are upstream's where upstream has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// The status was not 401.
    #[error("registry did not issue a valid AAD challenge, status: {0}")]
    Status(u16),
    /// No `Www-Authenticate` header.
    #[error("challenge response does not contain header 'Www-Authenticate'")]
    MissingHeader,
    /// More than one `Www-Authenticate` header.
    #[error("registry did not issue a valid AAD challenge, authenticate header [{}]", .0.join(", "))]
    MultipleHeaders(Vec<String>),
    /// The scheme was not `Bearer`.
    #[error("Www-Authenticate: expected realm: Bearer, actual: {0}")]
    Scheme(String),
    /// The parameters did not parse.
    #[error(transparent)]
    Params(#[from] AuthParamsError),
    /// `realm` or `service` missing or empty.
    #[error("Www-Authenticate: missing header \"{0}\"")]
    MissingParam(&'static str),
}

/// A malformed `auth-param` list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed header value: {0}")]
pub struct AuthParamsError(pub String);

/// Checks a `/v2/` response (status and every `Www-Authenticate` value) and extracts the challenge.
pub fn parse_challenge(
    status: u16,
    www_authenticate: &[String],
) -> Result<Challenge, ChallengeError> {
    if status != 401 {
        return Err(ChallengeError::Status(status));
    }
    let header = match www_authenticate {
        [] => return Err(ChallengeError::MissingHeader),
        [one] => one,
        many => return Err(ChallengeError::MultipleHeaders(many.to_vec())),
    };
    let header = header.trim_start_matches([' ', '\t']);
    let (scheme, params) = match header.find([' ', '\t']) {
        Some(i) => (&header[..i], &header[i..]),
        None => (header, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ChallengeError::Scheme(scheme.to_ascii_lowercase()));
    }
    let params = if params.trim().is_empty() {
        BTreeMap::new()
    } else {
        parse_auth_params(params)?
    };
    let get = |name: &'static str| match params.get(name) {
        Some(v) if !v.is_empty() => Ok(v.clone()),
        _ => Err(ChallengeError::MissingParam(name)),
    };
    Ok(Challenge {
        realm: get("realm")?,
        service: get("service")?,
    })
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn skip_ows(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
        i += 1;
    }
    i
}

/// Parses `name=value, name="quoted value"` into lower-cased names → values.
///
/// Errors (`malformed header value: <input>`) on an empty list, a missing `=`, a name that is
/// not a token, an unterminated quoted string, an empty unquoted value, a missing `,` between
/// parameters, a trailing `,`, or a repeated name.
pub fn parse_auth_params(input: &str) -> Result<BTreeMap<String, String>, AuthParamsError> {
    let err = || AuthParamsError(input.to_owned());
    let s = input.as_bytes();
    let mut params = BTreeMap::new();
    let mut i = skip_ows(s, 0);
    if i == s.len() {
        return Err(err());
    }
    loop {
        let start = i;
        while i < s.len() && is_tchar(s[i]) {
            i += 1;
        }
        if i == start {
            return Err(err());
        }
        let name = input[start..i].to_ascii_lowercase();
        i = skip_ows(s, i);
        if s.get(i) != Some(&b'=') {
            return Err(err());
        }
        i = skip_ows(s, i + 1);
        let value = if s.get(i) == Some(&b'"') {
            i += 1;
            let mut v = Vec::new();
            loop {
                match s.get(i) {
                    None => return Err(err()),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => match s.get(i + 1) {
                        Some(&c) => {
                            v.push(c);
                            i += 2;
                        }
                        None => return Err(err()),
                    },
                    Some(&c) => {
                        v.push(c);
                        i += 1;
                    }
                }
            }
            String::from_utf8(v).map_err(|_| err())?
        } else {
            let vstart = i;
            while i < s.len() && !matches!(s[i], b',' | b' ' | b'\t' | b'"') {
                i += 1;
            }
            if i == vstart {
                return Err(err());
            }
            input[vstart..i].to_owned()
        };
        if params.insert(name, value).is_some() {
            return Err(err());
        }
        i = skip_ows(s, i);
        if i == s.len() {
            return Ok(params);
        }
        if s[i] != b',' {
            return Err(err());
        }
        i = skip_ows(s, i + 1);
        if i == s.len() {
            return Err(err());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_challenge() {
        let c = parse_challenge(
            401,
            &[
                "Bearer realm=\"https://r.azurecr.io/oauth2/token\",service=\"r.azurecr.io\""
                    .into(),
            ],
        )
        .unwrap();
        assert_eq!(c.realm, "https://r.azurecr.io/oauth2/token");
        assert_eq!(c.service, "r.azurecr.io");
    }

    #[test]
    fn header_without_space_is_an_error_not_a_panic() {
        assert_eq!(
            parse_challenge(401, &["Bearer".into()]),
            Err(ChallengeError::MissingParam("realm"))
        );
        assert_eq!(
            parse_challenge(401, &["".into()]),
            Err(ChallengeError::Scheme(String::new()))
        );
    }

    #[test]
    fn escapes_and_unquoted_values() {
        let p = parse_auth_params(r#"a="b\"c", realm=https://x/t,service="x""#).unwrap();
        assert_eq!(p["a"], "b\"c");
        assert_eq!(p["realm"], "https://x/t");
        assert_eq!(p["service"], "x");
        assert!(parse_auth_params("a=\"b\",a=\"c\"").is_err());
        assert!(parse_auth_params("a=").is_err());
        assert!(parse_auth_params("a=\"open").is_err());
    }
}
