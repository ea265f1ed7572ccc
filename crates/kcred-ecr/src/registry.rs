//! Which registry an image is on, and so which AWS API and region to ask.
//!
//! Upstream (`cloud-provider-aws` v1.36.1) decides from the image's host:
//! - `public.ecr.aws` or `ecr-public.aws.com` (exact, case-sensitive) → ECR Public,
//!   `ecr-public:GetAuthorizationToken` in `us-east-1`;
//! - a host matching the private ECR pattern → `ecr:GetAuthorizationToken` in the region
//!   named by the host;
//! - any other host → `ecr:GetAuthorizationToken` in the SDK's default region, with the
//!   credentials keyed by that host (custom domains and pull-through proxies).
//!
//! The private pattern covers every partition: commercial (`amazonaws.com`), China
//! (`amazonaws.com.cn`), GovCloud (`amazonaws.com`, `us-gov-*`), European Sovereign Cloud
//! (`amazonaws.eu`), ISO (`c2s.ic.gov`), ISO-B (`sc2s.sgov.gov`), ISO-E (`cloud.adc-e.uk`),
//! ISO-F (`csp.hci.ic.gov`), FIPS (`dkr.ecr-fips`) and dual-stack (`dkr-ecr.*.on.aws`,
//! `dkr-ecr.*.on.amazonwebservices.com.cn`). Account digits are ASCII only, as Go's `\d`.

use std::sync::OnceLock;

use kcred_match::gourl::{url_hostname, UrlError};

/// The ECR Public registry hosts, compared exactly and case-sensitively.
pub(crate) const ECR_PUBLIC_HOSTS: [&str; 2] = ["public.ecr.aws", "ecr-public.aws.com"];

/// The only region where the ECR Public API exists.
pub(crate) const ECR_PUBLIC_REGION: &str = "us-east-1";

/// Upstream's `ecrPrivateHostPattern` (v1.35.0+), with ASCII digit classes spelled out.
/// Groups: 1 account, 2 separator between `dkr` and `ecr`, 3 `-fips`, 4 region, 5 suffix.
const ECR_PRIVATE_HOST_PATTERN: &str = concat!(
    r"^([0-9]{12})\.dkr([.-])ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9_-]*)\.",
    r"(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)",
    r"|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$"
);

fn private_host_regex() -> &'static regex_lite::Regex {
    static RE: OnceLock<regex_lite::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // The pattern is a constant, checked by the unit tests; it always compiles.
        regex_lite::Regex::new(ECR_PRIVATE_HOST_PATTERN).unwrap_or_else(|e| unreachable!("{e}"))
    })
}

/// Why an image names no usable registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The request's `image` is empty.
    #[error("image in plugin request was empty")]
    EmptyImage,
    /// Go's `url.Parse` rejects the image (with the `https://` prefix upstream adds).
    #[error("error parsing image reference {image}: {source}")]
    Unparsable {
        /// The image as parsed (with the prefix).
        image: String,
        /// Go's parse error.
        source: UrlError,
    },
}

/// The AWS API that issues the registry's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `ecr:GetAuthorizationToken`.
    Ecr,
    /// `ecr-public:GetAuthorizationToken`.
    EcrPublic,
}

impl Api {
    /// The IAM action name, e.g. `ecr:GetAuthorizationToken`.
    pub fn action(self) -> &'static str {
        match self {
            Api::Ecr => "ecr:GetAuthorizationToken",
            Api::EcrPublic => "ecr-public:GetAuthorizationToken",
        }
    }
}

/// A private ECR registry host, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateRegistry {
    /// The 12-digit account (registry ID).
    pub registry_id: String,
    /// The region label, e.g. `us-west-2` (any label the pattern allows).
    pub region: String,
    /// The host is a FIPS form (`dkr.ecr-fips` / `dkr-ecr-fips`).
    pub fips: bool,
    /// The host uses `dkr-ecr` (dual-stack spelling) rather than `dkr.ecr`.
    pub dualstack_form: bool,
    /// The DNS suffix, e.g. `amazonaws.com.cn` or `on.aws`.
    pub suffix: String,
}

impl PrivateRegistry {
    /// Parses a host with upstream's private ECR pattern; `None` when it does not match.
    pub fn parse(host: &str) -> Option<PrivateRegistry> {
        let caps = private_host_regex().captures(host)?;
        let group = |i: usize| caps.get(i).map(|m| m.as_str()).unwrap_or("");
        Some(PrivateRegistry {
            registry_id: group(1).to_owned(),
            dualstack_form: group(2) == "-",
            fips: !group(3).is_empty(),
            region: group(4).to_owned(),
            suffix: group(5).to_owned(),
        })
    }

