//! `docker-credential-kcred`: a docker credential helper backed by the kubelet's image
//! credential providers.
//!
//! Docker, podman, skopeo, buildah and crane ask a credential helper for a registry's
//! credentials; this one answers with exactly what a kubelet with the same
//! `CredentialProviderConfig` and plugin directory would use first for an image of that
//! registry, by running the providers through a kcred host. Answers are kept in a per-user
//! file cache that honours each response's `cacheKeyType` and `cacheDuration`.
//!
//! - [`cli`]: the command line, the config path and plugin directory (flag, environment,
//!   default).
//! - [`resolve`]: `get` and `list` through the host.
//! - [`cache`]: the per-user file cache of the providers' answers.
//! - [`app`]: one run, from argv and stdin to stdout and the exit status.
//!
//! The server URL parser and the wire format live in the library (`kcred_docker_helper`).
//! See `docs/docker-credential-kcred.md`.

mod app;
mod cache;
mod cli;
mod resolve;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = app::run(
        &args,
        |var| std::env::var_os(var),
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}
