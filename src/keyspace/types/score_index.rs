//! An order-statistics tree over `(score, member)`: the index behind large sorted sets.
//!
//! A treap (randomised balanced binary search tree) whose nodes live in one arena vector and
//! know the size of their subtree. Insert, remove, rank, select-by-rank and "first position
//! where a monotone predicate turns false" (the basis of every BYSCORE / BYLEX range) all
//! take O(log n) expected time, as Redis's skiplist does. Nodes refer to each other by index,
//! so the structure is plain safe Rust, clones with one `Vec` copy, and has no per-node
//! pointer overhead beyond two `u32` links.

use std::cmp::Ordering;

use crate::keyspace::value::Blob;

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    score: f64,
    member: Blob,
    left: u32,
    right: u32,
    size: u32,
    priority: u32,
}

/// Compares two `(score, member)` pairs in sorted-set order.
pub fn cmp_entry(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    match a_score.partial_cmp(&b_score) {
        Some(Ordering::Equal) | None => a_member.cmp(b_member),
        Some(o) => o,
    }
}

/// The ordered index; see the module documentation.
#[derive(Debug, Clone)]
pub struct ScoreIndex {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    seed: u64,
}

impl Default for ScoreIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl ScoreIndex {
    /// An empty index.
    pub fn new() -> Self {
        ScoreIndex {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            // A random sequence per index: priorities a client could predict would let it
            // choose an insertion order that degenerates the tree.
            seed: rand::random::<u64>() | 1,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.size(self.root) as usize
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    fn size(&self, n: u32) -> u32 {
        if n == NIL {
            0
        } else {
            self.nodes[n as usize].size
        }
    }

    fn update(&mut self, n: u32) {
        let (l, r) = (self.nodes[n as usize].left, self.nodes[n as usize].right);
        self.nodes[n as usize].size = 1 + self.size(l) + self.size(r);
    }

    fn next_priority(&mut self) -> u32 {
        // xorshift64*: cheap, deterministic per index, good enough for treap balance.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        (self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    fn alloc(&mut self, score: f64, member: Blob) -> u32 {
        let priority = self.next_priority();
        let node = Node {
            score,
            member,
            left: NIL,
            right: NIL,
            size: 1,
            priority,
        };
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Splits `t` into (entries ordered before `(score, member)`, the rest).
    fn split_by_key(&mut self, t: u32, score: f64, member: &[u8]) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let node = &self.nodes[t as usize];
        if cmp_entry(node.score, &node.member, score, member) == Ordering::Less {
            let right = node.right;
            let (l, r) = self.split_by_key(right, score, member);
            self.nodes[t as usize].right = l;
            self.update(t);
            (t, r)
        } else {
            let left = node.left;
            let (l, r) = self.split_by_key(left, score, member);
            self.nodes[t as usize].left = r;
            self.update(t);
            (l, t)
        }
    }

    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].priority > self.nodes[b as usize].priority {
            let ar = self.nodes[a as usize].right;
            let m = self.merge(ar, b);
            self.nodes[a as usize].right = m;
            self.update(a);
            a
        } else {
            let bl = self.nodes[b as usize].left;
            let m = self.merge(a, bl);
            self.nodes[b as usize].left = m;
            self.update(b);
            b
        }
    }

    /// Inserts an entry; the caller guarantees `member` is not already present.
    ///
    /// One descent: sizes grow along the path until the new node's priority wins, and
    /// only the (expectedly small) subtree below that point is split under it. This
    /// touches each node on the path once, where split-then-merge touched it three times.
    pub fn insert(&mut self, score: f64, member: Blob) {
        let n = self.alloc(score, member);
        self.root = self.insert_at(self.root, n);
    }

    fn insert_at(&mut self, t: u32, n: u32) -> u32 {
        if t == NIL {
            return n;
        }
        if self.nodes[n as usize].priority > self.nodes[t as usize].priority {
            // `n` is not linked yet, so its member can step out while `t` is split by it.
            let score = self.nodes[n as usize].score;
            let member = std::mem::take(&mut self.nodes[n as usize].member);
            let (l, r) = self.split_by_key(t, score, &member);
            let node = &mut self.nodes[n as usize];
            node.member = member;
            node.left = l;
            node.right = r;
            self.update(n);
            return n;
        }
        let goes_left = {
            let (node, new) = (&self.nodes[t as usize], &self.nodes[n as usize]);
            cmp_entry(new.score, &new.member, node.score, &node.member) == Ordering::Less
        };
        if goes_left {
            let child = self.insert_at(self.nodes[t as usize].left, n);
            self.nodes[t as usize].left = child;
        } else {
            let child = self.insert_at(self.nodes[t as usize].right, n);
            self.nodes[t as usize].right = child;
        }
        self.nodes[t as usize].size += 1;
        t
    }

