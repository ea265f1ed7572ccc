//! Service-account signing keys as kube-apiserver reads and publishes them: PEM public keys
//! (`--service-account-key-file`), the key ID it derives, and the JWK it serves.
//!
//! Key ID: kube-apiserver's `keyIDFromPublicKey` (kubernetes/kubernetes
//! `pkg/serviceaccount/jwt.go`) is the unpadded base64url SHA-256 of
//! `x509.MarshalPKIXPublicKey(key)`, the DER `SubjectPublicKeyInfo`. kcred re-encodes every
//! parsed key the way Go does (RSA: `rsaEncryption` with `NULL` parameters over PKCS#1; EC:
//! `id-ecPublicKey` with the named curve over the uncompressed point), so a PKCS#1 file and
//! the SPKI file of the same key get the same ID, as they do in kube-apiserver.
//!
//! Private keys are refused, never parsed: the file given for the public documents must be
//! the public half (`openssl pkey -in sa.key -pubout -out sa.pub`), and nothing of a private
//! key's content ever reaches an error message.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::der::{self, DerError, Reader};

const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];

/// A NIST curve kube-apiserver signs with (`ES256`, `ES384`, `ES512`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// P-256 (`ES256`).
    P256,
    /// P-384 (`ES384`).
    P384,
    /// P-521 (`ES512`).
    P521,
}

impl Curve {
    /// The JWK `crv` name.
    pub fn jwk_name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Bytes of one coordinate.
    pub fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// The JWS algorithm kube-apiserver uses with this curve.
    pub fn algorithm(self) -> &'static str {
        match self {
            Curve::P256 => "ES256",
            Curve::P384 => "ES384",
            Curve::P521 => "ES512",
        }
    }

    fn oid(self) -> &'static [u8] {
        match self {
            Curve::P256 => OID_P256,
            Curve::P384 => OID_P384,
            Curve::P521 => OID_P521,
        }
    }

    /// The curve of a JWK `crv`.
    pub fn from_jwk_name(name: &str) -> Option<Curve> {
        [Curve::P256, Curve::P384, Curve::P521]
            .into_iter()
            .find(|c| c.jwk_name() == name)
    }
}

/// A public key (RSA or EC) as kube-apiserver holds it.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// RSA: modulus and public exponent, big-endian, no leading zeros.
    Rsa {
        /// Modulus `n`.
        n: Vec<u8>,
        /// Exponent `e`.
        e: Vec<u8>,
    },
    /// EC: curve and affine coordinates, each `coordinate_len` bytes.
    Ec {
        /// The curve.
        curve: Curve,
        /// `x`.
        x: Vec<u8>,
        /// `y`.
        y: Vec<u8>,
    },
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.describe(), self.key_id())
    }
}

/// Why a key file was refused. Messages name the file; none quotes key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file holds a private key.
    #[error("{source_name}: holds a private key (PEM \"{label}\"); give the public key instead (openssl pkey -in KEY -pubout -out sa.pub); kcred never reads private keys")]
    PrivateKey {
        /// The file.
        source_name: String,
        /// The PEM label.
        label: String,
    },
    /// No PEM public key at all.
    #[error("{source_name}: not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\" or \"-----BEGIN RSA PUBLIC KEY-----\"{found})")]
    NotPublicKey {
        /// The file.
        source_name: String,
        /// `, found "LABEL"` when some other PEM block was there.
        found: String,
    },
    /// A PEM block whose body is not base64 or whose DER is malformed.
    #[error("{source_name}: PEM block {index} (\"{label}\") is not a valid public key: {reason}")]
    Malformed {
        /// The file.
        source_name: String,
        /// 1-based block number.
        index: usize,
        /// The PEM label.
        label: String,
        /// Why.
        reason: String,
    },
    /// An algorithm kube-apiserver cannot sign with.
    #[error("{source_name}: PEM block {index}: {what}; kube-apiserver signs with RSA or EC P-256/P-384/P-521 keys only")]
    Unsupported {
        /// The file.
        source_name: String,
        /// 1-based block number.
        index: usize,
        /// What was found.
        what: String,
    },
}

