//! The RDB writer: a [`KeyspaceSnapshot`] to an RDB version 10 stream, and single values to
//! DUMP payloads.
//!
//! Everything a key produces is appended to one in-memory buffer, which is handed to the
//! output (and folded into the CRC64) whenever it passes [`FLUSH_AT`] bytes. Encoding is
//! therefore infallible and shared with DUMP; only the flush can fail. A value larger than
//! the threshold is buffered whole before it is written, and the buffer is shrunk back
//! afterwards, so a save never holds more than one value's encoding at a time.
//!
//! Encodings follow Redis 7.0's `rdbSaveObject` so that a Redis 7.0 loader sees what it
//! would have written itself: strings of at most 11 characters that are canonical 32-bit
//! integers are stored as integers, strings longer than 20 bytes are LZF-compressed when
//! that saves at least 4 bytes, lists are quicklist-2 nodes (listpacks of about 8 KiB, as
//! `list-max-listpack-size -2` builds them), small hashes and sorted sets are listpacks,
//! integer sets are intsets, large sorted sets list members from the highest score down.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use crc::{Crc, Table, CRC_64_REDIS};

use super::encodings::{d2string, write_intset, ListpackBuilder};
use super::lzf::Compressor;
use super::{opcode, rtype, Aux, RdbError, WriteOptions, WriteStats, RDB_VERSION, REDIS_VER};

use crate::keyspace::types::{Hash, Set, Stream, ZSet};
use crate::keyspace::{KeyspaceSnapshot, StrValue, Value};
use crate::resp::parser::parse_i64;

/// Redis's CRC-64 (Jones polynomial, reflected), slice-by-16.
pub(crate) static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// The buffer is written out once it holds this many bytes.
const FLUSH_AT: usize = 64 * 1024;

/// Quicklist node size Redis 7.0 aims for with the default `list-max-listpack-size -2`.
const LIST_NODE_BYTES: usize = 8192;
/// Redis's per-element overestimate when deciding whether an element fits a node.
const LIST_NODE_OVERHEAD: usize = 8;
/// Redis's default `packed_threshold`: elements at least this large get a quicklist node
/// of their own, stored plain.
const DEFAULT_PLAIN_NODE_THRESHOLD: usize = 1 << 30;

/// The current `packed_threshold`, process-wide as in Redis (DEBUG
/// QUICKLIST-PACKED-THRESHOLD moves it for tests). Redis decides a node's layout when an
/// element is inserted; lists here are laid out when written, so the threshold in force at
/// the save (or DUMP) decides.
static PLAIN_NODE_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_PLAIN_NODE_THRESHOLD);

/// Sets the size from which list elements are written as plain quicklist nodes (0: back
/// to the default, 1 GiB); false for a size Redis refuses (4 GiB less 1 MiB or more).
pub fn set_plain_node_threshold(bytes: u64) -> bool {
    if bytes > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let bytes = if bytes == 0 {
        DEFAULT_PLAIN_NODE_THRESHOLD
    } else {
        bytes as usize
    };
    PLAIN_NODE_THRESHOLD.store(bytes, Ordering::Relaxed);
    true
}
/// The entry flag saying an entry's field names are the master entry's.
const STREAM_ITEM_SAMEFIELDS: i64 = 2;
/// The entry flag of a deleted entry (a tombstone).
const STREAM_ITEM_DELETED: i64 = 1;
/// Quicklist node containers.
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

/// Encodes values into a byte buffer; keeps the scratch space a save reuses for every key.
#[derive(Debug)]
pub(crate) struct ValueEncoder {
    compression: bool,
    lzf: Compressor,
    lzf_out: Vec<u8>,
    scratch: Vec<u8>,
}

