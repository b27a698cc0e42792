//! LZF, the compression Redis applies to long strings in RDB files (liblzf's format).
//!
//! The `lzf` crate decodes and encodes the same format, but its compressor allocates and
//! zeroes a 512 KiB hash table on every call: for a million 100-byte values that is the whole
//! cost of a save. [`Compressor`] keeps one table for the whole save and tags each slot with
//! the call it belongs to, so nothing is cleared between calls and the output of a call does
//! not depend on the previous ones. The format itself is liblzf's: a control byte below 32
//! starts a run of `ctrl + 1` literal bytes; otherwise its top three bits are a match length
//! (7 means "add the next byte"), its low five bits and the next byte a back-reference
//! distance minus one. [`decompress`] checks every length and distance against the buffers,
//! so hostile input yields an error, never a panic.

/// log2 of the hash table size, as in Redis's copy of liblzf.
const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
/// Longest literal run.
const MAX_LIT: usize = 1 << 5;
/// Farthest back-reference.
const MAX_OFF: usize = 1 << 13;
/// Longest back-reference.
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// A reusable LZF compressor.
pub struct Compressor {
    /// Per slot: (call generation, position + 1 in that call's input).
    table: Vec<(u32, u32)>,
    generation: u32,
}

impl Default for Compressor {
    fn default() -> Self {
        Compressor {
            table: vec![(0, 0); HSIZE],
            generation: 0,
        }
    }
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Compressor")
    }
}