fn malformed(source_name: &str, index: usize, label: &str, reason: impl fmt::Display) -> KeyError {
    KeyError::Malformed {
        source_name: source_name.to_owned(),
        index,
        label: label.to_owned(),
        reason: reason.to_string(),
    }
}

/// One PEM block: label and body (base64 text, not yet decoded).
struct PemBlock<'a> {
    label: &'a str,
    body: String,
}

fn pem_blocks(text: &str) -> Vec<PemBlock<'_>> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        for l in lines.by_ref() {
            let l = l.trim();
            if l == end {
                break;
            }
            // RFC 1421 headers (Proc-Type, DEK-Info) in encrypted legacy keys.
            if l.contains(':') {
                continue;
            }
            body.push_str(l);
        }
        out.push(PemBlock { label, body });
    }
    out
}

/// Parses every public key of a PEM file, as kube-apiserver's `--service-account-key-file`
/// does (`keyutil.ParsePublicKeysPEM`: `PUBLIC KEY` and `RSA PUBLIC KEY` blocks; other
/// non-key blocks are skipped). A private key anywhere in the file is refused.
///
/// `source_name` names the input in errors (a path, or `-` for stdin).
pub fn parse_public_keys_pem(source_name: &str, pem: &[u8]) -> Result<Vec<PublicKey>, KeyError> {
    let text = String::from_utf8_lossy(pem);
    let blocks = pem_blocks(&text);
    if let Some(b) = blocks.iter().find(|b| b.label.contains("PRIVATE KEY")) {
        return Err(KeyError::PrivateKey {
            source_name: source_name.to_owned(),
            label: b.label.to_owned(),
        });
    }
    let mut keys = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let index = i + 1;
        let parse: fn(&[u8]) -> Result<Parsed, DerError> = match b.label {
            "PUBLIC KEY" => parse_spki,
            "RSA PUBLIC KEY" => parse_pkcs1,
            _ => continue,
        };
        let der = STANDARD
            .decode(b.body.as_bytes())
            .map_err(|e| malformed(source_name, index, b.label, format!("base64: {e}")))?;
        match parse(&der).map_err(|e| malformed(source_name, index, b.label, e))? {
            Parsed::Key(k) => keys.push(k),
            Parsed::Unsupported(what) => {
                return Err(KeyError::Unsupported {
                    source_name: source_name.to_owned(),
                    index,
                    what,
                })
            }
        }
    }
    if keys.is_empty() {
        let found = blocks
            .first()
            .map(|b| format!(", found \"{}\"", b.label))
            .unwrap_or_default();
        return Err(KeyError::NotPublicKey {
            source_name: source_name.to_owned(),
            found,
        });
    }
    Ok(keys)
}

enum Parsed {
    Key(PublicKey),
    Unsupported(String),
}

fn parse_pkcs1(der: &[u8]) -> Result<Parsed, DerError> {
    let mut outer = Reader::new(der);
    let mut seq = Reader::new(outer.read(der::SEQUENCE)?);
    if !outer.is_empty() {
        return Err(DerError("trailing data"));
    }
    let n = seq.read_unsigned()?.to_vec();
    let e = seq.read_unsigned()?.to_vec();
    if !seq.is_empty() {
        return Err(DerError("trailing data in RSAPublicKey"));
    }
    if n.is_empty() || e.is_empty() {
        return Err(DerError("zero RSA modulus or exponent"));
    }
    Ok(Parsed::Key(PublicKey::Rsa { n, e }))
}

