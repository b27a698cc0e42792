//! A hash table that also has positions: the large form of sets and hashes.
//!
//! Entries live in one dense vector; a `hashbrown::HashTable` of positions finds them by
//! member. Membership, insertion and removal are O(1) like any hash table, and so is
//! picking the i-th entry, which SPOP, SRANDMEMBER and HRANDFIELD need (a plain hash map
//! can only walk to it, O(n)). Removal moves the last entry into the hole, so the order
//! of iteration is unspecified, as it is in Redis.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::keyspace::value::{blob, Blob};

/// Members (with a value each, `()` for sets) in a dense vector indexed by a hash table.
#[derive(Clone)]
pub struct Dense<V> {
    entries: Vec<(Blob, V)>,
    index: HashTable<u32>,
    state: foldhash::fast::RandomState,
}

impl<V: std::fmt::Debug> std::fmt::Debug for Dense<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<V: PartialEq> PartialEq for Dense<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .entries
                .iter()
                .all(|(k, v)| other.get(k).is_some_and(|o| o == v))
    }
}

impl<V> Default for Dense<V> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl<V> Dense<V> {
    /// An empty table with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Dense {
            entries: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            state: foldhash::fast::RandomState::default(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn hash(&self, member: &[u8]) -> u64 {
        self.state.hash_one(member)
    }

    fn position(&self, member: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(self.hash(member), |&i| {
                entries[i as usize].0.as_slice() == member
            })
            .map(|&i| i as usize)
    }

    /// The value of `member`.
    pub fn get(&self, member: &[u8]) -> Option<&V> {
        self.position(member).map(|i| &self.entries[i].1)
    }

    /// True when `member` is present.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.position(member).is_some()
    }

    /// Sets `member` to `value`; returns the previous value when it was present.
    pub fn insert(&mut self, member: &[u8], value: V) -> Option<V> {
        if let Some(i) = self.position(member) {
            return Some(std::mem::replace(&mut self.entries[i].1, value));
        }
        let hash = self.hash(member);
        let (entries, state) = (&self.entries, &self.state);
        let pos = entries.len() as u32;
        self.index.insert_unique(hash, pos, |&i| {
            state.hash_one(entries[i as usize].0.as_slice())
        });
        self.entries.push((blob(member), value));
        None
    }

    /// Removes `member`; returns its value when it was present.
    pub fn remove(&mut self, member: &[u8]) -> Option<V> {
        let hash = self.hash(member);
        let entries = &self.entries;
        let found = self
            .index
            .find_entry(hash, |&i| entries[i as usize].0.as_slice() == member)
            .ok()?;
        let (pos, _) = found.remove();
        let pos = pos as usize;
        let last = self.entries.len() - 1;
        if pos != last {
            // The last entry moves into the hole: repoint its index slot.
            let moved_hash = self.hash(&self.entries[last].0);
            if let Some(slot) = self.index.find_mut(moved_hash, |&i| i as usize == last) {
                *slot = pos as u32;
            }
        }
        Some(self.entries.swap_remove(pos).1)
    }

    /// Every entry, in the table's (unspecified) order.
    pub fn iter(&self) -> impl Iterator<Item = (&Blob, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entry at position `i` of the iteration order, in O(1) (random picks).
    pub fn nth(&self, i: usize) -> Option<(&Blob, &V)> {
        self.entries.get(i).map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_map() {
        let mut d: Dense<u32> = Dense::default();
        let mut model = std::collections::HashMap::new();
        let mut x: u64 = 7;
        for step in 0..20_000u32 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            let key = format!("k{}", (x >> 40) % 500).into_bytes();
            if (x >> 20).is_multiple_of(3) {
                assert_eq!(d.remove(&key), model.remove(&key), "step {step}");
            } else {
                assert_eq!(
                    d.insert(&key, step),
                    model.insert(key.clone(), step),
                    "step {step}"
                );
            }
            assert_eq!(d.len(), model.len());
        }
        for (k, v) in &model {
            assert_eq!(d.get(k), Some(v));
        }
        for i in 0..d.len() {
            let (k, v) = d.nth(i).expect("in range");
            assert_eq!(model.get(k.as_slice()), Some(v));
        }
        assert!(d.nth(d.len()).is_none());
    }
}
