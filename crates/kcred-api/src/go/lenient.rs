//! Lenient decoding of a `CredentialProviderRequest`, as each upstream plugin reads stdin.
//!
//! The kubelet's own decoder is strict ([`crate::request::CredentialProviderRequest::decode`]).
//! The upstream plugins are not, and they are not lenient in the same way: what each one
//! tolerates is a small [`RequestPolicy`] table, and [`decode_request`] applies it with Go's
//! exact semantics (Go's syntax errors, the first `*json.UnmarshalTypeError`, `null` leaving a
//! field as it is, a repeated `serviceAccountAnnotations` object merging into the map).
//!
//! | upstream | Go decoder | type-meta sniff | keys | unknown fields | repeated keys |
//! |---|---|---|---|---|---|
//! | [`ECR`] (`cloud-provider-aws` `cmd/ecr-credential-provider/main.go`) | `codecs.UniversalDecoder(v1).Decode`, non-strict | yes | exact | ignored | last wins |
//! | [`ACR`] (`cloud-provider-azure` `cmd/acr-credential-provider`) | the same codec | yes | exact | ignored | last wins |
//! | [`GCP`] (`cloud-provider-gcp` `cmd/auth-provider-gcp/provider`) | `json.Unmarshal` | no | folded ([`super::json::equal_fold`]) | ignored | last wins |
//!
//! What each plugin then checks (the accepted versions, the kind, a required `image`) and the
//! messages it prints stay in the plugin.

use std::collections::BTreeMap;

use crate::duration::DurationError;
use crate::gojson::{self, SyntaxError};
use crate::strict::{
    interpret_value, FieldError, FieldPolicy, GoStruct, GroupVersionKind, InterpretError,
    StrictDecodingError, UnmarshalTypeError, Walker,
};
use crate::Secret;

/// What one upstream's request decoder does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPolicy {
    /// The upstream program, for messages and docs (`ecr-credential-provider`).
    pub upstream: &'static str,
    /// `apiVersion`/`kind` are first read with apimachinery's sniff
    /// (`json.DefaultMetaFactory.Interpret`: case-insensitive, errors
    /// `couldn't get version/kind; json parse error: …`).
    pub sniff_type_meta: bool,
    /// How keys match fields and which strictness violations fail the decode.
    pub fields: FieldPolicy,
}

/// `ecr-credential-provider`: sniff, then apimachinery's non-strict codec.
pub const ECR: RequestPolicy = RequestPolicy {
    upstream: "ecr-credential-provider",
    sniff_type_meta: true,
    fields: FieldPolicy::CASE_SENSITIVE_LENIENT,
};

/// `acr-credential-provider`: sniff, then apimachinery's non-strict codec.
pub const ACR: RequestPolicy = RequestPolicy {
    upstream: "acr-credential-provider",
    sniff_type_meta: true,
    fields: FieldPolicy::CASE_SENSITIVE_LENIENT,
};

/// `auth-provider-gcp`: plain `json.Unmarshal` into the v1 type; `apiVersion` and `kind`
/// are not checked.
pub const GCP: RequestPolicy = RequestPolicy {
    upstream: "auth-provider-gcp",
    sniff_type_meta: false,
    fields: FieldPolicy::ENCODING_JSON,
};

/// The fields of Go's `v1.CredentialProviderRequest` after decoding: what the struct holds,
/// before any plugin check. Absent and `null` fields are empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestFields {
    /// The sniffed `apiVersion`/`kind` (only with [`RequestPolicy::sniff_type_meta`]).
    pub type_meta: Option<GroupVersionKind>,
    /// `apiVersion` as decoded into the struct.
    pub api_version: String,
    /// `kind` as decoded into the struct.
    pub kind: String,
    /// `image`.
    pub image: String,
    /// `serviceAccountToken` (empty when absent).
    pub service_account_token: Secret,
    /// `serviceAccountAnnotations` (`null` values are `""`, as Go stores them).
    pub service_account_annotations: BTreeMap<String, String>,
}

