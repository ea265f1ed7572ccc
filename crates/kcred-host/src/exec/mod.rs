//! `execPlugin`: run one credential provider plugin for one image.
//!
//! [`PluginRunner::exec`] encodes the request (`k8s.io/kubelet/pkg/apis/credentialprovider/v1`), runs
//! `bin_dir/name` with the configured args and env, and checks the response, as the kubelet's
//! `execPlugin` and `decodeResponse` do (kubernetes/kubernetes `pkg/credentialprovider/plugin/plugin.go`;
//! docs/host.md). Failures carry the kubelet's texts:
//! `error execing credential provider plugin <name> for image <image>: <err>: <stderr>`.

pub mod env;
pub mod gotext;
pub mod process;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kcred_api::config::ExecEnvVar;
use kcred_api::request::CredentialProviderRequest;
use kcred_api::response::CredentialProviderResponse;
use kcred_api::{ApiVersion, Secret};

use crate::metrics::HostMetrics;
use crate::scrub::KnownSecrets;
use process::{ProcessFailure, ProcessSpec};

pub use env::merge_env;

/// The kubelet's fixed per-exec timeout.
pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(60);
/// Default bound on the bytes kept from stdout and from stderr (each).
pub const DEFAULT_OUTPUT_LIMIT: usize = 1024 * 1024;

/// Limits applied to every exec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecLimits {
    /// Deadline of one exec (the kubelet's is fixed at 1 minute); on expiry the plugin is
    /// SIGKILLed and the error is `context deadline exceeded`.
    pub timeout: Duration,
    /// Bytes allowed on stdout and on stderr, each; more is an exec error and kills the plugin.
    pub output_limit: usize,
}

impl Default for ExecLimits {
    fn default() -> Self {
        ExecLimits {
            timeout: DEFAULT_EXEC_TIMEOUT,
            output_limit: DEFAULT_OUTPUT_LIMIT,
        }
    }
}

/// Why the process part of an exec failed (`<err>` in the kubelet's message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunFailure {
    /// The deadline passed and the plugin was killed.
    #[error("context deadline exceeded")]
    DeadlineExceeded,
    /// The plugin exited non-zero or died of a signal; Go's text (`exit status 1`, `signal: killed`).
    #[error("{0}")]
    Exited(String),
    /// The plugin could not be started; Go's text (`fork/exec <path>: <errno>`).
    #[error("{0}")]
    Spawn(String),
    /// A stream went over [`ExecLimits::output_limit`] (kcred only; the kubelet has no bound).
    #[error("{stream} exceeded the limit of {limit} bytes")]
    OutputTooLarge {
        /// `stdout` or `stderr`.
        stream: &'static str,
        /// The bound in bytes.
        limit: usize,
    },
    /// Reading a pipe or waiting for the process failed.
    #[error("{0}")]
    Io(String),
}

/// A failed exec. `Run` errors increment the errors metric; `Response` errors do not (kubelet `execPlugin`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The process failed (`execPlugin`'s exec error).
    #[error(
        "error execing credential provider plugin {plugin} for image {image}: {cause}: {stderr}"
    )]
    Run {
        /// Provider name.
        plugin: String,
        /// The image of the request.
        image: String,
        /// What went wrong.
        cause: RunFailure,
        /// The plugin's stderr (bounded), scrubbed of the secrets kcred knows and with its
        /// control characters escaped ([`crate::scrub::plugin_text`]).
        stderr: String,
    },
    /// The process succeeded but its stdout is not a usable response (`execPlugin`'s response checks).
    #[error("{message}")]
    Response {
        /// The kubelet's message (never contains the response's content).
        message: String,
        /// The decoder's cause when the strict decode failed (the third response check), which the
        /// kubelet's message leaves out: [`ResponseDecodeError::detail`], whose documents
        /// are redacted; it names fields, keys and types and may quote `kind`, `apiVersion`
        /// or `cacheDuration`, never a username, password or token.
        ///
        /// [`ResponseDecodeError::detail`]: kcred_api::response::ResponseDecodeError::detail
        detail: Option<String>,
    },
}

impl ExecError {
    /// True when the process part failed (counted by the errors metric).
    pub fn is_run_failure(&self) -> bool {
        matches!(self, ExecError::Run { .. })
    }

    /// The decoder's cause of a response that failed the strict decode (see
    /// [`ExecError::Response`]); `None` for every other failure, whose message is complete.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ExecError::Response { detail, .. } => detail.as_deref(),
            ExecError::Run { .. } => None,
        }
    }
}

/// The result of one exec and how long the process ran.
#[derive(Debug, Clone)]
pub struct ExecOutcome {
    /// The decoded response or the error.
    pub result: Result<Arc<CredentialProviderResponse>, ExecError>,
    /// Wall time of the process run (what the duration metric observes).
    pub duration: Duration,
}

