//! Command lines as cobra/pflag parses them (spf13/pflag `flag.go`, `parseLongArg` and
//! `parseShortArg`): the argument syntax of the Go plugins built on cobra, ACR's
//! `acr-credential-provider` and GCP's `auth-provider-gcp`. (ECR's upstream and the SDK's own
//! providers use Go's `flag` package instead: [`crate::flags`].)
//!
//! - `--name=value`, `--name value`; a boolean `--name` alone means `true`, and takes a value
//!   only as `--name=value`;
//! - `-x value`, `-xvalue`, `-x=value`; shorthands combine (`-hv3` is `-h -v 3`);
//! - flags and positional arguments mix in any order; `--` ends the flags;
//! - klog flags (marked [`Flag::klog`]) also match with `-` for `_` (`--log-dir`), as klog's
//!   normalizing `FlagSet` does;
//! - errors are pflag's messages ([`PflagError`]).
//!
//! The parser only splits the command line: it returns each flag with its value as written
//! (`"true"` for a bare boolean), and the plugin applies them, with [`parse_bool`] and
//! [`parse_int`] for pflag's typed values.

use kcred_api::gostr::strconv_quote;
use thiserror::Error;

/// Whether a flag takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A boolean: `--name` is `true`; a value only as `--name=value`.
    Bool,
    /// A flag with a value: `--name value` or `--name=value`.
    Value,
}

/// One flag of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The long name, without dashes.
    pub name: &'static str,
    /// The one-letter shorthand.
    pub short: Option<char>,
    /// Boolean or valued.
    pub kind: Kind,
    /// A klog flag: `-` and `_` are interchangeable in its name.
    pub klog: bool,
}

impl Flag {
    /// A valued flag.
    pub const fn value(name: &'static str, short: Option<char>) -> Flag {
        Flag {
            name,
            short,
            kind: Kind::Value,
            klog: false,
        }
    }

    /// A boolean flag.
    pub const fn bool(name: &'static str, short: Option<char>) -> Flag {
        Flag {
            name,
            short,
            kind: Kind::Bool,
            klog: false,
        }
    }

    /// The same flag, marked as klog's.
    pub const fn klog(mut self) -> Flag {
        self.klog = true;
        self
    }

    /// The name pflag puts in messages: `-v, --v` or `--name`.
    pub fn display(&self) -> String {
        match self.short {
            Some(c) => format!("-{c}, --{}", self.name),
            None => format!("--{}", self.name),
        }
    }
}

/// A command line pflag refuses (cobra prints it after `Error: ` and exits 1).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PflagError {
    /// An unknown `--name`.
    #[error("unknown flag: --{0}")]
    UnknownFlag(String),
    /// An unknown `-x`.
    #[error("unknown shorthand flag: '{short}' in -{arg}")]
    UnknownShorthand {
        /// The letter.
        short: char,
        /// The argument it appeared in, without the dash.
        arg: String,
    },
    /// A valued flag at the end of the line: `--name` or `'x' in -xyz`.
    #[error("flag needs an argument: {0}")]
    MissingValue(String),
    /// A value the flag's type refuses.
    #[error("invalid argument {} for {} flag: {reason}", strconv_quote(.value), strconv_quote(.flag))]
    InvalidValue {
        /// The flag as [`Flag::display`] names it.
        flag: String,
        /// The value.
        value: String,
        /// Go's parse error (`strconv.ParseBool: parsing "x": invalid syntax`).
        reason: String,
    },
}

/// A split command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<'f> {
    /// Each flag given, in order, with its value as written (`"true"` for a bare boolean).
    pub flags: Vec<(&'f Flag, String)>,
    /// The positional arguments, in order (everything after `--` included).
    pub positional: Vec<String>,
}

/// Splits `args` (without the program name) against `flags`.
pub fn parse<'f, S: AsRef<str>>(flags: &'f [Flag], args: &[S]) -> Result<Parsed<'f>, PflagError> {
    let mut found = Vec::new();
    let positional = parse_with(flags, args, |flag, value| {
        found.push((flag, value.to_owned()));
        Ok(())
    })?;
    Ok(Parsed {
        flags: found,
        positional,
    })
}

/// Parses `args` (without the program name) against `flags`, calling `set` with each flag
/// and its value as soon as it is read, as pflag calls `Value.Set`: the first error, of the
/// syntax or of `set`, ends the parse. Returns the positional arguments.
pub fn parse_with<'f, S: AsRef<str>>(
    flags: &'f [Flag],
    args: &[S],
    mut set: impl FnMut(&'f Flag, &str) -> Result<(), PflagError>,
) -> Result<Vec<String>, PflagError> {
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_ref();
        i += 1;
        if arg == "--" {
            positional.extend(args[i..].iter().map(|a| a.as_ref().to_owned()));
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let flag =
                lookup_long(flags, name).ok_or_else(|| PflagError::UnknownFlag(name.to_owned()))?;
            let value = match (flag.kind, inline) {
                (_, Some(v)) => v.to_owned(),
                (Kind::Bool, None) => "true".to_owned(),
                (Kind::Value, None) => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| PflagError::MissingValue(format!("--{name}")))?;
                    i += 1;
                    v.as_ref().to_owned()
                }
            };
            set(flag, &value)?;
            continue;
        }
        if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut rest = shorts;
            while let Some(c) = rest.chars().next() {
                rest = &rest[c.len_utf8()..];
                let flag = flags.iter().find(|f| f.short == Some(c)).ok_or_else(|| {
                    PflagError::UnknownShorthand {
                        short: c,
                        arg: shorts.to_owned(),
                    }
                })?;
                let inline = rest.strip_prefix('=');
                let value = match flag.kind {
                    Kind::Bool => match inline {
                        Some(v) => {
                            rest = "";
                            v.to_owned()
                        }
                        None => "true".to_owned(),
                    },
                    Kind::Value => {
                        let v = if let Some(v) = inline {
                            v.to_owned()
                        } else if !rest.is_empty() {
                            rest.to_owned()
                        } else {
                            let v = args.get(i).ok_or_else(|| {
                                PflagError::MissingValue(format!("'{c}' in -{shorts}"))
                            })?;
                            i += 1;
                            v.as_ref().to_owned()
                        };
                        rest = "";
                        v
                    }
                };
                set(flag, &value)?;
            }
            continue;
        }
        positional.push(arg.to_owned());
    }
    Ok(positional)
}

