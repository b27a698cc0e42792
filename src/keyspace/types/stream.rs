//! Streams: entries ordered by ID, plus the consumer groups that read them.
//!
//! Entries live in one ordered map. Redis keeps them in listpack "nodes" of at most
//! `stream-node-max-entries` entries and `stream-node-max-bytes` bytes, and the node
//! boundaries are visible to clients: approximate trimming (`MAXLEN ~`, `MINID ~`) removes
//! whole nodes only, so XLEN after `XADD ... MAXLEN ~ 100` depends on where nodes start.
//! [`Node`] mirrors that bookkeeping (live and deleted counts, the listpack's size computed
//! with listpack's own encoding rules, the master entry's fields) without storing the
//! listpacks, so that every trim removes exactly what Redis 7.0 would remove.
//!
//! Consumer groups follow Redis's model: a group's pending entries list (PEL) maps each
//! delivered, unacknowledged ID to its delivery record; each consumer keeps the set of IDs
//! it owns, and a record names its owner.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use crate::keyspace::Blob;

/// A stream entry ID: milliseconds and a sequence number, ordered as a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`, smaller than every entry.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID (`+`).
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID from its parts.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, or `None` past the largest (Redis's `streamIncrID`).
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, or `None` before `0-0` (Redis's `streamDecrID`).
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// True for `0-0`.
    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The 128-bit big-endian form RDB files and radix-tree keys use.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    /// Reads the 128-bit big-endian form.
    pub fn from_be_bytes(bytes: [u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&bytes[..8]);
        seq.copy_from_slice(&bytes[8..]);
        StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// An entry's field names and values. Entries with the same names as their node's first
/// entry share that node's names (Redis's SAMEFIELDS compression): a stream of a million
/// `temp humidity` readings stores those two words once per node, and an RDB payload of
/// tiny entries under one long name cannot make the name's bytes multiply on load.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    names: Arc<[Blob]>,
    /// The values packed in one allocation: each a 4-byte little-endian length, then its
    /// bytes (a value is at most [`LISTPACK_MAX_SIZE`] bytes).
    values: Box<[u8]>,
}

impl Fields {
    /// An entry from its names and as many values.
    pub fn new<'v>(
        names: Arc<[Blob]>,
        values: impl IntoIterator<Item = &'v [u8]> + Clone,
    ) -> Fields {
        let size: usize = values.clone().into_iter().map(|v| 4 + v.len()).sum();
        let mut packed = Vec::with_capacity(size);
        for v in values {
            packed.extend_from_slice(&(v.len() as u32).to_le_bytes());
            packed.extend_from_slice(v);
        }
        debug_assert_eq!(
            names.len(),
            Values { rest: &packed }.count(),
            "one value per name"
        );
        Fields {
            names,
            values: packed.into_boxed_slice(),
        }
    }

    /// Field names.
    pub fn names(&self) -> &Arc<[Blob]> {
        &self.names
    }

    /// Values, in the names' order.
    pub fn values(&self) -> impl Iterator<Item = &[u8]> + '_ {
        Values { rest: &self.values }
    }

    /// Number of field-value pairs.
    pub fn pairs(&self) -> usize {
        self.names.len()
    }

    /// Names and values interleaved (`f1 v1 f2 v2 ...`), as replies list them.
    pub fn interleaved(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.names
            .iter()
            .zip(self.values())
            .flat_map(|(n, v)| [n.as_slice(), v])
    }

    /// Bytes held by the values (for memory estimates).
    pub fn value_bytes(&self) -> usize {
        self.values.len()
    }
}

/// Walks packed values.
struct Values<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Values<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (len, rest) = self.rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let (value, rest) = rest.split_at(len.min(rest.len()));
        self.rest = rest;
        Some(value)
    }
}

/// The node-size directives (`stream-node-max-bytes`, `stream-node-max-entries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLimits {
    /// Largest listpack in bytes; 0 = only the hard limit.
    pub max_bytes: usize,
    /// Most entries (live and deleted) per node; 0 = unlimited.
    pub max_entries: usize,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// Largest listpack Redis builds for a stream node (and the largest entry it accepts).
pub const LISTPACK_MAX_SIZE: usize = (1 << 30) - 1;

