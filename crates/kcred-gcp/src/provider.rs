//! The three credential sources of upstream (`ContainerRegistryProvider`,
//! `DockerConfigKeyProvider`, `DockerConfigURLKeyProvider`) and the Workload Identity
//! decision. Unlike upstream, a failure is returned as an error instead of an empty map;
//! the caller decides whether to report it (kcred) or to answer with no credentials
//! (`--upstream-compat-exit0`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use kcred_api::response::AuthConfig;
use kcred_api::Secret;
use thiserror::Error;

use crate::docker_config::{parse_dockercfg, DockerConfig, DockerConfigError};
use crate::flow::AuthFlow;
use crate::http::{redact_url, HttpClient, TrustRoots};
use crate::impersonate::{self, ImpersonationError, DEFAULT_IAM_CREDENTIALS_URL};
use crate::metadata::{
    read_url, AccessToken, MetadataClient, MetadataError, ReadUrlError, DEFAULT_METADATA_URL,
    DOCKERCFG_PATH, DOCKERCFG_URL_PATH, METADATA_TIMEOUT,
};
use crate::request::PluginRequest;
use crate::sts::{self, StsError, DEFAULT_STS_URL, STS_TIMEOUT};

/// Username GCR and Artifact Registry accept with an OAuth access token (upstream's choice).
pub(crate) const TOKEN_USERNAME: &str = "_token";
/// The registries every `gcr` answer covers, besides the image's own registry.
pub(crate) const CONTAINER_REGISTRY_URLS: [&str; 4] = [
    "container.cloud.google.com",
    "gcr.io",
    "*.gcr.io",
    "*.pkg.dev",
];
/// Service-account annotation that opts a pod's images into Workload Identity pulls.
pub(crate) const ENABLE_WI_IMAGE_PULL_ANNOTATION: &str = "iam.gke.io/enable-wi-image-pull";
/// Service-account annotation naming a Google service account (GKE Workload Identity's);
/// read only with `--impersonate-from-annotation`.
pub(crate) const GCP_SERVICE_ACCOUNT_ANNOTATION: &str = "iam.gke.io/gcp-service-account";

/// Base URLs of the services the plugin talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Metadata server base URL (`KCRED_GCP_METADATA_URL`).
    pub metadata_url: String,
    /// STS token endpoint (`KCRED_GCP_STS_URL`).
    pub sts_url: String,
    /// IAM Credentials API base URL (`KCRED_GCP_IAM_CREDENTIALS_URL`).
    pub iam_credentials_url: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            metadata_url: DEFAULT_METADATA_URL.to_owned(),
            sts_url: DEFAULT_STS_URL.to_owned(),
            iam_credentials_url: DEFAULT_IAM_CREDENTIALS_URL.to_owned(),
        }
    }
}

impl Endpoints {
    /// Upstream's endpoints, each replaced by its override when non-empty.
    pub fn with_overrides(metadata: Option<&str>, sts: Option<&str>, iam: Option<&str>) -> Self {
        let pick = |v: Option<&str>, default: &str| {
            v.filter(|s| !s.is_empty()).unwrap_or(default).to_owned()
        };
        Endpoints {
            metadata_url: pick(metadata, DEFAULT_METADATA_URL),
            sts_url: pick(sts, DEFAULT_STS_URL),
            iam_credentials_url: pick(iam, DEFAULT_IAM_CREDENTIALS_URL),
        }
    }
}

/// HTTP clients with upstream's timeouts: 10 s for the metadata server and URLs read from
/// it, 30 s for STS and IAM Credentials.
#[derive(Debug)]
pub struct Clients {
    /// Where to send requests.
    pub endpoints: Endpoints,
    /// Metadata server and `google-dockercfg-url` targets.
    pub metadata_http: HttpClient,
    /// STS and IAM Credentials.
    pub sts_http: HttpClient,
}

impl Clients {
    /// Clients for `endpoints` trusting `roots` for `https`.
    pub fn new(endpoints: Endpoints, roots: TrustRoots) -> Self {
        Clients {
            endpoints,
            metadata_http: HttpClient::new(METADATA_TIMEOUT, roots.clone()),
            sts_http: HttpClient::new(STS_TIMEOUT, roots),
        }
    }

    fn metadata(&self) -> MetadataClient<'_> {
        MetadataClient::new(&self.endpoints.metadata_url, &self.metadata_http)
    }
}

/// Credentials for the kubelet and how long they stay valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `auth`: registry pattern → username and password.
    pub auth: BTreeMap<String, AuthConfig>,
    /// Remaining lifetime of the token, when its issuer said.
    pub lifetime: Option<Duration>,
}