fn parse_spki(der: &[u8]) -> Result<Parsed, DerError> {
    let mut outer = Reader::new(der);
    let mut spki = Reader::new(outer.read(der::SEQUENCE)?);
    if !outer.is_empty() {
        return Err(DerError("trailing data"));
    }
    let mut alg = Reader::new(spki.read(der::SEQUENCE)?);
    let oid = alg.read(der::OID)?;
    let bits = spki.read_bit_string()?;
    if oid == OID_RSA_ENCRYPTION {
        if alg.peek_tag() == Some(der::NULL) {
            alg.read(der::NULL)?;
        }
        return parse_pkcs1(bits);
    }
    if oid != OID_EC_PUBLIC_KEY {
        return Ok(Parsed::Unsupported(format!(
            "public key algorithm OID {} (Ed25519, DSA and others are not usable)",
            oid_text(oid)
        )));
    }
    let curve_oid = alg.read(der::OID)?;
    let Some(curve) = [Curve::P256, Curve::P384, Curve::P521]
        .into_iter()
        .find(|c| c.oid() == curve_oid)
    else {
        return Ok(Parsed::Unsupported(format!(
            "EC curve OID {}",
            oid_text(curve_oid)
        )));
    };
    let len = curve.coordinate_len();
    match bits {
        [4, rest @ ..] if rest.len() == 2 * len => Ok(Parsed::Key(PublicKey::Ec {
            curve,
            x: rest[..len].to_vec(),
            y: rest[len..].to_vec(),
        })),
        [2 | 3, ..] => Ok(Parsed::Unsupported(
            "a compressed EC point (Go's x509 accepts uncompressed points only)".to_owned(),
        )),
        _ => Err(DerError("EC point of the wrong size")),
    }
}

