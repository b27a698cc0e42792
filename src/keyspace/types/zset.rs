//! Sorted sets: a sorted vector while small (`listpack`), a member→score map plus the
//! order-statistics [`ScoreIndex`] past `zset-max-listpack-*` (`skiplist`).

use std::cmp::Ordering;

use super::score_index::{cmp_entry, ScoreIndex};
use super::{EncodingLimits, HMap};
use crate::keyspace::value::{blob, Blob};

/// A sorted-set value.
#[derive(Debug, Clone)]
pub enum ZSet {
    /// Small form: `(member, score)` sorted by score, then member.
    Listpack(Vec<(Blob, f64)>),
    /// Large form.
    Skiplist {
        /// member → score.
        dict: HMap<Blob, f64>,
        /// order by (score, member), with ranks.
        index: ScoreIndex,
    },
}

/// What ZADD did to one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZAddOutcome {
    /// The member was new.
    Added,
    /// The member existed and its score changed.
    Updated,
    /// The member existed with the same score.
    Unchanged,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Listpack(Vec::new())
    }
}

impl ZSet {
    /// An empty sorted set in the form Redis picks for `size_hint` members whose longest is
    /// `max_len` bytes (`zsetTypeCreate`).
    pub fn with_hint(size_hint: usize, max_len: usize, limits: &EncodingLimits) -> ZSet {
        if size_hint <= limits.zset_max_listpack_entries
            && max_len <= limits.zset_max_listpack_value
        {
            ZSet::Listpack(Vec::new())
        } else {
            ZSet::Skiplist {
                dict: HMap::default(),
                index: ScoreIndex::new(),
            }
        }
    }

    /// Builds a sorted set from entries, in the form Redis ends with after a STORE command or
    /// an RDB load (small results are converted back to the listpack form).
    pub fn from_entries(entries: Vec<(Blob, f64)>, limits: &EncodingLimits) -> ZSet {
        let max_len = entries.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let mut z = ZSet::with_hint(entries.len(), max_len, limits);
        for (m, s) in entries {
            z.add(&m, s, limits);
        }
        z
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(v) => v.len(),
            ZSet::Skiplist { dict, .. } => dict.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Skiplist { .. } => "skiplist",
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(v) => v
                .iter()
                .find(|(m, _)| m.as_slice() == member)
                .map(|(_, s)| *s),
            ZSet::Skiplist { dict, .. } => dict.get(member).copied(),
        }
    }

    /// Sets `member`'s score, adding it if needed.
    ///
    /// The listpack form stores a score as text (`d2string`), which writes -0 as "0": a
    /// score of -0 kept in that form reads back as 0, so it is stored as 0 here too. The
    /// skiplist form keeps -0.
    pub fn add(&mut self, member: &[u8], score: f64, limits: &EncodingLimits) -> ZAddOutcome {
        if let ZSet::Listpack(v) = self {
            let packed = if score == 0.0 { 0.0 } else { score };
            if let Some(i) = v.iter().position(|(m, _)| m.as_slice() == member) {
                if v[i].1 == packed {
                    return ZAddOutcome::Unchanged;
                }
                let (m, _) = v.remove(i);
                let pos =
                    v.partition_point(|(x, s)| cmp_entry(*s, x, packed, &m) == Ordering::Less);
                v.insert(pos, (m, packed));
                return ZAddOutcome::Updated;
            }
            if v.len() < limits.zset_max_listpack_entries
                && member.len() <= limits.zset_max_listpack_value
            {
                let pos =
                    v.partition_point(|(x, s)| cmp_entry(*s, x, packed, member) == Ordering::Less);
                v.insert(pos, (blob(member), packed));
                return ZAddOutcome::Added;
            }
            self.convert();
        }
        match self {
            ZSet::Skiplist { dict, index } => match dict.get_mut(member) {
                Some(old) => {
                    if *old == score {
                        return ZAddOutcome::Unchanged;
                    }
                    index.remove(*old, member);
                    *old = score;
                    index.insert(score, blob(member));
                    ZAddOutcome::Updated
                }
                None => {
                    dict.insert(blob(member), score);
                    index.insert(score, blob(member));
                    ZAddOutcome::Added
                }
            },
            ZSet::Listpack(_) => ZAddOutcome::Unchanged,
        }
    }

    /// Removes `member`; returns whether it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Listpack(v) => match v.iter().position(|(m, _)| m.as_slice() == member) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            ZSet::Skiplist { dict, index } => match dict.remove(member) {
                Some(score) => {
                    index.remove(score, member);
                    true
                }
                None => false,
            },
        }
    }

    /// 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSet::Listpack(v) => v.iter().position(|(m, _)| m.as_slice() == member),
            ZSet::Skiplist { dict, index } => dict.get(member).and_then(|s| index.rank(*s, member)),
        }
    }

    /// The entry at ascending rank `k`.
    pub fn get_by_rank(&self, k: usize) -> Option<(&Blob, f64)> {
        match self {
            ZSet::Listpack(v) => v.get(k).map(|(m, s)| (m, *s)),
            ZSet::Skiplist { index, .. } => index.get_by_rank(k),
        }
    }

    /// Number of leading entries (ascending) for which `pred(score, member)` holds.
    pub fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Listpack(v) => v.partition_point(|(m, s)| pred(*s, m)),
            ZSet::Skiplist { index, .. } => index.partition_point(pred),
        }
    }

    /// Entries with ascending ranks `start..end`.
    pub fn range(&self, start: usize, end: usize) -> Vec<(Blob, f64)> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        match self {
            ZSet::Listpack(v) => v[start..end].to_vec(),
            ZSet::Skiplist { index, .. } => index
                .iter_from(start)
                .take(end - start)
                .map(|(m, s)| (m.clone(), s))
                .collect(),
        }
    }

    /// Entries with ascending ranks `start..end`, returned from the highest rank down.
    pub fn range_rev(&self, start: usize, end: usize) -> Vec<(Blob, f64)> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        match self {
            ZSet::Listpack(v) => v[start..end].iter().rev().cloned().collect(),
            ZSet::Skiplist { index, .. } => index
                .iter_rev_from(end - 1)
                .take(end - start)
                .map(|(m, s)| (m.clone(), s))
                .collect(),
        }
    }

    /// Every entry in ascending order.
    pub fn entries(&self) -> Vec<(Blob, f64)> {
        self.range(0, self.len())
    }

    /// Entries with ascending ranks `start..end`, lowest first, without copying them.
    pub fn iter_range(&self, start: usize, end: usize) -> ZIter<'_> {
        let end = end.min(self.len());
        let start = start.min(end);
        match self {
            ZSet::Listpack(v) => ZIter::Slice(v[start..end].iter()),
            ZSet::Skiplist { index, .. } => ZIter::Tree(index.iter_from(start).take(end - start)),
        }
    }

    /// Entries with ascending ranks `start..end`, highest first, without copying them.
    pub fn iter_range_rev(&self, start: usize, end: usize) -> ZIter<'_> {
        let end = end.min(self.len());
        let start = start.min(end);
        match self {
            ZSet::Listpack(v) => ZIter::SliceRev(v[start..end].iter().rev()),
            ZSet::Skiplist { index, .. } => {
                if end == start {
                    return ZIter::Slice([].iter());
                }
                ZIter::TreeRev(index.iter_rev_from(end - 1).take(end - start))
            }
        }
    }

    /// Removes the entries with ascending ranks `start..end`; returns how many went.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match self {
            ZSet::Listpack(v) => {
                v.drain(start..end);
            }
            ZSet::Skiplist { dict, index } => {
                let doomed: Vec<(Blob, f64)> = index
                    .iter_from(start)
                    .take(end - start)
                    .map(|(m, s)| (m.clone(), s))
                    .collect();
                for (m, s) in doomed {
                    index.remove(s, &m);
                    dict.remove(&m);
                }
            }
        }
        end - start
    }

    /// Removes and returns the lowest (`max` false) or highest entry.
    pub fn pop(&mut self, max: bool) -> Option<(Blob, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let rank = if max { len - 1 } else { 0 };
        let (member, score) = self.get_by_rank(rank).map(|(m, s)| (m.clone(), s))?;
        self.remove(&member);
        Some((member, score))
    }

    fn convert(&mut self) {
        if let ZSet::Listpack(v) = self {
            let mut dict = HMap::with_capacity_and_hasher(v.len() + 1, Default::default());
            let mut index = ScoreIndex::new();
            for (m, s) in v.drain(..) {
                index.insert(s, m.clone());
                dict.insert(m, s);
            }
            *self = ZSet::Skiplist { dict, index };
        }
    }
}

