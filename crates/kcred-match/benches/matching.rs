//! One image against 1,000 `matchImages` patterns: pre-parsed (`MatchImage::matches`) versus
//! the kubelet's way (`urls_match_str`, which parses both strings on every comparison), and a
//! keyring lookup over 1,000 keys. Throughput is per pattern, so criterion's "elem/s" gives
//! the cost of one comparison.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kcred_match::keyring::{DockerConfig, DockerConfigEntry, DockerKeyring};
use kcred_match::pattern::{urls_match_str, MatchImage, MatchTarget};

const PATTERNS: usize = 1_000;
const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team-7/app";

/// A realistic mix of cloud-registry globs, plain hosts, hosts with ports and paths; only
/// the last one matches [`IMAGE`].
fn patterns() -> Vec<String> {
    let mut patterns: Vec<String> = (1..PATTERNS)
        .map(|i| match i % 5 {
            0 => format!("*.dkr.ecr.region-{i}.amazonaws.com"),
            1 => format!("registry-{i}.example.com/team-{i}"),
            2 => format!("*.registry-{i}.io:5000"),
            3 => format!("{i}-docker.pkg.dev"),
            _ => format!("*.azurecr-{i}.io"),
        })
        .collect();
    patterns.push("*.dkr.ecr.*.amazonaws.com".to_owned());
    patterns
}

fn bench_matching(c: &mut Criterion) {
    let pattern_strings = patterns();
    let parsed: Vec<MatchImage> = pattern_strings
        .iter()
        .map(|p| MatchImage::parse(p).expect("bench patterns parse"))
        .collect();
    let target = MatchTarget::parse(IMAGE).expect("bench image parses");
    assert_eq!(parsed.iter().filter(|p| p.matches(&target)).count(), 1);

    let mut group = c.benchmark_group("one image vs 1000 patterns");
    group.throughput(Throughput::Elements(PATTERNS as u64));
    group.bench_function("pre-parsed MatchImage::matches", |b| {
        b.iter(|| {
            let target = black_box(&target);
            parsed.iter().filter(|p| p.matches(target)).count()
        })
    });
    group.bench_function("kubelet way: urls_match_str", |b| {
        b.iter(|| {
            let image = black_box(IMAGE);
            pattern_strings
                .iter()
                .filter(|p| urls_match_str(p, image) == Ok(true))
                .count()
        })
    });
    group.finish();
}

fn bench_keyring(c: &mut Criterion) {
    let cfg: DockerConfig = patterns()
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let entry = DockerConfigEntry {
                username: format!("user-{i}"),
                ..Default::default()
            };
            (format!("https://{p}"), entry)
        })
        .collect();
    let mut keyring = DockerKeyring::new();
    assert!(keyring.add(None, &cfg).is_empty());
    assert_eq!(keyring.len(), PATTERNS);
    assert_eq!(keyring.lookup(IMAGE).len(), 1);

    let mut group = c.benchmark_group("keyring");
    group.throughput(Throughput::Elements(PATTERNS as u64));
    group.bench_function("lookup over 1000 keys", |b| {
        b.iter(|| keyring.lookup(black_box(IMAGE)))
    });
    group.finish();
}

criterion_group!(benches, bench_matching, bench_keyring);
criterion_main!(benches);
