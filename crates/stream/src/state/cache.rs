//! A byte-budgeted cache of committed state.

use rustc_hash::FxHashMap as HashMap;

/// Bytes charged per entry beyond its key and value (map slot, two
/// vector headers).
const ENTRY_OVERHEAD: usize = 64;

/// Committed values of state keys (`None`: known absent), holding at most
/// its byte budget.
///
/// Two generations approximate least-recently-used eviction without a list:
/// new and re-used entries go to the hot generation; when it has used half
/// the budget, the cold generation is dropped whole and the hot one becomes
/// cold. An entry used again while cold moves back to hot, so whatever is
/// used at least once per half-budget of traffic stays.
#[derive(Debug)]
pub(crate) struct Cache {
    hot: HashMap<Vec<u8>, Option<Vec<u8>>>,
    cold: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Bytes charged to the hot generation.
    hot_bytes: usize,
    /// Bytes charged to the cold generation.
    cold_bytes: usize,
    budget: usize,
    /// Lookups answered from memory, and lookups that were not.
    hits: u64,
    misses: u64,
}

fn cost(key: &[u8], value: &Option<Vec<u8>>) -> usize {
    cost_of(key.len(), value)
}

/// [`cost`] of an entry whose key is `key_len` bytes long.
pub(crate) fn cost_of(key_len: usize, value: &Option<Vec<u8>>) -> usize {
    key_len + value.as_ref().map_or(0, Vec::len) + ENTRY_OVERHEAD
}

impl Cache {
    /// An empty cache that holds at most `budget` bytes.
    pub(crate) fn new(budget: usize) -> Cache {
        Cache {
            hot: HashMap::default(),
            cold: HashMap::default(),
            hot_bytes: 0,
            cold_bytes: 0,
            budget,
            hits: 0,
            misses: 0,
        }
    }

    /// The cached value of `key`: `Some(None)` if it is known to be absent,
    /// `None` if the cache does not know.
    pub(crate) fn get(&mut self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        if let Some(v) = self.hot.get(key) {
            self.hits += 1;
            return Some(v.clone());
        }
        match self.cold.remove_entry(key) {
            Some((k, v)) => {
                self.hits += 1;
                self.cold_bytes -= cost(&k, &v);
                let out = v.clone();
                self.insert(k, v);
                Some(out)
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// Records the committed value of `key`.
    pub(crate) fn insert(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let c = cost(&key, &value);
        if c > self.budget / 4 {
            // Too large to be worth a quarter of the budget: forget the key.
            self.remove(&key);
            return;
        }
        if let Some((k, v)) = self.cold.remove_entry(&key) {
            self.cold_bytes -= cost(&k, &v);
        }
        self.hot_bytes += c;
        let key_len = key.len();
        if let Some(old) = self.hot.insert(key, value) {
            self.hot_bytes -= cost_of(key_len, &old);
        }
        if self.hot_bytes > self.budget / 2 {
            self.cold = std::mem::take(&mut self.hot);
            self.cold_bytes = std::mem::take(&mut self.hot_bytes);
        }
    }

    /// Lookups answered from memory and lookups that were not, since start.
    pub(crate) fn hit_counts(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    /// Forgets `key`.
    pub(crate) fn remove(&mut self, key: &[u8]) {
        if let Some((k, v)) = self.hot.remove_entry(key) {
            self.hot_bytes -= cost(&k, &v);
        }
        if let Some((k, v)) = self.cold.remove_entry(key) {
            self.cold_bytes -= cost(&k, &v);
        }
    }

    /// Bytes currently charged.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.hot_bytes + self.cold_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_budget_and_keeps_what_is_used() {
        let mut c = Cache::new(64 * 1024);
        for i in 0..10_000u32 {
            c.insert(i.to_be_bytes().to_vec(), Some(vec![0; 32]));
            // Key 0 is used all the time; it must survive the churn.
            assert!(c.get(&0u32.to_be_bytes()).is_some(), "at {i}");
            assert!(c.bytes() <= 64 * 1024);
        }
        assert!(c.get(&5000u32.to_be_bytes()).is_none());
        c.insert(b"gone".to_vec(), None);
        assert_eq!(c.get(b"gone"), Some(None));
    }
}
