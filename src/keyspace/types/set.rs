//! Sets: a sorted vector of integers while every member is an integer and the set is small
//! (`intset`), a hash set otherwise (`hashtable`).

use super::dense::Dense;
use super::EncodingLimits;
use crate::keyspace::value::{blob, Blob};
use crate::resp::parser::parse_i64;

/// A set value.
#[derive(Debug, Clone, PartialEq)]
pub enum Set {
    /// Sorted integers, as Redis's intset.
    Intset(Vec<i64>),
    /// Any members.
    Table(Dense<()>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Intset(Vec::new())
    }
}

impl Set {
    /// An empty set; the first member decides the starting form, as in Redis.
    pub fn new_for(first_member: &[u8]) -> Set {
        if parse_i64(first_member).is_some() {
            Set::Intset(Vec::new())
        } else {
            Set::Table(Dense::default())
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Intset(v) => v.len(),
            Set::Table(s) => s.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    /// True when `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Intset(v) => parse_i64(member).is_some_and(|n| v.binary_search(&n).is_ok()),
            Set::Table(s) => s.contains(member),
        }
    }

    /// Adds `member`; returns true when it is new.
    pub fn insert(&mut self, member: &[u8], limits: &EncodingLimits) -> bool {
        if let Set::Intset(v) = self {
            match parse_i64(member) {
                Some(n) => match v.binary_search(&n) {
                    Ok(_) => return false,
                    Err(pos) => {
                        if v.len() < limits.set_max_intset_entries {
                            v.insert(pos, n);
                            return true;
                        }
                        self.convert();
                    }
                },
                None => self.convert(),
            }
        }
        match self {
            Set::Table(s) => s.insert(member, ()).is_none(),
            Set::Intset(_) => false,
        }
    }

    /// Removes `member`; returns true when it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Intset(v) => match parse_i64(member).map(|n| v.binary_search(&n)) {
                Some(Ok(pos)) => {
                    v.remove(pos);
                    true
                }
                _ => false,
            },
            Set::Table(s) => s.remove(member).is_some(),
        }
    }

    /// Every member as bytes (intsets in ascending order).
    pub fn members(&self) -> Vec<Blob> {
        match self {
            Set::Intset(v) => {
                let mut scratch = itoa::Buffer::new();
                v.iter()
                    .map(|n| blob(scratch.format(*n).as_bytes()))
                    .collect()
            }
            Set::Table(s) => s.iter().map(|(m, _)| m.clone()).collect(),
        }
    }

    /// Calls `f` with every member, in the set's iteration order (ascending for intsets),
    /// without building a list.
    pub fn for_each_member(&self, mut f: impl FnMut(&[u8])) {
        match self {
            Set::Intset(v) => {
                let mut scratch = itoa::Buffer::new();
                for n in v {
                    f(scratch.format(*n).as_bytes());
                }
            }
            Set::Table(s) => {
                for (m, _) in s.iter() {
                    f(m);
                }
            }
        }
    }

    /// The member at position `i` of the set's iteration order (for random picks; O(1)).
    pub fn nth(&self, i: usize) -> Option<Blob> {
        match self {
            Set::Intset(v) => v
                .get(i)
                .map(|n| blob(itoa::Buffer::new().format(*n).as_bytes())),
            Set::Table(s) => s.nth(i).map(|(m, _)| m.clone()),
        }
    }

    /// Builds a set from members (RDB load, SINTERSTORE...), in the form Redis would choose.
    pub fn from_members(members: impl IntoIterator<Item = Blob>, limits: &EncodingLimits) -> Set {
        let mut iter = members.into_iter().peekable();
        let mut set = match iter.peek() {
            Some(first) => Set::new_for(first),
            None => Set::default(),
        };
        for m in iter {
            set.insert(&m, limits);
        }
        set
    }

    fn convert(&mut self) {
        if let Set::Intset(v) = self {
            let mut s = Dense::with_capacity(v.len() + 1);
            let mut scratch = itoa::Buffer::new();
            for n in v.iter() {
                s.insert(scratch.format(*n).as_bytes(), ());
            }
            *self = Set::Table(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_until_a_string_or_too_many() {
        let limits = EncodingLimits {
            set_max_intset_entries: 3,
            ..Default::default()
        };
        let mut s = Set::new_for(b"1");
        for m in [b"3", b"1", b"2"] {
            s.insert(m, &limits);
        }
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.members(), vec![blob(b"1"), blob(b"2"), blob(b"3")]);
        assert!(!s.insert(b"2", &limits));
        s.insert(b"4", &limits);
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"4") && s.contains(b"1"));
        let mut s = Set::new_for(b"1");
        s.insert(b"x", &limits);
        assert_eq!(s.encoding(), "hashtable");
        assert!(!s.contains(b"01"));
    }
}
