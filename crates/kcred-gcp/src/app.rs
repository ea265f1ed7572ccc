//! One invocation of `auth-provider-gcp`: command line, environment and stdin in; stdout
//! bytes and an exit code out (logs go to stderr). `main` only wires the process to this.
//!
//! Exit codes: 0 with a response on stdout; 1 for bad flags, bad cache variables, an
//! undecodable request, and, unlike upstream, when no credentials could be obtained
//! (unless `--upstream-compat-exit0`).

use std::io::Read;

use kcred_plugin::{run_dialect, Dialect, Failure, RunError, Start};

use crate::cli::{self, Command, Options};
use crate::flow::{validate_flags, AuthFlow, FlowFlags};
use crate::http::TrustRoots;
use crate::provider::{Clients, Endpoints, Provider, WorkloadIdentityConfig};
use crate::request::{decode_request, PluginRequest};
use crate::response::{
    empty_response, success_response, CachePolicy, CACHE_DURATION_ENV, CACHE_TYPE_ENV,
};

/// Environment variable overriding the metadata server base URL.
pub(crate) const METADATA_URL_ENV: &str = "KCRED_GCP_METADATA_URL";
/// Environment variable overriding the STS token endpoint.
pub(crate) const STS_URL_ENV: &str = "KCRED_GCP_STS_URL";
/// Environment variable overriding the IAM Credentials API base URL.
pub(crate) const IAM_CREDENTIALS_URL_ENV: &str = "KCRED_GCP_IAM_CREDENTIALS_URL";

/// The largest request read from stdin (1 MiB, the SDK's default). A kubelet request is an
/// image name, at most a service-account token and a few annotations: a few KiB.
pub(crate) const MAX_REQUEST_BYTES: usize = kcred_plugin::DEFAULT_MAX_REQUEST_BYTES;

/// The result of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Process exit code.
    pub exit_code: i32,
    /// Bytes for stdout.
    pub stdout: Vec<u8>,
}

/// The HTTP clients an invocation uses, from the environment.
pub(crate) fn clients_from_env(env: &dyn Fn(&str) -> Option<String>) -> Clients {
    let endpoints = Endpoints::with_overrides(
        env(METADATA_URL_ENV).as_deref(),
        env(STS_URL_ENV).as_deref(),
        env(IAM_CREDENTIALS_URL_ENV).as_deref(),
    );
    let roots = TrustRoots::from_env_values(
        env("SSL_CERT_FILE").as_deref(),
        env("SSL_CERT_DIR").as_deref(),
    );
    Clients::new(endpoints, roots)
}

/// Runs `auth-provider-gcp` on the process's arguments, environment, stdin, stdout and
/// stderr: what `main` does.
pub fn run_process() -> std::process::ExitCode {
    let env = |name: &str| std::env::var(name).ok();
    kcred_plugin::run_process(&GcpDialect { env: &env })
}

/// Runs `auth-provider-gcp` with `args` (without the program name), environment `env`
/// and standard input `stdin`: the SDK's run loop ([`kcred_plugin::run_dialect`]) in
/// upstream's dialect (`GcpDialect`).
pub fn run<S: AsRef<str>>(
    args: &[S],
    env: &dyn Fn(&str) -> Option<String>,
    stdin: &mut dyn Read,
) -> Outcome {
    let args: Vec<String> = args.iter().map(|a| a.as_ref().to_owned()).collect();
    let mut stdout = Vec::new();
    let code = run_dialect(&GcpDialect { env }, &args, stdin, &mut stdout);
    Outcome {
        exit_code: i32::from(code),
        stdout,
    }
}

/// Upstream's dialect of the plugin protocol: cobra/pflag arguments ([`crate::cli`]), the
/// flag rules and cache variables checked before stdin is read, the request decoded
/// leniently ([`crate::request`]), klog `E` lines, exit 1 (or an empty answer and exit 0
/// under `--upstream-compat-exit0`). `env` is the process environment (a map in tests).
pub(crate) struct GcpDialect<'e> {
    /// Looks up an environment variable.
    pub(crate) env: &'e dyn Fn(&str) -> Option<String>,
}

/// What a run knows once the command line and environment are accepted.
#[derive(Debug)]
pub(crate) struct Session {
    opts: Options,
    flow: AuthFlow,
    policy: CachePolicy,
}

/// A failed step: the message (klog `E` line), what cobra prints for it, and whether a
/// provider failed (the only failure `--upstream-compat-exit0` turns into an empty answer).
#[derive(Debug)]
pub(crate) struct Failed {
    message: String,
    provider_failed: bool,
    cobra: CobraReport,
}

/// What upstream's cobra command prints before `main`'s `klog.Errorf(err.Error())`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CobraReport {
    /// A flag or `RunE` error: `Error: <message>` and the command's usage.
    ErrorAndUsage,
    /// An unknown command (`Command.Find` failed): `Error: <message>` and
    /// `Run 'auth-provider-gcp --help' for usage.`
    ErrorAndHelpHint,
    /// A failure upstream never reports (kcred exits 1 where upstream answers with no
    /// credentials): the klog line only.
    None,
}

