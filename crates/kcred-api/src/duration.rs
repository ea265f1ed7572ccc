//! Go `time.Duration`: `time.ParseDuration` and `Duration.String`, exactly.

/// A Go duration in nanoseconds (may be negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GoDuration(pub i64);
