//! `generateCacheKey` / `cacheEntry`: byte-exact keys ([`key`]) and the per-provider
//! expiring store ([`store`]).

pub mod key;
pub mod store;

pub use key::{
    parse_registry, single_flight_key, CacheKey, KeyTooLong, ServiceAccountCacheKey,
    ServiceAccountKeyParts, GLOBAL_CACHE_KEY,
};
pub use store::{CacheBase, CacheHit, ProviderCache, CACHE_PURGE_INTERVAL};
