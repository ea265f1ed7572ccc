//! `CredentialProviderRequest`: what the kubelet writes on a plugin's stdin.

use std::collections::BTreeMap;

use crate::{ApiVersion, Secret};

/// A request for credentials for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialProviderRequest {
    /// The version the request is encoded in (the provider's configured `apiVersion`).
    pub api_version: ApiVersion,
    /// `image`: the normalised image name (no tag or digest).
    pub image: String,
    /// `serviceAccountToken` (v1 only; dropped for older versions; omitted when empty).
    pub service_account_token: Option<Secret>,
    /// `serviceAccountAnnotations` (v1 only; omitted when empty; keys sorted).
    pub service_account_annotations: BTreeMap<String, String>,
}
