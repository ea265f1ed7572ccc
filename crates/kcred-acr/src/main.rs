//! `acr-credential-provider <azure.json> [flags]`: reads one `CredentialProviderRequest` on
//! stdin, writes one `CredentialProviderResponse` on stdout; exit 1 with a message on stderr
//! on any error (upstream's contract). Written directly on `kcred_acr`'s modules: the ACR
//! plugin needs upstream's exact request errors (v1 only, unknown fields ignored), which the
//! shared SDK's strict decoding does not give; from the SDK it takes the bounded stdin read
//! ([`kcred_plugin::read_bounded`]) and the klog logger ([`kcred_acr::log::LOG`]).

use std::io::Write;
use std::process::ExitCode;

use kcred_acr::cli::{parse_args, CliAction, USAGE};
use kcred_acr::login_server::RegistryMirrors;
use kcred_acr::provider::{AcrProvider, ProviderOptions};
use kcred_acr::selection::SelectionOptions;
use kcred_acr::{azure_config, ib_config, log, protocol};
use kcred_plugin::{read_bounded, DEFAULT_MAX_REQUEST_BYTES};

fn run(args: &[String]) -> anyhow::Result<Option<Vec<u8>>> {
    let opts = match parse_args(args)? {
        CliAction::Help => {
            print!("acr-credential-provider: Azure Container Registry credential provider for the kubelet.\n\n{USAGE}");
            return Ok(None);
        }
        CliAction::Version => {
            println!(
                "acr-credential-provider version kcred-{}",
                env!("CARGO_PKG_VERSION")
            );
            return Ok(None);
        }
        CliAction::Run(opts) => opts,
    };
    log::LOG.configure(u32::from(opts.verbosity), false);
    let ib = ib_config::parse_ib_flags(&opts.ib)?;
    let (mirrors, warnings) = RegistryMirrors::parse(&opts.registry_mirror);
    for w in warnings {
        log::LOG.warning(format_args!("{w}"));
    }
    let config = azure_config::load_azure_config(std::path::Path::new(&opts.config_path))?;
    let provider = AcrProvider::new(
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
    )?;
    let stdin = read_bounded(&mut std::io::stdin().lock(), DEFAULT_MAX_REQUEST_BYTES)?;
    let request = protocol::decode_request(&stdin)?;
    let response = provider.provide(&request)?;
    Ok(Some(protocol::encode_response(&response)))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(Some(out)) => {
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(&out).and_then(|_| stdout.flush()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = e.to_string();
            log::LOG.error(format_args!(
                "\"Error running acr credential provider\" err={msg:?}"
            ));
            eprintln!("Error: {msg}");
            eprint!("{USAGE}");
            ExitCode::FAILURE
        }
    }
}