/// Why no credentials could be produced.
#[derive(Debug, Error)]
pub enum ProvideError {
    /// The metadata server failed.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// Workload Identity applies but the kubelet sent no token.
    #[error("Workload Identity is enabled for this service account ({ENABLE_WI_IMAGE_PULL_ANNOTATION}: \"true\") but the request carries no serviceAccountToken; configure tokenAttributes for this provider in the kubelet's CredentialProviderConfig")]
    WorkloadIdentityNoToken,
    /// Workload Identity applies but no project is configured.
    #[error("project-id must be configured for Workload Identity exchange")]
    WorkloadIdentityNoProject,
    /// The STS exchange failed.
    #[error("Workload Identity exchange failed: {0}")]
    Sts(#[from] StsError),
    /// Impersonating the Google service account failed.
    #[error("Workload Identity impersonation failed: {0}")]
    Impersonation(#[from] ImpersonationError),
    /// `google-dockercfg` (or the document behind `google-dockercfg-url`) is unusable.
    #[error("while parsing {what}: {source}")]
    DockerConfig {
        /// Which document.
        what: &'static str,
        /// Why.
        source: DockerConfigError,
    },
    /// The URL named by `google-dockercfg-url` could not be read.
    #[error("while reading 'google-dockercfg-url'-specified url: {url}, {source}")]
    DockerConfigUrl {
        /// The URL (query string removed: it may hold a signature).
        url: String,
        /// Why.
        source: ReadUrlError,
    },
    /// `google-dockercfg-url` does not hold an http(s) URL.
    #[error("Unsupported URL scheme: {0}")]
    UnsupportedUrlScheme(String),
}

/// Which token the `gcr` flow uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The node's default service account, from the metadata server.
    NodeServiceAccount,
    /// The pod's service-account token exchanged at STS (Workload Identity).
    WorkloadIdentity,
}

/// Workload Identity settings from the command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkloadIdentityConfig {
    /// `--identity-provider`; empty disables Workload Identity.
    pub identity_provider: String,
    /// `--project-id`.
    pub project_id: String,
    /// `--impersonate-service-account` (kcred): a Google service account for every exchange.
    pub impersonate_service_account: Option<String>,
    /// `--impersonate-from-annotation` (kcred): read the account from
    /// `GCP_SERVICE_ACCOUNT_ANNOTATION` (`iam.gke.io/gcp-service-account`).
    pub impersonate_from_annotation: bool,
}

/// Upstream `ContainerRegistryProvider`, built per request (upstream `MakeRegistryProvider`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRegistryProvider {
    /// Also give the credential to the image's own registry (always true in the binary).
    pub use_registry_from_image: bool,
    /// The request's `serviceAccountToken`.
    pub ksa_token: Secret,
    /// The request's `serviceAccountAnnotations`.
    pub service_account_annotations: BTreeMap<String, String>,
    /// Workload Identity settings.
    pub wi: WorkloadIdentityConfig,
}

impl ContainerRegistryProvider {
    /// The provider for one request.
    pub fn for_request(request: &PluginRequest, wi: WorkloadIdentityConfig) -> Self {
        ContainerRegistryProvider {
            use_registry_from_image: true,
            ksa_token: request.service_account_token.clone(),
            service_account_annotations: request.service_account_annotations.clone(),
            wi,
        }
    }

    /// Upstream's rule: Workload Identity when `--identity-provider` is set and the service
    /// account carries `iam.gke.io/enable-wi-image-pull: "true"`; the node otherwise.
    pub fn token_source(&self) -> TokenSource {
        let annotated = self
            .service_account_annotations
            .get(ENABLE_WI_IMAGE_PULL_ANNOTATION)
            .is_some_and(|v| v == "true");
        if !self.wi.identity_provider.is_empty() && annotated {
            TokenSource::WorkloadIdentity
        } else {
            TokenSource::NodeServiceAccount
        }
    }

    /// The Google service account to impersonate after STS, if any.
    pub(crate) fn impersonation_target(&self) -> Option<&str> {
        let from_annotation = self
            .wi
            .impersonate_from_annotation
            .then(|| {
                self.service_account_annotations
                    .get(GCP_SERVICE_ACCOUNT_ANNOTATION)
            })
            .flatten()
            .map(String::as_str)
            .filter(|s| !s.is_empty());
        from_annotation.or(self
            .wi
            .impersonate_service_account
            .as_deref()
            .filter(|s| !s.is_empty()))
    }

    /// Credentials for `image`.
    pub fn provide(&self, image: &str, clients: &Clients) -> Result<Credentials, ProvideError> {
        let token = match self.token_source() {
            TokenSource::NodeServiceAccount => {
                crate::log::info!(
                    4,
                    "Standard flow active: Workload Identity is disabled, using Node Service Account for image: {image}"
                );
                clients.metadata().node_service_account_token()?
            }
            TokenSource::WorkloadIdentity => self.workload_identity_token(image, clients)?,
        };
        let entry = AuthConfig {
            username: TOKEN_USERNAME.to_owned(),
            password: token.token,
        };
        Ok(Credentials {
            auth: registry_entries(image, &entry, self.use_registry_from_image),
            lifetime: token.expires_in,
        })
    }

