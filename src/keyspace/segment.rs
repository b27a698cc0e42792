//! Copy-on-write segments: the unit of sharing between the live keyspace and snapshots.
//!
//! A database is a directory of segments, each a small hash table of [`ItemRef`]s, chosen by
//! the top bits of the key's hash (extendible hashing: a segment that grows past
//! [`MAX_SEGMENT_ITEMS`] splits in two, and only its own items move, so no write ever pays
//! for a rehash of the whole database). Segments sit behind `Arc`: a snapshot clones the list
//! of segment pointers, and a later write to a shared segment copies only that segment's
//! pointer table (`Arc::make_mut`); the items themselves stay shared until they are written.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use super::key::Key;
use super::lfu::{self, AccessMode};
use super::value::Value;

/// A segment splits when it holds this many items: large enough that a database of
/// millions of keys has only thousands of segments (a snapshot clones that many pointers),
/// small enough that copying one on write costs microseconds.
pub const MAX_SEGMENT_ITEMS: usize = 1792;

/// "No expiry": the largest instant, so `expire_at <= now` is never true for it.
pub const NO_EXPIRE: i64 = i64::MAX;

/// One key with its value, expiry and access time.
#[derive(Debug)]
pub struct Item {
    /// The key.
    pub key: Key,
    /// Absolute expiry in Unix milliseconds, or [`NO_EXPIRE`]. Changed only through the
    /// database, which keeps the per-segment TTL counts right.
    expire_at: i64,
    /// Last access, in seconds of the server's LRU clock (OBJECT IDLETIME). Atomic so that a
    /// read can update it through a shared reference without copying a shared item.
    access: AtomicU32,
    /// The value.
    pub value: Value,
}

impl Clone for Item {
    fn clone(&self) -> Self {
        Item {
            key: self.key.clone(),
            expire_at: self.expire_at,
            access: AtomicU32::new(self.access.load(Ordering::Relaxed)),
            value: self.value.clone(),
        }
    }
}

impl Item {
    /// A new item.
    pub fn new(key: Key, value: Value, expire_at: i64, clock: u32) -> Item {
        Item {
            key,
            expire_at,
            access: AtomicU32::new(clock),
            value,
        }
    }

    /// Absolute expiry (Unix ms), or [`NO_EXPIRE`].
    pub fn expire_at(&self) -> i64 {
        self.expire_at
    }

    /// True when the item has a TTL.
    pub fn has_expire(&self) -> bool {
        self.expire_at != NO_EXPIRE
    }

    /// True when the item's expiry time has passed at `now`.
    pub fn is_expired(&self, now: i64) -> bool {
        self.expire_at <= now
    }

    /// Records an access at `clock` seconds.
    pub fn touch_access(&self, clock: u32) {
        self.access.store(clock, Ordering::Relaxed);
    }

    /// Last access, in LRU clock seconds (under an LFU policy: the LFU stamp, see
    /// [`super::lfu`]).
    pub fn access(&self) -> u32 {
        self.access.load(Ordering::Relaxed)
    }

    /// Records an access the way `mode` says: the LRU clock, or one LFU increment.
    pub fn record_access(&self, mode: AccessMode, clock: u32) {
        match mode {
            AccessMode::Lru => self.touch_access(clock),
            AccessMode::Lfu { .. } => {
                let stamp = lfu::accessed(
                    self.access(),
                    mode,
                    lfu::minutes_now(),
                    rand::random::<f64>(),
                );
                self.access.store(stamp, Ordering::Relaxed);
            }
        }
    }

    pub(super) fn set_expire_at(&mut self, at: i64) {
        self.expire_at = at;
    }
}

/// A shared, reference-counted item.
pub type ItemRef = triomphe::Arc<Item>;

/// The keyspace's hash function: seeded once per process so clients cannot aim collisions.
pub fn hash_key(key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    static STATE: OnceLock<foldhash::fast::FixedState> = OnceLock::new();
    STATE
        .get_or_init(|| foldhash::fast::FixedState::with_seed(rand::random()))
        .hash_one(key)
}

/// The hash a segment's table works with. hashbrown takes its 7-bit tag from the top of the
/// hash, but every item of a segment shares the top `depth` bits (that is how it was
/// chosen): with the key hash as is, all items of a deep segment carry the same tag and
/// every probe compares keys (a cache miss per item). Rotating puts varied bits on top.
#[inline]
fn table_hash(hash: u64) -> u64 {
    hash.rotate_left(32)
}

