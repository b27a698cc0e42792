//! MEMORY USAGE: what one key costs, estimated from the structures that hold it.
//!
//! The figure counts the item (key, expiry, access stamp, value header), the slot that
//! points to it, the key's heap bytes when it is too long to sit inline, and the value's
//! heap bytes. Collections are sampled as Redis samples them: the first `samples`
//! elements are measured and their average stands for every element (0 measures them
//! all), so the cost of the command stays bounded on a large value. Allocator rounding is
//! not modelled; the figure is a lower bound close to what the allocator hands out.

use std::mem::size_of;

use super::segment::Item;
use super::types::{Hash, List, Set, ZSet};
use super::{Blob, ItemRef, StrValue, Value};

/// Heap bytes of a blob (nothing while it is stored inline).
fn blob_heap(b: &Blob) -> usize {
    if b.spilled() {
        b.capacity()
    } else {
        0
    }
}

/// `count` elements of which the measured `sampled` (of `seen` elements) stand for all.
fn extrapolate(sampled: usize, seen: usize, count: usize) -> usize {
    match (sampled.checked_div(seen), sampled.checked_rem(seen)) {
        (Some(whole), Some(rest)) => whole * count + rest * count / seen,
        _ => 0,
    }
}

/// The estimated bytes of `item` (key, value and their bookkeeping), sampling at most
/// `samples` elements of a collection (`usize::MAX` for all).
pub fn item_usage(item: &ItemRef, samples: usize) -> usize {
    // The item behind its reference count, and the pointer to it in the table.
    let header = size_of::<Item>() + 2 * size_of::<usize>() + size_of::<usize>();
    let key = if item.key.len() > 22 {
        item.key.len()
    } else {
        0
    };
    header + key + value_usage(&item.value, samples)
}

/// The value's heap bytes beyond its header.
pub fn value_usage(value: &Value, samples: usize) -> usize {
    let slot = size_of::<Blob>();
    match value {
        Value::Str(StrValue::Int(_)) => 0,
        Value::Str(StrValue::Embstr(b) | StrValue::Raw(b)) => blob_heap(b),
        // The argument's buffer: the value and its CRLF.
        Value::Str(StrValue::Shared(b)) => size_of::<bytes::Bytes>() + b.len() + 2,
        Value::List(list) => {
            let List { items } = &**list;
            let measured: usize = items.iter().take(samples).map(blob_heap).sum();
            let seen = items.len().min(samples);
            items.capacity() * slot + extrapolate(measured, seen, items.len())
        }
        Value::Hash(h) => {
            let pair = 2 * slot;
            let measured: usize = h
                .iter()
                .take(samples)
                .map(|(f, v)| pair + blob_heap(f) + blob_heap(v))
                .sum();
            let seen = h.len().min(samples);
            // The table form adds an index slot per entry.
            let index = match &**h {
                Hash::Listpack(_) => 0,
                Hash::Table(_) => h.len() * size_of::<u32>() * 2,
            };
            index + extrapolate(measured, seen, h.len())
        }
        Value::Set(s) => {
            if let Set::Intset(v) = &**s {
                return v.capacity() * size_of::<i64>();
            }
            let seen = s.len().min(samples);
            let measured: usize = (0..seen)
                .filter_map(|i| s.nth(i))
                .map(|m| slot + blob_heap(&m) + size_of::<u32>() * 2)
                .sum();
            extrapolate(measured, seen, s.len())
        }
        Value::ZSet(z) => {
            let seen = z.len().min(samples);
            // A skiplist-form member is also in the score index (a node per member).
            let per_member = match &**z {
                ZSet::Listpack(_) => slot + size_of::<f64>(),
                ZSet::Skiplist { .. } => 2 * (slot + size_of::<f64>()) + 4 * size_of::<usize>(),
            };
            let measured: usize = z
                .iter_range(0, seen)
                .map(|(m, _)| per_member + blob_heap(m))
                .sum();
            extrapolate(measured, seen, z.len())
        }
        Value::Stream(s) => s.approx_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::{blob, EncodingLimits};

    #[test]
    fn strings_count_their_heap_bytes() {
        assert_eq!(value_usage(&Value::Str(StrValue::Int(5)), 5), 0);
        assert_eq!(
            value_usage(&Value::Str(StrValue::from_bytes(b"short")), 5),
            0
        );
        let big = StrValue::raw(Blob::from_slice(&[b'x'; 1000]));
        assert_eq!(value_usage(&Value::Str(big), 5), 1000);
    }

    #[test]
    fn collections_are_sampled_and_extrapolated() {
        let mut list = List::new();
        for _ in 0..100 {
            list.push(crate::keyspace::types::list::End::Tail, blob(&[b'v'; 100]));
        }
        let value = Value::List(Box::new(list));
        let all = value_usage(&value, usize::MAX);
        let sampled = value_usage(&value, 5);
        assert_eq!(all, sampled, "uniform elements extrapolate exactly");
        assert!(all >= 100 * 100);
        let limits = EncodingLimits::default();
        let mut hash = Hash::new();
        hash.set(b"field", &[b'v'; 200], &limits);
        assert!(value_usage(&Value::Hash(Box::new(hash)), 5) >= 200);
    }

    #[test]
    fn extrapolation_keeps_remainders() {
        assert_eq!(extrapolate(10, 3, 6), 20);
        assert_eq!(extrapolate(0, 0, 6), 0);
    }
}