impl Failed {
    fn line(message: impl std::fmt::Display) -> Self {
        Failed {
            message: message.to_string(),
            provider_failed: false,
            cobra: CobraReport::ErrorAndUsage,
        }
    }
}

impl Dialect for GcpDialect<'_> {
    type Session = Session;
    type Request = PluginRequest;
    type Error = Failed;

    fn start(&self, args: &[String]) -> Result<Start<Session>, Failed> {
        let opts = match cli::parse(args) {
            Ok(Command::GetCredentials(opts)) => opts,
            Ok(Command::Help) => {
                return Ok(Start::Exit {
                    stdout: cli::USAGE.to_owned(),
                    status: 0,
                })
            }
            Err(e @ cli::CliError::UnknownCommand(_)) => {
                return Err(Failed {
                    cobra: CobraReport::ErrorAndHelpHint,
                    ..Failed::line(e)
                })
            }
            Err(e) => return Err(Failed::line(e)),
        };
        crate::log::LOG.configure(opts.verbosity, opts.skip_headers);
        let validated = validate_flags(&FlowFlags {
            auth_flow: opts.auth_flow.clone(),
            identity_provider: opts.identity_provider.clone(),
            project_id: opts.project_id.clone(),
        })
        .map_err(Failed::line)?;
        if let Some(w) = &validated.warning {
            crate::log::warning!("{w}");
        }
        crate::log::info!(2, "get-credentials (authFlow {})", validated.flow.as_str());
        let env = self.env;
        let policy = CachePolicy::from_env_values(
            env(CACHE_DURATION_ENV).as_deref(),
            env(CACHE_TYPE_ENV).as_deref(),
        )
        .map_err(|e| {
            Failed::line(format_args!(
                "error getting authentication response from provider: {e}"
            ))
        })?;
        Ok(Start::Serve(Session {
            opts,
            flow: validated.flow,
            policy,
        }))
    }

    fn max_request_bytes(&self, _: &Session) -> usize {
        MAX_REQUEST_BYTES
    }

    fn stdin_error(&self, _: &Session, error: RunError) -> Failed {
        match error {
            RunError::RequestTooLarge { .. } => Failed::line(format_args!(
                "error unmarshaling auth credential request: larger than {MAX_REQUEST_BYTES} bytes"
            )),
            // `reading the request from stdin: <io error>`
            other => Failed::line(other),
        }
    }

    fn decode(&self, _: &Session, input: &[u8]) -> Result<PluginRequest, Failed> {
        let request = decode_request(input).map_err(Failed::line)?;
        kcred_plugin::secrets::register(request.service_account_token.expose());
        Ok(request)
    }

    fn answer(&self, session: &Session, request: &PluginRequest) -> Result<Vec<u8>, Failed> {
        let opts = &session.opts;
        let wi = WorkloadIdentityConfig {
            identity_provider: opts.identity_provider.clone(),
            project_id: opts.project_id.clone(),
            impersonate_service_account: Some(opts.impersonate_service_account.clone())
                .filter(|s| !s.is_empty()),
            impersonate_from_annotation: opts.impersonate_from_annotation,
        };
        let provider = Provider::for_flow(session.flow, request, wi);
        let clients = clients_from_env(self.env);
        match provider.provide(&request.image, &clients) {
            Ok(credentials) => {
                let response =
                    success_response(request.response_version(), &session.policy, credentials);
                for auth in response.auth.values() {
                    kcred_plugin::secrets::register(auth.password.expose());
                }
                crate::log::info!(
                    2,
                    "credentials for {} registr{} of image {:?}, cacheDuration {}",
                    response.auth.len(),
                    if response.auth.len() == 1 { "y" } else { "ies" },
                    request.image,
                    response
                        .cache_duration
                        .map_or_else(|| "unset".to_owned(), |d| d.to_string())
                );
                Ok(response.encode())
            }
            Err(e) => Err(Failed {
                message: format!(
                    "auth-provider-gcp: no credentials for image {:?}: {e}",
                    request.image
                ),
                provider_failed: true,
                cobra: CobraReport::None,
            }),
        }
    }

    fn report(
        &self,
        session: Option<&Session>,
        request: Option<&PluginRequest>,
        error: Failed,
    ) -> Failure {
        if let (Some(s), Some(r)) = (session, request) {
            if error.provider_failed && s.opts.upstream_compat_exit0 {
                crate::log::error!("{}", error.message);
                return Failure {
                    stdout: empty_response(r.response_version(), &s.policy).encode(),
                    status: 0,
                };
            }
        }
        // Upstream: cobra prints `Error: …` and the usage (or the help hint), then `main`
        // logs the error with klog (cloud-provider-gcp 4e24531 cmd/auth-provider-gcp/main.go).
        let scrubbed = kcred_plugin::secrets::scrub(&error.message);
        match error.cobra {
            CobraReport::ErrorAndUsage => {
                eprint!("Error: {scrubbed}\n{}\n", cli::ERROR_USAGE);
            }
            CobraReport::ErrorAndHelpHint => {
                eprint!("Error: {scrubbed}\nRun 'auth-provider-gcp --help' for usage.\n");
            }
            CobraReport::None => {}
        }
        crate::log::error!("{}", error.message);
        Failure::exit1()
    }
}
