//! Bitmap commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO.
//!
//! A string is a bit array, bit 0 being the most significant bit of its first byte. Writes
//! grow the string with zero bytes as far as the highest bit they address and leave it in
//! the `raw` encoding, as Redis does; reads see an integer-encoded string as its decimal
//! text and a missing key as an infinite run of zeros. Ranges (BITCOUNT, BITPOS) count in
//! bytes, or in bits with BIT (Redis 7.0), with Redis's clamping of negative and
//! out-of-range indexes, so the answers at every edge are Redis's. BITFIELD reads and
//! writes integer fields of 1 to 64 bits at any bit offset, with Redis's overflow rules
//! (WRAP, SAT, FAIL) computed the way Redis computes them.

use bytes::Bytes;

use super::ctx::Ctx;
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::Spec;
use crate::command::cmd;
use crate::engine::notify;
use crate::keyspace::{Blob, StrValue, Value, NO_EXPIRE};

/// A bit offset argument: non-negative and within `proto-max-bulk-len` bytes (not checked
/// on the master link, which must apply what its master accepted).
fn bit_offset(ctx: &Ctx, arg: &[u8]) -> Result<u64, CmdError> {
    let offset = crate::resp::parser::parse_i64(arg)
        .filter(|n| *n >= 0)
        .ok_or(CmdError::Fixed(error::BIT_OFFSET))?;
    if !ctx.session.must_obey() && (offset as u64 >> 3) >= ctx.engine.settings.proto_max_bulk_len {
        return Err(CmdError::Fixed(error::BIT_OFFSET));
    }
    Ok(offset as u64)
}

/// SETBIT key offset value: answers the bit's previous value.
fn setbit(ctx: &mut Ctx) -> CmdResult {
    let offset = bit_offset(ctx, ctx.arg(2))?;
    let on = match parse_int(ctx.arg(3)) {
        Ok(v @ (0 | 1)) => v == 1,
        _ => return Err(CmdError::Fixed(error::BIT_VALUE)),
    };
    let (now, clock) = (ctx.now, ctx.clock());
    let key = ctx.arg(1);
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let db = ctx.db();
    let (previous, changed) = match db.get_mut(key, now) {
        Some(Value::Str(s)) => s.write_raw(|bytes| {
            let grew = bytes.len() < byte + 1;
            if grew {
                bytes.resize(byte + 1, 0);
            }
            let previous = bytes[byte] & mask != 0;
            if on {
                bytes[byte] |= mask;
            } else {
                bytes[byte] &= !mask;
            }
            (previous, grew || previous != on)
        }),
        Some(_) => return Err(CmdError::Fixed(error::WRONGTYPE)),
        None => {
            let mut bytes = Blob::from_elem(0, byte + 1);
            if on {
                bytes[byte] |= mask;
            }
            db.insert(key, Value::Str(StrValue::raw(bytes)), NO_EXPIRE, clock);
            (false, true)
        }
    };
    if changed {
        ctx.modified(key);
        ctx.notify(notify::STRING, "setbit", key);
    }
    ctx.out.int(previous as i64);
    Ok(())
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx) -> CmdResult {
    let offset = bit_offset(ctx, ctx.arg(2))?;
    let key = ctx.arg(1);
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let bit = ctx.with_string(key, |_, s| s.get(byte).is_some_and(|b| b & mask != 0))?;
    ctx.out.int(bit.unwrap_or(false) as i64);
    Ok(())
}

/// A range in a string, as BITCOUNT and BITPOS resolve it: whole bytes `start..=end`, and
/// for a BIT range, the bits of the first and last byte that lie outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteRange {
    start: usize,
    end: usize,
    /// Bits of the first byte before the range (high bits), set in the mask.
    first_outside: u8,
    /// Bits of the last byte after the range (low bits), set in the mask.
    last_outside: u8,
}

/// Resolves `start` and `end` over a string of `len` bytes, counting bits when `bits`;
/// `None` for an empty range. Negative indexes count from the end; indexes are clamped.
fn resolve_range(len: usize, mut start: i64, mut end: i64, bits: bool) -> Option<ByteRange> {
    let total = if bits { (len as i64) << 3 } else { len as i64 };
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    if bits {
        Some(ByteRange {
            start: (start >> 3) as usize,
            end: (end >> 3) as usize,
            first_outside: !(0xffu16 >> (start & 7)) as u8,
            last_outside: ((1u16 << (7 - (end & 7))) - 1) as u8,
        })
    } else {
        Some(ByteRange {
            start: start as usize,
            end: end as usize,
            first_outside: 0,
            last_outside: 0,
        })
    }
}

