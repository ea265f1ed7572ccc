//! Bench (prints numbers; not a test): round trips of a form `POST` and a `GET` against a
//! loopback server that answers each request in two writes (head, then body) with Nagle's
//! algorithm on, as issue 12 item 9's stub did. Compares kcred-http's transport
//! (`TCP_NODELAY`, one write per request) with a plain ureq agent (what the ACR plugin used
//! before: head and body in separate writes) with and without `TCP_NODELAY`.
//!
//! `cargo run --release -p kcred-http --example two_writes [ROUNDS]`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use kcred_http::{ClientSettings, HttpRequest, Transport, UreqTransport};

fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut out = stream;
    loop {
        let mut len = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let reply = br#"{"access_token":"x","refresh_token":"y","expires_in":"3600"}"#;
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(reply).is_err() {
            return;
        }
    }
}

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    let p50 = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    println!(
        "{name:<44} mean {:>7.2} ms  p50 {:>7.2} ms  p99 {:>7.2} ms",
        mean.as_secs_f64() * 1e3,
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    let url = format!("http://{addr}/oauth2/exchange");
    let form = b"grant_type=access_token&service=myacr.azurecr.io&tenant=t&access_token=eyJ.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    let kcred = UreqTransport::new(ClientSettings::new(Duration::from_secs(10)));
    let plain = |no_delay: bool| -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .no_delay(no_delay)
            .build()
            .into()
    };
    for (name, agent) in [
        ("ureq, TCP_NODELAY, head and body apart", Some(plain(true))),
        ("ureq, Nagle on, head and body apart", Some(plain(false))),
        ("kcred-http (TCP_NODELAY, one write)", None),
    ] {
        for method in ["POST", "GET"] {
            let mut samples = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                let t = Instant::now();
                match (&agent, method) {
                    (Some(a), "POST") => {
                        let mut r = a
                            .post(&url)
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .send(&form[..])
                            .expect("post");
                        r.body_mut().read_to_vec().expect("body");
                    }
                    (Some(a), _) => {
                        let mut r = a.get(&url).call().expect("get");
                        r.body_mut().read_to_vec().expect("body");
                    }
                    (None, "POST") => {
                        kcred
                            .send(&HttpRequest {
                                headers: &[("Content-Type", "application/x-www-form-urlencoded")],
                                ..HttpRequest::post(&url, form)
                            })
                            .expect("post");
                    }
                    (None, _) => {
                        kcred.send(&HttpRequest::get(&url)).expect("get");
                    }
                }
                samples.push(t.elapsed());
            }
            stats(&format!("{method} {name}"), samples);
        }
    }
}
