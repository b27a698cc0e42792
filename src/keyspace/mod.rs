//! The data: every database, its keys and values, expiry and snapshots. No sockets, no RESP,
//! no replication.
//!
//! Locking discipline: the whole [`Keyspace`] sits behind the server's one engine lock; every
//! method here runs with that lock held and never blocks. Work that may take long (freeing a
//! flushed database, serialising a snapshot) is handed off the lock as owned data.

pub mod clock;
pub mod db;
pub mod digest;
pub mod key;
pub mod lazyfree;
pub mod lfu;
pub mod memory;
pub mod segment;
pub mod types;
pub mod value;

use std::sync::Arc;

pub use clock::{lru_clock, now_ms, refresh_lru_clock, wall_ms_at};
pub use db::{Db, DbSnapshot, LoadBatch, LoadedKey, ModifiedKeys, WatchFlag};
pub use key::Key;
pub use lfu::AccessMode;
pub use segment::{Item, ItemRef, Segment, NO_EXPIRE};
pub use types::EncodingLimits;
pub use value::{blob, Blob, StrValue, Value, ValueType};

/// All databases.
#[derive(Debug)]
pub struct Keyspace {
    /// The databases, indexed by number.
    pub dbs: Vec<Db>,
    /// Encoding thresholds from the configuration.
    pub limits: EncodingLimits,
    /// Held by every live snapshot: while one exists, what the keyspace drops stays
    /// allocated (eviction counts it apart).
    snapshot_token: Arc<()>,
}

/// A point-in-time view of every database, taken under the lock in O(segments) and read
/// afterwards without it (by the RDB writer, full sync, DUMP).
#[derive(Debug, Clone)]
pub struct KeyspaceSnapshot {
    /// One frozen view per database.
    pub dbs: Vec<DbSnapshot>,
    /// Unix milliseconds when it was taken.
    pub taken_at_ms: i64,
    /// Counts this snapshot as alive (see [`Keyspace::snapshots_alive`]).
    _token: Arc<()>,
}

impl KeyspaceSnapshot {
    /// Number of keys across all databases.
    pub fn key_count(&self) -> usize {
        self.dbs.iter().map(|d| d.len).sum()
    }
}

impl Keyspace {
    /// `databases` empty databases.
    pub fn new(databases: usize, limits: EncodingLimits) -> Keyspace {
        Keyspace {
            dbs: (0..databases).map(Db::new).collect(),
            limits,
            snapshot_token: Arc::new(()),
        }
    }

    /// The LRU clock for items of this keyspace (see [`lru_clock`]).
    pub fn lru_clock(&self) -> u32 {
        lru_clock()
    }

    /// Switches expiry between master behaviour (delete expired keys) and replica behaviour
    /// (hide them, wait for the master's DEL).
    pub fn set_replica_mode(&mut self, replica: bool) {
        for db in &mut self.dbs {
            db.hide_expired_only = replica;
            if !replica {
                db.forget_local_volatile();
            }
        }
    }

    /// Holds (or releases) the deletion of expired keys while writes are paused.
    pub fn hold_expiry(&mut self, held: bool) {
        for db in &mut self.dbs {
            db.expiry_held = held;
        }
    }

    /// Makes lookups see expired keys as live (while our master's stream is applied).
    pub fn set_ignore_expiry(&mut self, ignore: bool) {
        for db in &mut self.dbs {
            db.ignore_expiry = ignore;
        }
    }

    /// Total number of keys.
    pub fn key_count(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }

    /// Takes a point-in-time snapshot of every database.
    pub fn snapshot(&self) -> KeyspaceSnapshot {
        KeyspaceSnapshot {
            dbs: self.dbs.iter().map(|d| d.snapshot()).collect(),
            taken_at_ms: now_ms(),
            _token: self.snapshot_token.clone(),
        }
    }

    /// Snapshots taken from this keyspace that are still alive (BGSAVE, full syncs, DUMP).
    pub fn snapshots_alive(&self) -> usize {
        Arc::strong_count(&self.snapshot_token) - 1
    }

    /// Sets how every database records key accesses (LRU clock or LFU counter).
    pub fn set_access_mode(&mut self, mode: AccessMode) {
        for db in &mut self.dbs {
            db.access_mode = mode;
        }
    }

    /// Starts or stops recording, in every database, created keys (`new` keyspace events)
    /// and keys read lookups miss (`keymiss` events).
    pub fn log_key_events(&mut self, new: bool, missed: bool) {
        for db in &mut self.dbs {
            db.log_new_keys(new);
            db.log_missed_keys(missed);
        }
    }

    /// Starts or stops recording modified keys in every database (client-side caching).
    pub fn log_modified_keys(&mut self, on: bool) {
        for db in &mut self.dbs {
            db.log_modified_keys(on);
        }
    }

    /// Empties every database, returning the old contents to be freed off the lock.
    pub fn clear_all(&mut self) -> Vec<Vec<Arc<Segment>>> {
        self.dbs.iter_mut().map(|d| d.clear()).collect()
    }

    /// Sum of a per-database counter.
    pub fn stat_sum(&self, f: impl Fn(&Db) -> u64) -> u64 {
        self.dbs.iter().map(f).sum()
    }
}

/// Frees large values on a background thread so that FLUSHALL and friends return at once.
pub fn free_in_background<T: Send + 'static>(garbage: T) {
    let spawned = std::thread::Builder::new()
        .name("lazyfree".into())
        .spawn(move || {
            drop(garbage);
            // `maxmemory`'s cached allocator figure must be read again (as after the
            // lazy-free thread's frees).
            crate::telemetry::process::note_release();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start a lazy-free thread; freeing inline");
    }
}
