//! The provider's own command line (the SDK has already taken the klog flags):
//! `[--cache-duration D] <docker config path>`.

use std::path::PathBuf;

use kcred_api::duration::DurationError;
use kcred_api::GoDuration;
use thiserror::Error;

/// The synopsis printed by `--help`.
pub(crate) const USAGE: &str = "\
Usage: static-credential-provider [--v=N] [--cache-duration D] <docker config.json>

A kubelet image credential provider that serves the credentials of a docker config.json
(or .dockercfg) file, only for the registry of the requested image, keyed by that
registry (cacheKeyType: Registry).

  --cache-duration D   cacheDuration of every answer (a Go duration: 30s, 5m, 1h30m;
                       0s = the kubelet must not cache). Default: omitted, so the
                       provider's defaultCacheDuration applies.";

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Args {
    /// The docker config file.
    pub config_path: PathBuf,
    /// `--cache-duration`, if given.
    pub cache_duration: Option<GoDuration>,
}

/// A command-line error.
#[derive(Debug, Error)]
pub(crate) enum ArgsError {
    /// No positional argument.
    #[error("missing the docker config path: usage: static-credential-provider [--v=N] [--cache-duration D] <docker config.json>")]
    MissingConfigPath,
    /// More than one positional argument.
    #[error("unexpected argument {0:?}: only one docker config path is accepted")]
    ExtraArgument(String),
    /// A flag this provider does not know.
    #[error("flag provided but not defined: {0}")]
    UnknownFlag(String),
    /// `--cache-duration` at the end of the command line.
    #[error("flag needs an argument: {0}")]
    MissingValue(String),
    /// `--cache-duration` is not a Go duration.
    #[error("invalid value {value:?} for flag --cache-duration: {source}")]
    BadDuration {
        /// The value given.
        value: String,
        /// Go's parse error.
        #[source]
        source: DurationError,
    },
    /// `--cache-duration` is negative.
    #[error("invalid value {0:?} for flag --cache-duration: must be greater than or equal to 0")]
    NegativeDuration(String),
}

impl Args {
    /// Parses the arguments the SDK handed over, in order.
    pub(crate) fn parse(args: &[String]) -> Result<Args, ArgsError> {
        let mut config_path: Option<PathBuf> = None;
        let mut cache_duration = None;
        let mut positional_only = false;
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            if !positional_only && arg == "--" {
                positional_only = true;
                continue;
            }
            let flag_body = (!positional_only && arg.len() > 1)
                .then(|| arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')))
                .flatten();
            match flag_body {
                None => {
                    if config_path.is_some() {
                        return Err(ArgsError::ExtraArgument(arg.clone()));
                    }
                    config_path = Some(PathBuf::from(arg));
                }
                Some(body) => {
                    let (name, inline) = match body.split_once('=') {
                        Some((n, v)) => (n, Some(v.to_owned())),
                        None => (body, None),
                    };
                    if name != "cache-duration" {
                        let written = &arg[..arg.len() - body.len() + name.len()];
                        return Err(ArgsError::UnknownFlag(written.to_owned()));
                    }
                    let value = match inline {
                        Some(v) => v,
                        None => {
                            let v = args
                                .get(i)
                                .ok_or_else(|| ArgsError::MissingValue(arg.clone()))?;
                            i += 1;
                            v.clone()
                        }
                    };
                    cache_duration = Some(parse_cache_duration(&value)?);
                }
            }
        }
        Ok(Args {
            config_path: config_path.ok_or(ArgsError::MissingConfigPath)?,
            cache_duration,
        })
    }
}

fn parse_cache_duration(value: &str) -> Result<GoDuration, ArgsError> {
    let d = GoDuration::parse(value).map_err(|source| ArgsError::BadDuration {
        value: value.to_owned(),
        source,
    })?;
    if d.0 < 0 {
        return Err(ArgsError::NegativeDuration(value.to_owned()));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(list: &[&str]) -> Result<Args, ArgsError> {
        Args::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn path_only() {
        assert_eq!(
            parse(&["/etc/kubernetes/registry.json"]).unwrap(),
            Args {
                config_path: "/etc/kubernetes/registry.json".into(),
                cache_duration: None
            }
        );
    }

    #[test]
    fn cache_duration_spellings() {
        for form in [
            &["--cache-duration", "5m", "c.json"][..],
            &["--cache-duration=5m", "c.json"],
            &["c.json", "-cache-duration=5m"],
            &["-cache-duration", "5m", "c.json"],
        ] {
            let a = parse(form).unwrap();
            assert_eq!(
                a.cache_duration,
                Some(GoDuration(300_000_000_000)),
                "{form:?}"
            );
            assert_eq!(a.config_path, PathBuf::from("c.json"));
        }
        assert_eq!(
            parse(&["--cache-duration=0s", "c.json"])
                .unwrap()
                .cache_duration,
            Some(GoDuration(0))
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |list: &[&str]| parse(list).unwrap_err();
        assert!(matches!(err(&[]), ArgsError::MissingConfigPath));
        assert!(matches!(err(&["a.json", "b.json"]), ArgsError::ExtraArgument(a) if a == "b.json"));
        assert!(
            matches!(err(&["--cache=5m", "a.json"]), ArgsError::UnknownFlag(f) if f == "--cache")
        );
        assert!(
            matches!(err(&["a.json", "--cache-duration"]), ArgsError::MissingValue(f) if f == "--cache-duration")
        );
        assert!(
            matches!(err(&["--cache-duration=-1m", "a.json"]), ArgsError::NegativeDuration(v) if v == "-1m")
        );
        let e = err(&["--cache-duration=5 minutes", "a.json"]);
        assert!(matches!(e, ArgsError::BadDuration { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("invalid value \"5 minutes\" for flag --cache-duration: time: "),
            "{e}"
        );
        assert_eq!(
            err(&["x", "y"]).to_string(),
            "unexpected argument \"y\": only one docker config path is accepted"
        );
    }

    #[test]
    fn double_dash_makes_the_rest_positional() {
        let a = parse(&["--", "-odd-name.json"]).unwrap();
        assert_eq!(a.config_path, PathBuf::from("-odd-name.json"));
        let a = parse(&["-"]).unwrap();
        assert_eq!(a.config_path, PathBuf::from("-"));
    }

    proptest! {
        #[test]
        fn never_panics(list in proptest::collection::vec("[-=a-z0-9.]{0,10}|\\PC{0,8}", 0..6)) {
            let _ = Args::parse(&list);
        }
    }
}
