//! Command line, parsed as upstream's cobra/pflag command does (the SDK's
//! [`kcred_plugin::pflag`], shared with ACR): `get-credentials` with
//! `--authFlow`/`-a`, `--identity-provider`, `--project-id`, every klog flag (GKE passes
//! `--v=3`; `_` and `-` are interchangeable in klog names), flags anywhere, `--` ending
//! them, `--flag=value`, `--flag value`, `-a value`, `-avalue`, `-a=value`.
//!
//! kcred additions: `--upstream-compat-exit0`, `--impersonate-service-account`,
//! `--impersonate-from-annotation`.

use kcred_api::gostr::strconv_quote;
use kcred_plugin::pflag::{self, parse_bool, parse_int, Flag, Kind, PflagError};
use thiserror::Error;

/// Options of `get-credentials`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
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
pub(crate) enum Command {
    /// `get-credentials`.
    GetCredentials(Options),
    /// `--help`, `help`, or no command (cobra prints the usage and exits 0).
    Help,
}

/// A command line cobra would refuse (exit code 1).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum CliError {
    /// A flag error, in pflag's words ([`kcred_plugin::pflag`]).
    #[error(transparent)]
    Flag(#[from] PflagError),
    /// A first positional argument other than `get-credentials`; cobra's message, with its
    /// `Did you mean this?` suggestions ([`suggestions_for`]).
    #[error("unknown command {} for \"auth-provider-gcp\"{}", strconv_quote(.0), suggestions_text(.0))]
    UnknownCommand(String),
}

/// The flags of `auth-provider-gcp get-credentials`: its own, then klog's (`klog.InitFlags`).
const FLAGS: [Flag; 21] = [
    Flag::value("authFlow", Some('a')),
    Flag::value("identity-provider", None),
    Flag::value("project-id", None),
    Flag::value("impersonate-service-account", None),
    Flag::bool("impersonate-from-annotation", None),
    Flag::bool("upstream-compat-exit0", None),
    Flag::bool("help", Some('h')),
    Flag::value("v", Some('v')).klog(),
    Flag::value("vmodule", None).klog(),
    Flag::value("log_dir", None).klog(),
    Flag::value("log_file", None).klog(),
    Flag::value("log_file_max_size", None).klog(),
    Flag::bool("logtostderr", None).klog(),
    Flag::bool("alsologtostderr", None).klog(),
    Flag::value("stderrthreshold", None).klog(),
    Flag::bool("add_dir_header", None).klog(),
    Flag::bool("skip_headers", None).klog(),
    Flag::bool("skip_log_headers", None).klog(),
    Flag::bool("one_output", None).klog(),
    Flag::value("log_backtrace_at", None).klog(),
    Flag::bool("legacy_stderr_threshold_behavior", None).klog(),
];

fn apply(opts: &mut Options, help: &mut bool, flag: &Flag, value: &str) -> Result<(), PflagError> {
    match flag.name {
        "authFlow" => opts.auth_flow = value.to_owned(),
        "identity-provider" => opts.identity_provider = value.to_owned(),
        "project-id" => opts.project_id = value.to_owned(),
        "impersonate-service-account" => opts.impersonate_service_account = value.to_owned(),
        "impersonate-from-annotation" => {
            opts.impersonate_from_annotation = parse_bool(flag, value)?
        }
        "upstream-compat-exit0" => opts.upstream_compat_exit0 = parse_bool(flag, value)?,
        "skip_headers" => opts.skip_headers = parse_bool(flag, value)?,
        "help" => *help = parse_bool(flag, value)?,
        "v" => opts.verbosity = u32::try_from(parse_int(flag, value)?).unwrap_or(0),
        _ => {
            // Other klog flags are accepted for compatibility; booleans are still checked.
            if flag.kind == Kind::Bool {
                parse_bool(flag, value)?;
            }
        }
    }
    Ok(())
}

/// The root command's available subcommands in cobra's sorted order (its `help` command is
/// never suggested; `completion` is cobra's default one).
const SUBCOMMANDS: [&str; 2] = ["completion", "get-credentials"];

/// cobra's `SuggestionsFor` (spf13/cobra command.go): the subcommands within Levenshtein
/// distance 2 of `typed` (case-insensitively) or starting with it.
pub(crate) fn suggestions_for(typed: &str) -> Vec<&'static str> {
    let typed_lower = typed.to_lowercase();
    SUBCOMMANDS
        .into_iter()
        .filter(|name| {
            levenshtein(&typed_lower, name) <= 2 || name.starts_with(typed_lower.as_str())
        })
        .collect()
}

/// cobra's `findSuggestions` text: empty, or `\n\nDid you mean this?\n\t<name>\n`….
fn suggestions_text(typed: &str) -> String {
    let found = suggestions_for(typed);
    if found.is_empty() {
        return String::new();
    }
    let mut text = "\n\nDid you mean this?\n".to_owned();
    for name in found {
        text.push('\t');
        text.push_str(name);
        text.push('\n');
    }
    text
}

/// cobra's `ld`: Levenshtein distance over bytes (both sides already lower-case).
fn levenshtein(s: &str, t: &str) -> usize {
    let (s, t) = (s.as_bytes(), t.as_bytes());
    let mut prev: Vec<usize> = (0..=t.len()).collect();
    for (i, &sc) in s.iter().enumerate() {
        let mut cur = vec![i + 1; t.len() + 1];
        for (j, &tc) in t.iter().enumerate() {
            let cost = usize::from(sc != tc);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[t.len()]
}

/// Parses the arguments after the program name.
pub(crate) fn parse<S: AsRef<str>>(args: &[S]) -> Result<Command, CliError> {
    let mut opts = Options::default();
    let mut help = false;
    let positional = pflag::parse_with(&FLAGS, args, |flag, value| {
        apply(&mut opts, &mut help, flag, value)
    })?;
    match positional.first().map(String::as_str) {
        None | Some("help") => Ok(Command::Help),
        Some("get-credentials") if help => Ok(Command::Help),
        Some("get-credentials") => Ok(Command::GetCredentials(opts)),
        Some(other) => Err(CliError::UnknownCommand(other.to_owned())),
    }
}

/// The usage text (`--help`).
pub(crate) const USAGE: &str = "\
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

/// What cobra prints after `Error: …` when `get-credentials` fails: the usage part of
/// `USAGE` (from `Usage:`), as cobra's `UsageString` leaves out the description.
pub const ERROR_USAGE: &str = {
    const MARK: &[u8] = b"Usage:";
    let bytes = USAGE.as_bytes();
    let mut i = 0;
    while i + MARK.len() <= bytes.len() {
        let mut j = 0;
        while j < MARK.len() && bytes[i + j] == MARK[j] {
            j += 1;
        }
        if j == MARK.len() {
            break;
        }
        i += 1;
    }
    let (_, tail) = bytes.split_at(i);
    match std::str::from_utf8(tail) {
        Ok(t) => t,
        Err(_) => panic!("USAGE is UTF-8"),
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_commands_get_cobras_suggestions() {
        assert_eq!(suggestions_for("get"), ["get-credentials"]);
        assert_eq!(suggestions_for("GET-CREDENTIAL"), ["get-credentials"]);
        assert_eq!(suggestions_for("get-credentails"), ["get-credentials"]);
        assert!(suggestions_for("foo").is_empty());
        assert_eq!(
            CliError::UnknownCommand("get".into()).to_string(),
            "unknown command \"get\" for \"auth-provider-gcp\"\n\nDid you mean this?\n\tget-credentials\n"
        );
    }

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
