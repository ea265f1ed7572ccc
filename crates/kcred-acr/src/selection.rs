//! Which identity serves a request (upstream's `NewAcrProvider` choice, with kcred's fixes).
//!
//! 1. Not mirrored and identity bindings on: a request with a service-account token uses
//!    identity bindings; **without** a token kcred falls back to the node identity (upstream
//!    fails every such request, ACR or not).
//! 2. Not mirrored and a service-account token: workload identity when the service account has
//!    identity annotations (`kubernetes.azure.com/acr-client-id`/`acr-tenant-id`, else
//!    `azure.workload.identity/client-id`/`tenant-id`, the latter's tenant defaulting to azure.json's),
//!    whatever `useManagedIdentityExtension` says; no identity annotation at all → node identity
//!    (upstream fails); half an annotation pair → error.
//! 3. The node identity: managed identity (`useManagedIdentityExtension`), else a federated
//!    token file, else a service principal: secret (echoed without network, as upstream, unless
//!    asked to exchange it), else certificate (exchanged; upstream returns an empty password).
//!
//! The caller checks that the image is an ACR image first, so a non-ACR image never fails here.

use std::collections::BTreeMap;

use kcred_api::request::CredentialProviderRequest;
use kcred_api::Secret;

use crate::azure_config::AzureConfig;
use crate::ib_config::IdentityBindingsConfig;

/// Upstream's client-id annotation.
pub(crate) const ACR_CLIENT_ID_ANNOTATION: &str = "kubernetes.azure.com/acr-client-id";
/// Upstream's tenant-id annotation.
pub(crate) const ACR_TENANT_ID_ANNOTATION: &str = "kubernetes.azure.com/acr-tenant-id";
/// Azure Workload Identity's client-id annotation (fallback).
pub(crate) const AWI_CLIENT_ID_ANNOTATION: &str = "azure.workload.identity/client-id";
/// Azure Workload Identity's tenant-id annotation (fallback).
pub(crate) const AWI_TENANT_ID_ANNOTATION: &str = "azure.workload.identity/tenant-id";

/// A managed identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagedIdentityId {
    /// The VM's system-assigned identity.
    SystemAssigned,
    /// A user-assigned identity by client ID (`client_id=`).
    ClientId(String),
    /// A user-assigned identity by ARM resource ID (`msi_res_id=`).
    ResourceId(String),
}

impl ManagedIdentityId {
    /// From `userAssignedIdentityID`: empty → system; contains `/subscriptions/` → resource ID.
    pub(crate) fn from_config(id: &str) -> ManagedIdentityId {
        if id.is_empty() {
            ManagedIdentityId::SystemAssigned
        } else if id.to_ascii_lowercase().contains("/subscriptions/") {
            ManagedIdentityId::ResourceId(id.to_owned())
        } else {
            ManagedIdentityId::ClientId(id.to_owned())
        }
    }
}

/// The chosen credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Managed identity through IMDS.
    ManagedIdentity(ManagedIdentityId),
    /// The kubelet's service-account token as an AAD client assertion.
    WorkloadIdentity {
        /// The app's client ID (annotation).
        client_id: String,
        /// The tenant (annotation, or azure.json for Azure Workload Identity annotations).
        tenant_id: String,
        /// The service-account token.
        token: Secret,
    },
    /// AKS identity bindings.
    IdentityBindings {
        /// Client ID (annotation, else `--ib-default-client-id`).
        client_id: String,
        /// The service-account token.
        token: Secret,
    },
    /// `aadFederatedTokenFile` as a client assertion for `aadClientId`.
    FederatedTokenFile {
        /// `aadClientId`.
        client_id: String,
        /// `tenantId`.
        tenant_id: String,
        /// The token file.
        path: String,
    },
    /// `aadClientCertPath`: a certificate-signed client assertion.
    ClientCertificate {
        /// `aadClientId`.
        client_id: String,
        /// `tenantId`.
        tenant_id: String,
        /// PEM with certificate and private key.
        cert_path: String,
    },
    /// `aadClientSecret` exchanged for an AAD token (opt-in).
    ClientSecret {
        /// `aadClientId`.
        client_id: String,
        /// `tenantId`.
        tenant_id: String,
        /// The secret.
        secret: Secret,
    },
    /// `aadClientId`/`aadClientSecret` returned as basic credentials (no network; upstream).
    StaticServicePrincipal {
        /// Username.
        client_id: String,
        /// Password.
        secret: Secret,
    },
}

