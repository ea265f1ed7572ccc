//! Service-account token mode (KEP-4412): which IAM role to assume with the pod's token.
//!
//! When the kubelet config sets `tokenAttributes`, the request carries a pod-bound
//! service-account token and the annotations listed there. The role comes from, in order:
//! 1. annotation `eks.amazonaws.com/ecr-role-arn` when the key is present, even with an
//!    empty value (upstream's rule);
//! 2. annotation `eks.amazonaws.com/role-arn` when non-empty (the usual IRSA annotation,
//!    which upstream does not read);
//! 3. environment variable `AWS_ECR_ROLE_ARN` (upstream).
//!
//! With a role, credentials come from `sts:AssumeRoleWithWebIdentity` with the token; without
//! one (or without a token) the node's default credential chain is used, as upstream v1.35+.

use std::collections::BTreeMap;

use kcred_api::Secret;

/// The annotation upstream reads for the role to assume.
pub(crate) const ECR_ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/ecr-role-arn";

/// The standard IRSA annotation, read by kcred after [`ECR_ROLE_ARN_ANNOTATION`].
pub(crate) const IRSA_ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// The environment variable naming the role when no annotation does.
pub(crate) const ECR_ROLE_ARN_ENV: &str = "AWS_ECR_ROLE_ARN";

/// The `RoleSessionName` upstream uses.
pub(crate) const ROLE_SESSION_NAME: &str = "ecr-credential-provider";

/// Where the role ARN came from (for log and error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleSource {
    /// Annotation `eks.amazonaws.com/ecr-role-arn`.
    EcrRoleAnnotation,
    /// Annotation `eks.amazonaws.com/role-arn`.
    IrsaRoleAnnotation,
    /// Environment variable `AWS_ECR_ROLE_ARN`.
    Environment,
}

impl RoleSource {
    /// A human description, e.g. `annotation eks.amazonaws.com/ecr-role-arn`.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            RoleSource::EcrRoleAnnotation => "annotation eks.amazonaws.com/ecr-role-arn",
            RoleSource::IrsaRoleAnnotation => "annotation eks.amazonaws.com/role-arn",
            RoleSource::Environment => "environment variable AWS_ECR_ROLE_ARN",
        }
    }
}

/// An `AssumeRoleWithWebIdentity` call to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentityRole {
    /// `RoleArn`.
    pub role_arn: String,
    /// Where the ARN came from.
    pub source: RoleSource,
    /// `RoleSessionName` (always `ROLE_SESSION_NAME`).
    pub session_name: &'static str,
    /// `WebIdentityToken`: the pod's service-account token.
    pub web_identity_token: Secret,
}

/// Which credentials to use for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsPlan {
    /// No service-account token: the node's default credential chain.
    NodeChain,
    /// A token but no role ARN anywhere: the node's default credential chain.
    NodeChainNoRole,
    /// Assume a role with the token.
    AssumeRole(WebIdentityRole),
}

/// Chooses the credentials for a request from its token and annotations and the
/// `AWS_ECR_ROLE_ARN` value of the environment.
pub fn plan_credentials(
    token: Option<&Secret>,
    annotations: &BTreeMap<String, String>,
    env_role_arn: Option<&str>,
) -> CredentialsPlan {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return CredentialsPlan::NodeChain;
    };
    let chosen = if let Some(arn) = annotations.get(ECR_ROLE_ARN_ANNOTATION) {
        Some((arn.as_str(), RoleSource::EcrRoleAnnotation))
    } else if let Some(arn) = annotations
        .get(IRSA_ROLE_ARN_ANNOTATION)
        .filter(|a| !a.is_empty())
    {
        Some((arn.as_str(), RoleSource::IrsaRoleAnnotation))
    } else {
        env_role_arn.map(|arn| (arn, RoleSource::Environment))
    };
    match chosen {
        Some((arn, source)) if !arn.is_empty() => CredentialsPlan::AssumeRole(WebIdentityRole {
            role_arn: arn.to_owned(),
            source,
            session_name: ROLE_SESSION_NAME,
            web_identity_token: token.clone(),
        }),
        _ => CredentialsPlan::NodeChainNoRole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn arn(plan: CredentialsPlan) -> Option<(String, RoleSource)> {
        match plan {
            CredentialsPlan::AssumeRole(r) => Some((r.role_arn, r.source)),
            _ => None,
        }
    }

    #[test]
    fn precedence() {
        let token = Secret::new("tok");
        let both = annotations(&[
            (ECR_ROLE_ARN_ANNOTATION, "arn:ecr"),
            (IRSA_ROLE_ARN_ANNOTATION, "arn:irsa"),
        ]);
        assert_eq!(
            arn(plan_credentials(Some(&token), &both, Some("arn:env"))),
            Some(("arn:ecr".into(), RoleSource::EcrRoleAnnotation))
        );
        let irsa = annotations(&[(IRSA_ROLE_ARN_ANNOTATION, "arn:irsa")]);
        assert_eq!(
            arn(plan_credentials(Some(&token), &irsa, Some("arn:env"))),
            Some(("arn:irsa".into(), RoleSource::IrsaRoleAnnotation))
        );
        assert_eq!(
            arn(plan_credentials(
                Some(&token),
                &BTreeMap::new(),
                Some("arn:env")
            )),
            Some(("arn:env".into(), RoleSource::Environment))
        );
    }

    #[test]
    fn present_but_empty_ecr_annotation_hides_the_environment() {
        let token = Secret::new("tok");
        let empty = annotations(&[(ECR_ROLE_ARN_ANNOTATION, "")]);
        assert_eq!(
            plan_credentials(Some(&token), &empty, Some("arn:env")),
            CredentialsPlan::NodeChainNoRole
        );
        let empty_irsa = annotations(&[(IRSA_ROLE_ARN_ANNOTATION, "")]);
        assert_eq!(
            arn(plan_credentials(Some(&token), &empty_irsa, Some("arn:env"))),
            Some(("arn:env".into(), RoleSource::Environment))
        );
    }

    #[test]
    fn no_token_means_node_chain() {
        let a = annotations(&[(ECR_ROLE_ARN_ANNOTATION, "arn:ecr")]);
        assert_eq!(
            plan_credentials(None, &a, Some("arn:env")),
            CredentialsPlan::NodeChain
        );
        assert_eq!(
            plan_credentials(Some(&Secret::new("")), &a, None),
            CredentialsPlan::NodeChain
        );
        assert_eq!(
            plan_credentials(Some(&Secret::new("t")), &BTreeMap::new(), Some("")),
            CredentialsPlan::NodeChainNoRole
        );
    }
}
