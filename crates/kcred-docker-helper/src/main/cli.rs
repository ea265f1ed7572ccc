//! The command line: `docker-credential-kcred [--config P] [--bin-dir D] <action>`, and where
//! the kubelet credential provider config and plugin directory come from.
//!
//! Docker clients run the helper with only the action, so the paths are normally set by
//! environment ([`ENV_CONFIG`], [`ENV_BIN_DIR`]) or left at the kubelet's usual locations
//! ([`DEFAULT_CONFIG_PATH`], [`DEFAULT_BIN_DIR`]). A flag beats the environment, which beats
//! the default.

use std::ffi::OsString;
use std::path::PathBuf;

/// The config path used when neither `--config` nor [`ENV_CONFIG`] is set (a file or a
/// directory of config files, as the kubelet's `--image-credential-provider-config`).
pub(crate) const DEFAULT_CONFIG_PATH: &str = "/etc/kubernetes/credential-provider-config.yaml";

/// The plugin directory used when neither `--bin-dir` nor [`ENV_BIN_DIR`] is set (the
/// kubelet's `--image-credential-provider-bin-dir` on kubeadm-style nodes).
pub(crate) const DEFAULT_BIN_DIR: &str =
    "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec";

/// Environment variable overriding the config path.
pub(crate) const ENV_CONFIG: &str = "KCRED_CONFIG";

/// Environment variable overriding the plugin directory.
pub(crate) const ENV_BIN_DIR: &str = "KCRED_BIN_DIR";

/// Environment variable turning the file cache off (any value but empty, `0` or `false`).
pub(crate) const ENV_NO_CACHE: &str = "KCRED_NO_CACHE";

/// The synopsis printed by `--help`.
pub(crate) const USAGE: &str = "\
Usage: docker-credential-kcred [--config PATH] [--bin-dir DIR] [--no-cache] <get|list|store|erase|version>

A docker credential helper (docker, podman, skopeo, buildah, crane, containerd tools) that
answers with the credentials the kubelet's image credential providers give for a registry.

  get      read a registry server URL on stdin, print {ServerURL, Username, Secret}
  list     print {server URL: username} for every literal registry in matchImages
  store    refused: the helper is read-only
  erase    refused: the helper is read-only
  version  print the version

  --config PATH   kubelet CredentialProviderConfig file or directory
                  (default $KCRED_CONFIG, else /etc/kubernetes/credential-provider-config.yaml)
  --bin-dir DIR   directory holding the provider plugins
                  (default $KCRED_BIN_DIR, else
                  /usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec)
  --no-cache      neither read nor write the per-user file cache
                  ($KCRED_NO_CACHE=1 does the same; the cache lives in
                  $XDG_CACHE_HOME/kcred, else ~/.cache/kcred)

Use it from a client config, e.g. ~/.docker/config.json or an auth.json:
  {\"credHelpers\": {\"registry.example.com\": \"kcred\"}}
";

/// A docker credential helper action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `get`.
    Get,
    /// `list`.
    List,
    /// `store`.
    Store,
    /// `erase`.
    Erase,
    /// `version`.
    Version,
    /// `--help`.
    Help,
}

impl Action {
    fn parse(word: &str) -> Option<Action> {
        match word {
            "get" => Some(Action::Get),
            "list" => Some(Action::List),
            "store" => Some(Action::Store),
            "erase" => Some(Action::Erase),
            "version" | "--version" => Some(Action::Version),
            "-h" | "--help" | "help" => Some(Action::Help),
            _ => None,
        }
    }
}

/// A command-line error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CliError {
    /// No action given.
    #[error("no action given: usage: docker-credential-kcred [--config PATH] [--bin-dir DIR] [--no-cache] <get|list|store|erase|version>")]
    MissingAction,
    /// An action this helper does not know.
    #[error("unknown credential action {0:?} (want get, list, store, erase or version)")]
    UnknownAction(String),
    /// A second action.
    #[error("unexpected argument {0:?}: only one action is accepted")]
    ExtraArgument(String),
    /// A flag this helper does not know.
    #[error("flag provided but not defined: {0}")]
    UnknownFlag(String),
    /// A valued flag at the end of the command line.
    #[error("flag needs an argument: {0}")]
    MissingValue(String),
    /// An empty value for a path flag.
    #[error("flag {0} needs a non-empty path")]
    EmptyValue(String),
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    /// What to do.
    pub action: Action,
    /// `--config`, if given.
    pub config: Option<PathBuf>,
    /// `--bin-dir`, if given.
    pub bin_dir: Option<PathBuf>,
    /// `--no-cache`.
    pub no_cache: bool,
}

