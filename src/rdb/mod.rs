//! Redis RDB files, both ways: the format full sync sends, SAVE/BGSAVE write, DUMP/RESTORE
//! carry, and replikv loads at start-up.
//!
//! What this module promises:
//! - **Writer** ([`write_snapshot`]): RDB version 10 exactly as Redis 7.0 writes it — magic,
//!   AUX fields in Redis's order, `SELECTDB`/`RESIZEDB` per non-empty database,
//!   `EXPIRETIME_MS`, the value encodings 7.0 itself writes (string with integer and LZF
//!   forms, quicklist-2 lists, intset or hashtable sets, listpack or hashtable hashes,
//!   listpack or skiplist sorted sets), `EOF` and the CRC64 trailer (zero when checksums are
//!   off). It streams into any [`std::io::Write`] (a file, a socket) through one buffer, one
//!   pass, no allocation per key for ordinary values.
//! - **Loader** ([`load`]): every RDB version 1 to 10 and every encoding Redis ever wrote
//!   (plain types, ziplist, listpack, intset, zipmap, quicklist 1 and 2, integer and LZF
//!   strings, string-score and binary-score sorted sets), reading from any
//!   [`std::io::Read`] without needing the whole payload (a replica feeds it straight from
//!   its master's socket). It is strict and bounded: every length is checked against the
//!   remaining input (when known) and against the data actually read — memory grows only
//!   with bytes received, never with a length a hostile file announces — and every blob is
//!   validated before use. Any failure is an [`RdbError`] naming the byte offset and the
//!   reason; nothing panics. Loading builds a fresh [`Keyspace`]: the caller swaps it in
//!   only on success, so a server never runs on half a dataset.
//! - **DUMP payloads** ([`encode_value`], [`decode_value`]): the value encoding, then the
//!   2-byte RDB version and a CRC64 of everything before it, both little-endian, as Redis's
//!   DUMP produces and RESTORE checks.
//! - **Files** ([`file`]): temp file, fsync, rename; and reading a file with its size known.
//!
//! Every Redis 7.0 data type loads, streams of Redis 5 and 6 (type 15) included; module
//! values are refused with [`RdbError::Unsupported`] naming what was found. Function
//! libraries travel in FUNCTION2 records beside the keys.
//!
//! # Calling it for a full sync (master side)
//! ```ignore
//! let (snapshot, aux) = { let e = state.engine.lock(); (e.keyspace.snapshot(), aux_from(&e)) };
//! tokio::task::spawn_blocking(move || rdb::write_snapshot(&snapshot, &aux, &opts, socket_writer));
//! ```
//! and on the replica side `rdb::load(reader, &LoadOptions { keep_expired: true, .. })`
//! then `engine.keyspace.replace_contents(loaded.keyspace)`.

pub mod decode;
pub mod encode;
pub mod encodings;
pub mod file;
pub mod lzf;
pub mod progress;

use crate::keyspace::{EncodingLimits, Keyspace};

pub use decode::{decode_value, load};
pub use encode::{encode_value, write_snapshot};

/// The RDB format version replikv writes: Redis 7.0's. Redis 7.0 refuses anything higher.
pub const RDB_VERSION: u16 = 10;

/// The `redis-ver` AUX field replikv writes (the Redis version it is compatible with).
pub const REDIS_VER: &str = "7.0.15";