impl Credential {
    /// What this credential is, with its identifiers, for logs and errors (never a secret).
    pub(crate) fn describe(&self) -> String {
        match self {
            Credential::ManagedIdentity(ManagedIdentityId::SystemAssigned) => {
                "managed identity (system-assigned)".to_owned()
            }
            Credential::ManagedIdentity(ManagedIdentityId::ClientId(id)) => {
                format!("managed identity (client_id {id})")
            }
            Credential::ManagedIdentity(ManagedIdentityId::ResourceId(id)) => {
                format!("managed identity (msi_res_id {id})")
            }
            Credential::WorkloadIdentity {
                client_id,
                tenant_id,
                ..
            } => {
                format!("workload identity (client_id {client_id}, tenant {tenant_id})")
            }
            Credential::IdentityBindings { client_id, .. } => {
                format!("identity bindings (client_id {client_id})")
            }
            Credential::FederatedTokenFile {
                client_id,
                tenant_id,
                path,
            } => {
                format!("federated token file {path} (client_id {client_id}, tenant {tenant_id})")
            }
            Credential::ClientCertificate {
                client_id,
                tenant_id,
                cert_path,
            } => {
                format!("service principal certificate {cert_path} (client_id {client_id}, tenant {tenant_id})")
            }
            Credential::ClientSecret {
                client_id,
                tenant_id,
                ..
            } => {
                format!("service principal secret (client_id {client_id}, tenant {tenant_id})")
            }
            Credential::StaticServicePrincipal { client_id, .. } => {
                format!("static service principal credentials (client_id {client_id})")
            }
        }
    }
}

/// Options of the choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SelectionOptions {
    /// Exchange a service-principal secret at AAD instead of echoing it.
    pub exchange_client_secret: bool,
}

/// A choice that cannot be made (upstream's messages where it has them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// A client-id annotation is missing or empty while another identity annotation is set.
    #[error("client id annotation {0} is not found or the value is empty")]
    ClientIdAnnotation(&'static str),
    /// A tenant-id annotation is missing or empty.
    #[error("tenant id annotation {0} is not found or the value is empty")]
    TenantIdAnnotation(&'static str),
    /// Identity bindings could not build their credential.
    #[error("failed to get identity bindings token credential for image {image}: {reason}")]
    IdentityBindings {
        /// The requested image.
        image: String,
        /// Why.
        reason: IbCredentialError,
    },
}

/// Why an identity-bindings credential cannot be built (upstream's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IbCredentialError {
    /// No `--ib-sni-name`.
    #[error("SNI name not provided in identity bindings config")]
    NoSniName,
    /// No `--ib-apiserver-ip`.
    #[error("API server IP not provided in identity bindings config")]
    NoApiServerIp,
    /// No service-account token.
    #[error("service account token not found in request")]
    NoToken,
    /// No client ID from the annotation (present-but-empty counts, as upstream) or the default.
    #[error("client ID not configured: client ID not found in service account annotations (checked {ACR_CLIENT_ID_ANNOTATION}) and no default client ID configured")]
    NoClientId,
}

/// Upstream's `GetIdentityBindingsTokenCredential`.
pub fn identity_bindings_credential(
    ib: &IdentityBindingsConfig,
    token: Option<&Secret>,
    annotations: &BTreeMap<String, String>,
) -> Result<Credential, IbCredentialError> {
    if ib.sni_name.is_empty() {
        return Err(IbCredentialError::NoSniName);
    }
    if ib.api_server_ip.is_empty() {
        return Err(IbCredentialError::NoApiServerIp);
    }
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(IbCredentialError::NoToken)?;
    let client_id = match annotations.get(ACR_CLIENT_ID_ANNOTATION) {
        Some(id) => id.clone(),
        None => ib.default_client_id.clone(),
    };
    if client_id.is_empty() {
        return Err(IbCredentialError::NoClientId);
    }
    Ok(Credential::IdentityBindings {
        client_id,
        token: token.clone(),
    })
}

/// Workload identity from the service account's annotations: `Ok(None)` when it has none.
pub(crate) fn workload_identity_from_annotations(
    annotations: &BTreeMap<String, String>,
    config_tenant: &str,
) -> Result<Option<(String, String)>, SelectionError> {
    let has = |k: &str| annotations.contains_key(k);
    let non_empty = |k: &str| annotations.get(k).filter(|v| !v.is_empty()).cloned();
    let upstream_keys = has(ACR_CLIENT_ID_ANNOTATION) || has(ACR_TENANT_ID_ANNOTATION);
    let awi_keys = has(AWI_CLIENT_ID_ANNOTATION) || has(AWI_TENANT_ID_ANNOTATION);
    if !upstream_keys && !awi_keys {
        return Ok(None);
    }
    let (client_id, from_awi) = match non_empty(ACR_CLIENT_ID_ANNOTATION) {
        Some(c) => (c, false),
        None => match non_empty(AWI_CLIENT_ID_ANNOTATION) {
            Some(c) => (c, true),
            None if upstream_keys => {
                return Err(SelectionError::ClientIdAnnotation(ACR_CLIENT_ID_ANNOTATION))
            }
            None => return Err(SelectionError::ClientIdAnnotation(AWI_CLIENT_ID_ANNOTATION)),
        },
    };
    let tenant = non_empty(ACR_TENANT_ID_ANNOTATION)
        .or_else(|| non_empty(AWI_TENANT_ID_ANNOTATION))
        .or_else(|| (from_awi && !config_tenant.is_empty()).then(|| config_tenant.to_owned()));
    match tenant {
        Some(t) => Ok(Some((client_id, t))),
        None if from_awi => Err(SelectionError::TenantIdAnnotation(AWI_TENANT_ID_ANNOTATION)),
        None => Err(SelectionError::TenantIdAnnotation(ACR_TENANT_ID_ANNOTATION)),
    }
}

