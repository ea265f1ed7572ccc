//! [`Plugin`]: one run of a provider plugin, from argv and stdin to stdout and exit status.

use std::cell::{OnceCell, RefCell};
use std::io::{Read, Write};
use std::process::ExitCode;

use kcred_api::request::CredentialProviderRequest;

use crate::dialect::{run_dialect, Dialect, Failure, Start};
use crate::error::{PluginError, RunError};
use crate::flags::{parse_args, UnknownArgs};
use crate::log::Logger;
use crate::request::PluginRequest;
use crate::response::PluginResponse;

/// The default bound on the request read from stdin. A kubelet request is an image name plus
/// at most a service-account token and a few annotations: a few KiB.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The process's standard streams and arguments, replaceable for tests.
pub struct PluginIo<'a> {
    /// Arguments without the program name.
    pub args: Vec<String>,
    /// Where the request is read from.
    pub stdin: &'a mut dyn Read,
    /// Where the response (and only the response) is written.
    pub stdout: &'a mut dyn Write,
    /// Where logs and the error line go.
    pub stderr: Box<dyn Write + Send>,
}

/// A provider plugin: its name and how it treats its command line.
///
/// ```no_run
/// use kcred_plugin::{Plugin, PluginResponse, UnknownArgs};
///
/// fn main() -> std::process::ExitCode {
///     Plugin::new("my-provider")
///         .unknown_args(UnknownArgs::PassToPlugin)
///         .usage("my-provider [--v=N] <token file>")
///         .run(|req| {
///             let path = req.args().first().ok_or_else(|| kcred_plugin::PluginError::new("missing <token file>"))?;
///             let token = std::fs::read_to_string(path)?;
///             Ok(PluginResponse::registry(req.registry(), "token", token.trim()))
///         })
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Plugin {
    name: String,
    unknown_args: UnknownArgs,
    max_request_bytes: usize,
    usage: Option<String>,
}

impl Plugin {
    /// A plugin called `name` (the prefix of every stderr line). Unknown arguments are
    /// rejected; the request may be up to [`DEFAULT_MAX_REQUEST_BYTES`].
    pub fn new(name: impl Into<String>) -> Self {
        Plugin {
            name: name.into(),
            unknown_args: UnknownArgs::Reject,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            usage: None,
        }
    }

    /// What to do with arguments that are not the SDK's klog flags.
    pub fn unknown_args(mut self, unknown_args: UnknownArgs) -> Self {
        self.unknown_args = unknown_args;
        self
    }

    /// The largest request accepted on stdin, in bytes.
    pub fn max_request_bytes(mut self, limit: usize) -> Self {
        self.max_request_bytes = limit;
        self
    }

    /// The synopsis and description printed by `--help` (before the logging flags).
    pub fn usage(mut self, text: impl Into<String>) -> Self {
        self.usage = Some(text.into());
        self
    }

    /// Runs the plugin on the real process: argv, stdin, stdout, stderr. Returns the exit
    /// status for `main` to return (0 answered or help, 1 failed).
    pub fn run<H>(self, handler: H) -> ExitCode
    where
        H: FnOnce(&PluginRequest) -> Result<PluginResponse, PluginError>,
    {
        let args = std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let stdin = std::io::stdin();
        let stdout = std::io::stdout();
        let code = self.run_with(
            PluginIo {
                args,
                stdin: &mut stdin.lock(),
                stdout: &mut stdout.lock(),
                stderr: Box::new(std::io::stderr()),
            },
            handler,
        );
        ExitCode::from(code)
    }

