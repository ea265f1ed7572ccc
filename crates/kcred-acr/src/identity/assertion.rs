//! A service principal's certificate as an AAD client assertion: an RS256 JWT signed with the
//! certificate's key, `x5t`/`x5t#S256` naming the certificate (upstream has no certificate
//! support on the ACR path at all).
//!
//! The file is PEM: the certificate and an unencrypted RSA key (PKCS#8 or PKCS#1). A PKCS#12
//! (`.pfx`) bundle is rejected with the `openssl` command that converts it.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use kcred_api::Secret;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why a certificate could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum CertificateError {
    /// The file could not be read.
    #[error("reading the client certificate: {0}")]
    Read(String),
    /// No PEM certificate (for example a PKCS#12 file).
    #[error("no PEM certificate found (a PKCS#12 .pfx file must be converted: openssl pkcs12 -in cert.pfx -nodes -out cert.pem)")]
    NoCertificate,
    /// No usable PEM key.
    #[error("no unencrypted RSA private key (PKCS#8 or PKCS#1 PEM) found next to the certificate")]
    NoKey,
    /// The key was rejected.
    #[error("unusable RSA private key: {0}")]
    BadKey(String),
    /// Signing failed.
    #[error("signing the client assertion failed")]
    Sign,
}

/// A loaded certificate and key.
pub(super) struct CertificateSigner {
    cert_der: Vec<u8>,
    key: RsaKeyPair,
}

impl std::fmt::Debug for CertificateSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateSigner")
            .field("key", &"<redacted>")
            .finish()
    }
}

impl CertificateSigner {
    /// Loads the first certificate and the first private key of a PEM file.
    pub(super) fn from_pem_file(path: &Path) -> Result<CertificateSigner, CertificateError> {
        let bytes = std::fs::read(path)
            .map_err(|e| CertificateError::Read(crate::azure_config::go_io_reason(&e)))?;
        Self::from_pem(&bytes)
    }

    /// Loads the first certificate and the first private key of PEM text.
    pub(super) fn from_pem(pem: &[u8]) -> Result<CertificateSigner, CertificateError> {
        let cert_der = CertificateDer::pem_slice_iter(pem)
            .flatten()
            .next()
            .map(|c| c.as_ref().to_vec());
        let key = match PrivateKeyDer::from_pem_slice(pem) {
            Ok(PrivateKeyDer::Pkcs8(k)) => Some(RsaKeyPair::from_pkcs8(k.secret_pkcs8_der())),
            Ok(PrivateKeyDer::Pkcs1(k)) => Some(RsaKeyPair::from_der(k.secret_pkcs1_der())),
            _ => None,
        }
        .transpose()
        .map_err(|e| CertificateError::BadKey(e.to_string()))?;
        Ok(CertificateSigner {
            cert_der: cert_der.ok_or(CertificateError::NoCertificate)?,
            key: key.ok_or(CertificateError::NoKey)?,
        })
    }

    /// `base64url(SHA-256(DER))`.
    pub(super) fn thumbprint_sha256(&self) -> String {
        URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, &self.cert_der))
    }

    /// The signed assertion for `client_id` at `token_url` (valid 10 minutes).
    pub(super) fn client_assertion(
        &self,
        client_id: &str,
        token_url: &str,
    ) -> Result<Secret, CertificateError> {
        let rng = SystemRandom::new();
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &self.cert_der);
        let header = serde_json::json!({
            "alg": "RS256",
            "typ": "JWT",
            "x5t": URL_SAFE_NO_PAD.encode(sha1),
            "x5t#S256": self.thumbprint_sha256(),
            "x5c": [STANDARD.encode(&self.cert_der)],
        });
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut jti = [0u8; 16];
        rng.fill(&mut jti).map_err(|_| CertificateError::Sign)?;
        let claims = serde_json::json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": URL_SAFE_NO_PAD.encode(jti),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &rng, signing_input.as_bytes(), &mut sig)
            .map_err(|_| CertificateError::Sign)?;
        Ok(Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(sig)
        )))
    }
}
