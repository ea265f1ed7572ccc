//! `static-credential-provider`: a kubelet image credential provider serving the
//! credentials of a docker `config.json` / `.dockercfg` file.
//!
//! ```text
//! static-credential-provider [--v=N] [--cache-duration D] <docker config.json>
//! ```
//!
//! For each request it reads the file, keeps only the entries that serve the registry of
//! the requested image (the kubelet's keyring matching, see [`mod@select`]), and answers
//! `cacheKeyType: Registry` with those credentials keyed by that registry. No entry means an
//! empty `auth` (the kubelet then pulls anonymously or with other credentials), not an error.
//! A missing or malformed file is an error: exit 1, a message naming the file on stderr,
//! nothing on stdout. Secrets never reach stderr.

mod args;
mod dockerconfig;
mod select;

use std::process::ExitCode;

use kcred_match::image::ImageRef;
use kcred_plugin::{
    log, warn, CacheKeyType, Plugin, PluginError, PluginRequest, PluginResponse, UnknownArgs,
};

use crate::args::Args;
use crate::select::{select, MatchKind};

/// The plugin's name (stderr prefix).
const NAME: &str = "static-credential-provider";

fn main() -> ExitCode {
    Plugin::new(NAME)
        .unknown_args(UnknownArgs::PassToPlugin)
        .usage(args::USAGE)
        .run(serve)
}

/// Answers one request.
fn serve(req: &PluginRequest) -> Result<PluginResponse, PluginError> {
    let args = Args::parse(req.args())?;
    let image = ImageRef::parse(req.image())
        .map_err(|e| PluginError::new(format!("invalid image {:?}: {e}", req.image())))?;
    let registry = image.registry();
    let log = req.log();
    let config = dockerconfig::load(&args.config_path, log)?;

    let selection = select(registry, &config.entries);
    for entry in &selection.unparsable {
        log!(
            log,
            1,
            "entry {:?} is not a valid registry URL; the kubelet would skip it too",
            entry.key
        );
    }
    for entry in &selection.empty {
        warn!(
            log,
            "entry {:?} matches {} but has no username or password (identitytoken, credsStore and credHelpers are not supported); skipped",
            entry.key,
            registry
        );
    }
    if let Some(store) = &config.creds_store {
        log!(
            log,
            1,
            "credsStore {store:?} is not used; only \"auths\" is read"
        );
    }
    if config.cred_helpers.iter().any(|h| h == registry) {
        warn!(log, "credHelpers names {registry}, but credential helpers are not run; only \"auths\" is read");
    }
    for (entry, winner) in &selection.shadowed {
        log!(
            log,
            1,
            "entry {:?} gives the same auth key as {:?}, which is preferred; ignored",
            entry.key,
            winner
        );
    }

    let mut response = PluginResponse::empty(CacheKeyType::Registry);
    for served in selection.served.values() {
        let how = match served.how {
            MatchKind::Host => "host match",
            MatchKind::DockerHubAlias(_) => "Docker Hub alias",
        };
        log!(
            log,
            1,
            "serving entry {:?} as {:?} ({how})",
            served.from.key,
            served.auth_key
        );
        response = response.with_auth(
            served.auth_key.clone(),
            served.from.entry.username.clone(),
            served.from.entry.password.clone(),
        );
    }
    if response.auth().is_empty() {
        log!(
            log,
            1,
            "no entry of {:?} serves {registry}",
            args.config_path
        );
    }
    if let Some(d) = args.cache_duration {
        response = response.with_cache_duration(d);
    }
    Ok(response)
}