    /// Runs the plugin on `io`; returns the exit status (0 or 1).
    ///
    /// On success stdout holds exactly the encoded response. On failure stdout is untouched
    /// and stderr ends with `<name>: <error>`. The run is [`run_dialect`] in the SDK's own
    /// dialect: Go `flag` syntax for the klog flags, strict request decoding, `<name>:
    /// <error>` lines, exit 1.
    pub fn run_with<H>(self, io: PluginIo<'_>, handler: H) -> u8
    where
        H: FnOnce(&PluginRequest) -> Result<PluginResponse, PluginError>,
    {
        let dialect = SdkDialect {
            plugin: &self,
            handler: RefCell::new(Some(handler)),
            sink: RefCell::new(Some(io.stderr)),
            log: OnceCell::new(),
        };
        run_dialect(&dialect, &io.args, io.stdin, io.stdout)
    }

    /// The `--help` text: the [`usage`](Self::usage) (or a default synopsis) and the
    /// logging flags.
    pub fn help(&self) -> String {
        self.help_text()
    }

    fn help_text(&self) -> String {
        let synopsis = self.usage.clone().unwrap_or_else(|| {
            format!(
                "Usage: {} [flags] < request.json\n\nA kubelet image credential provider: reads a CredentialProviderRequest on stdin\nand writes a CredentialProviderResponse on stdout.",
                self.name
            )
        });
        format!(
            "{}\n\nLogging flags (klog-compatible; logs always go to stderr):\n  -v, --v N                  log verbosity (default 0; 2 shows request and response metadata)\n  --logtostderr, --alsologtostderr, --stderrthreshold, --vmodule, --log_dir, --log_file,\n  --log_file_max_size, --log_backtrace_at, --add_dir_header, --skip_headers,\n  --skip_log_headers, --one_output   accepted for compatibility and ignored\n",
            synopsis.trim_end()
        )
    }
}

/// The SDK's own dialect, for [`Plugin`]: klog flags in Go `flag` syntax, strict decoding,
/// `<name>: <error>` lines through the scrubbing [`Logger`], exit 1.
struct SdkDialect<'p, H> {
    plugin: &'p Plugin,
    handler: RefCell<Option<H>>,
    sink: RefCell<Option<Box<dyn Write + Send>>>,
    log: OnceCell<Logger>,
}

impl<H> SdkDialect<'_, H> {
    /// The run's logger, made on first use at `verbosity` (later calls get the same one).
    fn logger(&self, verbosity: i32) -> &Logger {
        self.log.get_or_init(|| {
            let sink = self
                .sink
                .borrow_mut()
                .take()
                .unwrap_or_else(|| Box::new(std::io::sink()));
            Logger::with_sink(self.plugin.name.clone(), verbosity, sink)
        })
    }
}

impl<H> Dialect for SdkDialect<'_, H>
where
    H: FnOnce(&PluginRequest) -> Result<PluginResponse, PluginError>,
{
    type Session = Vec<String>;
    type Request = PluginRequest;
    type Error = RunError;

    fn start(&self, args: &[String]) -> Result<Start<Vec<String>>, RunError> {
        // `--version` (or Go's `-version`) before any `--`: what `kcred doctor` and operators
        // ask every kcred plugin; answered without reading stdin.
        if args
            .iter()
            .take_while(|a| *a != "--")
            .any(|a| a == "--version" || a == "-version")
        {
            return Ok(Start::Exit {
                stdout: format!(
                    "{} version kcred-{}\n",
                    self.plugin.name,
                    env!("CARGO_PKG_VERSION")
                ),
                status: 0,
            });
        }
        let parsed = parse_args(args, self.plugin.unknown_args)?;
        self.logger(parsed.verbosity);
        if parsed.help {
            return Ok(Start::Exit {
                stdout: self.plugin.help_text(),
                status: 0,
            });
        }
        Ok(Start::Serve(parsed.plugin_args))
    }

    fn max_request_bytes(&self, _: &Vec<String>) -> usize {
        self.plugin.max_request_bytes
    }

    fn stdin_error(&self, _: &Vec<String>, error: RunError) -> RunError {
        error
    }

    fn decode(&self, plugin_args: &Vec<String>, input: &[u8]) -> Result<PluginRequest, RunError> {
        let request = CredentialProviderRequest::decode(input).map_err(RunError::DecodeRequest)?;
        Ok(PluginRequest::new(
            request,
            plugin_args.clone(),
            self.logger(0).clone(),
        ))
    }

    fn answer(&self, _: &Vec<String>, request: &PluginRequest) -> Result<Vec<u8>, RunError> {
        let handler = self
            .handler
            .borrow_mut()
            .take()
            .ok_or_else(|| RunError::Handler(PluginError::new("the handler already ran")))?;
        answer_request(request, handler)
    }

    fn report(
        &self,
        _: Option<&Vec<String>>,
        _: Option<&PluginRequest>,
        error: RunError,
    ) -> Failure {
        self.logger(0).error(format_args!("{error}"));
        Failure::exit1()
    }

    fn stdout_failed(&self, error: std::io::Error) -> u8 {
        self.logger(0)
            .error(format_args!("{}", RunError::WriteStdout(error)));
        1
    }
}

