//! `kcred get IMAGE --config PATH --bin-dir DIR`: run the credential provider host as the
//! kubelet would for one pull and show what every provider did and which credentials the
//! kubelet would try, in order.
//!
//! Exit 0 = at least one credential and no provider failed; 1 = a matching provider failed
//! (its error, with the plugin's stderr, goes to stderr) or no credential was found (the
//! kubelet would pull anonymously); 2 = bad flags, image, config, bin dir or token file;
//! 4 = stdout failed; 128 + N = stopped by signal N (SIGINT, SIGTERM, SIGHUP) after the
//! running plugins were killed and reaped.
//!
//! Secrets (passwords, the service-account token) are printed only by the
//! `dockerconfigjson` and `auth-json` outputs, or with `--show-secrets`.

mod authfile;
mod metrics;
mod pod;
mod render;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use kcred_api::gostr::strconv_quote;
use kcred_api::GoDuration;
use kcred_host::{CredentialsReport, Host, HostOptions, PodContext};
use kcred_match::image::ImageRef;

use crate::matching::parse_image;
use crate::output::{self, Exit};

/// How `kcred get` prints its answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum GetFormat {
    /// Human-readable report; passwords redacted unless --show-secrets.
    #[default]
    Table,
    /// The same report as one JSON document; passwords redacted unless --show-secrets.
    Json,
    /// The data of a `kubernetes.io/dockerconfigjson` secret (docker `config.json`), holding
    /// the first credential the kubelet would try, keyed by the image's registry.
    Dockerconfigjson,
    /// A containers-auth.json file (`skopeo`/`podman --authfile`, also read by docker),
    /// holding the first credential the kubelet would try, keyed by the image's registry.
    AuthJson,
}

impl GetFormat {
    /// True for the formats whose whole point is to carry the secret.
    fn is_auth_file(self) -> bool {
        matches!(self, GetFormat::Dockerconfigjson | GetFormat::AuthJson)
    }
}

/// Arguments of `kcred get`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// An image as written in a pod spec, e.g. 'registry.example.com/team/app:v1'.
    pub image: String,
    /// Config file or directory, as given to the kubelet's --image-credential-provider-config.
    #[arg(long, value_name = "PATH")]
    pub config: PathBuf,
    /// Plugin directory, as given to the kubelet's --image-credential-provider-bin-dir.
    #[arg(long, value_name = "DIR")]
    pub bin_dir: PathBuf,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: GetFormat,
    /// Print passwords in the table and json outputs too.
    #[arg(long)]
    pub show_secrets: bool,
    /// Kubelet feature gates, e.g. KubeletServiceAccountTokenForCredentialProviders=false.
    #[arg(long, value_name = "GATES")]
    pub feature_gates: Option<String>,
    /// Deadline of one plugin run, a Go duration (the kubelet's is fixed at 1m).
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub timeout: String,
    /// Show details the kubelet hides, such as why a plugin's response did not decode.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// After the run, print the host's metrics (Prometheus text format) to stderr, or write
    /// them to FILE ('-' = stderr). Put it after the image when giving no FILE.
    #[arg(
        long,
        value_name = "FILE",
        num_args = 0..=1,
        default_missing_value = "-"
    )]
    pub metrics: Option<PathBuf>,
    #[command(flatten)]
    pub pod: pod::PodArgs,
    #[command(flatten)]
    pub(crate) kubelet: crate::kubelet_version::KubeletVersionArg,
}

/// Runs `kcred get`.
pub(crate) fn run(args: &Args) -> anyhow::Result<Exit> {
    let kubelet = args.kubelet.kubelet_version;
    let gates = output::feature_gates_for(args.feature_gates.as_deref(), kubelet)?;
    let exec_timeout = exec_timeout(&args.timeout)?;
    let Some(image) = parse_image(&args.image, kubelet) else {
        return Ok(Exit::Usage);
    };
    let registry = match ImageRef::parse(&args.image) {
        Ok(r) => r.registry().to_owned(),
        // parse_image succeeded, so this does not happen; treat it as the same usage error.
        Err(e) => anyhow::bail!("invalid image {}: {e}", strconv_quote(&args.image)),
    };
    let pod_context = pod::pod_context(&args.pod)?;
    let token_source = pod::token_source(&args.pod)?;
    // Opened before any plugin runs, so an unusable path stops the run with nothing done.
    let metrics_sink = args
        .metrics
        .as_deref()
        .map(metrics::MetricsSink::open)
        .transpose()?;
    if !gates.service_account_token_for_credential_providers && args.pod.service_account.is_some() {
        errln!(
            "note: KubeletServiceAccountTokenForCredentialProviders is off: the kubelet passes no pod or service account to providers, so those flags are ignored"
        );
    }
    let options = HostOptions {
        exec_timeout,
        feature_gates: gates,
        token_source,
        // One pull: coalescing cannot change anything, keep the kubelet's behaviour.
        coalesce_registries: false,
        kubelet_version: kubelet,
        ..HostOptions::default()
    };
    let host = match Host::load(&args.config, &args.bin_dir, options) {
        Ok(h) => h,
        Err(e) => {
            errln!("error: {e}");
            return Ok(Exit::Usage);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // SIGINT/SIGTERM/SIGHUP: the plugins are killed and reaped, nothing is printed on
    // stdout, and the exit status is 128 + the signal's number.
    let report = runtime.block_on(kcred_host::signals::until_signal(
        host.credentials(&args.image, &pod_context),
    ));
    let report = match report {
        Err(interrupted) => {
            errln!("error: {interrupted}");
            return Ok(Exit::Signal(interrupted.exit_code()));
        }
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            errln!("error: {e}");
            if let Some(sink) = metrics_sink {
                sink.write(&host.gather_metrics())?;
            }
            return Ok(Exit::Usage);
        }
    };
    let view = GetView {
        args,
        normalised: image.target.raw(),
        registry: &registry,
        host: &host,
        pod: &pod_context,
        pod_passed: gates.service_account_token_for_credential_providers,
        report: &report,
    };
    let verdict = Verdict::of(&report);
    match args.output {
        GetFormat::Table => render::print_table(&view, verdict),
        GetFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&render::json(&view, verdict))?
        ),
        GetFormat::Dockerconfigjson | GetFormat::AuthJson => {
            let doc = authfile::document(args.output, &registry, report.credentials.first())?;
            outln!("{}", serde_json::to_string_pretty(&doc)?);
        }
    }
    report_on_stderr(&view, verdict);
    if let Some(sink) = metrics_sink {
        sink.write(&host.gather_metrics())?;
    }
    Ok(verdict.exit())
}