/// RDB opcodes (bytes that are not value types).
pub mod opcode {
    /// Function library (Redis 7.0 GA).
    pub const FUNCTION2: u8 = 0xF5;
    /// Function library (7.0 release candidates).
    pub const FUNCTION: u8 = 0xF6;
    /// Module auxiliary data.
    pub const MODULE_AUX: u8 = 0xF7;
    /// LRU idle time of the next key, in seconds.
    pub const IDLE: u8 = 0xF8;
    /// LFU frequency of the next key.
    pub const FREQ: u8 = 0xF9;
    /// Auxiliary field: two strings.
    pub const AUX: u8 = 0xFA;
    /// Database size hints.
    pub const RESIZEDB: u8 = 0xFB;
    /// Expiry of the next key, Unix ms, 8 bytes little-endian.
    pub const EXPIRETIME_MS: u8 = 0xFC;
    /// Expiry of the next key, Unix seconds, 4 bytes (RDB versions before 3).
    pub const EXPIRETIME: u8 = 0xFD;
    /// Select database.
    pub const SELECTDB: u8 = 0xFE;
    /// End of the keyspace; the checksum follows.
    pub const EOF: u8 = 0xFF;
}

/// RDB value types.
pub mod rtype {
    /// String.
    pub const STRING: u8 = 0;
    /// List of strings (before quicklists).
    pub const LIST: u8 = 1;
    /// Hashtable set.
    pub const SET: u8 = 2;
    /// Sorted set with scores as strings (before RDB 8).
    pub const ZSET: u8 = 3;
    /// Hashtable hash.
    pub const HASH: u8 = 4;
    /// Sorted set with binary scores.
    pub const ZSET_2: u8 = 5;
    /// Module value (4.0 release candidates).
    pub const MODULE: u8 = 6;
    /// Module value.
    pub const MODULE_2: u8 = 7;
    /// Zipmap hash (Redis 2.4 and older).
    pub const HASH_ZIPMAP: u8 = 9;
    /// Ziplist list (before quicklists).
    pub const LIST_ZIPLIST: u8 = 10;
    /// Intset.
    pub const SET_INTSET: u8 = 11;
    /// Ziplist sorted set.
    pub const ZSET_ZIPLIST: u8 = 12;
    /// Ziplist hash.
    pub const HASH_ZIPLIST: u8 = 13;
    /// Quicklist of ziplists (3.2 to 6.2).
    pub const LIST_QUICKLIST: u8 = 14;
    /// Stream (5.0 to 6.2).
    pub const STREAM_LISTPACKS: u8 = 15;
    /// Listpack hash.
    pub const HASH_LISTPACK: u8 = 16;
    /// Listpack sorted set.
    pub const ZSET_LISTPACK: u8 = 17;
    /// Quicklist of listpacks (7.0).
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// Stream (7.0).
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Why an RDB stream or a DUMP payload could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RdbError {
    /// The input ended early.
    #[error("unexpected end of the RDB at byte {offset} while reading {what}")]
    Truncated {
        /// Bytes consumed when the input ended.
        offset: u64,
        /// What was being read.
        what: &'static str,
    },
    /// The input is not a valid RDB.
    #[error("corrupt RDB at byte {offset}: {reason}")]
    Corrupt {
        /// Offset of the item that is wrong.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// Valid RDB content that replikv cannot represent (module values).
    #[error("unsupported RDB content at byte {offset}: {what}")]
    Unsupported {
        /// Offset of the item.
        offset: u64,
        /// What was found.
        what: String,
    },
    /// The first 5 bytes are not `REDIS`.
    #[error("wrong signature: not an RDB file")]
    BadMagic,
    /// A version outside 1..=10 (a newer Redis wrote it, or the header is damaged).
    #[error("can't handle RDB format version {0}")]
    BadVersion(String),
    /// The CRC64 trailer does not match the content. Worded as Redis logs it ("Wrong RDB
    /// checksum ... RDB CRC error"): operators' tools grep for those words.
    #[error(
        "Wrong RDB checksum expected: ({stored:x}) got ({computed:x}) at byte {offset}: RDB CRC error"
    )]
    Checksum {
        /// Offset of the trailer.
        offset: u64,
        /// What the content hashes to.
        computed: u64,
        /// What the trailer says.
        stored: u64,
    },
    /// A `SELECTDB` beyond the configured `databases`.
    #[error("the RDB selects database {db} at byte {offset}, but only {databases} databases are configured")]
    DbOutOfRange {
        /// Offset of the opcode.
        offset: u64,
        /// The database asked for.
        db: u64,
        /// The configured count.
        databases: usize,
    },
    /// The same key twice in one database.
    #[error("duplicate key '{key}' in database {db} at byte {offset}")]
    DuplicateKey {
        /// Offset of the second copy.
        offset: u64,
        /// The database.
        db: usize,
        /// The key (lossy UTF-8).
        key: String,
    },
    /// Reading the input failed.
    #[error("read error at byte {offset}: {source}")]
    Read {
        /// Bytes consumed when it failed.
        offset: u64,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing the output failed.
    #[error("write error: {0}")]
    Write(#[source] std::io::Error),
    /// A DUMP payload's footer is missing, from a newer version, or its CRC is wrong.
    #[error("DUMP payload version or checksum are wrong")]
    PayloadFooter,
}

impl RdbError {
    /// The byte offset the error refers to, when it has one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            RdbError::Truncated { offset, .. }
            | RdbError::Corrupt { offset, .. }
            | RdbError::Unsupported { offset, .. }
            | RdbError::Checksum { offset, .. }
            | RdbError::DbOutOfRange { offset, .. }
            | RdbError::DuplicateKey { offset, .. }
            | RdbError::Read { offset, .. } => Some(*offset),
            RdbError::BadMagic => Some(0),
            RdbError::BadVersion(_) => Some(5),
            RdbError::Write(_) | RdbError::PayloadFooter => None,
        }
    }
}

