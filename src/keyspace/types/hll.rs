//! HyperLogLog, stored as Redis 7.0 stores it: inside an ordinary string value, in Redis's
//! exact byte layout. Byte-for-byte equality matters here more than anywhere: the value is
//! a string that GET returns, that DUMP/RESTORE and RDB files carry, and that replicas
//! receive as PFADD/PFMERGE commands to replay — a replikv replica of a Redis master (or
//! the reverse) must end with the same bytes.
//!
//! Layout: a 16-byte header — `HYLL`, the encoding (0 dense, 1 sparse), three unused
//! bytes, and the cached cardinality (8 bytes little-endian; the top bit of the last byte
//! set means "stale") — then 16384 registers of 6 bits:
//! - dense: 12288 bytes, register `i` at bit `6i`, least significant bit first;
//! - sparse: run-length opcodes. `00xxxxxx` is a run of 1..64 zero registers,
//!   `01xxxxxx yyyyyyyy` a run of 1..16384 zero registers, `1vvvvvxx` a run of 1..4
//!   registers holding 1..32. A sparse value turns dense when a register needs more than 32
//!   or when it would pass `hll-sparse-max-bytes`.
//!
//! The estimate is Redis 7.0's (Otmar Ertl's improved estimator over the register
//! histogram), so PFCOUNT answers the same number as Redis for the same value.

use super::super::Blob;

/// Header bytes.
pub const HEADER: usize = 16;
/// log2 of the register count.
const P: u32 = 14;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Hash bits left after the register index.
const Q: usize = 64 - P as usize;
/// Bits per dense register.
const BITS: usize = 6;
/// Largest value a dense register holds.
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Size of a dense value.
pub const DENSE_SIZE: usize = HEADER + (REGISTERS * BITS).div_ceil(8);

const ENCODING_DENSE: u8 = 0;
const ENCODING_SPARSE: u8 = 1;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;

/// 0.5 / ln(2): Redis's `HLL_ALPHA_INF`, the same double.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// Seed of the element hash (Redis's MurmurHash64A seed for HyperLogLog).
const HASH_SEED: u64 = 0xadc83b19;

/// A value whose registers do not add up (a corrupted or hand-crafted string): Redis's
/// `INVALIDOBJ Corrupted HLL object detected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// True when `bytes` is a HyperLogLog Redis would accept: the magic, a known encoding, and
/// for dense the exact size (Redis's `isHLLObjectOrReply`).
pub fn is_hll(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER
        && &bytes[..4] == b"HYLL"
        && bytes[4] <= ENCODING_SPARSE
        && (bytes[4] != ENCODING_DENSE || bytes.len() == DENSE_SIZE)
}

/// True for the sparse encoding (of a value that passed [`is_hll`]).
pub fn is_sparse(bytes: &[u8]) -> bool {
    bytes[4] == ENCODING_SPARSE
}

/// A new, empty HyperLogLog: sparse, every register in one long zero run, cached count 0.
pub fn new_sparse() -> Blob {
    let mut v = Blob::new();
    v.extend_from_slice(b"HYLL");
    v.push(ENCODING_SPARSE);
    v.extend_from_slice(&[0; HEADER - 5]);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(SPARSE_XZERO_MAX_LEN);
        push_xzero(&mut v, run);
        left -= run;
    }
    v
}

// ---- the cached cardinality ----

