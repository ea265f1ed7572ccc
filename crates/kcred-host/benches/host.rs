//! Host benchmarks (filled in below).
fn main() {}