/// How XADD chooses the new entry's ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdRequest {
    /// `*`: the current time, or the next sequence of the last ID.
    Auto {
        /// The current time in milliseconds.
        now_ms: u64,
    },
    /// `<ms>-*`: this millisecond, the next free sequence.
    Ms(u64),
    /// `<ms>-<seq>`: exactly this ID.
    Exact(StreamId),
}

/// Why XADD could not append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not above the stream's last ID.
    NotGreater,
    /// The fields and values together are larger than a node can hold.
    TooLarge,
}

/// How far a trim goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimTo {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Keep no entry below this ID.
    MinId(StreamId),
}

/// A trim request as XADD and XTRIM parse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    /// The threshold.
    pub to: TrimTo,
    /// `~`: remove whole nodes only.
    pub approx: bool,
    /// Most entries to remove; 0 = no limit.
    pub limit: u64,
}

/// Redis's bookkeeping of one listpack node (see the module comment).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Entries not deleted.
    pub live: u64,
    /// Entries marked deleted (tombstones), still in the listpack.
    pub deleted: u64,
    /// The master entry's field names (those of the node's first entry), shared with the
    /// entries that have the same names.
    pub master_fields: Arc<[Blob]>,
    /// The node's last entry, tombstones included.
    pub last: StreamId,
    /// Listpack bytes past the count and deleted elements, the terminator excluded.
    body_bytes: usize,
}

impl Node {
    /// The node's listpack size, as `lpBytes` reports it.
    pub fn listpack_bytes(&self) -> usize {
        // 6-byte header, the count and deleted elements, the body, the 0xFF terminator.
        6 + int_element_size(self.live as i64)
            + int_element_size(self.deleted as i64)
            + self.body_bytes
            + 1
    }
}

/// A delivered, not yet acknowledged entry of a consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    /// Unix ms of the last delivery.
    pub delivery_time: i64,
    /// Deliveries so far.
    pub delivery_count: u64,
    /// The consumer it was last delivered to.
    pub consumer: Blob,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumer {
    /// Unix ms of its last read or claim.
    pub seen_time: i64,
    /// The IDs it owns in the group's PEL.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Last ID delivered to the group.
    pub last_id: StreamId,
    /// Logical count of entries read, or `None` when it cannot be known (Redis's -1).
    pub entries_read: Option<u64>,
    /// Pending entries, by ID.
    pub pel: BTreeMap<StreamId, Nack>,
    /// Consumers, by name (byte order, as Redis's radix tree iterates them).
    pub consumers: BTreeMap<Blob, Consumer>,
}

impl Group {
    /// A group that will deliver entries after `last_id`.
    pub fn new(last_id: StreamId, entries_read: Option<u64>) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Records the delivery of `id` to `consumer` at `now` (a first delivery, or a
    /// re-delivery that moves the entry to this consumer with a count of 1, as Redis does
    /// when XGROUP SETID made a group read an entry again).
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now: i64) {
        if let Some(old) = self.pel.get(&id) {
            let owner = old.consumer.clone();
            if let Some(c) = self.consumers.get_mut(owner.as_slice()) {
                c.pel.remove(&id);
            }
        }
        self.pel.insert(
            id,
            Nack {
                delivery_time: now,
                delivery_count: 1,
                consumer: crate::keyspace::blob(consumer),
            },
        );
        self.consumers
            .entry(crate::keyspace::blob(consumer))
            .or_default()
            .pel
            .insert(id);
    }

    /// Acknowledges `id`; true when it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(nack) => {
                if let Some(c) = self.consumers.get_mut(nack.consumer.as_slice()) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Moves pending `id` to `consumer` (XCLAIM); the caller sets time and count.
    pub fn reassign(&mut self, id: StreamId, consumer: &[u8]) -> Option<&mut Nack> {
        let nack = self.pel.get_mut(&id)?;
        if nack.consumer.as_slice() != consumer {
            if let Some(c) = self.consumers.get_mut(nack.consumer.as_slice()) {
                c.pel.remove(&id);
            }
            nack.consumer = crate::keyspace::blob(consumer);
        }
        self.consumers
            .entry(crate::keyspace::blob(consumer))
            .or_default()
            .pel
            .insert(id);
        self.pel.get_mut(&id)
    }

    /// Deletes a consumer and its pending entries; answers how many were pending.
    pub fn remove_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pel {
            self.pel.remove(id);
        }
        Some(consumer.pel.len())
    }
}

