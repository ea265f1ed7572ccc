//! One run of the helper: argv, environment and stdin in; stdout and exit status out.
//!
//! As the protocol wants, every answer and every error goes to **stdout** (clients show
//! stdout as the error text), with exit status 1 on failure. `get` without credentials prints
//! exactly [`CREDENTIALS_NOT_FOUND`]. stderr carries only diagnostics for people running the
//! helper by hand (failed providers, hints); it never holds a secret.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use kcred_host::HostOptions;

use kcred_docker_helper::{list_json_line, RegistryQuery, ServerUrlError, CREDENTIALS_NOT_FOUND};

use crate::cache::{self, FileCache};
use crate::cli::{Action, CliError, Invocation, Paths, USAGE};
use crate::resolve::{ProviderFailure, ResolveError, Resolver};

/// The program name (prefix of diagnostics).
pub(crate) const NAME: &str = "docker-credential-kcred";

/// The most bytes read from stdin (a server URL, or the credentials of a refused `store`).
pub(crate) const MAX_STDIN_BYTES: usize = 64 * 1024;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    /// Bad command line.
    #[error("{0} (see --help)")]
    Cli(#[from] CliError),
    /// stdin could not be read.
    #[error("reading stdin: {0}")]
    Stdin(#[source] io::Error),
    /// stdin held more than [`MAX_STDIN_BYTES`].
    #[error("stdin holds more than {MAX_STDIN_BYTES} bytes: not a server URL")]
    StdinTooLarge,
    /// The server URL is not usable.
    #[error(transparent)]
    ServerUrl(#[from] ServerUrlError),
    /// The async runtime could not start.
    #[error("starting the runtime: {0}")]
    Runtime(#[source] io::Error),
    /// The providers could not be loaded or asked.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// SIGINT, SIGTERM or SIGHUP arrived while plugins ran: they were killed and reaped.
    #[error("{0}")]
    Interrupted(kcred_host::signals::Interrupted),
    /// `store` or `erase`.
    #[error("{action} is not supported: {NAME} is read-only; its credentials come from the kubelet credential providers configured in {}", .config.display())]
    ReadOnly {
        /// `store` or `erase`.
        action: &'static str,
        /// The config in force.
        config: PathBuf,
    },
}

/// Runs the helper; returns the exit status (0 or 1).
pub(crate) fn run(
    args: &[String],
    env: impl Fn(&str) -> Option<OsString>,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    let outcome = Invocation::parse(args)
        .map_err(AppError::from)
        .and_then(|invocation| {
            let paths = Paths::resolve(&invocation, &env);
            let cache_dir = cache::location(invocation.no_cache, &env);
            dispatch(invocation.action, &paths, cache_dir, stdin, stderr)
        });
    let (text, code) = match outcome {
        Ok(Answer::Success(text)) => (text, 0),
        Ok(Answer::NotFound) => (format!("{CREDENTIALS_NOT_FOUND}\n"), 1),
        Err(e) => (format!("{e}\n"), 1),
    };
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => code,
        Err(e) => {
            let _ = writeln!(stderr, "{NAME}: writing stdout: {e}");
            1
        }
    }
}

/// What to print on stdout.
enum Answer {
    /// Exit 0 with this text.
    Success(String),
    /// Exit 1 with [`CREDENTIALS_NOT_FOUND`].
    NotFound,
}

fn dispatch(
    action: Action,
    paths: &Paths,
    cache_dir: Result<Option<PathBuf>, cache::CacheError>,
    stdin: &mut dyn Read,
    stderr: &mut dyn Write,
) -> Result<Answer, AppError> {
    match action {
        Action::Help => Ok(Answer::Success(USAGE.to_owned())),
        Action::Version => Ok(Answer::Success(format!(
            "{NAME} (kcred) {}\n",
            env!("CARGO_PKG_VERSION")
        ))),
        Action::Store | Action::Erase => {
            // Drain what the client sends so it does not see a broken pipe; never look at
            // it (a `store` carries a secret).
            let _ = read_bounded(stdin);
            Err(AppError::ReadOnly {
                action: if action == Action::Store {
                    "store"
                } else {
                    "erase"
                },
                config: paths.config.clone(),
            })
        }
        Action::Get => {
            let input = read_bounded(stdin)?;
            let query = RegistryQuery::parse(&String::from_utf8_lossy(&input))?;
            let resolver = Resolver::load(paths, host_options())?;
            let report = with_cache(&resolver, paths, cache_dir, stderr, || {
                runtime()?
                    .block_on(kcred_host::signals::until_signal(resolver.get(&query)))
                    .map_err(AppError::Interrupted)?
                    .map_err(AppError::from)
            })?;
            match report.credentials {
                Some(credentials) => Ok(Answer::Success(credentials.to_json_line())),
                None => {
                    report_failures(stderr, &report.failures);
                    hint_path_scoped(stderr, &resolver, &query);
                    Ok(Answer::NotFound)
                }
            }
        }
        Action::List => {
            let resolver = Resolver::load(paths, host_options())?;
            let report = with_cache(&resolver, paths, cache_dir, stderr, || {
                runtime()?
                    .block_on(kcred_host::signals::until_signal(resolver.list()))
                    .map_err(AppError::Interrupted)?
                    .map_err(AppError::from)
            })?;
            report_failures(stderr, &report.failures);
            for pattern in &report.skipped_patterns {
                let _ = writeln!(
                    stderr,
                    "{NAME}: matchImages entry {pattern:?} is a pattern, not one registry: not listed"
                );
            }
            Ok(Answer::Success(list_json_line(&report.entries)))
        }
    }
}

/// Runs `lookup` with the file cache: its unexpired entries restored into the host's
/// provider caches first, the entries the host stored written back after. Any cache problem
/// is reported on stderr and the lookup runs without the cache.
fn with_cache<T>(
    resolver: &Resolver,
    paths: &Paths,
    cache_dir: Result<Option<PathBuf>, cache::CacheError>,
    stderr: &mut dyn Write,
    lookup: impl FnOnce() -> Result<T, AppError>,
) -> Result<T, AppError> {
    let host = resolver.host();
    let mut warn = |e: &dyn std::fmt::Display| {
        let _ = writeln!(stderr, "{NAME}: cache not used: {e}");
    };
    let opened = match cache_dir {
        Ok(None) => None,
        Ok(Some(dir)) => match FileCache::open(&dir, &host.config_hash(), &paths.bin_dir) {
            Ok(cache) => Some(cache),
            Err(e) => {
                warn(&e);
                None
            }
        },
        Err(e) => {
            warn(&e);
            None
        }
    };
    let Some(mut cache) = opened else {
        return lookup();
    };
    let restored = match cache.restore(host) {
        Ok(restored) => restored,
        Err(e) => {
            warn(&e);
            return lookup();
        }
    };
    let result = lookup()?;
    if let Err(e) = cache.persist(host, &restored) {
        let _ = writeln!(stderr, "{NAME}: answers not cached: {e}");
    }
    for warning in &cache.warnings {
        let _ = writeln!(stderr, "{NAME}: {warning}");
    }
    Ok(result)
}

/// The kubelet's host behaviour (no registry coalescing: one lookup per process anyway).
fn host_options() -> HostOptions {
    HostOptions {
        coalesce_registries: false,
        ..HostOptions::default()
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AppError::Runtime)
}

fn read_bounded(stdin: &mut dyn Read) -> Result<Vec<u8>, AppError> {
    let mut buf = Vec::new();
    let cap = u64::try_from(MAX_STDIN_BYTES).unwrap_or(u64::MAX) + 1;
    stdin
        .take(cap)
        .read_to_end(&mut buf)
        .map_err(AppError::Stdin)?;
    if buf.len() > MAX_STDIN_BYTES {
        return Err(AppError::StdinTooLarge);
    }
    Ok(buf)
}

fn report_failures(stderr: &mut dyn Write, failures: &[ProviderFailure]) {
    for failure in failures {
        let _ = writeln!(
            stderr,
            "{NAME}: provider {:?} failed (the kubelet would log this and go on): {}",
            failure.provider, failure.error
        );
    }
}

/// Says when a path-scoped `matchImages` entry names the registry: a registry-level query
/// cannot match it.
fn hint_path_scoped(stderr: &mut dyn Write, resolver: &Resolver, query: &RegistryQuery) {
    if query.repository_given() {
        return;
    }
    for pattern in resolver.path_scoped_patterns(query.registry()) {
        let _ = writeln!(
            stderr,
            "{NAME}: note: matchImages entry {pattern:?} is limited to a repository path; a registry-level lookup for {} does not match it",
            query.registry()
        );
    }
}
