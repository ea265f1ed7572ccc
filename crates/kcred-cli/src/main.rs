//! `kcred`: check credential-provider configs and image matching exactly as the kubelet does.
//!
//! Thin glue: each subcommand lives in its own module with an `Args` struct and a `run`
//! function returning the process exit code.

#[macro_use]
mod output;

mod doctor;
mod explain;
mod get;
mod install;
mod kubelet_version;
mod matching;
mod oidc;
mod validate;
mod wi;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Check kubelet image credential provider configs and matching, as the kubelet does.
#[derive(Debug, Parser)]
#[command(name = "kcred", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands; each variant's `Args` lives in the module of the same name.
#[derive(Debug, Subcommand)]
enum Command {
    /// Read and validate a config file or directory as the kubelet does at startup.
    Validate(validate::Args),
    /// Check one matchImages pattern against one image, and say which rule decided.
    Match(matching::Args),
    /// Show which providers of a config would be asked for an image's credentials, and why.
    Explain(explain::Args),
    /// Run the providers as the kubelet would for one pull and show the credentials it would try.
    Get(Box<get::Args>),
    /// Workload identity: write and check the cluster's OIDC issuer documents and tokens.
    Oidc(oidc::Args),
    /// Workload identity: print a complete plan for keyless pulls by one service account.
    Wi(wi::Args),
    /// Put kcred's providers on this node the way its distribution expects (docs/node-install.md).
    Install(Box<install::Args>),
    /// Undo `kcred install`: restore the original files byte for byte.
    Uninstall(install::UninstallArgs),
    /// Check this node's kubelet, credential-provider config, plugins and token mode.
    Doctor(doctor::Args),
}

fn main() -> ExitCode {
    // `kcred --version` also says which kubelets kcred emulates and the default.
    let version: &'static str = Box::leak(kubelet_version::version_text().into_boxed_str());
    let matches = Cli::command().version(version).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Match(args) => matching::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Get(args) => get::run(&args),
        Command::Oidc(args) => oidc::run(&args),
        Command::Wi(args) => wi::run(&args),
        Command::Install(args) => install::run(&args),
        Command::Uninstall(args) => install::run_uninstall(&args),
        Command::Doctor(args) => doctor::run(&args),
    };
    let exit = match result {
        Ok(exit) => exit,
        Err(e) => {
            errln!("error: {e:#}");
            output::Exit::Usage
        }
    };
    output::finish(exit)
}
