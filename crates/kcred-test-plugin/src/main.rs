//! `kcred-test-plugin`: a credential provider plugin that misbehaves on request, for kcred's tests.
//!
//! It speaks the wire protocol with raw `serde_json` (no kcred SDK) so it can also emit
//! malformed answers. It reads the whole request from stdin, then acts according to its
//! arguments:
//!
//! ```text
//! --mode ok|hang|crash|garbage|wrong-api-version|wrong-kind|huge-stdout|huge-stderr|echo-token|slow|fail
//! --cache-key-type T      cacheKeyType of the answer (default Registry)
//! --cache-duration D      cacheDuration of the answer (omitted unless given)
//! --auth KEY=USER:PASS    one auth entry (repeatable; default none)
//! --api-version V         answer in V instead of the request's apiVersion
//! --response TEXT         print TEXT (plus a newline) verbatim instead of building an answer
//! --sleep-ms N            sleep N ms before answering (any mode; `slow` defaults to 1000)
//! --trickle-ms N          write the answer one byte every N ms (slow output)
//! --count-file PATH       append one line (the requested image) per invocation
//! --print-request FILE    write the exact stdin bytes received to FILE
//! --print-env FILE        write the environment (NAME=VALUE lines) to FILE
//! --pid-file FILE         append this process's pid (and a spawned child's) to FILE
//! --spawn-child           start a copy of itself in `hang` mode that shares stdout/stderr
//! --escape-child          with --spawn-child: the child calls setsid(2), leaving the
//!                         plugin's process group and session (a group kill misses it)
//! --skip-stdin            do not read a request (used by the spawned child)
//! --stderr TEXT           write TEXT to stderr
//! --stderr-token          write the request's serviceAccountToken to stderr
//! --stderr-hex HEX        write the bytes HEX encodes to stderr (for control characters)
//! --exit N                exit status (default 0; `fail` defaults to 1)
//! --bytes N               size written by huge-stdout/huge-stderr (default 2 MiB)
//! --signal N              signal raised by `crash` (default 9, SIGKILL)
//! ```

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Map, Value};

/// What the plugin does after reading its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ok,
    Hang,
    Crash,
    Garbage,
    WrongApiVersion,
    WrongKind,
    HugeStdout,
    HugeStderr,
    EchoToken,
    Slow,
    Fail,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "ok" => Mode::Ok,
            "hang" => Mode::Hang,
            "crash" => Mode::Crash,
            "garbage" => Mode::Garbage,
            "wrong-api-version" => Mode::WrongApiVersion,
            "wrong-kind" => Mode::WrongKind,
            "huge-stdout" => Mode::HugeStdout,
            "huge-stderr" => Mode::HugeStderr,
            "echo-token" => Mode::EchoToken,
            "slow" => Mode::Slow,
            "fail" => Mode::Fail,
            _ => return None,
        })
    }
}

