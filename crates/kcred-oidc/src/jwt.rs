//! Compact JWS tokens (RFC 7515/7519): parsing and signature verification against a JWK.
//!
//! A [`Jwt`] never shows its signature: `Debug` prints the header and claims only, and no
//! error quotes the token.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};

use crate::key::{Curve, PublicKey};

/// Why a token does not parse. `input` names where it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input}: not a JWT: {reason}")]
pub struct JwtParseError {
    /// The token's source (a file name, `-`).
    pub input: String,
    /// Why (never quotes the token).
    pub reason: String,
}

/// A parsed compact JWS.
#[derive(Clone)]
pub struct Jwt {
    /// The protected header.
    pub header: serde_json::Value,
    /// The claims.
    pub claims: serde_json::Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwt")
            .field("header", &self.header)
            .field("claims", &self.claims)
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Largest token accepted (kube-apiserver tokens are ~1 KiB).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

impl Jwt {
    /// Parses `token` (surrounding whitespace ignored). `input` names it in errors.
    pub fn parse(input: &str, token: &str) -> Result<Jwt, JwtParseError> {
        let err = |reason: String| JwtParseError {
            input: input.to_owned(),
            reason,
        };
        let token = token.trim();
        if token.is_empty() {
            return Err(err("empty".to_owned()));
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(err(format!("longer than {MAX_TOKEN_BYTES} bytes")));
        }
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err(err(format!(
                "{} dot-separated parts, a compact JWS has 3 (header.claims.signature)",
                parts.len()
            )));
        }
        let decode = |what: &str, s: &str| {
            URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|e| err(format!("the {what} is not unpadded base64url: {e}")))
        };
        let json = |what: &str, b: Vec<u8>| -> Result<serde_json::Value, JwtParseError> {
            let v: serde_json::Value = serde_json::from_slice(&b)
                .map_err(|e| err(format!("the {what} is not JSON: {e}")))?;
            if !v.is_object() {
                return Err(err(format!("the {what} is not a JSON object")));
            }
            Ok(v)
        };
        let header = json("header", decode("header", parts[0])?)?;
        let claims = json("claims part", decode("claims part", parts[1])?)?;
        let signature = decode("signature", parts[2])?;
        Ok(Jwt {
            header,
            claims,
            signing_input: format!("{}.{}", parts[0], parts[1]),
            signature,
        })
    }

    /// The header's `alg`.
    pub fn alg(&self) -> &str {
        self.header
            .get("alg")
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }

    /// The header's `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(|v| v.as_str())
    }

    /// A string claim.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(|v| v.as_str())
    }

    /// A numeric-date claim (seconds; fractions truncated).
    pub fn claim_time(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }

    /// `aud` as a list (a string is a one-element list).
    pub fn audiences(&self) -> Vec<String> {
        match self.claims.get("aud") {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Verifies the signature with `key` under the header's `alg`.
    pub fn verify_signature(&self, key: &PublicKey) -> Result<(), SignatureError> {
        verify(
            self.alg(),
            key,
            self.signing_input.as_bytes(),
            &self.signature,
        )
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// `alg` does not fit the key (e.g. `RS256` with an EC key) or is unknown/`none`.
    #[error("alg {alg:?} cannot be used with {key}")]
    AlgorithmMismatch {
        /// The token's alg.
        alg: String,
        /// The key (`RSA 2048-bit`).
        key: String,
    },
    /// kcred cannot check this algorithm (ES512: no P-521 verifier in ring).
    #[error("kcred cannot verify {alg} signatures (no P-521 support in its crypto library); the cloud may still accept it")]
    Unverifiable {
        /// The alg.
        alg: String,
    },
    /// Checked and wrong.
    #[error("the signature does not verify with key {kid}")]
    Invalid {
        /// The key's ID.
        kid: String,
    },
}

/// Verifies a JWS signature over `input`.
pub fn verify(alg: &str, key: &PublicKey, input: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
    let mismatch = || SignatureError::AlgorithmMismatch {
        alg: alg.to_owned(),
        key: key.describe(),
    };
    let invalid = || SignatureError::Invalid { kid: key.key_id() };
    match key {
        PublicKey::Rsa { n, e } => {
            let params: &signature::RsaParameters = match alg {
                "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
                "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
                _ => return Err(mismatch()),
            };
            RsaPublicKeyComponents { n, e }
                .verify(params, input, sig)
                .map_err(|_| invalid())
        }
        PublicKey::Ec { curve, x, y } => {
            let alg_ok = alg == curve.algorithm();
            if !alg_ok {
                return Err(mismatch());
            }
            let verifier: &'static dyn signature::VerificationAlgorithm = match curve {
                Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
                Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
                Curve::P521 => {
                    return Err(SignatureError::Unverifiable {
                        alg: alg.to_owned(),
                    })
                }
            };
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(4);
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            UnparsedPublicKey::new(verifier, point)
                .verify(input, sig)
                .map_err(|_| invalid())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_input_and_never_the_token() {
        let e = Jwt::parse("tok.txt", "abc.def").unwrap_err();
        assert_eq!(
            e.to_string(),
            "tok.txt: not a JWT: 2 dot-separated parts, a compact JWS has 3 (header.claims.signature)"
        );
        let e = Jwt::parse("t", "eyJhbGciOiJSUzI1NiJ9.!!!.c2ln").unwrap_err();
        assert!(
            e.to_string()
                .contains("claims part is not unpadded base64url"),
            "{e}"
        );
        assert!(!e.to_string().contains("c2ln"));
        let e = Jwt::parse("t", "  ").unwrap_err();
        assert_eq!(e.to_string(), "t: not a JWT: empty");
        let e = Jwt::parse("t", "WzFd.e30.c2ln").unwrap_err();
        assert!(e.to_string().contains("header is not a JSON object"), "{e}");
    }

    #[test]
    fn debug_redacts_the_signature() {
        let t = Jwt::parse("t", "eyJhbGciOiJSUzI1NiJ9.e30.c2VjcmV0c2ln").unwrap();
        let d = format!("{t:?}");
        assert!(d.contains("<redacted>") && !d.contains("secretsig"), "{d}");
        assert_eq!(t.alg(), "RS256");
    }
}
