//! Decoding and encoding costs on the kubelet's hot paths: every plugin exec encodes a
//! request and decodes a response; config files are decoded at startup and on reload.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kcred_api::request::CredentialProviderRequest;
use kcred_api::response::CredentialProviderResponse;
use kcred_api::{decode_config, ApiVersion, GoDuration, Secret};

const RESPONSE: &[u8] = br#"{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"10m0s","auth":{"*.registry.io":{"username":"user","password":"password"}}}
"#;

const CONFIG_YAML: &str = "kind: CredentialProviderConfig
apiVersion: kubelet.config.k8s.io/v1
providers:
  - name: ecr-credential-provider
    matchImages:
      - \"*.dkr.ecr.*.amazonaws.com\"
      - \"*.dkr.ecr.*.amazonaws.com.cn\"
    defaultCacheDuration: 12h
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    args: [get-credentials]
    env:
      - name: AWS_PROFILE
        value: default
";

fn benches(c: &mut Criterion) {
    c.bench_function("response_decode_v1", |b| {
        b.iter(|| CredentialProviderResponse::decode(black_box(RESPONSE), ApiVersion::V1))
    });
    let mut request = CredentialProviderRequest::new(
        ApiVersion::V1,
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
    );
    request.service_account_token = Some(Secret::new("eyJhbGciOiJSUzI1NiJ9.payload.signature"));
    c.bench_function("request_encode_v1", |b| {
        b.iter(|| black_box(&request).encode())
    });
    c.bench_function("config_decode_yaml", |b| {
        b.iter(|| decode_config(black_box(CONFIG_YAML.as_bytes())))
    });
    let json = decode_config(CONFIG_YAML.as_bytes())
        .map(|c| c.encode_v1())
        .unwrap_or_default();
    c.bench_function("config_decode_json", |b| {
        b.iter(|| decode_config(black_box(&json)))
    });
    c.bench_function("duration_parse", |b| {
        b.iter(|| GoDuration::parse(black_box("1h2m3.5s")))
    });
}

criterion_group!(decode, benches);
criterion_main!(decode);
