//! The per-provider expiring store (kubernetes/kubernetes
//! `pkg/credentialprovider/plugin/plugin.go`, `getCachedCredentials`): the kubelet's `cache.NewExpirationStore` with
//! `cacheEntry`, the 15-minute purge and the image → registry → global lookup walk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::key::{parse_registry, CacheKey, KeyTooLong, ServiceAccountCacheKey, GLOBAL_CACHE_KEY};
use crate::clock::Clock;

/// How often a lookup first drops every expired entry.
pub const CACHE_PURGE_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// Which base of the lookup walk an entry was found under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheBase {
    /// `key(image, saKey)`
    Image,
    /// `key(parseRegistry(image), saKey)`
    Registry,
    /// `key("<global>", saKey)`
    Global,
}

impl CacheBase {
    /// `Image`, `Registry` or `Global`.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheBase::Image => "Image",
            CacheBase::Registry => "Registry",
            CacheBase::Global => "Global",
        }
    }
}

/// A value found by [`ProviderCache::lookup`].
#[derive(Debug, Clone)]
pub struct CacheHit<V> {
    /// The cached value.
    pub value: V,
    /// The base it was stored under.
    pub base: CacheBase,
    /// When it expires.
    pub expires_at: Instant,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    expires_at: Instant,
}

#[derive(Debug)]
struct State<V> {
    entries: HashMap<CacheKey, Entry<V>>,
    last_purge: Instant,
}

/// One provider's cache. Safe for concurrent use; every operation is a short critical section.
#[derive(Debug)]
pub struct ProviderCache<V> {
    clock: Arc<dyn Clock>,
    state: Mutex<State<V>>,
    /// The global key of the lookup walk (`<global>` from 1.34, `global` before).
    global_key: &'static str,
}

impl<V: Clone> ProviderCache<V> {
    /// An empty cache; the purge timer starts now.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        ProviderCache {
            clock,
            state: Mutex::new(State {
                entries: HashMap::new(),
                last_purge: now,
            }),
            global_key: GLOBAL_CACHE_KEY,
        }
    }

    /// Uses `key` as the global key of the lookup walk (a kubelet before 1.34: `global`).
    pub fn with_global_key(mut self, key: &'static str) -> Self {
        self.global_key = key;
        self
    }

    fn lock(&self) -> MutexGuard<'_, State<V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The clock's current instant.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Stores `value` under `key` until `expires_at`, replacing any entry.
    pub fn insert(&self, key: CacheKey, value: V, expires_at: Instant) {
        self.lock().entries.insert(key, Entry { value, expires_at });
    }

    /// Stores `value` for `ttl_nanos` from now (a negative duration is stored already expired).
    /// Returns the expiry instant.
    pub fn insert_for(&self, key: CacheKey, value: V, ttl_nanos: i64) -> Instant {
        let now = self.clock.now();
        let magnitude = Duration::from_nanos(ttl_nanos.unsigned_abs());
        let expires_at = if ttl_nanos >= 0 {
            now.checked_add(magnitude)
                .unwrap_or(now + Duration::from_secs(100 * 365 * 86_400))
        } else {
            now.checked_sub(magnitude).unwrap_or(now)
        };
        self.insert(key, value, expires_at);
        expires_at
    }

    /// `GetByKey`: the unexpired value; an expired entry is deleted (`now > expiresAt`).
    pub fn get(&self, key: &CacheKey) -> Option<(V, Instant)> {
        let now = self.clock.now();
        let mut state = self.lock();
        let expired = now > state.entries.get(key)?.expires_at;
        if expired {
            state.entries.remove(key);
            return None;
        }
        state
            .entries
            .get(key)
            .map(|e| (e.value.clone(), e.expires_at))
    }

    /// Drops every expired entry (the store's `List`).
    pub fn purge_expired(&self) {
        let now = self.clock.now();
        self.lock().entries.retain(|_, e| now <= e.expires_at);
    }

    /// `getCachedCredentials`: purge if due, then try the image, registry and global keys.
    pub fn lookup(
        &self,
        image: &str,
        sa_key: &ServiceAccountCacheKey,
    ) -> Result<Option<CacheHit<V>>, KeyTooLong> {
        {
            let now = self.clock.now();
            let mut state = self.lock();
            if now > state.last_purge + CACHE_PURGE_INTERVAL {
                state.entries.retain(|_, e| now <= e.expires_at);
                state.last_purge = now;
            }
        }
        let walk = [
            (image, CacheBase::Image),
            (parse_registry(image), CacheBase::Registry),
            (self.global_key, CacheBase::Global),
        ];
        for (base_text, base) in walk {
            let key = CacheKey::new(base_text, sa_key)?;
            if let Some((value, expires_at)) = self.get(&key) {
                return Ok(Some(CacheHit {
                    value,
                    base,
                    expires_at,
                }));
            }
        }
        Ok(None)
    }

    /// How many entries are stored (expired ones included until removed).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every stored key, sorted (for tests and diagnostics).
    pub fn keys(&self) -> Vec<CacheKey> {
        let mut keys: Vec<CacheKey> = self.lock().entries.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// Removes everything.
    pub fn clear(&self) {
        self.lock().entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

    fn key(base: &str) -> CacheKey {
        CacheKey::new(base, &ServiceAccountCacheKey::empty()).unwrap()
    }

    #[test]
    fn expiry_is_strictly_after() {
        let clock = Arc::new(FakeClock::new());
        let cache = ProviderCache::new(clock.clone());
        cache.insert(key("a"), 1, clock.now() + Duration::from_secs(1));
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            cache.get(&key("a")).map(|v| v.0),
            Some(1),
            "now == expiresAt is not expired"
        );
        clock.advance(Duration::from_nanos(1));
        assert_eq!(cache.get(&key("a")), None);
        assert!(cache.is_empty(), "expired get deletes");
    }

    #[test]
    fn lookup_walks_image_registry_global() {
        let clock = Arc::new(FakeClock::new());
        let cache = ProviderCache::new(clock.clone());
        let later = clock.now() + Duration::from_secs(60);
        cache.insert(key("<global>"), "g", later);
        let sa = ServiceAccountCacheKey::empty();
        let hit = cache.lookup("r.io/x", &sa).unwrap().unwrap();
        assert_eq!((hit.value, hit.base), ("g", CacheBase::Global));
        cache.insert(key("r.io"), "r", later);
        let hit = cache.lookup("r.io/x", &sa).unwrap().unwrap();
        assert_eq!((hit.value, hit.base), ("r", CacheBase::Registry));
        cache.insert(key("r.io/x"), "i", later);
        let hit = cache.lookup("r.io/x", &sa).unwrap().unwrap();
        assert_eq!((hit.value, hit.base), ("i", CacheBase::Image));
    }

    #[test]
    fn negative_ttl_is_stored_expired() {
        let clock = Arc::new(FakeClock::new());
        let cache = ProviderCache::new(clock.clone());
        cache.insert_for(key("a"), 1, -1_000_000_000);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&key("a")), None);
    }
}
