//! `ecr-credential-provider`: the kubelet image credential provider for Amazon ECR.
//!
//! Reads a `CredentialProviderRequest` on stdin and writes a `CredentialProviderResponse` on
//! stdout (see `docs/ecr.md`). Positional arguments (`get-credentials`) are accepted and
//! ignored as upstream does; `--version` prints the version; unknown flags fail.
//!
//! The request is read here with upstream's lenient rules and messages
//! ([`kcred_ecr::request`]), then handed to the plugin SDK in canonical form; the SDK owns
//! the klog flags, logging with secret scrubbing, and the response encoding.

use std::process::ExitCode;

use kcred_ecr::aws::ClientSettings;
use kcred_ecr::invocation::{self, Invocation, OVERALL_DEADLINE};
use kcred_ecr::provider::ProgressLog;
use kcred_ecr::request::decode_request;
use kcred_ecr::role::ECR_ROLE_ARN_ENV;
use kcred_plugin::flags::parse_args;
use kcred_plugin::{
    Logger, Plugin, PluginError, PluginIo, PluginRequest, PluginResponse, UnknownArgs,
    DEFAULT_MAX_REQUEST_BYTES,
};

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

/// `Err(exit code)` when the run ends before the request is read: `--version`, an unknown
/// flag, or a bad request.
fn canonical_request(args: &[String]) -> Result<Option<Vec<u8>>, ExitCode> {
    let log = Logger::stderr(NAME, 0);
    let Ok(parsed) = parse_args(args, UnknownArgs::PassToPlugin) else {
        return Ok(None); // the SDK reports flag errors
    };
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
            log.error(format_args!("unknown flag: {flag} (see --help)"));
            return Err(ExitCode::FAILURE);
        }
    }
    if parsed.help {
        return Ok(None); // the SDK prints the help without reading stdin
    }
    if version {
        println!("{NAME} version v{}-kcred", env!("CARGO_PKG_VERSION"));
        return Err(ExitCode::SUCCESS);
    }
    let input =
        match kcred_plugin::read_bounded(&mut std::io::stdin().lock(), DEFAULT_MAX_REQUEST_BYTES) {
            Ok(input) => input,
            Err(e) => {
                log.error(format_args!("{e}"));
                return Err(ExitCode::FAILURE);
            }
        };
    match decode_request(&input) {
        Ok(request) => Ok(Some(request.encode())),
        Err(e) => {
            log.error(format_args!("{e}"));
            Err(ExitCode::FAILURE)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let plugin = Plugin::new(NAME)
        .unknown_args(UnknownArgs::PassToPlugin)
        .usage(USAGE);
    let canonical = match canonical_request(&args) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return plugin.run(handle),
        Err(code) => return code,
    };
    let stdout = std::io::stdout();
    let code = plugin.run_with(
        PluginIo {
            args,
            stdin: &mut canonical.as_slice(),
            stdout: &mut stdout.lock(),
            stderr: Box::new(std::io::stderr()),
        },
        handle,
    );
    ExitCode::from(code)
}