/// Replication fields of an RDB: present when the writer is part of replication (a master
/// with a backlog, or a replica), as Redis's `rdbPopulateSaveInfo` decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplAux {
    /// The database the replication stream last selected (`repl-stream-db`).
    pub stream_db: i64,
    /// The replication id (`repl-id`, 40 hex characters).
    pub id: String,
    /// The replication offset the snapshot corresponds to (`repl-offset`).
    pub offset: i64,
}

/// AUX fields the writer records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aux {
    /// Unix seconds of the snapshot (`ctime`).
    pub ctime: i64,
    /// Allocator figure when the snapshot was taken (`used-mem`).
    pub used_mem: u64,
    /// Replication fields, when part of replication.
    pub repl: Option<ReplAux>,
    /// Function libraries' code, written before the data as Redis 7.0 writes them.
    pub functions: Vec<bytes::Bytes>,
    /// The file is an append-only file's base (`aof-base 1`, as Redis marks it).
    pub aof_base: bool,
}

/// How the writer encodes.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when it saves space.
    pub compression: bool,
    /// `rdbchecksum`: write the CRC64 trailer (zero otherwise).
    pub checksum: bool,
    /// `rdb-key-save-delay`: a pause after each key (tests use it to make a save or a
    /// full sync last).
    pub key_delay: KeyDelay,
    /// Set by another thread to stop the write early (a full-sync snapshot nobody waits
    /// for any more): the writer fails with [`STOPPED`], even in the middle of a key delay.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// The error text of a write stopped through [`WriteOptions::stop`].
pub const STOPPED: &str = "stopped: nothing waits for this RDB any more";

impl WriteOptions {
    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::Acquire))
    }

    /// The pause after each key, cut short when the write is stopped; then fails the write
    /// if it was.
    pub(crate) fn after_key(&self) -> Result<(), RdbError> {
        self.key_delay.pause_unless(|| self.stopped());
        if self.stopped() {
            return Err(RdbError::Write(std::io::Error::other(STOPPED)));
        }
        Ok(())
    }
}

/// A pause per key, in the units of Redis's test directives `rdb-key-save-delay` and
/// `key-load-delay`: a positive value sleeps that many microseconds; `-n` sleeps one
/// microsecond once every `n` keys on average (a fraction of a microsecond per key); 0 is
/// no pause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyDelay(pub i64);

impl KeyDelay {
    /// Sleeps as configured; called once per key.
    pub fn pause(self) {
        self.pause_unless(|| false);
    }

