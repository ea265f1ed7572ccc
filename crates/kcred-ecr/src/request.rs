//! Reading the request the way upstream's `plugin.go` does.
//!
//! Upstream sniffs `apiVersion`/`kind`, rejects any group/version but
//! `credentialprovider.kubelet.k8s.io/v1` with `group version <gv> is not supported`, then
//! decodes **non-strictly**: unknown fields are ignored, so a future kubelet adding a field
//! does not break it. kcred does the same, and additionally accepts `v1alpha1` and
//! `v1beta1` (answered in the same version). Messages never quote the document, which may
//! hold a service-account token.

use kcred_api::go::lenient::{self, LenientDecodeError};
use kcred_api::go::strict::{interpret_gvk, InterpretError};
use kcred_api::request::{CredentialProviderRequest, REQUEST_KIND};
use kcred_api::ApiVersion;

/// Why stdin is not a request upstream would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RequestError {
    /// The `apiVersion`/`kind` sniff failed: not JSON, a non-string `apiVersion`/`kind`, or
    /// more than one `/` in `apiVersion` (apimachinery's messages,
    /// [`kcred_api::go::strict::interpret_gvk`]).
    #[error(transparent)]
    Sniff(#[from] InterpretError),
    /// Not a version of `credentialprovider.kubelet.k8s.io` this plugin speaks.
    #[error("group version {0} is not supported")]
    UnsupportedGroupVersion(String),
    /// Another kind.
    #[error("kind was {0:?}, expected CredentialProviderRequest")]
    WrongKind(String),
    /// A field of the wrong JSON type (Go's `json: cannot unmarshal …`).
    #[error(transparent)]
    Decode(LenientDecodeError),
}

/// Decodes stdin as upstream's plugin does (plus the two older versions): apimachinery's
/// sniff, the version and kind checks, then the shared lenient decoder with
/// [`kcred_api::go::lenient::ECR`] (exact keys, unknown fields ignored, Go's error texts).
pub(crate) fn decode_request(bytes: &[u8]) -> Result<CredentialProviderRequest, RequestError> {
    let gvk = interpret_gvk(bytes)?;
    let api_version = if gvk.group.is_empty() {
        gvk.version
    } else {
        format!("{}/{}", gvk.group, gvk.version)
    };
    let version = ApiVersion::parse(&api_version)
        .ok_or_else(|| RequestError::UnsupportedGroupVersion(api_version.clone()))?;
    if gvk.kind != REQUEST_KIND {
        return Err(RequestError::WrongKind(gvk.kind));
    }
    let fields = lenient::decode_request(bytes, &lenient::ECR).map_err(RequestError::Decode)?;
    let mut request = CredentialProviderRequest::new(version, fields.image);
    if version.supports_service_account_token() {
        request.service_account_token =
            Some(fields.service_account_token).filter(|t| !t.is_empty());
        request.service_account_annotations = fields.service_account_annotations;
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcred_api::Secret;

    #[test]
    fn upstream_messages() {
        let e = |s: &str| decode_request(s.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            e(r#"{"kind":"CredentialProviderRequest","apiVersion":"foo.k8s.io/v1","image":"x"}"#),
            "group version foo.k8s.io/v1 is not supported"
        );
        assert_eq!(
            e(
                r#"{"kind":"CredentialProviderFoo","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}"#
            ),
            r#"kind was "CredentialProviderFoo", expected CredentialProviderRequest"#
        );
        assert_eq!(
            e(r#"{"kind":"CredentialProviderRequest","apiVersion":"a/b/c"}"#),
            "unexpected GroupVersion string: a/b/c"
        );
        assert!(e("nope").starts_with("couldn't get version/kind; json parse error: "));
        assert_eq!(
            e(r#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":1}"#),
            "json: cannot unmarshal number into Go struct field CredentialProviderRequest.image of type string"
        );
    }

    #[test]
    fn unknown_fields_are_ignored_and_versions_kept() {
        let r = decode_request(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1",
                "image":"a.b/c","futureField":{"x":1},"serviceAccountToken":"t",
                "serviceAccountAnnotations":{"k":"v"}}"#,
        )
        .unwrap();
        assert_eq!(r.image, "a.b/c");
        assert_eq!(r.service_account_token, Some(Secret::from("t")));
        assert_eq!(
            r.service_account_annotations.get("k").map(String::as_str),
            Some("v")
        );
        let r = decode_request(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"x","serviceAccountToken":"t"}"#,
        )
        .unwrap();
        assert_eq!(r.api_version, ApiVersion::V1Alpha1);
        assert_eq!(r.service_account_token, None);
    }

    #[test]
    fn errors_never_quote_the_token() {
        let e = decode_request(
            br#"{"kind":"X","apiVersion":"credentialprovider.kubelet.k8s.io/v1","serviceAccountToken":"SECRET"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("SECRET"));
    }
}
