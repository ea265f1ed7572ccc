//! Command line, parsed as upstream's cobra/pflag command does: `get-credentials` with
//! `--authFlow`/`-a`, `--identity-provider`, `--project-id`, every klog flag (GKE passes
//! `--v=3`; `_` and `-` are interchangeable in klog names), flags anywhere, `--` ending
//! them, `--flag=value`, `--flag value`, `-a value`, `-avalue`, `-a=value`.
//!
//! kcred additions: `--upstream-compat-exit0`, `--impersonate-service-account`,
//! `--impersonate-from-annotation`.

use kcred_api::gostr::strconv_quote;
use thiserror::Error;

/// Options of `get-credentials`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--authFlow` / `-a` (default `gcr`).
    pub auth_flow: String,
    /// `--identity-provider`.
    pub identity_provider: String,
    /// `--project-id`.
    pub project_id: String,
    /// `--impersonate-service-account` (kcred).
    pub impersonate_service_account: String,
    /// `--impersonate-from-annotation` (kcred).
    pub impersonate_from_annotation: bool,
    /// `--upstream-compat-exit0` (kcred): on a provider failure answer with no `auth` and
    /// exit 0, as upstream does.
    pub upstream_compat_exit0: bool,
    /// klog `--v`.
    pub verbosity: u32,
    /// klog `--skip_headers`.
    pub skip_headers: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            auth_flow: "gcr".to_owned(),
            identity_provider: String::new(),
            project_id: String::new(),
            impersonate_service_account: String::new(),
            impersonate_from_annotation: false,
            upstream_compat_exit0: false,
            verbosity: 0,
            skip_headers: false,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `get-credentials`.
    GetCredentials(Options),
    /// `--help`, `help`, or no command (cobra prints the usage and exits 0).
    Help,
}

/// A command line cobra would refuse (exit code 1).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CliError {
    /// An unknown `--name`.
    #[error("unknown flag: --{0}")]
    UnknownFlag(String),
    /// An unknown `-x`.
    #[error("unknown shorthand flag: '{short}' in -{arg}")]
    UnknownShorthand {
        /// The letter.
        short: char,
        /// The argument it appeared in (without the dash).
        arg: String,
    },
    /// A value flag at the end of the line.
    #[error("flag needs an argument: {0}")]
    MissingValue(String),
    /// A value the flag's type rejects.
    #[error("invalid argument {} for {} flag: {reason}", strconv_quote(.value), strconv_quote(.flag))]
    InvalidValue {
        /// `-v, --v` style name.
        flag: String,
        /// The value.
        value: String,
        /// Go's parse error.
        reason: String,
    },
    /// A first positional argument other than `get-credentials`.
    #[error("unknown command {} for \"auth-provider-gcp\"", strconv_quote(.0))]
    UnknownCommand(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Value,
}

struct Spec {
    name: &'static str,
    short: Option<char>,
    kind: Kind,
    klog: bool,
}

const fn own(name: &'static str, short: Option<char>, kind: Kind) -> Spec {
    Spec {
        name,
        short,
        kind,
        klog: false,
    }
}

const fn klog(name: &'static str, short: Option<char>, kind: Kind) -> Spec {
    Spec {
        name,
        short,
        kind,
        klog: true,
    }
}

const SPECS: [Spec; 21] = [
    own("authFlow", Some('a'), Kind::Value),
    own("identity-provider", None, Kind::Value),
    own("project-id", None, Kind::Value),
    own("impersonate-service-account", None, Kind::Value),
    own("impersonate-from-annotation", None, Kind::Bool),
    own("upstream-compat-exit0", None, Kind::Bool),
    own("help", Some('h'), Kind::Bool),
    klog("v", Some('v'), Kind::Value),
    klog("vmodule", None, Kind::Value),
    klog("log_dir", None, Kind::Value),
    klog("log_file", None, Kind::Value),
    klog("log_file_max_size", None, Kind::Value),
    klog("logtostderr", None, Kind::Bool),
    klog("alsologtostderr", None, Kind::Bool),
    klog("stderrthreshold", None, Kind::Value),
    klog("add_dir_header", None, Kind::Bool),
    klog("skip_headers", None, Kind::Bool),
    klog("skip_log_headers", None, Kind::Bool),
    klog("one_output", None, Kind::Bool),
    klog("log_backtrace_at", None, Kind::Value),
    klog("legacy_stderr_threshold_behavior", None, Kind::Bool),
];