    fn workload_identity_token(
        &self,
        image: &str,
        clients: &Clients,
    ) -> Result<AccessToken, ProvideError> {
        if self.ksa_token.is_empty() {
            return Err(ProvideError::WorkloadIdentityNoToken);
        }
        if self.wi.project_id.is_empty() {
            return Err(ProvideError::WorkloadIdentityNoProject);
        }
        let audience = sts::audience(&self.wi.project_id, &self.wi.identity_provider);
        crate::log::info!(
            4,
            "auth-provider-gcp: Triggering Workload Identity exchange for image: {image} (audience {audience})"
        );
        let federated = sts::exchange(
            &clients.sts_http,
            &clients.endpoints.sts_url,
            &audience,
            &self.ksa_token,
        )?;
        crate::log::info!(4, "auth-provider-gcp: STS exchange successful");
        let Some(target) = self.impersonation_target() else {
            return Ok(federated);
        };
        crate::log::info!(4, "auth-provider-gcp: impersonating {target}");
        Ok(impersonate::generate_access_token(
            &clients.sts_http,
            &clients.endpoints.iam_credentials_url,
            target,
            &federated.token,
            SystemTime::now(),
        )?)
    }
}

/// Upstream `populateConfig`: the entry under the image's registry (the text before the
/// first `/`, only when there is one) and under every [`CONTAINER_REGISTRY_URLS`] pattern.
pub(crate) fn registry_entries(
    image: &str,
    entry: &AuthConfig,
    use_registry_from_image: bool,
) -> BTreeMap<String, AuthConfig> {
    let mut auth = BTreeMap::new();
    if use_registry_from_image {
        if let Some((registry, _)) = image.split_once('/') {
            auth.insert(registry.to_owned(), entry.clone());
        }
    }
    for url in CONTAINER_REGISTRY_URLS {
        auth.insert(url.to_owned(), entry.clone());
    }
    auth
}

fn auth_from_docker_config(cfg: DockerConfig) -> Credentials {
    // Inserting, not `collect()`, as in `docker_config::convert`: no sort code for entries
    // that arrive sorted.
    let mut auth = BTreeMap::new();
    for (k, e) in cfg {
        auth.insert(
            k,
            AuthConfig {
                username: e.username,
                password: e.password,
            },
        );
    }
    Credentials {
        auth,
        lifetime: None,
    }
}

/// Upstream `DockerConfigKeyProvider`: the `google-dockercfg` attribute.
pub(crate) fn provide_dockercfg(clients: &Clients) -> Result<Credentials, ProvideError> {
    let bytes = clients
        .metadata()
        .read(DOCKERCFG_PATH, "'google-dockercfg' metadata")?;
    let cfg = parse_dockercfg(&bytes).map_err(|source| ProvideError::DockerConfig {
        what: "'google-dockercfg' metadata",
        source,
    })?;
    Ok(auth_from_docker_config(cfg))
}

/// Upstream `DockerConfigURLKeyProvider`: the `.dockercfg` at the URL held in
/// `google-dockercfg-url`, fetched without the metadata headers.
pub(crate) fn provide_dockercfg_url(clients: &Clients) -> Result<Credentials, ProvideError> {
    let bytes = clients
        .metadata()
        .read(DOCKERCFG_URL_PATH, "'google-dockercfg-url' metadata")?;
    let url = String::from_utf8_lossy(&bytes).trim().to_owned();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(ProvideError::UnsupportedUrlScheme(redact_url(&url)));
    }
    let body = read_url(&clients.metadata_http, &url, &[]).map_err(|source| {
        ProvideError::DockerConfigUrl {
            url: redact_url(&url),
            source: source.redacted(),
        }
    })?;
    let cfg = parse_dockercfg(&body).map_err(|source| ProvideError::DockerConfig {
        what: "'google-dockercfg-url'-specified document",
        source,
    })?;
    Ok(auth_from_docker_config(cfg))
}

/// The provider serving one request (upstream `makeProvider`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Provider {
    /// `gcr`.
    ContainerRegistry(ContainerRegistryProvider),
    /// `dockercfg`.
    DockerConfigKey,
    /// `dockercfg-url`.
    DockerConfigUrlKey,
}

impl Provider {
    /// The provider for `flow` and `request`.
    pub(crate) fn for_flow(
        flow: AuthFlow,
        request: &PluginRequest,
        wi: WorkloadIdentityConfig,
    ) -> Self {
        match flow {
            AuthFlow::Gcr => {
                Provider::ContainerRegistry(ContainerRegistryProvider::for_request(request, wi))
            }
            AuthFlow::DockerCfg => Provider::DockerConfigKey,
            AuthFlow::DockerCfgUrl => Provider::DockerConfigUrlKey,
        }
    }

    /// Credentials for `image`.
    pub(crate) fn provide(
        &self,
        image: &str,
        clients: &Clients,
    ) -> Result<Credentials, ProvideError> {
        match self {
            Provider::ContainerRegistry(p) => p.provide(image, clients),
            Provider::DockerConfigKey => provide_dockercfg(clients),
            Provider::DockerConfigUrlKey => provide_dockercfg_url(clients),
        }
    }
}
