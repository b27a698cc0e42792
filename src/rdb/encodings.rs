//! The compact blobs Redis stores inside RDB strings: listpacks (7.0's small hashes, sorted
//! sets and list nodes), and the older ziplists, intsets and zipmaps that earlier versions
//! wrote and 7.0 still loads.
//!
//! Readers take the whole blob (it was read as one RDB string) and check it completely:
//! header sizes against the blob, every entry against the end, listpack back-lengths,
//! ziplist previous-entry lengths, intset order. A bad blob yields a reason string (the
//! decoder adds the byte offset); nothing here can panic or allocate more than the blob's
//! own size suggests. Writers produce exactly the layout Redis 7.0's `lpAppend` produces,
//! including its choice of integer encodings for strings that look like integers.

use crate::keyspace::types::stream::backlen_size;
use crate::keyspace::{blob, Blob};
use crate::resp::parser::parse_i64;

/// One element of a listpack or ziplist: Redis stores integer-looking strings as integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Elem<'a> {
    /// A byte string.
    Str(&'a [u8]),
    /// An integer (its decimal form is the element's value).
    Int(i64),
}

impl Elem<'_> {
    /// The element's bytes (integers in decimal).
    pub fn to_blob(&self) -> Blob {
        match self {
            Elem::Str(s) => blob(s),
            Elem::Int(n) => blob(itoa::Buffer::new().format(*n).as_bytes()),
        }
    }

    /// The element as a sorted-set score, as `zzlGetScore` reads it.
    pub fn to_score(&self) -> Option<f64> {
        match self {
            Elem::Int(n) => Some(*n as f64),
            Elem::Str(s) => parse_score(s),
        }
    }
}

/// Parses a score written by Redis (`%.17g`, an integer, `inf`, `-inf`); `None` for
/// anything else and for NaN, which no sorted set may hold.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    let v = match text {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => {
            let first = text.as_bytes().first()?;
            if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
                return None;
            }
            text.parse::<f64>().ok()?
        }
    };
    (!v.is_nan()).then_some(v)
}

/// Redis 7.0's `d2string`: how a score is spelled inside a listpack.
pub fn d2string(value: f64, out: &mut Vec<u8>) {
    if value.is_nan() {
        out.extend_from_slice(b"nan");
    } else if value.is_infinite() {
        out.extend_from_slice(if value < 0.0 { b"-inf" } else { b"inf" });
    } else if value == 0.0 {
        out.extend_from_slice(if value.is_sign_negative() {
            b"-0"
        } else {
            b"0"
        });
    } else if value > -4503599627370495.0 && value < 4503599627370496.0 && value.fract() == 0.0 {
        out.extend_from_slice(itoa::Buffer::new().format(value as i64).as_bytes());
    } else {
        out.extend_from_slice(crate::resp::writer::format_g(value, 17).as_bytes());
    }
}

// ---------------------------------------------------------------- listpack

/// Listpack header: total bytes (u32) and element count (u16).
const LP_HEADER: usize = 6;
/// Listpack and ziplist terminator.
const END: u8 = 0xFF;
/// Element count meaning "count them".
const LP_UNKNOWN_COUNT: u16 = u16::MAX;

/// Builds a listpack byte for byte as Redis 7.0's `lpAppend` does.
#[derive(Debug, Default)]
pub struct ListpackBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl ListpackBuilder {
    /// Starts an empty listpack, reusing `buf`'s allocation.
    pub fn reuse(mut buf: Vec<u8>) -> ListpackBuilder {
        buf.clear();
        buf.extend_from_slice(&[0; LP_HEADER]);
        ListpackBuilder { buf, count: 0 }
    }

    /// Bytes the listpack will have once finished.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Number of elements so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no element was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends a string, stored as an integer when it is the canonical form of one.
    pub fn push_bytes(&mut self, s: &[u8]) {
        match parse_i64(s) {
            Some(n) => self.push_int(n),
            None => {
                let start = self.buf.len();
                let len = s.len();
                if len < 64 {
                    self.buf.push(0x80 | len as u8);
                } else if len < 4096 {
                    self.buf.push(0xE0 | (len >> 8) as u8);
                    self.buf.push(len as u8);
                } else {
                    self.buf.push(0xF0);
                    self.buf.extend_from_slice(&(len as u32).to_le_bytes());
                }
                self.buf.extend_from_slice(s);
                self.end_entry(start);
            }
        }
    }

