//! The RDB loader: an RDB stream (version 1 to 10, any encoding Redis ever wrote) into a
//! fresh [`Keyspace`], and DUMP payloads into values.
//!
//! Input is read through [`Input`], a buffered reader that counts the byte offset (every
//! error names it), folds every byte into the CRC64 as it goes (so the trailer is checked
//! without holding the file), and copies a string only as its bytes arrive: a length that
//! announces gigabytes costs nothing until the gigabytes are really there, and when the
//! total size is known (a file) such a length is refused at once. Counts of collection
//! elements are checked the same way, and compact blobs (listpacks, ziplists, intsets,
//! zipmaps) are fully validated by [`super::encodings`] before use.
//!
//! Values are built in the form Redis 7.0 would give them after loading, given the
//! configured thresholds (`hash-max-listpack-*`, `set-max-intset-entries`,
//! `zset-max-listpack-*`): the same rules `rdbLoadObject` applies, including its leniency
//! (a listpack hash with a long value stays a listpack) and its strictness (duplicate set
//! members, hash fields or sorted-set members are errors, NaN scores too). Empty
//! collections, which old Redis versions could write, are skipped and counted.

use std::collections::{BTreeSet, VecDeque};
use std::io::Read;

use crc::Table;

use super::encode::CRC64;
use super::encodings::{self, Elem};
use super::lzf;
use super::{opcode, rtype, LoadOptions, LoadStats, Loaded, LoadedAux, RdbError, RDB_VERSION};
use crate::keyspace::types::dense::Dense;
use crate::keyspace::types::score_index::{cmp_entry, ScoreIndex};
use crate::keyspace::types::stream::{Consumer, Fields, Group, Nack, StreamId};
use crate::keyspace::types::{HMap, Hash, List, Set, Stream, ZSet};
use crate::keyspace::value::EMBSTR_MAX;
use crate::keyspace::{
    blob, Blob, EncodingLimits, Keyspace, LoadBatch, LoadedKey, StrValue, Value, NO_EXPIRE,
};
use crate::resp::parser::parse_i64;

/// Size of the read buffer.
const BUF: usize = 64 * 1024;
/// Largest string the loader accepts (Redis's own limit for a value is 512 MB by default;
/// quicklist plain nodes and listpacks stay far below this).
const MAX_STRING: u64 = 1 << 34;
/// LZF cannot expand data by more than this factor (a 3-byte back-reference yields at
/// most 264 bytes); a larger announced length is corrupt, and refusing it early bounds
/// the allocation.
const LZF_MAX_RATIO: u64 = 100;

/// A length, or one of the special string encodings.
enum Len {
    Len(u64),
    /// `11xxxxxx`: 0 int8, 1 int16, 2 int32, 3 LZF.
    Special(u8),
}

