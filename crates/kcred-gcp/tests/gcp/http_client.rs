//! The HTTP client in-process: per-call timeout and upstream's 10 MiB body limit.

use std::time::{Duration, Instant};

use crate::support::*;
use kcred_gcp::{read_url, HttpClient, HttpError, ReadUrlError, TrustRoots, MAX_BODY_BYTES};

#[test]
fn every_call_is_bounded_by_the_timeout() {
    let slow = StubServer::start(|_| Reply::new(200, "late").delayed(Duration::from_secs(3)));
    let client = HttpClient::new(Duration::from_millis(300), TrustRoots::default());
    let started = Instant::now();
    let err = client.get(&format!("{}/x", slow.base()), &[]).unwrap_err();
    // Bounded well below the server's delay (no exact timing asserted).
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    match &err {
        HttpError::Transport { method, url, .. } => {
            assert_eq!(*method, "Get");
            assert_eq!(url, &format!("{}/x", slow.base()));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().to_lowercase().contains("timeout"), "{err}");
}

#[test]
fn body_limit_is_upstreams() {
    let server = StubServer::start(|req| {
        let n = if req.path() == "/big" {
            MAX_BODY_BYTES
        } else {
            MAX_BODY_BYTES - 1
        };
        Reply::new(200, vec![b'x'; n])
    });
    let client = HttpClient::new(Duration::from_secs(10), TrustRoots::default());
    let ok = read_url(&client, &format!("{}/almost", server.base()), &[]).unwrap();
    assert_eq!(ok.len(), MAX_BODY_BYTES - 1);
    let err = read_url(&client, &format!("{}/big", server.base()), &[]).unwrap_err();
    assert!(matches!(err, ReadUrlError::Http(HttpError::ReadLimit)));
    assert_eq!(err.to_string(), "the read limit is reached");
}

#[test]
fn non_200_is_upstreams_http_error() {
    let server = StubServer::start(|_| Reply::new(503, "busy"));
    let client = HttpClient::new(Duration::from_secs(10), TrustRoots::default());
    let url = format!("{}/computeMetadata/v1/x", server.base());
    let err = read_url(&client, &url, &[("Metadata-Flavor", "Google")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("http status code: 503 while fetching url {url}")
    );
    // Errors about URLs with a query never show it.
    let err = read_url(&client, &format!("{url}?sig=abc"), &[])
        .unwrap_err()
        .redacted();
    assert!(!err.to_string().contains("sig=abc"), "{err}");
}