/// A stream value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    entries: BTreeMap<StreamId, Fields>,
    /// Deleted entries still inside their nodes, as Redis's listpacks keep them until the
    /// whole node goes: written back to RDB files, so a reloaded node fills up as it would.
    tombstones: BTreeMap<StreamId, Fields>,
    nodes: BTreeMap<StreamId, Node>,
    /// The last ID ever added (or set by XSETID); `0-0` for a new stream.
    pub last_id: StreamId,
    /// The first live entry's ID; `0-0` when empty.
    pub first_id: StreamId,
    /// The largest ID XDEL removed.
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups, by name (byte order).
    pub groups: BTreeMap<Blob, Group>,
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Number of entries (XLEN).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the stream holds no entry (the key stays: streams may be empty).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry `id`, if present.
    pub fn get(&self, id: StreamId) -> Option<&Fields> {
        self.entries.get(&id)
    }

    /// Entries with IDs in `start..=end`, forward or backward.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (&StreamId, &Fields)> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        let r = self.entries.range(start..=end);
        if rev {
            Box::new(r.rev())
        } else {
            Box::new(r)
        }
    }

    /// The first and last live entries.
    pub fn first_entry(&self) -> Option<(&StreamId, &Fields)> {
        self.entries.first_key_value()
    }

    /// The last live entry.
    pub fn last_entry(&self) -> Option<(&StreamId, &Fields)> {
        self.entries.last_key_value()
    }

    /// The nodes, by master ID (for RDB and XINFO).
    pub fn nodes(&self) -> &BTreeMap<StreamId, Node> {
        &self.nodes
    }

    /// The IDs a node covers: from its master ID up to the next node's.
    fn node_span(&self, master: StreamId) -> (Bound<StreamId>, Bound<StreamId>) {
        let end = self
            .nodes
            .range((Bound::Excluded(master), Bound::Unbounded))
            .next()
            .map(|(k, _)| *k);
        let upper = match end {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        (Bound::Included(master), upper)
    }

    /// Live entries of the node starting at `master`.
    pub fn node_entries(&self, master: StreamId) -> impl Iterator<Item = (&StreamId, &Fields)> {
        self.entries.range(self.node_span(master))
    }

    /// Every record of the node starting at `master` in ID order, deleted ones flagged
    /// `true` (what its listpack holds).
    pub fn node_records(&self, master: StreamId) -> Vec<(StreamId, &Fields, bool)> {
        let span = self.node_span(master);
        let mut records: Vec<(StreamId, &Fields, bool)> = self
            .entries
            .range(span)
            .map(|(id, f)| (*id, f, false))
            .chain(self.tombstones.range(span).map(|(id, f)| (*id, f, true)))
            .collect();
        records.sort_unstable_by_key(|r| r.0);
        records
    }

    /// Drops a whole node with its entries and tombstones; returns its live count.
    fn remove_node(&mut self, master: StreamId) -> u64 {
        let span = self.node_span(master);
        let live: Vec<StreamId> = self.entries.range(span).map(|(k, _)| *k).collect();
        for id in &live {
            self.entries.remove(id);
        }
        let dead: Vec<StreamId> = self.tombstones.range(span).map(|(k, _)| *k).collect();
        for id in &dead {
            self.tombstones.remove(id);
        }
        self.nodes.remove(&master);
        live.len() as u64
    }

    /// Appends an entry (XADD), returning its ID.
    pub fn append(
        &mut self,
        request: IdRequest,
        fields: &[impl AsRef<[u8]>],
        limits: NodeLimits,
    ) -> Result<StreamId, AppendError> {
        let id = match request {
            IdRequest::Exact(id) => id,
            IdRequest::Ms(ms) => {
                if ms == self.last_id.ms {
                    if self.last_id.seq == u64::MAX {
                        return Err(AppendError::NotGreater);
                    }
                    StreamId::new(ms, self.last_id.seq + 1)
                } else {
                    StreamId::new(ms, 0)
                }
            }
            IdRequest::Auto { now_ms } => {
                if self.last_id.ms >= now_ms {
                    self.last_id.next().ok_or(AppendError::NotGreater)?
                } else {
                    StreamId::new(now_ms, 0)
                }
            }
        };
        if id <= self.last_id {
            return Err(AppendError::NotGreater);
        }
        let total: usize = fields.iter().map(|f| f.as_ref().len()).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        let names = self.place_in_node(id, fields, total, limits);
        let values = fields.iter().skip(1).step_by(2).map(|f| f.as_ref());
        self.entries.insert(id, Fields::new(names, values));
        self.entries_added += 1;
        self.last_id = id;
        if self.entries.len() == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Accounts a new last entry in the tail node, or opens a node for it when the tail is
    /// full by Redis's rules (`streamAppendItem`). Returns the names the entry keeps: the
    /// node's own when they are the same.
    fn place_in_node(
        &mut self,
        id: StreamId,
        fields: &[impl AsRef<[u8]>],
        total: usize,
        limits: NodeLimits,
    ) -> Arc<[Blob]> {
        let max_bytes = if limits.max_bytes == 0 || limits.max_bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            limits.max_bytes
        };
        let tail_full = match self.nodes.last_key_value() {
            None => true,
            Some((_, node)) => {
                node.listpack_bytes() + total >= max_bytes
                    || (limits.max_entries > 0
                        && node.live + node.deleted >= limits.max_entries as u64)
            }
        };
        let names_of = || -> Arc<[Blob]> {
            fields
                .iter()
                .step_by(2)
                .map(|f| crate::keyspace::blob(f.as_ref()))
                .collect()
        };
        let values = || fields.iter().skip(1).step_by(2).map(|f| f.as_ref());
        if tail_full {
            let master_fields = names_of();
            let mut body = int_element_size(master_fields.len() as i64);
            body += master_fields
                .iter()
                .map(|f| str_element_size(f))
                .sum::<usize>();
            body += int_element_size(0);
            body += entry_bytes(id, id, &master_fields, values(), true);
            self.nodes.insert(
                id,
                Node {
                    live: 1,
                    deleted: 0,
                    master_fields: master_fields.clone(),
                    last: id,
                    body_bytes: body,
                },
            );
            return master_fields;
        }
        let Some((&master, node)) = self.nodes.iter_mut().next_back() else {
            return names_of();
        };
        // Compared on the arguments: an entry with the node's names allocates none.
        let same_fields = node.master_fields.len() * 2 == fields.len()
            && fields
                .iter()
                .step_by(2)
                .zip(node.master_fields.iter())
                .all(|(a, b)| a.as_ref() == b.as_slice());
        let names = if same_fields {
            node.master_fields.clone()
        } else {
            names_of()
        };
        node.body_bytes += entry_bytes(id, master, &names, values(), same_fields);
        node.live += 1;
        node.last = id;
        names
    }

    /// Deletes entry `id` (XDEL); true when it was there.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some(fields) = self.entries.remove(&id) else {
            return false;
        };
        if let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() {
            node.live -= 1;
            node.deleted += 1;
            if node.live == 0 {
                // A node without a live entry goes at once, tombstones and all.
                self.remove_node(master);
            } else {
                self.tombstones.insert(id, fields);
            }
        }
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        self.refresh_first_id();
        true
    }

    fn refresh_first_id(&mut self) {
        self.first_id = self
            .entries
            .first_key_value()
            .map_or(StreamId::MIN, |(k, _)| *k);
    }

    /// Trims from the head (`streamTrim`): whole nodes while they fit the threshold, then —
    /// unless approximate — entries of the first node that remains. Returns the number of
    /// entries removed.
    pub fn trim(&mut self, trim: Trim) -> u64 {
        let mut removed = 0u64;
        loop {
            if let TrimTo::MaxLen(max) = trim.to {
                if self.entries.len() as u64 <= max {
                    break;
                }
            }
            let Some((&master, node)) = self.nodes.first_key_value() else {
                break;
            };
            let live = node.live;
            if trim.limit > 0 && removed + live > trim.limit {
                break;
            }
            let whole = match trim.to {
                TrimTo::MaxLen(max) => self.entries.len() as u64 - live >= max,
                TrimTo::MinId(min) => node.last < min,
            };
            if whole {
                removed += self.remove_node(master);
                continue;
            }
            if trim.approx {
                break;
            }
            // Mark entries of this node deleted until the threshold holds.
            let ids: Vec<StreamId> = self.node_entries(master).map(|(k, _)| *k).collect();
            let mut from_node = 0u64;
            for id in ids {
                let stop = match trim.to {
                    TrimTo::MaxLen(max) => self.entries.len() as u64 <= max,
                    TrimTo::MinId(min) => id >= min,
                };
                if stop {
                    break;
                }
                if let Some(fields) = self.entries.remove(&id) {
                    self.tombstones.insert(id, fields);
                }
                from_node += 1;
            }
            if let Some(node) = self.nodes.get_mut(&master) {
                node.live -= from_node;
                node.deleted += from_node;
            }
            removed += from_node;
            break;
        }
        if removed > 0 || self.entries.is_empty() {
            self.refresh_first_id();
        }
        removed
    }

    /// True when `start..=end` may contain a deleted entry (`streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.entries.is_empty() || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// The logical read counter of `id`, when it can be known
    /// (`streamEstimateDistanceFromFirstEverEntry`).
    pub fn estimate_distance(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.entries.is_empty() && id <= self.last_id {
            return Some(self.entries_added);
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return Some(self.entries_added),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            let base = self.entries_added - self.entries.len() as u64;
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => return Some(base),
                std::cmp::Ordering::Equal => return Some(base + 1),
                std::cmp::Ordering::Greater => {}
            }
        }
        None
    }

    /// A group's lag: entries not yet delivered to it, when known (`streamReplyWithCGLag`).
    /// Negative when the group's counter was set past what the stream ever added
    /// (XGROUP ... ENTRIESREAD, XSETID ENTRIESADDED), as Redis reports it.
    pub fn group_lag(&self, group: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        let lag = |read: u64| (self.entries_added as i64).wrapping_sub(read as i64);
        if let Some(read) = group.entries_read {
            if !self.range_has_tombstones(group.last_id, StreamId::MAX) {
                return Some(lag(read));
            }
        }
        self.estimate_distance(group.last_id).map(lag)
    }

    /// Advances `group` past `id` as delivering it does (`streamReplyWithRange`): the read
    /// counter follows when it is valid and no tombstone lies ahead, else it is estimated.
    pub fn advance_group(&self, group: &mut Group, id: StreamId) {
        if id <= group.last_id {
            return;
        }
        match group.entries_read {
            Some(read) if !self.range_has_tombstones(id, StreamId::MAX) => {
                group.entries_read = Some(read + 1);
            }
            _ if self.entries_added > 0 => {
                group.entries_read = self.estimate_distance(id);
            }
            _ => {}
        }
        group.last_id = id;
    }

    /// Restores a node read from an RDB file: its live and deleted entries and its master
    /// fields, as Redis had them. Entries must come in ID order, after every earlier node.
    pub fn load_node(
        &mut self,
        master: StreamId,
        master_fields: Arc<[Blob]>,
        live: Vec<(StreamId, Fields)>,
        tombstones: Vec<(StreamId, Fields)>,
        last: StreamId,
        listpack_bytes: usize,
    ) {
        let live_count = live.len() as u64;
        let deleted = tombstones.len() as u64;
        for (id, fields) in live {
            self.entries.insert(id, fields);
        }
        for (id, fields) in tombstones {
            self.tombstones.insert(id, fields);
        }
        let fixed = 6 + int_element_size(live_count as i64) + int_element_size(deleted as i64) + 1;
        self.nodes.insert(
            master,
            Node {
                live: live_count,
                deleted,
                master_fields,
                last,
                body_bytes: listpack_bytes.saturating_sub(fixed),
            },
        );
    }

    /// Sets what an RDB file or XSETID says about the stream's history.
    pub fn set_meta(&mut self, last_id: StreamId, max_deleted_id: StreamId, entries_added: u64) {
        self.last_id = last_id;
        self.max_deleted_id = max_deleted_id;
        self.entries_added = entries_added;
        self.refresh_first_id();
    }

    /// Rough bytes held, for eviction and MEMORY USAGE.
    pub fn approx_bytes(&self) -> usize {
        let nodes: usize = self.nodes.values().map(Node::listpack_bytes).sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| name.len() + 64 + g.pel.len() * 48 + g.consumers.len() * 64)
            .sum();
        nodes + groups + 64
    }
}

