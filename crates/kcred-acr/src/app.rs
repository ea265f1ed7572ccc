//! One `acr-credential-provider` process: reads one `CredentialProviderRequest` on stdin,
//! writes one `CredentialProviderResponse` on stdout; exit 1 with a message on stderr on any
//! error (upstream's contract). `main` only calls [`run_process`].
//!
//! It runs on the plugin SDK's run loop ([`kcred_plugin::run_dialect`]) in upstream's
//! dialect: cobra/pflag arguments ([`crate::cli`]), `azure.json` loaded before stdin is read,
//! upstream's request rules and messages (v1 only, unknown fields ignored:
//! [`crate::protocol`]), and on failure a klog `E` line (not for command-line errors, like
//! cobra), `Error: <message>` and the usage on stderr, exit 1. Every stderr line is scrubbed
//! of the request's token, the client secret and the tokens obtained
//! ([`kcred_plugin::secrets`]).

use std::process::ExitCode;

use kcred_api::gostr::strconv_quote;
use kcred_api::request::CredentialProviderRequest;
use kcred_plugin::{secrets, Dialect, Failure, RunError, Start};

use crate::azure_config::AzureConfigError;
use crate::cli::{parse_args, CliAction, CliError, CliOptions, USAGE};
use crate::ib_config::IbFlagsError;
use crate::login_server::RegistryMirrors;
use crate::protocol::RequestError;
use crate::provider::{AcrProvider, ProviderError, ProviderOptions};
use crate::selection::SelectionOptions;
use crate::{azure_config, ib_config, log, protocol};

/// Runs `acr-credential-provider` on the process's arguments, stdin, stdout and stderr.
pub fn run_process() -> ExitCode {
    kcred_plugin::run_process(&AcrDialect)
}

/// Why an invocation failed; each variant prints as the error it wraps.
#[derive(Debug, thiserror::Error)]
enum AcrError {
    /// The command line (cobra's errors: no klog line).
    #[error(transparent)]
    Cli(#[from] CliError),
    /// The `--ib-*` flags.
    #[error(transparent)]
    IbFlags(#[from] IbFlagsError),
    /// `azure.json`.
    #[error(transparent)]
    Config(#[from] AzureConfigError),
    /// Building the provider or serving the request.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The request on stdin.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Reading stdin.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// Upstream's dialect of the plugin protocol.
struct AcrDialect;

impl AcrDialect {
    fn provider(opts: &CliOptions) -> Result<AcrProvider, AcrError> {
        let ib = ib_config::parse_ib_flags(&opts.ib)?;
        let (mirrors, warnings) = RegistryMirrors::parse(&opts.registry_mirror);
        for w in warnings {
            log::LOG.warning(format_args!("{w}"));
        }
        let config = azure_config::load_azure_config(std::path::Path::new(&opts.config_path))?;
        secrets::register(config.aad_client_secret.expose());
        Ok(AcrProvider::new(
            config,
            ProviderOptions {
                mirrors,
                identity_bindings: ib,
                compat_upstream_auth_keys: opts.compat_upstream_auth_keys,
                scope: opts
                    .aad_scope
                    .clone()
                    .unwrap_or_else(|| crate::DEFAULT_AAD_SCOPE.to_owned()),
                selection: SelectionOptions {
                    exchange_client_secret: opts.exchange_client_secret,
                },
            },
        )?)
    }
}

impl Dialect for AcrDialect {
    type Session = AcrProvider;
    type Request = CredentialProviderRequest;
    type Error = AcrError;

    fn start(&self, args: &[String]) -> Result<Start<AcrProvider>, AcrError> {
        let opts = match parse_args(args)? {
            CliAction::Help => {
                return Ok(Start::Exit {
                    stdout: format!("acr-credential-provider: Azure Container Registry credential provider for the kubelet.\n\n{USAGE}"),
                    status: 0,
                })
            }
            CliAction::Version => {
                return Ok(Start::Exit {
                    stdout: format!(
                        "acr-credential-provider version kcred-{}\n",
                        env!("CARGO_PKG_VERSION")
                    ),
                    status: 0,
                })
            }
            CliAction::Run(opts) => opts,
        };
        log::LOG.configure(u32::from(opts.verbosity), false);
        Ok(Start::Serve(Self::provider(&opts)?))
    }

    fn stdin_error(&self, _: &AcrProvider, error: RunError) -> AcrError {
        error.into()
    }

    fn decode(&self, _: &AcrProvider, input: &[u8]) -> Result<CredentialProviderRequest, AcrError> {
        let request = protocol::decode_request(input)?;
        if let Some(token) = &request.service_account_token {
            secrets::register(token.expose());
        }
        Ok(request)
    }

    fn answer(
        &self,
        provider: &AcrProvider,
        request: &CredentialProviderRequest,
    ) -> Result<Vec<u8>, AcrError> {
        let response = provider.provide(request)?;
        for auth in response.auth.values() {
            secrets::register(auth.password.expose());
        }
        Ok(protocol::encode_response(&response))
    }

    fn report(
        &self,
        _: Option<&AcrProvider>,
        _: Option<&CredentialProviderRequest>,
        error: AcrError,
    ) -> Failure {
        let msg = secrets::scrub(&error.to_string());
        // Command-line errors are cobra's (flag parsing, the `Args` check): upstream prints
        // only `Error: …` and the usage for them. Errors from its `RunE` also get a klog line
        // from its logger named "main" (`logger="main"`).
        if !matches!(error, AcrError::Cli(_)) {
            log::LOG.error(format_args!(
                "\"Error running acr credential provider\" err={} logger=\"main\"",
                strconv_quote(&msg)
            ));
        }
        // cobra: `PrintErrln("Error:", err)`, then `Println(cmd.UsageString())` (a blank line
        // after the usage).
        eprintln!("Error: {msg}");
        eprintln!("{USAGE}");
        Failure::exit1()
    }
}