    /// Removes the entry `(score, member)`; returns whether it was present.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let (root, found) = self.remove_at(self.root, score, member);
        self.root = root;
        if self.root == NIL {
            // Drop the arena when the index empties, so memory follows the size.
            self.nodes.clear();
            self.free.clear();
        }
        found
    }

    /// Removes the entry from the subtree `t` if present (one descent; sizes shrink on the
    /// way back only when it was found); returns the new subtree root and whether it was.
    fn remove_at(&mut self, t: u32, score: f64, member: &[u8]) -> (u32, bool) {
        if t == NIL {
            return (NIL, false);
        }
        let ord = {
            let node = &self.nodes[t as usize];
            cmp_entry(score, member, node.score, &node.member)
        };
        match ord {
            Ordering::Equal => {
                let (l, r) = (self.nodes[t as usize].left, self.nodes[t as usize].right);
                self.nodes[t as usize].member = Blob::new();
                self.free.push(t);
                (self.merge(l, r), true)
            }
            Ordering::Less => {
                let (child, found) = self.remove_at(self.nodes[t as usize].left, score, member);
                let node = &mut self.nodes[t as usize];
                node.left = child;
                node.size -= found as u32;
                (t, found)
            }
            Ordering::Greater => {
                let (child, found) = self.remove_at(self.nodes[t as usize].right, score, member);
                let node = &mut self.nodes[t as usize];
                node.right = child;
                node.size -= found as u32;
                (t, found)
            }
        }
    }

    /// 0-based rank of `(score, member)` if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut t = self.root;
        let mut before = 0u32;
        while t != NIL {
            let node = &self.nodes[t as usize];
            match cmp_entry(score, member, node.score, &node.member) {
                Ordering::Less => t = node.left,
                Ordering::Greater => {
                    before += self.size(node.left) + 1;
                    t = node.right;
                }
                Ordering::Equal => return Some((before + self.size(node.left)) as usize),
            }
        }
        None
    }

    /// The entry at 0-based rank `k`.
    pub fn get_by_rank(&self, k: usize) -> Option<(&Blob, f64)> {
        let mut k = k as u32;
        let mut t = self.root;
        while t != NIL {
            let node = &self.nodes[t as usize];
            let ls = self.size(node.left);
            match k.cmp(&ls) {
                Ordering::Less => t = node.left,
                Ordering::Equal => return Some((&node.member, node.score)),
                Ordering::Greater => {
                    k -= ls + 1;
                    t = node.right;
                }
            }
        }
        None
    }

    /// Number of leading entries for which `pred(score, member)` holds; `pred` must be true
    /// for a prefix of the order and false after it (as "score < min" is).
    pub fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut t = self.root;
        let mut count = 0u32;
        while t != NIL {
            let node = &self.nodes[t as usize];
            if pred(node.score, &node.member) {
                count += self.size(node.left) + 1;
                t = node.right;
            } else {
                t = node.left;
            }
        }
        count as usize
    }

    /// Entries in order starting at rank `start`.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        let mut it = Iter {
            index: self,
            stack: Vec::with_capacity(48),
        };
        let mut k = start as u32;
        let mut t = self.root;
        while t != NIL {
            let node = &self.nodes[t as usize];
            let ls = self.size(node.left);
            if k < ls {
                it.stack.push(t);
                t = node.left;
            } else if k == ls {
                it.stack.push(t);
                break;
            } else {
                k -= ls + 1;
                t = node.right;
            }
        }
        it
    }

    /// Entries in reverse order starting at rank `start` (counted from the front) going down.
    pub fn iter_rev_from(&self, start: usize) -> RevIter<'_> {
        let mut it = RevIter {
            index: self,
            stack: Vec::with_capacity(48),
        };
        let mut k = start as u32;
        let mut t = self.root;
        while t != NIL {
            let node = &self.nodes[t as usize];
            let ls = self.size(node.left);
            if k < ls {
                t = node.left;
            } else if k == ls {
                it.stack.push(t);
                break;
            } else {
                it.stack.push(t);
                k -= ls + 1;
                t = node.right;
            }
        }
        it
    }
}

/// In-order iterator.
pub struct Iter<'a> {
    index: &'a ScoreIndex,
    stack: Vec<u32>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Blob, f64);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.stack.pop()?;
        let node = &self.index.nodes[t as usize];
        let mut c = node.right;
        while c != NIL {
            self.stack.push(c);
            c = self.index.nodes[c as usize].left;
        }
        Some((&node.member, node.score))
    }
}

/// Reverse in-order iterator.
pub struct RevIter<'a> {
    index: &'a ScoreIndex,
    stack: Vec<u32>,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = (&'a Blob, f64);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.stack.pop()?;
        let node = &self.index.nodes[t as usize];
        let mut c = node.left;
        while c != NIL {
            self.stack.push(c);
            c = self.index.nodes[c as usize].right;
        }
        Some((&node.member, node.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::blob;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn behaves_like_a_sorted_vector(ops in proptest::collection::vec((0u8..3, 0i32..20, 0u8..30), 1..300)) {
            let mut index = ScoreIndex::new();
            let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
            for (op, score, m) in ops {
                let member = vec![b'a' + (m % 26), m];
                let score = score as f64;
                let existing = model.iter().position(|(_, x)| *x == member);
                match (op, existing) {
                    (0, None) => {
                        index.insert(score, blob(&member));
                        model.push((score, member));
                    }
                    (1, Some(i)) => {
                        let (s, mem) = model.remove(i);
                        prop_assert!(index.remove(s, &mem));
                    }
                    _ => {
                        prop_assert!(!index.remove(score + 0.5, &member));
                    }
                }
                model.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
                prop_assert_eq!(index.len(), model.len());
            }
            let got: Vec<(f64, Vec<u8>)> = index.iter_from(0).map(|(m, s)| (s, m.to_vec())).collect();
            prop_assert_eq!(&got, &model);
            for (i, (s, m)) in model.iter().enumerate() {
                prop_assert_eq!(index.rank(*s, m), Some(i));
                let (gm, gs) = index.get_by_rank(i).unwrap();
                prop_assert_eq!((gs, gm.to_vec()), (*s, m.clone()));
                let tail: Vec<f64> = index.iter_from(i).map(|(_, s)| s).collect();
                prop_assert_eq!(tail.len(), model.len() - i);
                let rev: Vec<f64> = index.iter_rev_from(i).map(|(_, s)| s).collect();
                prop_assert_eq!(rev.len(), i + 1);
            }
            let below = index.partition_point(|s, _| s < 10.0);
            prop_assert_eq!(below, model.iter().filter(|(s, _)| *s < 10.0).count());
        }
    }
}
