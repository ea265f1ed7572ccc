//! Per-request CPU work outside the network: image → registry classification, token
//! decoding and the cache duration. (Whole-process time against the emulator is measured
//! separately; see docs/ecr.md.)

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use kcred_api::Secret;
use kcred_ecr::{cache_duration, decode_authorization_token, Registry};

fn bench(c: &mut Criterion) {
    let images = [
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app:v1",
        "123456789012.dkr-ecr-fips.us-gov-east-1.on.aws/team/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        "public.ecr.aws/eks-distro/kubernetes/pause:3.9",
        "registry.k8s.io/pause:3.9",
    ];
    c.bench_function("registry_from_image", |b| {
        b.iter(|| {
            for image in images {
                black_box(Registry::from_image(black_box(image)).ok());
            }
        })
    });
    let token = Secret::new("QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu");
    c.bench_function("decode_authorization_token", |b| {
        b.iter(|| black_box(decode_authorization_token(black_box(&token)).ok()))
    });
    let now = SystemTime::now();
    c.bench_function("cache_duration", |b| {
        b.iter(|| black_box(cache_duration(Some(now + Duration::from_secs(43_200)), now)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