    /// Appends an integer in the smallest encoding that holds it.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1i64 << 13) + v } else { v } as u16;
            self.buf.push(((u >> 8) as u8) | 0xC0);
            self.buf.push(u as u8);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8388608..=8388607).contains(&v) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.end_entry(start);
    }

    fn end_entry(&mut self, start: usize) {
        let l = self.buf.len() - start;
        encode_backlen(l, &mut self.buf);
        self.count += 1;
    }

    /// Writes the header and terminator; returns the blob (valid until the next `reuse`).
    pub fn finish(&mut self) -> &[u8] {
        self.buf.push(END);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = if self.count < LP_UNKNOWN_COUNT as usize {
            self.count as u16
        } else {
            LP_UNKNOWN_COUNT
        };
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        &self.buf
    }

    /// Gives the buffer back for reuse.
    pub fn into_buf(self) -> Vec<u8> {
        self.buf
    }
}

/// `lpEncodeBacklen`: the entry length in 1–5 bytes, most significant group first, every
/// byte but the first with the high bit set, so it reads right to left.
fn encode_backlen(l: usize, out: &mut Vec<u8>) {
    if l <= 127 {
        out.push(l as u8);
    } else if l < 16383 {
        out.push((l >> 7) as u8);
        out.push((l & 127) as u8 | 128);
    } else if l < 2097151 {
        out.push((l >> 14) as u8);
        out.push(((l >> 7) & 127) as u8 | 128);
        out.push((l & 127) as u8 | 128);
    } else if l < 268435455 {
        out.push((l >> 21) as u8);
        out.push(((l >> 14) & 127) as u8 | 128);
        out.push(((l >> 7) & 127) as u8 | 128);
        out.push((l & 127) as u8 | 128);
    } else {
        out.push((l >> 28) as u8);
        out.push(((l >> 21) & 127) as u8 | 128);
        out.push(((l >> 14) & 127) as u8 | 128);
        out.push(((l >> 7) & 127) as u8 | 128);
        out.push((l & 127) as u8 | 128);
    }
}

/// Bytes `n..n+k` of `b`, or a reason.
fn slice(b: &[u8], at: usize, k: usize) -> Result<&[u8], String> {
    at.checked_add(k)
        .and_then(|end| b.get(at..end))
        .ok_or_else(|| format!("entry at {at} runs past the end of the blob"))
}

fn le_int(bytes: &[u8]) -> i64 {
    let mut v: u64 = 0;
    for (i, b) in bytes.iter().enumerate() {
        v |= (*b as u64) << (8 * i);
    }
    // Sign-extend from the width read.
    let shift = 64 - 8 * bytes.len() as u32;
    ((v << shift) as i64) >> shift
}

/// Every element of a listpack, checked end to end.
pub fn listpack_elems(lp: &[u8]) -> Result<Vec<Elem<'_>>, String> {
    if lp.len() < LP_HEADER + 1 {
        return Err(format!(
            "listpack of {} bytes is shorter than its header",
            lp.len()
        ));
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() {
        return Err(format!(
            "listpack header says {total} bytes, blob has {}",
            lp.len()
        ));
    }
    if lp[lp.len() - 1] != END {
        return Err("listpack does not end with its terminator".into());
    }
    let declared = u16::from_le_bytes([lp[4], lp[5]]);
    let last = lp.len() - 1;
    let mut elems = Vec::with_capacity((declared as usize).min(lp.len() / 2));
    let mut p = LP_HEADER;
    while p < last {
        let b = lp[p];
        let (elem, size) = if b & 0x80 == 0 {
            (Elem::Int((b & 0x7f) as i64), 1)
        } else if b & 0xC0 == 0x80 {
            let len = (b & 0x3f) as usize;
            (Elem::Str(slice(lp, p + 1, len)?), 1 + len)
        } else if b & 0xE0 == 0xC0 {
            let lo = slice(lp, p + 1, 1)?[0];
            let u = (((b & 0x1f) as i64) << 8) | lo as i64;
            let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
            (Elem::Int(v), 2)
        } else if b & 0xF0 == 0xE0 {
            let lo = slice(lp, p + 1, 1)?[0];
            let len = (((b & 0x0f) as usize) << 8) | lo as usize;
            (Elem::Str(slice(lp, p + 2, len)?), 2 + len)
        } else {
            match b {
                0xF0 => {
                    let l = slice(lp, p + 1, 4)?;
                    let len = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
                    (Elem::Str(slice(lp, p + 5, len)?), 5 + len)
                }
                0xF1 => (Elem::Int(le_int(slice(lp, p + 1, 2)?)), 3),
                0xF2 => (Elem::Int(le_int(slice(lp, p + 1, 3)?)), 4),
                0xF3 => (Elem::Int(le_int(slice(lp, p + 1, 4)?)), 5),
                0xF4 => (Elem::Int(le_int(slice(lp, p + 1, 8)?)), 9),
                END => return Err(format!("listpack terminator at {p} before the end")),
                other => {
                    return Err(format!(
                        "invalid listpack encoding byte {other:#04x} at {p}"
                    ))
                }
            }
        };
        let back_len = backlen_size(size);
        let back = slice(lp, p + size, back_len)?;
        if decode_backlen(back) != Some(size) {
            return Err(format!("listpack entry at {p} has a wrong back-length"));
        }
        p += size + back_len;
        if p > last {
            return Err(format!("listpack entry at {p} runs past the terminator"));
        }
        elems.push(elem);
    }
    if declared != LP_UNKNOWN_COUNT && declared as usize != elems.len() {
        return Err(format!(
            "listpack header says {declared} elements, found {}",
            elems.len()
        ));
    }
    Ok(elems)
}

