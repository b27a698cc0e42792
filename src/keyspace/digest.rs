//! The dataset digest of DEBUG DIGEST and DEBUG DIGEST-VALUE, computed exactly as Redis 7.0
//! computes it, so that a digest taken on replikv equals the one Redis takes of the same data
//! (Redis's replication tests compare master and replica this way, and so can an operator
//! comparing a replikv replica with a Redis master).
//!
//! Two SHA-1 based steps build everything: *xor* (`d ^= sha1(bytes)`, order-independent, for
//! the members of sets, hashes and sorted sets, and for keys in a database) and *mix*
//! (xor, then `d = sha1(d)`, order-dependent, for list elements and for the fields of one
//! key). A key's digest mixes its name, its type code, its value and, when it has a TTL, the
//! marker `!!expire!!` (the TTL itself is not part of it, as in Redis).

use sha1::{Digest as _, Sha1};

use super::types::stream::StreamId;
use super::{Db, Item, StrValue, Value};

/// A 20-byte SHA-1 sized digest.
pub type Digest = [u8; 20];

/// The digest of nothing: what an empty dataset and a missing key give.
pub const EMPTY: Digest = [0; 20];

/// Redis's object type codes (`OBJ_STRING` ...), mixed in as a big-endian u32.
fn type_code(value: &Value) -> u32 {
    match value {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// `d ^= sha1(bytes)`.
fn xor_in(d: &mut Digest, bytes: &[u8]) {
    let hash = Sha1::digest(bytes);
    for (a, b) in d.iter_mut().zip(hash.iter()) {
        *a ^= b;
    }
}

/// `d ^= sha1(bytes); d = sha1(d)`.
fn mix_in(d: &mut Digest, bytes: &[u8]) {
    xor_in(d, bytes);
    *d = Sha1::digest(&d[..]).into();
}

/// A score as C's `%.17g` prints it (Redis formats it so before hashing).
fn score_text(score: f64) -> String {
    if score.is_infinite() {
        return if score > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    crate::resp::writer::format_g(score, 17)
}

/// The digest of one pair (hash field and value, sorted-set member and score), xored into
/// `d`.
fn xor_pair(d: &mut Digest, first: &[u8], second: &[u8]) {
    let mut pair = EMPTY;
    mix_in(&mut pair, first);
    mix_in(&mut pair, second);
    xor_in(d, &pair);
}

/// Mixes `item`'s type, value and expiry flag into `d` (Redis's `xorObjectDigest`).
pub fn mix_item(d: &mut Digest, item: &Item) {
    let value = &item.value;
    mix_in(d, &type_code(value).to_be_bytes());
    match value {
        Value::Str(s) => mix_str(d, s),
        Value::List(list) => {
            for element in &list.items {
                mix_in(d, element);
            }
        }
        Value::Set(set) => set.for_each_member(|m| xor_in(d, m)),
        Value::ZSet(zset) => {
            for (member, score) in zset.iter_range(0, zset.len()) {
                xor_pair(d, member, score_text(score).as_bytes());
            }
        }
        Value::Hash(hash) => {
            for (field, v) in hash.iter() {
                xor_pair(d, field, v);
            }
        }
        // Entries in order, each as `ms.seq` then its fields and values; groups are not
        // part of the digest (as in Redis).
        Value::Stream(stream) => {
            for (id, fields) in stream.range(StreamId::MIN, StreamId::MAX, false) {
                mix_in(d, format!("{}.{}", id.ms, id.seq).as_bytes());
                for part in fields.interleaved() {
                    mix_in(d, part);
                }
            }
        }
    }
    if item.has_expire() {
        xor_in(d, b"!!expire!!");
    }
}

fn mix_str(d: &mut Digest, s: &StrValue) {
    let mut scratch = itoa::Buffer::new();
    mix_in(d, s.as_bytes(&mut scratch));
}

/// The digest of one key as DEBUG DIGEST-VALUE reports it ([`EMPTY`] for a missing key).
/// Logically expired keys still count, as in Redis: this looks at what is stored.
pub fn key_digest(db: &Db, key: &[u8]) -> Digest {
    let mut d = EMPTY;
    if let Some(item) = db.peek(key) {
        mix_item(&mut d, item);
    }
    d
}

/// The digest of every database (DEBUG DIGEST): each non-empty database mixes in its
/// number, then xors in the digest of each of its keys (name, then value).
pub fn dataset_digest(dbs: &[Db]) -> Digest {
    let mut total = EMPTY;
    for (number, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_in(&mut total, &(number as u32).to_be_bytes());
        db.for_each_stored(|item| {
            let mut d = EMPTY;
            mix_in(&mut d, item.key.as_slice());
            mix_item(&mut d, item);
            xor_in(&mut total, &d);
        });
    }
    total
}

/// Lower-case hex, as DEBUG prints a digest.
pub fn to_hex(d: &Digest) -> String {
    use std::fmt::Write as _;
    d.iter().fold(String::with_capacity(40), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::types::EncodingLimits;
    use crate::keyspace::{blob, NO_EXPIRE};

    fn db_with(entries: &[(&[u8], Value, i64)]) -> Vec<Db> {
        let mut db = Db::new(0);
        for (k, v, exp) in entries {
            db.insert(k, v.clone(), *exp, 0);
        }
        vec![db]
    }

    fn str_value(s: &[u8]) -> Value {
        Value::Str(StrValue::from_bytes(s))
    }

    #[test]
    fn an_empty_dataset_digests_to_zeros() {
        assert_eq!(to_hex(&dataset_digest(&[Db::new(0)])), "0".repeat(40));
    }

    /// Reference values printed by redis-server 7.0.15 for `SET a 1` (DEBUG DIGEST-VALUE a,
    /// DEBUG DIGEST) and `ZADD z 1.5 m 0.1 n` (DEBUG DIGEST-VALUE z).
    #[test]
    fn matches_redis_7_0() {
        let dbs = db_with(&[(b"a", str_value(b"1"), NO_EXPIRE)]);
        assert_eq!(
            to_hex(&key_digest(&dbs[0], b"a")),
            "b4fc66738120fba0b5aa500ab5c2bf89cea1c5da"
        );
        assert_eq!(
            to_hex(&dataset_digest(&dbs)),
            "943d800368fb9c0e951138f1bc0e313ac769d91f"
        );
        let zset = crate::keyspace::types::zset::ZSet::from_entries(
            vec![(blob(b"m"), 1.5), (blob(b"n"), 0.1)],
            &EncodingLimits::default(),
        );
        let dbs = db_with(&[(b"z", Value::ZSet(Box::new(zset)), NO_EXPIRE)]);
        assert_eq!(
            to_hex(&key_digest(&dbs[0], b"z")),
            "56aefd71afb0522fef8daa67986cff8b8561fa6e"
        );
    }

    #[test]
    fn integer_and_text_encodings_digest_alike() {
        let a = db_with(&[(b"k", str_value(b"12345"), NO_EXPIRE)]);
        let b = db_with(&[(b"k", Value::Str(StrValue::raw(blob(b"12345"))), NO_EXPIRE)]);
        assert_eq!(dataset_digest(&a), dataset_digest(&b));
    }

    #[test]
    fn a_ttl_changes_the_digest_but_not_its_value() {
        let plain = db_with(&[(b"k", str_value(b"v"), NO_EXPIRE)]);
        let volatile = db_with(&[(b"k", str_value(b"v"), i64::MAX - 1)]);
        let later = db_with(&[(b"k", str_value(b"v"), i64::MAX - 2)]);
        assert_ne!(dataset_digest(&plain), dataset_digest(&volatile));
        assert_eq!(dataset_digest(&volatile), dataset_digest(&later));
    }

    #[test]
    fn set_and_hash_order_does_not_matter_but_list_order_does() {
        let limits = EncodingLimits::default();
        let set = |members: &[&[u8]]| {
            Value::Set(Box::new(crate::keyspace::types::set::Set::from_members(
                members.iter().map(|m| blob(m)),
                &limits,
            )))
        };
        let a = db_with(&[(b"s", set(&[b"x", b"y", b"zz"]), NO_EXPIRE)]);
        let b = db_with(&[(b"s", set(&[b"zz", b"y", b"x"]), NO_EXPIRE)]);
        assert_eq!(dataset_digest(&a), dataset_digest(&b));

        let list = |items: &[&[u8]]| {
            let mut l = crate::keyspace::types::list::List::default();
            for i in items {
                l.items.push_back(blob(i));
            }
            Value::List(Box::new(l))
        };
        let a = db_with(&[(b"l", list(&[b"x", b"y"]), NO_EXPIRE)]);
        let b = db_with(&[(b"l", list(&[b"y", b"x"]), NO_EXPIRE)]);
        assert_ne!(dataset_digest(&a), dataset_digest(&b));
    }

    #[test]
    fn the_database_number_is_part_of_the_digest() {
        let in_zero = db_with(&[(b"k", str_value(b"v"), NO_EXPIRE)]);
        let mut in_one = vec![Db::new(0), Db::new(1)];
        in_one[1].insert(b"k", str_value(b"v"), NO_EXPIRE, 0);
        assert_ne!(dataset_digest(&in_zero), dataset_digest(&in_one));
    }
}
