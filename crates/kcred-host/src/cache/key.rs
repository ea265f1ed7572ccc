//! Byte-exact cache and singleflight keys (kubernetes/kubernetes
//! `pkg/credentialprovider/plugin/plugin.go`): `generateCacheKey`,
//! `generateServiceAccountCacheKey`, `generateSingleFlightKey`.
//!
//! `lp(s)` is a 2-byte big-endian length followed by the bytes (cryptobyte
//! `AddUint16LengthPrefixed`); counts are 4-byte big-endian.

use std::collections::BTreeMap;
use std::fmt;

use kcred_api::gostr::strconv_quote_bytes;

/// The base key of `Global` entries (`"global"` before 1.34).
pub const GLOBAL_CACHE_KEY: &str = "<global>";

/// A length-prefixed field was longer than 65535 bytes, so no key can be built
/// (the kubelet then returns an empty config).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error generating cache key: {field} is {len} bytes long, more than the 65535 a length prefix can hold")]
pub struct KeyTooLong {
    /// Which field overflowed.
    pub field: &'static str,
    /// Its length in bytes.
    pub len: usize,
}

/// Builds keys out of length-prefixed fields.
#[derive(Debug, Default)]
struct KeyBuilder(Vec<u8>);

impl KeyBuilder {
    fn lp(&mut self, field: &'static str, bytes: &[u8]) -> Result<&mut Self, KeyTooLong> {
        let len = u16::try_from(bytes.len()).map_err(|_| KeyTooLong {
            field,
            len: bytes.len(),
        })?;
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        Ok(self)
    }

    fn count(&mut self, n: usize) -> &mut Self {
        // A map with more than u32::MAX entries cannot exist in memory next to its key.
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    fn annotations(
        &mut self,
        annotations: &BTreeMap<String, String>,
    ) -> Result<&mut Self, KeyTooLong> {
        self.count(annotations.len());
        // BTreeMap iterates keys in byte order, as Go's sort.Strings.
        for (k, v) in annotations {
            self.lp("annotation key", k.as_bytes())?;
            self.lp("annotation value", v.as_bytes())?;
        }
        Ok(self)
    }
}

/// A cache entry's key: `lp(base) ‖ lp(serviceAccountCacheKey)`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey(Vec<u8>);

impl CacheKey {
    /// `generateCacheKey(base, saKey)`; `sa_key` is empty outside SA mode.
    pub fn new(base: &str, sa_key: &ServiceAccountCacheKey) -> Result<CacheKey, KeyTooLong> {
        let mut b = KeyBuilder::default();
        b.lp("cache key base", base.as_bytes())?;
        b.lp("service account cache key", &sa_key.0)?;
        Ok(CacheKey(b.0))
    }

    /// Wraps raw key bytes (as stored by the kubelet's tests).
    pub fn from_bytes(bytes: Vec<u8>) -> CacheKey {
        CacheKey(bytes)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The base (image, registry or `<global>`) the key starts with, if well-formed.
    pub fn base(&self) -> Option<&str> {
        let len = usize::from(u16::from_be_bytes([*self.0.first()?, *self.0.get(1)?]));
        std::str::from_utf8(self.0.get(2..2 + len)?).ok()
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({})", strconv_quote_bytes(&self.0))
    }
}

/// `generateServiceAccountCacheKey`: `lp(ns) ‖ lp(saName) ‖ lp(saUID) ‖ u32(n) ‖ Σ lp(k) ‖ lp(v)`,
/// plus `lp("token") ‖ lp(tokenHash)` when the cache type is `Token`. Empty outside SA mode.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ServiceAccountCacheKey(Vec<u8>);

/// The parts of a service-account cache key.
#[derive(Debug, Clone, Copy)]
pub struct ServiceAccountKeyParts<'a> {
    /// The pod's namespace.
    pub namespace: &'a str,
    /// The service account's name.
    pub name: &'a str,
    /// The service account's UID.
    pub uid: &'a str,
    /// The selected annotations (required plus present optional keys).
    pub annotations: &'a BTreeMap<String, String>,
    /// `Some(tokenHash)` when the cache type is `Token`.
    pub token_hash: Option<&'a str>,
}

impl ServiceAccountCacheKey {
    /// The empty key (no SA mode, or no service account).
    pub fn empty() -> Self {
        ServiceAccountCacheKey(Vec::new())
    }

