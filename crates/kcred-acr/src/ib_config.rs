//! Identity-binding (AKS) flag validation, with upstream's messages.

use std::net::{IpAddr, ToSocketAddrs};

use crate::cli::IbFlags;

/// Validated identity-binding settings. Empty `sni_name` means identity bindings are off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityBindingsConfig {
    /// The endpoint's host name (URL host and TLS SNI).
    pub sni_name: String,
    /// The client ID used when the service account has no `kubernetes.azure.com/acr-client-id`.
    pub default_client_id: String,
    /// Stored, not used on the wire (as upstream).
    pub default_tenant_id: String,
    /// The IP the endpoint is dialled at (an FQDN is resolved once, here).
    pub api_server_ip: String,
}

impl IdentityBindingsConfig {
    /// True when `--ib-sni-name` was given.
    pub(crate) fn enabled(&self) -> bool {
        !self.sni_name.is_empty()
    }
}

/// An invalid combination of `--ib-*` flags.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IbFlagsError(pub String);

/// Validates the flags as upstream's `ParseIdentityBindingsConfig`, resolving an FQDN
/// `--ib-apiserver-ip` with `resolve` (the first address wins).
pub(crate) fn parse_ib_flags_with(
    flags: &IbFlags,
    resolve: impl Fn(&str) -> Option<IpAddr>,
) -> Result<IdentityBindingsConfig, IbFlagsError> {
    let sni = flags.sni_name.as_str();
    if !sni.is_empty() {
        if sni.starts_with("https://") || sni.starts_with("http://") {
            return Err(IbFlagsError(format!(
                "--ib-sni-name must not contain protocol prefix (https:// or http://), got: {sni}"
            )));
        }
        if flags.apiserver_ip.is_empty() {
            return Err(IbFlagsError(
                "--ib-apiserver-ip must be set when --ib-sni-name is provided".to_owned(),
            ));
        }
    }
    if !flags.default_client_id.is_empty() && sni.is_empty() {
        return Err(IbFlagsError(
            "--ib-sni-name must be set when --ib-default-client-id is provided".to_owned(),
        ));
    }
    if !flags.default_tenant_id.is_empty() && sni.is_empty() {
        return Err(IbFlagsError(
            "--ib-sni-name must be set when --ib-default-tenant-id is provided".to_owned(),
        ));
    }
    let mut ip = flags.apiserver_ip.clone();
    if !ip.is_empty() {
        if ip.parse::<IpAddr>().is_err() {
            match resolve(&ip) {
                Some(addr) => ip = addr.to_string(),
                None => {
                    return Err(IbFlagsError(format!(
                        "--ib-apiserver-ip must be a valid IP address or resolvable FQDN, got: {ip}"
                    )))
                }
            }
        }
        if sni.is_empty() {
            return Err(IbFlagsError(
                "--ib-sni-name must be set when --ib-apiserver-ip is provided".to_owned(),
            ));
        }
    }
    Ok(IdentityBindingsConfig {
        sni_name: flags.sni_name.clone(),
        default_client_id: flags.default_client_id.clone(),
        default_tenant_id: flags.default_tenant_id.clone(),
        api_server_ip: ip,
    })
}

/// Resolves a host name with the system resolver (the first address).
pub(crate) fn resolve_system(host: &str) -> Option<IpAddr> {
    (host, 0u16)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .map(|a| a.ip())
}

/// Validates the flags as upstream's `ParseIdentityBindingsConfig` (`parse_ib_flags_with`)
/// using the system resolver.
pub fn parse_ib_flags(flags: &IbFlags) -> Result<IdentityBindingsConfig, IbFlagsError> {
    parse_ib_flags_with(flags, resolve_system)
}