fn lookup_long(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name).or_else(|| {
        let normalized = name.replace('-', "_");
        SPECS.iter().find(|s| s.klog && s.name == normalized)
    })
}

fn lookup_short(c: char) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.short == Some(c))
}

fn display_name(spec: &Spec) -> String {
    match spec.short {
        Some(c) => format!("-{c}, --{}", spec.name),
        None => format!("--{}", spec.name),
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(spec: &Spec, value: &str) -> Result<bool, CliError> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(CliError::InvalidValue {
            flag: display_name(spec),
            value: value.to_owned(),
            reason: format!(
                "strconv.ParseBool: parsing {}: invalid syntax",
                strconv_quote(value)
            ),
        }),
    }
}

fn apply(opts: &mut Options, spec: &Spec, value: &str) -> Result<(), CliError> {
    let flag_bool = |v: &str| parse_bool(spec, v);
    match spec.name {
        "authFlow" => opts.auth_flow = value.to_owned(),
        "identity-provider" => opts.identity_provider = value.to_owned(),
        "project-id" => opts.project_id = value.to_owned(),
        "impersonate-service-account" => opts.impersonate_service_account = value.to_owned(),
        "impersonate-from-annotation" => opts.impersonate_from_annotation = flag_bool(value)?,
        "upstream-compat-exit0" => opts.upstream_compat_exit0 = flag_bool(value)?,
        "skip_headers" => opts.skip_headers = flag_bool(value)?,
        "v" => {
            let level: i32 = value.parse().map_err(|_| CliError::InvalidValue {
                flag: display_name(spec),
                value: value.to_owned(),
                reason: format!(
                    "strconv.ParseInt: parsing {}: invalid syntax",
                    strconv_quote(value)
                ),
            })?;
            opts.verbosity = u32::try_from(level).unwrap_or(0);
        }
        _ => {
            // Other klog flags are accepted for compatibility; booleans are still checked.
            if spec.kind == Kind::Bool {
                flag_bool(value)?;
            }
        }
    }
    Ok(())
}

/// Parses the arguments after the program name.
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Command, CliError> {
    let mut opts = Options::default();
    let mut help = false;
    let mut positional: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_ref();
        i += 1;
        if arg == "--" {
            positional.extend(args[i..].iter().map(AsRef::as_ref));
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let spec = lookup_long(name).ok_or_else(|| CliError::UnknownFlag(name.to_owned()))?;
            let value = match (spec.kind, inline) {
                (_, Some(v)) => v.to_owned(),
                (Kind::Bool, None) => "true".to_owned(),
                (Kind::Value, None) => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| CliError::MissingValue(format!("--{name}")))?;
                    i += 1;
                    v.as_ref().to_owned()
                }
            };
            if spec.name == "help" {
                help = parse_bool(spec, &value)?;
            } else {
                apply(&mut opts, spec, &value)?;
            }
            continue;
        }
        if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut rest = shorts;
            while let Some(c) = rest.chars().next() {
                rest = &rest[c.len_utf8()..];
                let spec = lookup_short(c).ok_or_else(|| CliError::UnknownShorthand {
                    short: c,
                    arg: shorts.to_owned(),
                })?;
                let inline = rest.strip_prefix('=');
                let value = match spec.kind {
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
                                CliError::MissingValue(format!("'{c}' in -{shorts}"))
                            })?;
                            i += 1;
                            v.as_ref().to_owned()
                        };
                        rest = "";
                        v
                    }
                };
                if spec.name == "help" {
                    help = parse_bool(spec, &value)?;
                } else {
                    apply(&mut opts, spec, &value)?;
                }
            }
            continue;
        }
        positional.push(arg);
    }
    match positional.first() {
        None => Ok(Command::Help),
        Some(&"help") => Ok(Command::Help),
        Some(&"get-credentials") if help => Ok(Command::Help),
        Some(&"get-credentials") => Ok(Command::GetCredentials(opts)),
        Some(other) => Err(CliError::UnknownCommand((*other).to_owned())),
    }
}

/// The usage text (`--help`).
pub const USAGE: &str = "\
auth-provider-gcp: kubelet image credential provider for Google Container Registry and
Artifact Registry (kcred's drop-in for kubernetes/cloud-provider-gcp's plugin).