/// BYTE or BIT (any case), or a syntax error.
fn unit_is_bit(arg: &[u8]) -> Result<bool, CmdError> {
    if arg.eq_ignore_ascii_case(b"BIT") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"BYTE") {
        Ok(false)
    } else {
        Err(CmdError::Fixed(error::SYNTAX))
    }
}

/// Set bits in `bytes`.
fn popcount(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut n: u64 = words
        .by_ref()
        .map(|w| {
            u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]).count_ones() as u64
        })
        .sum();
    n += words
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>();
    n
}

/// BITCOUNT key [start end [BYTE|BIT]]: the key is looked up before the range is read,
/// as in Redis (a missing key answers 0 whatever follows).
fn bitcount(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key = ctx.arg(1);
    let count = ctx.with_string(key, |_, s| -> Result<u64, CmdError> {
        let (start, end, bits) = match argv.len() {
            2 => (0, s.len() as i64 - 1, false),
            4 | 5 => {
                let (start, end) = (parse_int(&argv[2])?, parse_int(&argv[3])?);
                // Two negative indexes in the wrong order answer 0 before the unit is read.
                if start < 0 && end < 0 && start > end {
                    return Ok(0);
                }
                let bits = match argv.get(4) {
                    Some(unit) => unit_is_bit(unit)?,
                    None => false,
                };
                (start, end, bits)
            }
            _ => return Err(CmdError::Fixed(error::SYNTAX)),
        };
        let Some(r) = resolve_range(s.len(), start, end, bits) else {
            return Ok(0);
        };
        let mut n = popcount(&s[r.start..=r.end]);
        n -= (s[r.start] & r.first_outside).count_ones() as u64;
        n -= (s[r.end] & r.last_outside).count_ones() as u64;
        Ok(n)
    })?;
    ctx.out.int(count.transpose()?.unwrap_or(0) as i64);
    Ok(())
}

/// The position of the first bit equal to `bit` in `bytes`; when none, -1 for a set bit
/// and the bit just past the end for a clear one (a string is followed by zeros).
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0x00 } else { 0xff };
    match bytes.iter().position(|b| *b != skip) {
        Some(i) => {
            let b = if bit { bytes[i] } else { !bytes[i] };
            (i as i64) * 8 + b.leading_zeros() as i64
        }
        None if bit => -1,
        None => (bytes.len() as i64) * 8,
    }
}