/// A segment: the items whose hash starts with `prefix` (its top `depth` bits).
#[derive(Debug, Clone)]
pub struct Segment {
    /// Number of top hash bits shared by every item here.
    pub depth: u32,
    /// Those bits, right-aligned.
    pub prefix: u64,
    /// Items that have an expiry.
    pub expires: u32,
    /// The items.
    pub table: HashTable<ItemRef>,
}

impl Segment {
    /// An empty segment covering hashes that start with `prefix` (`depth` bits).
    pub fn new(depth: u32, prefix: u64, capacity: usize) -> Segment {
        Segment {
            depth,
            prefix,
            expires: 0,
            table: HashTable::with_capacity(capacity),
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The lowest hash this segment covers.
    pub fn first_hash(&self) -> u64 {
        if self.depth == 0 {
            0
        } else {
            self.prefix << (64 - self.depth)
        }
    }

    /// The first hash after this segment's range, or `None` when it reaches the end.
    pub fn end_hash(&self) -> Option<u64> {
        if self.depth == 0 {
            return None;
        }
        let span = 1u64 << (64 - self.depth);
        self.first_hash().checked_add(span)
    }

    /// The item for `key` (with its precomputed `hash`).
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<&ItemRef> {
        self.table
            .find(table_hash(hash), |it| it.key.as_slice() == key)
    }

    /// Where `key` sits in the table: a position [`Segment::at`] reads without probing
    /// again, valid until the segment changes.
    pub fn position(&self, hash: u64, key: &[u8]) -> Option<usize> {
        self.table
            .find_bucket_index(table_hash(hash), |it| it.key.as_slice() == key)
    }

    /// The item at a position [`Segment::position`] returned.
    pub fn at(&self, position: usize) -> Option<&ItemRef> {
        self.table.get_bucket(position)
    }

    /// The slot at a position [`Segment::position`] returned, for in-place change.
    pub fn at_mut(&mut self, position: usize) -> Option<&mut ItemRef> {
        self.table.get_bucket_mut(position)
    }

    /// The slot for `key`, for replacement or copy-on-write mutation.
    pub fn find_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut ItemRef> {
        self.table
            .find_mut(table_hash(hash), |it| it.key.as_slice() == key)
    }

    /// Inserts an item known not to be present.
    pub fn insert_new(&mut self, hash: u64, item: ItemRef) {
        if item.has_expire() {
            self.expires += 1;
        }
        self.table
            .insert_unique(table_hash(hash), item, |it| table_hash(hash_key(&it.key)));
    }

    /// Puts `item` in its key's slot with one probe of the table, and returns the item it
    /// replaced. The per-segment TTL count follows. The caller says whether `item` has a
    /// TTL: reading it here would touch the item's memory, a cache miss a bulk load pays
    /// per key.
    pub fn upsert(&mut self, hash: u64, item: ItemRef, has_expire: bool) -> Option<ItemRef> {
        let entry = self.table.entry(
            table_hash(hash),
            |it| it.key.as_slice() == item.key.as_slice(),
            |it| table_hash(hash_key(&it.key)),
        );
        match entry {
            Entry::Occupied(mut slot) => {
                let old = std::mem::replace(slot.get_mut(), item);
                match (old.has_expire(), has_expire) {
                    (true, false) => self.expires -= 1,
                    (false, true) => self.expires += 1,
                    _ => {}
                }
                Some(old)
            }
            Entry::Vacant(slot) => {
                slot.insert(item);
                if has_expire {
                    self.expires += 1;
                }
                None
            }
        }
    }

    /// Removes and returns the item for `key`.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<ItemRef> {
        let entry = self
            .table
            .find_entry(table_hash(hash), |it| it.key.as_slice() == key)
            .ok()?;
        let (item, _) = entry.remove();
        if item.has_expire() {
            self.expires -= 1;
        }
        Some(item)
    }

    /// Splits into two segments one bit deeper: (hashes with the next bit 0, with it 1).
    pub fn split(&self) -> (Segment, Segment) {
        let depth = self.depth + 1;
        let bit = 1u64 << (64 - depth);
        let half = self.len() / 2 + 16;
        let mut low = Segment::new(depth, self.prefix << 1, half);
        let mut high = Segment::new(depth, (self.prefix << 1) | 1, half);
        for item in self.table.iter() {
            let h = hash_key(&item.key);
            let target = if h & bit == 0 { &mut low } else { &mut high };
            target.insert_new(h, item.clone());
        }
        (low, high)
    }
}