Usage:
  auth-provider-gcp get-credentials [flags] < CredentialProviderRequest

Flags:
  -a, --authFlow string                  gcr | dockercfg | dockercfg-url (default \"gcr\")
      --identity-provider string         GKE Workload Identity: identity provider of the cluster
      --project-id string                GKE Workload Identity: project of the identity namespace
      --impersonate-service-account string
                                         Workload Identity: impersonate this Google service account
      --impersonate-from-annotation      Workload Identity: impersonate the account named by the
                                         service account annotation iam.gke.io/gcp-service-account
      --upstream-compat-exit0            on failure answer with no credentials and exit 0 (upstream)
      --v int                            log verbosity (klog flags are accepted)
  -h, --help                             this help

Environment:
  KUBE_SIDECAR_CACHE_DURATION   fixed cacheDuration (Go duration); default: token lifetime - 60s
  KUBE_SIDECAR_CACHE_TYPE       image | registry | global (default image)
  KCRED_GCP_METADATA_URL        metadata server base URL (tests, air-gapped setups)
  KCRED_GCP_STS_URL             STS token endpoint
  KCRED_GCP_IAM_CREDENTIALS_URL IAM Credentials API base URL
  SSL_CERT_FILE, SSL_CERT_DIR   TLS trust roots (default: the system bundle)
";

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str]) -> Options {
        match parse(args).unwrap() {
            Command::GetCredentials(o) => o,
            Command::Help => panic!("help for {args:?}"),
        }
    }

    #[test]
    fn gke_args() {
        let o = opts(&["get-credentials", "--v=3"]);
        assert_eq!(o.verbosity, 3);
        assert_eq!(o.auth_flow, "gcr");
    }

    #[test]
    fn flag_forms() {
        assert_eq!(
            opts(&["get-credentials", "-a", "dockercfg"]).auth_flow,
            "dockercfg"
        );
        assert_eq!(
            opts(&["get-credentials", "-adockercfg"]).auth_flow,
            "dockercfg"
        );
        assert_eq!(
            opts(&["get-credentials", "-a=dockercfg"]).auth_flow,
            "dockercfg"
        );
        assert_eq!(opts(&["--authFlow", "x", "get-credentials"]).auth_flow, "x");
        assert_eq!(opts(&["get-credentials", "--authFlow="]).auth_flow, "");
        assert_eq!(opts(&["get-credentials", "-v", "4"]).verbosity, 4);
        assert_eq!(opts(&["get-credentials", "-v5"]).verbosity, 5);
        let o = opts(&[
            "get-credentials",
            "--logtostderr",
            "--alsologtostderr=false",
            "--stderrthreshold=INFO",
            "--log-dir",
            "/tmp",
            "--skip_headers",
            "--upstream-compat-exit0",
        ]);
        assert!(o.skip_headers && o.upstream_compat_exit0);
        let o = opts(&["get-credentials", "--", "--not-a-flag"]);
        assert_eq!(o, Options::default());
    }

    #[test]
    fn errors_and_help() {
        assert_eq!(
            parse(&["get-credentials", "--nope"])
                .unwrap_err()
                .to_string(),
            "unknown flag: --nope"
        );
        assert_eq!(
            parse(&["get-credentials", "-x"]).unwrap_err().to_string(),
            "unknown shorthand flag: 'x' in -x"
        );
        assert_eq!(
            parse(&["get-credentials", "--authFlow"])
                .unwrap_err()
                .to_string(),
            "flag needs an argument: --authFlow"
        );
        assert_eq!(
            parse(&["get-credentials", "--v=x"]).unwrap_err().to_string(),
            "invalid argument \"x\" for \"-v, --v\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            parse(&["get-credentials", "--logtostderr=maybe"]).unwrap_err().to_string(),
            "invalid argument \"maybe\" for \"--logtostderr\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
        assert_eq!(
            parse(&["get-creds"]).unwrap_err().to_string(),
            "unknown command \"get-creds\" for \"auth-provider-gcp\""
        );
        assert_eq!(parse::<&str>(&[]).unwrap(), Command::Help);
        assert_eq!(parse(&["get-credentials", "-h"]).unwrap(), Command::Help);
    }
}
