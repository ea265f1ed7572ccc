//! The command line, parsed the way upstream's cobra/pflag command parses it (the SDK's
//! [`kcred_plugin::pflag`], shared with GCP):
//! `acr-credential-provider <configFile> [flags]`, flags before or after the argument,
//! `--flag=value`, `--flag value`, `-r value`, `-rvalue`, `--` ends the flags.

use kcred_plugin::pflag::{self, parse_bool, parse_int, Flag, PflagError};

/// Identity-binding flags as given (validated by [`parse_ib_flags`](crate::parse_ib_flags)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IbFlags {
    /// `--ib-sni-name`.
    pub sni_name: String,
    /// `--ib-apiserver-ip`.
    pub apiserver_ip: String,
    /// `--ib-default-client-id`.
    pub default_client_id: String,
    /// `--ib-default-tenant-id`.
    pub default_tenant_id: String,
}

/// A parsed command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliOptions {
    /// The azure.json path (the one positional argument).
    pub config_path: String,
    /// `-r, --registry-mirror`.
    pub registry_mirror: String,
    /// `--ib-*`.
    pub ib: IbFlags,
    /// `-v, --v`: klog verbosity.
    pub verbosity: u8,
    /// `--compat-upstream-auth-keys` (kcred): on the service-principal path, return the secret
    /// under upstream's `*.azurecr.{io,cn,de,us}` wildcards instead of the requested registry only.
    pub compat_upstream_auth_keys: bool,
    /// `--exchange-client-secret` (kcred): exchange `aadClientSecret` at AAD for an ACR refresh
    /// token instead of returning the secret itself (upstream returns the secret).
    pub exchange_client_secret: bool,
    /// `--aad-scope` (kcred): the AAD scope (default `https://containerregistry.azure.net/.default`).
    pub aad_scope: Option<String>,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliAction {
    /// Serve one request.
    Run(CliOptions),
    /// `-h/--help`: print [`USAGE`] and exit 0.
    Help,
    /// `--version`.
    Version,
}

/// A command-line error (pflag's and upstream's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// A flag error, in pflag's words ([`kcred_plugin::pflag`]).
    #[error(transparent)]
    Flag(#[from] PflagError),
    /// No positional argument.
    #[error("config file is not specified")]
    NoConfigFile,
    /// More than one positional argument.
    #[error("expected exactly one argument (config file); Got arguments: [{}]", .0.join(" "))]
    TooManyArguments(Vec<String>),
}

/// The usage text printed after an error and for `--help`.
pub const USAGE: &str = "Usage:
  acr-credential-provider configFile [flags]

Flags:
      --aad-scope string                  AAD scope of the token exchanged at ACR (kcred; default https://containerregistry.azure.net/.default)
      --compat-upstream-auth-keys         service principal path: return the credentials under upstream's *.azurecr.{io,cn,de,us} wildcards (kcred)
      --exchange-client-secret            service principal with aadClientSecret: exchange it at AAD for an ACR token instead of returning the secret (kcred)
  -h, --help                              help for acr-credential-provider
      --ib-apiserver-ip string            identity bindings: IP (or FQDN, resolved once) the endpoint is dialled at
      --ib-default-client-id string       identity bindings: client ID when the service account has no kubernetes.azure.com/acr-client-id
      --ib-default-tenant-id string       identity bindings: default tenant ID
      --ib-sni-name string                identity bindings: endpoint host name (TLS SNI), without a scheme
      --log-flush-frequency duration      Maximum number of seconds between log flushes (default 5s)
  -r, --registry-mirror string            Mirror a source registry host to a target registry host, and image pull credential will be requested to the target registry host when the image is from source registry host
  -v, --v Level                           number for the log level verbosity
      --version                           version for acr-credential-provider
      --vmodule pattern                   comma-separated list of pattern=N settings for file-filtered logging
";

/// Upstream's flags (its cobra command's own, and component-base's logging flags), plus
/// kcred's three.
const FLAGS: [Flag; 13] = [
    Flag::value("registry-mirror", Some('r')),
    Flag::value("ib-sni-name", None),
    Flag::value("ib-apiserver-ip", None),
    Flag::value("ib-default-client-id", None),
    Flag::value("ib-default-tenant-id", None),
    Flag::value("v", Some('v')),
    Flag::value("vmodule", None),
    Flag::value("log-flush-frequency", None),
    Flag::value("aad-scope", None),
    Flag::bool("compat-upstream-auth-keys", None),
    Flag::bool("exchange-client-secret", None),
    Flag::bool("help", Some('h')),
    Flag::bool("version", None),
];

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<CliAction, CliError> {
    let mut opts = CliOptions::default();
    let mut help = false;
    let mut version = false;
    let mut positional = pflag::parse_with(&FLAGS, args, |flag, value| {
        match flag.name {
            "registry-mirror" => opts.registry_mirror = value.to_owned(),
            "ib-sni-name" => opts.ib.sni_name = value.to_owned(),
            "ib-apiserver-ip" => opts.ib.apiserver_ip = value.to_owned(),
            "ib-default-client-id" => opts.ib.default_client_id = value.to_owned(),
            "ib-default-tenant-id" => opts.ib.default_tenant_id = value.to_owned(),
            "v" => {
                let level = parse_int(flag, value)?;
                opts.verbosity = u8::try_from(level.max(0)).unwrap_or(u8::MAX);
            }
            "aad-scope" => opts.aad_scope = Some(value.to_owned()).filter(|s| !s.is_empty()),
            "compat-upstream-auth-keys" => {
                opts.compat_upstream_auth_keys = parse_bool(flag, value)?
            }
            "exchange-client-secret" => opts.exchange_client_secret = parse_bool(flag, value)?,
            "help" => help = parse_bool(flag, value)?,
            "version" => version = parse_bool(flag, value)?,
            // vmodule, log-flush-frequency: accepted, no effect (logs always go to stderr).
            _ => {}
        }
        Ok(())
    })?;
    if help {
        return Ok(CliAction::Help);
    }
    if version {
        return Ok(CliAction::Version);
    }
    match positional.len() {
        0 => Err(CliError::NoConfigFile),
        1 => {
            opts.config_path = positional.remove(0);
            Ok(CliAction::Run(opts))
        }
        _ => Err(CliError::TooManyArguments(positional)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(a: &[&str]) -> Result<CliAction, CliError> {
        parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn flags_anywhere() {
        let CliAction::Run(o) =
            parse(&["-r", "a:b", "cfg.json", "--v=4", "--ib-sni-name", "x"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(o.config_path, "cfg.json");
        assert_eq!(o.registry_mirror, "a:b");
        assert_eq!(o.verbosity, 4);
        assert_eq!(o.ib.sni_name, "x");
        let CliAction::Run(o) = parse(&["cfg", "-ra:c", "-v2"]).unwrap() else {
            panic!()
        };
        assert_eq!(o.registry_mirror, "a:c");
        assert_eq!(o.verbosity, 2);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse(&["c", "--bogus"]).unwrap_err().to_string(),
            "unknown flag: --bogus"
        );
        assert_eq!(
            parse(&[]).unwrap_err().to_string(),
            "config file is not specified"
        );
        assert_eq!(
            parse(&["a", "b"]).unwrap_err().to_string(),
            "expected exactly one argument (config file); Got arguments: [a b]"
        );
        assert_eq!(
            parse(&["c", "--registry-mirror"]).unwrap_err().to_string(),
            "flag needs an argument: --registry-mirror"
        );
        assert_eq!(parse(&["-h"]).unwrap(), CliAction::Help);
        assert_eq!(parse(&["--version"]).unwrap(), CliAction::Version);
    }
}
