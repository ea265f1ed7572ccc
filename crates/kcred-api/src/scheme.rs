//! The kubelet's runtime scheme: which group/version/kind a document may have, and what
//! it decodes into.
//!
//! The credential-provider plugin code registers the `credentialprovider.kubelet.k8s.io`
//! request/response types and the `kubelet.config.k8s.io` config types in one scheme, so
//! a config file may name any of them (and then fail with "wrong Kind"), and a response
//! may be decoded as a request. Kinds kcred does not model (`KubeletConfiguration` and
//! friends) decode to [`Decoded::Unmodeled`] without their fields being checked.

use crate::config::{self, ConfigVersion, CredentialProviderConfig, CONFIG_GROUP};
use crate::request::{self, CredentialProviderRequest};
use crate::response::{self, CredentialProviderResponse};
use crate::strict::{DecodeError, Document};
use crate::version::{ApiVersion, GROUP};

/// A strictly decoded document of a registered kind.
#[derive(Debug)]
pub(crate) enum Decoded {
    /// `kubelet.config.k8s.io` `CredentialProviderConfig`.
    Config(CredentialProviderConfig),
    /// `credentialprovider.kubelet.k8s.io` `CredentialProviderRequest`.
    Request(CredentialProviderRequest),
    /// `credentialprovider.kubelet.k8s.io` `CredentialProviderResponse`.
    Response(CredentialProviderResponse),
    /// Another kind the kubelet's scheme registers (not modelled by kcred).
    Unmodeled,
}

/// Step 4 of the universal decoder: the scheme lookup and the strict decode.
pub(crate) fn decode(doc: &Document) -> Result<Decoded, DecodeError> {
    let gvk = doc.gvk();
    match gvk.group.as_str() {
        CONFIG_GROUP => {
            if gvk.kind == "CredentialProviderConfig" {
                if let Some(version) = ConfigVersion::from_version(&gvk.version) {
                    return doc
                        .decode_with(|w, value| config::decode_wire(w, value, version))
                        .map(Decoded::Config);
                }
            }
            // Registered next to CredentialProviderConfig by the kubelet's config packages.
            if matches!(
                (gvk.version.as_str(), gvk.kind.as_str()),
                ("v1alpha1", "ImagePullIntent" | "ImagePulledRecord")
                    | (
                        "v1beta1",
                        "KubeletConfiguration" | "SerializedNodeConfigSource"
                    )
            ) {
                return Ok(Decoded::Unmodeled);
            }
        }
        GROUP => {
            if let Some(version) = ApiVersion::from_version(&gvk.version) {
                match gvk.kind.as_str() {
                    "CredentialProviderRequest" => {
                        return doc
                            .decode_with(|w, value| request::decode_wire(w, value, version))
                            .map(Decoded::Request)
                    }
                    "CredentialProviderResponse" => {
                        return doc
                            .decode_with(|w, value| response::decode_wire(w, value, version))
                            .map(Decoded::Response)
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    Err(doc.not_registered())
}