/// Bytes an entry adds to a node's listpack (`streamAppendItem`'s layout): flags, the ID
/// as deltas from the master ID, the field count and names unless they match the master
/// entry, the values, and the element count that lets readers walk backwards.
fn entry_bytes<'v>(
    id: StreamId,
    master: StreamId,
    names: &[Blob],
    values: impl Iterator<Item = &'v [u8]>,
    same_fields: bool,
) -> usize {
    let pairs = names.len();
    let flags = if same_fields { 2 } else { 0 };
    let mut bytes = int_element_size(flags);
    bytes += int_element_size(id.ms.wrapping_sub(master.ms) as i64);
    bytes += int_element_size(id.seq.wrapping_sub(master.seq) as i64);
    let mut count = pairs as i64 + 3;
    bytes += values.map(str_element_size).sum::<usize>();
    if !same_fields {
        bytes += int_element_size(pairs as i64);
        bytes += names.iter().map(|n| str_element_size(n)).sum::<usize>();
        count += pairs as i64 + 1;
    }
    bytes + int_element_size(count)
}

/// Size of a listpack element holding integer `v` (encoding and back-length).
pub fn int_element_size(v: i64) -> usize {
    let encoded = if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (-32768..=32767).contains(&v) {
        3
    } else if (-8388608..=8388607).contains(&v) {
        4
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        5
    } else {
        9
    };
    encoded + backlen_size(encoded)
}