/// The cached cardinality, when it is current.
pub fn cached_count(bytes: &[u8]) -> Option<u64> {
    let card: [u8; 8] = bytes[8..16].try_into().ok()?;
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

/// Stores a freshly computed cardinality.
pub fn set_cached_count(bytes: &mut [u8], count: u64) {
    bytes[8..16].copy_from_slice(&count.to_le_bytes());
}

/// Marks the cached cardinality stale (after a register changed).
pub fn invalidate_cache(bytes: &mut [u8]) {
    bytes[15] |= 0x80;
}

// ---- hashing ----

/// MurmurHash64A, the 64-bit hash Redis feeds its HyperLogLogs (little-endian reads).
fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4a7935bd1e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut k = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate().rev() {
            h ^= u64::from(*b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element lands in and the run length of its hash (the position of the
/// first 1 bit after the index bits, counting from 1), as Redis's `hllPatLen`.
fn register_and_count(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, HASH_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---- dense registers ----

fn dense_get(registers: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let shift = (i * BITS) & 7;
    let b0 = u16::from(registers[byte]);
    // The last register's high bits would come from the byte after the array: zero.
    let b1 = u16::from(registers.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> shift) | (b1 << (8 - shift))) as u8) & REGISTER_MAX
}

fn dense_set(registers: &mut [u8], i: usize, value: u8) {
    let byte = i * BITS / 8;
    let shift = (i * BITS) & 7;
    registers[byte] &= !(REGISTER_MAX << shift);
    registers[byte] |= value << shift;
    if let Some(next) = registers.get_mut(byte + 1) {
        let high = 8 - shift;
        *next &= !((u16::from(REGISTER_MAX) >> high) as u8);
        *next |= (u16::from(value) >> high) as u8;
    }
}

/// Raises dense register `i` to `count`; true when it changed.
fn dense_raise(registers: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(registers, i) {
        dense_set(registers, i, count);
        true
    } else {
        false
    }
}

// ---- sparse opcodes ----

/// One decoded sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// A run of zero registers, in one byte (`xzero` false) or two.
    Zero { run: usize, xzero: bool },
    /// A run of registers holding `value`.
    Val { value: u8, run: usize },
}

impl Op {
    fn at(bytes: &[u8], p: usize) -> Option<Op> {
        let b = *bytes.get(p)?;
        Some(match b & 0xc0 {
            0x00 => Op::Zero {
                run: usize::from(b & 0x3f) + 1,
                xzero: false,
            },
            0x40 => Op::Zero {
                run: ((usize::from(b & 0x3f) << 8) | usize::from(*bytes.get(p + 1)?)) + 1,
                xzero: true,
            },
            _ => Op::Val {
                value: ((b >> 2) & 0x1f) + 1,
                run: usize::from(b & 0x3) + 1,
            },
        })
    }

    fn size(self) -> usize {
        match self {
            Op::Zero { xzero: true, .. } => 2,
            _ => 1,
        }
    }

    fn run(self) -> usize {
        match self {
            Op::Zero { run, .. } | Op::Val { run, .. } => run,
        }
    }
}

fn val_byte(value: u8, run: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (run as u8 - 1)
}

fn push_xzero(out: &mut Blob, run: usize) {
    let l = run - 1;
    out.push(0x40 | (l >> 8) as u8);
    out.push((l & 0xff) as u8);
}

/// Appends the shortest zero-run opcode for `run` registers.
fn push_zeros(out: &mut Blob, run: usize) {
    if run > SPARSE_ZERO_MAX_LEN {
        push_xzero(out, run);
    } else {
        out.push(run as u8 - 1);
    }
}

/// Calls `f(first_register, op)` for every opcode; fails when the runs do not cover the
/// registers exactly.
fn for_each_op(bytes: &[u8], mut f: impl FnMut(usize, Op)) -> Result<(), Corrupt> {
    let mut p = HEADER;
    let mut index = 0usize;
    while p < bytes.len() {
        let op = Op::at(bytes, p).ok_or(Corrupt)?;
        if matches!(op, Op::Val { .. }) && index + op.run() > REGISTERS {
            return Err(Corrupt);
        }
        f(index, op);
        index += op.run();
        p += op.size();
    }
    if index == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Sets sparse register `index` to `count` when that raises it (Redis's `hllSparseSet`,
/// step for step, so the bytes come out as Redis writes them). `Ok(None)` asks the caller
/// to turn the value dense and set the register there.
fn sparse_raise(
    hll: &mut Blob,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<Option<bool>, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return Ok(None);
    }
    // Find the opcode covering `index`, and the one before it.
    let mut p = HEADER;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let op = loop {
        let op = Op::at(hll, p).ok_or(Corrupt)?;
        if index < first + op.run() {
            break op;
        }
        prev = Some(p);
        p += op.size();
        first += op.run();
    };
    let changed_in_place = match op {
        Op::Val { value, .. } if value >= count => return Ok(Some(false)),
        Op::Val { run: 1, .. }
        | Op::Zero {
            run: 1,
            xzero: false,
        } => {
            hll[p] = val_byte(count, 1);
            true
        }
        _ => false,
    };
    if !changed_in_place {
        // Split the run into up to three opcodes: before, the register, after.
        let last = first + op.run() - 1;
        let mut seq = Blob::new();
        match op {
            Op::Zero { .. } => {
                if index != first {
                    push_zeros(&mut seq, index - first);
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    push_zeros(&mut seq, last - index);
                }
            }
            Op::Val { value, .. } => {
                if index != first {
                    seq.push(val_byte(value, index - first));
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    seq.push(val_byte(value, last - index));
                }
            }
        }
        let grows = seq.len() > op.size();
        if grows && hll.len() + seq.len() - op.size() > sparse_max {
            return Ok(None);
        }
        hll.drain(p..p + op.size());
        hll.insert_many(p, seq);
    }
    merge_adjacent_values(hll, prev.unwrap_or(HEADER));
    invalidate_cache(hll);
    Ok(Some(true))
}

/// Merges neighbouring value runs with the same value (up to the longest run an opcode
/// holds), scanning at most five opcodes from `p`, as Redis does after an update.
fn merge_adjacent_values(hll: &mut Blob, mut p: usize) {
    let mut scans = 5;
    while p < hll.len() && scans > 0 {
        scans -= 1;
        let Some(op) = Op::at(hll, p) else { return };
        let Op::Val { value, run } = op else {
            p += op.size();
            continue;
        };
        if let Some(Op::Val {
            value: next_value,
            run: next_run,
        }) = Op::at(hll, p + 1)
        {
            if next_value == value && run + next_run <= SPARSE_VAL_MAX_LEN {
                hll[p + 1] = val_byte(value, run + next_run);
                hll.remove(p);
                // Try again from the same place: the merged run may merge further.
                continue;
            }
        }
        p += 1;
    }
}

// ---- operations ----

/// Turns a sparse value dense (the header, cached count included, is kept). Returns
/// whether it converted (false when it was dense already).
pub fn to_dense(hll: &mut Blob) -> Result<bool, Corrupt> {
    if !is_sparse(hll) {
        return Ok(false);
    }
    let mut dense = Blob::from_elem(0, DENSE_SIZE);
    dense[..HEADER].copy_from_slice(&hll[..HEADER]);
    dense[4] = ENCODING_DENSE;
    let registers = &mut dense[HEADER..];
    for_each_op(hll, |first, op| {
        if let Op::Val { value, run } = op {
            for i in first..first + run {
                dense_set(registers, i, value);
            }
        }
    })?;
    *hll = dense;
    Ok(true)
}

/// Raises register `index` to `count` in either encoding; true when it changed.
pub fn raise(hll: &mut Blob, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    if is_sparse(hll) {
        if let Some(changed) = sparse_raise(hll, index, count, sparse_max)? {
            return Ok(changed);
        }
        to_dense(hll)?;
    }
    Ok(dense_raise(&mut hll[HEADER..], index, count))
}

/// PFADD of one element; true when a register changed. The caller invalidates the cache.
pub fn add(hll: &mut Blob, element: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = register_and_count(element);
    raise(hll, index, count, sparse_max)
}

/// Raises `max[i]` to this value's register `i`, for every register (PFMERGE, and PFCOUNT
/// of several keys).
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    if is_sparse(hll) {
        for_each_op(hll, |first, op| {
            if let Op::Val { value, run } = op {
                for m in &mut max[first..first + run] {
                    *m = (*m).max(value);
                }
            }
        })
    } else {
        let registers = &hll[HEADER..];
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(registers, i));
        }
        Ok(())
    }
}

