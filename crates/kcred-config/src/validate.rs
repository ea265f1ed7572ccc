//! `validateCredentialProviderConfig`: every rule of the kubelet, in its order, with its messages.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use kcred_api::config::{
    CredentialProvider, ServiceAccountCacheType, ServiceAccountTokenAttributes,
};
use kcred_api::gostr::{json_string, json_string_list, to_lower};
use kcred_api::ApiVersion;
use kcred_kubelet::{KubeletVersion, ValidationMessages};
use kcred_match::gourl::parse_schemeless_url_as;

use crate::feature_gates::FeatureGates;
use crate::field::{Aggregate, FieldError};
use crate::qualified_name::is_qualified_name;

/// The `cacheType` values, sorted as the kubelet lists them.
const CACHE_TYPES: [&str; 2] = ["ServiceAccount", "Token"];

/// The validation errors of a config; `Display` is apimachinery's aggregate
/// (one error bare, several as `[e1, e2]`, repeated messages dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(Aggregate);

impl ValidationErrors {
    /// The distinct errors, in the order the kubelet finds them.
    pub fn errors(&self) -> &[FieldError] {
        self.0.errors()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ValidationErrors {}

/// Validates merged providers as the newest kubelet does before registering them.
///
/// The kubelet reports failure as `failed to validate credential provider config: <errors>`.
pub fn validate(
    providers: &[CredentialProvider],
    gates: FeatureGates,
) -> Result<(), ValidationErrors> {
    validate_for(providers, gates, KubeletVersion::NEWEST)
}

/// [`validate`] as a given kubelet does it: its Go URL parsing of `matchImages`, whether it
/// requires `cacheType`, and its message wording (from the `kcred-kubelet` table).
pub fn validate_for(
    providers: &[CredentialProvider],
    gates: FeatureGates,
    kubelet: KubeletVersion,
) -> Result<(), ValidationErrors> {
    let list = validation_errors_for(providers, gates, kubelet);
    match Aggregate::new(list) {
        None => Ok(()),
        Some(agg) => Err(ValidationErrors(agg)),
    }
}

/// Every `field.Error` the newest kubelet would collect, in order, before de-duplication.
pub fn validation_errors(providers: &[CredentialProvider], gates: FeatureGates) -> Vec<FieldError> {
    validation_errors_for(providers, gates, KubeletVersion::NEWEST)
}

/// [`validation_errors`] as a given kubelet collects them.
pub fn validation_errors_for(
    providers: &[CredentialProvider],
    gates: FeatureGates,
    kubelet: KubeletVersion,
) -> Vec<FieldError> {
    let messages = kubelet.validation_messages();
    let mut errs = Vec::new();
    if providers.is_empty() {
        errs.push(FieldError::required(
            "providers",
            "at least 1 item in plugins is required",
        ));
    }
    let mut seen_names: HashSet<&str> = HashSet::new();
    for provider in providers {
        validate_name(provider, &mut seen_names, &mut errs);
        validate_api_version(&provider.api_version, messages, &mut errs);
        validate_match_images(&provider.match_images, kubelet, &mut errs);
        validate_default_cache_duration(provider, messages, &mut errs);
        if let Some(attrs) = &provider.token_attributes {
            validate_token_attributes(attrs, &provider.api_version, gates, kubelet, &mut errs);
        }
    }
    errs
}

fn validate_name<'a>(
    provider: &'a CredentialProvider,
    seen: &mut HashSet<&'a str>,
    errs: &mut Vec<FieldError>,
) {
    const PATH: &str = "providers.name";
    let name = provider.name.as_str();
    if name.contains('/') {
        errs.push(FieldError::invalid(
            PATH,
            name,
            "provider name cannot contain '/'",
        ));
    }
    if name.contains(' ') {
        errs.push(FieldError::invalid(
            PATH,
            name,
            "provider name cannot contain spaces",
        ));
    }
    if name == "." {
        errs.push(FieldError::invalid(
            PATH,
            name,
            "provider name cannot be '.'",
        ));
    }
    if name == ".." {
        errs.push(FieldError::invalid(
            PATH,
            name,
            "provider name cannot be '..'",
        ));
    }
    if !seen.insert(name) {
        errs.push(FieldError::duplicate(PATH, name));
    }
}

fn validate_api_version(
    api_version: &str,
    messages: ValidationMessages,
    errs: &mut Vec<FieldError>,
) {
    const PATH: &str = "providers.apiVersion";
    if api_version.is_empty() {
        errs.push(FieldError::required(
            PATH,
            messages.required_detail("apiVersion"),
        ));
    } else if ApiVersion::parse(api_version).is_none() {
        let valid: Vec<&str> = ApiVersion::ALL.iter().map(|v| v.as_str()).collect();
        errs.push(FieldError::not_supported(PATH, api_version, &valid));
    }
}

fn validate_match_images(
    match_images: &[String],
    kubelet: KubeletVersion,
    errs: &mut Vec<FieldError>,
) {
    const PATH: &str = "providers.matchImages";
    if match_images.is_empty() {
        errs.push(FieldError::required(
            PATH,
            "at least 1 item in matchImages is required",
        ));
    }
    for image in match_images {
        if let Err(e) = parse_schemeless_url_as(image, kubelet.url_parsing()) {
            errs.push(FieldError::invalid(
                PATH,
                image,
                format!("match image is invalid: {e}"),
            ));
        }
    }
}

fn validate_default_cache_duration(
    provider: &CredentialProvider,
    messages: ValidationMessages,
    errs: &mut Vec<FieldError>,
) {
    const PATH: &str = "providers.defaultCacheDuration";
    match provider.default_cache_duration {
        None => errs.push(FieldError::required(
            PATH,
            messages.required_detail("defaultCacheDuration"),
        )),
        Some(d) if d.0 < 0 => {
            // Before 1.34 apimachinery printed the duration with its String method.
            let value = if messages.quotes_duration_values() {
                json_string(&d.to_string())
            } else {
                d.to_string()
            };
            errs.push(FieldError::invalid_json(
                PATH,
                value,
                messages.negative_default_cache_duration(),
            ))
        }
        Some(_) => {}
    }
}

fn validate_token_attributes(
    attrs: &ServiceAccountTokenAttributes,
    api_version: &str,
    gates: FeatureGates,
    kubelet: KubeletVersion,
    errs: &mut Vec<FieldError>,
) {
    const PATH: &str = "providers.tokenAttributes";
    let messages = kubelet.validation_messages();
    if !gates.service_account_token_for_credential_providers {
        errs.push(FieldError::forbidden(
            PATH,
            "tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled",
        ));
    }
    if attrs.service_account_token_audience.is_empty() {
        errs.push(FieldError::required(
            "providers.tokenAttributes.serviceAccountTokenAudience",
            messages.required_detail("serviceAccountTokenAudience"),
        ));
    }
    if attrs.require_service_account.is_none() {
        errs.push(FieldError::required(
            "providers.tokenAttributes.requireServiceAccount",
            messages.required_detail("requireServiceAccount"),
        ));
    }
    if api_version != ApiVersion::V1.as_str() {
        errs.push(FieldError::forbidden(
            PATH,
            format!(
                "tokenAttributes is only supported for {} API version",
                ApiVersion::V1.as_str()
            ),
        ));
    }
    if attrs.require_service_account == Some(false)
        && !attrs.required_service_account_annotation_keys.is_empty()
    {
        errs.push(FieldError::forbidden(
            "providers.tokenAttributes.requiredServiceAccountAnnotationKeys",
            "requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set",
        ));
    }
    validate_annotation_keys(
        "providers.tokenAttributes.requiredServiceAccountAnnotationKeys",
        &attrs.required_service_account_annotation_keys,
        errs,
    );
    validate_annotation_keys(
        "providers.tokenAttributes.optionalServiceAccountAnnotationKeys",
        &attrs.optional_service_account_annotation_keys,
        errs,
    );

    let required: BTreeSet<&String> = attrs
        .required_service_account_annotation_keys
        .iter()
        .collect();
    let both: Vec<String> = attrs
        .optional_service_account_annotation_keys
        .iter()
        .filter(|k| required.contains(k))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .cloned()
        .collect();
    if !both.is_empty() {
        errs.push(FieldError::invalid_json(
            PATH,
            json_string_list(&both),
            "annotation keys cannot be both required and optional",
        ));
    }

    const CACHE_TYPE_PATH: &str = "providers.tokenAttributes.cacheType";
    let cache_type_required = kubelet
        .token_attributes()
        .is_some_and(|t| t.cache_type_required);
    if !cache_type_required {
        // Before 1.34 there is no cacheType (decoding refuses one that is set).
    } else if attrs.cache_type.is_empty() {
        errs.push(FieldError::required(
            CACHE_TYPE_PATH,
            format!(
                "cacheType is required to be set when tokenAttributes is specified. Supported values are: {}",
                CACHE_TYPES.join(", ")
            ),
        ));
    } else if ServiceAccountCacheType::parse(&attrs.cache_type).is_none() {
        errs.push(FieldError::not_supported(
            CACHE_TYPE_PATH,
            &attrs.cache_type,
            &CACHE_TYPES,
        ));
    }
}

/// `validateServiceAccountAnnotationKeys`: qualified names (case-insensitive), no repeats.
fn validate_annotation_keys(path: &str, keys: &[String], errs: &mut Vec<FieldError>) {
    let mut seen: HashSet<&str> = HashSet::new();
    for key in keys {
        for msg in is_qualified_name(&to_lower(key)) {
            errs.push(FieldError::invalid(path, key, msg));
        }
        if !seen.insert(key) {
            errs.push(FieldError::duplicate(path, key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcred_api::GoDuration;

    fn provider(name: &str) -> CredentialProvider {
        CredentialProvider {
            name: name.to_owned(),
            match_images: vec!["registry.io".to_owned()],
            default_cache_duration: Some(GoDuration(60_000_000_000)),
            api_version: "credentialprovider.kubelet.k8s.io/v1".to_owned(),
            ..Default::default()
        }
    }

    fn attrs() -> ServiceAccountTokenAttributes {
        ServiceAccountTokenAttributes {
            service_account_token_audience: "aud".to_owned(),
            cache_type: "Token".to_owned(),
            require_service_account: Some(true),
            ..Default::default()
        }
    }

    fn message(providers: &[CredentialProvider], gates: FeatureGates) -> String {
        validate(providers, gates).expect_err("invalid").to_string()
    }

    #[test]
    fn valid_provider_passes() {
        assert!(validate(&[provider("p")], FeatureGates::default()).is_ok());
        let mut p = provider("p");
        p.token_attributes = Some(attrs());
        assert!(validate(&[p], FeatureGates::default()).is_ok());
    }

    #[test]
    fn several_errors_are_bracketed_in_kubelet_order() {
        let mut p = provider("a/b c");
        p.api_version = String::new();
        p.match_images.clear();
        p.default_cache_duration = None;
        assert_eq!(
            message(&[p], FeatureGates::default()),
            "[providers.name: Invalid value: \"a/b c\": provider name cannot contain '/', \
providers.name: Invalid value: \"a/b c\": provider name cannot contain spaces, \
providers.apiVersion: Required value, \
providers.matchImages: Required value: at least 1 item in matchImages is required, \
providers.defaultCacheDuration: Required value]"
        );
    }

    #[test]
    fn repeated_messages_across_providers_are_dropped() {
        let mut a = provider("a");
        a.default_cache_duration = None;
        let mut b = provider("b");
        b.default_cache_duration = None;
        assert_eq!(
            message(&[a, b], FeatureGates::default()),
            "providers.defaultCacheDuration: Required value"
        );
    }

    #[test]
    fn gate_off_still_checks_the_rest() {
        let mut p = provider("p");
        p.api_version = "credentialprovider.kubelet.k8s.io/v1beta1".to_owned();
        p.token_attributes = Some(ServiceAccountTokenAttributes::default());
        let gates = FeatureGates {
            service_account_token_for_credential_providers: false,
        };
        assert_eq!(
            message(&[p], gates),
            "[providers.tokenAttributes: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled, \
providers.tokenAttributes.serviceAccountTokenAudience: Required value, \
providers.tokenAttributes.requireServiceAccount: Required value, \
providers.tokenAttributes: Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version, \
providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token]"
        );
    }

    #[test]
    fn annotation_keys_lowercased_before_checking_but_quoted_as_written() {
        let mut a = attrs();
        a.required_service_account_annotation_keys = vec!["Example.COM/Key".to_owned()];
        let mut p = provider("p");
        p.token_attributes = Some(a);
        assert!(validate(&[p], FeatureGates::default()).is_ok());

        let mut a = attrs();
        a.optional_service_account_annotation_keys = vec!["A/B/C".to_owned(), "A/B/C".to_owned()];
        let mut p = provider("p");
        p.token_attributes = Some(a);
        let msg = message(&[p], FeatureGates::default());
        assert!(msg.starts_with("[providers.tokenAttributes.optionalServiceAccountAnnotationKeys: Invalid value: \"A/B/C\": a qualified name must consist of"), "{msg}");
        assert!(msg.ends_with(", providers.tokenAttributes.optionalServiceAccountAnnotationKeys: Duplicate value: \"A/B/C\"]"), "{msg}");
    }

    #[test]
    fn keys_in_both_lists_are_listed_sorted_as_json() {
        let mut a = attrs();
        a.required_service_account_annotation_keys = vec![
            "z.io/b".to_owned(),
            "a.io/a".to_owned(),
            "x.io/c".to_owned(),
        ];
        a.optional_service_account_annotation_keys = vec![
            "x.io/c".to_owned(),
            "z.io/b".to_owned(),
            "a.io/a".to_owned(),
        ];
        let mut p = provider("p");
        p.token_attributes = Some(a);
        assert_eq!(
            message(&[p], FeatureGates::default()),
            "providers.tokenAttributes: Invalid value: [\"a.io/a\",\"x.io/c\",\"z.io/b\"]: annotation keys cannot be both required and optional"
        );
    }

    #[test]
    fn empty_name_is_not_rejected() {
        assert!(validate(&[provider("")], FeatureGates::default()).is_ok());
    }
}