/// Size of a listpack element holding `s` (stored as an integer when it is one).
pub fn str_element_size(s: &[u8]) -> usize {
    if let Some(n) = crate::resp::parser::parse_i64(s) {
        return int_element_size(n);
    }
    let len = s.len();
    let encoded = if len < 64 {
        1 + len
    } else if len < 4096 {
        2 + len
    } else {
        5 + len
    };
    encoded + backlen_size(encoded)
}

/// Bytes of a listpack element's back-length for an element of `l` bytes
/// (`lpEncodeBacklen`).
pub fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(entries: usize) -> NodeLimits {
        NodeLimits {
            max_bytes: 4096,
            max_entries: entries,
        }
    }

    fn add(s: &mut Stream, ms: u64, l: NodeLimits) -> StreamId {
        s.append(IdRequest::Exact(StreamId::new(ms, 0)), &[b"f", b"v"], l)
            .unwrap()
    }

    #[test]
    fn ids_step_and_order() {
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
        let id = StreamId::new(123, 456);
        assert_eq!(StreamId::from_be_bytes(id.to_be_bytes()), id);
        assert_eq!(id.to_string(), "123-456");
    }

    #[test]
    fn auto_ids_never_go_back() {
        let mut s = Stream::new();
        let l = limits(100);
        let a = s
            .append(IdRequest::Auto { now_ms: 10 }, &[b"a", b"1"], l)
            .unwrap();
        let b = s
            .append(IdRequest::Auto { now_ms: 5 }, &[b"a", b"1"], l)
            .unwrap();
        assert_eq!((a, b), (StreamId::new(10, 0), StreamId::new(10, 1)));
        assert_eq!(
            s.append(IdRequest::Exact(StreamId::new(10, 1)), &[b"a", b"1"], l),
            Err(AppendError::NotGreater)
        );
        assert_eq!(
            s.append(IdRequest::Ms(10), &[b"a", b"1"], l),
            Ok(StreamId::new(10, 2))
        );
        assert_eq!(
            s.append(IdRequest::Ms(11), &[b"a", b"1"], l),
            Ok(StreamId::new(11, 0))
        );
    }

    #[test]
    fn nodes_fill_by_entry_count_and_approximate_trim_removes_whole_nodes() {
        let mut s = Stream::new();
        let l = limits(10);
        for ms in 1..=35 {
            add(&mut s, ms, l);
        }
        assert_eq!(s.nodes().len(), 4);
        let removed = s.trim(Trim {
            to: TrimTo::MaxLen(12),
            approx: true,
            limit: 0,
        });
        assert_eq!((removed, s.len()), (20, 15));
        let removed = s.trim(Trim {
            to: TrimTo::MaxLen(12),
            approx: false,
            limit: 0,
        });
        assert_eq!((removed, s.len()), (3, 12));
        assert_eq!(s.first_id, StreamId::new(24, 0));
        // The partly trimmed node keeps its tombstones: it is full at 10.
        let first = s.nodes().values().next().unwrap();
        assert_eq!((first.live, first.deleted), (7, 3));
    }

    #[test]
    fn min_id_trim_and_deletes_keep_counters() {
        let mut s = Stream::new();
        let l = limits(3);
        for ms in 1..=9 {
            add(&mut s, ms, l);
        }
        assert!(s.delete(StreamId::new(5, 0)));
        assert!(!s.delete(StreamId::new(5, 0)));
        assert_eq!(s.max_deleted_id, StreamId::new(5, 0));
        let removed = s.trim(Trim {
            to: TrimTo::MinId(StreamId::new(5, 0)),
            approx: false,
            limit: 0,
        });
        // The first node goes whole; 4-0 goes from the second, 5-0 was deleted already.
        assert_eq!(removed, 4);
        assert_eq!(s.first_id, StreamId::new(6, 0));
        assert_eq!(s.len(), 4);
        assert_eq!(s.entries_added, 9);
    }

    #[test]
    fn a_node_emptied_by_deletes_goes() {
        let mut s = Stream::new();
        let l = limits(2);
        for ms in 1..=4 {
            add(&mut s, ms, l);
        }
        s.delete(StreamId::new(1, 0));
        s.delete(StreamId::new(2, 0));
        assert_eq!(s.nodes().len(), 1);
    }

    #[test]
    fn entries_with_the_nodes_names_share_them() {
        let mut s = Stream::new();
        let l = limits(2);
        for ms in 1..=3 {
            s.append(
                IdRequest::Exact(StreamId::new(ms, 0)),
                &[b"temp".as_slice(), b"21"],
                l,
            )
            .unwrap();
        }
        s.append(
            IdRequest::Exact(StreamId::new(4, 0)),
            &[b"other".as_slice(), b"1"],
            l,
        )
        .unwrap();
        let names = |ms| s.get(StreamId::new(ms, 0)).unwrap().names().clone();
        assert!(Arc::ptr_eq(&names(1), &names(2)));
        // 3-0 opened the second node: its names are that node's, shared with nobody before.
        assert!(!Arc::ptr_eq(&names(2), &names(3)));
        assert!(!Arc::ptr_eq(&names(3), &names(4)));
        let entry = s.get(StreamId::new(4, 0)).unwrap();
        let parts: Vec<&[u8]> = entry.interleaved().collect();
        assert_eq!(parts, vec![b"other".as_slice(), b"1"]);
    }

    #[test]
    fn node_bytes_follow_listpack_encoding() {
        let mut s = Stream::new();
        s.append(
            IdRequest::Exact(StreamId::new(5, 0)),
            &[b"field", b"value"],
            limits(100),
        )
        .unwrap();
        let node = s.nodes().values().next().unwrap();
        // header 6 + count 2 + deleted 2 + numfields 2 + "field" 7 + 0-term 2
        // + flags 2 + ms 2 + seq 2 + "value" 7 + lp-count 2 + end 1
        assert_eq!(node.listpack_bytes(), 37);
    }

    #[test]
    fn read_counters_follow_redis_estimates() {
        let mut s = Stream::new();
        let l = limits(100);
        for ms in 1..=5 {
            add(&mut s, ms, l);
        }
        assert_eq!(s.estimate_distance(StreamId::new(5, 0)), Some(5));
        assert_eq!(s.estimate_distance(StreamId::new(1, 0)), Some(1));
        assert_eq!(s.estimate_distance(StreamId::MIN), Some(0));
        assert_eq!(s.estimate_distance(StreamId::new(3, 0)), None);
        let mut g = Group::new(StreamId::MIN, Some(0));
        assert_eq!(s.group_lag(&g), Some(5));
        s.advance_group(&mut g, StreamId::new(1, 0));
        assert_eq!((g.entries_read, s.group_lag(&g)), (Some(1), Some(4)));
        s.delete(StreamId::new(3, 0));
        assert_eq!(s.group_lag(&g), None);
    }

    #[test]
    fn pending_entries_move_between_consumers() {
        let mut g = Group::new(StreamId::MIN, Some(0));
        let id = StreamId::new(1, 0);
        g.deliver(id, b"alice", 100);
        g.reassign(id, b"bob").unwrap().delivery_count += 1;
        assert!(g.consumers[b"alice".as_slice()].pel.is_empty());
        assert!(g.consumers[b"bob".as_slice()].pel.contains(&id));
        assert_eq!(g.pel[&id].delivery_count, 2);
        assert!(g.ack(id));
        assert!(!g.ack(id));
        assert_eq!(g.remove_consumer(b"bob"), Some(0));
    }
}
