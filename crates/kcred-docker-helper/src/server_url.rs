//! From the server URL a docker client sends to `get` to the image name the kubelet would
//! look credentials up for.
//!
//! Clients send a registry in several spellings: `127.0.0.1:5000` (podman, skopeo,
//! `docker login r.io`), `https://r.io` and `http://r.io:5000/`, `r.io/v1/` or
//! `https://r.io/v2/`, and for Docker Hub `https://index.docker.io/v1/` (docker, crane) or
//! `docker.io` (podman). All of them name one registry host (`host[:port]`). The kubelet asks
//! about *images*, so a registry is turned into an image in that registry:
//!
//! - without a repository path (the usual case) the image is
//!   `<host>/`[`REGISTRY_QUERY_REPOSITORY`]: every `matchImages` entry without a path matches
//!   it exactly as it matches any image of the registry; an entry with a path
//!   (`r.io/team`) does not, so path-scoped providers are not consulted;
//! - a server URL that carries a repository path (`r.io/team/app`) is looked up as that image
//!   (`r.io/team/app`), so path-scoped entries that prefix it do match.
//!
//! The image is normalised like the kubelet does (`ParseNormalizedNamed`): `index.docker.io`
//! and `docker.io` become `docker.io`.

use kcred_match::image::{ImageError, ImageRef};

/// The repository asked about when a server URL names only a registry. Two path components so
/// that Docker Hub does not prefix it with `library/`.
pub(crate) const REGISTRY_QUERY_REPOSITORY: &str = "kcred/registry-query";

/// The key docker clients use for Docker Hub credentials.
pub(crate) const DOCKER_HUB_SERVER_URL: &str = "https://index.docker.io/v1/";

/// The registry host the kubelet uses for Docker Hub images.
pub(crate) const DOCKER_HUB_REGISTRY: &str = "docker.io";

/// Why a server URL cannot be turned into a registry lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerUrlError {
    /// Nothing (or only white space) was sent.
    #[error(
        "no credentials server URL: send the registry (for example registry.example.com:5000) on stdin"
    )]
    Empty,
    /// A scheme other than `http` or `https`.
    #[error(
        "server URL {url:?}: unsupported scheme {scheme:?} (only http and https name a registry)"
    )]
    UnsupportedScheme {
        /// The server URL as given.
        url: String,
        /// The scheme found.
        scheme: String,
    },
    /// No host before the path.
    #[error("server URL {0:?} has no registry host")]
    MissingHost(String),
    /// User info, a query, a fragment, a tag or digest, white space or control characters.
    #[error("server URL {url:?} contains {what}, which a registry server URL cannot hold")]
    UnexpectedPart {
        /// The server URL as given.
        url: String,
        /// What was found (`a query ("?")`, …).
        what: &'static str,
    },
    /// The host (with any path) is not a valid image location.
    #[error("server URL {url:?} does not give a valid image name {image:?}: {source}")]
    InvalidName {
        /// The server URL as given.
        url: String,
        /// The image name built from it.
        image: String,
        /// The image parser's error.
        #[source]
        source: ImageError,
    },
    /// A host the kubelet would read as the first path component of a Docker Hub image
    /// (no `.`, no `:`, not `localhost`).
    #[error("server URL {url:?}: the kubelet reads {host:?} as part of a Docker Hub repository name, not as a registry host (a registry host has a \".\" or a \":port\", or is localhost)")]
    NotARegistryHost {
        /// The server URL as given.
        url: String,
        /// The host found.
        host: String,
    },
}

/// A registry lookup built from a server URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryQuery {
    server_url: String,
    registry: String,
    image: String,
    repository_given: bool,
}