/// Decodes a back-length written left to right (the bytes `encode_backlen` produced).
fn decode_backlen(bytes: &[u8]) -> Option<usize> {
    let mut v = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        let high_ok = if i == 0 { b & 128 == 0 } else { b & 128 != 0 };
        if !high_ok {
            return None;
        }
        v = (v << 7) | (b & 127) as usize;
    }
    Some(v)
}

// ---------------------------------------------------------------- ziplist

const ZL_HEADER: usize = 10;

/// Every element of a ziplist (RDB types 10, 12, 13 and quicklist v1 nodes), checked end
/// to end, previous-entry lengths included.
pub fn ziplist_elems(zl: &[u8]) -> Result<Vec<Elem<'_>>, String> {
    if zl.len() < ZL_HEADER + 1 {
        return Err(format!(
            "ziplist of {} bytes is shorter than its header",
            zl.len()
        ));
    }
    let total = u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize;
    if total != zl.len() {
        return Err(format!(
            "ziplist header says {total} bytes, blob has {}",
            zl.len()
        ));
    }
    let tail = u32::from_le_bytes([zl[4], zl[5], zl[6], zl[7]]) as usize;
    let declared = u16::from_le_bytes([zl[8], zl[9]]);
    if zl[zl.len() - 1] != END {
        return Err("ziplist does not end with its terminator".into());
    }
    let last = zl.len() - 1;
    let mut elems = Vec::with_capacity((declared as usize).min(zl.len() / 2));
    let mut p = ZL_HEADER;
    let mut prev_size = 0usize;
    let mut last_entry = ZL_HEADER;
    while p < last {
        let start = p;
        let (prevlen, prevlen_size) = match zl[p] {
            0xFE => {
                let b = slice(zl, p + 1, 4)?;
                (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 5)
            }
            END => return Err(format!("ziplist terminator at {p} before the end")),
            b => (b as usize, 1),
        };
        if prevlen != prev_size {
            return Err(format!("ziplist entry at {p} has a wrong previous length"));
        }
        p += prevlen_size;
        let e = slice(zl, p, 1)?[0];
        let (elem, size) = match e >> 6 {
            0 => {
                let len = (e & 0x3f) as usize;
                (Elem::Str(slice(zl, p + 1, len)?), 1 + len)
            }
            1 => {
                let lo = slice(zl, p + 1, 1)?[0];
                let len = (((e & 0x3f) as usize) << 8) | lo as usize;
                (Elem::Str(slice(zl, p + 2, len)?), 2 + len)
            }
            2 => {
                if e != 0x80 {
                    return Err(format!("invalid ziplist encoding byte {e:#04x} at {p}"));
                }
                let b = slice(zl, p + 1, 4)?;
                let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                (Elem::Str(slice(zl, p + 5, len)?), 5 + len)
            }
            _ => match e {
                0xC0 => (Elem::Int(le_int(slice(zl, p + 1, 2)?)), 3),
                0xD0 => (Elem::Int(le_int(slice(zl, p + 1, 4)?)), 5),
                0xE0 => (Elem::Int(le_int(slice(zl, p + 1, 8)?)), 9),
                0xF0 => (Elem::Int(le_int(slice(zl, p + 1, 3)?)), 4),
                0xFE => (Elem::Int(le_int(slice(zl, p + 1, 1)?)), 2),
                0xF1..=0xFD => (Elem::Int(((e & 0x0f) as i64) - 1), 1),
                other => return Err(format!("invalid ziplist encoding byte {other:#04x} at {p}")),
            },
        };
        p += size;
        if p > last {
            return Err(format!("ziplist entry at {start} runs past the terminator"));
        }
        prev_size = p - start;
        last_entry = start;
        elems.push(elem);
    }
    if tail != last_entry {
        return Err(format!(
            "ziplist tail offset {tail} does not point at the last entry"
        ));
    }
    if declared != u16::MAX && declared as usize != elems.len() {
        return Err(format!(
            "ziplist header says {declared} elements, found {}",
            elems.len()
        ));
    }
    Ok(elems)
}

