//! A human-readable account of one `provide` call: what matched, whether the cache answered,
//! how the plugin ran and what it said (never a secret).

use std::fmt;
use std::time::Duration;

use crate::cache::CacheBase;

/// Whether a `matchImages` entry matched the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchTrace {
    /// This pattern matched (the first one that did).
    Matched {
        /// The `matchImages` entry.
        pattern: String,
    },
    /// No pattern matched; one reason per pattern.
    NotMatched {
        /// `"<pattern>: <why>"` for each entry.
        reasons: Vec<String>,
    },
}

/// What the cache lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheTrace {
    /// The cache was not consulted (no match, or SA mode stopped first).
    NotChecked,
    /// Served from the cache.
    Hit {
        /// The key base the entry was under.
        base: CacheBase,
        /// Time left before it expires.
        expires_in: Duration,
    },
    /// Not in the cache.
    Miss,
}

/// How the plugin ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecTrace {
    /// Wall time of the process run.
    pub duration: Duration,
    /// True when this call joined an identical call in flight instead of running its own.
    pub joined: bool,
}

/// Whether the answer was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreTrace {
    /// Not stored (or nothing to store).
    NotStored {
        /// Why.
        reason: &'static str,
    },
    /// Stored.
    Stored {
        /// `Image`, `Registry` or `Global`.
        base: &'static str,
        /// For how long (Go duration text).
        ttl: String,
    },
}

/// The trace of one `provide` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvideTrace {
    /// The (normalised) image asked for.
    pub image: String,
    /// Match result.
    pub matched: MatchTrace,
    /// Cache result.
    pub cache: CacheTrace,
    /// True when the call waited for another image of the same registry first (kcred).
    pub waited_for_registry: bool,
    /// The plugin run, when one was needed.
    pub exec: Option<ExecTrace>,
    /// `cacheKeyType` as answered.
    pub cache_key_type: Option<String>,
    /// `cacheDuration` as answered (Go text), `None` when absent.
    pub cache_duration: Option<String>,
    /// Whether and how the answer was cached.
    pub stored: StoreTrace,
    /// The `auth` keys returned (patterns, not secrets).
    pub auth_keys: Vec<String>,
    /// The error that emptied the result, with the plugin's stderr when it failed.
    pub error: Option<String>,
}

impl ProvideTrace {
    /// A trace with nothing recorded yet.
    pub fn new(image: &str) -> Self {
        ProvideTrace {
            image: image.to_owned(),
            matched: MatchTrace::NotMatched {
                reasons: Vec::new(),
            },
            cache: CacheTrace::NotChecked,
            waited_for_registry: false,
            exec: None,
            cache_key_type: None,
            cache_duration: None,
            stored: StoreTrace::NotStored {
                reason: "no answer",
            },
            auth_keys: Vec::new(),
            error: None,
        }
    }
}

impl fmt::Display for ProvideTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.matched {
            MatchTrace::Matched { pattern } => {
                writeln!(f, "match: {pattern:?} matches {:?}", self.image)?
            }
            MatchTrace::NotMatched { reasons } => {
                writeln!(f, "match: no matchImages entry matches {:?}", self.image)?;
                for r in reasons {
                    writeln!(f, "  {r}")?;
                }
            }
        }
        match self.cache {
            CacheTrace::NotChecked => {}
            CacheTrace::Hit { base, expires_in } => writeln!(
                f,
                "cache: hit ({} key, expires in {})",
                base.as_str(),
                kcred_api::GoDuration(i64::try_from(expires_in.as_nanos()).unwrap_or(i64::MAX))
            )?,
            CacheTrace::Miss => writeln!(f, "cache: miss")?,
        }
        if self.waited_for_registry {
            writeln!(f, "waited for an in-flight call for the same registry")?;
        }
        if let Some(e) = &self.exec {
            let d = kcred_api::GoDuration(i64::try_from(e.duration.as_nanos()).unwrap_or(i64::MAX));
            if e.joined {
                writeln!(f, "exec: joined an identical call in flight ({d})")?;
            } else {
                writeln!(f, "exec: plugin ran for {d}")?;
            }
        }
        if let Some(t) = &self.cache_key_type {
            writeln!(f, "cacheKeyType: {t}")?;
        }
        if self.exec.is_some() {
            match &self.cache_duration {
                Some(d) => writeln!(f, "cacheDuration: {d}")?,
                None if self.error.is_none() => {
                    writeln!(f, "cacheDuration: (absent: defaultCacheDuration)")?
                }
                None => {}
            }
            match &self.stored {
                StoreTrace::Stored { base, ttl } => {
                    writeln!(f, "cached: under the {base} key for {ttl}")?
                }
                StoreTrace::NotStored { reason } if self.error.is_none() => {
                    writeln!(f, "not cached: {reason}")?
                }
                StoreTrace::NotStored { .. } => {}
            }
        }
        if !self.auth_keys.is_empty() {
            writeln!(f, "auth keys: {}", self.auth_keys.join(", "))?;
        }
        if let Some(e) = &self.error {
            writeln!(f, "error: {e}")?;
        }
        Ok(())
    }
}
