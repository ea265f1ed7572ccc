//! Registry-wide request coalescing (kcred only; the kubelet does not do this).
//!
//! The kubelet's singleflight is keyed by image, so concurrent pulls of *different* images
//! from one registry each exec the plugin even when the plugin answers with a `Registry`
//! or `Global` cacheKeyType (a known caveat in `plugin.go`). kcred remembers, per provider,
//! the scope a registry last answered with. While it is unknown or shared (Registry/Global
//! and cached), a cache miss for another image of that registry waits for the call in
//! flight, then re-checks the cache. A waiter waits at most once, so an answer with
//! `Image` scope or a zero cache duration costs at most one extra exec latency, and after
//! an `Image` answer the registry is not serialized again.
//!
//! When the leading call fails (an error, a crash, the timeout), its waiters share that
//! failure instead of running the plugin themselves: otherwise a waiter would wait one
//! timeout for the leader and then another for its own run (issue 12, defect 7). A
//! coalesced lookup that fails therefore takes at most one plugin timeout. Failures are
//! never cached, so the next lookup runs the plugin again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use crate::provider::ProvideFailure;

/// What a registry's answers are known to cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistryScope {
    /// No answer seen yet.
    #[default]
    Unknown,
    /// The last answer was cached for the whole registry (or globally): coalesce.
    Shared,
    /// The last answer was per image or not cached: do not coalesce.
    PerImage,
}

#[derive(Debug)]
struct Flight {
    id: u64,
    leader_key: Vec<u8>,
    done: watch::Receiver<FlightEnd>,
}

/// How the leading call of a registry ended, as its waiters see it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FlightEnd {
    /// Still running.
    #[default]
    Running,
    /// It finished with an answer, or was abandoned (its future dropped): re-check the
    /// cache and run the plugin if it holds nothing for this image.
    Finished,
    /// It failed: the waiters share the failure and do not run the plugin.
    Failed {
        /// The image the leader was asked about.
        image: String,
        /// The leader's failure.
        error: ProvideFailure,
    },
}

#[derive(Debug, Default)]
struct State {
    scopes: HashMap<String, RegistryScope>,
    flights: HashMap<Vec<u8>, Flight>,
}

/// What a caller that missed the cache should do.
#[derive(Debug)]
pub enum Admission<'a> {
    /// Exec (through the singleflight); other images of the registry wait for this call
    /// until the guard is dropped.
    Lead(FlightGuard<'a>),
    /// Wait for the call in flight with this (see [`wait_for_leader`]).
    Wait(watch::Receiver<FlightEnd>),
    /// Go straight to the singleflight (per-image scope, or the same key as the leader).
    Bypass,
}

/// The per-provider registry coalescing state.
#[derive(Debug, Default)]
pub struct RegistryFlights {
    state: Mutex<State>,
    next_id: AtomicU64,
}

impl RegistryFlights {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides how a cache miss for `flight_key` (the singleflight key) of `registry`
    /// proceeds; `flight_scope` groups requests that can share an answer (the registry's
    /// cache key, which includes the service-account key).
    pub fn admit(&self, registry: &str, flight_scope: &[u8], flight_key: &[u8]) -> Admission<'_> {
        let mut state = self.lock();
        if state.scopes.get(registry).copied().unwrap_or_default() == RegistryScope::PerImage {
            return Admission::Bypass;
        }
        if let Some(flight) = state.flights.get(flight_scope) {
            if flight.leader_key == flight_key {
                return Admission::Bypass;
            }
            return Admission::Wait(flight.done.clone());
        }
        let (tx, rx) = watch::channel(FlightEnd::Running);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        state.flights.insert(
            flight_scope.to_vec(),
            Flight {
                id,
                leader_key: flight_key.to_vec(),
                done: rx,
            },
        );
        Admission::Lead(FlightGuard {
            flights: self,
            scope_key: flight_scope.to_vec(),
            id,
            done: tx,
            failure: None,
        })
    }

    /// Remembers what the last answer for `registry` covered.
    pub fn record(&self, registry: &str, scope: RegistryScope) {
        self.lock().scopes.insert(registry.to_owned(), scope);
    }

    /// The remembered scope of `registry`.
    pub fn scope(&self, registry: &str) -> RegistryScope {
        self.lock()
            .scopes
            .get(registry)
            .copied()
            .unwrap_or_default()
    }
}