/// Dotted text of a DER OID body.
fn oid_text(oid: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut acc: u64 = 0;
    for (i, &b) in oid.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() && i < oid.len() {
                let first = acc.min(80) / 40;
                parts.push(first.min(2));
                parts.push(acc - 40 * first.min(2));
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

impl PublicKey {
    /// The DER `SubjectPublicKeyInfo`, byte for byte what Go's `x509.MarshalPKIXPublicKey`
    /// writes.
    pub fn spki_der(&self) -> Vec<u8> {
        let (alg, bits) = match self {
            PublicKey::Rsa { .. } => {
                let mut alg = der::element(der::OID, OID_RSA_ENCRYPTION);
                alg.extend(der::element(der::NULL, &[]));
                (alg, self.pkcs1_der())
            }
            PublicKey::Ec { curve, x, y } => {
                let mut alg = der::element(der::OID, OID_EC_PUBLIC_KEY);
                alg.extend(der::element(der::OID, curve.oid()));
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(4);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                (alg, point)
            }
        };
        let mut bit_string = vec![0u8];
        bit_string.extend(bits);
        let mut body = der::element(der::SEQUENCE, &alg);
        body.extend(der::element(der::BIT_STRING, &bit_string));
        der::element(der::SEQUENCE, &body)
    }

    /// RSA only: the PKCS#1 `RSAPublicKey` DER (empty for EC keys).
    pub fn pkcs1_der(&self) -> Vec<u8> {
        match self {
            PublicKey::Rsa { n, e } => {
                let mut body = der::unsigned_integer(n);
                body.extend(der::unsigned_integer(e));
                der::element(der::SEQUENCE, &body)
            }
            PublicKey::Ec { .. } => Vec::new(),
        }
    }

    /// kube-apiserver's key ID: unpadded base64url of SHA-256 over [`PublicKey::spki_der`].
    pub fn key_id(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.spki_der());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }

    /// The JWS algorithm kube-apiserver signs with for this key (`RS256` for every RSA key).
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::Rsa { .. } => "RS256",
            PublicKey::Ec { curve, .. } => curve.algorithm(),
        }
    }

    /// RSA modulus size in bits (0 for EC keys).
    pub fn rsa_bits(&self) -> usize {
        match self {
            PublicKey::Rsa { n, .. } => {
                n.len() * 8 - n.first().map_or(0, |b| b.leading_zeros() as usize)
            }
            PublicKey::Ec { .. } => 0,
        }
    }

    /// `RSA 2048-bit` / `EC P-256`.
    pub fn describe(&self) -> String {
        match self {
            PublicKey::Rsa { .. } => format!("RSA {}-bit", self.rsa_bits()),
            PublicKey::Ec { curve, .. } => format!("EC {}", curve.jwk_name()),
        }
    }

    /// The JWK kube-apiserver serves for this key, in go-jose's field order: `use`, `kty`,
    /// `kid`, `crv` (EC), `alg`, then `n`,`e` or `x`,`y`.
    pub fn jwk_json(&self) -> String {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        match self {
            PublicKey::Rsa { n, e } => format!(
                "{{\"use\":\"sig\",\"kty\":\"RSA\",\"kid\":\"{}\",\"alg\":\"RS256\",\"n\":\"{}\",\"e\":\"{}\"}}",
                self.key_id(),
                b64(n),
                b64(e)
            ),
            PublicKey::Ec { curve, x, y } => format!(
                "{{\"use\":\"sig\",\"kty\":\"EC\",\"kid\":\"{}\",\"crv\":\"{}\",\"alg\":\"{}\",\"x\":\"{}\",\"y\":\"{}\"}}",
                self.key_id(),
                curve.jwk_name(),
                curve.algorithm(),
                b64(x),
                b64(y)
            ),
        }
    }

    /// The key of a JWK object (`kty` RSA with `n`/`e`, or EC with `crv`/`x`/`y`); `None`
    /// when it is not a usable public key.
    pub fn from_jwk(jwk: &serde_json::Value) -> Result<PublicKey, String> {
        let field = |k: &str| -> Result<Vec<u8>, String> {
            let s = jwk
                .get(k)
                .and_then(|v| v.as_str())
                .ok_or_else(|| format!("no \"{k}\""))?;
            URL_SAFE_NO_PAD
                .decode(s.trim_end_matches('='))
                .map_err(|e| format!("\"{k}\" is not base64url: {e}"))
        };
        match jwk.get("kty").and_then(|v| v.as_str()) {
            Some("RSA") => {
                let strip = |v: Vec<u8>| {
                    let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
                    v[start..].to_vec()
                };
                let (n, e) = (strip(field("n")?), strip(field("e")?));
                if n.is_empty() || e.is_empty() {
                    return Err("zero RSA modulus or exponent".to_owned());
                }
                Ok(PublicKey::Rsa { n, e })
            }
            Some("EC") => {
                let crv = jwk.get("crv").and_then(|v| v.as_str()).unwrap_or("");
                let curve = Curve::from_jwk_name(crv)
                    .ok_or_else(|| format!("unsupported curve {crv:?}"))?;
                let (x, y) = (field("x")?, field("y")?);
                if x.len() != curve.coordinate_len() || y.len() != curve.coordinate_len() {
                    return Err(format!(
                        "{} coordinates must be {} bytes",
                        curve.jwk_name(),
                        curve.coordinate_len()
                    ));
                }
                Ok(PublicKey::Ec { curve, x, y })
            }
            Some(other) => Err(format!("unsupported kty {other:?}")),
            None => Err("no \"kty\"".to_owned()),
        }
    }

    /// The key as a PEM `PUBLIC KEY` block.
    pub fn to_pem(&self) -> String {
        let b64 = STANDARD.encode(self.spki_der());
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_text_is_dotted() {
        assert_eq!(oid_text(OID_P384), "1.3.132.0.34");
        assert_eq!(oid_text(OID_RSA_ENCRYPTION), "1.2.840.113549.1.1.1");
    }

    #[test]
    fn private_keys_are_refused_without_quoting_them() {
        let pem = b"-----BEGIN PRIVATE KEY-----\nTUlJQ1NFQ1JFVA==\n-----END PRIVATE KEY-----\n";
        let err = parse_public_keys_pem("sa.key", pem).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("sa.key: holds a private key"), "{msg}");
        assert!(!msg.contains("TUlJQ1NFQ1JFVA"), "{msg}");
    }

    #[test]
    fn non_keys_are_named() {
        let err = parse_public_keys_pem("x.pem", b"hello").unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.pem: not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\" or \"-----BEGIN RSA PUBLIC KEY-----\")"
        );
        let err = parse_public_keys_pem(
            "c.pem",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("found \"CERTIFICATE\""), "{err}");
        let err = parse_public_keys_pem(
            "b.pem",
            b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with(
                "b.pem: PEM block 1 (\"PUBLIC KEY\") is not a valid public key: base64"
            ),
            "{err}"
        );
    }
}