#[inline]
fn hash_index(h: u32) -> usize {
    ((h >> (24 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

impl Compressor {
    /// Compresses `input` into `out` (cleared first) if the result fits in `max_out` bytes;
    /// returns false when it does not (the caller then stores the data verbatim), as
    /// liblzf's `lzf_compress` returns 0.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>, max_out: usize) -> bool {
        out.clear();
        if input.is_empty() || max_out == 0 || input.len() > u32::MAX as usize - 1 {
            return false;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.table.iter_mut().for_each(|s| *s = (0, 0));
            self.generation = 1;
        }
        let gen = self.generation;
        let n = input.len();
        out.reserve(max_out.min(n + n / 32 + 4));
        // `run` is the index in `out` of the pending literal run's control byte.
        let mut run = 0usize;
        out.push(0);
        let mut lit = 0usize;
        let mut ip = 0usize;
        if n >= 3 {
            let mut hval: u32 = ((input[0] as u32) << 8) | input[1] as u32;
            while ip < n - 2 {
                hval = (hval << 8) | input[ip + 2] as u32;
                let slot = hash_index(hval);
                let (sgen, spos) = self.table[slot];
                self.table[slot] = (gen, ip as u32 + 1);
                let candidate = (sgen == gen && spos > 1).then(|| spos as usize - 1);
                let matched = candidate.filter(|&r| {
                    r < ip
                        && ip - r - 1 < MAX_OFF
                        && input[r] == input[ip]
                        && input[r + 1] == input[ip + 1]
                        && input[r + 2] == input[ip + 2]
                });
                if let Some(r) = matched {
                    let off = ip - r - 1;
                    let maxlen = (n - ip - 2).min(MAX_REF);
                    // Worst case this match costs: closing the run is free, 3 bytes of
                    // back-reference and the next run's control byte.
                    let base = if lit == 0 { out.len() - 1 } else { out.len() };
                    if base + 3 + 1 >= max_out {
                        return false;
                    }
                    if lit == 0 {
                        out.pop();
                    } else {
                        out[run] = (lit - 1) as u8;
                    }
                    let mut len = 2;
                    loop {
                        len += 1;
                        if len >= maxlen || input[r + len] != input[ip + len] {
                            break;
                        }
                    }
                    len -= 2;
                    if len < 7 {
                        out.push(((off >> 8) + (len << 5)) as u8);
                    } else {
                        out.push(((off >> 8) + (7 << 5)) as u8);
                        out.push((len - 7) as u8);
                    }
                    out.push(off as u8);
                    run = out.len();
                    out.push(0);
                    lit = 0;
                    ip += len + 2;
                    if ip >= n - 2 {
                        break;
                    }
                    // Hash the last two positions of the match (liblzf's VERY_FAST).
                    ip -= 2;
                    hval = ((input[ip] as u32) << 8) | input[ip + 1] as u32;
                    for _ in 0..2 {
                        hval = (hval << 8) | input[ip + 2] as u32;
                        self.table[hash_index(hval)] = (gen, ip as u32 + 1);
                        ip += 1;
                    }
                } else {
                    if out.len() >= max_out {
                        return false;
                    }
                    lit += 1;
                    out.push(input[ip]);
                    ip += 1;
                    if lit == MAX_LIT {
                        out[run] = (MAX_LIT - 1) as u8;
                        run = out.len();
                        out.push(0);
                        lit = 0;
                    }
                }
            }
        }
        if out.len() + 3 > max_out {
            return false;
        }
        while ip < n {
            lit += 1;
            out.push(input[ip]);
            ip += 1;
            if lit == MAX_LIT {
                out[run] = (MAX_LIT - 1) as u8;
                run = out.len();
                out.push(0);
                lit = 0;
            }
        }
        if lit == 0 {
            out.pop();
        } else {
            out[run] = (lit - 1) as u8;
        }
        out.len() <= max_out
    }
}

/// Why LZF data could not be decompressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LzfError {
    /// The data decompresses to more than the announced length.
    TooLong,
    /// A literal run or back-reference points outside the data.
    Corrupt,
}

/// Decompresses `input` into `out` (appending), expecting exactly `expected_len` bytes.
pub fn decompress(input: &[u8], expected_len: usize, out: &mut Vec<u8>) -> Result<(), LzfError> {
    let start = out.len();
    out.reserve(expected_len);
    let end = start + expected_len;
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            if out.len() + run > end {
                return Err(LzfError::TooLong);
            }
            let lits = input.get(ip..ip + run).ok_or(LzfError::Corrupt)?;
            out.extend_from_slice(lits);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip).ok_or(LzfError::Corrupt)? as usize;
                ip += 1;
            }
            let low = *input.get(ip).ok_or(LzfError::Corrupt)? as usize;
            ip += 1;
            let distance = ((ctrl & 0x1f) << 8) + low + 1;
            let copy = len + 2;
            if out.len() + copy > end {
                return Err(LzfError::TooLong);
            }
            let from = out
                .len()
                .checked_sub(distance)
                .filter(|&f| f >= start)
                .ok_or(LzfError::Corrupt)?;
            if distance >= copy {
                out.extend_from_within(from..from + copy);
            } else if distance == 1 {
                // A run of one byte (very common: padding, repeated characters).
                let b = out[from];
                out.resize(out.len() + copy, b);
            } else {
                for i in 0..copy {
                    let b = out[from + i];
                    out.push(b);
                }
            }
        }
    }
    if out.len() != end {
        return Err(LzfError::Corrupt);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(c: &mut Compressor, data: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        if !c.compress(data, &mut out, data.len().saturating_sub(4)) {
            return None;
        }
        let mut back = Vec::new();
        decompress(&out, data.len(), &mut back).expect("our own output decompresses");
        assert_eq!(back, data);
        // The crate that was checked against a real Redis RDB agrees with us.
        let theirs = lzf::decompress(&out, data.len()).expect("lzf crate decodes it");
        assert_eq!(theirs, data);
        Some(out)
    }

    #[test]
    fn compresses_repetitive_data_and_refuses_random_data() {
        let mut c = Compressor::default();
        let text = b"hello hello hello hello hello hello hello hello".repeat(10);
        let out = roundtrip(&mut c, &text).expect("compressible");
        assert!(out.len() < text.len() / 4, "{}", out.len());
        let noise: Vec<u8> = (0..100u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(roundtrip(&mut c, &noise).is_none());
        // "aaaa...": one literal then back-references, as liblzf writes it.
        let a = vec![b'a'; 453];
        let out = roundtrip(&mut c, &a).expect("compressible");
        assert!(out.len() <= 15, "{}", out.len());
    }

    #[test]
    fn decodes_what_the_lzf_crate_encodes() {
        let text = b"The quick brown fox jumps over the lazy dog; the quick brown fox again.";
        let theirs = lzf::compress(text).expect("compressible");
        let mut back = Vec::new();
        decompress(&theirs, text.len(), &mut back).expect("decodes");
        assert_eq!(back, text);
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let mut out = Vec::new();
        // Back-reference before the start.
        assert_eq!(
            decompress(&[0xE0, 0x10, 0x05], 100, &mut out),
            Err(LzfError::Corrupt)
        );
        // Literal run past the input.
        out.clear();
        assert_eq!(
            decompress(&[0x05, b'a'], 6, &mut out),
            Err(LzfError::Corrupt)
        );
        // Longer than announced.
        out.clear();
        assert_eq!(
            decompress(&[0x01, b'a', b'b'], 1, &mut out),
            Err(LzfError::TooLong)
        );
        // Shorter than announced.
        out.clear();
        assert_eq!(
            decompress(&[0x00, b'a'], 2, &mut out),
            Err(LzfError::Corrupt)
        );
    }

    proptest! {
        #[test]
        fn roundtrips_any_data(data in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..3000)) {
            let mut c = Compressor::default();
            let mut out = Vec::new();
            if c.compress(&data, &mut out, data.len() + 64) {
                let mut back = Vec::new();
                decompress(&out, data.len(), &mut back).unwrap();
                prop_assert_eq!(back, data.clone());
            }
            // A second call on the same table gives a valid result too.
            if c.compress(&data, &mut out, data.len() + 64) {
                let mut back = Vec::new();
                decompress(&out, data.len(), &mut back).unwrap();
                prop_assert_eq!(back, data);
            }
        }

        #[test]
        fn decompress_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200),
                                   len in 0usize..500) {
            let mut out = Vec::new();
            let _ = decompress(&data, len, &mut out);
        }
    }
}
