//! One database: lookups with lazy expiry, writes with copy-on-write, SCAN, random keys,
//! the active expiry cycle, and the hooks WATCH and blocking commands rely on.
//!
//! Expiry has two modes. On a master (or a standalone server) a key whose time has passed is
//! deleted when touched, and its name is queued in [`Db::take_expired`] so that the command
//! layer propagates a `DEL` to replicas. On a replica keys are never deleted locally (the
//! master's `DEL` will come through the stream) but reads treat them as missing, as Redis 7.0
//! does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rand::Rng;

use super::key::Key;
use super::lfu::{self, AccessMode};
use super::segment::{hash_key, Item, ItemRef, Segment, MAX_SEGMENT_ITEMS, NO_EXPIRE};
use super::types::{HMap, HSet};
use super::value::{blob, Blob, Value};

/// A client's "a watched key was touched" flag, shared between its session and the
/// databases it watches keys in.
pub type WatchFlag = Arc<AtomicBool>;

/// One client watching one key (Redis's `watchedKey`).
#[derive(Debug, Clone)]
struct Watcher {
    /// Client id.
    id: u64,
    /// Set when the key changes: the client's EXEC fails.
    flag: WatchFlag,
    /// The key was there but logically expired (not yet deleted) when watched, or became
    /// so by a SWAPDB: its deletion is no change, and its staying expired is none either.
    expired: bool,
}

/// One database.
#[derive(Debug)]
pub struct Db {
    /// The database number.
    pub id: usize,
    /// Segments; the directory points into this vector.
    segments: Vec<Arc<Segment>>,
    /// `2^global_depth` entries, indexed by the top bits of a hash, each an index into
    /// `segments`.
    directory: Vec<u32>,
    global_depth: u32,
    len: usize,
    expires: usize,
    /// Where the active expiry cycle continues (an index into `segments`).
    expire_cursor: usize,
    /// When true, expired keys are hidden but never deleted (replica mode).
    pub hide_expired_only: bool,
    /// When true, expiry is ignored altogether: our master's stream runs against keys as
    /// they are, since the master decides when they expire (its DEL will come).
    pub ignore_expiry: bool,
    /// While writes are held (a client pause, a failover waiting for its replicas), expired
    /// keys are hidden but not deleted: a deletion would be a write behind the pause.
    pub expiry_held: bool,
    /// Keys deleted by lazy or active expiry, waiting to be propagated as DELs.
    expired: Vec<Blob>,
    /// Keys given a TTL by a client of this (writable) replica rather than by our master:
    /// no DEL will ever come for them, so the replica's own cron expires them
    /// ([`Db::expire_local_keys`]; Redis's `slaveKeysWithExpire`).
    local_volatile: HSet<Blob>,
    /// WATCHed keys → the clients watching them.
    watched: HMap<Blob, Vec<Watcher>>,
    /// Keys some client is blocked on (BLPOP...), with the number of such clients.
    blocked: HMap<Blob, u32>,
    /// Keys that may now serve blocked clients, in the order they became ready.
    ready: Vec<Blob>,
    /// How reads record accesses (LRU clock or LFU counter, from `maxmemory-policy`).
    pub access_mode: AccessMode,
    /// Keys created since the last [`Db::take_new_keys`], kept only while `new` keyspace
    /// events are enabled (`None` otherwise: no cost per insert).
    new_keys: Option<Vec<Blob>>,
    /// Keys read lookups missed since the last [`Db::take_missed_keys`], kept only while
    /// `keymiss` events are enabled.
    missed_keys: Option<Vec<Blob>>,
    /// Keys modified since the last [`Db::take_modified`], kept only while clients use
    /// server-assisted client-side caching (`CLIENT TRACKING`).
    modified: Option<ModifiedKeys>,
    /// Statistics: keys deleted because they expired.
    pub stat_expired: u64,
    /// Statistics: read lookups that found a key.
    pub stat_hits: u64,
    /// Statistics: read lookups that found nothing.
    pub stat_misses: u64,
}

/// What changed in a database since the tracking layer last looked.
#[derive(Debug, Default)]
pub struct ModifiedKeys {
    /// The keys modified, in order, each with whether expiry deleted it (a change no
    /// client made, which `NOLOOP` never hides).
    pub keys: Vec<(Blob, bool)>,
    /// Every key may have changed (a flush, a swap, or more changes than are worth
    /// listing).
    pub all: bool,
}

impl ModifiedKeys {
    /// Beyond this many keys in one batch, the batch counts as "everything changed": the
    /// log stays bounded however many keys one command touches.
    const MAX_KEYS: usize = 1 << 20;

    fn add(&mut self, key: &[u8], by_expiry: bool) {
        if self.all {
            return;
        }
        if self.keys.len() >= Self::MAX_KEYS {
            self.set_all();
            return;
        }
        self.keys.push((blob(key), by_expiry));
    }

    fn set_all(&mut self) {
        self.all = true;
        self.keys = Vec::new();
    }
}

/// A frozen view of one database, taken in O(number of segments) under the lock.
#[derive(Debug, Clone)]
pub struct DbSnapshot {
    /// The database number.
    pub id: usize,
    /// Number of keys at the time of the snapshot (expired ones included).
    pub len: usize,
    /// Number of keys with a TTL.
    pub expires: usize,
    segments: Vec<Arc<Segment>>,
}

impl DbSnapshot {
    /// Every item of the snapshot.
    pub fn items(&self) -> impl Iterator<Item = &ItemRef> {
        self.segments.iter().flat_map(|s| s.table.iter())
    }
}

impl Db {
    /// An empty database.
    pub fn new(id: usize) -> Db {
        Db {
            id,
            segments: vec![Arc::new(Segment::new(0, 0, 0))],
            directory: vec![0],
            global_depth: 0,
            len: 0,
            expires: 0,
            expire_cursor: 0,
            hide_expired_only: false,
            expiry_held: false,
            ignore_expiry: false,
            expired: Vec::new(),
            local_volatile: HSet::default(),
            watched: HMap::default(),
            blocked: HMap::default(),
            ready: Vec::new(),
            access_mode: AccessMode::Lru,
            new_keys: None,
            missed_keys: None,
            modified: None,
            stat_expired: 0,
            stat_hits: 0,
            stat_misses: 0,
        }
    }