impl ValueEncoder {
    pub(crate) fn new(compression: bool) -> ValueEncoder {
        ValueEncoder {
            compression,
            lzf: Compressor::default(),
            lzf_out: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// `rdbSaveLen`.
    pub(crate) fn len(out: &mut Vec<u8>, n: u64) {
        if n < 1 << 6 {
            out.push(n as u8);
        } else if n < 1 << 14 {
            out.push(0x40 | (n >> 8) as u8);
            out.push(n as u8);
        } else if n <= u32::MAX as u64 {
            out.push(0x80);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0x81);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// `rdbEncodeInteger`: an integer-encoded string when `n` fits 32 bits.
    fn try_int(out: &mut Vec<u8>, n: i64) -> bool {
        if (-128..=127).contains(&n) {
            out.push(0xC0);
            out.push(n as i8 as u8);
        } else if (-32768..=32767).contains(&n) {
            out.push(0xC1);
            out.extend_from_slice(&(n as i16).to_le_bytes());
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&n) {
            out.push(0xC2);
            out.extend_from_slice(&(n as i32).to_le_bytes());
        } else {
            return false;
        }
        true
    }

    /// `rdbSaveLongLongAsStringObject`.
    pub(crate) fn int_string(out: &mut Vec<u8>, n: i64) {
        if !Self::try_int(out, n) {
            let mut b = itoa::Buffer::new();
            let s = b.format(n);
            Self::len(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
    }

    /// `rdbSaveRawString`: integer form, else LZF when it pays, else length and bytes.
    pub(crate) fn string(&mut self, out: &mut Vec<u8>, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(n) = parse_i64(s) {
                if Self::try_int(out, n) {
                    return;
                }
            }
        }
        if self.compression && s.len() > 20 && self.lzf.compress(s, &mut self.lzf_out, s.len() - 4)
        {
            out.push(0xC3);
            Self::len(out, self.lzf_out.len() as u64);
            Self::len(out, s.len() as u64);
            out.extend_from_slice(&self.lzf_out);
            return;
        }
        Self::len(out, s.len() as u64);
        out.extend_from_slice(s);
    }

    /// A string value (`rdbSaveStringObject`).
    fn str_value(&mut self, out: &mut Vec<u8>, s: &StrValue) {
        match s {
            StrValue::Int(n) => Self::int_string(out, *n),
            StrValue::Embstr(b) | StrValue::Raw(b) => self.string(out, b),
            StrValue::Shared(b) => self.string(out, b),
        }
    }

    /// The RDB type byte Redis 7.0 uses for `v`.
    pub(crate) fn type_of(v: &Value) -> u8 {
        match v {
            Value::Str(_) => rtype::STRING,
            Value::List(_) => rtype::LIST_QUICKLIST_2,
            Value::Set(s) => match **s {
                Set::Intset(_) => rtype::SET_INTSET,
                Set::Table(_) => rtype::SET,
            },
            Value::Hash(h) => match **h {
                Hash::Listpack(_) => rtype::HASH_LISTPACK,
                Hash::Table(_) => rtype::HASH,
            },
            Value::ZSet(z) => match **z {
                ZSet::Listpack(_) => rtype::ZSET_LISTPACK,
                ZSet::Skiplist { .. } => rtype::ZSET_2,
            },
            Value::Stream(_) => rtype::STREAM_LISTPACKS_2,
        }
    }

    /// The value's payload (without its type byte).
    pub(crate) fn value(&mut self, out: &mut Vec<u8>, v: &Value) {
        match v {
            Value::Str(s) => self.str_value(out, s),
            Value::List(l) => self.list(out, l.items.iter().map(|b| b.as_slice())),
            Value::Set(s) => match &**s {
                Set::Intset(members) => {
                    let mut blob = std::mem::take(&mut self.scratch);
                    blob.clear();
                    write_intset(members, &mut blob);
                    self.string(out, &blob);
                    self.scratch = blob;
                }
                Set::Table(members) => {
                    Self::len(out, members.len() as u64);
                    for (m, ()) in members.iter() {
                        self.string(out, m);
                    }
                }
            },
            Value::Hash(h) => match &**h {
                Hash::Listpack(pairs) => {
                    let mut lp = ListpackBuilder::reuse(std::mem::take(&mut self.scratch));
                    for (f, v) in pairs {
                        lp.push_bytes(f);
                        lp.push_bytes(v);
                    }
                    self.string(out, lp.finish());
                    self.scratch = lp.into_buf();
                }
                Hash::Table(map) => {
                    Self::len(out, map.len() as u64);
                    for (f, v) in map.iter() {
                        self.string(out, f);
                        self.string(out, v);
                    }
                }
            },
            Value::ZSet(z) => match &**z {
                ZSet::Listpack(entries) => {
                    let mut lp = ListpackBuilder::reuse(std::mem::take(&mut self.scratch));
                    let mut score = Vec::with_capacity(32);
                    for (m, s) in entries {
                        lp.push_bytes(m);
                        score.clear();
                        d2string(*s, &mut score);
                        lp.push_bytes(&score);
                    }
                    self.string(out, lp.finish());
                    self.scratch = lp.into_buf();
                }
                ZSet::Skiplist { dict, index } => {
                    Self::len(out, dict.len() as u64);
                    if !index.is_empty() {
                        for (m, s) in index.iter_rev_from(index.len() - 1) {
                            self.string(out, m);
                            out.extend_from_slice(&s.to_le_bytes());
                        }
                    }
                }
            },
            Value::Stream(stream) => self.stream(out, stream),
        }
    }

    /// A stream as `RDB_TYPE_STREAM_LISTPACKS_2`: one listpack per node (keyed by its master
    /// ID, laid out as `streamAppendItem` lays it out, deleted entries flagged as Redis
    /// keeps them), the stream's counters, then each consumer group with its PEL and
    /// consumers.
    fn stream(&mut self, out: &mut Vec<u8>, stream: &Stream) {
        Self::len(out, stream.nodes().len() as u64);
        for (master, node) in stream.nodes() {
            self.string(out, &master.to_be_bytes());
            let mut lp = ListpackBuilder::reuse(std::mem::take(&mut self.scratch));
            lp.push_int(node.live as i64);
            lp.push_int(node.deleted as i64);
            lp.push_int(node.master_fields.len() as i64);
            for f in node.master_fields.iter() {
                lp.push_bytes(f);
            }
            lp.push_int(0);
            for (id, fields, deleted) in stream.node_records(*master) {
                let pairs = fields.pairs();
                let same = node.master_fields[..] == fields.names()[..];
                let mut flags = if same { STREAM_ITEM_SAMEFIELDS } else { 0 };
                if deleted {
                    flags |= STREAM_ITEM_DELETED;
                }
                lp.push_int(flags);
                lp.push_int(id.ms.wrapping_sub(master.ms) as i64);
                lp.push_int(id.seq.wrapping_sub(master.seq) as i64);
                if same {
                    for v in fields.values() {
                        lp.push_bytes(v);
                    }
                } else {
                    lp.push_int(pairs as i64);
                    for part in fields.interleaved() {
                        lp.push_bytes(part);
                    }
                }
                let count = if same { pairs + 3 } else { 2 * pairs + 4 };
                lp.push_int(count as i64);
            }
            self.string(out, lp.finish());
            self.scratch = lp.into_buf();
        }
        Self::len(out, stream.len() as u64);
        for id in [stream.last_id, stream.first_id, stream.max_deleted_id] {
            Self::len(out, id.ms);
            Self::len(out, id.seq);
        }
        Self::len(out, stream.entries_added);
        Self::len(out, stream.groups.len() as u64);
        for (name, group) in &stream.groups {
            self.string(out, name);
            Self::len(out, group.last_id.ms);
            Self::len(out, group.last_id.seq);
            // Redis writes its -1 ("unknown") as the 64-bit length it is bit for bit.
            Self::len(out, group.entries_read.unwrap_or(u64::MAX));
            Self::len(out, group.pel.len() as u64);
            for (id, nack) in &group.pel {
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&nack.delivery_time.to_le_bytes());
                Self::len(out, nack.delivery_count);
            }
            Self::len(out, group.consumers.len() as u64);
            for (name, consumer) in &group.consumers {
                self.string(out, name);
                out.extend_from_slice(&consumer.seen_time.to_le_bytes());
                Self::len(out, consumer.pel.len() as u64);
                for id in &consumer.pel {
                    out.extend_from_slice(&id.to_be_bytes());
                }
            }
        }
    }

    /// A list as quicklist-2 nodes. Node boundaries are decided by the same rule in a
    /// counting pass and a writing pass, so the node count written first is exact.
    fn list<'a>(&mut self, out: &mut Vec<u8>, items: impl Iterator<Item = &'a [u8]> + Clone) {
        // Read once: both passes must split the same way.
        let plain_from = PLAIN_NODE_THRESHOLD.load(Ordering::Relaxed);
        let nodes = pack_nodes(items.clone(), plain_from, |_| {});
        Self::len(out, nodes as u64);
        let mut lp = ListpackBuilder::reuse(std::mem::take(&mut self.scratch));
        pack_nodes(items, plain_from, |node| match node {
            Node::Plain(e) => {
                Self::len(out, CONTAINER_PLAIN);
                self.string(out, e);
            }
            Node::Packed(elems) => {
                lp = ListpackBuilder::reuse(std::mem::take(&mut lp).into_buf());
                for e in elems {
                    lp.push_bytes(e);
                }
                Self::len(out, CONTAINER_PACKED);
                self.string(out, lp.finish());
            }
        });
        self.scratch = lp.into_buf();
    }
}

/// One quicklist node decided by [`pack_nodes`].
enum Node<'s, 'a> {
    /// A single huge element, stored as is.
    Plain(&'a [u8]),
    /// Elements sharing one listpack.
    Packed(&'s [&'a [u8]]),
}

/// Splits a list into quicklist nodes the way appending to a Redis 7.0 quicklist does
/// (`_quicklistNodeAllowInsert` with `list-max-listpack-size -2`), elements of `plain_from`
/// bytes or more alone in plain nodes; calls `emit` per node and returns the node count.
fn pack_nodes<'a>(
    items: impl Iterator<Item = &'a [u8]>,
    plain_from: usize,
    mut emit: impl FnMut(Node<'_, 'a>),
) -> usize {
    let mut count = 0;
    let mut node: Vec<&'a [u8]> = Vec::new();
    let mut node_bytes = 7usize; // listpack header and terminator
    for e in items {
        if e.len() >= plain_from {
            if !node.is_empty() {
                emit(Node::Packed(&node));
                count += 1;
                node.clear();
                node_bytes = 7;
            }
            emit(Node::Plain(e));
            count += 1;
            continue;
        }
        if !node.is_empty() && node_bytes + e.len() + LIST_NODE_OVERHEAD > LIST_NODE_BYTES {
            emit(Node::Packed(&node));
            count += 1;
            node.clear();
            node_bytes = 7;
        }
        node_bytes += lp_entry_size(e);
        node.push(e);
    }
    if !node.is_empty() {
        emit(Node::Packed(&node));
        count += 1;
    }
    count
}

/// Bytes a listpack entry for `s` takes, as [`ListpackBuilder::push_bytes`] writes it.
fn lp_entry_size(s: &[u8]) -> usize {
    let enc = match parse_i64(s) {
        Some(v) if (0..=127).contains(&v) => 1,
        Some(v) if (-4096..=4095).contains(&v) => 2,
        Some(v) if (-32768..=32767).contains(&v) => 3,
        Some(v) if (-8388608..=8388607).contains(&v) => 4,
        Some(v) if (i32::MIN as i64..=i32::MAX as i64).contains(&v) => 5,
        Some(_) => 9,
        None if s.len() < 64 => 1 + s.len(),
        None if s.len() < 4096 => 2 + s.len(),
        None => 5 + s.len(),
    };
    enc + match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// The buffered, checksummed output of a save.
struct Output<W: Write> {
    inner: W,
    buf: Vec<u8>,
    digest: crc::Digest<'static, u64, Table<16>>,
    written: u64,
}

impl<W: Write> Output<W> {
    fn flush(&mut self) -> Result<(), RdbError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.digest.update(&self.buf);
        self.inner.write_all(&self.buf).map_err(RdbError::Write)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        if self.buf.capacity() > 4 * FLUSH_AT {
            self.buf.shrink_to(2 * FLUSH_AT);
        }
        Ok(())
    }
}

/// Writes an AUX field with a string value.
fn aux_str(enc: &mut ValueEncoder, out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.push(opcode::AUX);
    enc.string(out, key.as_bytes());
    enc.string(out, value);
}

/// Writes an AUX field with an integer value (`rdbSaveAuxFieldStrInt`).
fn aux_int(enc: &mut ValueEncoder, out: &mut Vec<u8>, key: &str, value: i64) {
    aux_str(enc, out, key, itoa::Buffer::new().format(value).as_bytes());
}

/// Serialises `snapshot` as an RDB version 10 stream into `out`, as Redis 7.0's
/// `rdbSaveRio` does. Runs off the engine lock (the snapshot is frozen); the caller chooses
/// where the bytes go (a temp file for SAVE/BGSAVE, a socket for diskless full sync).
/// Keys whose expiry already passed are written too, as Redis does: the loader decides.
pub fn write_snapshot(
    snapshot: &KeyspaceSnapshot,
    aux: &Aux,
    opts: &WriteOptions,
    out: impl Write,
) -> Result<WriteStats, RdbError> {
    let mut enc = ValueEncoder::new(opts.compression);
    let mut o = Output {
        inner: out,
        buf: Vec::with_capacity(FLUSH_AT + FLUSH_AT / 4),
        digest: CRC64.digest(),
        written: 0,
    };
    o.buf
        .extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
    aux_str(&mut enc, &mut o.buf, "redis-ver", REDIS_VER.as_bytes());
    aux_int(&mut enc, &mut o.buf, "redis-bits", 64);
    aux_int(&mut enc, &mut o.buf, "ctime", aux.ctime);
    aux_int(&mut enc, &mut o.buf, "used-mem", aux.used_mem as i64);
    if let Some(repl) = &aux.repl {
        aux_int(&mut enc, &mut o.buf, "repl-stream-db", repl.stream_db);
        aux_str(&mut enc, &mut o.buf, "repl-id", repl.id.as_bytes());
        aux_int(&mut enc, &mut o.buf, "repl-offset", repl.offset);
    }
    aux_int(&mut enc, &mut o.buf, "aof-base", i64::from(aux.aof_base));
    for code in &aux.functions {
        o.buf.push(opcode::FUNCTION2);
        enc.string(&mut o.buf, code);
    }
    let mut keys = 0u64;
    for db in &snapshot.dbs {
        if db.len == 0 {
            continue;
        }
        o.buf.push(opcode::SELECTDB);
        ValueEncoder::len(&mut o.buf, db.id as u64);
        o.buf.push(opcode::RESIZEDB);
        ValueEncoder::len(&mut o.buf, db.len as u64);
        ValueEncoder::len(&mut o.buf, db.expires as u64);
        for item in db.items() {
            if item.has_expire() {
                o.buf.push(opcode::EXPIRETIME_MS);
                o.buf.extend_from_slice(&item.expire_at().to_le_bytes());
            }
            o.buf.push(ValueEncoder::type_of(&item.value));
            enc.string(&mut o.buf, &item.key);
            enc.value(&mut o.buf, &item.value);
            keys += 1;
            if o.buf.len() >= FLUSH_AT {
                o.flush()?;
            }
            opts.after_key()?;
        }
    }
    o.buf.push(opcode::EOF);
    o.flush()?;
    let crc = if opts.checksum {
        o.digest.finalize()
    } else {
        0
    };
    o.inner
        .write_all(&crc.to_le_bytes())
        .and_then(|_| o.inner.flush())
        .map_err(RdbError::Write)?;
    Ok(WriteStats {
        bytes: o.written + 8,
        keys,
    })
}

/// The DUMP payload of `value`: its RDB type and encoding, then the RDB version (2 bytes)
/// and a CRC64 of everything before (8 bytes), both little-endian, as Redis's
/// `createDumpPayload`. `compression` is the server's `rdbcompression`.
pub fn encode_value(value: &Value, compression: bool) -> Vec<u8> {
    let mut enc = ValueEncoder::new(compression);
    let mut out = Vec::with_capacity(64);
    out.push(ValueEncoder::type_of(value));
    enc.value(&mut out, value);
    push_dump_footer(&mut out);
    out
}

/// The DUMP footer: the RDB version (2 bytes) and a CRC64 of everything before (8 bytes),
/// both little-endian.
fn push_dump_footer(out: &mut Vec<u8>) {
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// FUNCTION DUMP's payload: one function record (opcode and library code) per library,
/// then the DUMP footer, as Redis's `functionDumpCommand` writes it.
pub fn function_dump_payload(codes: &[bytes::Bytes]) -> Vec<u8> {
    let mut enc = ValueEncoder::new(true);
    let mut out = Vec::new();
    for code in codes {
        out.push(super::opcode::FUNCTION2);
        enc.string(&mut out, code);
    }
    push_dump_footer(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::blob;

    fn s(v: &str) -> Value {
        Value::Str(StrValue::from_bytes(v.as_bytes()))
    }

    #[test]
    fn dump_payloads_match_redis_byte_for_byte() {
        // `SET foo bar` then `DUMP foo` on Redis 7.0.15.
        assert_eq!(
            encode_value(&s("bar"), true),
            [
                0x00, 0x03, b'b', b'a', b'r', 0x0a, 0x00, 0xe6, 0xbe, 0x49, 0x60, 0xee, 0x66, 0xfd,
                0x17
            ]
        );
    }

    #[test]
    fn strings_use_redis_forms() {
        let mut enc = ValueEncoder::new(true);
        let mut out = Vec::new();
        enc.string(&mut out, b"12");
        assert_eq!(out, [0xC0, 12]);
        out.clear();
        enc.string(&mut out, b"-300");
        assert_eq!(out, [0xC1, 0xD4, 0xFE]);
        out.clear();
        enc.string(&mut out, b"2147483648"); // above i32: stored as text
        assert_eq!(out[0], 10);
        out.clear();
        enc.string(&mut out, b"012");
        assert_eq!(out, [3, b'0', b'1', b'2']);
        out.clear();
        enc.string(&mut out, &[b'a'; 100]);
        assert_eq!(out[0], 0xC3);
        out.clear();
        let mut plain = ValueEncoder::new(false);
        plain.string(&mut out, &[b'a'; 100]);
        assert_eq!(&out[..2], &[0x40, 100]);
        out.clear();
        ValueEncoder::int_string(&mut out, 1 << 40);
        assert_eq!(out[0] as usize, "1099511627776".len());
    }

    #[test]
    fn long_lists_split_into_nodes_of_about_8k() {
        let items: Vec<Vec<u8>> = (0..2000)
            .map(|i| format!("element-{i:05}").into_bytes())
            .collect();
        let mut sizes = Vec::new();
        let n = pack_nodes(
            items.iter().map(|v| v.as_slice()),
            DEFAULT_PLAIN_NODE_THRESHOLD,
            |node| {
                if let Node::Packed(elems) = node {
                    sizes.push(elems.len());
                }
            },
        );
        // Entries of 15 bytes: a node takes 545 of them before 8 KiB would be passed.
        assert_eq!(n, 4);
        assert_eq!(sizes, vec![545, 545, 545, 365]);
        let one = [blob(b"x")];
        assert_eq!(
            pack_nodes(
                one.iter().map(|v| v.as_slice()),
                DEFAULT_PLAIN_NODE_THRESHOLD,
                |_| {}
            ),
            1
        );
        // The size rule agrees with what the listpack builder really writes.
        let samples: Vec<Vec<u8>> = vec![
            b"127".to_vec(),
            b"-4096".to_vec(),
            b"70000".to_vec(),
            b"-9000000".to_vec(),
            b"3000000000".to_vec(),
            vec![b'a'; 63],
            vec![b'a'; 64],
            vec![b'a'; 200],
            vec![b'a'; 5000],
            vec![b'a'; 20000],
        ];
        for s in &samples {
            let mut lp = ListpackBuilder::reuse(Vec::new());
            let before = lp.bytes();
            lp.push_bytes(s);
            assert_eq!(lp.bytes() - before, lp_entry_size(s), "{}", s.len());
        }
    }
}
