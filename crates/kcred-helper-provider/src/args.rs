//! The provider's own command line (the SDK has already taken the klog flags):
//! `[--helper] NAME [--helper-dir DIR] [--cache-duration D] [--helper-timeout D]
//! [--identity-token-username NAME]`.

use std::path::PathBuf;
use std::time::Duration;

use kcred_api::duration::DurationError;
use kcred_api::GoDuration;
use thiserror::Error;

/// The synopsis printed by `--help`.
pub(crate) const USAGE: &str = "\
Usage: docker-credential-provider [--v=N] [--helper] NAME [--helper-dir DIR]
         [--cache-duration D] [--helper-timeout D] [--identity-token-username USER]

A kubelet image credential provider that asks a docker credential helper: for each request
it runs `docker-credential-NAME get` with the registry of the image on stdin and answers
with the helper's username and secret for that registry (cacheKeyType: Registry). A helper
without credentials gives an empty answer, not an error.

  --helper NAME        the helper to run: docker-credential-NAME (for example pass,
                       secretservice, ecr-login, gcloud); may be given without the flag
  --helper-dir DIR     look for docker-credential-NAME only in DIR (default: $PATH)
  --cache-duration D   cacheDuration of every answer, a Go duration (default 5m; 0s = the
                       kubelet must not cache)
  --helper-timeout D   kill the helper after D (default 30s; the kubelet gives the whole
                       provider one minute)
  --identity-token-username USER
                       when the helper answers with an identity token (username <token>),
                       send the token as the password of USER (for example
                       00000000-0000-0000-0000-000000000000 for Azure Container Registry).
                       Without it such an answer is an error: the kubelet can only pass a
                       username and a password to the container runtime.";

/// The default `--cache-duration`: 5 minutes.
pub(crate) const DEFAULT_CACHE_DURATION: GoDuration = GoDuration(5 * 60 * 1_000_000_000);

/// The default `--helper-timeout`: 30 seconds (half of the kubelet's exec timeout).
pub(crate) const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// A docker credential helper name: the `NAME` of `docker-credential-NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HelperName(String);

impl HelperName {
    /// Accepts `[A-Za-z0-9._-]+` not starting with `.` or `-` (a file name suffix, never a
    /// path). A full `docker-credential-NAME` is accepted and shortened to `NAME`.
    pub(crate) fn parse(name: &str) -> Result<HelperName, ArgsError> {
        let short = name.strip_prefix(HELPER_PREFIX).unwrap_or(name);
        let valid = !short.is_empty()
            && !short.starts_with(['.', '-'])
            && short
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if valid {
            Ok(HelperName(short.to_owned()))
        } else {
            Err(ArgsError::BadHelperName(name.to_owned()))
        }
    }

    /// The name (`pass`).
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The executable's file name (`docker-credential-pass`).
    pub(crate) fn program(&self) -> String {
        format!("{HELPER_PREFIX}{}", self.0)
    }
}

/// Every docker credential helper executable starts with this.
pub(crate) const HELPER_PREFIX: &str = "docker-credential-";

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Args {
    /// The helper to run.
    pub helper: HelperName,
    /// `--helper-dir`: look only there.
    pub helper_dir: Option<PathBuf>,
    /// `cacheDuration` of every answer.
    pub cache_duration: GoDuration,
    /// How long the helper may run.
    pub helper_timeout: Duration,
    /// Username to send identity tokens with.
    pub identity_token_username: Option<String>,
}

/// A command-line error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum ArgsError {
    /// No helper named.
    #[error("no credential helper named: give --helper NAME (runs docker-credential-NAME)")]
    MissingHelper,
    /// Two helpers named.
    #[error("unexpected argument {0:?}: only one credential helper is accepted")]
    ExtraArgument(String),
    /// A name that is not a plain file name suffix.
    #[error("invalid credential helper name {0:?}: want letters, digits, \".\", \"_\" or \"-\" (the NAME of docker-credential-NAME)")]
    BadHelperName(String),
    /// A flag this provider does not know.
    #[error("flag provided but not defined: {0}")]
    UnknownFlag(String),
    /// A valued flag at the end of the command line.
    #[error("flag needs an argument: {0}")]
    MissingValue(String),
    /// A flag with an empty value.
    #[error("flag {0} needs a non-empty value")]
    EmptyValue(String),
    /// A duration flag that is not a Go duration.
    #[error("invalid value {value:?} for flag {flag}: {source}")]
    BadDuration {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: String,
        /// Go's parse error.
        #[source]
        source: DurationError,
    },
    /// A duration out of range.
    #[error("invalid value {value:?} for flag {flag}: {reason}")]
    DurationOutOfRange {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
}

