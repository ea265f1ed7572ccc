//! One invocation of `auth-provider-gcp`: command line, environment and stdin in; stdout
//! bytes and an exit code out (logs go to stderr). `main` only wires the process to this.
//!
//! Exit codes: 0 with a response on stdout; 1 for bad flags, bad cache variables, an
//! undecodable request, and, unlike upstream, when no credentials could be obtained
//! (unless `--upstream-compat-exit0`).

use std::io::Read;

use kcred_plugin::{read_bounded, RunError};

use crate::cli::{self, Command, Options};
use crate::flow::{validate_flags, FlowFlags};
use crate::http::TrustRoots;
use crate::provider::{Clients, Endpoints, Provider, WorkloadIdentityConfig};
use crate::request::decode_request;
use crate::response::{
    empty_response, success_response, CachePolicy, CACHE_DURATION_ENV, CACHE_TYPE_ENV,
};

/// Environment variable overriding the metadata server base URL.
pub const METADATA_URL_ENV: &str = "KCRED_GCP_METADATA_URL";
/// Environment variable overriding the STS token endpoint.
pub const STS_URL_ENV: &str = "KCRED_GCP_STS_URL";
/// Environment variable overriding the IAM Credentials API base URL.
pub const IAM_CREDENTIALS_URL_ENV: &str = "KCRED_GCP_IAM_CREDENTIALS_URL";

/// The largest request read from stdin (1 MiB, the SDK's default). A kubelet request is an
/// image name, at most a service-account token and a few annotations: a few KiB.
pub const MAX_REQUEST_BYTES: usize = kcred_plugin::DEFAULT_MAX_REQUEST_BYTES;

/// The result of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Process exit code.
    pub exit_code: i32,
    /// Bytes for stdout.
    pub stdout: Vec<u8>,
}

impl Outcome {
    fn fail() -> Self {
        Outcome {
            exit_code: 1,
            stdout: Vec::new(),
        }
    }
}

/// The HTTP clients an invocation uses, from the environment.
pub fn clients_from_env(env: &dyn Fn(&str) -> Option<String>) -> Clients {
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

/// Runs `auth-provider-gcp` with `args` (without the program name), environment `env`
/// and standard input `stdin`.
pub fn run<S: AsRef<str>>(
    args: &[S],
    env: &dyn Fn(&str) -> Option<String>,
    stdin: &mut dyn Read,
) -> Outcome {
    let opts = match cli::parse(args) {
        Ok(Command::GetCredentials(opts)) => opts,
        Ok(Command::Help) => {
            return Outcome {
                exit_code: 0,
                stdout: cli::USAGE.as_bytes().to_vec(),
            }
        }
        Err(e) => {
            crate::error!("Error: {e}");
            return Outcome::fail();
        }
    };
    crate::log::LOG.configure(opts.verbosity, opts.skip_headers);
    get_credentials(&opts, env, stdin)
}

fn get_credentials(
    opts: &Options,
    env: &dyn Fn(&str) -> Option<String>,
    stdin: &mut dyn Read,
) -> Outcome {
    let validated = match validate_flags(&FlowFlags {
        auth_flow: opts.auth_flow.clone(),
        identity_provider: opts.identity_provider.clone(),
        project_id: opts.project_id.clone(),
    }) {
        Ok(v) => v,
        Err(e) => {
            crate::error!("{e}");
            return Outcome::fail();
        }
    };
    if let Some(w) = &validated.warning {
        crate::warning!("{w}");
    }
    crate::info!(2, "get-credentials (authFlow {})", validated.flow.as_str());

    let policy = match CachePolicy::from_env_values(
        env(CACHE_DURATION_ENV).as_deref(),
        env(CACHE_TYPE_ENV).as_deref(),
    ) {
        Ok(p) => p,
        Err(e) => {
            crate::error!("error getting authentication response from provider: {e}");
            return Outcome::fail();
        }
    };

    let input = match read_bounded(stdin, MAX_REQUEST_BYTES) {
        Ok(input) => input,
        Err(RunError::RequestTooLarge { .. }) => {
            crate::error!(
                "error unmarshaling auth credential request: larger than {MAX_REQUEST_BYTES} bytes"
            );
            return Outcome::fail();
        }
        // `reading the request from stdin: <io error>`
        Err(e) => {
            crate::error!("{e}");
            return Outcome::fail();
        }
    };
    let request = match decode_request(&input) {
        Ok(r) => r,
        Err(e) => {
            crate::error!("{e}");
            return Outcome::fail();
        }
    };
    let version = request.response_version();

    let wi = WorkloadIdentityConfig {
        identity_provider: opts.identity_provider.clone(),
        project_id: opts.project_id.clone(),
        impersonate_service_account: Some(opts.impersonate_service_account.clone())
            .filter(|s| !s.is_empty()),
        impersonate_from_annotation: opts.impersonate_from_annotation,
    };
    let provider = Provider::for_flow(validated.flow, &request, wi);
    let clients = clients_from_env(env);
    match provider.provide(&request.image, &clients) {
        Ok(credentials) => {
            let response = success_response(version, &policy, credentials);
            crate::info!(
                2,
                "credentials for {} registr{} of image {:?}, cacheDuration {}",
                response.auth.len(),
                if response.auth.len() == 1 { "y" } else { "ies" },
                request.image,
                response
                    .cache_duration
                    .map_or_else(|| "unset".to_owned(), |d| d.to_string())
            );
            Outcome {
                exit_code: 0,
                stdout: response.encode(),
            }
        }
        Err(e) => {
            crate::error!(
                "auth-provider-gcp: no credentials for image {:?}: {e}",
                request.image
            );
            if opts.upstream_compat_exit0 {
                Outcome {
                    exit_code: 0,
                    stdout: empty_response(version, &policy).encode(),
                }
            } else {
                Outcome::fail()
            }
        }
    }
}