    /// Prepares an empty database for about `keys` keys (an RDB's RESIZEDB hint): the
    /// directory is split up front, into segments sized for the keys they will get (about
    /// 1,500 each), so that a load never splits or rehashes a segment. The caller bounds
    /// `keys` (the tables are allocated for it); the depth is capped at 16.
    /// Does nothing unless the database is empty and unsplit.
    pub fn reserve(&mut self, keys: usize) {
        if self.len != 0 || self.global_depth != 0 {
            return;
        }
        let mut depth = 0u32;
        while depth < 16 && (keys >> depth) > 1536 {
            depth += 1;
        }
        if depth == 0 {
            return;
        }
        let n = 1usize << depth;
        let per = keys >> depth;
        let capacity = (per + per / 8 + 16).min(MAX_SEGMENT_ITEMS);
        self.segments = (0..n)
            .map(|prefix| Arc::new(Segment::new(depth, prefix as u64, capacity)))
            .collect();
        self.directory = (0..n as u32).collect();
        self.global_depth = depth;
        self.expire_cursor = 0;
    }

    /// Number of keys (including expired ones not yet deleted, as DBSIZE counts them).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the database holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of keys with a TTL.
    pub fn expires_count(&self) -> usize {
        self.expires
    }

    /// Number of segments (for tests and statistics).
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    fn segment_index(&self, hash: u64) -> usize {
        let slot = if self.global_depth == 0 {
            0
        } else {
            (hash >> (64 - self.global_depth)) as usize
        };
        self.directory[slot] as usize
    }

    /// Takes a point-in-time snapshot: clones the segment pointers, nothing else.
    pub fn snapshot(&self) -> DbSnapshot {
        DbSnapshot {
            id: self.id,
            len: self.len,
            expires: self.expires,
            segments: self.segments.clone(),
        }
    }

    /// The live item for `key`, applying lazy expiry. Does not count hits or misses.
    pub fn get(&mut self, key: &[u8], now: i64) -> Option<&ItemRef> {
        let (si, position) = self.locate_live(key, now)?;
        self.segments[si].at(position)
    }

    /// Like [`Db::get`], counting a keyspace hit or miss and recording the access (for read
    /// commands).
    pub fn get_counted(&mut self, key: &[u8], now: i64, clock: u32) -> Option<&ItemRef> {
        let mode = self.access_mode;
        let item = self.get_counted_untouched(key, now)?;
        item.record_access(mode, clock);
        Some(item)
    }

    /// Like [`Db::get_counted`] without recording the access: TTL, TYPE and EXISTS look at
    /// a key without making it recently used (Redis's LOOKUP_NOTOUCH).
    pub fn get_counted_untouched(&mut self, key: &[u8], now: i64) -> Option<&ItemRef> {
        let Some((si, position)) = self.locate_live(key, now) else {
            self.stat_misses += 1;
            if let Some(log) = &mut self.missed_keys {
                log.push(blob(key));
            }
            return None;
        };
        self.stat_hits += 1;
        self.segments[si].at(position)
    }

    /// The segment and position of `key` when it is live, expiring it first when its time
    /// has passed. One probe of the table: reads are the hot path, and every probe that
    /// compares keys is a cache miss.
    fn locate_live(&mut self, key: &[u8], now: i64) -> Option<(usize, usize)> {
        let hash = hash_key(key);
        let si = self.segment_index(hash);
        let segment = &self.segments[si];
        let position = segment.position(hash, key)?;
        let expired = segment
            .at(position)
            .is_some_and(|item| !self.ignore_expiry && item.is_expired(now));
        if expired {
            self.expire_key(si, hash, key);
            return None;
        }
        Some((si, position))
    }

    /// Deletes `key` if it is live (an expired key is expired first, as DEL does); returns
    /// whether a live key was deleted.
    pub fn delete(&mut self, key: &[u8], now: i64) -> bool {
        self.take(key, now).is_some()
    }

    /// Deletes a live `key` and returns its item (for the caller to free where it wants).
    pub fn take(&mut self, key: &[u8], now: i64) -> Option<ItemRef> {
        self.get(key, now)?;
        self.remove(key)
    }

    /// The item for `key` without expiry checks or side effects (OBJECT, TTL internals).
    pub fn peek(&self, key: &[u8]) -> Option<&ItemRef> {
        let hash = hash_key(key);
        self.segments[self.segment_index(hash)].find(hash, key)
    }

    /// True when `key` exists and is not expired.
    pub fn contains(&mut self, key: &[u8], now: i64) -> bool {
        self.get(key, now).is_some()
    }

    /// The value of `key` for in-place modification (copying a segment or item a snapshot
    /// shares). The caller signals the modification with [`Db::touch`].
    pub fn get_mut(&mut self, key: &[u8], now: i64) -> Option<&mut Value> {
        self.get_item_mut(key, now).map(|item| &mut item.value)
    }

    /// The live item of `key` for in-place change (copying the segment and the item first
    /// when a snapshot shares them). The caller signals the change.
    pub fn get_item_mut(&mut self, key: &[u8], now: i64) -> Option<&mut Item> {
        let (si, position) = self.locate_live(key, now)?;
        let seg = Arc::make_mut(&mut self.segments[si]);
        // A copied table keeps every item at its position; checked all the same.
        let position = if seg.at(position).is_some_and(|it| it.key.as_slice() == key) {
            position
        } else {
            seg.position(hash_key(key), key)?
        };
        Some(triomphe::Arc::make_mut(seg.at_mut(position)?))
    }

    /// Stores `value` under `key` with `expire_at` (or [`NO_EXPIRE`]), replacing any previous
    /// item; returns the previous item. Signals WATCH and blocked clients.
    pub fn insert(
        &mut self,
        key: &[u8],
        value: Value,
        expire_at: i64,
        clock: u32,
    ) -> Option<ItemRef> {
        let hash = hash_key(key);
        let mut si = self.segment_index(hash);
        if self.segments[si].len() >= MAX_SEGMENT_ITEMS
            && self.segments[si].find(hash, key).is_none()
        {
            self.split(si);
            si = self.segment_index(hash);
        }
        let stamp = match self.access_mode {
            AccessMode::Lru => clock,
            // A new key starts at Redis's initial count; an overwritten one keeps its
            // history (Redis's dbOverwrite) plus this access.
            AccessMode::Lfu { .. } => match self.segments[si].find(hash, key) {
                Some(old) => lfu::accessed(
                    old.access(),
                    self.access_mode,
                    lfu::minutes_now(),
                    rand::random::<f64>(),
                ),
                None => lfu::initial(lfu::minutes_now()),
            },
        };
        let item = ItemRef::new(Item::new(Key::new(key), value, expire_at, stamp));
        let has_expire = expire_at != NO_EXPIRE;
        let old = Arc::make_mut(&mut self.segments[si]).upsert(hash, item, has_expire);
        match &old {
            Some(old) => match (old.has_expire(), has_expire) {
                (true, false) => self.expires -= 1,
                (false, true) => self.expires += 1,
                _ => {}
            },
            None => {
                self.len += 1;
                if has_expire {
                    self.expires += 1;
                }
                if let Some(log) = &mut self.new_keys {
                    log.push(blob(key));
                }
            }
        }
        self.note_ttl_writer(key, has_expire);
        self.touch(key);
        self.signal_ready(key);
        old
    }

