//! A small time-bounded cache that can still hand out expired entries, so a failing fal serves
//! the last good answer instead of an empty picker.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

pub enum Lookup<V> {
    Fresh(V),
    Stale(V),
    Missing,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Lookup<V> {
        let entries = self.lock();
        match entries.get(key) {
            Some((at, v)) if at.elapsed() < self.ttl => Lookup::Fresh(v.clone()),
            Some((_, v)) => Lookup::Stale(v.clone()),
            None => Lookup::Missing,
        }
    }

    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            // Evict the oldest entry: cheap enough at these sizes, and keeps memory bounded.
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, (Instant::now(), value));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_go_stale_but_stay_available() {
        let cache = TtlCache::new(Duration::ZERO, 4);
        assert!(matches!(cache.get(&"a"), Lookup::Missing));
        cache.insert("a", 1);
        assert!(matches!(cache.get(&"a"), Lookup::Stale(1)));
        let fresh = TtlCache::new(Duration::from_secs(60), 4);
        fresh.insert("a", 1);
        assert!(matches!(fresh.get(&"a"), Lookup::Fresh(1)));
    }

    #[test]
    fn capacity_evicts_the_oldest() {
        let cache = TtlCache::new(Duration::from_secs(60), 2);
        cache.insert("a", 1);
        std::thread::sleep(Duration::from_millis(2));
        cache.insert("b", 2);
        cache.insert("c", 3);
        assert!(matches!(cache.get(&"a"), Lookup::Missing));
        assert!(matches!(cache.get(&"b"), Lookup::Fresh(2)));
        assert!(matches!(cache.get(&"c"), Lookup::Fresh(3)));
    }
}