/// Parsed command line.
#[derive(Debug)]
struct Options {
    mode: Mode,
    cache_key_type: String,
    cache_duration: Option<String>,
    auth: Vec<(String, String, String)>,
    api_version: Option<String>,
    response: Option<String>,
    sleep_ms: Option<u64>,
    trickle_ms: Option<u64>,
    count_file: Option<String>,
    print_request: Option<String>,
    print_env: Option<String>,
    pid_file: Option<String>,
    spawn_child: bool,
    escape_child: bool,
    stderr_token: bool,
    skip_stdin: bool,
    stderr: Option<String>,
    stderr_hex: Option<Vec<u8>>,
    exit: Option<u8>,
    bytes: usize,
    signal: i32,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        mode: Mode::Ok,
        cache_key_type: "Registry".to_owned(),
        cache_duration: None,
        auth: Vec::new(),
        api_version: None,
        response: None,
        sleep_ms: None,
        trickle_ms: None,
        count_file: None,
        print_request: None,
        print_env: None,
        pid_file: None,
        spawn_child: false,
        escape_child: false,
        stderr_token: false,
        skip_stdin: false,
        stderr: None,
        stderr_hex: None,
        exit: None,
        bytes: 2 * 1024 * 1024,
        signal: libc::SIGKILL,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--spawn-child" {
            o.spawn_child = true;
            continue;
        }
        if flag == "--escape-child" {
            o.escape_child = true;
            continue;
        }
        if flag == "--stderr-token" {
            o.stderr_token = true;
            continue;
        }
        if flag == "--skip-stdin" {
            o.skip_stdin = true;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| format!("flag {flag} needs a value"))?
            .clone();
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--mode" => {
                o.mode = Mode::parse(&value).ok_or_else(|| format!("unknown mode {value}"))?
            }
            "--cache-key-type" => o.cache_key_type = value,
            "--cache-duration" => o.cache_duration = Some(value),
            "--auth" => {
                let (key, cred) = value
                    .split_once('=')
                    .ok_or_else(|| format!("--auth {value}: want KEY=USER:PASS"))?;
                let (user, pass) = cred
                    .split_once(':')
                    .ok_or_else(|| format!("--auth {value}: want KEY=USER:PASS"))?;
                o.auth
                    .push((key.to_owned(), user.to_owned(), pass.to_owned()));
            }
            "--api-version" => o.api_version = Some(value),
            "--response" => o.response = Some(value),
            "--sleep-ms" => o.sleep_ms = Some(number(&value)?),
            "--trickle-ms" => o.trickle_ms = Some(number(&value)?),
            "--count-file" => o.count_file = Some(value),
            "--print-request" => o.print_request = Some(value),
            "--print-env" => o.print_env = Some(value),
            "--pid-file" => o.pid_file = Some(value),
            "--stderr" => o.stderr = Some(value),
            "--stderr-hex" => {
                let digits = value.as_bytes();
                if digits.len() % 2 != 0 {
                    return Err(format!("--stderr-hex {value}: odd length"));
                }
                let bytes = digits
                    .chunks(2)
                    .map(|pair| {
                        std::str::from_utf8(pair)
                            .ok()
                            .and_then(|p| u8::from_str_radix(p, 16).ok())
                            .ok_or_else(|| format!("--stderr-hex {value}: not hex"))
                    })
                    .collect::<Result<Vec<u8>, String>>()?;
                o.stderr_hex = Some(bytes);
            }
            "--exit" => o.exit = Some(value.parse().map_err(|e| format!("--exit {value}: {e}"))?),
            "--bytes" => {
                o.bytes = usize::try_from(number(&value)?).map_err(|e| format!("--bytes: {e}"))?
            }
            "--signal" => {
                o.signal = value
                    .parse()
                    .map_err(|e| format!("--signal {value}: {e}"))?
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(o)
}

fn append_line(path: &str, line: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    // One write per line: appends of a short line are atomic, so concurrent runs can count.
    f.write_all(format!("{line}\n").as_bytes())
}

fn other_version(v: &str) -> &'static str {
    if v == "credentialprovider.kubelet.k8s.io/v1" {
        "credentialprovider.kubelet.k8s.io/v1beta1"
    } else {
        "credentialprovider.kubelet.k8s.io/v1"
    }
}

fn build_answer(o: &Options, request: &Map<String, Value>, kind: &str, api_version: &str) -> Value {
    let image = request.get("image").and_then(Value::as_str).unwrap_or("");
    let token = request
        .get("serviceAccountToken")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut auth = BTreeMap::new();
    if o.mode == Mode::EchoToken {
        if o.auth.is_empty() {
            auth.insert(
                image.to_owned(),
                json!({"username": "user", "password": token}),
            );
        }
        for (key, user, _) in &o.auth {
            auth.insert(key.clone(), json!({"username": user, "password": token}));
        }
    } else {
        for (key, user, pass) in &o.auth {
            auth.insert(key.clone(), json!({"username": user, "password": pass}));
        }
    }
    let mut answer = Map::new();
    answer.insert("kind".into(), json!(kind));
    answer.insert("apiVersion".into(), json!(api_version));
    answer.insert("cacheKeyType".into(), json!(o.cache_key_type));
    if let Some(d) = &o.cache_duration {
        answer.insert("cacheDuration".into(), json!(d));
    }
    if !auth.is_empty() {
        answer.insert("auth".into(), json!(auth));
    }
    Value::Object(answer)
}

fn write_repeated(out: &mut dyn Write, n: usize) {
    let chunk = [b'x'; 8192];
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len());
        if out.write_all(&chunk[..k]).is_err() {
            return; // the host closed the pipe (it stopped reading): just stop
        }
        left -= k;
    }
    let _ = out.flush();
}

