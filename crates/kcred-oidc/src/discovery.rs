//! The two documents kube-apiserver serves for its service-account issuer, byte for byte:
//! `/.well-known/openid-configuration` and the JWKS (`/openid/v1/jwks`).
//!
//! Reference: kubernetes/kubernetes `pkg/serviceaccount/openidmetadata.go`
//! (`NewOpenIDMetadataProvider`, `openIDConfigJSON`, `openIDKeysetJSON`) and its test
//! `TestNewOpenIDMetadata`, whose expected bytes are kcred's conformance rows
//! (`tests/conformance/oidc_discovery_cases.json`). The issuer URL rules and their messages are
//! kube-apiserver's.

use std::collections::BTreeSet;

use kcred_api::gostr::{json_string, json_string_list};

use crate::key::PublicKey;

/// The path of the discovery document below the issuer.
pub const OPENID_CONFIG_PATH: &str = "/.well-known/openid-configuration";
/// The path kube-apiserver serves the JWKS at (`JWKSPath`).
pub const JWKS_PATH: &str = "/openid/v1/jwks";

/// An issuer or JWKS URL that kube-apiserver (and every cloud IdP) would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Not `https://`.
    #[error("{what} {url:?}: must use the https scheme (kube-apiserver: \"issuer URL must use https scheme\"; Entra, AWS STS and Google STS fetch issuers over https only)")]
    NotHttps {
        /// `issuer` / `jwks_uri`.
        what: &'static str,
        /// The URL.
        url: String,
    },
    /// Has a query.
    #[error("{what} {url:?}: may not include a query")]
    Query {
        /// `issuer` / `jwks_uri`.
        what: &'static str,
        /// The URL.
        url: String,
    },
    /// Has a fragment.
    #[error("{what} {url:?}: may not include a fragment")]
    Fragment {
        /// `issuer` / `jwks_uri`.
        what: &'static str,
        /// The URL.
        url: String,
    },
    /// No host.
    #[error("{what} {url:?}: has no host")]
    NoHost {
        /// `issuer` / `jwks_uri`.
        what: &'static str,
        /// The URL.
        url: String,
    },
}

/// Checks an `https` URL as `NewOpenIDMetadataProvider` checks the issuer (scheme, no query,
/// no fragment) and that it names a host. `what` names the input in the error.
pub fn check_https_url(what: &'static str, url: &str) -> Result<(), UrlError> {
    let owned = || url.to_owned();
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(UrlError::NotHttps { what, url: owned() });
    };
    if url.contains('#') {
        return Err(UrlError::Fragment { what, url: owned() });
    }
    if url.contains('?') {
        return Err(UrlError::Query { what, url: owned() });
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') || host.contains('@') {
        return Err(UrlError::NoHost { what, url: owned() });
    }
    Ok(())
}

/// The discovery URL of an issuer (`<issuer>/.well-known/openid-configuration`, one `/`).
pub fn discovery_url(issuer: &str) -> String {
    format!("{}{OPENID_CONFIG_PATH}", issuer.trim_end_matches('/'))
}

/// The JWKS URL a static host serves when none is given: `<issuer>/openid/v1/jwks`, the same
/// path kube-apiserver uses.
pub fn default_jwks_uri(issuer: &str) -> String {
    format!("{}{JWKS_PATH}", issuer.trim_end_matches('/'))
}

/// Errors building the documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// A bad URL.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// No key at all.
    #[error("no keys: give at least one --key (the public half of kube-apiserver's --service-account-signing-key-file)")]
    NoKeys,
    /// The same key twice.
    #[error("{second}: is the same key as {first} (kid {kid})")]
    DuplicateKey {
        /// Where it was first given.
        first: String,
        /// Where it was given again.
        second: String,
        /// Its key ID.
        kid: String,
    },
}

/// The issuer's documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerDocuments {
    /// `/.well-known/openid-configuration` (compact JSON, no newline, as served).
    pub openid_configuration: String,
    /// The JWKS (compact JSON, no newline, as served).
    pub jwks: String,
    /// The `jwks_uri` in the configuration.
    pub jwks_uri: String,
}