impl Invocation {
    /// Parses the arguments (without the program name). Flags may come before or after the
    /// action; `--flag=value` and `--flag value` (one or two dashes) are accepted.
    pub(crate) fn parse(args: &[String]) -> Result<Invocation, CliError> {
        let mut action = None;
        let mut config = None;
        let mut bin_dir = None;
        let mut no_cache = false;
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            if let Some(found) = Action::parse(arg) {
                if found == Action::Help {
                    action = Some(Action::Help);
                    continue;
                }
                match action {
                    None => action = Some(found),
                    Some(Action::Help) => {}
                    Some(_) => return Err(CliError::ExtraArgument(arg.clone())),
                }
                continue;
            }
            let body = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'));
            let Some(body) = body.filter(|b| !b.is_empty()) else {
                return Err(match action {
                    None => CliError::UnknownAction(arg.clone()),
                    Some(_) => CliError::ExtraArgument(arg.clone()),
                });
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            if name == "no-cache" && inline.is_none() {
                no_cache = true;
                continue;
            }
            let slot = match name {
                "config" => &mut config,
                "bin-dir" => &mut bin_dir,
                _ => return Err(CliError::UnknownFlag(arg.clone())),
            };
            let value = match inline {
                Some(v) => v,
                None => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| CliError::MissingValue(format!("--{name}")))?;
                    i += 1;
                    v.clone()
                }
            };
            if value.is_empty() {
                return Err(CliError::EmptyValue(format!("--{name}")));
            }
            *slot = Some(PathBuf::from(value));
        }
        Ok(Invocation {
            action: action.ok_or(CliError::MissingAction)?,
            config,
            bin_dir,
            no_cache,
        })
    }
}

/// The config path and plugin directory in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Paths {
    /// The CredentialProviderConfig file or directory.
    pub config: PathBuf,
    /// The plugin directory.
    pub bin_dir: PathBuf,
}

impl Paths {
    /// Flag, else environment (`env` looks a variable up; empty counts as unset), else
    /// default.
    pub(crate) fn resolve(
        invocation: &Invocation,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Paths {
        let pick = |flag: &Option<PathBuf>, var: &str, default: &str| {
            flag.clone()
                .or_else(|| env(var).filter(|v| !v.is_empty()).map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from(default))
        };
        Paths {
            config: pick(&invocation.config, ENV_CONFIG, DEFAULT_CONFIG_PATH),
            bin_dir: pick(&invocation.bin_dir, ENV_BIN_DIR, DEFAULT_BIN_DIR),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(list: &[&str]) -> Result<Invocation, CliError> {
        Invocation::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn actions_and_flags_in_any_order() {
        let inv = parse(&["get"]).unwrap();
        assert_eq!(
            inv,
            Invocation {
                action: Action::Get,
                config: None,
                bin_dir: None,
                no_cache: false,
            }
        );
        let inv = parse(&["--config", "/c.yaml", "list", "-bin-dir=/b"]).unwrap();
        assert_eq!(inv.action, Action::List);
        assert_eq!(inv.config, Some(PathBuf::from("/c.yaml")));
        assert_eq!(inv.bin_dir, Some(PathBuf::from("/b")));
        assert!(!inv.no_cache);
        assert!(parse(&["--no-cache", "get"]).unwrap().no_cache);
        assert!(parse(&["get", "-no-cache"]).unwrap().no_cache);
        assert_eq!(parse(&["get", "--help"]).unwrap().action, Action::Help);
        assert_eq!(parse(&["version"]).unwrap().action, Action::Version);
        assert_eq!(parse(&["store"]).unwrap().action, Action::Store);
        assert_eq!(parse(&["erase"]).unwrap().action, Action::Erase);
    }

    #[test]
    fn usage_errors() {
        assert_eq!(parse(&[]), Err(CliError::MissingAction));
        assert_eq!(
            parse(&["fetch"]),
            Err(CliError::UnknownAction("fetch".into()))
        );
        assert_eq!(
            parse(&["get", "list"]),
            Err(CliError::ExtraArgument("list".into()))
        );
        assert_eq!(
            parse(&["get", "x"]),
            Err(CliError::ExtraArgument("x".into()))
        );
        assert_eq!(
            parse(&["get", "--region=x"]),
            Err(CliError::UnknownFlag("--region=x".into()))
        );
        assert_eq!(
            parse(&["get", "--no-cache=1"]),
            Err(CliError::UnknownFlag("--no-cache=1".into()))
        );
        assert_eq!(
            parse(&["get", "--config"]),
            Err(CliError::MissingValue("--config".into()))
        );
        assert_eq!(
            parse(&["get", "--config="]),
            Err(CliError::EmptyValue("--config".into()))
        );
    }

    #[test]
    fn flag_beats_environment_beats_default() {
        let env = |var: &str| match var {
            ENV_CONFIG => Some(OsString::from("/env/config")),
            ENV_BIN_DIR => Some(OsString::new()),
            _ => None,
        };
        let inv = parse(&["get"]).unwrap();
        let paths = Paths::resolve(&inv, env);
        assert_eq!(paths.config, PathBuf::from("/env/config"));
        assert_eq!(paths.bin_dir, PathBuf::from(DEFAULT_BIN_DIR));
        let inv = parse(&["get", "--config", "/flag"]).unwrap();
        assert_eq!(Paths::resolve(&inv, env).config, PathBuf::from("/flag"));
        let paths = Paths::resolve(&inv, |_| None);
        assert_eq!(paths.bin_dir, PathBuf::from(DEFAULT_BIN_DIR));
        let paths = Paths::resolve(&parse(&["get"]).unwrap(), |_| None);
        assert_eq!(paths.config, PathBuf::from(DEFAULT_CONFIG_PATH));
    }

    proptest! {
        #[test]
        fn arbitrary_arguments_never_panic(args in proptest::collection::vec("\\PC{0,12}", 0..5)) {
            let _ = Invocation::parse(&args);
        }
    }
}
