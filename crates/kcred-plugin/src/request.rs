//! [`PluginRequest`]: what a provider's handler is asked.

use std::collections::BTreeMap;

use kcred_api::request::CredentialProviderRequest;
use kcred_api::{ApiVersion, Secret};

use crate::log::Logger;
use crate::registry::image_registry;

/// One decoded `CredentialProviderRequest`, with the plugin's arguments and logger.
#[derive(Debug)]
pub struct PluginRequest {
    request: CredentialProviderRequest,
    args: Vec<String>,
    log: Logger,
}

impl PluginRequest {
    /// Wraps a decoded request. The SDK builds this; it is public for handler unit tests.
    pub fn new(request: CredentialProviderRequest, args: Vec<String>, log: Logger) -> Self {
        if let Some(token) = &request.service_account_token {
            log.redact(token);
            crate::secrets::register(token.expose());
        }
        PluginRequest { request, args, log }
    }

    /// `image`: the normalised image name, without tag or digest
    /// (`docker.io/library/nginx`, `registry.io:5000/team/app`).
    pub fn image(&self) -> &str {
        &self.request.image
    }

    /// The registry host of [`image`](Self::image), port included (see [`image_registry`]).
    pub fn registry(&self) -> &str {
        image_registry(&self.request.image)
    }

    /// The version the request came in; the SDK answers in the same one.
    pub fn api_version(&self) -> ApiVersion {
        self.request.api_version
    }

    /// `serviceAccountToken` (v1 requests from a provider with `tokenAttributes` only).
    /// It is already registered for scrubbing, with the logger and process-wide.
    pub fn service_account_token(&self) -> Option<&Secret> {
        self.request.service_account_token.as_ref()
    }

    /// `serviceAccountAnnotations` (v1 only; empty otherwise).
    pub fn service_account_annotations(&self) -> &BTreeMap<String, String> {
        &self.request.service_account_annotations
    }

    /// Command-line arguments that are not the SDK's flags, in order, when the plugin was
    /// built with [`UnknownArgs::PassToPlugin`](crate::UnknownArgs::PassToPlugin).
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// The leveled stderr logger (`-v` applied, secrets scrubbed).
    pub fn log(&self) -> &Logger {
        &self.log
    }

    /// The decoded wire request.
    pub fn wire(&self) -> &CredentialProviderRequest {
        &self.request
    }
}
