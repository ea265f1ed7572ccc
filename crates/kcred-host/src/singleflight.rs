//! `singleflight.Group`: concurrent calls with the same key share one execution and its result.
//!
//! Cancellation-safe: if the caller running the work is dropped, a waiting caller takes over.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::OnceCell;

/// A set of in-flight calls keyed by `K`, each producing a `V` shared by all its callers.
#[derive(Debug)]
pub struct Group<K, V> {
    calls: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for Group<K, V> {
    fn default() -> Self {
        Group {
            calls: Mutex::new(HashMap::new()),
        }
    }
}

/// The result of [`Group::run`].
#[derive(Debug, Clone)]
pub struct Shared<V> {
    /// The value the call produced.
    pub value: V,
    /// True when this caller ran the work; false when it joined a call in flight.
    pub executed: bool,
}

impl<K: Hash + Eq + Clone, V: Clone> Group<K, V> {
    /// An empty group.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Arc<OnceCell<V>>>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `work` unless a call with `key` is in flight, in which case waits for that call
    /// and returns its value. Once a call finishes, its key is free for a new call.
    pub async fn run<F, Fut>(&self, key: K, work: F) -> Shared<V>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = self
            .lock()
            .entry(key.clone())
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        let _cleanup = Cleanup {
            group: self,
            key: &key,
            cell: &cell,
        };
        let executed = AtomicBool::new(false);
        let value = cell
            .get_or_init(|| {
                executed.store(true, Ordering::Relaxed);
                work()
            })
            .await
            .clone();
        Shared {
            value,
            executed: executed.load(Ordering::Relaxed),
        }
    }

    /// True while a call with `key` is in flight.
    pub fn in_flight(&self, key: &K) -> bool {
        self.lock().get(key).is_some_and(|cell| !cell.initialized())
    }

    /// How many keys have a call in flight (or a finished call not yet released).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no call is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Frees the key when its call finished, or when the last interested caller went away.
struct Cleanup<'a, K: Hash + Eq, V> {
    group: &'a Group<K, V>,
    key: &'a K,
    cell: &'a Arc<OnceCell<V>>,
}

impl<K: Hash + Eq, V> Drop for Cleanup<'_, K, V> {
    fn drop(&mut self) {
        let mut calls = self
            .group
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let same = calls
            .get(self.key)
            .is_some_and(|c| Arc::ptr_eq(c, self.cell));
        // Other callers clone the cell only under this lock, so the count is stable here:
        // 2 means only the map and this caller hold it.
        if same && (self.cell.initialized() || Arc::strong_count(self.cell) <= 2) {
            calls.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_same_key_runs_once() {
        let group: Arc<Group<String, usize>> = Arc::new(Group::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let group = group.clone();
            let runs = runs.clone();
            tasks.push(tokio::spawn(async move {
                group
                    .run("k".to_owned(), || async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        runs.fetch_add(1, Ordering::SeqCst) + 7
                    })
                    .await
            }));
        }
        let mut executed = 0;
        for t in tasks {
            let shared = t.await.unwrap();
            assert_eq!(shared.value, 7);
            executed += usize::from(shared.executed);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(executed, 1);
        assert!(group.is_empty(), "finished calls release their key");
    }

    #[tokio::test]
    async fn later_call_runs_again_and_keys_are_independent() {
        let group: Group<&str, u32> = Group::new();
        assert_eq!(group.run("a", || async { 1 }).await.value, 1);
        assert_eq!(group.run("a", || async { 2 }).await.value, 2);
        assert_eq!(group.run("b", || async { 3 }).await.value, 3);
    }

    #[tokio::test]
    async fn cancelled_runner_is_replaced_by_a_waiter() {
        let group: Arc<Group<&str, u32>> = Arc::new(Group::new());
        let g = group.clone();
        let first = tokio::spawn(async move {
            g.run("k", || async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                1
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(group.in_flight(&"k"));
        first.abort();
        let _ = first.await;
        let shared = group.run("k", || async { 2 }).await;
        assert_eq!(shared.value, 2);
        assert!(shared.executed);
        assert!(group.is_empty());
    }
}
