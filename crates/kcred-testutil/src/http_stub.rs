//! The workspace's one HTTP/1.1 stub server on loopback for tests (std only).
//!
//! Each connection serves one request and closes (`Connection: close`). Request bodies may
//! be sent with `Content-Length` or `Transfer-Encoding: chunked`; a response may be delayed
//! ([`StubResponse::delayed`]) to exercise client timeouts. TLS is the caller's: pass a `wrap`
//! function that turns the accepted `TcpStream` into any `Read + Write` stream (for example a
//! rustls server stream; an `Err` drops the connection, as a failed handshake does), or use
//! [`StubServer::start_plain`]. Every request is recorded in order; the server stops (and its
//! thread ends) when dropped.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A stream a connection can be served over.
pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// One received request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target (`/path?query`).
    pub target: String,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The TLS client certificate (DER) the connection presented and the server's TLS layer
    /// verified, for servers started with [`StubServer::start_with_peer`].
    pub peer_certificate: Option<Vec<u8>>,
}

impl StubRequest {
    /// The path (target without the query).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The first value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Decoded query parameters in order.
    pub fn query(&self) -> Vec<(String, String)> {
        self.target
            .split_once('?')
            .map(|(_, q)| decode_form(q))
            .unwrap_or_default()
    }

    /// Decoded `application/x-www-form-urlencoded` body in order.
    pub fn form(&self) -> Vec<(String, String)> {
        decode_form(&String::from_utf8_lossy(&self.body))
    }

    /// The first value of `name` in the query, then the form.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query()
            .into_iter()
            .chain(self.form())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// A response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubResponse {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// How long to wait before answering (zero: at once).
    pub delay: Duration,
}

impl StubResponse {
    /// `status` with `body` and no extra headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> StubResponse {
        StubResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// The same response, sent after `delay` (for client timeout tests).
    pub fn delayed(mut self, delay: Duration) -> StubResponse {
        self.delay = delay;
        self
    }

    /// A JSON response.
    pub fn json(status: u16, body: impl Into<String>) -> StubResponse {
        StubResponse {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: body.into().into_bytes(),
            delay: Duration::ZERO,
        }
    }

    /// A plain-text response.
    pub fn text(status: u16, body: impl Into<String>) -> StubResponse {
        StubResponse {
            status,
            headers: vec![("Content-Type".to_owned(), "text/plain".to_owned())],
            body: body.into().into_bytes(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> StubResponse {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one form component (`+` is a space).
pub fn decode_component(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (
                    b.get(i + 1).copied().and_then(hex_val),
                    b.get(i + 2).copied().and_then(hex_val),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes `k=v&k2=v2`.
pub fn decode_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

type Handler = dyn Fn(&StubRequest) -> StubResponse + Send + Sync;
/// A connection's stream, and the client certificate its TLS layer verified.
pub type PeerStream = (Box<dyn Stream>, Option<Vec<u8>>);
type Wrap = dyn Fn(TcpStream) -> io::Result<PeerStream> + Send + Sync;

/// A running stub server.
pub struct StubServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<StubRequest>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn read_request(stream: &mut dyn Stream) -> io::Result<StubRequest> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(&mut reader)?
    } else {
        let len = header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body)?;
        body
    };
    Ok(StubRequest {
        method,
        target,
        headers,
        body,
        peer_certificate: None,
    })
}

/// A `Transfer-Encoding: chunked` body (chunk extensions and trailers ignored).
fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = size.trim().split(';').next().unwrap_or("");
        let n = usize::from_str_radix(size, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        let mut chunk = vec![0u8; n + 2];
        reader.read_exact(&mut chunk)?;
        if n == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn serve_one(
    stream: TcpStream,
    wrap: &Wrap,
    handler: &Handler,
    requests: &Mutex<Vec<StubRequest>>,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let (mut stream, peer_certificate) = wrap(stream)?;
    let req = StubRequest {
        peer_certificate,
        ..read_request(&mut *stream)?
    };
    let resp = handler(&req);
    requests.lock().unwrap_or_else(|e| e.into_inner()).push(req);
    if !resp.delay.is_zero() {
        std::thread::sleep(resp.delay);
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        resp.body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(&resp.body)?;
    stream.flush()
}

impl StubServer {
    /// Starts a server on `127.0.0.1:0` whose connections go through `wrap`.
    pub fn start(
        wrap: impl Fn(TcpStream) -> io::Result<Box<dyn Stream>> + Send + Sync + 'static,
        handler: impl Fn(&StubRequest) -> StubResponse + Send + Sync + 'static,
    ) -> StubServer {
        Self::start_with_peer(move |s| wrap(s).map(|stream| (stream, None)), handler)
    }

    /// [`StubServer::start`] for a `wrap` that also returns the client certificate its TLS
    /// layer verified; each request carries it in [`StubRequest::peer_certificate`].
    pub fn start_with_peer(
        wrap: impl Fn(TcpStream) -> io::Result<PeerStream> + Send + Sync + 'static,
        handler: impl Fn(&StubRequest) -> StubResponse + Send + Sync + 'static,
    ) -> StubServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let wrap: Arc<Wrap> = Arc::new(wrap);
        let handler: Arc<Handler> = Arc::new(handler);
        let (reqs, stop2) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (wrap, handler, reqs) = (wrap.clone(), handler.clone(), reqs.clone());
                std::thread::spawn(move || {
                    let _ = serve_one(conn, &*wrap, &*handler, &reqs);
                });
            }
        });
        StubServer {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Starts a plain-HTTP server.
    pub fn start_plain(
        handler: impl Fn(&StubRequest) -> StubResponse + Send + Sync + 'static,
    ) -> StubServer {
        Self::start(|s| Ok(Box::new(s) as Box<dyn Stream>), handler)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<StubRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_and_records() {
        let server = StubServer::start_plain(|r| {
            StubResponse::text(200, format!("{} {}", r.method, r.path()))
        });
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"POST /a?x=1%202 HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\nk=v+w%21")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.ends_with("POST /a"));
        let reqs = server.requests();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].query(), vec![("x".to_owned(), "1 2".to_owned())]);
        assert_eq!(reqs[0].form(), vec![("k".to_owned(), "v w!".to_owned())]);
        assert_eq!(reqs[0].header("HOST"), Some("h"));
    }

    #[test]
    fn reads_chunked_bodies_and_delays() {
        let server = StubServer::start_plain(|r| {
            StubResponse::new(201, r.body.clone())
                .with_header("X-A", "b")
                .delayed(Duration::from_millis(20))
        });
        assert!(server.base().starts_with("http://127.0.0.1:"));
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(
            out.starts_with("HTTP/1.1 201 Created\r\nX-A: b\r\n"),
            "{out}"
        );
        assert!(out.ends_with("\r\n\r\nabcde"), "{out}");
        assert_eq!(server.requests()[0].body, b"abcde");
    }
}
