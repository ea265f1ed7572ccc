//! What the subcommands share: output format, exit codes, feature-gate flag handling, and
//! the only way they print.
//!
//! Every subcommand prints through `outln!`/`out!` (stdout) and `errln!`/`err!` (stderr),
//! never `println!`/`eprintln!` (which panic when the stream fails; clippy's
//! `disallowed-macros` in this crate's `clippy.toml` enforces it). A failed stdout write
//! (full disk, `| head -c1` closing the pipe) is recorded, later stdout writes are skipped,
//! and [`finish`] turns it into `error: cannot write to stdout: <cause>` on stderr and
//! [`Exit::Output`] (4). A failed stderr write is ignored: there is nowhere left to report it.

use std::fmt;
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context as _;
use kcred_config::FeatureGates;

/// `print!` that records a stdout failure instead of panicking.
#[allow(unused_macros)] // the layer is complete: print! has its counterpart too
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` that records a stdout failure instead of panicking.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` that ignores a failing stderr instead of panicking.
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::output::write_stderr(format_args!($($arg)*))
    };
}

/// `eprintln!` that ignores a failing stderr instead of panicking.
macro_rules! errln {
    () => {
        $crate::output::write_stderr(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// The process exit status of a subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: a positive answer (valid config, pattern matches, some provider matches).
    Yes,
    /// 1: a negative answer (invalid config, no match).
    No,
    /// 2: the question could not be asked (invalid pattern, image, config or flag).
    Usage,
    /// 3: `kcred install`/`uninstall` changed the node; the kubelet must restart.
    Restart,
    /// 4: the answer could not be written: stdout failed (closed pipe, full disk).
    Output,
    /// 128 + N: stopped by signal N (SIGINT 130, SIGTERM 143, SIGHUP 129) after the
    /// running plugins were killed and reaped.
    Signal(u8),
}

impl Exit {
    /// The numeric exit status.
    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Yes => 0,
            Exit::No => 1,
            Exit::Usage => 2,
            Exit::Restart => 3,
            Exit::Output => 4,
            Exit::Signal(code) => code,
        }
    }
}

/// The first error stdout gave, if any; once set, stdout is not written again.
static STDOUT_ERROR: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes to stdout, recording the first failure instead of panicking (see the module docs).
pub(crate) fn write_stdout(args: fmt::Arguments<'_>) {
    let mut failed = STDOUT_ERROR.lock().unwrap_or_else(|e| e.into_inner());
    if failed.is_some() {
        return;
    }
    if let Err(e) = io::stdout().lock().write_fmt(args) {
        *failed = Some(e);
    }
}

/// Writes to stderr, ignoring failures (there is nowhere left to report them).
pub(crate) fn write_stderr(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// Flushes stdout and returns the process's exit status: `exit`, or [`Exit::Output`] (with
/// the cause on stderr) when stdout failed at any point of the run.
pub(crate) fn finish(exit: Exit) -> ExitCode {
    let mut failed = STDOUT_ERROR.lock().unwrap_or_else(|e| e.into_inner());
    if failed.is_none() {
        if let Err(e) = io::stdout().lock().flush() {
            *failed = Some(e);
        }
    }
    match failed.take() {
        None => exit.into(),
        Some(e) => {
            write_stderr(format_args!("error: cannot write to stdout: {e}\n"));
            Exit::Output.into()
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// Builds the feature gates from a kubelet-style `--feature-gates` value, noting on stderr
/// the gates kcred does not know (they are ignored).
pub(crate) fn feature_gates(spec: Option<&str>) -> anyhow::Result<FeatureGates> {
    let mut gates = FeatureGates::default();
    if let Some(spec) = spec {
        let ignored = gates.apply(spec).context("invalid --feature-gates")?;
        for name in ignored {
            errln!("note: ignoring feature gate {name}: it does not affect credential providers");
        }
    }
    Ok(gates)
}

/// [`feature_gates`] starting from the defaults of a given kubelet (the service-account token
/// gate is off in 1.33 and absent before).
pub(crate) fn feature_gates_for(
    spec: Option<&str>,
    kubelet: kcred_kubelet::KubeletVersion,
) -> anyhow::Result<FeatureGates> {
    let mut gates = FeatureGates::for_kubelet(kubelet);
    let given = feature_gates(spec)?;
    if let Some(spec) = spec {
        // Only gates named in the flag override the version's defaults.
        if spec.contains(kcred_config::feature_gates::SERVICE_ACCOUNT_TOKEN_GATE) {
            gates = given;
        }
    }
    Ok(gates)
}

/// `1 provider`, `2 providers`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
