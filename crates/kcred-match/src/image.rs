//! Image reference normalisation: distribution's `reference.ParseNormalizedNamed(s).Name()`
//! (as kubernetes/kubernetes `pkg/credentialprovider/plugin/plugin.go` calls it), the string
//! the kubelet uses for `request.image`, for `matchImages`, for the image cache key and for
//! the keyring lookup.
//!
//! - `nginx:1.2` → `docker.io/library/nginx`
//! - `foo/bar` → `docker.io/foo/bar`; `index.docker.io/foo` → `docker.io/foo`
//! - `r.io:5000/a/b@sha256:…` → `r.io:5000/a/b`
//!
//! The grammar is distribution/reference v0.6 (`name[:tag][@digest]`, with the domain
//! `host[:port]` where host is a DNS-like name or a bracketed IPv6 address), and digests are
//! checked as go-digest v1.0 does (sha256, sha384 and sha512 are known). Error texts are
//! theirs. The kubelet wraps them as `couldn't parse image name "<image>": <error>`.

use kcred_api::gostr::{has_upper, to_lower};

/// The longest repository path distribution accepts (`RepositoryNameTotalLengthMax`).
const REPOSITORY_NAME_MAX: usize = 255;
const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const LOCALHOST: &str = "localhost";

/// Why an image reference was rejected; `Display` gives distribution's / go-digest's text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The whole reference is 64 lowercase hex digits (an image ID, not a name).
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexIdentifier(String),
    /// The repository part (before any `:`) is not lowercase.
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    RepositoryNotLowercase(String),
    /// `ErrNameContainsUppercase`: the reference would be valid if lowercased.
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// `ErrReferenceInvalidFormat`.
    #[error("invalid reference format")]
    InvalidFormat,
    /// `ErrNameTooLong`: the repository path is longer than 255 bytes.
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// go-digest `ErrDigestInvalidFormat` (also its deprecated `ErrDigestInvalidLength`).
    #[error("invalid checksum digest format")]
    DigestInvalidFormat,
    /// go-digest `ErrDigestUnsupported`.
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
}

/// A parsed image reference: distribution's normalised `Named`, with its tag and digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    name: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// `reference.ParseNormalizedNamed(s)`.
    ///
    /// ```
    /// use kcred_match::image::ImageRef;
    /// let r = ImageRef::parse("r.io:5000/a/b:v1").unwrap();
    /// assert_eq!((r.name(), r.registry(), r.tag()), ("r.io:5000/a/b", "r.io:5000", Some("v1")));
    /// assert_eq!(ImageRef::parse("nginx").unwrap().name(), "docker.io/library/nginx");
    /// assert_eq!(
    ///     ImageRef::parse("Nginx").unwrap_err().to_string(),
    ///     "invalid reference format: repository name (library/Nginx) must be lowercase"
    /// );
    /// ```
    pub fn parse(s: &str) -> Result<ImageRef, ImageError> {
        if is_hex_identifier(s) {
            return Err(ImageError::HexIdentifier(s.to_owned()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder.split(':').next().unwrap_or_default();
        if has_upper(remote) {
            return Err(ImageError::RepositoryNotLowercase(remote.to_owned()));
        }
        let full = format!("{domain}/{remainder}");
        parse_reference(&full)
    }

    /// `Name()`: the normalised name without tag or digest, e.g. `docker.io/library/nginx`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kubelet's `parseRegistry`: the name up to its first `/` (host and any port).
    pub fn registry(&self) -> &str {
        self.name.split('/').next().unwrap_or_default()
    }

    /// The tag as written (`None` when absent; the kubelet then pulls `latest`).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest as written, e.g. `sha256:…`.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
}

impl std::fmt::Display for ImageRef {
    /// distribution's `String()`: `name[:tag][@digest]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The image string the kubelet matches and sends: `ParseNormalizedNamed(s).Name()`.
///
/// ```
/// assert_eq!(kcred_match::image::normalize_image("foo/bar:1").unwrap(), "docker.io/foo/bar");
/// ```
pub fn normalize_image(s: &str) -> Result<String, ImageError> {
    ImageRef::parse(s).map(|r| r.name)
}

/// `^[a-f0-9]{64}$`.
fn is_hex_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9'))
}

/// distribution `splitDockerDomain`.
fn split_docker_domain(name: &str) -> (&str, String) {
    let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN, format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, remote) = if maybe_domain == LOCALHOST {
        (maybe_domain, maybe_remote)
    } else if maybe_domain == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, maybe_remote)
    } else if maybe_domain.contains(['.', ':']) || has_upper(maybe_domain) {
        (maybe_domain, maybe_remote)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        return (domain, format!("{OFFICIAL_REPO_PREFIX}{remote}"));
    }
    (domain, remote.to_owned())
}

/// The pieces of a string that matches distribution's `ReferenceRegexp`.
struct ReferenceParts<'a> {
    name: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// distribution `Parse` (the name is never empty here: a domain was prepended).
fn parse_reference(s: &str) -> Result<ImageRef, ImageError> {
    let Some(parts) = match_reference(s) else {
        let lower = to_lower(s);
        if lower != s && match_reference(&lower).is_some() {
            return Err(ImageError::NameContainsUppercase);
        }
        return Err(ImageError::InvalidFormat);
    };
    if repository_path(parts.name).len() > REPOSITORY_NAME_MAX {
        return Err(ImageError::NameTooLong);
    }
    if let Some(digest) = parts.digest {
        validate_digest(digest)?;
    }
    Ok(ImageRef {
        name: parts.name.to_owned(),
        tag: parts.tag.map(str::to_owned),
        digest: parts.digest.map(str::to_owned),
    })
}