/// Parses `--timeout`: a positive Go duration.
fn exec_timeout(text: &str) -> anyhow::Result<Duration> {
    let d = GoDuration::parse(text).with_context(|| format!("invalid --timeout {text:?}"))?;
    match d.as_std() {
        Some(std) if !std.is_zero() => Ok(std),
        _ => anyhow::bail!("invalid --timeout {text:?}: must be greater than 0"),
    }
}

/// The overall answer, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Credentials found and every matching provider answered.
    Found,
    /// A matching provider failed (its credentials, if any, are missing from the result).
    ProviderFailed,
    /// Some provider matched and answered, but no credential applies to the image.
    NoCredentials,
    /// No provider matches the image: no plugin runs.
    NoProviderMatched,
}

impl Verdict {
    fn of(report: &CredentialsReport) -> Verdict {
        if report.outcomes.iter().any(|o| o.error().is_some()) {
            Verdict::ProviderFailed
        } else if report.found() {
            Verdict::Found
        } else if report.outcomes.iter().any(|o| {
            matches!(
                o.trace.matched,
                kcred_host::trace::MatchTrace::Matched { .. }
            )
        }) {
            Verdict::NoCredentials
        } else {
            Verdict::NoProviderMatched
        }
    }

    /// The stable identifier used in the JSON output.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Verdict::Found => "found",
            Verdict::ProviderFailed => "provider-failed",
            Verdict::NoCredentials => "no-credentials",
            Verdict::NoProviderMatched => "no-provider-matched",
        }
    }

    fn exit(self) -> Exit {
        match self {
            Verdict::Found => Exit::Yes,
            _ => Exit::No,
        }
    }
}

/// Everything the renderers need.
pub(crate) struct GetView<'a> {
    /// The command line.
    pub args: &'a Args,
    /// The normalised image (what the providers were asked about).
    pub normalised: &'a str,
    /// The image's registry (`host[:port]`), the key of the auth files.
    pub registry: &'a str,
    /// The host (for provider definitions and the config).
    pub host: &'a Host,
    /// The pod the pull was for.
    pub pod: &'a PodContext,
    /// Whether the kubelet passes the pod to providers (the SA gate).
    pub pod_passed: bool,
    /// The host's answer: what each provider did, and the credentials in the order the
    /// kubelet tries them, each with the provider and `auth` key it came from.
    pub report: &'a CredentialsReport,
}

impl GetView<'_> {
    /// `-v`: what the kubelet's error for `outcome` leaves out (the decoder's cause of a
    /// response that failed the strict decode, redacted), if anything.
    pub(crate) fn detail<'o>(&self, outcome: &'o kcred_host::ProvideOutcome) -> Option<&'o str> {
        outcome.error_detail().filter(|_| self.args.verbose)
    }
}

/// Provider errors on stderr in every format; in the auth-file formats, whose stdout is the
/// file, also the notes the table and json outputs give in their result.
fn report_on_stderr(view: &GetView<'_>, verdict: Verdict) {
    for outcome in &view.report.outcomes {
        if let Some(e) = outcome.error() {
            errln!(
                "error: provider {} failed: {}",
                strconv_quote(&outcome.provider),
                e.to_string().trim_end()
            );
            if let Some(detail) = view.detail(outcome) {
                errln!("detail: {detail}");
            }
        }
    }
    if !view.args.output.is_auth_file() {
        return;
    }
    let found = view.report.credentials.len();
    match verdict {
        Verdict::Found if found > 1 => errln!(
            "note: the kubelet would try {found} credentials in order; the file holds the first (see --output table)"
        ),
        Verdict::Found => {}
        Verdict::ProviderFailed if found > 0 => errln!(
            "note: the kubelet would still try the {} found; the file holds the first",
            output::count(found, "credential")
        ),
        Verdict::ProviderFailed | Verdict::NoCredentials | Verdict::NoProviderMatched => {
            errln!("note: {}", render::anonymous_notice(view, verdict));
        }
    }
}