/// Why a request could not be decoded. No variant quotes a string value of the document,
/// so a service-account token cannot reach a log through it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LenientDecodeError {
    /// The type-meta sniff failed (apimachinery's message, JSON syntax errors included).
    #[error(transparent)]
    Sniff(#[from] InterpretError),
    /// Not JSON (Go's `*json.SyntaxError` text, e.g. `unexpected end of JSON input`).
    #[error("{0}")]
    Syntax(SyntaxError),
    /// A value of the wrong JSON type: the first one, as Go reports it
    /// (`json: cannot unmarshal number into Go struct field CredentialProviderRequest.image of type string`).
    #[error(transparent)]
    Type(#[from] UnmarshalTypeError),
    /// A duration field `time.ParseDuration` rejects (the request type has none; kept so
    /// every decoder error has a home).
    #[error(transparent)]
    Duration(#[from] DurationError),
    /// Unknown or repeated fields, when the policy reports them.
    #[error(transparent)]
    Strict(#[from] StrictDecodingError),
}

/// Decodes a request as the upstream described by `policy` does.
///
/// ```
/// use kcred_api::go::lenient::{decode_request, ECR, GCP};
/// let doc = br#"{"IMAGE":"a.io/x","image":"b.io/y","future":1}"#;
/// assert_eq!(decode_request(doc, &GCP).unwrap().image, "b.io/y");
/// let doc = br#"{"image":"b.io/y","IMAGE":"a.io/x"}"#;
/// assert_eq!(decode_request(doc, &GCP).unwrap().image, "a.io/x"); // folded, last wins
/// assert_eq!(decode_request(doc, &ECR).unwrap().image, "b.io/y"); // exact keys only
/// ```
pub fn decode_request(
    bytes: &[u8],
    policy: &RequestPolicy,
) -> Result<RequestFields, LenientDecodeError> {
    let value = match gojson::parse(bytes) {
        Ok(value) => value,
        Err(e) if policy.sniff_type_meta => {
            return Err(LenientDecodeError::Sniff(InterpretError::Json(
                e.to_string(),
            )))
        }
        Err(e) => return Err(LenientDecodeError::Syntax(e)),
    };
    let mut fields = RequestFields::default();
    if policy.sniff_type_meta {
        fields.type_meta = Some(interpret_value(&value)?);
    }
    let mut walker = Walker::with_policy(policy.fields);
    let spec = GoStruct {
        name: "CredentialProviderRequest",
        go_type: "v1.CredentialProviderRequest",
        fields: crate::request::REQUEST_FIELDS_V1,
        inline_type_meta: true,
    };
    let mut token = String::new();
    walker
        .object(&value, &spec, |w, field, v| {
            match field {
                "kind" => w.string(v, "string", &mut fields.kind),
                "apiVersion" => w.string(v, "string", &mut fields.api_version),
                "image" => w.string(v, "string", &mut fields.image),
                "serviceAccountToken" => w.string(v, "string", &mut token),
                _ => w.map(
                    v,
                    "map[string]string",
                    &mut fields.service_account_annotations,
                    Walker::string_element,
                )?,
            }
            Ok(())
        })
        .map_err(|abort| match abort.0 {
            FieldError::Type(e) => LenientDecodeError::Type(e),
            FieldError::Duration(e) => LenientDecodeError::Duration(e),
        })?;
    if let Some(e) = walker.type_error_seen() {
        return Err(LenientDecodeError::Type(e.clone()));
    }
    if !walker.strict_issues().is_empty() {
        return Err(LenientDecodeError::Strict(StrictDecodingError {
            issues: walker.strict_issues().to_vec(),
        }));
    }
    fields.service_account_token = Secret::new(token);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "credentialprovider.kubelet.k8s.io/v1";

    fn err(doc: &str, policy: &RequestPolicy) -> String {
        decode_request(doc.as_bytes(), policy)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn policies_differ_only_where_upstreams_do() {
        let doc = format!(
            r#"{{"kind":"CredentialProviderRequest","apiVersion":"{V1}","Image":"folded","image":"exact","x":{{"y":1}}}}"#
        );
        let ecr = decode_request(doc.as_bytes(), &ECR).unwrap();
        assert_eq!(ecr.image, "exact");
        assert_eq!(
            ecr.type_meta.as_ref().unwrap().kind,
            "CredentialProviderRequest"
        );
        let gcp = decode_request(doc.as_bytes(), &GCP).unwrap();
        assert_eq!(gcp.image, "exact", "last key wins");
        assert_eq!(gcp.type_meta, None);
        let doc = r#"{"image":"exact","Image":"folded"}"#;
        assert_eq!(
            decode_request(doc.as_bytes(), &GCP).unwrap().image,
            "folded"
        );
        assert_eq!(decode_request(doc.as_bytes(), &ACR).unwrap().image, "exact");
        // KELVIN SIGN and LONG S fold like Go.
        let doc = "{\"\u{17F}erviceAccountToken\":\"t\",\"\u{212A}IND\":\"K\"}";
        let gcp = decode_request(doc.as_bytes(), &GCP).unwrap();
        assert_eq!(gcp.service_account_token.expose(), "t");
        assert_eq!(gcp.kind, "K");
    }

    #[test]
    fn null_and_repeats_follow_go() {
        let doc = r#"{"image":"a","image":null,"serviceAccountAnnotations":{"a":"1","n":null},
                      "serviceAccountAnnotations":{"b":"2"}}"#;
        let r = decode_request(doc.as_bytes(), &GCP).unwrap();
        assert_eq!(r.image, "a", "null leaves a string as it is");
        let keys: Vec<(&str, &str)> = r
            .service_account_annotations
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(keys, [("a", "1"), ("b", "2"), ("n", "")], "maps merge");
        let doc = r#"{"serviceAccountAnnotations":{"a":"1"},"serviceAccountAnnotations":null}"#;
        let r = decode_request(doc.as_bytes(), &GCP).unwrap();
        assert!(
            r.service_account_annotations.is_empty(),
            "null clears a map"
        );
    }

    #[test]
    fn errors_are_gos() {
        assert_eq!(err("", &GCP), "unexpected end of JSON input");
        assert_eq!(
            err("", &ECR),
            "couldn't get version/kind; json parse error: unexpected end of JSON input"
        );
        assert_eq!(
            err(r#"{"image":1,"serviceAccountToken":true}"#, &GCP),
            "json: cannot unmarshal number into Go struct field CredentialProviderRequest.image of type string"
        );
        assert_eq!(
            err(r#"{"serviceAccountAnnotations":{"a":1}}"#, &GCP),
            "json: cannot unmarshal number into Go struct field CredentialProviderRequest.serviceAccountAnnotations of type string"
        );
        assert_eq!(
            err(r#""x""#, &GCP),
            "json: cannot unmarshal string into Go value of type v1.CredentialProviderRequest"
        );
        assert_eq!(
            err(r#"{"apiVersion":"a/b/c"}"#, &ECR),
            "unexpected GroupVersion string: a/b/c"
        );
        assert_eq!(
            decode_request(b"null", &GCP).unwrap(),
            RequestFields::default()
        );
    }

    #[test]
    fn strict_policy_reports_what_lenient_ones_ignore() {
        let strict = RequestPolicy {
            upstream: "test",
            sniff_type_meta: false,
            fields: FieldPolicy::STRICT,
        };
        assert_eq!(
            err(r#"{"image":"a","image":"b","x":1}"#, &strict),
            r#"strict decoding error: duplicate field "image", unknown field "x""#
        );
    }

    #[test]
    fn errors_never_quote_the_token() {
        for policy in [ECR, ACR, GCP] {
            for doc in [
                r#"{"serviceAccountToken":"SECRET","image":5}"#,
                r#"{"serviceAccountToken":"SECRET","kind":["SECRET"]}"#,
                r#"{"serviceAccountToken":"SECRET" "#,
            ] {
                let e = err(doc, &policy);
                assert!(!e.contains("SECRET"), "{}: {e}", policy.upstream);
            }
        }
    }
}
