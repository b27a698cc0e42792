//! Hashes: an insertion-ordered vector of pairs while small (`listpack`), a hash table past
//! `hash-max-listpack-entries` / `hash-max-listpack-value` (`hashtable`).

use super::dense::Dense;
use super::EncodingLimits;
use crate::keyspace::value::{blob, Blob};

/// A hash value.
#[derive(Debug, Clone, PartialEq)]
pub enum Hash {
    /// Small form: pairs in insertion order, as Redis's listpack keeps them.
    Listpack(Vec<(Blob, Blob)>),
    /// Large form.
    Table(Dense<Blob>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Vec::new())
    }
}

impl Hash {
    /// An empty hash in the small form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(v) => v.len(),
            Hash::Table(m) => m.len(),
        }
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&Blob> {
        match self {
            Hash::Listpack(v) => v
                .iter()
                .find(|(f, _)| f.as_slice() == field)
                .map(|(_, v)| v),
            Hash::Table(m) => m.get(field),
        }
    }

    /// True when `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; returns true when the field is new. Converts to the table
    /// form when Redis would.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &EncodingLimits) -> bool {
        if let Hash::Listpack(v) = self {
            if field.len() > limits.hash_max_listpack_value
                || value.len() > limits.hash_max_listpack_value
            {
                self.convert();
            } else if let Some(pair) = v.iter_mut().find(|(f, _)| f.as_slice() == field) {
                pair.1 = blob(value);
                return false;
            } else if v.len() < limits.hash_max_listpack_entries {
                v.push((blob(field), blob(value)));
                return true;
            } else {
                self.convert();
            }
        }
        match self {
            Hash::Table(m) => m.insert(field, blob(value)).is_none(),
            Hash::Listpack(_) => false,
        }
    }

    /// Removes `field`; returns true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(v) => match v.iter().position(|(f, _)| f.as_slice() == field) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            Hash::Table(m) => m.remove(field).is_some(),
        }
    }

    /// All pairs (insertion order for the small form, table order otherwise).
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&Blob, &Blob)> + '_> {
        match self {
            Hash::Listpack(v) => Box::new(v.iter().map(|(f, v)| (f, v))),
            Hash::Table(m) => Box::new(m.iter()),
        }
    }

    /// The pair at position `i` of the iteration order (random picks; O(1)).
    pub fn nth(&self, i: usize) -> Option<(&Blob, &Blob)> {
        match self {
            Hash::Listpack(v) => v.get(i).map(|(f, v)| (f, v)),
            Hash::Table(m) => m.nth(i),
        }
    }

    /// Builds a hash from pairs (RDB load, RESTORE), choosing the form Redis would.
    pub fn from_pairs(pairs: Vec<(Blob, Blob)>, limits: &EncodingLimits) -> Hash {
        let small = pairs.len() <= limits.hash_max_listpack_entries
            && pairs.iter().all(|(f, v)| {
                f.len() <= limits.hash_max_listpack_value
                    && v.len() <= limits.hash_max_listpack_value
            });
        let mut h = if small {
            Hash::Listpack(Vec::with_capacity(pairs.len()))
        } else {
            Hash::Table(Dense::default())
        };
        for (f, v) in pairs {
            match &mut h {
                Hash::Listpack(list) => {
                    if let Some(p) = list.iter_mut().find(|(x, _)| *x == f) {
                        p.1 = v;
                    } else {
                        list.push((f, v));
                    }
                }
                Hash::Table(m) => {
                    m.insert(&f, v);
                }
            }
        }
        h
    }

    fn convert(&mut self) {
        if let Hash::Listpack(v) = self {
            let mut m = Dense::with_capacity(v.len() + 1);
            for (f, val) in v.drain(..) {
                m.insert(&f, val);
            }
            *self = Hash::Table(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_past_thresholds_and_never_back() {
        let limits = EncodingLimits {
            hash_max_listpack_entries: 2,
            hash_max_listpack_value: 4,
            ..Default::default()
        };
        let mut h = Hash::new();
        assert!(h.set(b"a", b"1", &limits));
        assert!(!h.set(b"a", b"2", &limits));
        assert!(h.set(b"b", b"1", &limits));
        assert_eq!(h.encoding(), "listpack");
        assert!(h.set(b"c", b"1", &limits));
        assert_eq!(h.encoding(), "hashtable");
        h.remove(b"c");
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.set(b"a", b"12345", &limits);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a").map(|v| v.as_slice()), Some(&b"12345"[..]));
    }
}