/// BITPOS key bit [start [end [BYTE|BIT]]]: the bit is read first, then the key, then
/// the range, as in Redis.
fn bitpos(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let bit = match parse_int(&argv[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::Fixed(error::BITPOS_BIT)),
    };
    let key = ctx.arg(1);
    let pos = ctx.with_string(key, |_, s| -> Result<i64, CmdError> {
        if argv.len() > 6 {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        let len = s.len() as i64;
        let mut end_given = false;
        let (start, end, bits) = match argv.get(3) {
            None => (0, len - 1, false),
            Some(start) => {
                let start = parse_int(start)?;
                let bits = match argv.get(5) {
                    Some(unit) => unit_is_bit(unit)?,
                    None => false,
                };
                let end = match argv.get(4) {
                    Some(end) => {
                        end_given = true;
                        parse_int(end)?
                    }
                    None if bits => (len << 3) + 7,
                    None => len - 1,
                };
                (start, end, bits)
            }
        };
        let Some(r) = resolve_range(s.len(), start, end, bits) else {
            return Ok(-1);
        };
        // The range's bytes, with the bits outside it made to differ from what is sought.
        let mut bytes: Vec<u8> = s[r.start..=r.end].to_vec();
        let last = bytes.len() - 1;
        let hide = |b: &mut u8, outside: u8| {
            if bit {
                *b &= !outside;
            } else {
                *b |= outside;
            }
        };
        hide(&mut bytes[0], r.first_outside);
        hide(&mut bytes[last], r.last_outside);
        let found = first_bit(&bytes, bit);
        // With an explicit end, the zeros after the range are not part of it.
        if end_given && !bit && found == (bytes.len() as i64) * 8 {
            return Ok(-1);
        }
        Ok(if found == -1 {
            -1
        } else {
            found + ((r.start as i64) << 3)
        })
    })?;
    // A missing key is all zeros: the first clear bit is 0, there is no set bit.
    let missing = if bit { -1 } else { 0 };
    ctx.out.int(pos.transpose()?.unwrap_or(missing));
    Ok(())
}

/// BITOP AND|OR|XOR|NOT destkey key...: answers the length of the string stored.
fn bitop(ctx: &mut Ctx) -> CmdResult {
    #[derive(Clone, Copy, PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let argv = ctx.argv;
    let op = match argv[1].to_ascii_lowercase().as_slice() {
        b"and" => Op::And,
        b"or" => Op::Or,
        b"xor" => Op::Xor,
        b"not" => Op::Not,
        _ => return Err(CmdError::Fixed(error::SYNTAX)),
    };
    if op == Op::Not && argv.len() != 4 {
        return Err(CmdError::Fixed(error::BITOP_NOT_ONE_KEY));
    }
    let mut sources: Vec<Option<Blob>> = Vec::with_capacity(argv.len() - 3);
    for key in &argv[3..] {
        sources.push(ctx.with_string(key, |_, s| Blob::from_slice(s))?);
    }
    let maxlen = sources
        .iter()
        .map(|s| s.as_ref().map_or(0, |b| b.len()))
        .max()
        .unwrap_or(0);
    let byte_at =
        |s: &Option<Blob>, j: usize| s.as_ref().and_then(|b| b.get(j)).copied().unwrap_or(0);
    let mut result = Blob::from_elem(0, maxlen);
    for (j, out) in result.iter_mut().enumerate() {
        let first = byte_at(&sources[0], j);
        *out = match op {
            Op::Not => !first,
            Op::And => sources[1..]
                .iter()
                .fold(first, |acc, s| acc & byte_at(s, j)),
            Op::Or => sources[1..]
                .iter()
                .fold(first, |acc, s| acc | byte_at(s, j)),
            Op::Xor => sources[1..]
                .iter()
                .fold(first, |acc, s| acc ^ byte_at(s, j)),
        };
    }
    let (now, clock) = (ctx.now, ctx.clock());
    let dst: &Bytes = &argv[2];
    if maxlen > 0 {
        ctx.db()
            .insert(dst, Value::Str(StrValue::raw(result)), NO_EXPIRE, clock);
        ctx.modified(dst);
        ctx.notify(notify::STRING, "set", dst);
    } else if ctx.db().delete(dst, now) {
        ctx.modified(dst);
        ctx.notify(notify::GENERIC, "del", dst);
    }
    ctx.out.int(maxlen as i64);
    Ok(())
}

/// What BITFIELD does when a SET or INCRBY leaves the field's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// One BITFIELD operation.
#[derive(Debug, Clone, Copy)]
struct FieldOp {
    kind: FieldOpKind,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldOpKind {
    Get,
    Set,
    IncrBy,
}

/// A field type, `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let bad = || CmdError::Fixed(error::BITFIELD_TYPE);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(bad()),
    };
    let bits = crate::resp::parser::parse_i64(&arg[1..]).ok_or_else(bad)?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(bad());
    }
    Ok((signed, bits as u32))
}

/// A field offset: a bit offset, or `#n` for the n-th field of `bits` bits.
fn field_offset(ctx: &Ctx, arg: &[u8], bits: u32) -> Result<u64, CmdError> {
    let (digits, scale) = match arg.split_first() {
        Some((b'#', rest)) => (rest, i64::from(bits)),
        _ => (arg, 1),
    };
    let n = crate::resp::parser::parse_i64(digits)
        .and_then(|n| n.checked_mul(scale))
        .ok_or(CmdError::Fixed(error::BIT_OFFSET))?;
    let mut text = itoa::Buffer::new();
    bit_offset(ctx, text.format(n).as_bytes())
}

