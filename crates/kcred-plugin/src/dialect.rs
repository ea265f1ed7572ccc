//! The one plugin run loop, and the [`Dialect`] hook for what differs per upstream.
//!
//! Every kcred plugin runs through [`run_dialect`]: the SDK's own providers (the static and
//! helper providers, through [`Plugin`](crate::Plugin), whose dialect is the SDK's strict
//! one) and the drop-in replacements of Go plugins (ECR, ACR, GCP), whose dialects copy their
//! upstream. The loop owns what must be the same everywhere:
//!
//! 1. the command line goes to the dialect ([`Dialect::start`]); help and version output
//!    goes to stdout and ends the run ([`Start::Exit`]);
//! 2. stdin is read to the end, at most [`Dialect::max_request_bytes`] bytes
//!    ([`read_bounded`]), never before the command line was accepted;
//! 3. the dialect decodes the request and answers it;
//! 4. stdout gets the response bytes and nothing else, written once and flushed, only on
//!    success (or when the dialect's failure report asks for a body, as GCP's
//!    `--upstream-compat-exit0` does);
//! 5. failures go to the dialect's [`Dialect::report`], which prints its upstream's error
//!    lines on stderr and picks the exit status.
//!
//! What the dialect decides is exactly what differs between upstreams: argument syntax (Go's
//! `flag` for ECR and the SDK, cobra/pflag for ACR and GCP, see [`crate::pflag`]), request
//! decoding leniency (strict, or upstream's lenient decoders), the error-line format (`name:
//! message`, or klog lines) and the exit status. Secret scrubbing is not a dialect choice:
//! both loggers scrub every secret registered in [`crate::secrets`], and dialects register
//! the request's token when they decode it.

use std::io::{Read, Write};

use crate::error::RunError;
use crate::runner::read_bounded;

/// How a run continues once the command line is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start<S> {
    /// Read the request and serve it with this session (options, loaded configuration).
    Serve(S),
    /// Print `stdout` (help, version) and exit with `status`, reading nothing.
    Exit {
        /// What to print on stdout.
        stdout: String,
        /// The exit status.
        status: u8,
    },
}

/// What a failed run prints on stdout (usually nothing) and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Bytes for stdout (empty: nothing is written).
    pub stdout: Vec<u8>,
    /// The exit status.
    pub status: u8,
}

impl Failure {
    /// Nothing on stdout, exit 1: what every upstream does on an error.
    pub fn exit1() -> Self {
        Failure {
            stdout: Vec::new(),
            status: 1,
        }
    }
}

/// What differs per upstream: argument syntax, request decoding, error lines, exit status.
pub trait Dialect {
    /// What [`start`](Self::start) makes of the command line (options, loaded configuration).
    type Session;
    /// The decoded request.
    type Request;
    /// A failure at any step; [`report`](Self::report) prints it.
    type Error;

    /// Parses the command line (and does whatever upstream does before reading stdin).
    fn start(&self, args: &[String]) -> Result<Start<Self::Session>, Self::Error>;

    /// The largest request read from stdin.
    fn max_request_bytes(&self, _session: &Self::Session) -> usize {
        crate::DEFAULT_MAX_REQUEST_BYTES
    }

    /// The failure for a stdin that could not be read or was too large.
    fn stdin_error(&self, session: &Self::Session, error: RunError) -> Self::Error;

    /// Decodes the request with upstream's leniency and messages. Register the request's
    /// secrets with [`crate::secrets::register`] here.
    fn decode(&self, session: &Self::Session, input: &[u8]) -> Result<Self::Request, Self::Error>;

    /// Answers the request: the exact bytes for stdout.
    fn answer(
        &self,
        session: &Self::Session,
        request: &Self::Request,
    ) -> Result<Vec<u8>, Self::Error>;

    /// Prints `error` on stderr in upstream's format and says what to do. `session` and
    /// `request` are what the run had got to.
    fn report(
        &self,
        session: Option<&Self::Session>,
        request: Option<&Self::Request>,
        error: Self::Error,
    ) -> Failure;

    /// stdout could not be written (closed pipe, full disk): report it and pick the status.
    /// The default says nothing and exits 1.
    fn stdout_failed(&self, _error: std::io::Error) -> u8 {
        1
    }
}

/// Runs one invocation of a plugin in `dialect`: `args` without the program name; returns
/// the exit status. See the module documentation for what the loop guarantees.
pub fn run_dialect<D: Dialect>(
    dialect: &D,
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
) -> u8 {
    let session = match dialect.start(args) {
        Ok(Start::Serve(session)) => session,
        Ok(Start::Exit {
            stdout: text,
            status,
        }) => {
            return match write_all(stdout, text.as_bytes()) {
                Ok(()) => status,
                Err(e) => dialect.stdout_failed(e),
            }
        }
        Err(e) => return finish(dialect, stdout, dialect.report(None, None, e)),
    };
    let input = match read_bounded(stdin, dialect.max_request_bytes(&session)) {
        Ok(input) => input,
        Err(e) => {
            let error = dialect.stdin_error(&session, e);
            return finish(dialect, stdout, dialect.report(Some(&session), None, error));
        }
    };
    let request = match dialect.decode(&session, &input) {
        Ok(r) => r,
        Err(e) => return finish(dialect, stdout, dialect.report(Some(&session), None, e)),
    };
    match dialect.answer(&session, &request) {
        Ok(bytes) => match write_all(stdout, &bytes) {
            Ok(()) => 0,
            Err(e) => dialect.stdout_failed(e),
        },
        Err(e) => {
            let failure = dialect.report(Some(&session), Some(&request), e);
            finish(dialect, stdout, failure)
        }
    }
}

