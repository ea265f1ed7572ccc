//! kcred-oidc: a self-managed cluster's service-account token issuer as cloud identity
//! providers see it.
//!
//! Its one job is the issuer half of keyless image pulls: write the OIDC discovery documents
//! exactly as kube-apiserver serves them ([`discovery`], [`key`]), and check a live issuer and
//! a token the way Entra ID, AWS STS and Google STS do ([`fetch`], [`verify`], [`jwt`]).
//! Private keys are never read: key inputs are public keys, and a private key is refused
//! without quoting it.
//!
//! Kubernetes concepts: kube-apiserver's `--service-account-key-file` (public keys),
//! `--service-account-issuer`, `--service-account-jwks-uri`, its
//! `/.well-known/openid-configuration` and `/openid/v1/jwks` endpoints
//! (kubernetes/kubernetes `pkg/serviceaccount/openidmetadata.go`), and the projected
//! service-account tokens the kubelet passes to credential providers (KEP-4412).

pub mod der;
pub mod discovery;
pub mod fetch;
pub mod jwt;
pub mod key;
pub mod verify;

pub use discovery::{issuer_documents, IssuerDocuments};
pub use jwt::Jwt;
pub use key::{parse_public_keys_pem, PublicKey};
pub use verify::{check_documents, check_token, Cloud, IssuerView, Report, TokenExpectations};