impl RegistryQuery {
    /// Parses a server URL as docker clients send it (surrounding white space ignored).
    ///
    /// ```
    /// use kcred_docker_helper::RegistryQuery;
    /// let q = RegistryQuery::parse("https://index.docker.io/v1/").unwrap();
    /// assert_eq!((q.registry(), q.image()), ("docker.io", "docker.io/kcred/registry-query"));
    /// let q = RegistryQuery::parse("127.0.0.1:5000").unwrap();
    /// assert_eq!(q.image(), "127.0.0.1:5000/kcred/registry-query");
    /// ```
    pub fn parse(server_url: &str) -> Result<RegistryQuery, ServerUrlError> {
        let url = server_url.trim();
        if url.is_empty() {
            return Err(ServerUrlError::Empty);
        }
        let unexpected = |what| ServerUrlError::UnexpectedPart {
            url: url.to_owned(),
            what,
        };
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(unexpected("white space or control characters"));
        }
        let rest = strip_scheme(url)?;
        if rest.contains('?') {
            return Err(unexpected("a query (\"?\")"));
        }
        if rest.contains('#') {
            return Err(unexpected("a fragment (\"#\")"));
        }
        let (host, path) = match rest.split_once('/') {
            Some((host, path)) => (host, path),
            None => (rest, ""),
        };
        if host.contains('@') {
            return Err(unexpected("user information (\"@\")"));
        }
        if host.is_empty() {
            return Err(ServerUrlError::MissingHost(url.to_owned()));
        }
        let repository = api_version_stripped(path).trim_matches('/');
        if repository.contains('@') {
            return Err(unexpected("a digest (\"@\")"));
        }
        if repository.contains(':') {
            return Err(unexpected("a tag (\":\")"));
        }
        let registry = if is_docker_hub_alias(host) {
            DOCKER_HUB_REGISTRY
        } else {
            host
        };
        let repository_given = !repository.is_empty();
        let wanted = if repository_given {
            format!("{registry}/{repository}")
        } else {
            format!("{registry}/{REGISTRY_QUERY_REPOSITORY}")
        };
        let image = ImageRef::parse(&wanted).map_err(|source| ServerUrlError::InvalidName {
            url: url.to_owned(),
            image: wanted.clone(),
            source,
        })?;
        if image.registry() != registry {
            return Err(ServerUrlError::NotARegistryHost {
                url: url.to_owned(),
                host: host.to_owned(),
            });
        }
        Ok(RegistryQuery {
            server_url: url.to_owned(),
            registry: registry.to_owned(),
            image: image.name().to_owned(),
            repository_given,
        })
    }

    /// The server URL as sent (trimmed): docker's `ServerURL` in the answer.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The registry host (`host[:port]`, `docker.io` for Docker Hub).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The normalised image the kubelet would be asked to pull.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// True when the server URL carried a repository path (used as the image).
    pub fn repository_given(&self) -> bool {
        self.repository_given
    }
}

/// The server URL docker clients use as the key for `registry` (`list` output).
pub fn server_url_for_registry(registry: &str) -> &str {
    if registry == DOCKER_HUB_REGISTRY {
        DOCKER_HUB_SERVER_URL
    } else {
        registry
    }
}

/// `index.docker.io` and `docker.io`: Docker Hub as the kubelet's normalisation knows it.
fn is_docker_hub_alias(host: &str) -> bool {
    host.eq_ignore_ascii_case("index.docker.io") || host.eq_ignore_ascii_case("docker.io")
}

/// Removes `http://` or `https://` (any case); refuses other schemes.
fn strip_scheme(url: &str) -> Result<&str, ServerUrlError> {
    let Some(at) = url.find("://") else {
        return Ok(url);
    };
    let scheme = &url[..at];
    // A "://" after the first "/" is part of a path, not a scheme.
    if scheme.contains('/') {
        return Ok(url);
    }
    if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") {
        Ok(&url[at + 3..])
    } else {
        Err(ServerUrlError::UnsupportedScheme {
            url: url.to_owned(),
            scheme: scheme.to_owned(),
        })
    }
}

