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
    /// `credentialprovider.kubelet.k8s.io` `CredentialProviderRequest` (checked strictly;
    /// no reader of the full scheme wants its value).
    Request,
    /// `credentialprovider.kubelet.k8s.io` `CredentialProviderResponse`.
    Response(CredentialProviderResponse),
    /// Another kind the kubelet's scheme registers (not modelled by kcred).
    Unmodeled,
}

/// A registered group/version/kind, before its fields are decoded.
enum Registered {
    Config(ConfigVersion),
    Request(ApiVersion),
    Response(ApiVersion),
    Unmodeled,
}

/// The scheme lookup: which registered type `doc`'s group/version/kind names, if any.
fn lookup(doc: &Document) -> Option<Registered> {
    let gvk = doc.gvk();
    match gvk.group.as_str() {
        CONFIG_GROUP => {
            if gvk.kind == "CredentialProviderConfig" {
                if let Some(version) = ConfigVersion::from_version(&gvk.version) {
                    return Some(Registered::Config(version));
                }
            }
            // Registered next to CredentialProviderConfig by the kubelet's config packages.
            matches!(
                (gvk.version.as_str(), gvk.kind.as_str()),
                ("v1alpha1", "ImagePullIntent" | "ImagePulledRecord")
                    | (
                        "v1beta1",
                        "KubeletConfiguration" | "SerializedNodeConfigSource"
                    )
            )
            .then_some(Registered::Unmodeled)
        }
        GROUP => {
            let version = ApiVersion::from_version(&gvk.version)?;
            match gvk.kind.as_str() {
                "CredentialProviderRequest" => Some(Registered::Request(version)),
                "CredentialProviderResponse" => Some(Registered::Response(version)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Step 4 of the universal decoder: the scheme lookup and the strict decode.
pub(crate) fn decode(doc: &Document) -> Result<Decoded, DecodeError> {
    match lookup(doc) {
        Some(Registered::Config(version)) => doc
            .decode_with(|w, value| config::decode_wire(w, value, version))
            .map(Decoded::Config),
        Some(Registered::Request(version)) => doc
            .decode_with(|w, value| request::decode_wire(w, value, version))
            .map(|_| Decoded::Request),
        Some(Registered::Response(version)) => doc
            .decode_with(|w, value| response::decode_wire(w, value, version))
            .map(Decoded::Response),
        Some(Registered::Unmodeled) => Ok(Decoded::Unmodeled),
        None => Err(doc.not_registered()),
    }
}

/// Step 4 for a reader that wants only a `CredentialProviderRequest` (a plugin): the same
/// lookup, but another registered kind is `Ok(None)` without its fields being decoded, so
/// a plugin does not carry the config and response decoders.
pub(crate) fn decode_request(
    doc: &Document,
) -> Result<Option<CredentialProviderRequest>, DecodeError> {
    match lookup(doc) {
        Some(Registered::Request(version)) => doc
            .decode_with(|w, value| request::decode_wire(w, value, version))
            .map(Some),
        Some(_) => Ok(None),
        None => Err(doc.not_registered()),
    }
}
