//! The command-line flags the SDK owns: klog's logging flags, as Go's `flag` package reads them.
//!
//! Kubelet configs written for Go plugins pass klog flags in `args` (`--v=4`,
//! `--logtostderr`, …), so a Rust plugin accepts the same spellings:
//!
//! - one or two leading dashes (`-v=2` and `--v=2` are the same flag);
//! - valued flags take `=value` or the next argument (`--v 2`, `-v 2`);
//! - boolean flags take only `=value` (`--logtostderr=false`), as Go's `flag` does;
//! - `--` ends the SDK's flags; `-h`, `-help`, `--help` ask for usage.
//!
//! `-v` / `--v` sets the verbosity of the [`Logger`](crate::Logger). The other klog flags are
//! accepted and validated but change nothing: the SDK always logs to stderr only.
//! Anything else is an *unknown argument*, rejected or handed to the plugin according to
//! [`UnknownArgs`].

use thiserror::Error;

/// What the SDK does with arguments that are not its own flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownArgs {
    /// Fail with a usage error (for plugins that take no arguments).
    #[default]
    Reject,
    /// Hand them, in order, to the plugin via [`PluginRequest::args`](crate::PluginRequest::args).
    PassToPlugin,
}

/// The result of parsing the command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedArgs {
    /// klog verbosity from `-v` (0 when absent; the last occurrence wins).
    pub verbosity: i32,
    /// `-h` / `--help` was given.
    pub help: bool,
    /// Arguments that are not the SDK's, in order (empty under [`UnknownArgs::Reject`]).
    /// When `--` is present it is included, followed by everything after it.
    pub plugin_args: Vec<String>,
}

/// A command-line usage error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FlagError {
    /// A flag the SDK does not know, with unknown arguments rejected.
    #[error("flag provided but not defined: {0}")]
    UnknownFlag(String),
    /// A positional argument, with unknown arguments rejected.
    #[error("unexpected argument {0:?}: this plugin takes no arguments")]
    UnexpectedArgument(String),
    /// A valued flag at the end of the command line.
    #[error("flag needs an argument: {0}")]
    MissingValue(String),
    /// A value the flag does not accept.
    #[error("invalid value {value:?} for flag {flag}: {reason}")]
    InvalidValue {
        /// The flag as written (`--v`).
        flag: String,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
}

/// klog flags that take a value (`-name=value` or `-name value`).
const VALUED: &[&str] = &[
    "v",
    "stderrthreshold",
    "vmodule",
    "log_dir",
    "log_file",
    "log_file_max_size",
    "log_backtrace_at",
];

/// klog boolean flags (`-name` or `-name=bool`).
const BOOLEAN: &[&str] = &[
    "logtostderr",
    "alsologtostderr",
    "add_dir_header",
    "skip_headers",
    "skip_log_headers",
    "one_output",
];

/// Parses `args` (without the program name).
pub fn parse_args(args: &[String], unknown: UnknownArgs) -> Result<ParsedArgs, FlagError> {
    let mut parsed = ParsedArgs::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            let rest = &args[i - 1..];
            match unknown {
                UnknownArgs::PassToPlugin => parsed.plugin_args.extend_from_slice(rest),
                UnknownArgs::Reject => {
                    if let Some(first) = rest.get(1) {
                        return Err(FlagError::UnexpectedArgument(first.clone()));
                    }
                }
            }
            break;
        }
        let Some((written, name, inline_value)) = split_flag(arg) else {
            match unknown {
                UnknownArgs::PassToPlugin => parsed.plugin_args.push(arg.clone()),
                UnknownArgs::Reject => return Err(FlagError::UnexpectedArgument(arg.clone())),
            }
            continue;
        };
        if matches!(name, "h" | "help") && inline_value.is_none() {
            parsed.help = true;
        } else if VALUED.contains(&name) {
            let value = match inline_value {
                Some(v) => v.to_owned(),
                None => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| FlagError::MissingValue(written.to_owned()))?;
                    i += 1;
                    v.clone()
                }
            };
            apply_valued(&mut parsed, written, name, &value)?;
        } else if BOOLEAN.contains(&name) {
            if let Some(v) = inline_value {
                kcred_api::go::strconv::parse_bool(v).map_err(|_| FlagError::InvalidValue {
                    flag: written.to_owned(),
                    value: v.to_owned(),
                    reason: "want true or false",
                })?;
            }
        } else {
            match unknown {
                UnknownArgs::PassToPlugin => parsed.plugin_args.push(arg.clone()),
                UnknownArgs::Reject => return Err(FlagError::UnknownFlag(written.to_owned())),
            }
        }
    }
    Ok(parsed)
}

/// Splits `-name`, `--name`, `-name=value`, `--name=value` into (flag as written without
/// value, name, value). Returns `None` for positional arguments (`x`, `-`, `---x`, `-=x`).
fn split_flag(arg: &str) -> Option<(&str, &str, Option<&str>)> {
    let body = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
        return None;
    }
    let (name, value) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    };
    let written_len = arg.len() - body.len() + name.len();
    Some((&arg[..written_len], name, value))
}