/// Drops a leading `v1` or `v2` path component (the registry API version docker clients
/// append, as the kubelet's keyring does for docker config keys).
fn api_version_stripped(path: &str) -> &str {
    for version in ["v1", "v2"] {
        if let Some(rest) = path.strip_prefix(version) {
            if rest.is_empty() || rest.starts_with('/') {
                return rest;
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn query(url: &str) -> RegistryQuery {
        RegistryQuery::parse(url).unwrap_or_else(|e| panic!("{url:?}: {e}"))
    }

    #[test]
    fn every_spelling_of_a_registry_gives_the_same_image() {
        for url in [
            "127.0.0.1:5000",
            "127.0.0.1:5000/",
            "https://127.0.0.1:5000",
            "http://127.0.0.1:5000/",
            "HTTPS://127.0.0.1:5000",
            "127.0.0.1:5000/v1/",
            "https://127.0.0.1:5000/v2/",
            "https://127.0.0.1:5000/v2",
            "  127.0.0.1:5000\n",
        ] {
            let q = query(url);
            assert_eq!(q.registry(), "127.0.0.1:5000", "{url:?}");
            assert_eq!(q.image(), "127.0.0.1:5000/kcred/registry-query", "{url:?}");
            assert!(!q.repository_given());
            assert_eq!(q.server_url(), url.trim());
        }
    }

    #[test]
    fn docker_hub_forms_are_docker_io() {
        for url in [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "https://docker.io",
            "https://INDEX.docker.io/v1/",
        ] {
            let q = query(url);
            assert_eq!(q.registry(), "docker.io", "{url:?}");
            assert_eq!(q.image(), "docker.io/kcred/registry-query", "{url:?}");
        }
    }

    #[test]
    fn a_repository_path_is_looked_up_as_that_image() {
        let q = query("https://registry.example.com/v2/team/app/");
        assert_eq!(q.image(), "registry.example.com/team/app");
        assert!(q.repository_given());
        let q = query("docker.io/nginx");
        assert_eq!(q.image(), "docker.io/library/nginx");
        let q = query("r.io/v1x/app");
        assert_eq!(q.image(), "r.io/v1x/app");
    }

    #[test]
    fn localhost_and_ipv6_are_registries() {
        assert_eq!(query("localhost").registry(), "localhost");
        assert_eq!(query("localhost:5000").registry(), "localhost:5000");
        assert_eq!(query("https://[::1]:5000/").registry(), "[::1]:5000");
    }

    #[test]
    fn bad_server_urls_are_explained() {
        let err = |url: &str| RegistryQuery::parse(url).unwrap_err().to_string();
        assert_eq!(
            err(" \n"),
            "no credentials server URL: send the registry (for example registry.example.com:5000) on stdin"
        );
        assert_eq!(
            err("ftp://r.io"),
            "server URL \"ftp://r.io\": unsupported scheme \"ftp\" (only http and https name a registry)"
        );
        assert_eq!(
            err("https:///v1/"),
            "server URL \"https:///v1/\" has no registry host"
        );
        assert!(err("https://u:p@r.io").contains("user information"));
        assert!(err("r.io?x=1").contains("a query"));
        assert!(err("r.io#x").contains("a fragment"));
        assert!(err("r.io/app:v1").contains("a tag"));
        assert!(err("r.io/app@sha256:00").contains("a digest"));
        assert!(err("r .io").contains("white space"));
        assert_eq!(
            err("myregistry"),
            "server URL \"myregistry\": the kubelet reads \"myregistry\" as part of a Docker Hub repository name, not as a registry host (a registry host has a \".\" or a \":port\", or is localhost)"
        );
        assert!(err("r.io/Team").starts_with(
            "server URL \"r.io/Team\" does not give a valid image name \"r.io/Team\": "
        ));
        assert!(err("r..io").contains("does not give a valid image name"));
    }

    #[test]
    fn list_keys_use_dockers_hub_url() {
        assert_eq!(server_url_for_registry("docker.io"), DOCKER_HUB_SERVER_URL);
        assert_eq!(server_url_for_registry("r.io:5000"), "r.io:5000");
    }

    proptest! {
        #[test]
        fn never_panics_and_results_are_consistent(url in "\\PC{0,60}") {
            if let Ok(q) = RegistryQuery::parse(&url) {
                let prefix = format!("{}/", q.registry());
                prop_assert!(q.image().starts_with(&prefix));
                prop_assert!(!q.registry().contains('/'));
                prop_assert_eq!(q.server_url(), url.trim());
            }
        }

        #[test]
        fn url_shaped_input_never_panics(
            scheme in "(|https://|http://|HTTP://|x://)",
            host in "[a-zA-Z0-9.:\\[\\]_-]{0,20}",
            path in "(|/|/v1/|/v2|/[a-z0-9/._:@-]{0,20})",
        ) {
            let url = format!("{scheme}{host}{path}");
            if let Ok(q) = RegistryQuery::parse(&url) {
                prop_assert!(q.image().starts_with(q.registry()));
            }
        }
    }
}