impl Args {
    /// Parses the plugin arguments (klog flags already removed). Flags take one or two
    /// dashes and `=value` or the next argument; `--` ends the flags.
    pub(crate) fn parse(args: &[String]) -> Result<Args, ArgsError> {
        let mut helper: Option<HelperName> = None;
        let mut helper_dir = None;
        let mut cache_duration = DEFAULT_CACHE_DURATION;
        let mut helper_timeout = DEFAULT_HELPER_TIMEOUT;
        let mut identity_token_username = None;
        let mut i = 0;
        let mut flags_done = false;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            let body = if flags_done {
                None
            } else {
                arg.strip_prefix("--")
                    .or_else(|| arg.strip_prefix('-'))
                    .filter(|b| !b.is_empty())
            };
            let Some(body) = body else {
                if arg == "--" && !flags_done {
                    flags_done = true;
                    continue;
                }
                set_helper(arg, &mut helper)?;
                continue;
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            let flag = match name {
                "helper" => "--helper",
                "helper-dir" => "--helper-dir",
                "cache-duration" => "--cache-duration",
                "helper-timeout" => "--helper-timeout",
                "identity-token-username" => "--identity-token-username",
                _ => return Err(ArgsError::UnknownFlag(arg.clone())),
            };
            let value = match inline {
                Some(v) => v,
                None => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| ArgsError::MissingValue(flag.to_owned()))?;
                    i += 1;
                    v.clone()
                }
            };
            if value.is_empty() {
                return Err(ArgsError::EmptyValue(flag.to_owned()));
            }
            match flag {
                "--helper" => set_helper(&value, &mut helper)?,
                "--helper-dir" => helper_dir = Some(PathBuf::from(value)),
                "--cache-duration" => {
                    let d = parse_duration(flag, &value)?;
                    if d.is_negative() {
                        return Err(ArgsError::DurationOutOfRange {
                            flag,
                            value,
                            reason: "must be greater than or equal to 0",
                        });
                    }
                    cache_duration = d;
                }
                "--helper-timeout" => {
                    let d = parse_duration(flag, &value)?;
                    helper_timeout = d.as_std().filter(|d| !d.is_zero()).ok_or(
                        ArgsError::DurationOutOfRange {
                            flag,
                            value,
                            reason: "must be greater than 0",
                        },
                    )?;
                }
                _ => identity_token_username = Some(value),
            }
        }
        Ok(Args {
            helper: helper.ok_or(ArgsError::MissingHelper)?,
            helper_dir,
            cache_duration,
            helper_timeout,
            identity_token_username,
        })
    }
}

/// Sets the helper once; a second name is an error.
fn set_helper(name: &str, helper: &mut Option<HelperName>) -> Result<(), ArgsError> {
    if helper.is_some() {
        return Err(ArgsError::ExtraArgument(name.to_owned()));
    }
    *helper = Some(HelperName::parse(name)?);
    Ok(())
}

fn parse_duration(flag: &'static str, value: &str) -> Result<GoDuration, ArgsError> {
    GoDuration::parse(value).map_err(|source| ArgsError::BadDuration {
        flag,
        value: value.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(list: &[&str]) -> Result<Args, ArgsError> {
        Args::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn positional_or_flag_with_defaults() {
        for form in [
            &["pass"][..],
            &["--helper", "pass"],
            &["-helper=pass"],
            &["--helper=docker-credential-pass"],
            &["--", "pass"],
        ] {
            let a = parse(form).unwrap();
            assert_eq!(a.helper.as_str(), "pass", "{form:?}");
            assert_eq!(a.helper.program(), "docker-credential-pass");
            assert_eq!(a.cache_duration, DEFAULT_CACHE_DURATION);
            assert_eq!(a.cache_duration.to_string(), "5m0s");
            assert_eq!(a.helper_timeout, Duration::from_secs(30));
            assert_eq!(a.helper_dir, None);
            assert_eq!(a.identity_token_username, None);
        }
    }

    #[test]
    fn every_flag() {
        let a = parse(&[
            "--helper-dir=/opt/helpers",
            "--cache-duration",
            "1h30m",
            "--helper-timeout=2s",
            "--identity-token-username",
            "00000000-0000-0000-0000-000000000000",
            "ecr-login",
        ])
        .unwrap();
        assert_eq!(a.helper.as_str(), "ecr-login");
        assert_eq!(a.helper_dir, Some(PathBuf::from("/opt/helpers")));
        assert_eq!(a.cache_duration.to_string(), "1h30m0s");
        assert_eq!(a.helper_timeout, Duration::from_secs(2));
        assert_eq!(
            a.identity_token_username.as_deref(),
            Some("00000000-0000-0000-0000-000000000000")
        );
        assert_eq!(
            parse(&["pass", "--cache-duration=0s"])
                .unwrap()
                .cache_duration,
            GoDuration(0)
        );
    }

    #[test]
    fn errors_are_precise() {
        let err = |list: &[&str]| parse(list).unwrap_err().to_string();
        assert_eq!(
            err(&[]),
            "no credential helper named: give --helper NAME (runs docker-credential-NAME)"
        );
        assert_eq!(
            err(&["pass", "gcloud"]),
            "unexpected argument \"gcloud\": only one credential helper is accepted"
        );
        assert!(err(&["../bin/x"]).starts_with("invalid credential helper name \"../bin/x\""));
        assert!(err(&["docker-credential-"]).starts_with("invalid credential helper name"));
        assert!(err(&["--helper=.hidden"]).starts_with("invalid credential helper name"));
        assert_eq!(
            err(&["pass", "--region=x"]),
            "flag provided but not defined: --region=x"
        );
        assert_eq!(
            err(&["pass", "--helper-dir"]),
            "flag needs an argument: --helper-dir"
        );
        assert_eq!(
            err(&["pass", "--helper-dir="]),
            "flag --helper-dir needs a non-empty value"
        );
        assert_eq!(
            err(&["pass", "--cache-duration=5"]),
            "invalid value \"5\" for flag --cache-duration: time: missing unit in duration \"5\""
        );
        assert_eq!(
            err(&["pass", "--cache-duration=-1s"]),
            "invalid value \"-1s\" for flag --cache-duration: must be greater than or equal to 0"
        );
        assert_eq!(
            err(&["pass", "--helper-timeout=0s"]),
            "invalid value \"0s\" for flag --helper-timeout: must be greater than 0"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_arguments_never_panic(args in proptest::collection::vec("\\PC{0,16}", 0..6)) {
            if let Ok(a) = Args::parse(&args) {
                prop_assert!(!a.helper.as_str().contains('/'));
                prop_assert!(!a.cache_duration.is_negative());
                prop_assert!(!a.helper_timeout.is_zero());
            }
        }
    }
}
