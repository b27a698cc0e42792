//! The pseudo-random generator behind `math.random` in scripts: the 48-bit linear
//! congruential generator of POSIX `lrand48`, as Redis ships its own copy so that a seed
//! gives the same sequence on every platform (scripts that seed it get the same numbers as
//! on Redis).

const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const INCREMENT: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;
/// The low 16 bits every seed gets (`srand48`).
const SEED_LOW: u64 = 0x330E;

/// Redis's `REDIS_LRAND48_MAX`.
pub const RAND48_MAX: i64 = i32::MAX as i64;

/// One generator state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rand48(u64);

impl Default for Rand48 {
    /// The state before any seed, as in C.
    fn default() -> Self {
        Rand48(0x1234_ABCD_0000 | SEED_LOW)
    }
}

impl Rand48 {
    /// `srand48(seed)`: the seed's 32 bits become the state's high bits.
    pub fn seed(&mut self, seed: i32) {
        self.0 = ((u64::from(seed as u32) << 16) | SEED_LOW) & MASK;
    }

    /// `lrand48()`: the next number, in `0..2^31`.
    pub fn next(&mut self) -> i64 {
        self.0 = (MULTIPLIER.wrapping_mul(self.0).wrapping_add(INCREMENT)) & MASK;
        (self.0 >> 17) as i64
    }

    /// The number between 0 and 1 `math.random` starts from.
    pub fn next_unit(&mut self) -> f64 {
        (self.next() % RAND48_MAX) as f64 / RAND48_MAX as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unseeded_sequence_matches_redis() {
        // The first two values `EVAL "return tostring(math.random())" 0` prints on a fresh
        // redis-server 7.0.15.
        let mut r = Rand48::default();
        assert_eq!(format!("{:.14}", r.next_unit()), "0.39646477363839");
        assert_eq!(format!("{:.14}", r.next_unit()), "0.84048536971234");
    }

    #[test]
    fn seeding_restarts_the_sequence() {
        let mut a = Rand48::default();
        let mut b = Rand48::default();
        a.seed(42);
        b.next();
        b.seed(42);
        assert_eq!(a.next(), b.next());
    }
}