/// Parses BITFIELD's operations, in Redis's order of checks.
fn parse_field_ops(ctx: &Ctx) -> Result<Vec<FieldOp>, CmdError> {
    let argv = ctx.argv;
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let kind = match argv[j].to_ascii_lowercase().as_slice() {
            b"get" if left >= 2 => FieldOpKind::Get,
            b"set" if left >= 3 => FieldOpKind::Set,
            b"incrby" if left >= 3 => FieldOpKind::IncrBy,
            b"overflow" if left >= 1 => {
                overflow = match argv[j + 1].to_ascii_lowercase().as_slice() {
                    b"wrap" => Overflow::Wrap,
                    b"sat" => Overflow::Sat,
                    b"fail" => Overflow::Fail,
                    _ => return Err(CmdError::Fixed(error::BITFIELD_OVERFLOW)),
                };
                j += 2;
                continue;
            }
            _ => return Err(CmdError::Fixed(error::SYNTAX)),
        };
        let (signed, bits) = field_type(&argv[j + 1])?;
        let offset = field_offset(ctx, &argv[j + 2], bits)?;
        let value = if kind == FieldOpKind::Get {
            0
        } else {
            parse_int(&argv[j + 3])?
        };
        ops.push(FieldOp {
            kind,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if kind == FieldOpKind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

/// The unsigned value of `bits` bits at bit `offset` (bits past the end read as 0).
fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0u64, |v, j| {
        let at = offset + j;
        let byte = s.get((at >> 3) as usize).copied().unwrap_or(0);
        (v << 1) | u64::from(byte >> (7 - (at & 7)) & 1)
    })
}

/// The signed value of `bits` bits at bit `offset`.
fn get_signed(s: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(s, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` bits of `value` at bit `offset` (the string is long enough).
fn set_bits(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let on = value >> (u64::from(bits) - 1 - j) & 1 == 1;
        let at = offset + j;
        let mask = 1u8 << (7 - (at & 7));
        let byte = &mut s[(at >> 3) as usize];
        if on {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// `value + incr` in an unsigned field of `bits` bits: the result, or `None` when it
/// overflows under FAIL (Redis's `checkUnsignedBitfieldOverflow`).
fn unsigned_add(value: u64, incr: i64, bits: u32, overflow: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = (value as i64).wrapping_neg();
    let wrapped = || value.wrapping_add(incr as u64) & !(u64::MAX << bits);
    if value > max || (incr > 0 && incr > max_incr) {
        match overflow {
            Overflow::Wrap => Some(wrapped()),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        }
    } else if incr < 0 && incr < min_incr {
        match overflow {
            Overflow::Wrap => Some(wrapped()),
            Overflow::Sat => Some(0),
            Overflow::Fail => None,
        }
    } else {
        Some(value.wrapping_add(incr as u64))
    }
}

/// `value + incr` in a signed field of `bits` bits (Redis's `checkSignedBitfieldOverflow`).
fn signed_add(value: i64, incr: i64, bits: u32, overflow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        match overflow {
            Overflow::Wrap => Some(wrapped()),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        }
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        match overflow {
            Overflow::Wrap => Some(wrapped()),
            Overflow::Sat => Some(min),
            Overflow::Fail => None,
        }
    } else {
        Some(value.wrapping_add(incr))
    }
}

/// Applies one SET or INCRBY to `s`: the reply (old value for SET, new for INCRBY, `None`
/// when FAIL refused it) and whether the field changed.
fn apply_write(s: &mut [u8], op: &FieldOp) -> (Option<i64>, bool) {
    let incr = op.kind == FieldOpKind::IncrBy;
    if op.signed {
        let old = get_signed(s, op.offset, op.bits);
        let new = if incr {
            signed_add(old, op.value, op.bits, op.overflow)
        } else {
            signed_add(op.value, 0, op.bits, op.overflow)
        };
        let Some(new) = new else {
            return (None, false);
        };
        set_bits(s, op.offset, op.bits, new as u64);
        (Some(if incr { new } else { old }), old != new)
    } else {
        let old = get_unsigned(s, op.offset, op.bits);
        let new = if incr {
            unsigned_add(old, op.value, op.bits, op.overflow)
        } else {
            unsigned_add(op.value as u64, 0, op.bits, op.overflow)
        };
        let Some(new) = new else {
            return (None, false);
        };
        set_bits(s, op.offset, op.bits, new);
        (Some(if incr { new as i64 } else { old as i64 }), old != new)
    }
}

/// BITFIELD and BITFIELD_RO.
fn bitfield_generic(ctx: &mut Ctx, read_only: bool) -> CmdResult {
    let ops = parse_field_ops(ctx)?;
    let key = ctx.arg(1);
    let writes = ops.iter().any(|op| op.kind != FieldOpKind::Get);
    if !writes {
        let replies = ctx.with_string(key, |_, s| {
            ops.iter().map(|op| read_field(s, op)).collect::<Vec<i64>>()
        })?;
        ctx.out.array(ops.len());
        for (i, op) in ops.iter().enumerate() {
            let v = replies
                .as_ref()
                .map_or_else(|| read_field(&[], op), |r| r[i]);
            ctx.out.int(v);
        }
        return Ok(());
    }
    if read_only {
        return Err(CmdError::Fixed(error::BITFIELD_RO_GET_ONLY));
    }
    let highest = ops
        .iter()
        .filter(|op| op.kind != FieldOpKind::Get)
        .map(|op| op.offset + u64::from(op.bits) - 1)
        .max()
        .unwrap_or(0);
    let len = (highest >> 3) as usize + 1;
    let (now, clock) = (ctx.now, ctx.clock());
    let db = ctx.db();
    // The string, grown to hold every field written (created when missing).
    let (mut bytes, grew) = match db.get_mut(key, now) {
        Some(Value::Str(s)) => {
            let mut bytes = std::mem::replace(s, StrValue::Int(0)).into_blob();
            let grew = bytes.len() < len;
            if grew {
                bytes.resize(len, 0);
            }
            (bytes, grew)
        }
        Some(_) => return Err(CmdError::Fixed(error::WRONGTYPE)),
        None => (Blob::from_elem(0, len), true),
    };
    let mut replies: Vec<Option<i64>> = Vec::with_capacity(ops.len());
    let mut changes = 0u64;
    for op in &ops {
        if op.kind == FieldOpKind::Get {
            replies.push(Some(read_field(&bytes, op)));
            continue;
        }
        let (reply, changed) = apply_write(&mut bytes, op);
        if reply.is_some() && (grew || changed) {
            changes += 1;
        }
        replies.push(reply);
    }
    let db = ctx.db();
    match db.get_mut(key, now) {
        Some(Value::Str(s)) => *s = StrValue::raw(bytes),
        _ => {
            db.insert(key, Value::Str(StrValue::raw(bytes)), NO_EXPIRE, clock);
        }
    }
    if changes > 0 {
        ctx.modified(key);
        ctx.dirty += changes - 1;
        ctx.notify(notify::STRING, "setbit", key);
    } else if grew {
        // Every write was refused (OVERFLOW FAIL) but the string was created or grown:
        // Redis keeps that change without propagating it, and its replicas diverge.
        // Counting it sends the command on, and the replica makes the same change.
        ctx.modified(key);
    }
    ctx.out.array(replies.len());
    for r in replies {
        match r {
            Some(v) => ctx.out.int(v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// A GET of BITFIELD: the field's value, signed or not.
fn read_field(s: &[u8], op: &FieldOp) -> i64 {
    if op.signed {
        get_signed(s, op.offset, op.bits)
    } else {
        get_unsigned(s, op.offset, op.bits) as i64
    }
}

fn bitfield(ctx: &mut Ctx) -> CmdResult {
    bitfield_generic(ctx, false)
}

fn bitfield_ro(ctx: &mut Ctx) -> CmdResult {
    bitfield_generic(ctx, true)
}

/// Bitmap commands.
pub static COMMANDS: &[Spec] = &[
    cmd!("setbit", 4, WRITE | DENYOOM, (1, 1, 1), "bitmap", setbit),
    cmd!("getbit", 3, READONLY | FAST, (1, 1, 1), "bitmap", getbit),
    cmd!("bitcount", -2, READONLY, (1, 1, 1), "bitmap", bitcount),
    cmd!("bitpos", -3, READONLY, (1, 1, 1), "bitmap", bitpos),
    cmd!("bitop", -4, WRITE | DENYOOM, (2, -1, 1), "bitmap", bitop),
    cmd!(
        "bitfield",
        -2,
        WRITE | DENYOOM,
        (1, 1, 1),
        "bitmap",
        bitfield
    ),
    cmd!(
        "bitfield_ro",
        -2,
        READONLY | FAST,
        (1, 1, 1),
        "bitmap",
        bitfield_ro
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_clamp_and_mask_as_redis() {
        assert_eq!(
            resolve_range(3, 0, -1, false),
            Some(ByteRange {
                start: 0,
                end: 2,
                first_outside: 0,
                last_outside: 0
            })
        );
        assert_eq!(resolve_range(3, 5, 10, false), None);
        assert_eq!(resolve_range(0, 0, -1, false), None);
        // Bits 3..=10: byte 0 from bit 3, byte 1 up to bit 10 (its third bit).
        assert_eq!(
            resolve_range(2, 3, 10, true),
            Some(ByteRange {
                start: 0,
                end: 1,
                first_outside: 0b1110_0000,
                last_outside: 0b0001_1111
            })
        );
    }

    #[test]
    fn first_bits_are_found_from_the_most_significant_end() {
        assert_eq!(first_bit(&[0x00, 0x10], true), 11);
        assert_eq!(first_bit(&[0x00, 0x00], true), -1);
        assert_eq!(first_bit(&[0xff, 0xf0], false), 12);
        assert_eq!(first_bit(&[0xff], false), 8);
        assert_eq!(popcount(&[0xff; 19]), 152);
    }
}