    /// Sleeps as configured, in slices of at most 10 ms, returning early once `stop` says
    /// so (a delay of a second per key must not keep a stopped write alive).
    pub fn pause_unless(self, stop: impl Fn() -> bool) {
        let micros = match self.0 {
            0 => return,
            n if n > 0 => n as u64,
            n => u64::from(rand::random_range(0..n.unsigned_abs()) == 0),
        };
        let end = std::time::Instant::now() + std::time::Duration::from_micros(micros);
        loop {
            let now = std::time::Instant::now();
            if now >= end || stop() {
                return;
            }
            std::thread::sleep((end - now).min(std::time::Duration::from_millis(10)));
        }
    }
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compression: true,
            checksum: true,
            key_delay: KeyDelay::default(),
            stop: None,
        }
    }
}

/// What a write produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Bytes written.
    pub bytes: u64,
    /// Keys written.
    pub keys: u64,
}

/// How the loader reads.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `databases`: a `SELECTDB` at or beyond it is an error.
    pub databases: usize,
    /// Encoding thresholds: small collections load in their compact form, as in Redis.
    pub limits: EncodingLimits,
    /// Unix ms "now", to drop keys that already expired.
    pub now_ms: i64,
    /// Keep keys whose expiry has passed (a replica loading its master's snapshot: the
    /// master will send the DELs). A master drops them and counts them.
    pub keep_expired: bool,
    /// Check the CRC64 trailer (`rdbchecksum`); a zero trailer is never checked.
    pub verify_checksum: bool,
    /// Total input size when known (a file): lengths are checked against what remains.
    pub total_len: Option<u64>,
    /// `key-load-delay`: a pause after each key (tests use it to make a load last).
    pub key_delay: KeyDelay,
    /// Where the loader publishes how far it has got (INFO `loading_*`).
    pub progress: Option<progress::LoadTracker>,
}

impl LoadOptions {
    /// Options for a server with `databases` databases and the given thresholds, master
    /// behaviour, checksum verified.
    pub fn new(databases: usize, limits: EncodingLimits) -> LoadOptions {
        LoadOptions {
            databases,
            limits,
            now_ms: crate::keyspace::now_ms(),
            keep_expired: false,
            verify_checksum: true,
            total_len: None,
            key_delay: KeyDelay::default(),
            progress: None,
        }
    }
}

/// AUX fields found while loading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadedAux {
    /// `redis-ver`.
    pub redis_ver: Option<String>,
    /// `ctime`.
    pub ctime: Option<i64>,
    /// `used-mem`.
    pub used_mem: Option<i64>,
    /// `repl-stream-db`.
    pub repl_stream_db: Option<i64>,
    /// `repl-id` (only a 40-character value is taken, as Redis does).
    pub repl_id: Option<String>,
    /// `repl-offset`.
    pub repl_offset: Option<i64>,
    /// Function libraries' code (FUNCTION2 records), in file order.
    pub functions: Vec<bytes::Bytes>,
}

/// Counters of one load (INFO `rdb_last_load_keys_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// The file's RDB version.
    pub version: u32,
    /// Keys stored.
    pub keys_loaded: u64,
    /// Keys dropped because they had already expired.
    pub keys_expired: u64,
    /// Empty collections skipped (old Redis bugs could write them; Redis skips them too).
    pub empty_keys_skipped: u64,
    /// Bytes read, trailer included.
    pub bytes: u64,
}

/// A successfully loaded RDB.
#[derive(Debug)]
pub struct Loaded {
    /// The data, in a fresh keyspace with the configured number of databases.
    pub keyspace: Keyspace,
    /// The AUX fields found.
    pub aux: LoadedAux,
    /// Counters.
    pub stats: LoadStats,
    /// Keys dropped because they had expired, by database (a restarted master feeds
    /// their DELs to the replication stream, so replicas that resume drop them too).
    pub expired: Vec<(usize, crate::keyspace::Blob)>,
}