/// A buffered reader that tracks the offset and the CRC64 of everything consumed.
pub(crate) struct Input<R: Read> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Offset of `buf[0]` in the stream.
    base: u64,
    digest: crc::Digest<'static, u64, Table<16>>,
    /// `buf[crc_mark..pos]` is consumed but not yet folded into the digest.
    crc_mark: usize,
    total_len: Option<u64>,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(inner: R, total_len: Option<u64>) -> Input<R> {
        Input {
            inner,
            buf: vec![0u8; BUF].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            digest: CRC64.digest(),
            crc_mark: 0,
            total_len,
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn corrupt(&self, at: u64, reason: impl Into<String>) -> RdbError {
        RdbError::Corrupt {
            offset: at,
            reason: reason.into(),
        }
    }

    /// Reads more input after the unconsumed bytes; false at end of input.
    fn fill(&mut self) -> Result<bool, RdbError> {
        self.digest.update(&self.buf[self.crc_mark..self.pos]);
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        self.crc_mark = 0;
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(RdbError::Read {
                        offset: self.base + self.end as u64,
                        source,
                    })
                }
            }
        }
    }

    /// Makes `n` (at most [`BUF`]) bytes available at `pos`.
    fn need(&mut self, n: usize, what: &'static str) -> Result<(), RdbError> {
        while self.end - self.pos < n {
            if !self.fill()? {
                return Err(RdbError::Truncated {
                    offset: self.base + self.end as u64,
                    what,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, RdbError> {
        self.need(1, what)?;
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], RdbError> {
        self.need(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Ok(a)
    }

    /// Refuses a length that cannot fit in what is left of the input (when known).
    fn check_remaining(&self, n: u64, what: &'static str) -> Result<(), RdbError> {
        if let Some(total) = self.total_len {
            let left = total.saturating_sub(self.offset());
            if n > left {
                return Err(self.corrupt(
                    self.offset(),
                    format!("{what} claims {n} bytes or elements, only {left} bytes are left"),
                ));
            }
        }
        Ok(())
    }

    /// Appends `n` bytes to `out`, growing it only as the bytes arrive.
    fn read_into(&mut self, out: &mut Vec<u8>, n: u64, what: &'static str) -> Result<(), RdbError> {
        if n > MAX_STRING {
            return Err(self.corrupt(self.offset(), format!("{what} of {n} bytes is too long")));
        }
        self.check_remaining(n, what)?;
        let mut left = n as usize;
        while left > 0 {
            if self.pos == self.end && !self.fill()? {
                return Err(RdbError::Truncated {
                    offset: self.base + self.end as u64,
                    what,
                });
            }
            let k = left.min(self.end - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + k]);
            self.pos += k;
            left -= k;
        }
        Ok(())
    }

    /// The CRC64 of every byte consumed so far.
    fn checksum(&mut self) -> u64 {
        self.digest.update(&self.buf[self.crc_mark..self.pos]);
        self.crc_mark = self.pos;
        self.digest.clone().finalize()
    }

    fn len_or_special(&mut self, what: &'static str) -> Result<Len, RdbError> {
        let at = self.offset();
        let b = self.u8(what)?;
        Ok(match b >> 6 {
            0 => Len::Len((b & 0x3f) as u64),
            1 => Len::Len((((b & 0x3f) as u64) << 8) | self.u8(what)? as u64),
            2 => match b {
                0x80 => Len::Len(u32::from_be_bytes(self.array::<4>(what)?) as u64),
                0x81 => Len::Len(u64::from_be_bytes(self.array::<8>(what)?)),
                _ => {
                    return Err(
                        self.corrupt(at, format!("unknown length encoding {b:#04x} in {what}"))
                    )
                }
            },
            _ => Len::Special(b & 0x3f),
        })
    }

    /// A plain length (`rdbLoadLen`).
    pub(crate) fn len(&mut self, what: &'static str) -> Result<u64, RdbError> {
        let at = self.offset();
        match self.len_or_special(what)? {
            Len::Len(n) => Ok(n),
            Len::Special(_) => {
                Err(self.corrupt(at, format!("string encoding where {what} was expected")))
            }
        }
    }

    /// A collection's element count, checked against the remaining input (each element
    /// takes at least one byte).
    fn count(&mut self, what: &'static str) -> Result<u64, RdbError> {
        let n = self.len(what)?;
        self.check_remaining(n, what)?;
        Ok(n)
    }

    /// An RDB string (any form) appended to `out` as bytes. Returns the integer when the
    /// string was stored in integer form (its decimal text is appended as well).
    fn string_into(
        &mut self,
        out: &mut Vec<u8>,
        what: &'static str,
    ) -> Result<Option<i64>, RdbError> {
        let at = self.offset();
        match self.len_or_special(what)? {
            Len::Len(n) => {
                self.read_into(out, n, what)?;
                Ok(None)
            }
            Len::Special(enc) => {
                let n = match enc {
                    0 => self.u8(what)? as i8 as i64,
                    1 => i16::from_le_bytes(self.array::<2>(what)?) as i64,
                    2 => i32::from_le_bytes(self.array::<4>(what)?) as i64,
                    3 => {
                        self.lzf_into(out, at, what)?;
                        return Ok(None);
                    }
                    other => {
                        return Err(
                            self.corrupt(at, format!("unknown string encoding {other} in {what}"))
                        )
                    }
                };
                out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                Ok(Some(n))
            }
        }
    }

    fn lzf_into(&mut self, out: &mut Vec<u8>, at: u64, what: &'static str) -> Result<(), RdbError> {
        let clen = self.len(what)?;
        let ulen = self.len(what)?;
        if clen == 0 || ulen > clen.saturating_mul(LZF_MAX_RATIO) || ulen > MAX_STRING {
            return Err(self.corrupt(
                at,
                format!("LZF string in {what} of {clen} bytes cannot expand to {ulen}"),
            ));
        }
        let mut compressed = Vec::new();
        self.read_into(&mut compressed, clen, what)?;
        lzf::decompress(&compressed, ulen as usize, out).map_err(|e| {
            self.corrupt(
                at,
                format!("invalid LZF compressed string in {what} ({e:?})"),
            )
        })
    }

    /// An RDB string as a [`Blob`], with one allocation at most: short strings (keys, most
    /// members) go straight into the blob's inline space, longer ones into a buffer sized
    /// from their length (capped, so a hostile length costs nothing until its bytes come).
    pub(crate) fn blob(&mut self, what: &'static str) -> Result<Blob, RdbError> {
        Ok(self.blob_or_int(what)?.0)
    }

    fn blob_or_int(&mut self, what: &'static str) -> Result<(Blob, Option<i64>), RdbError> {
        let at = self.offset();
        match self.len_or_special(what)? {
            Len::Len(n) if n <= 16 && (n as usize) <= BUF => {
                let n = n as usize;
                self.need(n, what)?;
                let b = blob(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                Ok((b, None))
            }
            Len::Len(n) => {
                let mut v = Vec::with_capacity(n.min(1 << 20) as usize);
                self.read_into(&mut v, n, what)?;
                Ok((Blob::from_vec(v), None))
            }
            Len::Special(3) => {
                let mut v = Vec::new();
                self.lzf_into(&mut v, at, what)?;
                Ok((Blob::from_vec(v), None))
            }
            Len::Special(enc) => {
                let n = match enc {
                    0 => self.u8(what)? as i8 as i64,
                    1 => i16::from_le_bytes(self.array::<2>(what)?) as i64,
                    2 => i32::from_le_bytes(self.array::<4>(what)?) as i64,
                    other => {
                        return Err(
                            self.corrupt(at, format!("unknown string encoding {other} in {what}"))
                        )
                    }
                };
                Ok((blob(itoa::Buffer::new().format(n).as_bytes()), Some(n)))
            }
        }
    }

    /// An RDB string as a string value, with the encoding Redis gives it on load.
    fn str_value(&mut self, what: &'static str) -> Result<StrValue, RdbError> {
        match self.blob_or_int(what)? {
            (_, Some(n)) => Ok(StrValue::Int(n)),
            (b, None) => Ok(str_value_from(b)),
        }
    }

    /// An RDB string holding a compact blob.
    fn blob_bytes(&mut self, what: &'static str) -> Result<(u64, Vec<u8>), RdbError> {
        let at = self.offset();
        let mut v = Vec::new();
        self.string_into(&mut v, what)?;
        Ok((at, v))
    }
}

/// `tryObjectEncoding` on a loaded string: `int` when it is a canonical integer of at most
/// 20 characters, `embstr` up to 44 bytes, `raw` above (the rule of [`StrValue::from_bytes`],
/// without copying the bytes again).
fn str_value_from(b: Blob) -> StrValue {
    if b.len() <= 20 {
        if let Some(n) = parse_i64(&b) {
            return StrValue::Int(n);
        }
    }
    if b.len() <= EMBSTR_MAX {
        StrValue::Embstr(b)
    } else {
        StrValue::Raw(b)
    }
}

/// Everything the loader needs to turn one value into the form Redis would give it.
struct ValueReader<'a> {
    limits: &'a EncodingLimits,
}

fn bad(at: u64, reason: impl Into<String>) -> RdbError {
    RdbError::Corrupt {
        offset: at,
        reason: reason.into(),
    }
}

impl ValueReader<'_> {
    /// Reads a value of RDB type `t`; `None` for an empty collection.
    fn read<R: Read>(&self, inp: &mut Input<R>, t: u8, at: u64) -> Result<Option<Value>, RdbError> {
        let v = match t {
            rtype::STRING => Value::Str(inp.str_value("a string value")?),
            rtype::LIST => {
                let n = inp.count("a list length")?;
                let mut items = VecDeque::with_capacity(n.min(1024) as usize);
                for _ in 0..n {
                    items.push_back(inp.blob("a list element")?);
                }
                return Ok(list(items));
            }
            rtype::SET => return self.set(inp),
            rtype::ZSET | rtype::ZSET_2 => return self.zset(inp, t == rtype::ZSET_2, at),
            rtype::HASH => return self.hash(inp, at),
            rtype::LIST_QUICKLIST | rtype::LIST_QUICKLIST_2 => {
                return self.quicklist(inp, t == rtype::LIST_QUICKLIST_2)
            }
            rtype::HASH_ZIPMAP => {
                let (at, zm) = inp.blob_bytes("a zipmap")?;
                let pairs = encodings::zipmap_pairs(&zm).map_err(|r| bad(at, r))?;
                let maxlen = pairs
                    .iter()
                    .map(|(f, v)| f.len().max(v.len()))
                    .max()
                    .unwrap_or(0);
                let small = pairs.len() <= self.limits.hash_max_listpack_entries
                    && maxlen <= self.limits.hash_max_listpack_value;
                let pairs = pairs.into_iter().map(|(f, v)| (blob(f), blob(v))).collect();
                return self.hash_from_pairs(pairs, small, at);
            }
            rtype::LIST_ZIPLIST => {
                let (at, zl) = inp.blob_bytes("a ziplist")?;
                let elems = encodings::ziplist_elems(&zl).map_err(|r| bad(at, r))?;
                return Ok(list(elems.iter().map(Elem::to_blob).collect()));
            }
            rtype::SET_INTSET => {
                let (at, is) = inp.blob_bytes("an intset")?;
                let members = encodings::intset_members(&is).map_err(|r| bad(at, r))?;
                if members.is_empty() {
                    return Ok(None);
                }
                let set = if members.len() > self.limits.set_max_intset_entries {
                    let mut t = Dense::with_capacity(members.len());
                    let mut b = itoa::Buffer::new();
                    for m in members {
                        t.insert(b.format(m).as_bytes(), ());
                    }
                    Set::Table(t)
                } else {
                    Set::Intset(members)
                };
                Value::Set(Box::new(set))
            }
            rtype::ZSET_ZIPLIST | rtype::ZSET_LISTPACK => {
                let (at, b) = inp.blob_bytes("a sorted set blob")?;
                let elems = if t == rtype::ZSET_LISTPACK {
                    encodings::listpack_elems(&b)
                } else {
                    encodings::ziplist_elems(&b)
                }
                .map_err(|r| bad(at, r))?;
                if elems.len() % 2 != 0 {
                    return Err(bad(at, "sorted set blob with an odd number of elements"));
                }
                let mut entries = Vec::with_capacity(elems.len() / 2);
                for pair in elems.chunks_exact(2) {
                    let score = pair[1]
                        .to_score()
                        .ok_or_else(|| bad(at, "sorted set blob with an invalid score"))?;
                    entries.push((pair[0].to_blob(), score));
                }
                let small = entries.len() <= self.limits.zset_max_listpack_entries;
                return self.zset_from_entries(entries, small, at);
            }
            rtype::HASH_ZIPLIST | rtype::HASH_LISTPACK => {
                let (at, b) = inp.blob_bytes("a hash blob")?;
                let elems = if t == rtype::HASH_LISTPACK {
                    encodings::listpack_elems(&b)
                } else {
                    encodings::ziplist_elems(&b)
                }
                .map_err(|r| bad(at, r))?;
                if elems.len() % 2 != 0 {
                    return Err(bad(at, "hash blob with an odd number of elements"));
                }
                let pairs: Vec<(Blob, Blob)> = elems
                    .chunks_exact(2)
                    .map(|p| (p[0].to_blob(), p[1].to_blob()))
                    .collect();
                let small = pairs.len() <= self.limits.hash_max_listpack_entries;
                return self.hash_from_pairs(pairs, small, at);
            }
            rtype::STREAM_LISTPACKS | rtype::STREAM_LISTPACKS_2 => {
                let s = read_stream(inp, t == rtype::STREAM_LISTPACKS_2)?;
                Value::Stream(Box::new(s))
            }
            rtype::MODULE | rtype::MODULE_2 => {
                return Err(RdbError::Unsupported {
                    offset: at,
                    what: "a module value (replikv loads no modules)".into(),
                })
            }
            other => return Err(bad(at, format!("unknown RDB value type {other}"))),
        };
        Ok(Some(v))
    }

    fn set<R: Read>(&self, inp: &mut Input<R>) -> Result<Option<Value>, RdbError> {
        let n = inp.count("a set length")?;
        if n == 0 {
            return Ok(None);
        }
        let mut set = if n > self.limits.set_max_intset_entries as u64 {
            Set::Table(Dense::with_capacity(n.min(4096) as usize))
        } else {
            Set::Intset(Vec::new())
        };
        for _ in 0..n {
            let at = inp.offset();
            let m = inp.blob("a set member")?;
            let fresh = match &mut set {
                Set::Intset(v) => match parse_i64(&m) {
                    Some(x) => match v.binary_search(&x) {
                        Ok(_) => false,
                        Err(pos) => {
                            v.insert(pos, x);
                            true
                        }
                    },
                    None => {
                        let mut t = Dense::with_capacity(n.min(4096) as usize);
                        let mut b = itoa::Buffer::new();
                        for x in v.iter() {
                            t.insert(b.format(*x).as_bytes(), ());
                        }
                        let fresh = t.insert(&m, ()).is_none();
                        set = Set::Table(t);
                        fresh
                    }
                },
                Set::Table(t) => t.insert(&m, ()).is_none(),
            };
            if !fresh {
                return Err(bad(at, "duplicate set members detected"));
            }
        }
        Ok(Some(Value::Set(Box::new(set))))
    }

    fn zset<R: Read>(
        &self,
        inp: &mut Input<R>,
        binary: bool,
        at: u64,
    ) -> Result<Option<Value>, RdbError> {
        let n = inp.count("a sorted set length")?;
        let mut entries = Vec::with_capacity(n.min(4096) as usize);
        let mut maxlen = 0;
        for _ in 0..n {
            let m = inp.blob("a sorted set member")?;
            let score_at = inp.offset();
            let score = if binary {
                f64::from_le_bytes(inp.array::<8>("a score")?)
            } else {
                match inp.u8("a score")? {
                    253 => f64::NAN,
                    254 => f64::INFINITY,
                    255 => f64::NEG_INFINITY,
                    len => {
                        let mut text = Vec::with_capacity(len as usize);
                        inp.read_into(&mut text, len as u64, "a score")?;
                        encodings::parse_score(&text)
                            .ok_or_else(|| bad(score_at, "a score that is not a number"))?
                    }
                }
            };
            if score.is_nan() {
                return Err(bad(score_at, "sorted set with a NaN score"));
            }
            maxlen = maxlen.max(m.len());
            entries.push((m, score));
        }
        let small = entries.len() <= self.limits.zset_max_listpack_entries
            && maxlen <= self.limits.zset_max_listpack_value;
        self.zset_from_entries(entries, small, at)
    }

    /// A sorted set from entries in any order: the listpack form (sorted) when `small`.
    fn zset_from_entries(
        &self,
        mut entries: Vec<(Blob, f64)>,
        small: bool,
        at: u64,
    ) -> Result<Option<Value>, RdbError> {
        if entries.is_empty() {
            return Ok(None);
        }
        let z = if small {
            let mut names: Vec<&Blob> = entries.iter().map(|(m, _)| m).collect();
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                return Err(bad(at, "duplicate sorted set members detected"));
            }
            entries.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
            ZSet::Listpack(entries)
        } else {
            let mut dict = HMap::with_capacity_and_hasher(entries.len(), Default::default());
            let mut index = ScoreIndex::new();
            for (m, s) in entries {
                if dict.insert(m.clone(), s).is_some() {
                    return Err(bad(at, "duplicate sorted set members detected"));
                }
                index.insert(s, m);
            }
            ZSet::Skiplist { dict, index }
        };
        Ok(Some(Value::ZSet(Box::new(z))))
    }

    fn hash<R: Read>(&self, inp: &mut Input<R>, at: u64) -> Result<Option<Value>, RdbError> {
        let n = inp.count("a hash length")?;
        let mut pairs = Vec::with_capacity(n.min(1024) as usize);
        let mut small = n <= self.limits.hash_max_listpack_entries as u64;
        for _ in 0..n {
            let f = inp.blob("a hash field")?;
            let v = inp.blob("a hash value")?;
            if f.len() > self.limits.hash_max_listpack_value
                || v.len() > self.limits.hash_max_listpack_value
            {
                small = false;
            }
            pairs.push((f, v));
        }
        self.hash_from_pairs(pairs, small, at)
    }

    /// A hash from field/value pairs: the listpack form (file order) when `small`.
    fn hash_from_pairs(
        &self,
        pairs: Vec<(Blob, Blob)>,
        small: bool,
        at: u64,
    ) -> Result<Option<Value>, RdbError> {
        if pairs.is_empty() {
            return Ok(None);
        }
        let h = if small {
            let mut names: Vec<&Blob> = pairs.iter().map(|(f, _)| f).collect();
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                return Err(bad(at, "duplicate hash fields detected"));
            }
            Hash::Listpack(pairs)
        } else {
            let mut map = Dense::with_capacity(pairs.len());
            for (f, v) in pairs {
                if map.insert(&f, v).is_some() {
                    return Err(bad(at, "duplicate hash fields detected"));
                }
            }
            Hash::Table(map)
        };
        Ok(Some(Value::Hash(Box::new(h))))
    }

    fn quicklist<R: Read>(&self, inp: &mut Input<R>, v2: bool) -> Result<Option<Value>, RdbError> {
        let nodes = inp.count("a quicklist node count")?;
        let mut items = VecDeque::new();
        for _ in 0..nodes {
            let container_at = inp.offset();
            let container = if v2 {
                inp.len("a quicklist container")?
            } else {
                2
            };
            if container != 1 && container != 2 {
                return Err(bad(
                    container_at,
                    format!("quicklist node with container {container}"),
                ));
            }
            let (at, data) = inp.blob_bytes("a quicklist node")?;
            if data.is_empty() {
                return Err(bad(at, "empty quicklist node"));
            }
            if container == 1 {
                items.push_back(Blob::from_vec(data));
                continue;
            }
            let elems = if v2 {
                encodings::listpack_elems(&data)
            } else {
                encodings::ziplist_elems(&data)
            }
            .map_err(|r| bad(at, r))?;
            items.extend(elems.iter().map(Elem::to_blob));
        }
        Ok(list(items))
    }
}

/// Entry flag of a stream listpack: the entry is deleted (a tombstone).
const STREAM_FLAG_DELETED: i64 = 1;
/// Entry flag of a stream listpack: the entry's field names are the master entry's, and
/// only its values are stored.
const STREAM_FLAG_SAMEFIELDS: i64 = 2;

/// Reads an ID written as two RDB lengths (milliseconds, then sequence).
fn stream_id_lens<R: Read>(inp: &mut Input<R>, what: &'static str) -> Result<StreamId, RdbError> {
    let ms = inp.len(what)?;
    let seq = inp.len(what)?;
    Ok(StreamId::new(ms, seq))
}

/// Reads an ID written raw: 16 bytes, big-endian (PEL entries).
fn stream_id_raw<R: Read>(inp: &mut Input<R>, what: &'static str) -> Result<StreamId, RdbError> {
    Ok(StreamId::from_be_bytes(inp.array::<16>(what)?))
}

/// A stream value: type 15 (Redis 5 and 6) or type 19 (`v2`, Redis 7.0), as
/// `rdbLoadObject` reads them, with every listpack checked the way
/// `streamValidateListpackIntegrity` checks it in deep mode, plus what replikv's ordered
/// model needs: IDs increasing across the whole stream, counts that agree with the data.
fn read_stream<R: Read>(inp: &mut Input<R>, v2: bool) -> Result<Stream, RdbError> {
    let mut s = Stream::new();
    let nodes = inp.count("a stream node count")?;
    // The last entry (tombstones included) of the previous node: everything in the next
    // node, its master ID first, must come after it.
    let mut prev_last: Option<StreamId> = None;
    for _ in 0..nodes {
        let key_at = inp.offset();
        let key = inp.blob("a stream node key")?;
        let master = <[u8; 16]>::try_from(key.as_slice())
            .map(StreamId::from_be_bytes)
            .map_err(|_| {
                bad(
                    key_at,
                    format!("stream node key of {} bytes is not a 16-byte ID", key.len()),
                )
            })?;
        if let Some(prev) = prev_last {
            if master <= prev {
                let reason = format!(
                    "stream node {master} does not come after the previous node's last entry {prev}"
                );
                return Err(bad(key_at, reason));
            }
        }
        let (lp_at, lp) = inp.blob_bytes("a stream listpack")?;
        let node = stream_node(&lp, master).map_err(|r| bad(lp_at, r))?;
        prev_last = Some(node.last);
        s.load_node(
            master,
            node.master_fields,
            node.live,
            node.tombstones,
            node.last,
            lp.len(),
        );
    }

    let meta_at = inp.offset();
    let length = inp.len("a stream length")?;
    let last_id = stream_id_lens(inp, "a stream's last ID")?;
    let (first_id, max_deleted_id, entries_added) = if v2 {
        let first = stream_id_lens(inp, "a stream's first ID")?;
        let max_deleted = stream_id_lens(inp, "a stream's largest deleted ID")?;
        let added = inp.len("a stream's added-entries counter")?;
        (Some(first), max_deleted, added)
    } else {
        // Streams from before 7.0 have no deletion history or counter: Redis starts the
        // counter at the length.
        (None, StreamId::MIN, length)
    };
    // Redis only refuses a length with no node at all; any disagreement is corrupt here,
    // since XLEN would lie.
    if length != s.len() as u64 {
        return Err(bad(
            meta_at,
            format!(
                "stream length {length} does not match its {} entries",
                s.len()
            ),
        ));
    }
    if let Some((&top, _)) = s.last_entry() {
        if last_id < top {
            return Err(bad(
                meta_at,
                format!("stream last ID {last_id} is below its last entry {top}"),
            ));
        }
    }
    s.set_meta(last_id, max_deleted_id, entries_added);
    match first_id {
        // Redis keeps the recorded first ID as the file has it (XINFO shows it).
        Some(first) => s.first_id = first,
        // Redis 7.0 takes the first live entry of an old stream, and when there is none
        // its edge lookup answers the largest ID.
        None if s.is_empty() => s.first_id = StreamId::MAX,
        None => {}
    }

    let groups = inp.count("a stream's consumer group count")?;
    for _ in 0..groups {
        let name_at = inp.offset();
        let name = inp.blob("a consumer group name")?;
        let last_id = stream_id_lens(inp, "a consumer group's last ID")?;
        let entries_read = if v2 {
            // Redis stores its "unknown" (-1) as the same 64 bits.
            match inp.len("a consumer group's read counter")? {
                u64::MAX => None,
                n => Some(n),
            }
        } else {
            s.estimate_distance(last_id)
        };
        if s.groups.contains_key(&name) {
            return Err(bad(
                name_at,
                format!(
                    "duplicate consumer group name {}",
                    String::from_utf8_lossy(&name)
                ),
            ));
        }
        let mut group = Group::new(last_id, entries_read);
        let pel = inp.count("a consumer group's PEL size")?;
        for _ in 0..pel {
            let at = inp.offset();
            let id = stream_id_raw(inp, "a PEL entry ID")?;
            let delivery_time = i64::from_le_bytes(inp.array::<8>("a PEL delivery time")?);
            let delivery_count = inp.len("a PEL delivery count")?;
            let nack = Nack {
                delivery_time,
                delivery_count,
                // Set below, by the consumer that lists the entry.
                consumer: Blob::new(),
            };
            if group.pel.insert(id, nack).is_some() {
                return Err(bad(
                    at,
                    format!("duplicate entry {id} in a consumer group PEL"),
                ));
            }
        }
        // IDs of the group PEL some consumer has claimed so far (a consumer name may be
        // empty, so the placeholder owner cannot tell).
        let mut owned: BTreeSet<StreamId> = BTreeSet::new();
        let consumers = inp.count("a consumer count")?;
        for _ in 0..consumers {
            let at = inp.offset();
            let cname = inp.blob("a consumer name")?;
            if group.consumers.contains_key(&cname) {
                return Err(bad(
                    at,
                    format!("duplicate consumer {}", String::from_utf8_lossy(&cname)),
                ));
            }
            let seen_time = i64::from_le_bytes(inp.array::<8>("a consumer's seen time")?);
            let mut consumer = Consumer {
                seen_time,
                pel: BTreeSet::new(),
            };
            let n = inp.count("a consumer's PEL size")?;
            for _ in 0..n {
                let at = inp.offset();
                let id = stream_id_raw(inp, "a consumer's PEL entry ID")?;
                let Some(nack) = group.pel.get_mut(&id) else {
                    return Err(bad(
                        at,
                        format!("consumer PEL entry {id} is not in the group PEL"),
                    ));
                };
                if !consumer.pel.insert(id) {
                    return Err(bad(at, format!("duplicate entry {id} in a consumer PEL")));
                }
                if !owned.insert(id) {
                    return Err(bad(at, format!("PEL entry {id} belongs to two consumers")));
                }
                nack.consumer = cname.clone();
            }
            group.consumers.insert(cname, consumer);
        }
        if owned.len() != group.pel.len() {
            let orphan = group.pel.keys().find(|id| !owned.contains(id));
            let orphan = orphan.map_or_else(String::new, |id| id.to_string());
            return Err(bad(
                inp.offset(),
                format!("consumer group PEL entry {orphan} has no consumer"),
            ));
        }
        s.groups.insert(name, group);
    }
    Ok(s)
}

/// What one stream listpack holds.
struct StreamNode {
    master_fields: std::sync::Arc<[Blob]>,
    live: Vec<(StreamId, Fields)>,
    /// Deleted entries still in the listpack.
    tombstones: Vec<(StreamId, Fields)>,
    /// The last entry, tombstones included (the master ID when there is no entry).
    last: StreamId,
}

/// Walks the elements of a stream listpack.
struct LpWalk<'a> {
    elems: &'a [Elem<'a>],
    pos: usize,
}

