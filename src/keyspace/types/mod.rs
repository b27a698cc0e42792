//! The collection types behind lists, hashes, sets and sorted sets, each with the compact
//! form Redis 7.0 reports for small values and the form it converts to past the thresholds.

pub mod dense;
pub mod hash;
pub mod hll;
pub mod list;
pub mod scan;
pub mod score_index;
pub mod set;
pub mod stream;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;

/// Hash map with a per-process random seed, so that clients cannot choose colliding keys.
pub type HMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;
/// Hash set with a per-process random seed.
pub type HSet<K> = hashbrown::HashSet<K, foldhash::fast::RandomState>;

/// The thresholds at which small encodings convert (the `*-max-listpack-*` and
/// `set-max-intset-entries` directives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodingLimits {
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: usize,
    /// `stream-node-max-bytes` and `stream-node-max-entries`.
    pub stream_nodes: stream::NodeLimits,
}

impl Default for EncodingLimits {
    fn default() -> Self {
        EncodingLimits {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            stream_nodes: stream::NodeLimits::default(),
        }
    }
}