/// Runs `dialect` on the real process (argv, stdin, stdout) and returns the exit status for
/// `main`.
pub fn run_process<D: Dialect>(dialect: &D) -> std::process::ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = run_dialect(
        dialect,
        &args,
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
    );
    std::process::ExitCode::from(code)
}

fn finish<D: Dialect>(dialect: &D, stdout: &mut dyn Write, failure: Failure) -> u8 {
    if failure.stdout.is_empty() {
        return failure.status;
    }
    match write_all(stdout, &failure.stdout) {
        Ok(()) => failure.status,
        Err(e) => dialect.stdout_failed(e),
    }
}

fn write_all(stdout: &mut dyn Write, bytes: &[u8]) -> std::io::Result<()> {
    stdout.write_all(bytes).and_then(|()| stdout.flush())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A dialect that records the order of the loop's calls.
    #[derive(Default)]
    struct Probe {
        calls: RefCell<Vec<String>>,
    }

    impl Dialect for Probe {
        type Session = String;
        type Request = String;
        type Error = String;

        fn start(&self, args: &[String]) -> Result<Start<String>, String> {
            self.calls.borrow_mut().push("start".into());
            match args.first().map(String::as_str) {
                Some("--help") => Ok(Start::Exit {
                    stdout: "usage\n".into(),
                    status: 0,
                }),
                Some("--bad") => Err("bad flag".into()),
                _ => Ok(Start::Serve("s".into())),
            }
        }
        fn max_request_bytes(&self, _: &String) -> usize {
            8
        }
        fn stdin_error(&self, _: &String, e: RunError) -> String {
            e.to_string()
        }
        fn decode(&self, _: &String, input: &[u8]) -> Result<String, String> {
            self.calls.borrow_mut().push("decode".into());
            String::from_utf8(input.to_vec()).map_err(|_| "not utf-8".to_owned())
        }
        fn answer(&self, _: &String, r: &String) -> Result<Vec<u8>, String> {
            self.calls.borrow_mut().push("answer".into());
            match r.as_str() {
                "fail" | "fail-0" => Err(r.clone()),
                _ => Ok(format!("ok {r}").into_bytes()),
            }
        }
        fn report(&self, s: Option<&String>, r: Option<&String>, e: String) -> Failure {
            self.calls
                .borrow_mut()
                .push(format!("report {e} {s:?} {r:?}"));
            if e == "fail-0" {
                return Failure {
                    stdout: b"empty".to_vec(),
                    status: 0,
                };
            }
            Failure::exit1()
        }
    }

    fn run(args: &[&str], stdin: &str) -> (u8, String, Vec<String>) {
        let probe = Probe::default();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        let code = run_dialect(&probe, &args, &mut stdin.as_bytes(), &mut out);
        (
            code,
            String::from_utf8(out).unwrap(),
            probe.calls.into_inner(),
        )
    }

    #[test]
    fn serves_and_writes_only_the_answer() {
        assert_eq!(
            run(&[], "req"),
            (
                0,
                "ok req".into(),
                vec!["start".into(), "decode".into(), "answer".into()]
            )
        );
    }

    #[test]
    fn early_exits_read_nothing() {
        assert_eq!(
            run(&["--help"], "req"),
            (0, "usage\n".into(), vec!["start".into()])
        );
        let (code, out, calls) = run(&["--bad"], "req");
        assert_eq!((code, out.as_str()), (1, ""));
        assert_eq!(calls, ["start", "report bad flag None None"]);
    }

    #[test]
    fn failures_are_reported_with_what_the_run_had() {
        let (code, out, calls) = run(&[], "fail");
        assert_eq!((code, out.as_str()), (1, ""));
        assert_eq!(calls[3], "report fail Some(\"s\") Some(\"fail\")");
        // A report may ask for a body on stdout (GCP's --upstream-compat-exit0).
        let (code, out, _) = run(&[], "fail-0");
        assert_eq!((code, out.as_str()), (0, "empty"));
        let (code, out, calls) = run(&[], "123456789");
        assert_eq!((code, out.as_str()), (1, ""));
        assert_eq!(
            calls[1],
            "report the request on stdin is larger than 8 bytes Some(\"s\") None"
        );
    }

    #[test]
    fn a_failing_stdout_is_exit_1() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("no space left on device"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let probe = Probe::default();
        assert_eq!(run_dialect(&probe, &[], &mut &b"r"[..], &mut Full), 1);
    }
}