impl<'a> LpWalk<'a> {
    fn next(&mut self, what: &str) -> Result<&'a Elem<'a>, String> {
        let e = self
            .elems
            .get(self.pos)
            .ok_or_else(|| format!("stream listpack ends before {what}"))?;
        self.pos += 1;
        Ok(e)
    }

    /// An integer element; a string holding a canonical integer counts, as Redis reads it.
    fn int(&mut self, what: &str) -> Result<i64, String> {
        match self.next(what)? {
            Elem::Int(n) => Ok(*n),
            Elem::Str(s) => {
                parse_i64(s).ok_or_else(|| format!("stream listpack {what} is not an integer"))
            }
        }
    }

    /// A count: an integer that cannot be negative.
    fn count(&mut self, what: &str) -> Result<u64, String> {
        let n = self.int(what)?;
        u64::try_from(n).map_err(|_| format!("stream listpack {what} is negative ({n})"))
    }
}

/// Decodes and checks one stream listpack whose key is `master`: the master entry (live
/// count, deleted count, field count, field names, a 0), then each entry (flags, ID deltas
/// from the master ID, the field count and names unless it has the master's fields, the
/// values, and the element count Redis uses to walk backwards).
fn stream_node(lp: &[u8], master: StreamId) -> Result<StreamNode, String> {
    let elems = encodings::listpack_elems(lp)?;
    let mut w = LpWalk {
        elems: &elems,
        pos: 0,
    };
    let count = w.count("the master entry's live count")?;
    let deleted = w.count("the master entry's deleted count")?;
    let nfields = w.count("the master entry's field count")?;
    let mut master_fields = Vec::new();
    for _ in 0..nfields {
        master_fields.push(w.next("a master field name")?.to_blob());
    }
    if w.int("the master entry's terminator")? != 0 {
        return Err("stream listpack master entry does not end with 0".into());
    }
    let master_fields: std::sync::Arc<[Blob]> = master_fields.into();
    let total = count
        .checked_add(deleted)
        .ok_or("stream listpack entry counts overflow")?;
    let mut live = Vec::new();
    let mut tombstones = Vec::new();
    let mut last: Option<StreamId> = None;
    for _ in 0..total {
        let flags = w.int("an entry's flags")?;
        let ms_delta = w.int("an entry's ID")?;
        let seq_delta = w.int("an entry's ID")?;
        // The deltas are the differences of unsigned values, stored as signed.
        let id = StreamId::new(
            master.ms.wrapping_add(ms_delta as u64),
            master.seq.wrapping_add(seq_delta as u64),
        );
        match last {
            None if id < master => {
                return Err(format!(
                    "stream entry {id} is below its node's master ID {master}"
                ))
            }
            Some(prev) if id <= prev => {
                return Err(format!("stream entry {id} does not come after {prev}"))
            }
            _ => {}
        }
        let same = flags & STREAM_FLAG_SAMEFIELDS != 0;
        let mut values = Vec::new();
        // An entry with the master's names shares them (no copy per entry).
        let (names, pairs, expected) = if same {
            for _ in master_fields.iter() {
                values.push(w.next("an entry value")?.to_blob());
            }
            let pairs = master_fields.len() as u64;
            (master_fields.clone(), pairs, pairs + 3)
        } else {
            let pairs = w.count("an entry's field count")?;
            let mut names = Vec::new();
            for _ in 0..pairs {
                names.push(w.next("an entry field")?.to_blob());
                values.push(w.next("an entry value")?.to_blob());
            }
            // Elements were there for every pair, so this cannot overflow.
            (names.into(), pairs, 2 * pairs + 4)
        };
        let lp_count = w.int("an entry's element count")?;
        if u64::try_from(lp_count) != Ok(expected) {
            return Err(format!(
                "stream entry {id} with {pairs} fields has element count {lp_count}, expected {expected}"
            ));
        }
        let fields = Fields::new(names, values.iter().map(|v| v.as_slice()));
        if flags & STREAM_FLAG_DELETED != 0 {
            tombstones.push((id, fields));
        } else {
            live.push((id, fields));
        }
        last = Some(id);
    }
    if w.pos != elems.len() {
        return Err(format!(
            "stream listpack has {} elements past its last entry",
            elems.len() - w.pos
        ));
    }
    if live.len() as u64 != count || tombstones.len() as u64 != deleted {
        return Err(format!(
            "stream listpack master entry counts {count} live and {deleted} deleted entries, found {} and {}",
            live.len(),
            tombstones.len()
        ));
    }
    Ok(StreamNode {
        master_fields,
        live,
        tombstones,
        last: last.unwrap_or(master),
    })
}

fn list(items: VecDeque<Blob>) -> Option<Value> {
    (!items.is_empty()).then(|| Value::List(Box::new(List { items })))
}

fn aux_int(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?;
    s.trim().parse().ok()
}

/// Loads an RDB stream into a fresh keyspace (Redis's `rdbLoadRio`).
///
/// Keys whose expiry passed before `opts.now_ms` are dropped unless `opts.keep_expired`
/// (a replica keeps them for its master's DELs). The caller installs the result only when
/// this returns `Ok`; on error nothing of the input is kept.
pub fn load(input: impl Read, opts: &LoadOptions) -> Result<Loaded, RdbError> {
    let mut inp = Input::new(input, opts.total_len);
    let header = inp.array::<9>("the RDB header")?;
    if &header[..5] != b"REDIS" {
        return Err(RdbError::BadMagic);
    }
    let digits = &header[5..];
    let version: u32 = match std::str::from_utf8(digits)
        .ok()
        .filter(|d| d.bytes().all(|c| c.is_ascii_digit()))
    {
        Some(d) => d.parse().unwrap_or(0),
        None => {
            return Err(RdbError::BadVersion(
                String::from_utf8_lossy(digits).into_owned(),
            ))
        }
    };
    if !(1..=RDB_VERSION as u32).contains(&version) {
        return Err(RdbError::BadVersion(version.to_string()));
    }
    let databases = opts.databases.max(1);
    let mut keyspace = Keyspace::new(databases, opts.limits);
    let clock = keyspace.lru_clock();
    let reader = ValueReader {
        limits: &opts.limits,
    };
    let mut aux = LoadedAux::default();
    let mut stats = LoadStats {
        version,
        ..Default::default()
    };
    let mut db = 0usize;
    let mut expire_at = NO_EXPIRE;
    let mut idle: Option<u64> = None;
    let mut expired = Vec::new();
    let mut batch = LoadBatch::default();
    loop {
        let at = inp.offset();
        let t = inp.u8("an opcode or value type")?;
        match t {
            opcode::EXPIRETIME => {
                expire_at = i32::from_le_bytes(inp.array::<4>("an expire time")?) as i64 * 1000;
            }
            opcode::EXPIRETIME_MS => {
                expire_at = i64::from_le_bytes(inp.array::<8>("an expire time")?);
            }
            opcode::FREQ => {
                inp.u8("an LFU frequency")?;
            }
            opcode::IDLE => {
                idle = Some(inp.len("an LRU idle time")?);
            }
            opcode::EOF => {
                add_batch(&mut keyspace, db, &mut batch)?;
                break;
            }
            opcode::SELECTDB => {
                let id = inp.len("a database number")?;
                if id >= databases as u64 {
                    return Err(RdbError::DbOutOfRange {
                        offset: at,
                        db: id,
                        databases,
                    });
                }
                add_batch(&mut keyspace, db, &mut batch)?;
                db = id as usize;
            }
            opcode::RESIZEDB => {
                let keys = inp.len("a database size")?;
                inp.len("an expires size")?;
                // A hint only, and tables are sized from it: bounded by what the file can
                // hold (a key takes at least 4 bytes), or by a million keys in a stream of
                // unknown size, so it cannot make the loader allocate much for keys that
                // never come.
                let bound = match inp.total_len {
                    Some(total) => total.saturating_sub(inp.offset()) / 4,
                    None => 1 << 20,
                };
                keyspace.dbs[db].reserve(keys.min(bound) as usize);
            }
            opcode::AUX => {
                let key = inp.blob("an AUX field name")?;
                let value = inp.blob("an AUX field value")?;
                match key.as_slice() {
                    b"redis-ver" => {
                        aux.redis_ver = Some(String::from_utf8_lossy(&value).into_owned())
                    }
                    b"ctime" => aux.ctime = aux_int(&value),
                    b"used-mem" => {
                        aux.used_mem = aux_int(&value);
                        if let (Some(p), Some(used)) = (&opts.progress, aux.used_mem) {
                            p.note_used_mem(used.max(0) as u64);
                        }
                    }
                    b"repl-stream-db" => aux.repl_stream_db = aux_int(&value),
                    b"repl-id" if value.len() == 40 => {
                        aux.repl_id = Some(String::from_utf8_lossy(&value).into_owned())
                    }
                    b"repl-offset" => aux.repl_offset = aux_int(&value),
                    // Unknown fields are ignored, as the AUX contract requires.
                    _ => {}
                }
            }
            opcode::MODULE_AUX => {
                return Err(RdbError::Unsupported {
                    offset: at,
                    what: "module auxiliary data (replikv loads no modules)".into(),
                })
            }
            opcode::FUNCTION2 => {
                let code = inp.blob("a function library")?;
                aux.functions.push(bytes::Bytes::copy_from_slice(&code));
            }
            opcode::FUNCTION => {
                return Err(RdbError::Unsupported {
                    offset: at,
                    what: "a function library in the format of Redis 7.0's release candidates"
                        .into(),
                })
            }
            t => {
                let key = inp.blob("a key")?;
                match reader.read(&mut inp, t, at)? {
                    None => {
                        stats.empty_keys_skipped += 1;
                        if stats.empty_keys_skipped <= 10 {
                            tracing::warn!(key = %String::from_utf8_lossy(&key), "RDB load: skipping an empty key");
                        }
                    }
                    Some(_)
                        if !opts.keep_expired
                            && expire_at != NO_EXPIRE
                            && expire_at < opts.now_ms =>
                    {
                        stats.keys_expired += 1;
                        expired.push((db, key));
                    }
                    Some(value) => {
                        let item = keyspace.dbs[db].loaded_item(&key, value, expire_at, clock);
                        if let Some(secs) = idle {
                            let idle = secs.min(u32::MAX as u64) as u32;
                            item.touch_access(clock.saturating_sub(idle));
                        }
                        stats.keys_loaded += 1;
                        if batch.push(&key, item, at) {
                            add_batch(&mut keyspace, db, &mut batch)?;
                        }
                    }
                }
                expire_at = NO_EXPIRE;
                idle = None;
                if let Some(p) = &opts.progress {
                    p.advance(inp.offset(), stats.keys_loaded);
                }
                opts.key_delay.pause();
            }
        }
    }
    if version >= 5 {
        let computed = inp.checksum();
        let at = inp.offset();
        let stored = u64::from_le_bytes(inp.array::<8>("the checksum")?);
        if opts.verify_checksum && stored != 0 && stored != computed {
            return Err(RdbError::Checksum {
                offset: at,
                computed,
                stored,
            });
        }
    }
    stats.bytes = inp.offset();
    Ok(Loaded {
        keyspace,
        aux,
        stats,
        expired,
    })
}