    /// Adds a batch of loaded keys (an RDB load into a database no client sees yet) in hash
    /// order rather than file order: the keys of one segment go in one after another while
    /// its table is in cache, where file order touches a random segment and a random bucket
    /// for every key (those cache misses were a third of a replica's load time). WATCH and
    /// blocked clients are not signalled: nobody can watch a database still being loaded.
    /// Returns the first duplicate in file order, if any (the batch's items are all added).
    pub fn insert_loaded(&mut self, batch: &mut LoadBatch) -> Option<LoadedKey> {
        // Among equal hashes, file order: a duplicate is found at its second copy.
        batch.keys.sort_unstable_by_key(|k| (k.hash, k.offset));
        let mut duplicate: Option<LoadedKey> = None;
        for loaded in batch.keys.drain(..) {
            let hash = loaded.hash;
            let mut si = self.segment_index(hash);
            if self.segments[si].len() >= MAX_SEGMENT_ITEMS {
                self.split(si);
                si = self.segment_index(hash);
            }
            let LoadedKey {
                item,
                offset,
                has_expire,
                ..
            } = loaded;
            let seg = Arc::make_mut(&mut self.segments[si]);
            match seg.upsert(hash, item, has_expire) {
                Some(first) => {
                    // The first copy goes back; the second is the error.
                    let first_expires = first.has_expire();
                    if let Some(second) = seg.upsert(hash, first, first_expires) {
                        if duplicate.as_ref().is_none_or(|d| offset < d.offset) {
                            duplicate = Some(LoadedKey {
                                hash,
                                item: second,
                                offset,
                                has_expire,
                            });
                        }
                    }
                }
                None => {
                    self.len += 1;
                    if has_expire {
                        self.expires += 1;
                    }
                }
            }
        }
        duplicate
    }

    /// The item a load adds for `key`: stamped as [`Db::insert`] stamps a new key.
    pub fn loaded_item(&self, key: &[u8], value: Value, expire_at: i64, clock: u32) -> ItemRef {
        let stamp = match self.access_mode {
            AccessMode::Lru => clock,
            AccessMode::Lfu { .. } => lfu::initial(lfu::minutes_now()),
        };
        ItemRef::new(Item::new(Key::new(key), value, expire_at, stamp))
    }

    /// Tracks keys a local client of a replica gives a TTL (see `local_volatile`); a write
    /// from our master's stream takes the key back into the master's care.
    fn note_ttl_writer(&mut self, key: &[u8], has_expire: bool) {
        if !self.hide_expired_only {
            return;
        }
        if has_expire && !self.ignore_expiry {
            if !self.local_volatile.contains(key) {
                self.local_volatile.insert(blob(key));
            }
        } else if !self.local_volatile.is_empty() {
            self.local_volatile.remove(key);
        }
    }

    /// On a writable replica, deletes the keys its own clients wrote whose TTL has passed
    /// (nothing is propagated: a replica's local writes stay local). Stops at `deadline`;
    /// returns how many keys it deleted.
    pub fn expire_local_keys(&mut self, now: i64, deadline: Instant) -> usize {
        if self.local_volatile.is_empty() {
            return 0;
        }
        let tracked: Vec<Blob> = self.local_volatile.iter().cloned().collect();
        let mut deleted = 0;
        for (i, key) in tracked.iter().enumerate() {
            if i % 64 == 63 && Instant::now() >= deadline {
                break;
            }
            let state = self
                .peek(key)
                .map(|it| (it.has_expire(), it.is_expired(now)));
            match state {
                Some((true, false)) => continue,
                Some((true, true)) => {
                    self.remove(key);
                    self.stat_expired += 1;
                    deleted += 1;
                }
                // Gone, or persisted: nothing left to expire.
                _ => {}
            }
            self.local_volatile.remove(key);
        }
        deleted
    }

    /// Forgets which keys local clients gave a TTL (the node stops being a replica: its
    /// ordinary expiry now covers every key).
    pub fn forget_local_volatile(&mut self) {
        self.local_volatile = HSet::default();
    }

    /// Replaces the value of an existing `key`, keeping its TTL; inserts without TTL when
    /// the key is missing. Returns the previous item.
    pub fn insert_keep_ttl(
        &mut self,
        key: &[u8],
        value: Value,
        now: i64,
        clock: u32,
    ) -> Option<ItemRef> {
        let ttl = self
            .get(key, now)
            .map(|it| it.expire_at())
            .unwrap_or(NO_EXPIRE);
        self.insert(key, value, ttl, clock)
    }

    /// Deletes `key` (expired or not); returns the item. Signals WATCH.
    pub fn remove(&mut self, key: &[u8]) -> Option<ItemRef> {
        let hash = hash_key(key);
        let si = self.segment_index(hash);
        self.segments[si].find(hash, key)?;
        let seg = Arc::make_mut(&mut self.segments[si]);
        let item = seg.remove(hash, key)?;
        self.len -= 1;
        if item.has_expire() {
            self.expires -= 1;
        }
        self.touch(key);
        // Clients blocked in XREADGROUP on a stream that goes are answered at once (Redis's
        // `unblockDeletedStreamReadgroupClients`), not left waiting for a group that is gone.
        if matches!(item.value, Value::Stream(_)) {
            self.signal_ready(key);
        }
        Some(item)
    }