/// Held by the leading call; dropping it releases the waiters.
#[derive(Debug)]
pub struct FlightGuard<'a> {
    flights: &'a RegistryFlights,
    scope_key: Vec<u8>,
    id: u64,
    done: watch::Sender<FlightEnd>,
    failure: Option<(String, ProvideFailure)>,
}

impl FlightGuard<'_> {
    /// Records that the leading call for `image` failed with `error`: the waiters get
    /// [`FlightEnd::Failed`] when the guard is dropped.
    pub fn fail(&mut self, image: &str, error: ProvideFailure) {
        self.failure = Some((image.to_owned(), error));
    }
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.flights.lock();
        if state
            .flights
            .get(&self.scope_key)
            .is_some_and(|f| f.id == self.id)
        {
            state.flights.remove(&self.scope_key);
        }
        drop(state);
        let end = match self.failure.take() {
            Some((image, error)) => FlightEnd::Failed { image, error },
            None => FlightEnd::Finished,
        };
        let _ = self.done.send(end);
    }
}

/// Waits until the leading call is over and says how it ended (never
/// [`FlightEnd::Running`]; a vanished sender counts as [`FlightEnd::Finished`]).
pub async fn wait_for_leader(mut done: watch::Receiver<FlightEnd>) -> FlightEnd {
    match done.wait_for(|end| *end != FlightEnd::Running).await {
        Ok(end) => end.clone(),
        Err(_) => FlightEnd::Finished,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn second_image_waits_for_leader_and_same_key_bypasses() {
        let flights = RegistryFlights::new();
        let guard = match flights.admit("r.io", b"scope", b"r.io/a") {
            Admission::Lead(g) => g,
            other => panic!("expected Lead, got {other:?}"),
        };
        assert!(matches!(
            flights.admit("r.io", b"scope", b"r.io/a"),
            Admission::Bypass
        ));
        let rx = match flights.admit("r.io", b"scope", b"r.io/b") {
            Admission::Wait(rx) => rx,
            other => panic!("expected Wait, got {other:?}"),
        };
        let waiter = tokio::spawn(wait_for_leader(rx));
        drop(guard);
        assert_eq!(waiter.await.unwrap(), FlightEnd::Finished);
        assert!(matches!(
            flights.admit("r.io", b"scope", b"r.io/b"),
            Admission::Lead(_)
        ));
    }

    #[tokio::test]
    async fn a_failed_leader_hands_its_failure_to_the_waiters() {
        let flights = RegistryFlights::new();
        let mut guard = match flights.admit("r.io", b"scope", b"r.io/a") {
            Admission::Lead(g) => g,
            other => panic!("expected Lead, got {other:?}"),
        };
        let rx = match flights.admit("r.io", b"scope", b"r.io/b") {
            Admission::Wait(rx) => rx,
            other => panic!("expected Wait, got {other:?}"),
        };
        let failure = ProvideFailure::InvalidCacheKeyType("boom".into());
        guard.fail("r.io/a", failure.clone());
        drop(guard);
        assert_eq!(
            wait_for_leader(rx).await,
            FlightEnd::Failed {
                image: "r.io/a".into(),
                error: failure
            }
        );
    }

    #[test]
    fn per_image_scope_is_never_coalesced() {
        let flights = RegistryFlights::new();
        flights.record("r.io", RegistryScope::PerImage);
        assert!(matches!(
            flights.admit("r.io", b"s", b"r.io/a"),
            Admission::Bypass
        ));
        assert_eq!(flights.scope("other.io"), RegistryScope::Unknown);
    }
}
