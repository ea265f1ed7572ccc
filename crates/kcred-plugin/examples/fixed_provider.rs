//! A complete provider in a few lines: answers every request with one username and a
//! password taken from the environment, keyed by the image's registry.
//!
//! ```text
//! FIXED_PROVIDER_PASSWORD=s3cret fixed-provider [--v=N] <username>
//! ```
//!
//! It is the SDK's integration-test plugin (`tests/plugin_io.rs`) and the example in
//! `docs/plugin-sdk.md`.

use std::process::ExitCode;
use std::time::Duration;

use kcred_plugin::{log, Plugin, PluginError, PluginResponse, UnknownArgs};

fn main() -> ExitCode {
    Plugin::new("fixed-provider")
        .unknown_args(UnknownArgs::PassToPlugin)
        .usage("Usage: FIXED_PROVIDER_PASSWORD=<password> fixed-provider [--v=N] <username>")
        .run(|req| {
            let [username] = req.args() else {
                return Err(PluginError::new("want exactly one argument: <username>"));
            };
            let password = std::env::var("FIXED_PROVIDER_PASSWORD")
                .map_err(|e| PluginError::new(e).context("FIXED_PROVIDER_PASSWORD"))?;
            log!(req.log(), 1, "serving {} for {}", username, req.registry());
            Ok(
                PluginResponse::registry(req.registry(), username.as_str(), password)
                    .with_cache_ttl(Duration::from_secs(600)),
            )
        })
}