    /// Sets the absolute expiry of an existing, live `key`; returns false when missing.
    pub fn set_expire(&mut self, key: &[u8], at: i64, now: i64) -> bool {
        if self.get(key, now).is_none() {
            return false;
        }
        let hash = hash_key(key);
        let si = self.segment_index(hash);
        let seg = Arc::make_mut(&mut self.segments[si]);
        let Some(slot) = seg.find_mut(hash, key) else {
            return false;
        };
        let had = slot.has_expire();
        triomphe::Arc::make_mut(slot).set_expire_at(at);
        let has = at != NO_EXPIRE;
        match (had, has) {
            (false, true) => {
                seg.expires += 1;
                self.expires += 1;
            }
            (true, false) => {
                seg.expires -= 1;
                self.expires -= 1;
            }
            _ => {}
        }
        self.note_ttl_writer(key, has);
        self.touch(key);
        true
    }

    /// Deletes an expired key found during a lookup (master mode) and queues its DEL.
    fn expire_key(&mut self, si: usize, hash: u64, key: &[u8]) {
        if self.hide_expired_only || self.expiry_held {
            return;
        }
        let seg = Arc::make_mut(&mut self.segments[si]);
        if let Some(item) = seg.remove(hash, key) {
            self.len -= 1;
            if item.has_expire() {
                self.expires -= 1;
            }
            self.stat_expired += 1;
            self.expired.push(blob(&item.key));
            self.log_modified(key, true);
            self.touch_watchers(key);
        }
    }

    /// Starts or stops recording the keys created (for `new` keyspace events).
    pub fn log_new_keys(&mut self, on: bool) {
        match (on, self.new_keys.is_some()) {
            (true, false) => self.new_keys = Some(Vec::new()),
            (false, true) => self.new_keys = None,
            _ => {}
        }
    }

    /// Starts or stops recording the keys read lookups miss (for `keymiss` events).
    pub fn log_missed_keys(&mut self, on: bool) {
        match (on, self.missed_keys.is_some()) {
            (true, false) => self.missed_keys = Some(Vec::new()),
            (false, true) => self.missed_keys = None,
            _ => {}
        }
    }

    /// Starts or stops recording modified keys (for `CLIENT TRACKING` invalidations).
    pub fn log_modified_keys(&mut self, on: bool) {
        match (on, self.modified.is_some()) {
            (true, false) => self.modified = Some(ModifiedKeys::default()),
            (false, true) => self.modified = None,
            _ => {}
        }
    }

    /// True while modified keys are recorded.
    pub fn logs_modified_keys(&self) -> bool {
        self.modified.is_some()
    }

    /// What was modified since the last call (nothing unless recording).
    pub fn take_modified(&mut self) -> ModifiedKeys {
        match &mut self.modified {
            Some(log) if log.all || !log.keys.is_empty() => std::mem::take(log),
            _ => ModifiedKeys::default(),
        }
    }

    /// Records that `key` changed (`by_expiry`: expiry deleted it).
    fn log_modified(&mut self, key: &[u8], by_expiry: bool) {
        if let Some(log) = &mut self.modified {
            log.add(key, by_expiry);
        }
    }

    /// Keys missed since the last call (empty unless recording).
    pub fn take_missed_keys(&mut self) -> Vec<Blob> {
        match &mut self.missed_keys {
            Some(log) if !log.is_empty() => std::mem::take(log),
            _ => Vec::new(),
        }
    }

    /// Keys created since the last call (empty unless recording).
    pub fn take_new_keys(&mut self) -> Vec<Blob> {
        match &mut self.new_keys {
            Some(log) if !log.is_empty() => std::mem::take(log),
            _ => Vec::new(),
        }
    }

    /// Keys deleted by expiry since the last call, to propagate as DELs.
    pub fn take_expired(&mut self) -> Vec<Blob> {
        std::mem::take(&mut self.expired)
    }

    /// True when expiry deleted keys that are not yet propagated.
    pub fn has_expired_pending(&self) -> bool {
        !self.expired.is_empty()
    }

    /// Removes every key; returns the old segments so the caller can free them off the
    /// critical path. Touches watched keys that existed.
    pub fn clear(&mut self) -> Vec<Arc<Segment>> {
        self.touch_watched_replaced_by(None, 0);
        if let Some(log) = &mut self.modified {
            log.set_all();
        }
        let streams = self.blocked_streams();
        self.len = 0;
        self.expires = 0;
        self.expire_cursor = 0;
        self.local_volatile = HSet::default();
        self.directory = vec![0];
        self.global_depth = 0;
        let old = std::mem::replace(&mut self.segments, vec![Arc::new(Segment::new(0, 0, 0))]);
        self.signal_streams_gone(streams);
        old
    }

    /// Keys clients are blocked on that hold a stream now.
    fn blocked_streams(&self) -> Vec<Blob> {
        if self.blocked.is_empty() {
            return Vec::new();
        }
        self.blocked
            .keys()
            .filter(|k| matches!(self.peek(k).map(|i| &i.value), Some(Value::Stream(_))))
            .cloned()
            .collect()
    }

    /// Signals the keys of `streams` that no longer hold a stream (a flush, SWAPDB or a
    /// loaded dataset replaced them), so XREADGROUP clients blocked on them are answered
    /// (Redis's `scanDatabaseForDeletedStreams`).
    fn signal_streams_gone(&mut self, streams: Vec<Blob>) {
        for key in streams {
            if !matches!(self.peek(&key).map(|i| &i.value), Some(Value::Stream(_))) {
                self.signal_ready(&key);
            }
        }
    }

    /// Exchanges the contents of two databases (SWAPDB), keeping each one's id, watchers and
    /// blocked clients in place, as Redis does; each side's watchers see their keys replaced
    /// by the other's (at `now`, for what counts as expired).
    pub fn swap_contents(&mut self, other: &mut Db, now: i64) {
        self.touch_watched_replaced_by(Some(other), now);
        // Every key may have changed: for client-side caches, as a flush (Redis invalidates
        // everything when a loaded dataset replaces the live one; SWAPDB is the same change).
        for db in [&mut *self, &mut *other] {
            if let Some(log) = &mut db.modified {
                log.set_all();
            }
        }
        other.touch_watched_replaced_by(Some(self), now);
        let (mine, theirs) = (self.blocked_streams(), other.blocked_streams());
        self.swap_segments(other);
        self.signal_streams_gone(mine);
        other.signal_streams_gone(theirs);
    }

    fn swap_segments(&mut self, other: &mut Db) {
        std::mem::swap(&mut self.segments, &mut other.segments);
        std::mem::swap(&mut self.directory, &mut other.directory);
        std::mem::swap(&mut self.global_depth, &mut other.global_depth);
        std::mem::swap(&mut self.len, &mut other.len);
        std::mem::swap(&mut self.expires, &mut other.expires);
        std::mem::swap(&mut self.local_volatile, &mut other.local_volatile);
        self.expire_cursor = 0;
        other.expire_cursor = 0;
    }

