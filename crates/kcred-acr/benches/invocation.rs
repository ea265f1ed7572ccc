//! Benchmarks of the per-invocation work: the no-network service-principal path (config parse,
//! request decode, response encode) and the login-server parser. Whole-process time and memory
//! of the binary are measured separately (docs/acr.md).

use criterion::{criterion_group, criterion_main, Criterion};
use kcred_acr::{
    decode_request, encode_response, parse_azure_config, parse_login_server, AcrProvider,
    AcrSuffixes, ProviderOptions, RegistryMirrors,
};

fn bench(c: &mut Criterion) {
    let request = br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"foo.azurecr.io/nginx:v1"}"#;
    let config = br#"{"cloud":"AzurePublicCloud","tenantId":"t","aadClientId":"foo","aadClientSecret":"bar","subscriptionId":"s","cloudProviderRateLimitQPS":10}"#;
    c.bench_function("sp_path_in_process", |b| {
        b.iter(|| {
            let cfg = parse_azure_config(config).unwrap();
            let provider = AcrProvider::new(
                cfg,
                ProviderOptions {
                    scope: kcred_acr::DEFAULT_AAD_SCOPE.into(),
                    ..Default::default()
                },
            )
            .unwrap();
            let req = decode_request(request).unwrap();
            encode_response(&provider.provide(&req).unwrap())
        })
    });
    let (mirrors, _) = RegistryMirrors::parse("mcr.microsoft.com:abc.azurecr.io");
    let suffixes = AcrSuffixes::new("azurecr.io");
    c.bench_function("parse_login_server", |b| {
        b.iter(|| {
            parse_login_server(
                std::hint::black_box("foo.eastus2.geo.azurecr.io/team/app:v1"),
                &mirrors,
                &suffixes,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