/// Answers a decoded request with `handler`, as [`Plugin`] does: logs the request and
/// response summaries at `-v=2` (never a secret), registers the response's passwords with the
/// request's logger, and encodes the response in the request's `apiVersion`. For dialects
/// that decode requests their own way and then answer as the SDK does (ECR).
pub fn answer_request<H>(request: &PluginRequest, handler: H) -> Result<Vec<u8>, RunError>
where
    H: FnOnce(&PluginRequest) -> Result<PluginResponse, PluginError>,
{
    let log = request.log();
    crate::log!(
        log,
        2,
        "request: apiVersion={} image={:?} serviceAccountToken={} serviceAccountAnnotations={}",
        request.api_version(),
        request.image(),
        if request.service_account_token().is_some() {
            "present"
        } else {
            "absent"
        },
        request.service_account_annotations().len()
    );
    let response = handler(request).map_err(RunError::Handler)?;
    for auth in response.auth().values() {
        log.redact(&auth.password);
    }
    crate::log!(
        log,
        2,
        "response: cacheKeyType={} cacheDuration={} auth keys={:?}",
        response.cache_key_type().as_str(),
        response
            .cache_duration()
            .map_or_else(|| "(defaultCacheDuration)".to_owned(), |d| d.to_string()),
        response.auth().keys().collect::<Vec<_>>()
    );
    Ok(response.into_wire(request.api_version()).encode())
}

/// Runs `handler` as plugin `name` on the real process, rejecting unknown arguments.
/// Shorthand for `Plugin::new(name).run(handler)`.
pub fn run<H>(name: &str, handler: H) -> ExitCode
where
    H: FnOnce(&PluginRequest) -> Result<PluginResponse, PluginError>,
{
    Plugin::new(name).run(handler)
}