fn apply_valued(
    parsed: &mut ParsedArgs,
    written: &str,
    name: &str,
    value: &str,
) -> Result<(), FlagError> {
    let invalid = |reason| FlagError::InvalidValue {
        flag: written.to_owned(),
        value: value.to_owned(),
        reason,
    };
    match name {
        "v" => {
            parsed.verbosity = value
                .parse::<i32>()
                .map_err(|_| invalid("want an integer log level"))?;
        }
        "stderrthreshold" => {
            let named = ["INFO", "WARNING", "ERROR", "FATAL"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(value));
            if !named && value.parse::<i32>().is_err() {
                return Err(invalid("want INFO, WARNING, ERROR, FATAL or a number"));
            }
        }
        "log_file_max_size" => {
            value
                .parse::<u64>()
                .map_err(|_| invalid("want a size in megabytes"))?;
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn parse(list: &[&str], unknown: UnknownArgs) -> Result<ParsedArgs, FlagError> {
        parse_args(&args(list), unknown)
    }

    #[test]
    fn every_klog_verbosity_spelling_sets_the_level() {
        for form in [&["-v", "3"][..], &["-v=3"], &["--v=3"], &["--v", "3"]] {
            let p = parse(form, UnknownArgs::Reject).unwrap();
            assert_eq!(p.verbosity, 3, "{form:?}");
            assert!(p.plugin_args.is_empty());
        }
    }

    #[test]
    fn last_verbosity_wins() {
        let p = parse(&["--v=1", "-v", "5"], UnknownArgs::Reject).unwrap();
        assert_eq!(p.verbosity, 5);
    }

    #[test]
    fn klog_no_op_flags_are_accepted() {
        let p = parse(
            &[
                "--logtostderr",
                "--alsologtostderr=false",
                "--stderrthreshold=ERROR",
                "-stderrthreshold",
                "2",
                "--log_dir=/tmp",
                "--vmodule",
                "x=2",
                "--skip_headers=true",
            ],
            UnknownArgs::Reject,
        )
        .unwrap();
        assert_eq!(
            p,
            ParsedArgs {
                verbosity: 0,
                help: false,
                plugin_args: vec![]
            }
        );
    }

    #[test]
    fn boolean_flags_do_not_take_the_next_argument() {
        let p = parse(&["--logtostderr", "false"], UnknownArgs::PassToPlugin).unwrap();
        assert_eq!(p.plugin_args, args(&["false"]));
    }

    #[test]
    fn bad_values_are_rejected_with_the_flag_named() {
        let e = parse(&["--v=high"], UnknownArgs::Reject).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value \"high\" for flag --v: want an integer log level"
        );
        let e = parse(&["--logtostderr=yes"], UnknownArgs::Reject).unwrap_err();
        assert!(e.to_string().contains("--logtostderr"), "{e}");
        let e = parse(&["--stderrthreshold=LOUD"], UnknownArgs::Reject).unwrap_err();
        assert!(e.to_string().contains("LOUD"), "{e}");
        assert!(parse(&["--stderrthreshold=warning"], UnknownArgs::Reject).is_ok());
    }

    #[test]
    fn valued_flag_at_the_end_needs_a_value() {
        let e = parse(&["--v"], UnknownArgs::Reject).unwrap_err();
        assert_eq!(e, FlagError::MissingValue("--v".into()));
        assert_eq!(e.to_string(), "flag needs an argument: --v");
    }

    #[test]
    fn reject_mode_names_the_unknown_flag_or_argument() {
        assert_eq!(
            parse(&["--region=eu"], UnknownArgs::Reject).unwrap_err(),
            FlagError::UnknownFlag("--region".into())
        );
        assert_eq!(
            parse(&["config.json"], UnknownArgs::Reject).unwrap_err(),
            FlagError::UnexpectedArgument("config.json".into())
        );
        assert_eq!(
            parse(&["--", "x"], UnknownArgs::Reject).unwrap_err(),
            FlagError::UnexpectedArgument("x".into())
        );
        assert!(parse(&["--"], UnknownArgs::Reject).is_ok());
    }

    #[test]
    fn pass_mode_keeps_unknown_arguments_in_order() {
        let p = parse(
            &[
                "--cache-duration",
                "5m",
                "--v=2",
                "/etc/config.json",
                "-",
                "--",
                "--v=9",
            ],
            UnknownArgs::PassToPlugin,
        )
        .unwrap();
        assert_eq!(p.verbosity, 2);
        assert_eq!(
            p.plugin_args,
            args(&[
                "--cache-duration",
                "5m",
                "/etc/config.json",
                "-",
                "--",
                "--v=9"
            ])
        );
    }

    #[test]
    fn help_is_recognised() {
        for h in ["-h", "--help", "-help"] {
            assert!(parse(&[h], UnknownArgs::Reject).unwrap().help, "{h}");
        }
        assert!(parse(&["--help=1"], UnknownArgs::Reject).is_err());
    }

    #[test]
    fn oddly_dashed_arguments_are_positional() {
        let p = parse(&["---v=1", "-=x", "-"], UnknownArgs::PassToPlugin).unwrap();
        assert_eq!(p.plugin_args, args(&["---v=1", "-=x", "-"]));
        assert_eq!(p.verbosity, 0);
    }

    proptest! {
        #[test]
        fn never_panics(list in proptest::collection::vec("[-=a-z0-9vh_]{0,8}|\\PC{0,6}", 0..8)) {
            let _ = parse_args(&list, UnknownArgs::Reject);
            let p = parse_args(&list, UnknownArgs::PassToPlugin);
            // In pass mode only bad klog values or a missing value can fail.
            if let Err(e) = p {
                let expected = matches!(e, FlagError::InvalidValue { .. } | FlagError::MissingValue(_));
                prop_assert!(expected, "unexpected error {:?}", e);
            }
        }
    }
}