/// Runs one configured plugin (`execPlugin`).
#[derive(Debug, Clone)]
pub struct PluginRunner {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<ExecEnvVar>,
    api_version: ApiVersion,
    limits: ExecLimits,
    metrics: Option<Arc<HostMetrics>>,
    secrets: Option<KnownSecrets>,
}

impl PluginRunner {
    /// A runner for provider `name` whose executable is `program` (normally `bin_dir/name`).
    pub fn new(
        name: impl Into<String>,
        program: impl Into<PathBuf>,
        args: Vec<String>,
        env: Vec<ExecEnvVar>,
        api_version: ApiVersion,
        limits: ExecLimits,
    ) -> Self {
        PluginRunner {
            name: name.into(),
            program: program.into(),
            args,
            env,
            api_version,
            limits,
            metrics: None,
            secrets: None,
        }
    }

    /// Scrubs the secrets in `secrets` from the plugin stderr its errors quote (the request's
    /// token is always scrubbed).
    pub fn with_secrets(mut self, secrets: KnownSecrets) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// Records the duration and errors metrics of every exec in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<HostMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The provider name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The executable's path.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The apiVersion requests are encoded in and responses must carry.
    pub fn api_version(&self) -> ApiVersion {
        self.api_version
    }

    /// The limits in force.
    pub fn limits(&self) -> ExecLimits {
        self.limits
    }

    /// The request the plugin gets for `image` (token and annotations only in SA mode).
    pub fn request(
        &self,
        image: &str,
        token: Option<&Secret>,
        annotations: &BTreeMap<String, String>,
    ) -> CredentialProviderRequest {
        CredentialProviderRequest {
            api_version: self.api_version,
            image: image.to_owned(),
            service_account_token: token.filter(|t| !t.is_empty()).cloned(),
            service_account_annotations: annotations.clone(),
        }
    }

    /// `ExecPlugin`: encode, run, check and decode.
    pub async fn exec(
        &self,
        image: &str,
        token: Option<&Secret>,
        annotations: &BTreeMap<String, String>,
    ) -> ExecOutcome {
        let stdin = self.request(image, token, annotations).encode();
        let token = token.map(|t| t.expose()).unwrap_or_default();
        let (run, duration) = self.run_scrubbing(image, &stdin, &[token]).await;
        let result = run.and_then(|stdout| {
            CredentialProviderResponse::decode(&stdout, self.api_version)
                .map(Arc::new)
                .map_err(|e| ExecError::Response {
                    message: e.to_string(),
                    detail: e.detail(),
                })
        });
        ExecOutcome { result, duration }
    }

    /// Runs the process with `stdin` and returns its stdout, recording the metrics
    /// (duration always; errors on failure).
    pub async fn run(&self, image: &str, stdin: &[u8]) -> (Result<Vec<u8>, ExecError>, Duration) {
        self.run_scrubbing(image, stdin, &[]).await
    }

    /// [`PluginRunner::run`], also scrubbing `extra` secrets from the stderr in the error.
    async fn run_scrubbing(
        &self,
        image: &str,
        stdin: &[u8],
        extra: &[&str],
    ) -> (Result<Vec<u8>, ExecError>, Duration) {
        let env = env::effective_env(&merge_env(env::host_env(), &self.env));
        let started = Instant::now();
        let run = process::run_process(ProcessSpec {
            program: &self.program,
            args: &self.args,
            env,
            stdin,
            timeout: self.limits.timeout,
            output_limit: self.limits.output_limit,
        })
        .await;
        let duration = started.elapsed();
        if let Some(m) = &self.metrics {
            m.observe_plugin_duration(&self.name, duration);
        }
        let cause = match run.result {
            Ok(status) if status.success() => return (Ok(run.stdout), duration),
            Ok(status) => RunFailure::Exited(gotext::exit_status_text(&status)),
            Err(ProcessFailure::TimedOut) => RunFailure::DeadlineExceeded,
            Err(ProcessFailure::Spawn(e)) => {
                RunFailure::Spawn(gotext::spawn_error_text(&self.program, &e))
            }
            Err(ProcessFailure::OutputTooLarge(stream)) => RunFailure::OutputTooLarge {
                stream: stream.as_str(),
                limit: self.limits.output_limit,
            },
            Err(ProcessFailure::Io(e)) => RunFailure::Io(gotext::os_error_text(&e)),
        };
        if let Some(m) = &self.metrics {
            m.inc_plugin_errors(&self.name);
        }
        let err = ExecError::Run {
            plugin: self.name.clone(),
            image: image.to_owned(),
            cause,
            stderr: crate::scrub::plugin_text(&run.stderr, self.secrets.as_ref(), extra),
        };
        (Err(err), duration)
    }
}