fn lookup_long<'f>(flags: &'f [Flag], name: &str) -> Option<&'f Flag> {
    flags.iter().find(|f| f.name == name).or_else(|| {
        let normalized = name.replace('-', "_");
        flags.iter().find(|f| f.klog && f.name == normalized)
    })
}

/// A boolean flag's value, as pflag's `boolValue.Set` (Go's `strconv.ParseBool`).
pub fn parse_bool(flag: &Flag, value: &str) -> Result<bool, PflagError> {
    kcred_api::go::strconv::parse_bool(value).map_err(|e| PflagError::InvalidValue {
        flag: flag.display(),
        value: value.to_owned(),
        reason: e.to_string(),
    })
}

/// An integer flag's value (klog's `Level` and pflag's `int32`).
pub fn parse_int(flag: &Flag, value: &str) -> Result<i32, PflagError> {
    value.parse().map_err(|_| PflagError::InvalidValue {
        flag: flag.display(),
        value: value.to_owned(),
        reason: format!(
            "strconv.ParseInt: parsing {}: invalid syntax",
            strconv_quote(value)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FLAGS: [Flag; 6] = [
        Flag::value("authFlow", Some('a')),
        Flag::bool("help", Some('h')),
        Flag::value("v", Some('v')).klog(),
        Flag::value("log_dir", None).klog(),
        Flag::bool("skip_headers", None).klog(),
        Flag::value("registry-mirror", Some('r')),
    ];

    type Split = (Vec<(&'static str, String)>, Vec<String>);

    fn split(args: &[&str]) -> Result<Split, PflagError> {
        let p = parse(&FLAGS, args)?;
        Ok((
            p.flags.iter().map(|(f, v)| (f.name, v.clone())).collect(),
            p.positional,
        ))
    }

    #[test]
    fn every_value_form() {
        for form in [
            &["-a", "x"][..],
            &["-ax"],
            &["-a=x"],
            &["--authFlow", "x"],
            &["--authFlow=x"],
        ] {
            assert_eq!(
                split(form).unwrap().0,
                [("authFlow", "x".to_owned())],
                "{form:?}"
            );
        }
        assert_eq!(
            split(&["--authFlow="]).unwrap().0,
            [("authFlow", String::new())]
        );
    }

    #[test]
    fn shorthands_combine_and_flags_mix_with_arguments() {
        let (flags, pos) = split(&["cmd", "-hv3", "file", "--", "-x", "--y"]).unwrap();
        assert_eq!(flags, [("help", "true".into()), ("v", "3".into())]);
        assert_eq!(pos, ["cmd", "file", "-x", "--y"]);
        let (flags, _) = split(&["-h=false", "--skip-headers", "--log-dir", "/tmp"]).unwrap();
        assert_eq!(
            flags,
            [
                ("help", "false".into()),
                ("skip_headers", "true".into()),
                ("log_dir", "/tmp".into())
            ]
        );
        // Only klog flags are normalized.
        assert_eq!(
            split(&["--registry_mirror=a"]).unwrap_err(),
            PflagError::UnknownFlag("registry_mirror".into())
        );
    }

    #[test]
    fn pflag_messages() {
        let err = |a: &[&str]| split(a).unwrap_err().to_string();
        assert_eq!(err(&["--nope"]), "unknown flag: --nope");
        assert_eq!(err(&["-x"]), "unknown shorthand flag: 'x' in -x");
        assert_eq!(err(&["-hx"]), "unknown shorthand flag: 'x' in -hx");
        assert_eq!(err(&["--authFlow"]), "flag needs an argument: --authFlow");
        assert_eq!(err(&["-ha"]), "flag needs an argument: 'a' in -ha");
        assert_eq!(
            parse_bool(&FLAGS[4], "maybe").unwrap_err().to_string(),
            "invalid argument \"maybe\" for \"--skip_headers\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
        assert_eq!(
            parse_int(&FLAGS[2], "x").unwrap_err().to_string(),
            "invalid argument \"x\" for \"-v, --v\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(parse_bool(&FLAGS[1], "T"), Ok(true));
        assert_eq!(parse_int(&FLAGS[2], "-1"), Ok(-1));
    }

    proptest! {
        #[test]
        fn never_panics(args in proptest::collection::vec("[-=ahvrx0-9_]{0,6}|\\PC{0,4}", 0..8)) {
            let _ = parse(&FLAGS, &args);
        }
    }
}
