//! `acr-credential-provider <azure.json> [flags]`: reads one `CredentialProviderRequest` on
//! stdin, writes one `CredentialProviderResponse` on stdout; exit 1 with a message on stderr
//! on any error (upstream's contract).
//!
//! It runs on the plugin SDK's run loop ([`kcred_plugin::run_dialect`]) in upstream's
//! dialect: cobra/pflag arguments ([`kcred_acr::cli`]), `azure.json` loaded before stdin is
//! read, upstream's request rules and messages (v1 only, unknown fields ignored:
//! [`kcred_acr::protocol`]), and on failure a klog `E` line, `Error: <message>` and the usage
//! on stderr, exit 1. Every stderr line is scrubbed of the request's token, the client secret
//! and the tokens obtained ([`kcred_plugin::secrets`]).

use std::process::ExitCode;

use kcred_acr::cli::{parse_args, CliAction, CliOptions, USAGE};
use kcred_acr::login_server::RegistryMirrors;
use kcred_acr::provider::{AcrProvider, ProviderOptions};
use kcred_acr::selection::SelectionOptions;
use kcred_acr::{azure_config, ib_config, log, protocol};
use kcred_api::gostr::strconv_quote;
use kcred_api::request::CredentialProviderRequest;
use kcred_plugin::{secrets, Dialect, Failure, RunError, Start};

/// Upstream's dialect of the plugin protocol.
struct AcrDialect;

impl AcrDialect {
    fn provider(opts: &CliOptions) -> anyhow::Result<AcrProvider> {
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
                    .unwrap_or_else(|| kcred_acr::DEFAULT_AAD_SCOPE.to_owned()),
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
    type Error = anyhow::Error;

    fn start(&self, args: &[String]) -> anyhow::Result<Start<AcrProvider>> {
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

    fn stdin_error(&self, _: &AcrProvider, error: RunError) -> anyhow::Error {
        error.into()
    }

    fn decode(&self, _: &AcrProvider, input: &[u8]) -> anyhow::Result<CredentialProviderRequest> {
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
    ) -> anyhow::Result<Vec<u8>> {
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
        error: anyhow::Error,
    ) -> Failure {
        let msg = secrets::scrub(&error.to_string());
        log::LOG.error(format_args!(
            "\"Error running acr credential provider\" err={}",
            strconv_quote(&msg)
        ));
        eprintln!("Error: {msg}");
        eprint!("{USAGE}");
        Failure::exit1()
    }
}

fn main() -> ExitCode {
    kcred_plugin::run_process(&AcrDialect)
}
