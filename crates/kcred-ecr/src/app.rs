//! One `ecr-credential-provider` process: reads a `CredentialProviderRequest` on stdin and
//! writes a `CredentialProviderResponse` on stdout (see `docs/ecr.md`). Positional arguments
//! (`get-credentials`) are accepted and ignored as upstream does; `--version` prints the
//! version; unknown flags fail. `main` only calls [`run_process`].
//!
//! It runs on the plugin SDK's run loop ([`kcred_plugin::run_dialect`]) in upstream's dialect
//! ([`EcrDialect`]): the request is decoded with upstream's lenient rules and messages
//! ([`crate::request`]); the SDK owns the klog flags, the bounded stdin read, logging with
//! secret scrubbing, and the response encoding.

use std::process::ExitCode;

use kcred_plugin::flags::parse_args;
use kcred_plugin::{
    answer_request, Dialect, Failure, Logger, Plugin, PluginError, PluginRequest, PluginResponse,
    RunError, Start, UnknownArgs,
};

use crate::aws::ClientSettings;
use crate::invocation::{self, Invocation, OVERALL_DEADLINE};
use crate::provider::ProgressLog;
use crate::request::decode_request;
use crate::role::ECR_ROLE_ARN_ENV;

const NAME: &str = "ecr-credential-provider";

const USAGE: &str = "\
Usage: ecr-credential-provider [get-credentials] [flags] < request.json

ECR credential provider for kubelet: reads a CredentialProviderRequest on stdin and writes
a CredentialProviderResponse with a token from ecr:GetAuthorizationToken (or
ecr-public:GetAuthorizationToken for public.ecr.aws and ecr-public.aws.com) on stdout.
Credentials come from the AWS SDK default chain, or from sts:AssumeRoleWithWebIdentity with
the pod's service account token (annotation eks.amazonaws.com/ecr-role-arn, then
eks.amazonaws.com/role-arn, then env AWS_ECR_ROLE_ARN).

Positional arguments are accepted and ignored.

Flags:
  --version                  print the version and exit
  -h, --help                 print this help and exit";

/// Upstream logs through klog; here the SDK's logger carries the same lines.
struct PluginLog<'a>(&'a Logger);

impl ProgressLog for PluginLog<'_> {
    fn info(&self, level: i32, message: &str) {
        self.0.info(level, format_args!("{message}"));
    }

    fn warn(&self, message: &str) {
        self.0.warn(format_args!("{message}"));
    }
}

fn handle(request: &PluginRequest) -> Result<PluginResponse, PluginError> {
    let env_role_arn = std::env::var(ECR_ROLE_ARN_ENV).ok();
    let invocation = Invocation {
        image: request.image(),
        service_account_token: request.service_account_token(),
        service_account_annotations: request.service_account_annotations(),
        env_role_arn: env_role_arn.as_deref(),
    };
    let log = PluginLog(request.log());
    let credentials = invocation::run(
        invocation,
        ClientSettings::default(),
        OVERALL_DEADLINE,
        &log,
    )?;
    Ok(PluginResponse::registry(
        credentials.auth_key,
        credentials.username,
        credentials.password,
    )
    .with_cache_duration(credentials.cache_duration))
}

/// Upstream's dialect: Go `flag` syntax (the SDK's klog flags; positional arguments such as
/// `get-credentials` ignored, `--version`, other flags refused), upstream's lenient request
/// decoding and messages ([`crate::request`]), the SDK's `name: message` lines through
/// the scrubbing [`Logger`], exit 1.
struct EcrDialect {
    plugin: Plugin,
}

impl Dialect for EcrDialect {
    type Session = Logger;
    type Request = PluginRequest;
    type Error = RunError;

    fn start(&self, args: &[String]) -> Result<Start<Logger>, RunError> {
        let parsed = parse_args(args, UnknownArgs::PassToPlugin)?;
        let mut version = false;
        for flag in parsed
            .plugin_args
            .iter()
            .take_while(|a| *a != "--")
            .filter(|a| a.starts_with('-') && a.len() > 1)
        {
            if flag == "--version" || flag == "-version" {
                version = true;
            } else {
                return Err(RunError::Handler(PluginError::new(format_args!(
                    "unknown flag: {flag} (see --help)"
                ))));
            }
        }
        if parsed.help {
            return Ok(Start::Exit {
                stdout: self.plugin.help(),
                status: 0,
            });
        }
        if version {
            return Ok(Start::Exit {
                stdout: format!("{NAME} version v{}-kcred\n", env!("CARGO_PKG_VERSION")),
                status: 0,
            });
        }
        Ok(Start::Serve(Logger::stderr(NAME, parsed.verbosity)))
    }

    fn stdin_error(&self, _: &Logger, error: RunError) -> RunError {
        error
    }

    fn decode(&self, log: &Logger, input: &[u8]) -> Result<PluginRequest, RunError> {
        let request = decode_request(input).map_err(|e| RunError::Handler(PluginError::new(e)))?;
        Ok(PluginRequest::new(request, Vec::new(), log.clone()))
    }

    fn answer(&self, _: &Logger, request: &PluginRequest) -> Result<Vec<u8>, RunError> {
        answer_request(request, handle)
    }

    fn report(&self, log: Option<&Logger>, _: Option<&PluginRequest>, error: RunError) -> Failure {
        match log {
            Some(log) => log.error(format_args!("{error}")),
            None => Logger::stderr(NAME, 0).error(format_args!("{error}")),
        }
        Failure::exit1()
    }

    fn stdout_failed(&self, error: std::io::Error) -> u8 {
        Logger::stderr(NAME, 0).error(format_args!("{}", RunError::WriteStdout(error)));
        1
    }
}

/// Runs `ecr-credential-provider` on the process's arguments, stdin, stdout and stderr: what
/// `main` does.
pub fn run_process() -> ExitCode {
    let plugin = Plugin::new(NAME)
        .unknown_args(UnknownArgs::PassToPlugin)
        .usage(USAGE);
    kcred_plugin::run_process(&EcrDialect { plugin })
}
