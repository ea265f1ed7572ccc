//! `docker-credential-provider`: a kubelet image credential provider that asks a docker
//! credential helper.
//!
//! ```text
//! docker-credential-provider [--v=N] [--helper] NAME [--helper-dir DIR] [--cache-duration D]
//!                            [--helper-timeout D] [--identity-token-username USER]
//! ```
//!
//! For each request: find `docker-credential-NAME` ([`helper::locate`]), run `get` with the
//! server URL of the image's registry ([`protocol::server_url_for_registry`]), and map the
//! answer ([`answer::to_response`]) to `auth[<registry>]` with `cacheKeyType: Registry` and
//! the configured `cacheDuration`. "Not found" is an empty answer; an unknown helper, a
//! failing helper, garbage output or an unusable identity token are errors: exit 1, the
//! reason on stderr, nothing on stdout. Secrets never reach stderr.

mod answer;
mod args;
mod helper;
mod protocol;

use std::process::ExitCode;

use kcred_plugin::{log, Plugin, PluginError, PluginRequest, PluginResponse, UnknownArgs};

use crate::answer::{to_response, MappingOptions};
use crate::args::Args;
use crate::helper::HelperAnswer;
use crate::protocol::server_url_for_registry;

/// The plugin's name (stderr prefix).
const NAME: &str = "docker-credential-provider";

fn main() -> ExitCode {
    Plugin::new(NAME)
        .unknown_args(UnknownArgs::PassToPlugin)
        .usage(args::USAGE)
        .run(serve)
}

/// Answers one request.
fn serve(req: &PluginRequest) -> Result<PluginResponse, PluginError> {
    let args = Args::parse(req.args())?;
    let log = req.log();
    let registry = req.registry();
    let server_url = server_url_for_registry(registry);
    let path = helper::locate(
        &args.helper,
        args.helper_dir.as_deref(),
        std::env::var_os("PATH").as_deref(),
    )?;
    log!(log, 1, "running {} get for {server_url}", path.display());
    let answer = helper::get(&path, server_url, args.helper_timeout)?;
    match &answer {
        HelperAnswer::Found(c) => {
            log.redact(&c.secret);
            log!(
                log,
                1,
                "{} has credentials for {server_url} (username {:?})",
                args.helper.program(),
                c.username
            );
        }
        HelperAnswer::NotFound => log!(
            log,
            1,
            "{} has no credentials for {server_url}",
            args.helper.program()
        ),
    }
    let options = MappingOptions {
        cache_duration: args.cache_duration,
        identity_token_username: args.identity_token_username.clone(),
    };
    Ok(to_response(
        &args.helper.program(),
        registry,
        answer,
        &options,
    )?)
}
