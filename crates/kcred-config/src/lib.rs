//! Reading and validating `CredentialProviderConfig` as the kubelet does.