/// Builds the documents kube-apiserver serves for `issuer` with `jwks_uri` and `keys` (in the
/// given order: the current signing key first is customary, the previous ones after).
///
/// `keys` pairs each key with the input it came from (for the duplicate-key error).
pub fn issuer_documents(
    issuer: &str,
    jwks_uri: &str,
    keys: &[(String, PublicKey)],
) -> Result<IssuerDocuments, DiscoveryError> {
    check_https_url("issuer", issuer)?;
    check_https_url("jwks_uri", jwks_uri)?;
    if keys.is_empty() {
        return Err(DiscoveryError::NoKeys);
    }
    for (i, (src, key)) in keys.iter().enumerate() {
        if let Some((first, _)) = keys[..i].iter().find(|(_, k)| k == key) {
            return Err(DiscoveryError::DuplicateKey {
                first: first.clone(),
                second: src.clone(),
                kid: key.key_id(),
            });
        }
    }
    // getAlgs: a sorted set of the keys' algorithms.
    let algs: Vec<String> = keys
        .iter()
        .map(|(_, k)| k.algorithm().to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let openid_configuration = format!(
        "{{\"issuer\":{},\"jwks_uri\":{},\"response_types_supported\":[\"id_token\"],\"subject_types_supported\":[\"public\"],\"id_token_signing_alg_values_supported\":{}}}",
        json_string(issuer),
        json_string(jwks_uri),
        json_string_list(&algs)
    );
    let jwks = format!(
        "{{\"keys\":[{}]}}",
        keys.iter()
            .map(|(_, k)| k.jwk_json())
            .collect::<Vec<_>>()
            .join(",")
    );
    Ok(IssuerDocuments {
        openid_configuration,
        jwks,
        jwks_uri: jwks_uri.to_owned(),
    })
}

/// Where a document at `url` goes below an output directory that mirrors `issuer`'s path:
/// the path of `url` relative to the issuer's path, or `None` when `url` is not below the
/// issuer (another host or path; the caller then writes it to a fixed name and says where to
/// upload it).
pub fn relative_path(issuer: &str, url: &str) -> Option<String> {
    let base = issuer.trim_end_matches('/');
    let rest = url.strip_prefix(base)?;
    let rest = rest.strip_prefix('/')?;
    if rest.is_empty()
        || rest
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return None;
    }
    Some(rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_rules_are_kube_apiservers() {
        assert!(check_https_url("issuer", "https://issuer.example.com").is_ok());
        assert!(check_https_url("issuer", "https://192.0.2.1:80").is_ok());
        for bad in [
            "http://issuer.example.com",
            "issuer.example.com",
            "https://issuer.example.com?foo=bar",
            "https://issuer.example.com#baz",
            "https://issuer.example.com?foo=bar#baz",
            "issuer",
            "https://",
            "https:///x",
        ] {
            assert!(check_https_url("issuer", bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_https_url("issuer", "http://x").unwrap_err().to_string(),
            "issuer \"http://x\": must use the https scheme (kube-apiserver: \"issuer URL must use https scheme\"; Entra, AWS STS and Google STS fetch issuers over https only)"
        );
    }

    #[test]
    fn relative_paths_stay_below_the_issuer() {
        let iss = "https://h.example/cluster1";
        assert_eq!(
            relative_path(iss, "https://h.example/cluster1/openid/v1/jwks").as_deref(),
            Some("openid/v1/jwks")
        );
        assert_eq!(relative_path(iss, "https://h.example/other/jwks"), None);
        assert_eq!(relative_path(iss, "https://h.example/cluster1/../x"), None);
        assert_eq!(relative_path(iss, "https://h.example/cluster1x/jwks"), None);
        assert_eq!(
            discovery_url("https://h.example/"),
            "https://h.example/.well-known/openid-configuration"
        );
    }
}