/// Adds the keys `batch` gathered to database `db` (see [`crate::keyspace::Db::insert_loaded`]).
fn add_batch(keyspace: &mut Keyspace, db: usize, batch: &mut LoadBatch) -> Result<(), RdbError> {
    if batch.is_empty() {
        return Ok(());
    }
    match keyspace.dbs[db].insert_loaded(batch) {
        None => Ok(()),
        Some(LoadedKey { item, offset, .. }) => Err(RdbError::DuplicateKey {
            offset,
            db,
            key: String::from_utf8_lossy(item.key.as_slice()).into_owned(),
        }),
    }
}

/// The body of a DUMP payload whose footer (Redis's `verifyDumpPayload`) carries an RDB
/// version of at most ours and the right CRC64; `None` otherwise.
fn dump_body(payload: &[u8]) -> Option<&[u8]> {
    let body_len = payload.len().checked_sub(10)?;
    let version = u16::from_le_bytes([payload[body_len], payload[body_len + 1]]);
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&payload[body_len + 2..]);
    let crc_ok = CRC64.checksum(&payload[..body_len + 2]) == u64::from_le_bytes(stored);
    (version <= RDB_VERSION && crc_ok).then_some(&payload[..body_len])
}

/// Decodes a DUMP payload (Redis's `verifyDumpPayload` then `rdbLoadObject`): the footer
/// must carry an RDB version of at most 10 and the right CRC64, else
/// [`RdbError::PayloadFooter`]; a bad or empty value is any other error (RESTORE answers
/// "Bad data format").
pub fn decode_value(payload: &[u8], limits: &EncodingLimits) -> Result<Value, RdbError> {
    let body = dump_body(payload).ok_or(RdbError::PayloadFooter)?;
    let body_len = body.len();
    let mut inp = Input::new(body, Some(body_len as u64));
    let t = inp.u8("the value type")?;
    let reader = ValueReader { limits };
    reader
        .read(&mut inp, t, 0)?
        .ok_or_else(|| bad(0, "empty collection"))
}