/// Reads all of `input` (a plugin's stdin), failing if it holds more than `limit` bytes;
/// at most `limit + 1` bytes are read, so an endless stream cannot exhaust memory.
///
/// [`Plugin::run`] reads the request with it; it is public for plugins that write their own
/// `main` (upstream-compatible command lines and messages). The errors are
/// [`RunError::ReadStdin`] (`reading the request from stdin: <io error>`) and
/// [`RunError::RequestTooLarge`] (`the request on stdin is larger than <limit> bytes`).
///
/// ```
/// use kcred_plugin::{read_bounded, RunError};
///
/// assert_eq!(read_bounded(&mut &b"{}"[..], 2).unwrap(), b"{}");
/// assert!(matches!(
///     read_bounded(&mut &b"{ }"[..], 2),
///     Err(RunError::RequestTooLarge { limit: 2 })
/// ));
/// ```
pub fn read_bounded(input: &mut dyn Read, limit: usize) -> Result<Vec<u8>, RunError> {
    let mut buf = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    input
        .take(cap)
        .read_to_end(&mut buf)
        .map_err(RunError::ReadStdin)?;
    if buf.len() > limit {
        return Err(RunError::RequestTooLarge { limit });
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::tests::Captured;
    use crate::{CacheKeyType, PluginResponse};
    use kcred_api::{ApiVersion, GoDuration, Secret};

    struct Outcome {
        code: u8,
        stdout: String,
        stderr: String,
    }

    fn exec<H>(plugin: Plugin, args: &[&str], stdin: &str, handler: H) -> Outcome
    where
        H: FnOnce(&PluginRequest) -> Result<PluginResponse, PluginError>,
    {
        let err = Captured::default();
        let mut out = Vec::new();
        let code = plugin.run_with(
            PluginIo {
                args: args.iter().map(|s| s.to_string()).collect(),
                stdin: &mut stdin.as_bytes(),
                stdout: &mut out,
                stderr: Box::new(err.clone()),
            },
            handler,
        );
        Outcome {
            code,
            stdout: String::from_utf8(out).unwrap(),
            stderr: err.text(),
        }
    }

    fn request(version: ApiVersion, extra: &str) -> String {
        format!(
            r#"{{"kind":"CredentialProviderRequest","apiVersion":"{}","image":"registry.io:5000/team/app"{extra}}}"#,
            version.as_str()
        )
    }

    fn fixed(req: &PluginRequest) -> Result<PluginResponse, PluginError> {
        Ok(PluginResponse::registry(req.registry(), "robot", "pw-123")
            .with_cache_duration(GoDuration(300_000_000_000)))
    }

    #[test]
    fn answers_in_the_request_version() {
        for version in ApiVersion::ALL {
            let o = exec(Plugin::new("p"), &[], &request(version, ""), fixed);
            assert_eq!(o.code, 0, "{}", o.stderr);
            assert_eq!(o.stderr, "");
            let want = PluginResponse::registry("registry.io:5000", "robot", "pw-123")
                .with_cache_duration(GoDuration(300_000_000_000))
                .into_wire(version)
                .encode();
            assert_eq!(o.stdout.as_bytes(), want.as_slice());
            let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
            assert_eq!(v["apiVersion"], version.as_str());
            assert_eq!(v["kind"], "CredentialProviderResponse");
            assert_eq!(v["cacheKeyType"], "Registry");
            assert_eq!(v["cacheDuration"], "5m0s");
            assert_eq!(v["auth"]["registry.io:5000"]["username"], "robot");
        }
    }

    #[test]
    fn handler_error_goes_to_stderr_only() {
        let o = exec(Plugin::new("p"), &[], &request(ApiVersion::V1, ""), |_| {
            Err(PluginError::new("no credentials today"))
        });
        assert_eq!(o.code, 1);
        assert_eq!(o.stdout, "");
        assert_eq!(o.stderr, "p: no credentials today\n");
    }

    #[test]
    fn service_account_token_is_scrubbed_from_errors_and_logs() {
        let extra = r#","serviceAccountToken":"eyJ-secret-token","serviceAccountAnnotations":{"a.io/role":"r"}"#;
        let o = exec(
            Plugin::new("p"),
            &["--v=9"],
            &request(ApiVersion::V1, extra),
            |req| {
                assert_eq!(
                    req.service_account_token().map(Secret::expose),
                    Some("eyJ-secret-token")
                );
                assert_eq!(req.service_account_annotations()["a.io/role"], "r");
                crate::log!(
                    req.log(),
                    1,
                    "got token {}",
                    req.service_account_token().unwrap().expose()
                );
                Err(PluginError::new("exchange of eyJ-secret-token failed"))
            },
        );
        assert_eq!(o.code, 1);
        assert!(!o.stderr.contains("eyJ-secret-token"), "{}", o.stderr);
        assert!(
            o.stderr.contains("p: got token <redacted>\n"),
            "{}",
            o.stderr
        );
        assert!(
            o.stderr.ends_with("p: exchange of <redacted> failed\n"),
            "{}",
            o.stderr
        );
        assert!(
            o.stderr.contains("serviceAccountToken=present"),
            "{}",
            o.stderr
        );
    }

    #[test]
    fn verbose_logs_never_show_the_password() {
        let o = exec(
            Plugin::new("p"),
            &["-v", "5"],
            &request(ApiVersion::V1Alpha1, ""),
            fixed,
        );
        assert_eq!(o.code, 0);
        assert!(
            o.stderr.contains("auth keys=[\"registry.io:5000\"]"),
            "{}",
            o.stderr
        );
        assert!(o.stderr.contains("cacheDuration=5m0s"), "{}", o.stderr);
        assert!(!o.stderr.contains("pw-123"));
        assert!(!o.stdout.is_empty());
    }

    #[test]
    fn bad_requests_fail_before_the_handler() {
        for stdin in [
            "",
            "not json",
            r#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"x"}"#,
        ] {
            let o = exec(Plugin::new("p"), &[], stdin, |_| panic!("handler called"));
            assert_eq!(o.code, 1, "{stdin:?}");
            assert_eq!(o.stdout, "");
            assert!(
                o.stderr
                    .starts_with("p: decoding the CredentialProviderRequest on stdin: "),
                "{}",
                o.stderr
            );
        }
    }

    #[test]
    fn oversized_requests_are_refused() {
        let req = request(ApiVersion::V1, "");
        let o = exec(
            Plugin::new("p").max_request_bytes(req.len() - 1),
            &[],
            &req,
            fixed,
        );
        assert_eq!(o.code, 1);
        assert_eq!(o.stdout, "");
        assert_eq!(
            o.stderr,
            format!(
                "p: the request on stdin is larger than {} bytes\n",
                req.len() - 1
            )
        );
        let o = exec(
            Plugin::new("p").max_request_bytes(req.len()),
            &[],
            &req,
            fixed,
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
    }

    #[test]
    fn unknown_arguments_rejected_or_passed() {
        let o = exec(
            Plugin::new("p"),
            &["--region=x"],
            &request(ApiVersion::V1, ""),
            fixed,
        );
        assert_eq!(o.code, 1);
        assert_eq!(o.stdout, "");
        assert_eq!(
            o.stderr,
            "p: flag provided but not defined: --region (see --help)\n"
        );

        let o = exec(
            Plugin::new("p").unknown_args(UnknownArgs::PassToPlugin),
            &["--region=x", "--v=1", "file"],
            &request(ApiVersion::V1, ""),
            |req| {
                assert_eq!(req.args(), ["--region=x", "file"]);
                assert_eq!(req.log().verbosity(), 1);
                Ok(PluginResponse::empty(CacheKeyType::Image))
            },
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(
            o.stdout.contains("\"cacheKeyType\":\"Image\""),
            "{}",
            o.stdout
        );
    }

    #[test]
    fn help_prints_usage_and_reads_nothing() {
        let o = exec(
            Plugin::new("p").usage("Usage: p <file>"),
            &["--help"],
            "",
            |_| panic!("handler called"),
        );
        assert_eq!(o.code, 0);
        assert!(
            o.stdout.starts_with("Usage: p <file>\n\nLogging flags"),
            "{}",
            o.stdout
        );
        assert!(o.stdout.contains("--v N"));
        let o = exec(Plugin::new("q"), &["-h"], "", |_| panic!("handler called"));
        assert!(
            o.stdout.starts_with("Usage: q [flags] < request.json"),
            "{}",
            o.stdout
        );
    }

    #[test]
    fn read_bounded_limits() {
        assert_eq!(read_bounded(&mut &b"abc"[..], 3).unwrap(), b"abc");
        assert!(matches!(
            read_bounded(&mut &b"abcd"[..], 3),
            Err(RunError::RequestTooLarge { limit: 3 })
        ));
        assert_eq!(read_bounded(&mut &b""[..], 0).unwrap(), b"");
    }
}