// ---------------------------------------------------------------- intset

/// The integers of an intset (RDB type 11), checked: a valid width, a length that matches
/// the blob, strictly ascending members.
pub fn intset_members(is: &[u8]) -> Result<Vec<i64>, String> {
    if is.len() < 8 {
        return Err(format!(
            "intset of {} bytes is shorter than its header",
            is.len()
        ));
    }
    let width = u32::from_le_bytes([is[0], is[1], is[2], is[3]]) as usize;
    let count = u32::from_le_bytes([is[4], is[5], is[6], is[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(format!("intset has an invalid width {width}"));
    }
    if count.checked_mul(width).and_then(|n| n.checked_add(8)) != Some(is.len()) {
        return Err(format!(
            "intset of {count} members of {width} bytes does not fit its {} bytes",
            is.len()
        ));
    }
    let mut out: Vec<i64> = Vec::with_capacity(count);
    for chunk in is[8..].chunks_exact(width) {
        let v = le_int(chunk);
        if out.last().is_some_and(|&prev| prev >= v) {
            return Err("intset members are not strictly ascending".into());
        }
        out.push(v);
    }
    Ok(out)
}

/// Writes an intset blob with the narrowest width that holds every member (`members`
/// must be sorted ascending and distinct, as [`crate::keyspace::types::Set`] keeps them).
pub fn write_intset(members: &[i64], out: &mut Vec<u8>) {
    let fits = |lo: i64, hi: i64| members.iter().all(|v| (lo..=hi).contains(v));
    let width: usize = if fits(i16::MIN as i64, i16::MAX as i64) {
        2
    } else if fits(i32::MIN as i64, i32::MAX as i64) {
        4
    } else {
        8
    };
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for v in members {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
}

// ---------------------------------------------------------------- zipmap

/// A field and its value, borrowed from a blob.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// The field/value pairs of a zipmap (RDB type 9, Redis 2.4 and older).
pub fn zipmap_pairs(zm: &[u8]) -> Result<Vec<Pair<'_>>, String> {
    fn read_len(zm: &[u8], p: &mut usize) -> Result<Option<usize>, String> {
        let b = slice(zm, *p, 1)?[0];
        match b {
            0xFF => Ok(None),
            0xFE => {
                let l = slice(zm, *p + 1, 4)?;
                *p += 5;
                Ok(Some(u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize))
            }
            n => {
                *p += 1;
                Ok(Some(n as usize))
            }
        }
    }
    let declared = *zm.first().ok_or("empty zipmap")?;
    let mut p = 1;
    let mut pairs = Vec::new();
    while let Some(klen) = read_len(zm, &mut p)? {
        let key = slice(zm, p, klen)?;
        p += klen;
        let vlen = read_len(zm, &mut p)?.ok_or("zipmap key without a value")?;
        let free = slice(zm, p, 1)?[0] as usize;
        p += 1;
        let value = slice(zm, p, vlen)?;
        p += vlen;
        slice(zm, p, free)?;
        p += free;
        pairs.push((key, value));
    }
    if p != zm.len() - 1 {
        return Err("zipmap has bytes after its terminator".into());
    }
    if declared < 254 && declared as usize != pairs.len() {
        return Err(format!(
            "zipmap header says {declared} pairs, found {}",
            pairs.len()
        ));
    }
    Ok(pairs)
}

/// Builds a ziplist (tests only: replikv never writes ziplists, but must read them).
#[cfg(test)]
pub(crate) fn build_ziplist(elems: &[Elem]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut tail = ZL_HEADER;
    for e in elems {
        tail = ZL_HEADER + body.len();
        let start = body.len();
        if prev < 254 {
            body.push(prev as u8);
        } else {
            body.push(0xFE);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match e {
            Elem::Int(v) => match *v {
                0..=12 => body.push(0xF1 + *v as u8),
                -128..=127 => body.extend_from_slice(&[0xFE, *v as i8 as u8]),
                -32768..=32767 => {
                    body.push(0xC0);
                    body.extend_from_slice(&(*v as i16).to_le_bytes());
                }
                -8388608..=8388607 => {
                    body.push(0xF0);
                    body.extend_from_slice(&(*v as i32).to_le_bytes()[..3]);
                }
                v if i32::try_from(v).is_ok() => {
                    body.push(0xD0);
                    body.extend_from_slice(&(v as i32).to_le_bytes());
                }
                v => {
                    body.push(0xE0);
                    body.extend_from_slice(&v.to_le_bytes());
                }
            },
            Elem::Str(s) => {
                if s.len() < 64 {
                    body.push(s.len() as u8);
                } else if s.len() < 16384 {
                    body.push(0x40 | (s.len() >> 8) as u8);
                    body.push(s.len() as u8);
                } else {
                    body.push(0x80);
                    body.extend_from_slice(&(s.len() as u32).to_be_bytes());
                }
                body.extend_from_slice(s);
            }
        }
        prev = body.len() - start;
    }
    let mut zl = Vec::new();
    zl.extend_from_slice(&((ZL_HEADER + body.len() + 1) as u32).to_le_bytes());
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(elems.len().min(u16::MAX as usize) as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(END);
    zl
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lp(items: &[&[u8]]) -> Vec<u8> {
        let mut b = ListpackBuilder::reuse(Vec::new());
        for i in items {
            b.push_bytes(i);
        }
        b.finish().to_vec()
    }

    #[test]
    fn listpack_layout_matches_redis() {
        // HSET h f1 v1 f2 2, as captured from Redis 7.0.15 (shared/REPLICATION.md §9.9).
        let got = lp(&[b"f1", b"v1", b"f2", b"2"]);
        let want = [
            0x15, 0, 0, 0, 4, 0, 0x82, b'f', b'1', 3, 0x82, b'v', b'1', 3, 0x82, b'f', b'2', 3,
            0x02, 1, 0xFF,
        ];
        assert_eq!(got, want);
        let elems = listpack_elems(&got).expect("valid");
        assert_eq!(
            elems,
            vec![
                Elem::Str(b"f1"),
                Elem::Str(b"v1"),
                Elem::Str(b"f2"),
                Elem::Int(2)
            ]
        );
    }

    #[test]
    fn listpack_roundtrips_every_encoding() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let items: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"-32768".to_vec(),
            b"32767".to_vec(),
            b"8388607".to_vec(),
            b"-8388608".to_vec(),
            b"2147483647".to_vec(),
            b"-2147483649".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"007".to_vec(),
            b"".to_vec(),
            mid.clone(),
            long.clone(),
        ];
        let refs: Vec<&[u8]> = items.iter().map(|v| v.as_slice()).collect();
        let blob = lp(&refs);
        let back: Vec<Blob> = listpack_elems(&blob)
            .expect("valid")
            .iter()
            .map(|e| e.to_blob())
            .collect();
        let want: Vec<Blob> = items.iter().map(|v| super::blob(v)).collect();
        assert_eq!(back, want);
    }

    #[test]
    fn listpack_corruption_is_reported() {
        let good = lp(&[b"abc", b"12"]);
        assert!(listpack_elems(&good[..good.len() - 1]).is_err());
        let mut bad = good.clone();
        bad[7 + 3] ^= 0x40; // the back-length of the first entry
        assert!(listpack_elems(&bad).is_err());
        let mut bad = good.clone();
        bad[4] = 7; // element count
        assert!(listpack_elems(&bad).is_err());
        let mut bad = good.clone();
        bad[6] = 0xBF; // a string longer than the blob
        assert!(listpack_elems(&bad).is_err());
        let mut bad = good;
        bad[6] = 0xF7; // no such encoding
        assert!(listpack_elems(&bad).is_err());
    }

    #[test]
    fn ziplist_with_every_encoding() {
        // Built by hand from the ziplist layout: "ab", 12 (imm), -2 (int8), 1000 (int16),
        // 100000 (int24), 10^9 (int32), 10^12 (int64), a 70-byte string (14-bit length).
        let s70 = vec![b'z'; 70];
        let entries: Vec<Vec<u8>> = vec![
            [&[0x02u8][..], b"ab"].concat(),
            vec![0xFD],
            vec![0xFE, 0xFE],
            [&[0xC0u8][..], &1000i16.to_le_bytes()].concat(),
            [&[0xF0u8][..], &100000i32.to_le_bytes()[..3]].concat(),
            [&[0xD0u8][..], &1_000_000_000i32.to_le_bytes()].concat(),
            [&[0xE0u8][..], &1_000_000_000_000i64.to_le_bytes()].concat(),
            [&[0x40u8, 70][..], &s70].concat(),
        ];
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = 0usize;
        for e in &entries {
            tail = ZL_HEADER + body.len();
            body.push(prev as u8);
            body.extend_from_slice(e);
            prev = 1 + e.len();
        }
        let total = ZL_HEADER + body.len() + 1;
        let mut zl = Vec::new();
        zl.extend_from_slice(&(total as u32).to_le_bytes());
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(0xFF);
        let got = ziplist_elems(&zl).expect("valid");
        assert_eq!(
            got,
            vec![
                Elem::Str(b"ab"),
                Elem::Int(12),
                Elem::Int(-2),
                Elem::Int(1000),
                Elem::Int(100000),
                Elem::Int(1_000_000_000),
                Elem::Int(1_000_000_000_000),
                Elem::Str(&s70),
            ]
        );
        let mut bad = zl.clone();
        bad[ZL_HEADER + 4] = 9; // previous length of the second entry
        assert!(ziplist_elems(&bad).is_err());
        let mut bad = zl;
        bad[4] = 11; // tail offset
        assert!(ziplist_elems(&bad).is_err());
    }

    #[test]
    fn ziplist_builder_roundtrips_big_entries() {
        let big = vec![b'q'; 300];
        let elems = vec![
            Elem::Str(&big),
            Elem::Int(5),
            Elem::Int(-70000),
            Elem::Str(b""),
        ];
        let zl = build_ziplist(&elems);
        assert_eq!(ziplist_elems(&zl).expect("valid"), elems);
    }

    #[test]
    fn intset_roundtrip_and_checks() {
        for members in [
            vec![-3i64, 1, 2],
            vec![1, 70000],
            vec![-1, i64::MAX],
            vec![],
        ] {
            let mut b = Vec::new();
            write_intset(&members, &mut b);
            assert_eq!(intset_members(&b).expect("valid"), members);
        }
        let mut b = Vec::new();
        write_intset(&[1, 2], &mut b);
        b.swap(8, 10);
        assert!(intset_members(&b).is_err());
        assert!(intset_members(&b[..9]).is_err());
        let mut b2 = Vec::new();
        write_intset(&[5], &mut b2);
        b2[0] = 3;
        assert!(intset_members(&b2).is_err());
    }

    #[test]
    fn zipmap_pairs_read() {
        // {"foo": "bar", "hello": "world"} with one free byte after "bar".
        let zm = [
            &[2u8, 3][..],
            b"foo",
            &[3, 1],
            b"bar",
            &[0],
            &[5],
            b"hello",
            &[5, 0],
            b"world",
            &[0xFF],
        ]
        .concat();
        let pairs = zipmap_pairs(&zm).expect("valid");
        assert_eq!(
            pairs,
            vec![(&b"foo"[..], &b"bar"[..]), (&b"hello"[..], &b"world"[..])]
        );
        assert!(zipmap_pairs(&zm[..zm.len() - 2]).is_err());
    }

    #[test]
    fn scores_print_and_parse_like_redis() {
        let mut out = Vec::new();
        for (v, s) in [
            (1.0, "1"),
            (-2.0, "-2"),
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (f64::INFINITY, "inf"),
            (-0.0, "-0"),
            (1e20, "1e+20"),
        ] {
            out.clear();
            d2string(v, &mut out);
            assert_eq!(out, s.as_bytes());
            if v != 0.0 {
                assert_eq!(parse_score(s.as_bytes()), Some(v));
            }
        }
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b"x"), None);
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
    }
}