    /// Redis's `touchAllWatchedKeysInDb`: this database's contents are about to be replaced
    /// by `with` (SWAPDB), or emptied (`None`: FLUSHDB, FLUSHALL). A watched key that was
    /// here or will be here is a change for its watchers, except where nothing changes
    /// logically: a key already expired when watched that goes away or stays expired, or a
    /// missing key replaced by an expired one (its watchers then count it as expired).
    fn touch_watched_replaced_by(&mut self, with: Option<&Db>, now: i64) {
        if self.watched.is_empty() {
            return;
        }
        let keys: Vec<Blob> = self.watched.keys().cloned().collect();
        for key in keys {
            let here = self.peek(&key).is_some();
            let there = with.and_then(|db| db.peek(&key));
            if !here && there.is_none() {
                continue;
            }
            let there_expired = there.is_some_and(|item| item.is_expired(now));
            let Some(watchers) = self.watched.get_mut(&key) else {
                continue;
            };
            for w in watchers {
                if w.expired {
                    if there.is_none() {
                        w.expired = false;
                        continue;
                    }
                    if there_expired {
                        continue;
                    }
                } else if !here && there_expired {
                    w.expired = true;
                    continue;
                }
                w.flag.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Marks every key that can now serve blocked clients (after SWAPDB or a load).
    pub fn signal_all_blocked(&mut self) {
        let keys: Vec<Blob> = self.blocked.keys().cloned().collect();
        for key in keys {
            if self.peek(&key).is_some() {
                self.signal_ready(&key);
            }
        }
    }

    fn split(&mut self, si: usize) {
        let depth = self.segments[si].depth;
        if depth == self.global_depth {
            // Double the directory: slot i of the new one points where slot i/2 did.
            let doubled: Vec<u32> = self.directory.iter().flat_map(|&s| [s, s]).collect();
            self.directory = doubled;
            self.global_depth += 1;
        }
        let (low, high) = self.segments[si].split();
        let high_prefix = high.prefix;
        let new_depth = high.depth;
        self.segments[si] = Arc::new(low);
        self.segments.push(Arc::new(high));
        let high_index = (self.segments.len() - 1) as u32;
        // Directory slots whose top `new_depth` bits equal the high half's prefix.
        let shift = self.global_depth - new_depth;
        let first = (high_prefix << shift) as usize;
        let count = 1usize << shift;
        for slot in &mut self.directory[first..first + count] {
            *slot = high_index;
        }
    }

    // ---- WATCH and blocking hooks ----

    /// Signals that `key` was modified: every client watching it will fail its EXEC — but
    /// for a watcher that saw the key already expired, its deletion is no change (Redis's
    /// `touchWatchedKey`). Called after the change, so a deleted key is gone.
    pub fn touch(&mut self, key: &[u8]) {
        self.log_modified(key, false);
        self.touch_watchers(key);
    }

    /// The WATCH half of [`Db::touch`].
    fn touch_watchers(&mut self, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        let gone = self.peek(key).is_none();
        if let Some(watchers) = self.watched.get_mut(key) {
            for w in watchers {
                if w.expired && gone {
                    w.expired = false;
                    continue;
                }
                w.flag.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Registers client `id` as watching `key`; `now` tells whether the key is there but
    /// already expired (then its lazy deletion will not fail the EXEC).
    pub fn watch(&mut self, key: &[u8], id: u64, flag: &WatchFlag, now: i64) {
        let expired = self.peek(key).is_some_and(|item| item.is_expired(now));
        let list = self.watched.entry(blob(key)).or_default();
        if !list.iter().any(|w| w.id == id) {
            list.push(Watcher {
                id,
                flag: flag.clone(),
                expired,
            });
        }
    }

    /// Removes client `id`'s watch on `key`.
    pub fn unwatch(&mut self, key: &[u8], id: u64) {
        if let Some(list) = self.watched.get_mut(key) {
            list.retain(|w| w.id != id);
            if list.is_empty() {
                self.watched.remove(key);
            }
        }
    }

    /// True when client `id` watches `key`, the key was not expired when watched (nor
    /// counted so since), and it has expired now: EXEC fails (Redis's
    /// `isWatchedKeyExpired`).
    pub fn watched_key_expired(&self, key: &[u8], id: u64, now: i64) -> bool {
        let counted_expired = self
            .watched
            .get(key)
            .and_then(|list| list.iter().find(|w| w.id == id))
            .is_none_or(|w| w.expired);
        !counted_expired && self.peek(key).is_some_and(|item| item.is_expired(now))
    }

    /// Notes that a client blocks on `key`.
    pub fn block_on(&mut self, key: &[u8]) {
        *self.blocked.entry(blob(key)).or_default() += 1;
    }

    /// Notes that a client blocked on `key` stopped waiting.
    pub fn unblock_on(&mut self, key: &[u8]) {
        if let Some(n) = self.blocked.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                self.blocked.remove(key);
            }
        }
    }

    /// Marks `key` as ready for blocked clients, if any wait on it.
    pub fn signal_ready(&mut self, key: &[u8]) {
        if !self.blocked.is_empty()
            && self.blocked.contains_key(key)
            && !self.ready.iter().any(|k| k.as_slice() == key)
        {
            self.ready.push(blob(key));
        }
    }

    /// Keys that became ready since the last call.
    pub fn take_ready(&mut self) -> Vec<Blob> {
        std::mem::take(&mut self.ready)
    }

    /// True when some key is ready for blocked clients.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    // ---- iteration ----

    /// Calls `f` for every stored key, expired or not (what Redis's dictionary iterator
    /// sees: DEBUG DIGEST).
    pub fn for_each_stored(&self, mut f: impl FnMut(&ItemRef)) {
        for seg in &self.segments {
            seg.table.iter().for_each(&mut f);
        }
    }

    /// Calls `f` for every live key.
    pub fn for_each_live(&self, now: i64, mut f: impl FnMut(&ItemRef)) {
        for seg in &self.segments {
            for item in seg.table.iter() {
                if !item.is_expired(now) {
                    f(item);
                }
            }
        }
    }

    /// One SCAN step from `cursor`: calls `f` for at least `count` items (or all that are
    /// left) and returns the next cursor, 0 when the iteration is complete.
    ///
    /// The cursor is a position in hash space: every key whose hash is at or above it and
    /// that exists for the whole iteration is returned, however the segments split between
    /// calls, which is SCAN's guarantee. Keys with equal hashes are never separated.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&ItemRef)) -> u64 {
        let mut pos = cursor;
        let mut emitted = 0usize;
        loop {
            let seg = &self.segments[self.segment_index(pos)];
            let mut items: Vec<(u64, &ItemRef)> = seg
                .table
                .iter()
                .map(|it| (hash_key(&it.key), it))
                .filter(|(h, _)| *h >= pos)
                .collect();
            items.sort_unstable_by_key(|(h, _)| *h);
            let mut i = 0;
            while i < items.len() {
                if emitted >= count && items[i].0 != items[i - 1].0 {
                    return items[i].0;
                }
                f(items[i].1);
                emitted += 1;
                i += 1;
            }
            match seg.end_hash() {
                None => return 0,
                Some(next) => pos = next,
            }
            if emitted >= count {
                return pos;
            }
        }
    }

    /// A random live key, if any (RANDOMKEY). Expired keys met on the way are expired.
    pub fn random_key(&mut self, now: i64) -> Option<Blob> {
        let mut rng = rand::rng();
        for _ in 0..100 {
            if self.len == 0 {
                return None;
            }
            let slot = rng.random_range(0..self.directory.len());
            let seg = &self.segments[self.directory[slot] as usize];
            if seg.is_empty() {
                continue;
            }
            let n = rng.random_range(0..seg.len());
            let Some(item) = seg.table.iter().nth(n) else {
                continue;
            };
            let key = blob(&item.key);
            if item.is_expired(now) {
                if self.hide_expired_only {
                    // A replica returns expired keys after enough tries rather than loop.
                    continue;
                }
                let hash = hash_key(&key);
                let si = self.segment_index(hash);
                self.expire_key(si, hash, &key);
                continue;
            }
            return Some(key);
        }
        // Every try met an expired key or an empty segment: fall back to a full walk.
        let mut found = None;
        self.for_each_live(now, |it| {
            if found.is_none() {
                found = Some(blob(&it.key));
            }
        });
        found
    }

    /// Calls `f` with up to `n` live items picked at random (only items with a TTL when
    /// `volatile`), as candidates for eviction. Like Redis's `dictGetSomeKeys`, it reads
    /// consecutive buckets from a random place in a random segment: neighbouring buckets
    /// share cache lines, so a sample costs about one memory miss per item rather than
    /// three, and the keys' hashes make neighbours as good as random picks. Bounded work:
    /// it never walks the database.
    pub fn sample(&self, n: usize, volatile: bool, now: i64, mut f: impl FnMut(&ItemRef)) {
        if self.len == 0 || (volatile && self.expires == 0) {
            return;
        }
        let mut rng = rand::rng();
        let mut found = 0;
        for _ in 0..n.max(4) {
            let seg = &self.segments[rng.random_range(0..self.segments.len())];
            if seg.is_empty() || (volatile && seg.expires == 0) {
                continue;
            }
            let buckets = seg.table.num_buckets();
            let start = rng.random_range(0..buckets);
            for step in 0..buckets.min(64 * n) {
                let Some(item) = seg.at((start + step) % buckets) else {
                    continue;
                };
                if (volatile && !item.has_expire()) || (!self.ignore_expiry && item.is_expired(now))
                {
                    continue;
                }
                f(item);
                found += 1;
                if found == n {
                    return;
                }
            }
        }
    }

    /// One pass of active expiry: examines keys with a TTL from where the last pass stopped,
    /// deleting expired ones, and keeps going while more than a quarter of a sample was
    /// expired and `deadline` is not reached. Returns (examined, expired).
    pub fn active_expire(&mut self, now: i64, deadline: Instant) -> (usize, usize) {
        const SAMPLE: usize = 20;
        if self.expires == 0 || self.hide_expired_only || self.expiry_held {
            return (0, 0);
        }
        let mut total_checked = 0;
        let mut total_expired = 0;
        let mut visited_segments = 0;
        loop {
            let mut checked = 0;
            let mut expired_keys: Vec<(u64, Blob)> = Vec::new();
            while checked < SAMPLE && visited_segments < self.segments.len() {
                if self.expire_cursor >= self.segments.len() {
                    self.expire_cursor = 0;
                }
                let seg = &self.segments[self.expire_cursor];
                self.expire_cursor += 1;
                visited_segments += 1;
                if seg.expires == 0 {
                    continue;
                }
                for item in seg.table.iter() {
                    if item.has_expire() {
                        checked += 1;
                        if item.is_expired(now) {
                            expired_keys.push((hash_key(&item.key), blob(&item.key)));
                        }
                    }
                }
            }
            let expired = expired_keys.len();
            for (hash, key) in expired_keys {
                let si = self.segment_index(hash);
                self.expire_key(si, hash, &key);
            }
            total_checked += checked;
            total_expired += expired;
            let keep_going = checked > 0 && expired * 4 > checked;
            if !keep_going || visited_segments >= self.segments.len() || Instant::now() >= deadline
            {
                return (total_checked, total_expired);
            }
        }
    }
}

/// One key read by a load, waiting in a [`LoadBatch`].
#[derive(Debug)]
pub struct LoadedKey {
    /// The key's hash.
    pub hash: u64,
    /// The item to add.
    pub item: ItemRef,
    /// Where the key starts in the file (a duplicate is reported there).
    pub offset: u64,
    /// Whether the item has a TTL, kept here so that adding it reads nothing from the
    /// item's own memory.
    pub has_expire: bool,
}

/// Keys a load has read and not yet added to their database (see [`Db::insert_loaded`]).
#[derive(Debug, Default)]
pub struct LoadBatch {
    keys: Vec<LoadedKey>,
}

impl LoadBatch {
    /// Keys gathered before they go into the database: enough that every segment of a
    /// database of millions of keys receives hundreds in a row, and a bounded cost (32 MiB).
    pub const CAPACITY: usize = 1 << 20;

    /// Adds `key`'s item, read at `offset`; true when the batch is full.
    pub fn push(&mut self, key: &[u8], item: ItemRef, offset: u64) -> bool {
        let has_expire = item.has_expire();
        self.keys.push(LoadedKey {
            hash: hash_key(key),
            item,
            offset,
            has_expire,
        });
        self.keys.len() >= Self::CAPACITY
    }

    /// True when no key waits.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::StrValue;

    fn s(v: &str) -> Value {
        Value::Str(StrValue::from_bytes(v.as_bytes()))
    }

    /// A loaded batch lands whole, in any order, through segment splits, with the counts
    /// of a key-by-key insert; the duplicate reported is the later copy in file order.
    #[test]
    fn a_loaded_batch_matches_key_by_key_inserts_and_names_the_later_duplicate() {
        let mut loaded = Db::new(0);
        let mut one_by_one = Db::new(0);
        let mut batch = LoadBatch::default();
        for i in 0..20_000u64 {
            let key = format!("key:{i}");
            let expire = if i % 3 == 0 {
                4_000_000_000_000
            } else {
                NO_EXPIRE
            };
            let item = loaded.loaded_item(key.as_bytes(), s("v"), expire, 7);
            assert!(!batch.push(key.as_bytes(), item, i * 10));
            one_by_one.insert(key.as_bytes(), s("v"), expire, 7);
        }
        assert!(loaded.insert_loaded(&mut batch).is_none());
        assert!(batch.is_empty());
        assert_eq!(loaded.len(), one_by_one.len());
        assert_eq!(loaded.expires, one_by_one.expires);
        assert!(loaded.segments.len() > 1, "the batch went through splits");
        for i in 0..20_000u64 {
            let key = format!("key:{i}");
            let item = loaded.peek(key.as_bytes()).expect("loaded");
            assert_eq!(item.has_expire(), i % 3 == 0);
            assert_eq!(item.access(), 7);
        }
        // Two copies of "dup" (offsets 5 and 50) and of "twice" (offsets 20 and 30): the
        // error names the earliest second copy, and the first copies stay.
        let mut batch = LoadBatch::default();
        for (key, value, offset) in [
            ("dup", "first", 5),
            ("twice", "a", 20),
            ("twice", "b", 30),
            ("dup", "second", 50),
        ] {
            let item = loaded.loaded_item(key.as_bytes(), s(value), NO_EXPIRE, 0);
            batch.push(key.as_bytes(), item, offset);
        }
        let dup = loaded.insert_loaded(&mut batch).expect("a duplicate");
        assert_eq!((dup.item.key.as_slice(), dup.offset), (&b"twice"[..], 30));
        let kept = |k: &str| match &loaded.peek(k.as_bytes()).expect("kept").value {
            Value::Str(v) => v.as_bytes(&mut itoa::Buffer::new()).to_vec(),
            other => panic!("{other:?}"),
        };
        assert_eq!(kept("dup"), b"first");
        assert_eq!(kept("twice"), b"a");
    }

    #[test]
    fn insert_get_remove_across_splits() {
        let mut db = Db::new(0);
        for i in 0..20_000 {
            db.insert(
                format!("key:{i}").as_bytes(),
                s(&i.to_string()),
                NO_EXPIRE,
                0,
            );
        }
        assert_eq!(db.len(), 20_000);
        assert!(db.segment_count() > 8);
        for i in 0..20_000 {
            let it = db.get(format!("key:{i}").as_bytes(), 0).expect("present");
            assert_eq!(it.value_str_for_test(), i.to_string());
        }
        for i in 0..10_000 {
            assert!(db.remove(format!("key:{i}").as_bytes()).is_some());
        }
        assert_eq!(db.len(), 10_000);
        assert!(db.get(b"key:5", 0).is_none());
    }

    #[test]
    fn reserve_presplits_and_lookups_still_work() {
        let mut db = Db::new(0);
        db.reserve(100_000);
        let segments = db.segment_count();
        assert_eq!(segments, 128);
        for i in 0..100_000 {
            db.insert(format!("k{i}").as_bytes(), s("v"), NO_EXPIRE, 0);
        }
        assert_eq!(
            db.segment_count(),
            segments,
            "no segment split during the load"
        );
        assert!(db.get(b"k99999", 0).is_some() && db.get(b"k0", 0).is_some());
        let mut n = 0;
        let mut cursor = 0;
        loop {
            cursor = db.scan(cursor, 1000, |_| n += 1);
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(n, 100_000);
        // Not on a database that holds keys.
        db.reserve(10_000_000);
        assert_eq!(db.segment_count(), segments);
    }

    #[test]
    fn scan_returns_every_key_despite_splits() {
        let mut db = Db::new(0);
        for i in 0..3000 {
            db.insert(format!("a{i}").as_bytes(), s("v"), NO_EXPIRE, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut added = 0;
        loop {
            cursor = db.scan(cursor, 10, |it| {
                seen.insert(it.key.to_vec());
            });
            // Keep growing the table during the scan to force splits.
            if added < 5000 {
                for _ in 0..50 {
                    db.insert(format!("b{added}").as_bytes(), s("v"), NO_EXPIRE, 0);
                    added += 1;
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..3000 {
            assert!(seen.contains(format!("a{i}").as_bytes()), "missing a{i}");
        }
    }

    #[test]
    fn snapshot_is_frozen_while_writes_continue() {
        let mut db = Db::new(0);
        for i in 0..5000 {
            db.insert(format!("k{i}").as_bytes(), s("old"), NO_EXPIRE, 0);
        }
        let snap = db.snapshot();
        for i in 0..5000 {
            db.insert(format!("k{i}").as_bytes(), s("new"), NO_EXPIRE, 0);
        }
        for i in 5000..8000 {
            db.insert(format!("k{i}").as_bytes(), s("new"), NO_EXPIRE, 0);
        }
        db.remove(b"k1");
        let values: Vec<String> = snap.items().map(|it| it.value_str_for_test()).collect();
        assert_eq!(values.len(), 5000);
        assert!(values.iter().all(|v| v == "old"));
        assert_eq!(db.len(), 7999);
    }

    #[test]
    fn lazy_expiry_queues_dels_and_replica_mode_hides() {
        let mut db = Db::new(0);
        db.insert(b"a", s("1"), 100, 0);
        db.insert(b"b", s("1"), 100, 0);
        assert_eq!(db.expires_count(), 2);
        db.hide_expired_only = true;
        assert!(db.get(b"a", 200).is_none());
        assert_eq!(db.len(), 2);
        db.hide_expired_only = false;
        assert!(db.get(b"a", 200).is_none());
        assert_eq!(db.len(), 1);
        assert_eq!(db.take_expired(), vec![blob(b"a")]);
        assert_eq!(db.expires_count(), 1);
    }

    #[test]
    fn a_writable_replica_expires_only_the_keys_its_own_clients_gave_a_ttl() {
        let mut db = Db::new(0);
        db.hide_expired_only = true;
        // From the master's stream: left to the master's DEL.
        db.ignore_expiry = true;
        db.insert(b"from-master", s("1"), 100, 0);
        db.insert(b"taken-back", s("1"), NO_EXPIRE, 0);
        db.ignore_expiry = false;
        // From local clients.
        db.insert(b"local", s("1"), 100, 0);
        db.insert(b"later", s("1"), 10_000, 0);
        db.insert(b"persisted", s("1"), 100, 0);
        db.set_expire(b"persisted", NO_EXPIRE, 50);
        db.set_expire(b"taken-back", 100, 50);
        // The master writes the key again: its TTL is the master's business now.
        db.ignore_expiry = true;
        db.insert(b"taken-back", s("2"), 100, 0);
        db.ignore_expiry = false;
        let deadline = Instant::now() + std::time::Duration::from_secs(1);
        assert_eq!(db.expire_local_keys(200, deadline), 1);
        assert!(db.peek(b"local").is_none());
        assert!(db.peek(b"from-master").is_some());
        assert!(db.peek(b"taken-back").is_some());
        assert!(db.peek(b"persisted").is_some());
        assert!(db.peek(b"later").is_some());
        assert!(db.take_expired().is_empty(), "a replica propagates nothing");
        assert_eq!(db.expire_local_keys(20_000, deadline), 1);
        assert!(db.peek(b"later").is_none());
    }

    #[test]
    fn active_expiry_deletes_expired_keys() {
        let mut db = Db::new(0);
        for i in 0..100 {
            db.insert(format!("t{i}").as_bytes(), s("v"), 10, 0);
        }
        for i in 0..100 {
            db.insert(format!("p{i}").as_bytes(), s("v"), NO_EXPIRE, 0);
        }
        let deadline = Instant::now() + std::time::Duration::from_secs(1);
        let (_, expired) = db.active_expire(20, deadline);
        assert_eq!(expired, 100);
        assert_eq!(db.len(), 100);
        assert_eq!(db.take_expired().len(), 100);
    }

    #[test]
    fn watch_flags_are_set_by_writes() {
        let mut db = Db::new(0);
        let flag: WatchFlag = Arc::new(AtomicBool::new(false));
        db.watch(b"x", 7, &flag, 0);
        db.insert(b"y", s("1"), NO_EXPIRE, 0);
        assert!(!flag.load(Ordering::Relaxed));
        db.insert(b"x", s("1"), NO_EXPIRE, 0);
        assert!(flag.load(Ordering::Relaxed));
        db.unwatch(b"x", 7);
        flag.store(false, Ordering::Relaxed);
        db.remove(b"x");
        assert!(!flag.load(Ordering::Relaxed));
    }

    #[test]
    fn watched_keys_already_expired_follow_redis_rules() {
        let flag: WatchFlag = Arc::new(AtomicBool::new(false));
        let stale = |db: &mut Db| db.insert(b"x", s("1"), 5, 0);
        // Deleting a key that was expired when watched changes nothing.
        let mut db = Db::new(0);
        stale(&mut db);
        db.watch(b"x", 7, &flag, 10);
        assert!(!db.watched_key_expired(b"x", 7, 10));
        db.remove(b"x");
        assert!(!flag.load(Ordering::Relaxed));
        // Recreating it afterwards does.
        db.insert(b"x", s("2"), NO_EXPIRE, 0);
        assert!(flag.load(Ordering::Relaxed));

        // A flush of a stale watched key changes nothing; of a live one, it does.
        let flag: WatchFlag = Arc::new(AtomicBool::new(false));
        let mut db = Db::new(0);
        stale(&mut db);
        db.watch(b"x", 7, &flag, 10);
        let _ = db.clear();
        assert!(!flag.load(Ordering::Relaxed));
        db.insert(b"x", s("1"), NO_EXPIRE, 0);
        flag.store(false, Ordering::Relaxed);
        let _ = db.clear();
        assert!(flag.load(Ordering::Relaxed));

        // A key that expires after WATCH fails the EXEC.
        let flag: WatchFlag = Arc::new(AtomicBool::new(false));
        let mut db = Db::new(0);
        stale(&mut db);
        db.watch(b"x", 7, &flag, 1);
        assert!(db.watched_key_expired(b"x", 7, 10));
    }

    #[test]
    fn swapdb_touches_watched_keys_as_redis() {
        let stale = |db: &mut Db| db.insert(b"x", s("1"), 5, 0);
        let now = 10;
        // A live watched key swapped away: a change.
        let flag: WatchFlag = Arc::new(AtomicBool::new(false));
        let (mut a, mut b) = (Db::new(0), Db::new(1));
        a.insert(b"x", s("1"), NO_EXPIRE, 0);
        a.watch(b"x", 7, &flag, now);
        a.swap_contents(&mut b, now);
        assert!(flag.load(Ordering::Relaxed));
        // A missing watched key replaced by a stale one: no change, and it counts as
        // expired from then on.
        let flag: WatchFlag = Arc::new(AtomicBool::new(false));
        let (mut a, mut b) = (Db::new(0), Db::new(1));
        stale(&mut b);
        a.watch(b"x", 7, &flag, now);
        a.swap_contents(&mut b, now);
        assert!(!flag.load(Ordering::Relaxed));
        assert!(!a.watched_key_expired(b"x", 7, now));
        // A stale watched key replaced by another stale one: no change.
        let flag: WatchFlag = Arc::new(AtomicBool::new(false));
        let (mut a, mut b) = (Db::new(0), Db::new(1));
        stale(&mut a);
        stale(&mut b);
        a.watch(b"x", 7, &flag, now);
        a.swap_contents(&mut b, now);
        assert!(!flag.load(Ordering::Relaxed));
        // A stale watched key replaced by a live one: a change.
        let flag: WatchFlag = Arc::new(AtomicBool::new(false));
        let (mut a, mut b) = (Db::new(0), Db::new(1));
        stale(&mut a);
        b.insert(b"x", s("2"), NO_EXPIRE, 0);
        a.watch(b"x", 7, &flag, now);
        a.swap_contents(&mut b, now);
        assert!(flag.load(Ordering::Relaxed));
    }

    impl Item {
        fn value_str_for_test(&self) -> String {
            match &self.value {
                Value::Str(v) => {
                    let mut b = itoa::Buffer::new();
                    String::from_utf8_lossy(v.as_bytes(&mut b)).into_owned()
                }
                _ => String::new(),
            }
        }
    }
}