/// `^(namePat)(?::(tag))?(?:@(digestPat))?$`. The split is unambiguous: `@` appears only
/// before the digest, a tag holds no `:` or `/`, and a name holds `:` only in a domain that
/// a `/` follows.
fn match_reference(s: &str) -> Option<ReferenceParts<'_>> {
    let (name_and_tag, digest) = match s.split_once('@') {
        Some((left, digest)) => (left, Some(digest)),
        None => (s, None),
    };
    if let Some(digest) = digest {
        if !is_digest_pattern(digest) {
            return None;
        }
    }
    let (name, tag) = match name_and_tag.rfind(':') {
        Some(colon) if !name_and_tag[colon..].contains('/') => {
            (&name_and_tag[..colon], Some(&name_and_tag[colon + 1..]))
        }
        _ => (name_and_tag, None),
    };
    if let Some(tag) = tag {
        if !is_tag(tag) {
            return None;
        }
    }
    if !is_name(name) {
        return None;
    }
    Some(ReferenceParts { name, tag, digest })
}

/// `namePat`: `[domainAndPort "/"] pathComponent ("/" pathComponent)*`.
fn is_name(name: &str) -> bool {
    let mut components = name.split('/');
    let first = components.next().unwrap_or_default();
    let rest_are_paths = components.clone().all(is_path_component);
    if !rest_are_paths {
        return false;
    }
    is_path_component(first) || (components.next().is_some() && is_domain_and_port(first))
}

/// The path part of a matched name as distribution's `anchoredNameRegexp` captures it: the
/// optional domain group is preferred, so the first component is the domain whenever it is a
/// valid `domainAndPort` and more components follow.
fn repository_path(name: &str) -> &str {
    match name.split_once('/') {
        Some((first, rest)) if is_domain_and_port(first) => rest,
        _ => name,
    }
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let is_alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !b.first().is_some_and(is_alnum) || !b.last().is_some_and(is_alnum) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(&b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(&b[i]) {
            i += 1;
        }
        let separator = &b[start..i];
        let valid =
            matches!(separator, b"." | b"_" | b"__") || separator.iter().all(|&c| c == b'-');
        if !valid {
            return false;
        }
    }
    true
}

/// `domainAndPort`: `(domainName | \[[a-fA-F0-9:]+\]) (:[0-9]+)?`.
fn is_domain_and_port(s: &str) -> bool {
    let (host, port) = if let Some(inner_and_rest) = s.strip_prefix('[') {
        let Some(close) = inner_and_rest.find(']') else {
            return false;
        };
        let inner = &inner_and_rest[..close];
        if inner.is_empty() || !inner.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
            return false;
        }
        (None, &inner_and_rest[close + 1..])
    } else {
        match s.find(':') {
            Some(colon) => (Some(&s[..colon]), &s[colon..]),
            None => (Some(s), ""),
        }
    };
    if let Some(host) = host {
        if !host.split('.').all(is_domain_component) {
            return false;
        }
    }
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()),
    }
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn is_domain_component(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// `[\w][\w.-]{0,127}`.
fn is_tag(s: &str) -> bool {
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    (1..=128).contains(&s.len())
        && s.as_bytes().first().is_some_and(word)
        && s.bytes().all(|c| word(&c) || c == b'.' || c == b'-')
}

/// distribution's `digestPat`:
/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`.
fn is_digest_pattern(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once(':') else {
        return false;
    };
    let component_ok = |c: &str| {
        c.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
            && c.bytes().all(|b| b.is_ascii_alphanumeric())
    };
    algorithm.split(['-', '_', '+', '.']).all(component_ok)
        && hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest v1.0 `Digest.Validate` for a string that already matched `digestPat`.
fn validate_digest(digest: &str) -> Result<(), ImageError> {
    let Some((algorithm, encoded)) = digest.split_once(':') else {
        return Err(ImageError::DigestInvalidFormat);
    };
    if algorithm.is_empty() || encoded.is_empty() {
        return Err(ImageError::DigestInvalidFormat);
    }
    let hex_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(if is_go_digest_regexp(algorithm, encoded) {
                ImageError::DigestUnsupported
            } else {
                ImageError::DigestInvalidFormat
            });
        }
    };
    let lower_hex = encoded
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if encoded.len() == hex_len && lower_hex {
        Ok(())
    } else {
        Err(ImageError::DigestInvalidFormat)
    }
}

/// go-digest `DigestRegexpAnchored`: `^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`.
fn is_go_digest_regexp(algorithm: &str, encoded: &str) -> bool {
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    algorithm.split(['.', '+', '_', '-']).all(component_ok)
        && !encoded.is_empty()
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_pieces() {
        assert!(is_path_component("a--b__c.d_e"));
        assert!(!is_path_component("a___b"));
        assert!(!is_path_component("a.-b"));
        assert!(!is_path_component("-a"));
        assert!(is_domain_and_port("[::1]:5000"));
        assert!(is_domain_and_port("Reg-1.IO:80"));
        assert!(!is_domain_and_port("reg_1.io"));
        assert!(!is_domain_and_port("a.io:"));
        assert!(!is_domain_and_port("[]"));
        assert!(is_tag("_x.1-A"));
        assert!(!is_tag(".x"));
        assert!(is_digest_pattern(
            "sha256+b64.x:0123456789abcdef0123456789abcdef"
        ));
        assert!(!is_digest_pattern(
            "sha256+:0123456789abcdef0123456789abcdef"
        ));
    }
}