/// Iterator over a rank range of a sorted set, in either form and direction.
pub enum ZIter<'a> {
    /// Listpack, ascending.
    Slice(std::slice::Iter<'a, (Blob, f64)>),
    /// Listpack, descending.
    SliceRev(std::iter::Rev<std::slice::Iter<'a, (Blob, f64)>>),
    /// Skiplist, ascending.
    Tree(std::iter::Take<super::score_index::Iter<'a>>),
    /// Skiplist, descending.
    TreeRev(std::iter::Take<super::score_index::RevIter<'a>>),
}

impl<'a> Iterator for ZIter<'a> {
    type Item = (&'a Blob, f64);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            ZIter::Slice(it) => it.next().map(|(m, s)| (m, *s)),
            ZIter::SliceRev(it) => it.next().map(|(m, s)| (m, *s)),
            ZIter::Tree(it) => it.next(),
            ZIter::TreeRev(it) => it.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_agree() {
        let limits = EncodingLimits {
            zset_max_listpack_entries: 4,
            ..Default::default()
        };
        let mut z = ZSet::default();
        for (i, m) in [b"e", b"d", b"c", b"b", b"a", b"f"].iter().enumerate() {
            assert_eq!(z.add(*m, (i % 3) as f64, &limits), ZAddOutcome::Added);
        }
        assert_eq!(z.encoding(), "skiplist");
        let names: Vec<u8> = z.entries().iter().map(|(m, _)| m[0]).collect();
        assert_eq!(names, b"beadcf".to_vec());
        assert_eq!(z.rank(b"c"), Some(4));
        assert_eq!(z.add(b"c", 5.0, &limits), ZAddOutcome::Updated);
        assert_eq!(z.rank(b"c"), Some(5));
        assert_eq!(z.partition_point(|s, _| s < 1.0), 2);
        let rev: Vec<u8> = z.range_rev(0, 3).iter().map(|(m, _)| m[0]).collect();
        assert_eq!(rev, b"aeb".to_vec());
        let small = ZSet::from_entries(z.range(0, 3), &limits);
        assert_eq!(small.encoding(), "listpack");
    }
}