fn hang_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn run(o: &Options) -> Result<u8, String> {
    if let Some(p) = &o.pid_file {
        append_line(p, &std::process::id().to_string()).map_err(|e| format!("{p}: {e}"))?;
    }
    if o.spawn_child {
        let me = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut cmd = std::process::Command::new(me);
        cmd.args(["--mode", "hang", "--skip-stdin"])
            .stdin(std::process::Stdio::null());
        if let Some(p) = &o.pid_file {
            cmd.args(["--pid-file", p]);
        }
        if o.escape_child {
            use std::os::unix::process::CommandExt as _;
            // SAFETY: setsid(2) is async-signal-safe and touches no memory of the parent.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::setsid() == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        // The child inherits stdout/stderr, so the host's pipes stay open while it lives.
        cmd.spawn().map_err(|e| format!("spawn child: {e}"))?;
    }

    if o.skip_stdin && o.mode == Mode::Hang {
        hang_forever();
    }
    let mut stdin = Vec::new();
    std::io::stdin()
        .read_to_end(&mut stdin)
        .map_err(|e| format!("reading stdin: {e}"))?;
    if let Some(p) = &o.print_request {
        std::fs::write(p, &stdin).map_err(|e| format!("{p}: {e}"))?;
    }
    if let Some(p) = &o.print_env {
        let mut text = String::new();
        for (k, v) in std::env::vars_os() {
            text.push_str(&format!(
                "{}={}\n",
                k.to_string_lossy(),
                v.to_string_lossy()
            ));
        }
        std::fs::write(p, text).map_err(|e| format!("{p}: {e}"))?;
    }
    let request: Map<String, Value> = match serde_json::from_slice(&stdin) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err("request is not a JSON object".to_owned()),
        Err(e) => return Err(format!("request is not JSON: {e}")),
    };
    let image = request.get("image").and_then(Value::as_str).unwrap_or("");
    if let Some(p) = &o.count_file {
        append_line(p, image).map_err(|e| format!("{p}: {e}"))?;
    }
    if let Some(text) = &o.stderr {
        eprint!("{text}");
    }
    if let Some(bytes) = &o.stderr_hex {
        let _ = std::io::stderr().write_all(bytes);
    }
    if o.stderr_token {
        let token = request
            .get("serviceAccountToken")
            .and_then(Value::as_str)
            .unwrap_or("");
        eprint!("token was {token}");
    }
    let sleep = o.sleep_ms.or(if o.mode == Mode::Slow {
        Some(1000)
    } else {
        None
    });
    if let Some(ms) = sleep {
        std::thread::sleep(Duration::from_millis(ms));
    }

    let request_version = request
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("credentialprovider.kubelet.k8s.io/v1")
        .to_owned();
    let api_version = o.api_version.clone().unwrap_or(request_version);
    let exit = o.exit.unwrap_or(if o.mode == Mode::Fail { 1 } else { 0 });

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match o.mode {
        Mode::Hang => hang_forever(),
        Mode::Crash => {
            // SAFETY: raise has no memory-safety preconditions.
            unsafe { libc::raise(o.signal) };
            hang_forever()
        }
        Mode::Garbage => {
            let _ = out.write_all(b"this is not a credential provider response\n");
        }
        Mode::HugeStdout => write_repeated(&mut out, o.bytes),
        Mode::HugeStderr => write_repeated(&mut std::io::stderr().lock(), o.bytes),
        Mode::Fail => {}
        Mode::Ok | Mode::Slow | Mode::EchoToken | Mode::WrongApiVersion | Mode::WrongKind => {
            let text = match &o.response {
                Some(r) => r.clone(),
                None => {
                    let (kind, version) = match o.mode {
                        Mode::WrongKind => ("WrongKind", api_version.as_str()),
                        Mode::WrongApiVersion => {
                            ("CredentialProviderResponse", other_version(&api_version))
                        }
                        _ => ("CredentialProviderResponse", api_version.as_str()),
                    };
                    build_answer(o, &request, kind, version).to_string()
                }
            };
            match o.trickle_ms {
                Some(ms) => {
                    for byte in text.bytes().chain(std::iter::once(b'\n')) {
                        if out.write_all(&[byte]).and_then(|()| out.flush()).is_err() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(ms));
                    }
                }
                None => {
                    let _ = out.write_all(text.as_bytes());
                    let _ = out.write_all(b"\n");
                }
            }
        }
    }
    let _ = out.flush();
    Ok(exit)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kcred-test-plugin: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kcred-test-plugin: {e}");
            ExitCode::from(1)
        }
    }
}