/// The estimated cardinality of one value.
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histogram = [0u32; 64];
    if is_sparse(hll) {
        for_each_op(hll, |_, op| match op {
            Op::Zero { run, .. } => histogram[0] += run as u32,
            Op::Val { value, run } => histogram[usize::from(value)] += run as u32,
        })?;
    } else {
        let registers = &hll[HEADER..];
        for i in 0..REGISTERS {
            histogram[usize::from(dense_get(registers, i))] += 1;
        }
    }
    Ok(estimate(&histogram))
}

/// The estimated cardinality of plain registers (the union PFCOUNT computes for several
/// keys).
pub fn count_registers(registers: &[u8; REGISTERS]) -> u64 {
    let mut histogram = [0u32; 64];
    for r in registers {
        histogram[usize::from(*r & 63)] += 1;
    }
    estimate(&histogram)
}

/// Ertl's estimator over the register histogram, as Redis 7.0's `hllCount`.
fn estimate(histogram: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(histogram[Q + 1])) / m);
    for j in (1..=Q).rev() {
        z += f64::from(histogram[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

// ---- PFSELFTEST ----

/// Redis's PFSELFTEST, run against this implementation: random values written to every
/// dense register read back unchanged (a thousand rounds), then ten million distinct
/// elements added to a dense and a sparse value side by side, checking at each power of ten
/// that the sparse form is still used while small, that both forms give the same count, and
/// that the error stays within six standard errors. `Err` names the first failure as
/// Redis words it (`TESTFAILED ...`).
pub fn self_test(sparse_max: usize) -> Result<(), String> {
    let mut registers = vec![0u8; DENSE_SIZE - HEADER];
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, e) in expected.iter_mut().enumerate() {
            *e = rand::random::<u8>() & REGISTER_MAX;
            dense_set(&mut registers, i, *e);
        }
        for (i, e) in expected.iter().enumerate() {
            let got = dense_get(&registers, i);
            if got != *e {
                return Err(format!(
                    "TESTFAILED Register {i} should be {e} but is {got}"
                ));
            }
        }
    }
    let mut dense = new_sparse();
    to_dense(&mut dense).map_err(|_| "TESTFAILED dense conversion".to_string())?;
    let mut sparse = new_sparse();
    let relative_error = 1.04 / (REGISTERS as f64).sqrt();
    let seed: u64 = rand::random();
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let element = (j ^ seed).to_le_bytes();
        let corrupt = |_| "TESTFAILED corrupt value".to_string();
        add(&mut dense, &element, sparse_max).map_err(corrupt)?;
        add(&mut sparse, &element, sparse_max).map_err(corrupt)?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && !is_sparse(&sparse) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let estimate = count(&dense).map_err(corrupt)?;
        if count(&sparse).map_err(corrupt)? != estimate {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        // Cardinality 10 may collide by chance: Redis allows an error of 1 there.
        let max_error = if j == 10 {
            1
        } else {
            (relative_error * 6.0 * checkpoint as f64).ceil() as u64
        };
        let error = checkpoint.abs_diff(estimate);
        if error > max_error {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{error}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

// ---- PFDEBUG ----

/// Every register of a dense value (PFDEBUG GETREG, after [`to_dense`]).
pub fn dense_registers(hll: &[u8]) -> Vec<u8> {
    (0..REGISTERS)
        .map(|i| dense_get(&hll[HEADER..], i))
        .collect()
}

/// The opcodes of a sparse value as PFDEBUG DECODE prints them (`z:3 Z:100 v:2,1`).
pub fn decode_sparse(hll: &[u8]) -> String {
    let mut out = Vec::new();
    let mut p = HEADER;
    while let Some(op) = Op::at(hll, p) {
        out.push(match op {
            Op::Zero { run, xzero: false } => format!("z:{run}"),
            Op::Zero { run, xzero: true } => format!("Z:{run}"),
            Op::Val { value, run } => format!("v:{value},{run}"),
        });
        p += op.size();
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: usize, sparse_max: usize) -> Blob {
        let mut h = new_sparse();
        for i in 0..n {
            add(&mut h, format!("element:{i}").as_bytes(), sparse_max).expect("add");
        }
        h
    }

    #[test]
    fn an_empty_value_is_redis_s_eighteen_bytes() {
        let h = new_sparse();
        assert_eq!(h.len(), 18);
        assert_eq!(&h[..5], b"HYLL\x01");
        assert_eq!(&h[16..], &[0x7f, 0xff]);
        assert!(is_hll(&h));
        assert_eq!(count(&h), Ok(0));
        assert_eq!(cached_count(&h), Some(0));
    }

    #[test]
    fn dense_registers_round_trip_at_every_bit_offset() {
        let mut regs = vec![0u8; DENSE_SIZE - HEADER];
        for i in 0..REGISTERS {
            dense_set(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8, "register {i}");
        }
    }

    #[test]
    fn sparse_and_dense_agree() {
        for n in [1, 10, 100, 1000, 5000] {
            let sparse = filled(n, usize::MAX);
            assert!(is_sparse(&sparse), "{n} elements");
            let mut dense = sparse.clone();
            assert_eq!(to_dense(&mut dense), Ok(true));
            assert_eq!(dense.len(), DENSE_SIZE);
            assert_eq!(count(&sparse), count(&dense));
            let (mut a, mut b) = ([0u8; REGISTERS], [0u8; REGISTERS]);
            merge_into(&mut a, &sparse).expect("merge");
            merge_into(&mut b, &dense).expect("merge");
            assert_eq!(a[..], b[..]);
            assert_eq!(count_registers(&a), count(&sparse).expect("count"));
        }
    }

    #[test]
    fn estimates_stay_within_the_standard_error() {
        for n in [10u64, 1000, 50_000] {
            let h = filled(n as usize, 3000);
            let c = count(&h).expect("count") as f64;
            let err = (c - n as f64).abs() / n as f64;
            assert!(err < 0.05, "{n} elements counted as {c}");
        }
    }

    #[test]
    fn the_sparse_limit_turns_the_value_dense() {
        let h = filled(2000, 3000);
        assert!(!is_sparse(&h));
        assert_eq!(h.len(), DENSE_SIZE);
    }

    #[test]
    fn corrupt_runs_are_refused() {
        let mut h = new_sparse();
        h.truncate(17); // A cut two-byte opcode.
        assert_eq!(count(&h), Err(Corrupt));
        let mut short = new_sparse();
        short[17] = 0x00; // The zero run no longer covers every register.
        assert_eq!(count(&short), Err(Corrupt));
        assert_eq!(to_dense(&mut short), Err(Corrupt));
    }

    #[test]
    fn the_self_test_passes() {
        assert_eq!(self_test(3000), Ok(()));
    }

    #[test]
    fn alpha_is_the_double_redis_uses() {
        let redis: f64 = "0.721347520444481703680".parse().expect("literal");
        assert_eq!(ALPHA_INF.to_bits(), redis.to_bits());
    }

    #[test]
    fn murmur_matches_the_reference_tail_handling() {
        // Changing any byte, in the 8-byte blocks or in the tail, changes the hash.
        let base = b"abcdefghijk".to_vec();
        let h = murmur64a(&base, HASH_SEED);
        for i in 0..base.len() {
            let mut v = base.clone();
            v[i] ^= 1;
            assert_ne!(murmur64a(&v, HASH_SEED), h, "byte {i}");
        }
    }
}