    /// Builds the key from its parts.
    pub fn new(parts: ServiceAccountKeyParts<'_>) -> Result<Self, KeyTooLong> {
        let mut b = KeyBuilder::default();
        b.lp("namespace", parts.namespace.as_bytes())?
            .lp("service account name", parts.name.as_bytes())?
            .lp("service account uid", parts.uid.as_bytes())?
            .annotations(parts.annotations)?;
        if let Some(hash) = parts.token_hash {
            b.lp("token", b"token")?.lp("token hash", hash.as_bytes())?;
        }
        Ok(ServiceAccountCacheKey(b.0))
    }

    /// Wraps raw bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        ServiceAccountCacheKey(bytes)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// True outside SA mode.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ServiceAccountCacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ServiceAccountCacheKey({})",
            strconv_quote_bytes(&self.0)
        )
    }
}

/// The singleflight key: `image` in normal mode; in SA mode with a service account
/// `lp(image) ‖ lp(tokenHash) ‖ u32(n) ‖ Σ lp(k) ‖ lp(v)` (no namespace or SA name).
pub fn single_flight_key(
    image: &str,
    service_account: Option<(&str, &BTreeMap<String, String>)>,
) -> Result<Vec<u8>, KeyTooLong> {
    match service_account {
        None => Ok(image.as_bytes().to_vec()),
        Some((token_hash, annotations)) => {
            let mut b = KeyBuilder::default();
            b.lp("image", image.as_bytes())?
                .lp("token hash", token_hash.as_bytes())?
                .annotations(annotations)?;
            Ok(b.0)
        }
    }
}

/// `parseRegistry`: the text before the first `/` (port included).
pub fn parse_registry(image: &str) -> &str {
    image.split('/').next().unwrap_or(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_key_layout() {
        let k = CacheKey::new("image1", &ServiceAccountCacheKey::empty()).unwrap();
        assert_eq!(k.as_bytes(), b"\x00\x06image1\x00\x00");
        assert_eq!(k.base(), Some("image1"));
        assert_eq!(format!("{k:?}"), "CacheKey(\"\\x00\\x06image1\\x00\\x00\")");
    }

    #[test]
    fn over_long_fields_fail() {
        let long = "a".repeat(65_536);
        let err = CacheKey::new(&long, &ServiceAccountCacheKey::empty()).unwrap_err();
        assert_eq!(err.len, 65_536);
        assert!(CacheKey::new(&"a".repeat(65_535), &ServiceAccountCacheKey::empty()).is_ok());
        let ann = BTreeMap::from([("k".to_owned(), long)]);
        assert!(single_flight_key("img", Some(("", &ann))).is_err());
    }

    #[test]
    fn registry_is_text_before_first_slash() {
        assert_eq!(parse_registry("r.io:5000/a/b"), "r.io:5000");
        assert_eq!(parse_registry("r.io"), "r.io");
        assert_eq!(parse_registry(""), "");
    }

    #[test]
    fn debug_is_go_quoted() {
        let k = CacheKey::from_bytes(b"\x00\tz\xca\x00G\"\xc3\xa9".to_vec());
        assert_eq!(format!("{k:?}"), "CacheKey(\"\\x00\\tz\\xca\\x00G\\\"é\")");
        // Non-printable characters are escaped as Go's %q does.
        let sa = ServiceAccountCacheKey::from_bytes("a\u{200b}".as_bytes().to_vec());
        assert_eq!(format!("{sa:?}"), "ServiceAccountCacheKey(\"a\\u200b\")");
    }
}
