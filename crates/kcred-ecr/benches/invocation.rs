//! Whole-process cost of one plugin invocation against moto on loopback: spawn the binary,
//! write the request, read the response (ECR `GetAuthorizationToken` with static keys).
//! Peak memory is not measurable here; docs/ecr.md gives `/usr/bin/time -f %M` numbers.
//!
//! Skipped (with a message) when moto is not installed.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use kcred_testutil::moto::MotoServer;

const PLUGIN: &str = env!("CARGO_BIN_EXE_ecr-credential-provider");
const REQUEST: &str = r#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app"}"#;

fn invoke(endpoint: &str) {
    let mut child = Command::new(PLUGIN)
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL_ECR", endpoint)
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("plugin starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(REQUEST.as_bytes())
        .expect("write request");
    let out = child.wait_with_output().expect("plugin runs");
    assert!(out.status.success(), "the plugin failed");
    assert!(out
        .stdout
        .starts_with(b"{\"kind\":\"CredentialProviderResponse\""));
}

fn bench(c: &mut Criterion) {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let endpoint = moto.endpoint();
    invoke(&endpoint); // warm moto's ECR backend
    let mut group = c.benchmark_group("ecr-credential-provider");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("one_invocation_against_moto", |b| {
        b.iter(|| invoke(&endpoint))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