    /// The host is in a dual-stack (IPv4 and IPv6) DNS domain (`on.aws`,
    /// `on.amazonwebservices.com.cn`), so the node may have only IPv6.
    pub(crate) fn dualstack_domain(&self) -> bool {
        self.suffix.starts_with("on.")
    }
}

/// The kind of registry an image is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryKind {
    /// ECR Public.
    Public,
    /// A private ECR host.
    Private(PrivateRegistry),
    /// Any other host: asked of ECR in the SDK's default region, as upstream does.
    Other,
}

/// The registry of one image: its host (the auth key) and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// Go `url.Hostname()` of the image: no port, no brackets, case kept.
    pub host: String,
    /// Public, private or other.
    pub kind: RegistryKind,
}

impl Registry {
    /// Upstream's `parseHostFromImageReference` and classification: prefixes `https://`
    /// unless the image contains `://`, parses with Go `url.Parse` semantics, then
    /// classifies the host.
    pub fn from_image(image: &str) -> Result<Registry, RegistryError> {
        if image.is_empty() {
            return Err(RegistryError::EmptyImage);
        }
        let with_scheme = if image.contains("://") {
            image.to_owned()
        } else {
            format!("https://{image}")
        };
        match url_hostname(&with_scheme) {
            Ok(host) => Ok(Registry::from_host(host)),
            Err(source) => Err(RegistryError::Unparsable {
                image: with_scheme,
                source,
            }),
        }
    }

    /// Classifies a host (already without port).
    pub(crate) fn from_host(host: String) -> Registry {
        let kind = if ECR_PUBLIC_HOSTS.contains(&host.as_str()) {
            RegistryKind::Public
        } else if let Some(private) = PrivateRegistry::parse(&host) {
            RegistryKind::Private(private)
        } else {
            RegistryKind::Other
        };
        Registry { host, kind }
    }

    /// The key of the response's `auth` map: the host.
    pub fn auth_key(&self) -> &str {
        &self.host
    }

    /// The API to call.
    pub fn api(&self) -> Api {
        match self.kind {
            RegistryKind::Public => Api::EcrPublic,
            RegistryKind::Private(_) | RegistryKind::Other => Api::Ecr,
        }
    }

    /// The region the host names (`us-east-1` for ECR Public); `None` means "the SDK's
    /// default region".
    pub fn region(&self) -> Option<&str> {
        match &self.kind {
            RegistryKind::Public => Some(ECR_PUBLIC_REGION),
            RegistryKind::Private(p) => Some(&p.region),
            RegistryKind::Other => None,
        }
    }

    /// The private-registry parts, if the host is a private ECR host.
    pub fn private(&self) -> Option<&PrivateRegistry> {
        match &self.kind {
            RegistryKind::Private(p) => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_compiles_and_splits() {
        let p = PrivateRegistry::parse("123456789012.dkr-ecr-fips.us-gov-east-1.on.aws")
            .expect("matches");
        assert_eq!(p.registry_id, "123456789012");
        assert_eq!(p.region, "us-gov-east-1");
        assert!(p.fips && p.dualstack_form && p.dualstack_domain());
        assert_eq!(p.suffix, "on.aws");
    }

    #[test]
    fn unicode_digits_are_not_account_digits() {
        assert_eq!(
            PrivateRegistry::parse("١٢٣٤٥٦٧٨٩٠١٢.dkr.ecr.us-west-2.amazonaws.com"),
            None
        );
    }

    #[test]
    fn trailing_text_after_suffix_does_not_match() {
        assert_eq!(
            PrivateRegistry::parse("123456789012.dkr.ecr.us-west-2.amazonaws.com.evil"),
            None
        );
        assert_eq!(
            PrivateRegistry::parse("x123456789012.dkr.ecr.us-west-2.amazonaws.com"),
            None
        );
    }

    #[test]
    fn public_hosts_are_exact() {
        assert_eq!(
            Registry::from_image("public.ecr.aws/x").unwrap().api(),
            Api::EcrPublic
        );
        assert_eq!(
            Registry::from_image("public.ecr.aws.evil/x").unwrap().api(),
            Api::Ecr
        );
        assert_eq!(Registry::from_image(""), Err(RegistryError::EmptyImage));
    }
}