/// The node's own identity (no service-account token involved).
pub(crate) fn node_credential(cfg: &AzureConfig, opts: SelectionOptions) -> Credential {
    if cfg.use_managed_identity_extension {
        return Credential::ManagedIdentity(ManagedIdentityId::from_config(
            &cfg.user_assigned_identity_id,
        ));
    }
    if cfg.use_federated_workload_identity_extension && !cfg.aad_federated_token_file.is_empty() {
        return Credential::FederatedTokenFile {
            client_id: cfg.aad_client_id.clone(),
            tenant_id: cfg.tenant_id.clone(),
            path: cfg.aad_federated_token_file.clone(),
        };
    }
    if !cfg.aad_client_secret.is_empty() {
        if opts.exchange_client_secret {
            return Credential::ClientSecret {
                client_id: cfg.aad_client_id.clone(),
                tenant_id: cfg.tenant_id.clone(),
                secret: cfg.aad_client_secret.clone(),
            };
        }
    } else if !cfg.aad_client_cert_path.is_empty() {
        return Credential::ClientCertificate {
            client_id: cfg.aad_client_id.clone(),
            tenant_id: cfg.tenant_id.clone(),
            cert_path: cfg.aad_client_cert_path.clone(),
        };
    }
    Credential::StaticServicePrincipal {
        client_id: cfg.aad_client_id.clone(),
        secret: cfg.aad_client_secret.clone(),
    }
}

/// Chooses the credential for `req` (`mirrored`: the image reached ACR through a mirror).
pub fn select_credential(
    cfg: &AzureConfig,
    ib: &IdentityBindingsConfig,
    req: &CredentialProviderRequest,
    mirrored: bool,
    opts: SelectionOptions,
) -> Result<Credential, SelectionError> {
    let token = req.service_account_token.as_ref().filter(|t| !t.is_empty());
    if !mirrored && token.is_some() {
        if ib.enabled() {
            return identity_bindings_credential(ib, token, &req.service_account_annotations)
                .map_err(|reason| SelectionError::IdentityBindings {
                    image: req.image.clone(),
                    reason,
                });
        }
        if let (Some(token), Some((client_id, tenant_id))) = (
            token,
            workload_identity_from_annotations(&req.service_account_annotations, &cfg.tenant_id)?,
        ) {
            return Ok(Credential::WorkloadIdentity {
                client_id,
                tenant_id,
                token: token.clone(),
            });
        }
    }
    Ok(node_credential(cfg, opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn awi_annotations_fall_back_to_config_tenant() {
        let a = ann(&[(AWI_CLIENT_ID_ANNOTATION, "c")]);
        assert_eq!(
            workload_identity_from_annotations(&a, "t").unwrap(),
            Some(("c".into(), "t".into()))
        );
        assert_eq!(
            workload_identity_from_annotations(&a, ""),
            Err(SelectionError::TenantIdAnnotation(AWI_TENANT_ID_ANNOTATION))
        );
        let a = ann(&[
            (ACR_CLIENT_ID_ANNOTATION, "c"),
            (AWI_TENANT_ID_ANNOTATION, "t2"),
        ]);
        assert_eq!(
            workload_identity_from_annotations(&a, "t").unwrap(),
            Some(("c".into(), "t2".into()))
        );
        assert_eq!(
            workload_identity_from_annotations(&ann(&[("other", "x")]), "t").unwrap(),
            None
        );
    }

    #[test]
    fn managed_identity_ids() {
        assert_eq!(
            ManagedIdentityId::from_config(""),
            ManagedIdentityId::SystemAssigned
        );
        assert!(matches!(
            ManagedIdentityId::from_config("/SUBSCRIPTIONS/x/resourceGroups/y"),
            ManagedIdentityId::ResourceId(_)
        ));
        assert!(matches!(
            ManagedIdentityId::from_config("abc"),
            ManagedIdentityId::ClientId(_)
        ));
    }
}
