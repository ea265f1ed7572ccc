//! The command line, parsed the way upstream's cobra/pflag command parses it:
//! `acr-credential-provider <configFile> [flags]`, flags before or after the argument,
//! `--flag=value`, `--flag value`, `-r value`, `-rvalue`, `--` ends the flags.

/// Identity-binding flags as given (validated by [`crate::ib_config`]).
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
    /// An unknown long flag.
    #[error("unknown flag: --{0}")]
    UnknownFlag(String),
    /// An unknown shorthand.
    #[error("unknown shorthand flag: '{0}' in -{1}")]
    UnknownShorthand(char, String),
    /// A flag without its value.
    #[error("flag needs an argument: {0}")]
    MissingValue(String),
    /// A value that does not parse.
    #[error("invalid argument {value:?} for {flag:?} flag: {reason}")]
    InvalidValue {
        /// The value given.
        value: String,
        /// The flag (`-v, --v`).
        flag: &'static str,
        /// Why.
        reason: String,
    },
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

#[derive(Clone, Copy)]
enum Flag {
    RegistryMirror,
    IbSni,
    IbIp,
    IbClient,
    IbTenant,
    Verbosity,
    VModule,
    FlushFrequency,
    AadScope,
    CompatKeys,
    ExchangeSecret,
    Help,
    Version,
}

impl Flag {
    fn long(name: &str) -> Option<Flag> {
        Some(match name {
            "registry-mirror" => Flag::RegistryMirror,
            "ib-sni-name" => Flag::IbSni,
            "ib-apiserver-ip" => Flag::IbIp,
            "ib-default-client-id" => Flag::IbClient,
            "ib-default-tenant-id" => Flag::IbTenant,
            "v" => Flag::Verbosity,
            "vmodule" => Flag::VModule,
            "log-flush-frequency" => Flag::FlushFrequency,
            "aad-scope" => Flag::AadScope,
            "compat-upstream-auth-keys" => Flag::CompatKeys,
            "exchange-client-secret" => Flag::ExchangeSecret,
            "help" => Flag::Help,
            "version" => Flag::Version,
            _ => return None,
        })
    }

    fn short(c: char) -> Option<Flag> {
        match c {
            'r' => Some(Flag::RegistryMirror),
            'v' => Some(Flag::Verbosity),
            'h' => Some(Flag::Help),
            _ => None,
        }
    }

    fn is_bool(self) -> bool {
        matches!(
            self,
            Flag::CompatKeys | Flag::ExchangeSecret | Flag::Help | Flag::Version
        )
    }
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<CliAction, CliError> {
    let mut opts = CliOptions::default();
    let mut positional = Vec::new();
    let mut help = false;
    let mut version = false;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            positional.extend(args[i..].iter().cloned());
            break;
        }
        let (flag, display, inline) = if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let flag = Flag::long(name).ok_or_else(|| CliError::UnknownFlag(name.to_owned()))?;
            (flag, format!("--{name}"), inline)
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            let c = chars.next().unwrap_or('-');
            let flag =
                Flag::short(c).ok_or_else(|| CliError::UnknownShorthand(c, short.to_owned()))?;
            let rest = chars.as_str();
            let inline = if rest.is_empty() {
                None
            } else {
                Some(rest.strip_prefix('=').unwrap_or(rest).to_owned())
            };
            (flag, format!("'{c}' in -{short}"), inline)
        } else {
            positional.push(arg.clone());
            continue;
        };
        if flag.is_bool() {
            let on = match inline.as_deref() {
                None | Some("true") | Some("1") | Some("t") | Some("T") | Some("TRUE")
                | Some("True") => true,
                Some("false") | Some("0") | Some("f") | Some("F") | Some("FALSE")
                | Some("False") => false,
                Some(other) => {
                    return Err(CliError::InvalidValue {
                        value: other.to_owned(),
                        flag: "bool",
                        reason: "strconv.ParseBool: parsing: invalid syntax".to_owned(),
                    })
                }
            };
            match flag {
                Flag::CompatKeys => opts.compat_upstream_auth_keys = on,
                Flag::ExchangeSecret => opts.exchange_client_secret = on,
                Flag::Help => help = on,
                Flag::Version => version = on,
                _ => {}
            }
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => {
                let v = args
                    .get(i)
                    .cloned()
                    .ok_or_else(|| CliError::MissingValue(display.clone()))?;
                i += 1;
                v
            }
        };
        match flag {
            Flag::RegistryMirror => opts.registry_mirror = value,
            Flag::IbSni => opts.ib.sni_name = value,
            Flag::IbIp => opts.ib.apiserver_ip = value,
            Flag::IbClient => opts.ib.default_client_id = value,
            Flag::IbTenant => opts.ib.default_tenant_id = value,
            Flag::Verbosity => {
                opts.verbosity = value.parse::<u8>().map_err(|_| CliError::InvalidValue {
                    value: value.clone(),
                    flag: "-v, --v",
                    reason: format!("strconv.ParseInt: parsing {value:?}: invalid syntax"),
                })?
            }
            Flag::AadScope => opts.aad_scope = Some(value).filter(|s| !s.is_empty()),
            Flag::VModule | Flag::FlushFrequency => {}
            Flag::CompatKeys | Flag::ExchangeSecret | Flag::Help | Flag::Version => {}
        }
    }
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
