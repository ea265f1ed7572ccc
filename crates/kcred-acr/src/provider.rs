//! One request end to end: is it ACR? which identity? token → exchange → response.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use kcred_api::request::CredentialProviderRequest;
use kcred_api::response::AuthConfig;

use crate::azure_config::AzureConfig;
use crate::cloud::{parse_arm_metadata, parse_environment_file, CloudEnvironment, KnownCloud};
use crate::exchange::{exchange_refresh_token, fetch_challenge, ExchangeError};
use crate::http::{DialOverride, HttpClient, HttpError, HttpSettings, TrustRoots};
use crate::ib_config::IdentityBindingsConfig;
use crate::identity::{acquire_aad_token, AzureEndpoints, Clients, IdentityError};
use crate::login_server::{parse_login_server, AcrSuffixes, RegistryMirrors, BUILTIN_ACR_SUFFIXES};
use crate::protocol::PluginResponse;
use crate::selection::{select_credential, Credential, SelectionError, SelectionOptions};

/// How long kubelet may cache credentials (upstream master: 1 hour).
pub(crate) const CACHE_DURATION_SECS: u64 = 3600;

/// The anonymous-fallback key every ACR response carries (empty credentials, as upstream).
pub(crate) const ANONYMOUS_FALLBACK_KEY: &str = "*.azurecr.*";

/// Provider options from the command line.
#[derive(Debug, Clone, Default)]
pub struct ProviderOptions {
    /// `--registry-mirror`.
    pub mirrors: RegistryMirrors,
    /// `--ib-*`.
    pub identity_bindings: IdentityBindingsConfig,
    /// `--compat-upstream-auth-keys`.
    pub compat_upstream_auth_keys: bool,
    /// The AAD scope.
    pub scope: String,
    /// Identity choice options.
    pub selection: SelectionOptions,
}

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The cloud's endpoints could not be determined.
    #[error("failed to get cloud environment: {0}")]
    Cloud(String),
    /// No identity could be chosen.
    #[error(transparent)]
    Selection(#[from] SelectionError),
    /// The AAD token request failed.
    #[error("failed to get an AAD token: {0}")]
    Identity(#[from] IdentityError),
    /// The ACR side failed.
    #[error("{identity}: {source}")]
    Exchange {
        /// The identity used.
        identity: String,
        /// Why.
        source: ExchangeError,
    },
    /// The HTTP client could not be built.
    #[error(transparent)]
    Http(#[from] HttpError),
}

struct LazyClients<'a> {
    user_agent: &'a str,
    ib: &'a IdentityBindingsConfig,
    ib_ca_file: &'a std::path::Path,
    general: OnceCell<HttpClient>,
    identity_bindings: OnceCell<HttpClient>,
}

impl Clients for LazyClients<'_> {
    fn general(&self) -> Result<&HttpClient, HttpError> {
        let cell: &OnceCell<HttpClient> = &self.general;
        if let Some(c) = cell.get() {
            return Ok(c);
        }
        let client = HttpClient::new(&HttpSettings {
            user_agent: self.user_agent.to_owned(),
            roots: TrustRoots::System,
            proxy_from_env: true,
            dial: DialOverride::FromEnv,
        })?;
        Ok(cell.get_or_init(|| client))
    }

    fn identity_bindings(&self) -> Result<&HttpClient, HttpError> {
        let cell: &OnceCell<HttpClient> = &self.identity_bindings;
        if let Some(c) = cell.get() {
            return Ok(c);
        }
        let ip: IpAddr = self
            .ib
            .api_server_ip
            .parse()
            .map_err(|_| HttpError::Transport {
                method: "POST",
                url: format!("https://{}/", self.ib.sni_name),
                reason: format!(
                    "--ib-apiserver-ip {:?} is not an IP address",
                    self.ib.api_server_ip
                ),
            })?;
        let client = HttpClient::new(&HttpSettings {
            user_agent: self.user_agent.to_owned(),
            roots: TrustRoots::CaFile(self.ib_ca_file.to_owned()),
            proxy_from_env: false,
            dial: DialOverride::FixedIp(ip),
        })?;
        Ok(cell.get_or_init(|| client))
    }
}

/// The provider for one process.
#[derive(Debug)]
pub struct AcrProvider {
    config: AzureConfig,
    environment: CloudEnvironment,
    suffixes: AcrSuffixes,
    options: ProviderOptions,
}

/// Timeout of the ARM metadata call.
const METADATA_TIMEOUT: Duration = Duration::from_secs(15);

