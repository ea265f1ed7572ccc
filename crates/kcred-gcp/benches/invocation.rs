//! Cost of one `auth-provider-gcp get-credentials` in-process: flags, request decoding,
//! the two metadata round-trips to a loopback stub, response encoding; plus the pure
//! parsers on their own. (Process start-up and peak RSS of the real binary are measured
//! with `/usr/bin/time -v`; see docs/gcp.md.)

#[path = "../tests/gcp/support/mod.rs"]
mod support;

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion};
use kcred_gcp::{decode_request, parse_dockercfg};

fn invocation(c: &mut Criterion) {
    let metadata = support::node_sa_metadata("ya29.bench-token", 3599);
    let env: BTreeMap<String, String> = support::stub_env(&metadata, None).into_iter().collect();
    let lookup = move |k: &str| env.get(k).cloned();
    let stdin = support::request("us-docker.pkg.dev/project/repo/image");
    c.bench_function("get_credentials_node_sa_against_stub", |b| {
        b.iter(|| {
            let out = kcred_gcp::run(&["get-credentials"], &lookup, &mut &stdin[..]);
            assert_eq!(out.exit_code, 0);
            out
        })
    });
}

fn parsers(c: &mut Criterion) {
    let stdin = support::request("us-docker.pkg.dev/project/repo/image");
    c.bench_function("decode_request", |b| b.iter(|| decode_request(&stdin)));
    let cfg = br#"{"https://hello.kubernetes.io": {"email": "foo@bar.baz", "auth": "Zm9vOmJhcg=="}, "other.example": {"username": "u", "password": "p"}}"#;
    c.bench_function("parse_dockercfg", |b| b.iter(|| parse_dockercfg(cfg)));
}

criterion_group!(benches, invocation, parsers);
criterion_main!(benches);
