//! The cursor behind HSCAN, SSCAN and ZSCAN over the hash-table encodings.
//!
//! SCAN's contract: an element present for the whole iteration is returned at least once,
//! however the collection grows or shrinks between calls. The hash tables used here do not
//! expose a stable bucket order, so the cursor is a position in the space of a fixed
//! 64-bit hash of each element (as `Db::scan` does for keys): one step returns the elements
//! whose hash is at or above the cursor, lowest hashes first, and answers the first hash it
//! did not return. An element never moves in that space, so none present throughout can be
//! skipped; elements with equal hashes are never split between steps.
//!
//! A step looks at every element, so each step returns at least 1/[`MIN_STEPS_FRACTION`] of
//! the collection: a whole iteration then costs a bounded number of passes instead of one
//! pass per COUNT elements. COUNT is a hint in Redis as well.

use std::hash::BuildHasher;

/// A step returns at least `len / MIN_STEPS_FRACTION` elements.
pub const MIN_STEPS_FRACTION: usize = 32;

/// The fixed hash that orders elements for cursors (stable for the life of the process).
pub fn scan_hash(member: &[u8]) -> u64 {
    // Cursors only need a stable order; the seed is fixed so that it survives copies of
    // the collection (COPY, RENAME) and the hash never depends on the table's own seed.
    let state = foldhash::fast::FixedState::with_seed(0x5ca1_ab1e_c0ff_ee00);
    state.hash_one(member).max(1)
}

/// One step over `items` (each with the bytes that identify it) from `cursor`, returning at
/// least `count` items when that many are left, and the next cursor (0 when done).
pub fn scan_step<'a, T>(
    items: impl Iterator<Item = (&'a [u8], T)>,
    cursor: u64,
    count: usize,
    len: usize,
) -> (Vec<T>, u64) {
    let want = count.max(len / MIN_STEPS_FRACTION).max(1);
    let mut candidates: Vec<(u64, T)> = items
        .map(|(m, t)| (scan_hash(m), t))
        .filter(|(h, _)| *h >= cursor)
        .collect();
    if candidates.len() <= want {
        return (candidates.into_iter().map(|(_, t)| t).collect(), 0);
    }
    candidates.select_nth_unstable_by_key(want - 1, |(h, _)| *h);
    let cutoff = candidates[want - 1].0;
    let mut next = u64::MAX;
    let mut taken = Vec::with_capacity(want);
    for (h, t) in candidates {
        if h <= cutoff {
            taken.push(t);
        } else if h < next {
            next = h;
        }
    }
    if next == u64::MAX {
        next = 0;
    }
    (taken, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_element_present_throughout_is_returned() {
        let mut members: Vec<Vec<u8>> = (0..2000).map(|i| format!("m{i}").into_bytes()).collect();
        let stable: Vec<Vec<u8>> = members[..1000].to_vec();
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            let len = members.len();
            let (got, next) = scan_step(
                members.iter().map(|m| (m.as_slice(), m.clone())),
                cursor,
                10,
                len,
            );
            seen.extend(got);
            // Churn between steps: drop some unstable members, add new ones.
            if members.len() > 1000 {
                members.pop();
            }
            members.push(format!("new{round}").into_bytes());
            round += 1;
            if next == 0 {
                break;
            }
            cursor = next;
        }
        for m in &stable {
            assert!(seen.contains(m), "missing {}", String::from_utf8_lossy(m));
        }
        assert!(round <= MIN_STEPS_FRACTION + 2, "{round} steps");
    }

    #[test]
    fn small_inputs_finish_in_one_step() {
        let members = [b"a".to_vec(), b"b".to_vec()];
        let (got, next) = scan_step(members.iter().map(|m| (m.as_slice(), 1)), 0, 10, 2);
        assert_eq!((got.len(), next), (2, 0));
    }
}