impl AcrProvider {
    /// Resolves the cloud (Azure Stack's environment file, the ARM metadata endpoint when
    /// `resourceManagerEndpoint` is set) and builds the provider.
    pub fn new(
        config: AzureConfig,
        options: ProviderOptions,
    ) -> Result<AcrProvider, ProviderError> {
        let known = KnownCloud::from_name(&config.cloud);
        let mut environment = known.environment();
        if known == KnownCloud::Stack {
            if let Some(path) =
                std::env::var_os("AZURE_ENVIRONMENT_FILEPATH").filter(|p| !p.is_empty())
            {
                let bytes = std::fs::read(&path).map_err(|e| {
                    ProviderError::Cloud(format!(
                        "open {}: {}",
                        std::path::Path::new(&path).display(),
                        crate::azure_config::go_io_reason(&e)
                    ))
                })?;
                parse_environment_file(&bytes)
                    .map_err(|e| ProviderError::Cloud(e.to_string()))?
                    .apply(&mut environment);
            }
        }
        let rm = config.resource_manager_endpoint.trim();
        if !rm.is_empty() {
            let url = format!(
                "{}/metadata/endpoints?api-version=2019-05-01",
                rm.trim_end_matches('/')
            );
            let client = HttpClient::new(&HttpSettings {
                user_agent: user_agent(&config),
                roots: TrustRoots::System,
                proxy_from_env: true,
                dial: DialOverride::FromEnv,
            })?;
            let resp = client
                .get(&url, &[], METADATA_TIMEOUT, 1 << 20)
                .map_err(|e| ProviderError::Cloud(e.to_string()))?;
            if resp.status != 200 {
                return Err(ProviderError::Cloud(format!(
                    "GET {url}: status {}: {}",
                    resp.status,
                    crate::http::body_snippet(&resp, 200)
                )));
            }
            parse_arm_metadata(&resp.body, rm)
                .map_err(|e| ProviderError::Cloud(e.to_string()))?
                .apply(&mut environment);
        }
        let suffixes = AcrSuffixes::new(&environment.acr_suffix);
        Ok(AcrProvider {
            config,
            environment,
            suffixes,
            options,
        })
    }

    /// Serves one request.
    pub fn provide(
        &self,
        req: &CredentialProviderRequest,
    ) -> Result<PluginResponse, ProviderError> {
        let Some(hit) = parse_login_server(&req.image, &self.options.mirrors, &self.suffixes)
        else {
            crate::log::LOG.info(2, format_args!("image {} is not an ACR image", req.image));
            return Ok(PluginResponse {
                cache_duration_secs: 0,
                auth: BTreeMap::new(),
            });
        };
        let mirrored = hit.source.is_some();
        let credential = select_credential(
            &self.config,
            &self.options.identity_bindings,
            req,
            mirrored,
            self.options.selection,
        )?;
        crate::log::LOG.info(
            2,
            format_args!("using {} for {}", credential.describe(), hit.target),
        );

        let mut auth = BTreeMap::new();
        auth.insert(ANONYMOUS_FALLBACK_KEY.to_owned(), AuthConfig::default());

        if let Credential::StaticServicePrincipal { client_id, secret } = &credential {
            let entry = AuthConfig {
                username: client_id.clone(),
                password: secret.clone(),
            };
            if self.options.compat_upstream_auth_keys {
                // Exactly upstream's keys (`GetCredentials` in cloud-provider-azure 7b31c76
                // pkg/credentialprovider/azure_credentials.go): the four built-in wildcards,
                // plus `"*" + ContainerRegistryDNSSuffix` when that suffix contains
                // `.azurecr.` and folds equal to none of them; never the image's own host
                // (a geo-replica `x.westus.geo.azurecr.io` gets no key of its own).
                for suffix in BUILTIN_ACR_SUFFIXES {
                    auth.insert(format!("*.{suffix}"), entry.clone());
                }
                let custom = format!("*{}", self.environment.acr_suffix);
                if self.environment.acr_suffix.contains(".azurecr.")
                    && !BUILTIN_ACR_SUFFIXES
                        .iter()
                        .any(|s| kcred_api::go::json::equal_fold(&custom, &format!("*.{s}")))
                {
                    auth.insert(custom, entry);
                }
            } else {
                auth.insert(hit.target.clone(), entry);
            }
            return Ok(PluginResponse {
                cache_duration_secs: CACHE_DURATION_SECS,
                auth,
            });
        }

        let mut endpoints =
            AzureEndpoints::new(&self.environment.authority_host, &self.options.scope);
        endpoints.ib_sni_name = self.options.identity_bindings.sni_name.clone();
        let ua = user_agent(&self.config);
        let clients = LazyClients {
            user_agent: &ua,
            ib: &self.options.identity_bindings,
            ib_ca_file: &endpoints.ib_ca_file,
            general: OnceCell::new(),
            identity_bindings: OnceCell::new(),
        };
        let Some(aad_token) = acquire_aad_token(&credential, &endpoints, &clients)? else {
            return Ok(PluginResponse::default());
        };
        let exchange_tenant = match &credential {
            Credential::WorkloadIdentity { tenant_id, .. } => tenant_id.clone(),
            _ => self.config.tenant_id.clone(),
        };
        let acr_clients = LazyClients {
            user_agent: crate::ACR_USER_AGENT,
            ib: &self.options.identity_bindings,
            ib_ca_file: &endpoints.ib_ca_file,
            general: OnceCell::new(),
            identity_bindings: OnceCell::new(),
        };
        let http = acr_clients.general()?;
        let wrap = |source| ProviderError::Exchange {
            identity: credential.describe(),
            source,
        };
        let challenge = fetch_challenge(http, &hit.target).map_err(wrap)?;
        let refresh =
            exchange_refresh_token(http, &challenge, &aad_token, &exchange_tenant).map_err(wrap)?;
        let entry = AuthConfig {
            username: crate::ACR_REFRESH_TOKEN_USERNAME.to_owned(),
            password: refresh,
        };
        if let Some(source) = &hit.source {
            auth.insert(source.clone(), entry.clone());
        }
        auth.insert(hit.target.clone(), entry);
        Ok(PluginResponse {
            cache_duration_secs: CACHE_DURATION_SECS,
            auth,
        })
    }
}

/// The AAD/IMDS User-Agent: azure.json's `userAgent`, else kcred's.
fn user_agent(config: &AzureConfig) -> String {
    if config.user_agent.is_empty() {
        concat!("kcred-acr-credential-provider/", env!("CARGO_PKG_VERSION")).to_owned()
    } else {
        config.user_agent.clone()
    }
}