/// The library codes of a FUNCTION DUMP payload; the error is FUNCTION RESTORE's reply
/// text (Redis's `functionRestoreCommand`).
pub fn function_dump_payload(payload: &[u8]) -> Result<Vec<bytes::Bytes>, &'static str> {
    let body = dump_body(payload).ok_or("DUMP payload version or checksum are wrong")?;
    let body_len = body.len();
    let mut inp = Input::new(body, Some(body_len as u64));
    let mut codes = Vec::new();
    while inp.offset() < body_len as u64 {
        let t = inp
            .u8("the record type")
            .map_err(|_| "can not read data type")?;
        if t != opcode::FUNCTION2 {
            return Err("given type is not a function");
        }
        let code = inp
            .blob("a function library")
            .map_err(|_| "failed loading the given functions payload")?;
        codes.push(bytes::Bytes::copy_from_slice(&code));
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::types::stream::{IdRequest, NodeLimits, Trim, TrimTo};
    use crate::keyspace::types::ZSet;
    use crate::rdb::encode::ValueEncoder;
    use crate::rdb::encodings::{build_ziplist, ListpackBuilder};
    use crate::rdb::{encode_value, write_snapshot, Aux, ReplAux, WriteOptions};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// A value in a comparable, order-independent form.
    #[derive(Debug, Clone, PartialEq)]
    enum Canon {
        Str(Vec<u8>),
        List(Vec<Vec<u8>>),
        Hash(Vec<(Vec<u8>, Vec<u8>)>),
        Set(Vec<Vec<u8>>),
        ZSet(Vec<(Vec<u8>, u64)>),
        Stream(Box<StreamCanon>),
    }

    /// What a stream keeps across a save and a load: its entries, counters and groups,
    /// and its nodes (master ID, live entries, master fields). replikv writes no
    /// tombstones, so deleted counts and listpack sizes may change.
    #[derive(Debug, Clone, PartialEq)]
    struct StreamCanon {
        entries: Vec<(StreamId, Vec<Vec<u8>>)>,
        last_id: StreamId,
        first_id: StreamId,
        max_deleted_id: StreamId,
        entries_added: u64,
        groups: BTreeMap<Blob, Group>,
        nodes: Vec<(StreamId, u64, Vec<Vec<u8>>)>,
    }

    fn stream_canon(s: &Stream) -> StreamCanon {
        StreamCanon {
            entries: s
                .range(StreamId::MIN, StreamId::MAX, false)
                .map(|(id, f)| (*id, f.interleaved().map(|b| b.to_vec()).collect()))
                .collect(),
            last_id: s.last_id,
            first_id: s.first_id,
            max_deleted_id: s.max_deleted_id,
            entries_added: s.entries_added,
            groups: s.groups.clone(),
            nodes: s
                .nodes()
                .iter()
                .filter(|(_, n)| n.live > 0)
                .map(|(m, n)| {
                    let fields = n.master_fields.iter().map(|b| b.to_vec()).collect();
                    (*m, n.live, fields)
                })
                .collect(),
        }
    }

    fn canon_value(v: &Value) -> Canon {
        match v {
            Value::Str(s) => Canon::Str(s.to_blob().to_vec()),
            Value::List(l) => Canon::List(l.items.iter().map(|b| b.to_vec()).collect()),
            Value::Hash(h) => {
                let mut p: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                p.sort();
                Canon::Hash(p)
            }
            Value::Set(s) => {
                let mut m: Vec<_> = s.members().iter().map(|b| b.to_vec()).collect();
                m.sort();
                Canon::Set(m)
            }
            Value::ZSet(z) => Canon::ZSet(
                z.entries()
                    .iter()
                    .map(|(m, s)| (m.to_vec(), s.to_bits()))
                    .collect(),
            ),
            Value::Stream(s) => Canon::Stream(Box::new(stream_canon(s))),
        }
    }

    type Dump = BTreeMap<(usize, Vec<u8>), (Canon, i64, &'static str)>;

    fn canon(ks: &Keyspace) -> Dump {
        let mut out = BTreeMap::new();
        for db in &ks.dbs {
            for it in db.snapshot().items() {
                out.insert(
                    (db.id, it.key.to_vec()),
                    (canon_value(&it.value), it.expire_at(), it.value.encoding()),
                );
            }
        }
        out
    }

    /// What a dump looks like after a save and a load: short `raw` strings come back as
    /// `embstr`, as Redis's `tryObjectEncoding` makes them.
    fn after_load(mut d: Dump) -> Dump {
        for (canon, _, enc) in d.values_mut() {
            if let Canon::Str(b) = canon {
                *enc = StrValue::from_bytes(b).encoding();
            }
        }
        d
    }

    /// Asserts two dumps are equal, printing only the keys that differ.
    fn assert_same(got: &Dump, want: &Dump, ctx: &str) {
        let mut diffs = Vec::new();
        for (k, v) in want {
            if got.get(k) != Some(v) {
                let show = |x: Option<&(Canon, i64, &str)>| format!("{:.200}", format!("{x:?}"));
                diffs.push(format!(
                    "{k:?}: want {} got {}",
                    show(Some(v)),
                    show(got.get(k))
                ));
            }
        }
        for k in got.keys() {
            if !want.contains_key(k) {
                diffs.push(format!("{k:?}: unexpected"));
            }
        }
        assert!(
            diffs.is_empty(),
            "{ctx}: {} differences:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    }

    fn limits() -> EncodingLimits {
        EncodingLimits::default()
    }

    fn opts() -> LoadOptions {
        LoadOptions {
            now_ms: 1_000,
            ..LoadOptions::new(16, limits())
        }
    }

    fn aux() -> Aux {
        Aux {
            ctime: 1_700_000_000,
            used_mem: 123456,
            repl: Some(ReplAux {
                stream_db: 3,
                id: "a".repeat(40),
                offset: 4242,
            }),
            functions: Vec::new(),
            aof_base: false,
        }
    }

    fn save(ks: &Keyspace, w: WriteOptions) -> Vec<u8> {
        let mut out = Vec::new();
        let stats = write_snapshot(&ks.snapshot(), &aux(), &w, &mut out).expect("write");
        assert_eq!(stats.bytes as usize, out.len());
        assert_eq!(stats.keys as usize, ks.key_count());
        out
    }

    fn str_val(s: &[u8]) -> Value {
        Value::Str(StrValue::from_bytes(s))
    }

    /// A keyspace with every type in every form, several databases, expiries, binary and
    /// empty keys and values, big and compressible values.
    fn sample() -> Keyspace {
        let l = limits();
        let mut ks = Keyspace::new(16, l);
        let db = &mut ks.dbs[0];
        db.insert(b"int", str_val(b"12345"), NO_EXPIRE, 0);
        db.insert(b"bigint", str_val(b"-9223372036854775808"), NO_EXPIRE, 0);
        db.insert(b"emb", str_val(b"hello"), NO_EXPIRE, 0);
        db.insert(b"raw", Value::Str(StrValue::raw(blob(b"x"))), NO_EXPIRE, 0);
        db.insert(b"", str_val(b""), NO_EXPIRE, 0);
        db.insert(
            &[0u8, 255, 10, 13],
            str_val(&[1u8, 0, 2, 255]),
            5_000_000_000_000,
            0,
        );
        db.insert(b"compressible", str_val(&b"abc".repeat(1000)), NO_EXPIRE, 0);
        let noise: Vec<u8> = (0..1_000_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
            .collect();
        db.insert(b"huge", str_val(&noise), NO_EXPIRE, 0);
        let mut list = List::new();
        for i in 0..3000 {
            list.items.push_back(blob(format!("item-{i}").as_bytes()));
        }
        list.items.push_back(blob(b"12"));
        list.items.push_back(blob(&[b'L'; 10000]));
        db.insert(b"list", Value::List(Box::new(list)), 9_000_000_000_000, 0);
        let mut small_hash = Hash::new();
        small_hash.set(b"f1", b"v1", &l);
        small_hash.set(b"n", b"-17", &l);
        db.insert(b"hash:lp", Value::Hash(Box::new(small_hash)), NO_EXPIRE, 0);
        let mut big_hash = Hash::new();
        for i in 0..600 {
            big_hash.set(
                format!("field{i}").as_bytes(),
                format!("{i}").as_bytes(),
                &l,
            );
        }
        db.insert(b"hash:ht", Value::Hash(Box::new(big_hash)), NO_EXPIRE, 0);
        let ints = Set::from_members(
            (0..100).map(|i| blob(format!("{}", i * 1000 - 50000).as_bytes())),
            &l,
        );
        assert_eq!(ints.encoding(), "intset");
        db.insert(b"set:int", Value::Set(Box::new(ints)), NO_EXPIRE, 0);
        let strs = Set::from_members([blob(b"a"), blob(b"b"), blob(b"1")], &l);
        assert_eq!(strs.encoding(), "hashtable");
        db.insert(b"set:ht", Value::Set(Box::new(strs)), NO_EXPIRE, 0);
        let mut zs = ZSet::default();
        for (i, m) in ["a", "b", "c"].iter().enumerate() {
            zs.add(m.as_bytes(), i as f64 * 1.5 - 1.0, &l);
        }
        zs.add(b"inf", f64::INFINITY, &l);
        zs.add(b"ninf", f64::NEG_INFINITY, &l);
        zs.add(b"tiny", 1e-300, &l);
        db.insert(b"zset:lp", Value::ZSet(Box::new(zs)), NO_EXPIRE, 0);
        let mut zb = ZSet::default();
        for i in 0..500 {
            zb.add(format!("m{i}").as_bytes(), (i % 37) as f64 / 3.0, &l);
        }
        assert_eq!(zb.encoding(), "skiplist");
        db.insert(b"zset:sl", Value::ZSet(Box::new(zb)), NO_EXPIRE, 0);
        db.insert(
            b"stream",
            Value::Stream(Box::new(built_stream())),
            NO_EXPIRE,
            0,
        );
        ks.dbs[5].insert(b"other-db", str_val(b"5"), NO_EXPIRE, 0);
        ks.dbs[15].insert(b"last-db", str_val(b"15"), 2_000, 0);
        ks
    }

    #[test]
    fn every_type_and_form_roundtrips() {
        let ks = sample();
        let want = after_load(canon(&ks));
        for compression in [true, false] {
            for checksum in [true, false] {
                let bytes = save(
                    &ks,
                    WriteOptions {
                        compression,
                        checksum,
                        ..WriteOptions::default()
                    },
                );
                let loaded = load(&bytes[..], &opts()).expect("load");
                assert_same(
                    &canon(&loaded.keyspace),
                    &want,
                    &format!("compression {compression} checksum {checksum}"),
                );
                assert_eq!(loaded.stats.keys_loaded as usize, ks.key_count());
                assert_eq!(loaded.stats.version, 10);
                assert_eq!(loaded.stats.bytes as usize, bytes.len());
                assert_eq!(loaded.aux.repl_id.as_deref(), Some("a".repeat(40).as_str()));
                assert_eq!(loaded.aux.repl_offset, Some(4242));
                assert_eq!(loaded.aux.repl_stream_db, Some(3));
                assert_eq!(loaded.aux.redis_ver.as_deref(), Some("7.0.15"));
                assert_eq!(loaded.aux.ctime, Some(1_700_000_000));
                if checksum {
                    assert_ne!(&bytes[bytes.len() - 8..], &[0u8; 8]);
                } else {
                    assert_eq!(&bytes[bytes.len() - 8..], &[0u8; 8]);
                }
            }
        }
        let compressed = save(&ks, WriteOptions::default());
        let plain = save(
            &ks,
            WriteOptions {
                compression: false,
                ..WriteOptions::default()
            },
        );
        assert!(compressed.len() + 2000 < plain.len());
    }

    #[test]
    fn header_and_aux_bytes_follow_redis() {
        let ks = Keyspace::new(16, limits());
        let mut bytes = Vec::new();
        let a = Aux {
            ctime: 1795541758,
            used_mem: 1226152,
            repl: None,
            functions: Vec::new(),
            aof_base: false,
        };
        write_snapshot(&ks.snapshot(), &a, &WriteOptions::default(), &mut bytes).expect("write");
        let mut want = b"REDIS0010".to_vec();
        want.extend_from_slice(b"\xFA\x09redis-ver\x067.0.15");
        want.extend_from_slice(b"\xFA\x0Aredis-bits\xC0\x40");
        want.extend_from_slice(b"\xFA\x05ctime\xC2\xFE\xCA\x05\x6B");
        want.extend_from_slice(b"\xFA\x08used-mem\xC2\xA8\xB5\x12\x00");
        want.extend_from_slice(b"\xFA\x08aof-base\xC0\x00");
        want.push(0xFF);
        assert_eq!(&bytes[..bytes.len() - 8], &want[..]);
        assert_eq!(
            &bytes[bytes.len() - 8..],
            &CRC64.checksum(&want).to_le_bytes()
        );
    }

    #[test]
    fn expired_keys_are_dropped_by_a_master_and_kept_by_a_replica() {
        let ks = sample();
        let bytes = save(&ks, WriteOptions::default());
        let later = LoadOptions {
            now_ms: 3_000,
            ..opts()
        };
        let master = load(&bytes[..], &later).expect("load");
        assert_eq!(master.stats.keys_expired, 1);
        assert_eq!(master.expired, vec![(15, blob(b"last-db"))]);
        assert!(master.keyspace.dbs[15].peek(b"last-db").is_none());
        let replica = load(
            &bytes[..],
            &LoadOptions {
                keep_expired: true,
                ..later
            },
        )
        .expect("load");
        assert_eq!(replica.stats.keys_expired, 0);
        assert_eq!(
            replica.keyspace.dbs[15]
                .peek(b"last-db")
                .map(|i| i.expire_at()),
            Some(2_000)
        );
    }

    #[test]
    fn small_thresholds_pick_the_large_forms_on_load() {
        let ks = sample();
        let bytes = save(&ks, WriteOptions::default());
        let tiny = EncodingLimits {
            hash_max_listpack_entries: 1,
            hash_max_listpack_value: 1,
            set_max_intset_entries: 1,
            zset_max_listpack_entries: 1,
            zset_max_listpack_value: 1,
            ..EncodingLimits::default()
        };
        let loaded = load(
            &bytes[..],
            &LoadOptions {
                limits: tiny,
                ..opts()
            },
        )
        .expect("load");
        let db = &loaded.keyspace.dbs[0];
        assert_eq!(
            db.peek(b"hash:lp").map(|i| i.value.encoding()),
            Some("hashtable")
        );
        assert_eq!(
            db.peek(b"set:int").map(|i| i.value.encoding()),
            Some("hashtable")
        );
        assert_eq!(
            db.peek(b"zset:lp").map(|i| i.value.encoding()),
            Some("skiplist")
        );
        // Same data either way.
        let mut a = canon(&loaded.keyspace);
        let mut b = canon(&ks);
        for d in [&mut a, &mut b] {
            for v in d.values_mut() {
                v.2 = "";
            }
        }
        assert_same(&a, &b, "tiny limits");
    }

    /// Writes hand-made RDB files, for versions and encodings replikv never writes.
    struct Craft {
        out: Vec<u8>,
        enc: ValueEncoder,
    }

    impl Craft {
        fn new(version: u32) -> Craft {
            Craft {
                out: format!("REDIS{version:04}").into_bytes(),
                enc: ValueEncoder::new(false),
            }
        }
        fn op(&mut self, b: u8) -> &mut Self {
            self.out.push(b);
            self
        }
        fn len(&mut self, n: u64) -> &mut Self {
            ValueEncoder::len(&mut self.out, n);
            self
        }
        fn s(&mut self, s: &[u8]) -> &mut Self {
            self.enc.string(&mut self.out, s);
            self
        }
        fn raw(&mut self, b: &[u8]) -> &mut Self {
            self.out.extend_from_slice(b);
            self
        }
        fn finish(&mut self, checksum: bool) -> Vec<u8> {
            self.out.push(opcode::EOF);
            if checksum {
                let crc = CRC64.checksum(&self.out);
                self.out.extend_from_slice(&crc.to_le_bytes());
            }
            std::mem::take(&mut self.out)
        }
    }

    fn lp(items: &[&[u8]]) -> Vec<u8> {
        let mut b = ListpackBuilder::reuse(Vec::new());
        for i in items {
            b.push_bytes(i);
        }
        b.finish().to_vec()
    }

    fn get(l: &Loaded, db: usize, key: &[u8]) -> (Canon, i64, &'static str) {
        let it = l.keyspace.dbs[db]
            .peek(key)
            .unwrap_or_else(|| panic!("missing {}", String::from_utf8_lossy(key)));
        (canon_value(&it.value), it.expire_at(), it.value.encoding())
    }

    fn strs(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn version_1_to_4_plain_types_zipmap_and_second_expiries() {
        for version in 1..=4 {
            let mut c = Craft::new(version);
            c.op(opcode::SELECTDB).len(0);
            c.op(opcode::EXPIRETIME)
                .raw(&2_000_000_000i32.to_le_bytes());
            c.op(rtype::STRING).s(b"s").s(b"value");
            c.op(rtype::LIST).s(b"l").len(3).s(b"a").s(b"7").s(b"c");
            c.op(rtype::SET).s(b"set").len(2).s(b"1").s(b"x");
            c.op(rtype::ZSET)
                .s(b"z")
                .len(3)
                .s(b"a")
                .raw(b"\x031.5")
                .s(b"b")
                .raw(&[254])
                .s(b"c")
                .raw(&[255]);
            let zm = [
                &[2u8, 1][..],
                b"f",
                &[1, 0],
                b"v",
                &[3],
                b"num",
                &[2, 0],
                b"42",
                &[0xFF],
            ]
            .concat();
            c.op(rtype::HASH_ZIPMAP).s(b"zm").s(&zm);
            c.op(rtype::HASH).s(b"h").len(1).s(b"k").s(b"v");
            // version < 5: no checksum trailer at all
            let bytes = c.finish(false);
            let l = load(&bytes[..], &opts()).expect("load");
            assert_eq!(l.stats.version, version);
            assert_eq!(
                get(&l, 0, b"s"),
                (Canon::Str(b"value".to_vec()), 2_000_000_000_000, "embstr")
            );
            assert_eq!(get(&l, 0, b"l").0, Canon::List(strs(&["a", "7", "c"])));
            assert_eq!(
                get(&l, 0, b"set"),
                (Canon::Set(strs(&["1", "x"])), NO_EXPIRE, "hashtable")
            );
            assert_eq!(
                get(&l, 0, b"z").0,
                Canon::ZSet(vec![
                    (b"c".to_vec(), f64::NEG_INFINITY.to_bits()),
                    (b"a".to_vec(), 1.5f64.to_bits()),
                    (b"b".to_vec(), f64::INFINITY.to_bits())
                ])
            );
            assert_eq!(
                get(&l, 0, b"zm"),
                (
                    Canon::Hash(vec![
                        (b"f".to_vec(), b"v".to_vec()),
                        (b"num".to_vec(), b"42".to_vec())
                    ]),
                    NO_EXPIRE,
                    "listpack"
                )
            );
            assert_eq!(get(&l, 0, b"h").2, "listpack");
        }
    }

    #[test]
    fn version_6_ziplists_and_intsets() {
        let mut c = Craft::new(6);
        c.op(opcode::SELECTDB).len(1);
        let zl = build_ziplist(&[Elem::Str(b"a"), Elem::Int(-5), Elem::Int(1 << 40)]);
        c.op(rtype::LIST_ZIPLIST).s(b"zl").s(&zl);
        let mut is = Vec::new();
        encodings::write_intset(&[-2, 3, 70000], &mut is);
        c.op(rtype::SET_INTSET).s(b"is").s(&is);
        let zz = build_ziplist(&[
            Elem::Str(b"m1"),
            Elem::Int(2),
            Elem::Str(b"m0"),
            Elem::Str(b"0.5"),
        ]);
        c.op(rtype::ZSET_ZIPLIST).s(b"zz").s(&zz);
        let hz = build_ziplist(&[Elem::Str(b"f"), Elem::Int(9)]);
        c.op(rtype::HASH_ZIPLIST).s(b"hz").s(&hz);
        c.op(opcode::EXPIRETIME_MS).raw(&500i64.to_le_bytes());
        c.op(rtype::STRING).s(b"gone").s(b"x");
        let bytes = c.finish(true);
        let l = load(&bytes[..], &opts()).expect("load");
        assert_eq!(l.stats.keys_expired, 1);
        assert_eq!(
            get(&l, 1, b"zl").0,
            Canon::List(strs(&["a", "-5", "1099511627776"]))
        );
        assert_eq!(
            get(&l, 1, b"is"),
            (Canon::Set(strs(&["-2", "3", "70000"])), NO_EXPIRE, "intset")
        );
        assert_eq!(
            get(&l, 1, b"zz"),
            (
                Canon::ZSet(vec![
                    (b"m0".to_vec(), 0.5f64.to_bits()),
                    (b"m1".to_vec(), 2f64.to_bits())
                ]),
                NO_EXPIRE,
                "listpack"
            )
        );
        assert_eq!(
            get(&l, 1, b"hz").0,
            Canon::Hash(vec![(b"f".to_vec(), b"9".to_vec())])
        );
    }

    #[test]
    fn version_7_to_9_quicklists_zset2_idle_and_freq() {
        for version in 7..=9 {
            let mut c = Craft::new(version);
            c.op(opcode::AUX).s(b"redis-ver").s(b"5.0.0");
            c.op(opcode::AUX).s(b"lua").s(b"return 1");
            c.op(opcode::SELECTDB)
                .len(0)
                .op(opcode::RESIZEDB)
                .len(3)
                .len(0);
            let n1 = build_ziplist(&[Elem::Str(b"a"), Elem::Int(1)]);
            let n2 = build_ziplist(&[Elem::Str(b"b")]);
            let empty = build_ziplist(&[]);
            c.op(opcode::IDLE).len(100);
            c.op(rtype::LIST_QUICKLIST)
                .s(b"ql")
                .len(3)
                .s(&n1)
                .s(&empty)
                .s(&n2);
            c.op(opcode::FREQ).raw(&[5]);
            c.op(rtype::ZSET_2)
                .s(b"z2")
                .len(2)
                .s(b"x")
                .raw(&2.5f64.to_le_bytes())
                .s(b"y")
                .raw(&(-1f64).to_le_bytes());
            c.op(rtype::STRING).s(b"n").s(b"123");
            let bytes = c.finish(true);
            let l = load(&bytes[..], &opts()).expect("load");
            assert_eq!(l.aux.redis_ver.as_deref(), Some("5.0.0"));
            assert_eq!(get(&l, 0, b"ql").0, Canon::List(strs(&["a", "1", "b"])));
            assert_eq!(get(&l, 0, b"z2").2, "listpack");
            assert_eq!(
                get(&l, 0, b"n"),
                (Canon::Str(b"123".to_vec()), NO_EXPIRE, "int")
            );
        }
    }

    #[test]
    fn version_10_listpacks_and_quicklist2_plain_nodes() {
        let mut c = Craft::new(10);
        c.op(opcode::SELECTDB).len(0);
        c.op(rtype::LIST_QUICKLIST_2)
            .s(b"q2")
            .len(2)
            .len(2)
            .s(&lp(&[b"a", b"-3"]))
            .len(1)
            .s(b"plain node");
        c.op(rtype::HASH_LISTPACK)
            .s(b"hl")
            .s(&lp(&[b"f", b"v", b"g", b"100000"]));
        c.op(rtype::ZSET_LISTPACK)
            .s(b"zl")
            .s(&lp(&[b"a", b"1", b"b", b"2.5"]));
        let bytes = c.finish(true);
        let l = load(&bytes[..], &opts()).expect("load");
        assert_eq!(
            get(&l, 0, b"q2").0,
            Canon::List(strs(&["a", "-3", "plain node"]))
        );
        assert_eq!(get(&l, 0, b"hl").2, "listpack");
        assert_eq!(
            get(&l, 0, b"zl").0,
            Canon::ZSet(vec![
                (b"a".to_vec(), 1f64.to_bits()),
                (b"b".to_vec(), 2.5f64.to_bits())
            ])
        );
    }

    #[test]
    fn empty_collections_are_skipped_and_counted() {
        let mut c = Craft::new(10);
        c.op(rtype::SET).s(b"empty-set").len(0);
        c.op(rtype::LIST).s(b"empty-list").len(0);
        c.op(rtype::HASH_LISTPACK).s(b"empty-hash").s(&lp(&[]));
        c.op(rtype::STRING).s(b"kept").s(b"1");
        let bytes = c.finish(true);
        let l = load(&bytes[..], &opts()).expect("load");
        assert_eq!(l.stats.empty_keys_skipped, 3);
        assert_eq!(l.stats.keys_loaded, 1);
    }

    fn expect_err(bytes: &[u8], check: impl Fn(&RdbError) -> bool) -> RdbError {
        match load(bytes, &opts()) {
            Ok(_) => panic!("loaded a bad file"),
            Err(e) => {
                assert!(check(&e), "unexpected error: {e}");
                e
            }
        }
    }

    #[test]
    fn bad_inputs_give_clear_errors() {
        expect_err(b"RADIS0010\xFF", |e| matches!(e, RdbError::BadMagic));
        let e = expect_err(b"REDIS0011\xFF", |e| matches!(e, RdbError::BadVersion(_)));
        assert_eq!(e.to_string(), "can't handle RDB format version 11");
        expect_err(b"REDIS0000\xFF", |e| matches!(e, RdbError::BadVersion(_)));
        expect_err(b"REDIS00x0\xFF", |e| matches!(e, RdbError::BadVersion(_)));
        expect_err(b"REDIS", |e| matches!(e, RdbError::Truncated { .. }));
        // Duplicate key.
        let mut c = Craft::new(10);
        c.op(rtype::STRING)
            .s(b"k")
            .s(b"1")
            .op(rtype::STRING)
            .s(b"k")
            .s(b"2");
        let e = expect_err(&c.finish(true), |e| {
            matches!(e, RdbError::DuplicateKey { .. })
        });
        assert_eq!(e.offset(), Some(14));
        // Database beyond `databases`.
        let mut c = Craft::new(10);
        c.op(opcode::SELECTDB).len(16);
        expect_err(&c.finish(true), |e| {
            matches!(e, RdbError::DbOutOfRange { db: 16, .. })
        });
        // Module values replikv cannot load.
        let mut c = Craft::new(10);
        c.op(rtype::MODULE_2).s(b"k").len(0);
        let e = expect_err(&c.finish(true), |e| {
            matches!(e, RdbError::Unsupported { .. })
        });
        assert!(e.to_string().contains("module"), "{e}");
        let mut c = Craft::new(10);
        c.op(opcode::FUNCTION).s(b"#!lua name=x");
        expect_err(&c.finish(true), |e| e.to_string().contains("function"));
        let mut c = Craft::new(10);
        c.op(opcode::MODULE_AUX).len(1);
        expect_err(&c.finish(true), |e| e.to_string().contains("module"));
        let mut c = Craft::new(10);
        c.op(8).s(b"k");
        expect_err(&c.finish(true), |e| {
            e.to_string().contains("unknown RDB value type 8")
        });
        // Duplicates inside values, NaN scores.
        let mut c = Craft::new(10);
        c.op(rtype::SET).s(b"s").len(2).s(b"1").s(b"1");
        expect_err(&c.finish(true), |e| {
            e.to_string().contains("duplicate set members")
        });
        let mut c = Craft::new(10);
        c.op(rtype::HASH_LISTPACK)
            .s(b"h")
            .s(&lp(&[b"f", b"1", b"f", b"2"]));
        expect_err(&c.finish(true), |e| {
            e.to_string().contains("duplicate hash fields")
        });
        let mut c = Craft::new(10);
        c.op(rtype::ZSET_2)
            .s(b"z")
            .len(1)
            .s(b"m")
            .raw(&f64::NAN.to_le_bytes());
        expect_err(&c.finish(true), |e| e.to_string().contains("NaN"));
        // A length beyond the file is refused before anything is allocated.
        let mut c = Craft::new(10);
        c.op(rtype::STRING)
            .s(b"k")
            .raw(&[0x81])
            .raw(&(1u64 << 40).to_be_bytes());
        let bytes = c.finish(true);
        let e = load(
            &bytes[..],
            &LoadOptions {
                total_len: Some(bytes.len() as u64),
                ..opts()
            },
        );
        assert!(matches!(e, Err(RdbError::Corrupt { .. })), "{e:?}");
    }

    #[test]
    fn checksum_is_verified_unless_zero_or_disabled() {
        let ks = sample();
        let mut bytes = save(&ks, WriteOptions::default());
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        let e = expect_err(&bytes, |e| matches!(e, RdbError::Checksum { .. }));
        assert_eq!(e.offset(), Some(n as u64 - 8));
        assert!(load(
            &bytes[..],
            &LoadOptions {
                verify_checksum: false,
                ..opts()
            }
        )
        .is_ok());
        bytes[n - 8..].fill(0);
        assert!(load(&bytes[..], &opts()).is_ok());
    }

    #[test]
    fn truncation_anywhere_is_an_error() {
        let mut ks = Keyspace::new(16, limits());
        ks.dbs[0].insert(b"a", str_val(b"1"), 5_000, 0);
        let mut h = Hash::new();
        h.set(b"f", b"v", &limits());
        ks.dbs[2].insert(b"h", Value::Hash(Box::new(h)), NO_EXPIRE, 0);
        let bytes = save(&ks, WriteOptions::default());
        for cut in 0..bytes.len() {
            match load(&bytes[..cut], &opts()) {
                Err(RdbError::Truncated { offset, .. }) => assert_eq!(offset, cut as u64),
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn bit_flips_never_panic_and_are_mostly_caught() {
        let ks = sample();
        let bytes = save(&ks, WriteOptions::default());
        let mut caught = 0;
        let step = bytes.len() / 997;
        for i in (0..bytes.len()).step_by(step.max(1)) {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            if load(&b[..], &opts()).is_err() {
                caught += 1;
            }
        }
        // With the checksum on, every flip is detected (in the content or the trailer).
        assert_eq!(caught, (0..bytes.len()).step_by(step.max(1)).count());
    }

    #[test]
    fn dump_payloads_roundtrip_and_footers_are_checked() {
        let ks = sample();
        for it in ks.dbs[0].snapshot().items() {
            let p = encode_value(&it.value, true);
            let back = decode_value(&p, &limits()).expect("decode");
            assert_eq!(canon_value(&back), canon_value(&it.value));
            if let Value::Str(s) = &it.value {
                assert_eq!(
                    back.encoding(),
                    StrValue::from_bytes(&s.to_blob()).encoding()
                );
            } else {
                assert_eq!(back.encoding(), it.value.encoding());
            }
        }
        let p = encode_value(&str_val(b"bar"), true);
        assert!(matches!(
            decode_value(&p[..9], &limits()),
            Err(RdbError::PayloadFooter)
        ));
        let mut bad = p.clone();
        bad[1] ^= 1;
        assert!(matches!(
            decode_value(&bad, &limits()),
            Err(RdbError::PayloadFooter)
        ));
        // Version 11 in the footer (with a matching CRC) is refused too.
        let mut v11 = p[..p.len() - 10].to_vec();
        v11.extend_from_slice(&11u16.to_le_bytes());
        let crc = CRC64.checksum(&v11);
        v11.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            decode_value(&v11, &limits()),
            Err(RdbError::PayloadFooter)
        ));
        // An older version is accepted.
        let mut v9 = p[..p.len() - 10].to_vec();
        v9.extend_from_slice(&9u16.to_le_bytes());
        let crc = CRC64.checksum(&v9);
        v9.extend_from_slice(&crc.to_le_bytes());
        assert!(decode_value(&v9, &limits()).is_ok());
        // A valid footer around a bad body is a data error, not a footer error.
        let mut body = vec![rtype::SET, 2, 1, b'a', 1, b'a'];
        body.extend_from_slice(&10u16.to_le_bytes());
        let crc = CRC64.checksum(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            decode_value(&body, &limits()),
            Err(RdbError::Corrupt { .. })
        ));
    }

    #[test]
    fn snapshot_under_concurrent_writes_is_the_keyspace_at_that_instant() {
        let mut ks = Keyspace::new(4, limits());
        for i in 0..20_000 {
            ks.dbs[i % 4].insert(
                format!("k{i}").as_bytes(),
                str_val(format!("v{i}").as_bytes()),
                NO_EXPIRE,
                0,
            );
        }
        let mut list = List::new();
        list.items
            .extend((0..100).map(|i| blob(format!("{i}").as_bytes())));
        ks.dbs[0].insert(b"list", Value::List(Box::new(list)), NO_EXPIRE, 0);
        let want = canon(&ks);
        let snap = ks.snapshot();
        // A writer changes, deletes, adds and mutates in place while the snapshot is written.
        let writer = std::thread::spawn(move || {
            for round in 0..5 {
                for i in 0..20_000 {
                    let db = &mut ks.dbs[i % 4];
                    match (i + round) % 4 {
                        0 => {
                            db.insert(format!("k{i}").as_bytes(), str_val(b"changed"), 99, 0);
                        }
                        1 => {
                            db.remove(format!("k{i}").as_bytes());
                        }
                        2 => {
                            db.insert(format!("new{i}").as_bytes(), str_val(b"n"), NO_EXPIRE, 0);
                        }
                        _ => {
                            if let Some(Value::List(l)) = ks.dbs[0].get_mut(b"list", 0) {
                                l.items.push_back(blob(b"more"));
                                l.items.pop_front();
                            }
                        }
                    }
                }
            }
            ks
        });
        let mut bytes = Vec::new();
        write_snapshot(&snap, &aux(), &WriteOptions::default(), &mut bytes).expect("write");
        let ks = writer.join().expect("writer");
        assert_ne!(canon(&ks), want, "the writer changed the live keyspace");
        let loaded = load(&bytes[..], &LoadOptions::new(4, limits())).expect("load");
        assert_same(&canon(&loaded.keyspace), &want, "snapshot");
    }

    /// A stream through the API: entries with and without the master entry's fields,
    /// several nodes, deletions, a trim, and consumer groups with pending entries.
    fn built_stream() -> Stream {
        let l = NodeLimits {
            max_bytes: 4096,
            max_entries: 3,
        };
        let mut s = Stream::new();
        let long = "x".repeat(300);
        let entries: [(u64, u64, &[&str]); 10] = [
            (1, 0, &["a", "1", "b", "2"]),
            (1, 1, &["a", "3", "b", "4"]),
            (1, 2, &["c", "hello"]),
            (2, 0, &["a", "-5", "b", "18446744073709551615"]),
            (2, 7, &["a", "", "b", long.as_str()]),
            (3, 0, &["z", "1", "a", "2"]),
            (4, 0, &["a", "1", "b", "2", "c", "3"]),
            (5, 0, &["a", "1"]),
            (u64::MAX - 1, 0, &["a", "9", "b", "9"]),
            (u64::MAX - 1, 1, &["a", "9", "b", "9"]),
        ];
        for (ms, seq, f) in entries {
            s.append(IdRequest::Exact(StreamId::new(ms, seq)), f, l)
                .expect("append");
        }
        assert!(s.delete(StreamId::new(1, 1)));
        assert!(s.delete(StreamId::new(4, 0)));
        s.trim(Trim {
            to: TrimTo::MinId(StreamId::new(1, 2)),
            approx: false,
            limit: 0,
        });
        let mut g = Group::new(StreamId::new(3, 0), None);
        g.deliver(StreamId::new(1, 2), b"alice", 1_700_000_000_001);
        g.deliver(StreamId::new(2, 0), b"bob", 1_700_000_000_002);
        g.deliver(StreamId::new(3, 0), b"alice", 1_700_000_000_003);
        g.pel.get_mut(&StreamId::new(2, 0)).unwrap().delivery_count = 7;
        g.consumers.get_mut(b"alice".as_slice()).unwrap().seen_time = 1_700_000_000_010;
        g.consumers.insert(
            blob(b"carol"),
            Consumer {
                seen_time: -1,
                pel: BTreeSet::new(),
            },
        );
        g.consumers.insert(blob(b""), Consumer::default());
        s.groups.insert(blob(b"g1"), g);
        s.groups
            .insert(blob(b"g2"), Group::new(s.last_id, Some(s.entries_added)));
        s
    }

    /// A stream value body (type byte first) with a DUMP footer around it.
    fn with_footer(body: &[u8]) -> Vec<u8> {
        let mut p = body.to_vec();
        p.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = CRC64.checksum(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    }

    fn decode_stream(payload: &[u8]) -> Result<Stream, RdbError> {
        match decode_value(payload, &limits())? {
            Value::Stream(s) => Ok(*s),
            other => panic!("not a stream: {:?}", other.value_type()),
        }
    }

    fn entries_of(s: &Stream) -> Vec<(String, Vec<String>)> {
        s.range(StreamId::MIN, StreamId::MAX, false)
            .map(|(id, f)| {
                let f = f
                    .interleaved()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect();
                (id.to_string(), f)
            })
            .collect()
    }

    fn entry(id: &str, fields: &[&str]) -> (String, Vec<String>) {
        (
            id.to_string(),
            fields.iter().map(|f| f.to_string()).collect(),
        )
    }

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn streams_roundtrip() {
        let built = built_stream();
        assert!(built.nodes().len() >= 3, "{:?}", built.nodes());
        assert!(built.nodes().values().any(|n| n.deleted > 0));
        let mut empty_after_deletes = Stream::new();
        let l = NodeLimits::default();
        for ms in [5, 6] {
            empty_after_deletes
                .append(IdRequest::Exact(id(ms, 0)), &[b"f", b"v"], l)
                .expect("append");
        }
        empty_after_deletes.delete(id(5, 0));
        empty_after_deletes.delete(id(6, 0));
        empty_after_deletes
            .groups
            .insert(blob(b"g"), Group::new(id(6, 0), Some(2)));
        let mut no_tombstones = Stream::new();
        let l3 = NodeLimits {
            max_bytes: 4096,
            max_entries: 3,
        };
        for ms in 1..=10u64 {
            let v = "v".repeat(ms as usize * 7);
            let f: &[&str] = if ms % 3 == 0 {
                &["other", &v]
            } else {
                &["f", &v, "g", "-7"]
            };
            no_tombstones
                .append(IdRequest::Exact(id(ms, ms)), f, l3)
                .expect("append");
        }
        // Tombstones are written as Redis writes them, so a stream comes back whole: the
        // same entries, nodes, deleted counts and listpack sizes.
        for s in [built, no_tombstones, empty_after_deletes, Stream::new()] {
            for compression in [true, false] {
                let v = Value::Stream(Box::new(s.clone()));
                let back = decode_stream(&encode_value(&v, compression)).expect("decode");
                assert_eq!(stream_canon(&back), stream_canon(&s));
                assert_eq!(back, s);
            }
        }
        // The whole-file path too.
        let mut ks = Keyspace::new(1, limits());
        ks.dbs[0].insert(b"s", Value::Stream(Box::new(built_stream())), NO_EXPIRE, 0);
        let loaded = load(&save(&ks, WriteOptions::default())[..], &opts()).expect("load");
        assert_same(&canon(&loaded.keyspace), &canon(&ks), "stream file");
    }

    /// DUMP payloads from Redis 7.0.15 (`stream-node-max-entries 5`):
    ///
    /// `s`: XADD 1-1 a 1 b 2, 1-2 a 3 b 4, 1-3 c hello, 2-0 a 5 b 6, 2-1 x y z w, 3-0 a 7 b 8,
    /// 3-5 a 9, 4-0 a 10 b 11, 5-0 a -12 b 99999999999, 6-0 a 13 b 14, 7-0 q r,
    /// 8-0 a 15 b 16; XDEL 1-2 2-1 4-0; XGROUP CREATE g1 0; XREADGROUP g1 alice COUNT 3,
    /// bob COUNT 2; XACK 1-3; XREADGROUP g1 alice (its PEL again, from 0);
    /// XGROUP CREATECONSUMER g1 carol; XGROUP CREATE g2 $, g3 2-0, g4 7-0 ENTRIESREAD 11.
    const REDIS_S: &str = "13031000000000000000010000000000000001c3405b406408640000002800030102200106816102816202002009000020010001200702050103600902030104200b4015000220170a8163028568656c6c6f0606600f05dfff020501062020400040220e817802817902817a028177020801ff1000000000000000030000000000000000405d5d000000250004010101020181610281620200010201000100010701080105010001000105010101816102090106010301010100010a010b010501020102010001dff402f4ffe77648170000000905010201030100010d010e010501ff1000000000000000070000000000000000313100000013000201000101018171020001020100010001817202040100010101000102018161020f0181620210010801ff090800010104000c04026731030581ffffffffffffffff040000000000000001000000000000000100d4f744a2010000020000000000000002000000000000000000d4f744a20100000200000000000000030000000000000000f6d3f744a20100000100000000000000030000000000000005f6d3f744a2010000010305616c69636500d4f744a201000002000000000000000100000000000000010000000000000002000000000000000003626f62f6d3f744a2010000020000000000000003000000000000000000000000000000030000000000000005056361726f6c05d4f744a201000000026732080081ffffffffffffffff0000026733020081ffffffffffffffff000002673407000b00000a001dc763d8651dfb33";
    /// `e`: XADD 5-0 f v, 6-0 f v; XTRIM MAXLEN 0; XGROUP CREATE eg 0.
    const REDIS_E: &str =
        "1300000600000000000201026567000081ffffffffffffffff00000a00a515a0359c7eb91e";
    /// `t`: XADD 10-0 .. 70-0 k v<i> n <i>; XGROUP CREATE tg 0, tz $; XREADGROUP tg dan
    /// COUNT 2.
    const REDIS_T: &str = "130210000000000000000a0000000000000000c3404d405b115b0000002400050100010201816b02816e0240090000200106827631030101052017000a600d02320302600d0014600d02330303600d001e600d02340304600d0028600d02350305200d00ff10000000000000003c000000000000000031310000001200020100010201816b02816e020001020100010001827636030601050102010a0100018276370307010501ff074046000a000000070202746714000202000000000000000a00000000000000001bfbf744a201000001000000000000001400000000000000001bfbf744a201000001010364616e1bfbf744a201000002000000000000000a00000000000000000000000000000014000000000000000002747a40460081ffffffffffffffff00000a0027a7e255ab9df09d";

    fn unhex(h: &str) -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// Rewrites a type-19 stream body (type byte first, no footer) as Redis 5 and 6 wrote
    /// it (type 15): no first ID, largest deleted ID, added-entries counter, nor group
    /// read counters.
    fn stream_body_as_type_15(body: &[u8]) -> Vec<u8> {
        let mut inp = Input::new(body, Some(body.len() as u64));
        let mut enc = ValueEncoder::new(false);
        assert_eq!(inp.u8("type").unwrap(), rtype::STREAM_LISTPACKS_2);
        let mut out = vec![rtype::STREAM_LISTPACKS];
        fn len(inp: &mut Input<&[u8]>, out: &mut Vec<u8>) -> u64 {
            let n = inp.len("a length").unwrap();
            ValueEncoder::len(out, n);
            n
        }
        let mut string = |inp: &mut Input<&[u8]>, out: &mut Vec<u8>| {
            let (_, b) = inp.blob_bytes("a string").unwrap();
            enc.string(out, &b);
        };
        let nodes = len(&mut inp, &mut out);
        for _ in 0..nodes * 2 {
            string(&mut inp, &mut out);
        }
        for _ in 0..3 {
            len(&mut inp, &mut out); // length, last ID
        }
        for _ in 0..5 {
            inp.len("7.0 only").unwrap(); // first ID, largest deleted ID, added
        }
        let groups = len(&mut inp, &mut out);
        for _ in 0..groups {
            string(&mut inp, &mut out);
            len(&mut inp, &mut out);
            len(&mut inp, &mut out);
            inp.len("entries read").unwrap();
            for _ in 0..len(&mut inp, &mut out) {
                out.extend_from_slice(&inp.array::<24>("ID and time").unwrap());
                len(&mut inp, &mut out);
            }
            for _ in 0..len(&mut inp, &mut out) {
                string(&mut inp, &mut out);
                out.extend_from_slice(&inp.array::<8>("seen time").unwrap());
                for _ in 0..len(&mut inp, &mut out) {
                    out.extend_from_slice(&inp.array::<16>("ID").unwrap());
                }
            }
        }
        assert_eq!(inp.offset(), body.len() as u64);
        out
    }

    fn nack(s: &Stream, group: &str, i: StreamId) -> (String, i64, u64) {
        let n = &s.groups[group.as_bytes()].pel[&i];
        (
            String::from_utf8_lossy(&n.consumer).into_owned(),
            n.delivery_time,
            n.delivery_count,
        )
    }

    #[test]
    fn streams_dumped_by_redis_load() {
        let s = decode_stream(&unhex(REDIS_S)).expect("s");
        assert_eq!(s.len(), 9);
        assert_eq!(
            entries_of(&s),
            vec![
                entry("1-1", &["a", "1", "b", "2"]),
                entry("1-3", &["c", "hello"]),
                entry("2-0", &["a", "5", "b", "6"]),
                entry("3-0", &["a", "7", "b", "8"]),
                entry("3-5", &["a", "9"]),
                entry("5-0", &["a", "-12", "b", "99999999999"]),
                entry("6-0", &["a", "13", "b", "14"]),
                entry("7-0", &["q", "r"]),
                entry("8-0", &["a", "15", "b", "16"]),
            ]
        );
        assert_eq!(
            (s.last_id, s.first_id, s.max_deleted_id, s.entries_added),
            (id(8, 0), id(1, 1), id(4, 0), 12)
        );
        let nodes: Vec<_> = s
            .nodes()
            .iter()
            .map(|(m, n)| (*m, n.live, n.deleted, n.last, n.listpack_bytes()))
            .collect();
        assert_eq!(
            nodes,
            vec![
                (id(1, 1), 3, 2, id(2, 1), 100),
                (id(3, 0), 4, 1, id(6, 0), 93),
                (id(7, 0), 2, 0, id(8, 0), 49),
            ]
        );
        let names: Vec<_> = s.groups.keys().map(|k| k.to_vec()).collect();
        assert_eq!(names, strs(&["g1", "g2", "g3", "g4"]));
        let g1 = &s.groups[b"g1".as_slice()];
        assert_eq!((g1.last_id, g1.entries_read), (id(3, 5), None));
        let (alice_t, bob_t) = (1796453422080, 1796453422070);
        assert_eq!(nack(&s, "g1", id(1, 1)), ("alice".into(), alice_t, 2));
        assert_eq!(nack(&s, "g1", id(2, 0)), ("alice".into(), alice_t, 2));
        assert_eq!(nack(&s, "g1", id(3, 0)), ("bob".into(), bob_t, 1));
        assert_eq!(nack(&s, "g1", id(3, 5)), ("bob".into(), bob_t, 1));
        assert_eq!(g1.pel.len(), 4);
        let consumers: Vec<_> = g1
            .consumers
            .iter()
            .map(|(n, c)| {
                let pel: Vec<StreamId> = c.pel.iter().copied().collect();
                (n.to_vec(), c.seen_time, pel)
            })
            .collect();
        assert_eq!(
            consumers,
            vec![
                (b"alice".to_vec(), alice_t, vec![id(1, 1), id(2, 0)]),
                (b"bob".to_vec(), bob_t, vec![id(3, 0), id(3, 5)]),
                (b"carol".to_vec(), 1796453422085, vec![]),
            ]
        );
        let others: Vec<_> = ["g2", "g3", "g4"]
            .iter()
            .map(|g| {
                let g = &s.groups[g.as_bytes()];
                (g.last_id, g.entries_read, g.pel.len(), g.consumers.len())
            })
            .collect();
        assert_eq!(
            others,
            vec![
                (id(8, 0), None, 0, 0),
                (id(2, 0), None, 0, 0),
                (id(7, 0), Some(11), 0, 0)
            ]
        );

        // The same commands through the API give the same nodes as Redis.
        let mut api = Stream::new();
        let l = NodeLimits {
            max_bytes: 4096,
            max_entries: 5,
        };
        let adds: [(u64, u64, &[&str]); 12] = [
            (1, 1, &["a", "1", "b", "2"]),
            (1, 2, &["a", "3", "b", "4"]),
            (1, 3, &["c", "hello"]),
            (2, 0, &["a", "5", "b", "6"]),
            (2, 1, &["x", "y", "z", "w"]),
            (3, 0, &["a", "7", "b", "8"]),
            (3, 5, &["a", "9"]),
            (4, 0, &["a", "10", "b", "11"]),
            (5, 0, &["a", "-12", "b", "99999999999"]),
            (6, 0, &["a", "13", "b", "14"]),
            (7, 0, &["q", "r"]),
            (8, 0, &["a", "15", "b", "16"]),
        ];
        for (ms, seq, f) in adds {
            api.append(IdRequest::Exact(id(ms, seq)), f, l).unwrap();
        }
        for d in [id(1, 2), id(2, 1), id(4, 0)] {
            api.delete(d);
        }
        assert_eq!(api.nodes(), s.nodes());
        assert_eq!(entries_of(&api), entries_of(&s));

        let e = decode_stream(&unhex(REDIS_E)).expect("e");
        assert!(e.is_empty() && e.nodes().is_empty());
        assert_eq!(
            (e.last_id, e.first_id, e.max_deleted_id, e.entries_added),
            (id(6, 0), StreamId::MIN, StreamId::MIN, 2)
        );
        let eg = &e.groups[b"eg".as_slice()];
        assert_eq!((eg.last_id, eg.entries_read), (StreamId::MIN, None));

        let t = decode_stream(&unhex(REDIS_T)).expect("t");
        assert_eq!(t.len(), 7);
        assert_eq!(t.nodes().len(), 2);
        assert_eq!(
            t.get(id(70, 0))
                .map(|f| f.interleaved().map(blob).collect::<Vec<_>>()),
            Some(vec![blob(b"k"), blob(b"v7"), blob(b"n"), blob(b"7")])
        );
        let tg = &t.groups[b"tg".as_slice()];
        assert_eq!((tg.last_id, tg.entries_read), (id(20, 0), Some(2)));
        assert_eq!(nack(&t, "tg", id(10, 0)), ("dan".into(), 1796453432091, 1));
        assert_eq!(nack(&t, "tg", id(20, 0)), ("dan".into(), 1796453432091, 1));
        assert_eq!(t.groups[b"tz".as_slice()].entries_read, None);

        // Each payload loads, re-encodes and loads again to the same stream.
        for s in [&s, &e, &t] {
            let again = decode_stream(&encode_value(&Value::Stream(Box::new(s.clone())), true));
            assert_eq!(stream_canon(&again.expect("again")), stream_canon(s));
        }
    }

    #[test]
    fn streams_of_redis_5_and_6_load() {
        let body15 = |hex: &str| {
            let p = unhex(hex);
            with_footer(&stream_body_as_type_15(&p[..p.len() - 10]))
        };
        let s = decode_stream(&body15(REDIS_S)).expect("s");
        assert_eq!(s.len(), 9);
        // No deletion history; the counter starts at the length; read counters are
        // estimated as Redis 7.0 estimates them.
        assert_eq!(
            (s.last_id, s.first_id, s.max_deleted_id, s.entries_added),
            (id(8, 0), id(1, 1), StreamId::MIN, 9)
        );
        let read: Vec<_> = s.groups.values().map(|g| g.entries_read).collect();
        assert_eq!(read, vec![None, Some(9), None, None]);
        let g1 = &s.groups[b"g1".as_slice()];
        assert_eq!(g1.pel.len(), 4);
        assert_eq!(g1.consumers.len(), 3);
        assert_eq!(nack(&s, "g1", id(3, 5)).0, "bob");

        // An empty stream: Redis's edge lookup answers the largest ID as its first ID.
        let e = decode_stream(&body15(REDIS_E)).expect("e");
        assert_eq!(
            (e.last_id, e.first_id, e.entries_added),
            (id(6, 0), StreamId::MAX, 0)
        );
        assert_eq!(e.groups[b"eg".as_slice()].entries_read, Some(0));

        let t = decode_stream(&body15(REDIS_T)).expect("t");
        assert_eq!((t.len(), t.entries_added), (7, 7));
        assert_eq!(t.groups[b"tg".as_slice()].entries_read, None);
        assert_eq!(t.groups[b"tz".as_slice()].entries_read, Some(7));
    }

    /// Builds stream value bodies by hand, for corrupt variants.
    struct StreamCraft {
        c: Craft,
    }

    impl StreamCraft {
        fn new(v2: bool, nodes: u64) -> StreamCraft {
            let mut c = Craft::new(10);
            c.out.clear();
            c.op(if v2 {
                rtype::STREAM_LISTPACKS_2
            } else {
                rtype::STREAM_LISTPACKS
            })
            .len(nodes);
            StreamCraft { c }
        }
        /// A node: its key, then a listpack of the given integers and strings.
        fn node(&mut self, key: &[u8], elems: &[Elem]) -> &mut Self {
            let mut b = ListpackBuilder::reuse(Vec::new());
            for e in elems {
                match e {
                    Elem::Int(n) => b.push_int(*n),
                    Elem::Str(s) => b.push_bytes(s),
                }
            }
            self.c.s(key).s(b.finish());
            self
        }
        /// Length, last ID, first ID, largest deleted ID, added entries.
        fn meta(&mut self, len: u64, last: StreamId) -> &mut Self {
            self.c
                .len(len)
                .len(last.ms)
                .len(last.seq)
                .len(0)
                .len(0)
                .len(0)
                .len(0)
                .len(len);
            self
        }
        fn payload(&mut self) -> Vec<u8> {
            with_footer(&self.c.out)
        }
    }

    use Elem::{Int as I, Str as S};

    /// One node at 1-0 holding 1-0 {f: v} and 1-1 {f: w} (the second with the master's
    /// fields), with the given lp-count for the first entry.
    fn one_node(first_lp_count: i64) -> Vec<Elem<'static>> {
        vec![
            I(2),
            I(0),
            I(1),
            S(b"f"),
            I(0),
            I(0),
            I(0),
            I(0),
            I(1),
            S(b"f"),
            S(b"v"),
            I(first_lp_count),
            I(STREAM_FLAG_SAMEFIELDS),
            I(0),
            I(1),
            S(b"w"),
            I(4),
        ]
    }

    fn expect_corrupt(payload: &[u8], reason: &str) {
        match decode_stream(payload) {
            Err(RdbError::Corrupt { reason: r, .. }) if r.contains(reason) => {}
            other => panic!("want corrupt ({reason}), got {other:?}"),
        }
    }

    /// Appends one group `g` with a PEL of `pel` and consumers owning `owners`.
    fn group(c: &mut Craft, pel: &[StreamId], consumers: &[(&[u8], &[StreamId])]) {
        c.len(1).s(b"g").len(1).len(1).len(2).len(pel.len() as u64);
        for i in pel {
            c.raw(&i.to_be_bytes()).raw(&7i64.to_le_bytes()).len(1);
        }
        c.len(consumers.len() as u64);
        for (name, ids) in consumers {
            c.s(name).raw(&9i64.to_le_bytes()).len(ids.len() as u64);
            for i in ids.iter() {
                c.raw(&i.to_be_bytes());
            }
        }
    }

    #[test]
    fn corrupt_streams_are_refused() {
        let key = id(1, 0).to_be_bytes();
        let good = |lp: &[Elem], groups: &dyn Fn(&mut Craft)| {
            let mut sc = StreamCraft::new(true, 1);
            sc.node(&key, lp).meta(2, id(1, 1));
            groups(&mut sc.c);
            sc.payload()
        };
        let no_groups = |c: &mut Craft| {
            c.len(0);
        };
        let s = decode_stream(&good(&one_node(6), &no_groups)).expect("baseline");
        assert_eq!(
            entries_of(&s),
            vec![entry("1-0", &["f", "v"]), entry("1-1", &["f", "w"])]
        );
        let owners = [id(1, 0), id(1, 1)];
        let s = decode_stream(&good(&one_node(6), &|c: &mut Craft| {
            group(c, &owners, &[(b"x", &owners[..1]), (b"y", &owners[1..])])
        }))
        .expect("baseline with a group");
        assert_eq!(nack(&s, "g", id(1, 1)).0, "y");

        // lp-count.
        expect_corrupt(
            &good(&one_node(5), &no_groups),
            "element count 5, expected 6",
        );
        // Node keys of 15 and 17 bytes.
        for k in [&key[..15], &[&key[..], &[0]].concat()] {
            let mut sc = StreamCraft::new(true, 1);
            sc.node(k, &one_node(6)).meta(2, id(1, 1)).c.len(0);
            expect_corrupt(&sc.payload(), "is not a 16-byte ID");
        }
        // Counts in the master entry that disagree with the entries.
        let mut lp = one_node(6);
        lp[0] = I(1);
        lp[1] = I(1);
        expect_corrupt(&good(&lp, &no_groups), "counts 1 live and 1 deleted");
        // An entry below the master ID; IDs not increasing.
        let mut lp = one_node(6);
        lp[6] = I(-1);
        expect_corrupt(&good(&lp, &no_groups), "below its node's master ID");
        let mut lp = one_node(6);
        lp[14] = I(0);
        expect_corrupt(&good(&lp, &no_groups), "does not come after 1-0");
        // Master entry not terminated by 0; a string where a count belongs; a negative
        // field count; an element too many; a listpack cut short.
        let mut lp = one_node(6);
        lp[4] = I(3);
        expect_corrupt(&good(&lp, &no_groups), "does not end with 0");
        let mut lp = one_node(6);
        lp[0] = S(b"two");
        expect_corrupt(&good(&lp, &no_groups), "is not an integer");
        let mut lp = one_node(6);
        lp[8] = I(-1);
        expect_corrupt(&good(&lp, &no_groups), "is negative");
        let mut lp = one_node(6);
        lp.push(I(0));
        expect_corrupt(&good(&lp, &no_groups), "1 elements past its last entry");
        let lp = &one_node(6)[..16];
        expect_corrupt(
            &good(lp, &no_groups),
            "ends before an entry's element count",
        );
        // Length and last ID that disagree with the entries.
        let mut sc = StreamCraft::new(true, 1);
        sc.node(&key, &one_node(6)).meta(3, id(1, 1)).c.len(0);
        expect_corrupt(
            &sc.payload(),
            "stream length 3 does not match its 2 entries",
        );
        let mut sc = StreamCraft::new(true, 1);
        sc.node(&key, &one_node(6)).meta(2, id(1, 0)).c.len(0);
        expect_corrupt(&sc.payload(), "below its last entry 1-1");
        // A node that does not come after the previous one.
        let mut sc = StreamCraft::new(true, 2);
        sc.node(&key, &one_node(6))
            .node(&id(1, 1).to_be_bytes(), &one_node(6));
        sc.meta(4, id(1, 2)).c.len(0);
        expect_corrupt(
            &sc.payload(),
            "does not come after the previous node's last entry 1-1",
        );
        // Consumer groups.
        let missing = good(&one_node(6), &|c: &mut Craft| {
            group(c, &owners[..1], &[(b"x", &owners[..])])
        });
        expect_corrupt(&missing, "consumer PEL entry 1-1 is not in the group PEL");
        let orphan = good(&one_node(6), &|c: &mut Craft| {
            group(c, &owners, &[(b"x", &owners[..1])])
        });
        expect_corrupt(&orphan, "PEL entry 1-1 has no consumer");
        let dup_pel = good(&one_node(6), &|c: &mut Craft| {
            group(c, &[owners[0], owners[0]], &[])
        });
        expect_corrupt(&dup_pel, "duplicate entry 1-0 in a consumer group PEL");
        let dup_consumer_pel = good(&one_node(6), &|c: &mut Craft| {
            group(c, &owners[..1], &[(b"x", &[owners[0], owners[0]])])
        });
        expect_corrupt(&dup_consumer_pel, "duplicate entry 1-0 in a consumer PEL");
        let two_owners = good(&one_node(6), &|c: &mut Craft| {
            group(
                c,
                &owners[..1],
                &[(b"x", &owners[..1]), (b"y", &owners[..1])],
            )
        });
        expect_corrupt(&two_owners, "belongs to two consumers");
        let dup_consumer = good(&one_node(6), &|c: &mut Craft| {
            group(c, &[], &[(b"x", &[]), (b"x", &[])])
        });
        expect_corrupt(&dup_consumer, "duplicate consumer x");
        let mut sc = StreamCraft::new(true, 1);
        sc.node(&key, &one_node(6)).meta(2, id(1, 1));
        sc.c.len(2);
        for _ in 0..2 {
            sc.c.s(b"g").len(0).len(0).len(0).len(0).len(0);
        }
        expect_corrupt(&sc.payload(), "duplicate consumer group name g");
        // A huge count in a small payload is refused before anything is allocated.
        let mut sc = StreamCraft::new(true, 0);
        sc.meta(0, id(1, 1)).c.len(1).s(b"g").len(0).len(0).len(0);
        sc.c.raw(&[0x81]).raw(&u64::MAX.to_be_bytes());
        assert!(decode_stream(&sc.payload()).is_err());
    }

    #[test]
    fn truncated_or_mutated_streams_never_panic() {
        let built = encode_value(&Value::Stream(Box::new(built_stream())), false);
        for payload in [unhex(REDIS_S), unhex(REDIS_T), built] {
            let body = &payload[..payload.len() - 10];
            assert!(decode_stream(&payload).is_ok());
            for cut in 0..body.len() {
                assert!(
                    decode_stream(&with_footer(&body[..cut])).is_err(),
                    "cut at {cut}"
                );
            }
            // Every byte changed (with a valid footer): an error or a stream, never a panic.
            for i in 0..body.len() {
                for x in [0x01, 0x80, 0xFF] {
                    let mut b = body.to_vec();
                    b[i] ^= x;
                    let _ = decode_value(&with_footer(&b), &limits());
                }
            }
        }
    }

    fn arb_blob() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            "-?[0-9]{1,19}".prop_map(|s| s.into_bytes()),
            proptest::collection::vec(Just(b'r'), 20..300),
        ]
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let l = limits();
        prop_oneof![
            arb_blob().prop_map(|b| str_val(&b)),
            proptest::collection::vec(arb_blob(), 1..30).prop_map(|items| {
                Value::List(Box::new(List {
                    items: items.iter().map(|b| blob(b)).collect(),
                }))
            }),
            proptest::collection::vec((arb_blob(), arb_blob()), 1..30).prop_map(move |pairs| {
                let mut h = Hash::new();
                for (f, v) in pairs {
                    h.set(&f, &v, &l);
                }
                Value::Hash(Box::new(h))
            }),
            proptest::collection::vec(arb_blob(), 1..30).prop_map(move |m| Value::Set(Box::new(
                Set::from_members(m.iter().map(|b| blob(b)), &l)
            ))),
            proptest::collection::vec((arb_blob(), -1e6f64..1e6), 1..200).prop_map(move |e| {
                let mut z = ZSet::default();
                for (m, s) in e {
                    z.add(&m, s, &l);
                }
                Value::ZSet(Box::new(z))
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn random_keyspaces_roundtrip(entries in proptest::collection::vec(
            (0usize..3, arb_blob(), arb_value(), prop_oneof![Just(NO_EXPIRE), 2_000i64..i64::MAX / 2]), 0..40),
            compression in any::<bool>()) {
            let mut ks = Keyspace::new(3, limits());
            for (db, k, v, exp) in entries {
                ks.dbs[db].insert(&k, v, exp, 0);
            }
            let bytes = save(
                &ks,
                WriteOptions {
                    compression,
                    ..WriteOptions::default()
                },
            );
            let loaded = load(&bytes[..], &LoadOptions::new(3, limits())).expect("load");
            assert_same(&canon(&loaded.keyspace), &after_load(canon(&ks)), "random");
            for db in &ks.dbs {
                for it in db.snapshot().items() {
                    let back = decode_value(&encode_value(&it.value, compression), &limits()).expect("dump");
                    prop_assert_eq!(canon_value(&back), canon_value(&it.value));
                }
            }
        }

        /// The loader's fuzz target: mutated and random inputs never panic or hang.
        #[test]
        fn mutated_inputs_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                                      cut in any::<prop::sample::Index>(),
                                      known_len in any::<bool>()) {
            static BASE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
            let base = BASE.get_or_init(|| {
                let mut ks = Keyspace::new(16, limits());
                let src = sample();
                for (i, it) in src.dbs[0].snapshot().items().enumerate() {
                    if it.key.as_slice() != b"huge" {
                        ks.dbs[i % 3].insert(&it.key, it.value.clone(), it.expire_at(), 0);
                    }
                }
                let mut c = Craft::new(6);
                c.op(rtype::LIST_ZIPLIST).s(b"zl").s(&build_ziplist(&[Elem::Str(b"a"), Elem::Int(300)]));
                let mut bytes = save(&ks, WriteOptions::default());
                bytes.extend_from_slice(&c.finish(true));
                bytes
            });
            let mut b = base.clone();
            for (idx, v) in flips {
                let i = idx.index(b.len());
                b[i] = v;
            }
            b.truncate(cut.index(b.len() + 1));
            let o = LoadOptions { verify_checksum: false, total_len: known_len.then_some(b.len() as u64), ..opts() };
            let _ = load(&b[..], &o);
            let _ = decode_value(&b, &limits());
        }

        #[test]
        fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut b = b"REDIS0010".to_vec();
            b.extend_from_slice(&body);
            let _ = load(&b[..], &opts());
            let _ = decode_value(&body, &limits());
        }
    }
}
